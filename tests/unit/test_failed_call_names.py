"""A failed action cell does not take its variable name (newcomer r7 R10): after `cg_run_2 = ...` raised,
the next run is cg_run_2 again, not cg_run_3, so the notebook never skips a name that was never bound."""

from kenkyu.assistant.session import AssistantSession
from kenkyu.core.config import ProviderConfig, Settings


def call(name, **arguments):
    return {"tool_calls": [{"name": name, "arguments": arguments}]}


def variables(session):
    return [
        c["metadata"]["kenkyu"]["variable"]
        for record in session.records
        for c in record["cells"]
        if c["cell_type"] == "code"
    ]


def test_a_failed_call_leaves_its_name_for_the_next_call(write_replay):
    turns = [
        call("toolbox_square", x=3),
        {"text": "9."},
        call("toolbox_explode", reason="the run folder is missing"),
        {"text": "It failed."},
        call("toolbox_explode", reason="still missing"),
        {"text": "It failed again."},
        call("toolbox_square", x=4),
        {"text": "16."},
    ]
    settings = Settings(provider=ProviderConfig("replay", replay_file=str(write_replay(turns))), approval="auto")
    session = AssistantSession(settings=settings, tool_modules=["toolbox"], namespace={})
    for prompt in ("square 3", "explode", "explode again", "square 4"):
        events = list(session.ask(prompt))
        assert events[-1].kind == "done"
    names = variables(session)
    # The two failures never bound a name: both are offered the same first name; the successes count on.
    assert names[1] == names[2] and names[1] not in session.namespace
    assert names[0] == "square" and names[3] == "square_2"
    assert session.namespace["square"] == 9.0 and session.namespace["square_2"] == 16.0


def test_a_restored_notebooks_successful_cells_keep_their_names(write_replay):
    # Cells restored from a saved notebook (not yet run in this fresh kernel) still hold their names.
    settings = Settings(provider=ProviderConfig("replay", replay_file=str(write_replay([{"text": "ok"}]))))
    session = AssistantSession(settings=settings, tool_modules=["toolbox"], namespace={})
    ran = {"cell_type": "code", "metadata": {"kenkyu": {"variable": "rmsf"}}, "outputs": []}
    failed = {
        "cell_type": "code",
        "metadata": {"kenkyu": {"variable": "rmsf_2"}},
        "outputs": [{"output_type": "error", "ename": "ValueError", "evalue": "no frames", "traceback": []}],
    }
    session.restore([{"cells": [ran, failed], "messages": []}])
    assert session._taken_names() == {"rmsf"}
