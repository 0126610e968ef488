"""A follow-up to the previous request of the same conversation, read as a request that stands on its own: the
object and the frame window carried over from the previous request's calls, the reply saying so."""

from __future__ import annotations

from kenkyu.core.followup import follow_up, previous_request, standalone
from kenkyu.core.messages import Message, ToolCall
from kenkyu.core.registry import ToolRegistry
from kenkyu.core.routing import Candidate, names_a_tool
from kenkyu.tools import TOOL_MODULES

TOOLS = list(ToolRegistry.from_modules(TOOL_MODULES))
KEYWORDS = [(*t.keywords, t.function.__name__.replace("_", " ")) for t in TOOLS]
RG = next(t for t in TOOLS if t.function.__name__ == "radius_of_gyration")
NOTEBOOK = [
    Candidate("trajectory", "t", "`t` (Trajectory, 596 atoms, 20 frames)", True, ("t",), 2.0),
    Candidate("trajectory", "late", "`late` (Trajectory, 596 atoms, 10 frames)", True, ("late",), 1.0),
    Candidate("run_folder", "md_runs/villin", "md_runs/villin (villin.pdb, implicit, 300 K)", False, ("villin",)),
]


def names(text: str) -> bool:
    return names_a_tool(text, KEYWORDS)


def conversation(*turns) -> list[Message]:
    """user request, the calls it made (tool name, arguments) ..., then the request being asked now."""
    messages = []
    for number, (request, calls) in enumerate(turns):
        messages.append(Message("user", request))
        if calls:
            made = [ToolCall(f"c{number}_{i}", name, args) for i, (name, args) in enumerate(calls)]
            messages.append(Message("assistant", "", made))
            messages += [Message("tool", "done", tool_call_id=c.id, name=c.name) for c in made]
    return messages


def test_the_same_thing_is_the_previous_requests_object():
    messages = conversation(("what is the radius of gyration of t?", [(RG.name, {"trajectory": "t"})]))
    messages.append(Message("user", "and the rmsd of the same thing"))
    followed = follow_up(messages[-1].content, previous_request(messages, len(messages) - 1, TOOLS), NOTEBOOK, names)
    assert followed.request == "and the rmsd of t"
    assert "`t`" in followed.note and "previous request" in followed.note


def test_do_that_for_a_window_repeats_the_previous_request_on_that_window_only():
    messages = conversation(
        ("the rg of t over the last 10%", [(RG.name, {"trajectory": "t", "frames": "last 10%"})]),
        ("do that for the first half only", []),
    )
    followed = standalone(messages, len(messages) - 1, TOOLS, NOTEBOOK, names)
    assert "first half" in followed.request and "10%" not in followed.request and "rg of t" in followed.request


def test_what_about_another_object_repeats_the_previous_request_on_it():
    messages = conversation(
        ("radius of gyration of t please", [(RG.name, {"trajectory": "t"})]), ("what about late?", [])
    )
    followed = standalone(messages, len(messages) - 1, TOOLS, NOTEBOOK, names)
    assert followed.request.startswith("radius of gyration of late")
    assert " t " not in f" {followed.request} "


def test_a_follow_up_of_a_follow_up_reads_through_both_and_a_notebook_question_is_skipped():
    messages = conversation(
        ("radius of gyration of t", [(RG.name, {"trajectory": "t"})]),
        ("and the rmsd of the same thing", [("analysis_rmsd", {"trajectory": "t"})]),
        ("what was the mean rmsd again?", [("notebook_tools_overview", {"question": "what was the mean rmsd again?"})]),
        ("now the same for the last quarter", []),
    )
    followed = standalone(messages, len(messages) - 1, TOOLS, NOTEBOOK, names)
    assert followed.request.startswith("and the rmsd of t") and "last quarter" in followed.request


def test_a_new_request_is_no_follow_up():
    messages = conversation(("radius of gyration of t", [(RG.name, {"trajectory": "t"})]))
    for request in ("what about the sasa of late?", "and the rmsd of late", "simulate villin for 2 ps"):
        assert standalone([*messages, Message("user", request)], len(messages), TOOLS, NOTEBOOK, names) is None
    # Nothing was computed before: nothing to follow up.
    assert standalone([Message("user", "do that for the first half")], 0, TOOLS, NOTEBOOK, names) is None


def test_same_again_with_a_new_setting_replaces_the_old_one_and_a_purpose_is_no_part_of_it():
    cg = next(t for t in TOOLS if t.name == "md_coarse_grained")
    messages = conversation(
        ("do a coarse-grained run of dhfr.pdb, seed 1", [(cg.name, {"structure": "dhfr.pdb", "seed": 1})]),
        ("same again with seed 2 so I have a replica", []),
    )
    followed = standalone(messages, len(messages) - 1, TOOLS, NOTEBOOK, names)
    assert "seed 2" in followed.request and "seed 1" not in followed.request
    assert "replica" not in followed.request and "dhfr.pdb" in followed.request
