"""What a request may spend, checked before and while it spends it: the approval shows the estimate,
the steps and the collisions; the cost cap holds under approval auto; the time budget interrupts a
running tool and leaves it resumable; a prompt over the token budget is never sent (issues 13, 15, 18)."""

import time

from kenkyu.assistant import events as ev
from kenkyu.assistant.agent import Agent, Budget
from kenkyu.assistant.runner import InPlaceRunner
from kenkyu.assistant.session import AssistantSession, interpolate
from kenkyu.core.config import ProviderConfig, Settings, settings_from_env
from kenkyu.core.providers.replay import ReplayProvider
from kenkyu.core.registry import ToolRegistry

import pytest


def make_agent(turns, namespace, **kwargs):
    provider = ReplayProvider(ProviderConfig(provider="replay"), turns=turns)
    registry = ToolRegistry.from_modules(["toolbox", "resumable_tool"])
    return Agent(provider, registry, InPlaceRunner(namespace=namespace), **kwargs)


def of(events, kind):
    return [e for e in events if isinstance(e, kind)]


def count_call(to, out, **more):
    return {"tool_calls": [{"name": "resumable_tool_count", "arguments": {"to": to, "out": str(out), **more}}]}


def test_the_approval_shows_the_estimate_every_step_and_a_collision(tmp_path):
    out = tmp_path / "counted"
    out.mkdir()
    (out / "count.txt").write_text("3")
    shown = []
    agent = make_agent([count_call(40, out), {"text": "ok"}], {}, approver=lambda *a: shown.append(a) or False)
    events = list(agent.run("count to 40"))
    (asked,) = of(events, ev.ApprovalNeeded)
    assert asked.estimate_s == 2.0 and asked.estimate.startswith("about 2 s here (40 steps of 0.05 s)")
    assert asked.steps == ["count to 40", "write the count"]
    (warning,) = asked.warnings
    assert str(out) in warning and "refused" in warning and "resume=True" in warning and "overwrite=True" in warning
    assert shown and (out / "count.txt").read_text() == "3"  # declined: nothing touched

    # The same folder given as an input too: the output would overwrite the input.
    agent = make_agent([count_call(1, out, overwrite=True), {"text": "ok"}], {}, approver=lambda *a: False)
    (asked,) = of(list(agent.run("again")), ev.ApprovalNeeded)
    assert any("DELETED" in w and "overwrite=True" in w for w in asked.warnings)
    assert ev.event_from_dict(asked.to_dict()) == asked


def test_an_output_folder_that_is_an_input_file_is_flagged(tmp_path):
    from kenkyu.assistant.preflight import collisions
    from kenkyu.core.registry import ToolRegistry

    pdb = tmp_path / "villin.pdb"
    pdb.write_text("ATOM\n")
    tool = ToolRegistry.from_modules(["kenkyu.tools.md"])["md_run"]
    warnings = collisions(tool, {"structure": str(pdb), "out": str(pdb)})
    assert len(warnings) == 1 and "is the input `structure` itself" in warnings[0]


def test_extending_a_run_writes_into_it_on_purpose_and_is_not_flagged(tmp_path):
    from kenkyu.assistant.preflight import collisions
    from kenkyu.core.registry import ToolRegistry

    run = tmp_path / "md_runs" / "villin"
    run.mkdir(parents=True)
    (run / "run.json").write_text("{}")
    extend = ToolRegistry.from_modules(["kenkyu.tools.md"])["md_extend"]
    assert collisions(extend, {"run": str(run), "ps": 2}) == []
    # md.run into the same existing folder is still a collision.
    md_run = ToolRegistry.from_modules(["kenkyu.tools.md"])["md_run"]
    assert collisions(md_run, {"structure": "villin.pdb", "out": str(run)})


def test_the_cost_cap_refuses_under_approval_auto_with_the_numbers(tmp_path):
    out = tmp_path / "long"
    agent = make_agent(
        [count_call(400, out), {"text": "I could not run it."}],
        {},
        approval_mode="auto",
        budget=Budget(max_request_cost_s=5.0),
    )
    events = list(agent.run("count to 400"))
    assert not out.exists()  # never started
    (result,) = of(events, ev.ToolResult)
    assert not result.ok and result.status == "failed"
    assert "~20 s" in result.summary and "cost cap of 5 s" in result.summary
    assert "%kenkyu budget --cost-seconds 24" in result.summary and "shorter run" in result.summary
    assert "not started" in agent.history[-2].content  # the model reads the refusal too
    assert events[-1].reason == "finished"


def test_the_time_budget_interrupts_a_running_tool_which_then_resumes(tmp_path):
    out = tmp_path / "counted"
    namespace = {}
    agent = make_agent([count_call(200, out), {"text": "never played"}], namespace, approval_mode="auto")
    agent.budget = Budget(max_seconds=1.5)
    started = time.monotonic()
    events = list(agent.run("count to 200"))
    elapsed = time.monotonic() - started
    assert elapsed < 3.0, f"the budget of 1.5 s interrupted the tool only after {elapsed:.1f} s"
    (result,) = of(events, ev.ToolResult)
    assert result.status == "interrupted" and not result.ok
    assert result.summary.startswith("interrupted — resumable (the request's time budget ran out)")
    assert "resume=True" in result.resume and result.resume in result.summary
    assert events[-1].reason == "budget:time" and of(events, ev.Error)[-1].where == "budget"
    kept = int((out / "count.txt").read_text())
    assert 0 < kept < 200
    # The cell is in the record, with its interrupt as an output, and the history stays consistent.
    (cell,) = [c for c in of(events, ev.CellAdded) if c.cell_type == "code"]
    assert cell.outputs[-1]["ename"] == "CountInterrupted"
    assert {c.id for m in agent.history for c in m.tool_calls} == {
        m.tool_call_id for m in agent.history if m.role == "tool"
    }
    # Running the resume code continues from the kept count and finishes.
    exec(result.resume, namespace)
    assert int((out / "count.txt").read_text()) == 200 and namespace["count"] == 200


def test_a_keyboard_interrupt_is_reported_as_interrupted_with_or_without_a_resume():
    agent = make_agent([{"tool_calls": [{"name": "toolbox_interrupt", "arguments": {}}]}, {"text": "no"}], {})
    events = list(agent.run("go"))
    (result,) = of(events, ev.ToolResult)
    assert result.status == "interrupted" and result.resume == ""
    assert "not resumable (interrupted by the user)" in result.summary and events[-1].reason == "interrupted"


def test_a_huge_interpolated_value_is_cut_and_says_so():
    text, used = interpolate("Summarise {log}", {"log": "x" * 5_000_000})
    assert len(text) < 5_000
    assert text.endswith("[... 5.0 MB cut; the first 4,000 characters shown]")
    assert used == {"log": "x" * 5_000_000}  # the report's parameter keeps the real value
    assert interpolate("square {n}", {"n": 3})[0] == "square 3"


def test_a_prompt_over_the_token_budget_is_refused_before_any_provider_call(write_replay):
    replay = write_replay([{"text": "must not be played"}])
    settings = Settings(provider=ProviderConfig("replay", replay_file=str(replay)), max_tokens=60_000)
    session = AssistantSession(settings=settings, tool_modules=["toolbox"], namespace={})
    huge = "word " * 300_000  # 1.5 MB straight in the request, not interpolated
    events = list(session.new_request(f"Summarise this: {huge}").ask())
    error = of(events, ev.Error)[0]
    assert error.where == "budget" and "not sent" in error.message
    assert "over the 60,000 left" in error.message and "the request itself is ~375,0" in error.message
    assert events[-1].reason == "budget:tokens"
    assert session.provider.position == 0  # the provider never saw it
    assert not any(m.role == "user" for m in session.history)  # and the next request does not inherit it


def test_the_cap_is_a_setting_with_a_clear_error():
    assert settings_from_env({}).max_request_cost_s == 900.0
    assert settings_from_env({"KENKYU_MAX_REQUEST_SECONDS": "60"}).max_request_cost_s == 60.0
    with pytest.raises(ValueError, match="KENKYU_MAX_REQUEST_SECONDS must be a number of seconds"):
        settings_from_env({"KENKYU_MAX_REQUEST_SECONDS": "ten minutes"})


def test_the_cost_cap_holds_in_the_research_loop_too(tmp_path, write_replay):
    from kenkyu.assistant.research import run_research

    out = tmp_path / "long"
    replay = write_replay([{"text": "Hypothesis: counting works.", **count_call(400, out)}, {"text": "Not run."}])
    settings = Settings(
        provider=ProviderConfig("replay", replay_file=str(replay)), approval="auto", max_request_cost_s=5.0
    )
    session = AssistantSession(settings=settings, namespace={}, tool_modules=["resumable_tool"])
    events = list(run_research(session, "Does counting to 400 work?"))
    assert not out.exists()
    (error,) = [e for e in of(events, ev.Error) if e.where == "budget"]
    assert "~20 s" in error.message and "cost cap of 5 s" in error.message
    assert any("skipped" in c.source and "cost cap" in c.source for c in of(events, ev.CellAdded))


def test_the_research_loops_approval_shows_the_estimate_and_steps(tmp_path, write_replay):
    from kenkyu.assistant.research import run_research

    replay = write_replay([{"text": "Hypothesis: counting works.", **count_call(40, tmp_path / "c")}, {"text": "."}])
    settings = Settings(provider=ProviderConfig("replay", replay_file=str(replay)), approval="ask")
    session = AssistantSession(settings=settings, namespace={}, tool_modules=["resumable_tool"])
    events = list(run_research(session, "Does counting to 40 work?", approver=lambda step, plan: False))
    (asked,) = of(events, ev.ApprovalNeeded)
    assert asked.estimate_s == 2.0 and asked.steps == ["count to 40", "write the count"] and asked.warnings == []


def test_a_research_question_over_the_token_budget_is_never_planned(write_replay):
    from kenkyu.assistant.research import run_research

    replay = write_replay([{"text": "must not be played"}])
    settings = Settings(provider=ProviderConfig("replay", replay_file=str(replay)), max_tokens=60_000)
    session = AssistantSession(settings=settings, namespace={}, tool_modules=["toolbox"])
    events = list(run_research(session, "Is this stable? " + "residue " * 100_000))
    (error,) = of(events, ev.Error)
    assert error.where == "budget" and "not sent" in error.message and "60,000" in error.message
    assert events[-1].reason == "budget:tokens" and session.provider.position == 0


def test_a_tool_is_not_started_once_the_time_budget_is_used_up(tmp_path):
    out = tmp_path / "late"
    agent = make_agent([count_call(10, out), {"text": "too late"}], {}, approval_mode="auto")
    agent.budget = Budget(max_seconds=0.5)
    real_stream = agent.provider.stream

    def slow_model(messages, tools):  # a model that thinks past the request's budget
        time.sleep(0.7)
        yield from real_stream(messages, tools)

    agent.provider.stream = slow_model
    events = list(agent.run("count"))
    assert not out.exists()
    (result,) = of(events, ev.ToolResult)
    assert result.status == "failed" and "time budget of 0.5 s is used up" in result.summary
    assert events[-1].reason == "budget:time"


def test_an_interrupted_research_step_is_reported_and_kept(write_replay):
    from kenkyu.assistant.research import run_research

    turns = [{"text": "Hypothesis: it stops.", "tool_calls": [{"name": "toolbox_interrupt", "arguments": {}}]}]
    settings = Settings(provider=ProviderConfig("replay", replay_file=str(write_replay(turns))), approval="auto")
    session = AssistantSession(settings=settings, namespace={}, tool_modules=["toolbox"])
    events = list(run_research(session, "Does it stop?"))
    (result,) = of(events, ev.ToolResult)
    assert result.status == "interrupted" and result.summary.startswith("interrupted — not resumable")
    assert any(c.cell_type == "code" and "toolbox.interrupt()" in c.source for c in of(events, ev.CellAdded))
    assert session.records[-1]["done"]["reason"] == "interrupted"


def test_the_new_fields_keep_the_sidebars_protocol(tmp_path):
    import json
    from pathlib import Path

    import jsonschema

    schema = json.loads((Path(__file__).parents[2] / "labext" / "src" / "protocol.schema.json").read_text())
    check = jsonschema.Draft7Validator({"$ref": "#/definitions/agentEvent", "definitions": schema["definitions"]})
    out = tmp_path / "counted"
    agent = make_agent([count_call(200, out), {"text": "-"}], {}, approver=lambda *a: True)
    agent.budget = Budget(max_seconds=1.0)
    events = list(agent.run("count"))
    (asked,) = of(events, ev.ApprovalNeeded)
    (result,) = of(events, ev.ToolResult)
    assert result.status == "interrupted"
    unknown = ev.ApprovalNeeded("c", "t", {}, "x", False, estimate="unknown — no measurement yet", estimate_s=None)
    for event in (asked, result, unknown):
        assert list(check.iter_errors(event.to_dict())) == [], event
    with pytest.raises(ValueError, match="status must be one of"):
        ev.ToolResult("c", "t", True, "", 0.0, status="finished")
