"""A call refused because its output folder already holds a run carries the code that continues it, so the
sidebar's card can offer Resume and Overwrite and rerun (issue 18 item 5) instead of Python to type."""

from __future__ import annotations

from kenkyu.assistant import events as ev
from kenkyu.assistant.agent import Agent
from kenkyu.assistant.runner import InPlaceRunner
from kenkyu.core.config import ProviderConfig
from kenkyu.core.providers.replay import ReplayProvider
from kenkyu.core.registry import ToolRegistry

TOOLS = ToolRegistry.from_modules(["resumable_tool", "toolbox"])


def result_of(turns, namespace):
    agent = Agent(
        ReplayProvider(ProviderConfig(provider="replay"), turns=turns),
        TOOLS,
        InPlaceRunner(namespace=namespace),
        approval_mode="auto",
    )
    (result,) = [e for e in agent.run("count") if isinstance(e, ev.ToolResult)]
    return result


def test_a_run_refused_because_its_folder_exists_carries_the_resume_code(tmp_path):
    out = str(tmp_path / "counts")
    call = {"tool_calls": [{"name": "resumable_tool_count", "arguments": {"to": 2, "out": out}}]}
    namespace: dict = {}
    first = result_of([call, {"text": "counted"}], namespace)
    assert first.ok and first.resume == ""  # nothing to offer on a call that worked

    again = result_of([call, {"text": "refused"}], namespace)
    assert not again.ok and again.status == "failed"
    assert "already holds a count" in again.summary
    assert "resume=True" in again.resume and f"out={out!r}" in again.resume
    assert "overwrite" not in again.resume  # the sidebar derives Overwrite and rerun from the summary


def test_a_failure_that_offers_no_resume_carries_none(tmp_path):
    call = {"tool_calls": [{"name": "toolbox_explode", "arguments": {"reason": "boom"}}]}
    result = result_of([call, {"text": "failed"}], {})
    assert not result.ok and result.resume == ""
