"""The agent loop's behaviour, driven by the replay provider and small real tools."""

import pytest

from kenkyu.assistant import events as ev
from kenkyu.assistant.agent import Agent, Budget
from kenkyu.assistant.approval_answer import NoAnswer
from kenkyu.core.config import ProviderConfig
from kenkyu.core.providers.replay import ReplayProvider
from kenkyu.core.registry import ToolRegistry
from kenkyu.assistant.runner import InPlaceRunner


def make_agent(turns, namespace=None, **kwargs):
    provider = ReplayProvider(ProviderConfig(provider="replay"), turns=turns)
    registry = ToolRegistry.from_modules(["toolbox"])
    return Agent(provider, registry, InPlaceRunner(namespace=namespace if namespace is not None else {}), **kwargs)


def run(agent, prompt="go"):
    return list(agent.run(prompt))


def of(events, kind):
    return [e for e in events if isinstance(e, kind)]


def test_two_tool_calls_become_action_cells_and_results_reach_the_model():
    namespace = {}
    agent = make_agent(
        [
            {"text": "First I square 3.", "tool_calls": [{"name": "toolbox_square", "arguments": {"x": 3}}]},
            {"text": "Then 4.", "tool_calls": [{"name": "toolbox_square", "arguments": {"x": 4}}]},
            {"text": "9 and 16."},
        ],
        namespace,
    )
    events = run(agent)
    code = [e for e in of(events, ev.CellAdded) if e.cell_type == "code"]
    assert [c.source.splitlines()[-2] for c in code] == [
        "square = toolbox.square(x=3.0)",
        "square_2 = toolbox.square(x=4.0)",
    ]
    assert namespace["square"] == 9.0 and namespace["square_2"] == 16.0
    assert code[0].outputs[0] == {"output_type": "stream", "name": "stdout", "text": "squaring 3.0\n"}
    assert code[0].metadata["kenkyu"]["tool"] == "toolbox_square"
    results = of(events, ev.ToolResult)
    assert [r.ok for r in results] == [True, True]
    tool_messages = [m for m in agent.history if m.role == "tool"]
    assert tool_messages[0].content.startswith("9.0") and tool_messages[1].content.startswith("16.0")
    assert events[-1].reason == "finished" and events[-1].steps == 3
    assert "".join(t.text for t in of(events, ev.Token)).endswith("9 and 16.")


def test_malformed_arguments_are_shown_and_sent_back_to_the_model():
    agent = make_agent(
        [
            {"tool_calls": [{"name": "toolbox_square", "arguments": '{"x": 3'}]},
            {"text": "Sorry."},
        ]
    )
    events = run(agent)
    assert "not valid JSON" in of(events, ev.Error)[0].message
    assert agent.history[2].role == "tool" and agent.history[2].content.startswith("ERROR")
    assert events[-1].reason == "finished"


def test_unknown_tool_and_bad_arguments_are_recoverable():
    agent = make_agent(
        [
            {
                "tool_calls": [
                    {"name": "toolbox_cube", "arguments": {"x": 3}},
                    {"name": "toolbox_square", "arguments": {"x": "many"}},
                ]
            },
            {"text": "ok"},
        ]
    )
    events = run(agent)
    errors = [e.message for e in of(events, ev.Error)]
    assert "no tool named 'toolbox_cube'" in errors[0]
    assert "x:" in errors[1]
    assert "Available tools" in agent.history[2].content
    assert events[-1].reason == "finished"


def test_tool_exception_is_a_result_not_a_crash():
    agent = make_agent(
        [
            {"tool_calls": [{"name": "toolbox_explode", "arguments": {"reason": "disk full"}}]},
            {"text": "The tool failed."},
        ]
    )
    events = run(agent)
    result = of(events, ev.ToolResult)[0]
    assert not result.ok and "RuntimeError: disk full" in result.summary
    cell = [e for e in of(events, ev.CellAdded) if e.cell_type == "code"][0]
    assert cell.outputs[-1]["output_type"] == "error" and cell.outputs[-1]["ename"] == "RuntimeError"
    assert events[-1].reason == "finished"


@pytest.mark.parametrize("failure,fragment", [("timeout", "timed out"), ("malformed", "unreadable")])
def test_provider_failures_end_the_turn_with_an_explanation(failure, fragment):
    agent = make_agent([{"raise": failure}])
    events = run(agent)
    error = of(events, ev.Error)[0]
    assert fragment in error.message and error.fix
    assert events[-1].reason == "error"


def test_step_budget_stops_a_looping_model():
    loop = [{"tool_calls": [{"name": "toolbox_square", "arguments": {"x": 2}}]}] * 10
    agent = make_agent(loop, budget=Budget(max_steps=3))
    events = run(agent)
    assert events[-1].reason == "budget:steps"
    assert len(of(events, ev.ToolResult)) == 3


def test_tools_needing_approval_wait_for_the_user(tmp_path):
    path = str(tmp_path / "note.txt")
    turns = [
        {"tool_calls": [{"name": "toolbox_write_note", "arguments": {"path": path, "text": "hi"}}]},
        {"text": "ok"},
    ]
    asked = []
    declined = run(make_agent(turns, approver=lambda call, tool, code: asked.append(code) or False))
    assert asked and "toolbox.write_note(" in asked[0]
    assert of(declined, ev.ApprovalNeeded) and not (tmp_path / "note.txt").exists()
    assert of(declined, ev.ToolResult)[0].summary == "declined by the user"

    # A prompt nobody answered within its wait is not a Deny: the record says what happened.
    unanswered = run(make_agent(turns, approver=lambda *a: NoAnswer(300)))
    (result,) = of(unanswered, ev.ToolResult)
    assert not result.ok and not (tmp_path / "note.txt").exists()
    assert result.summary.startswith("no answer to the approval within 300 s; not run — ask again when you are here")
    assert "set approval to auto" in result.summary and "declined" not in result.summary

    approved = run(make_agent(turns, approver=lambda *a: True))
    assert (tmp_path / "note.txt").read_text() == "hi"
    assert of(approved, ev.ToolResult)[0].ok

    auto = run(make_agent(turns, approval_mode="auto"))
    assert not of(auto, ev.ApprovalNeeded) and of(auto, ev.ToolResult)[0].ok


def test_stop_ends_the_loop_before_the_next_turn():
    agent = make_agent([{"tool_calls": [{"name": "toolbox_square", "arguments": {"x": 2}}]}, {"text": "never"}])
    events = []
    for event in agent.run("go"):
        events.append(event)
        if isinstance(event, ev.ToolResult):
            agent.stop()
    assert events[-1].reason == "stopped"
    assert not any(isinstance(e, ev.Token) and "never" in e.text for e in events)


def test_interrupt_keeps_the_record_and_a_consistent_history():
    agent = make_agent(
        [
            {"tool_calls": [{"name": "toolbox_square", "arguments": {"x": 2}}]},
            {"tool_calls": [{"name": "toolbox_interrupt", "arguments": {}}]},
            {"text": "after the interrupt"},
        ]
    )
    events = run(agent)
    assert events[-1].reason == "interrupted"
    assert of(events, ev.ToolResult)[0].ok  # the first step's result survived
    # Every tool call in the history has an answer, so the conversation can continue.
    calls = {c.id for m in agent.history for c in m.tool_calls}
    answered = {m.tool_call_id for m in agent.history if m.role == "tool"}
    assert calls == answered
    assert [e for e in agent.run("continue") if isinstance(e, ev.Done)][0].reason == "finished"


def test_events_serialise_for_the_comm():
    agent = make_agent(
        [{"text": "hello", "tool_calls": [{"name": "toolbox_square", "arguments": {"x": 1}}]}, {"text": "done"}]
    )
    for event in run(agent):
        data = event.to_dict()
        assert ev.event_from_dict(data) == event
