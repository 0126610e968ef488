"""A scientist who starts in the chat sidebar and then types a ``%%ask`` cell in the same notebook.

They never typed ``%load_ext kenkyu``: the sidebar loaded kenkyu into the kernel. Their first ``%%ask`` cell
read "UsageError: Cell magic `%%ask` not found" (newcomer r8). Real ipykernel, the fake sidebar of
tests/comm_client.py speaking the comm protocol; only the LLM is scripted (replay).
"""

import json

from comm_client import FakeSidebar, printed, running_kernel

TURNS = [
    {"text": "", "tool_calls": [{"name": "toolbox_square", "arguments": {"x": 3}}]},
    {"text": "3 squared is 9."},
    {"text": "", "tool_calls": [{"name": "toolbox_square", "arguments": {"x": 4}}]},
    {"text": "4 squared is 16."},
]


def shown_by(client, code: str) -> str:
    """Everything a notebook shows under the cell: streams, displays (their text) and errors."""
    parts = []

    def keep(message):
        content = message["content"]
        data = content.get("data") or {}
        parts.append(content.get("text") or data.get("text/markdown") or data.get("text/plain") or "")
        parts.append(f"{content.get('ename', '')}: {content.get('evalue', '')}" if "ename" in content else "")

    client.execute_interactive(code, timeout=120, output_hook=keep)
    return "".join(parts)


def test_a_percent_ask_cell_works_after_the_sidebar_without_load_ext(tmp_path):
    (tmp_path / "turns.json").write_text(json.dumps({"turns": TURNS}))
    settings = {"provider": "replay", "replay_file": str(tmp_path / "turns.json"), "approval": "auto"}
    with running_kernel(tmp_path, {"KENKYU_TOOL_MODULES": "toolbox"}) as client:
        sidebar = FakeSidebar(client)
        sidebar.open(settings=settings)
        sidebar.ask("square 3")

        shown = shown_by(client, "%%ask\nand square 4")

        assert "not found" not in shown
        assert "4 squared is 16." in shown
        # The cell's agent ran the tool in this kernel and kept its value, as the sidebar's does.
        assert printed(client, "print(square_2)").strip() == "16.0"
