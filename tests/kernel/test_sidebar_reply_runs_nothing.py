"""A sidebar reply that ran nothing writes nothing into the notebook (newcomer r8: "Undo 1 cell" under an answer).

A real ipykernel and the Python fake sidebar (tests/comm_client.py), which inserts a cell for every ``run_cell``
as the JupyterLab extension does, so the cells it was asked for are the cells the notebook got and the sidebar's
Undo would count. Only the LLM is scripted (replay).
"""

import json

import pytest
from comm_client import FakeSidebar, running_kernel


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("reply_runs_nothing")
    with running_kernel(cwd, {"KENKYU_TOOL_MODULES": "toolbox"}) as client:
        yield client, cwd


def settings(cwd, turns):
    (cwd / "turns.json").write_text(json.dumps({"turns": turns}))
    return {"provider": "replay", "replay_file": str(cwd / "turns.json"), "approval": "auto"}


def cells_asked_for(messages):
    return [m for m in messages if m["type"] == "run_cell"]


def test_an_answer_without_a_call_inserts_no_cell_and_a_call_brings_its_narrative(kernel):
    client, cwd = kernel
    turns = [
        {"text": "Glad it helped; nothing to run for that."},
        {"text": "Squaring 4 first.", "tool_calls": [{"name": "toolbox_square", "arguments": {"x": 4}}]},
        {"text": "4 squared is 16."},
    ]
    sidebar = FakeSidebar(client)
    sidebar.open(settings=settings(cwd, turns))

    answered = sidebar.ask("Thanks, that helps")
    assert cells_asked_for(answered) == []  # nothing for Undo to take back
    assert "Glad it helped" in "".join(
        m["event"]["text"] for m in answered if m.get("event", {}).get("kind") == "token"
    )
    record = answered[-1]["record"]
    assert [c["cell_type"] for c in record["cells"]] == ["markdown"]  # the record still holds the answer

    overview = sidebar.ask("What can you do?")  # the capability overview: read in the chat
    assert cells_asked_for(overview) == []

    # A reply that runs a tool: its narrative goes into the notebook before the cell it runs, then the answer.
    ran = cells_asked_for(sidebar.ask("Square 4"))
    assert [c["cell_type"] for c in ran] == ["markdown", "code", "markdown"]
    assert ran[0]["source"] == "Squaring 4 first." and ran[2]["source"] == "4 squared is 16."
    assert "toolbox" in ran[1]["source"] and "square" in ran[1]["source"]
    assert sidebar.evaluate("square") == "16.0"
