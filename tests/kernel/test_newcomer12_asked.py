"""A question asked in a %%ask cell while the sidebar is open reaches the sidebar's chat (newcomer r12).

The newcomer's chat showed their %%ask questions asked before they opened it (the kernel's history in ``ready``)
but not "why did that fail?", asked in a cell while it was open. A real ipykernel, the fake sidebar of
tests/comm_client.py (every message it gets is checked against labext/src/protocol.schema.json), and a %%ask cell
run through a real execute_request, as the notebook runs it. Only the LLM is scripted (replay).
"""

import json

from comm_client import FakeSidebar, running_kernel

REPLY = "Villin's headpiece has 36 residues."


def test_a_cells_question_and_reply_are_sent_to_the_open_sidebar(tmp_path):
    (tmp_path / "turns.json").write_text(json.dumps({"turns": [{"text": REPLY}]}))
    with running_kernel(tmp_path) as client:
        sidebar = FakeSidebar(client)
        ready = sidebar.open(settings={"provider": "replay", "replay_file": str(tmp_path / "turns.json")})
        assert ready["history"] == []
        reply = client.execute_interactive("%load_ext kenkyu", timeout=120)
        assert reply["content"]["status"] == "ok"
        client.execute("%%ask\nhow many residues does villin have?")  # the notebook's Shift+Enter
        asked = sidebar.wait_for(lambda m: m["type"] == "asked", timeout=120)
    assert asked["history"] == [
        {"role": "user", "text": "how many residues does villin have?"},
        {"role": "assistant", "text": REPLY},
    ]
