"""%%ask turns reach the notebook's records, so a reload keeps them (newcomer r12, trip 11).

A %%ask question asked while the chat was open appeared in the chat but was never filed in
``metadata.kenkyu.records``: after a reload the chat showed only the sidebar's own requests, and a page whose records
held a sidebar request but not the %%ask before it made the kernel forget that %%ask (hello's records replaced the
kernel's conversation). A real ipykernel, the fake sidebar of tests/comm_client.py (every message checked against
labext/src/protocol.schema.json), %%ask cells run through real execute_requests. Only the LLM is scripted (replay).
"""

import json

from comm_client import FakeSidebar, another_client, running_kernel

FIRST = "how many residues does villin have?"
SECOND = "and how many of them are charged?"
REPLIES = ["Villin's headpiece has 36 residues.", "Nine of them carry a charge at pH 7."]


def _noted(record: dict, request_id: str) -> dict:
    return {**record, "sidebar": {"request_id": request_id, "tools": [], "text_only": True, "origin": "cell"}}


def test_ask_cells_records_go_to_the_page_and_the_kernel_keeps_them(tmp_path):
    (tmp_path / "turns.json").write_text(json.dumps({"turns": [{"text": t} for t in REPLIES]}))
    settings = {"provider": "replay", "replay_file": str(tmp_path / "turns.json")}
    with running_kernel(tmp_path) as client:
        assert client.execute_interactive("%load_ext kenkyu", timeout=120)["content"]["status"] == "ok"
        # Asked before any chat was open: the kernel holds its record, the notebook not.
        reply = client.execute_interactive(f"%kenkyu provider replay {tmp_path / 'turns.json'}\n", timeout=120)
        assert reply["content"]["status"] == "ok"
        assert client.execute_interactive(f"%%ask\n{FIRST}", timeout=120)["content"]["status"] == "ok"

        sidebar = FakeSidebar(client)
        ready = sidebar.open(settings=settings, records=[])
        assert [r["prompt"] for r in ready["records"]] == [FIRST]  # for the page to file
        first = ready["records"][0]

        # Asked while the chat is open: its record comes with the question and reply.
        client.execute(f"%%ask\n{SECOND}")
        asked = sidebar.wait_for(lambda m: m["type"] == "asked", timeout=120)
        assert asked["record"]["prompt"] == SECOND
        assert asked["history"][-1] == {"role": "assistant", "text": REPLIES[1]}
        second = asked["record"]

        # The reloaded page sends both records back (as the sidebar filed them): nothing to add, nothing lost.
        reloaded = FakeSidebar(another_client(client))
        again = reloaded.open(settings=settings, records=[_noted(first, "kernel-0"), _noted(second, "asked-1")])
        assert "records" not in again
        texts = [h["text"] for h in again["history"]]
        assert texts == [FIRST, REPLIES[0], SECOND, REPLIES[1]]

        # A page that filed only the second: the kernel keeps the first (it forgot it before) and sends both.
        partial = FakeSidebar(another_client(client))
        ready_partial = partial.open(settings=settings, records=[_noted(second, "asked-1")])
        assert [r["prompt"] for r in ready_partial["records"]] == [FIRST, SECOND]
        assert [h["text"] for h in ready_partial["history"]] == [FIRST, REPLIES[0], SECOND, REPLIES[1]]
