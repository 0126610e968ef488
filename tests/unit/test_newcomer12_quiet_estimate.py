"""Estimating a call's cost prints no library warning into the approval (newcomer r12).

The newcomer's "write up what I did this morning as a report" showed, between the action cell and its approval,
mdtraj's "UserWarning: Unlikely unit cell vectors detected in PDB file likely resulting from a dummy CRYST1 record"
(raised while the export's cost was estimated from the session's PDB). The agent loop with a real tool whose
cost estimate warns the same way; the approval is declined, so only the estimate runs.
"""

from __future__ import annotations

import warnings

from kenkyu.assistant import events as ev
from kenkyu.assistant.agent import Agent
from kenkyu.assistant.runner import InPlaceRunner
from kenkyu.core.config import ProviderConfig
from kenkyu.core.providers.replay import ReplayProvider
from kenkyu.core.registry import ToolRegistry, tool
from kenkyu.core.science import Cost, costs

WARNING = "Unlikely unit cell vectors detected in PDB file likely resulting from a dummy CRYST1 record."


def reading_estimate(arguments: dict, *, measure: bool = True) -> Cost:
    warnings.warn(WARNING, UserWarning)  # as mdtraj.load does on 5dfr_minimized.pdb
    return Cost(180.0, "re-runs every step")


@tool(approval="ask")
@costs(reading_estimate)
def export_like(path: str) -> str:
    """Write a report of ``path``.

    Parameters
    ----------
    path
        The notebook.
    """
    return path


def test_the_estimate_before_an_approval_shows_no_library_warning():
    registry = ToolRegistry.from_modules([]).with_functions([export_like])
    (name,) = registry.names()
    provider = ReplayProvider(
        ProviderConfig(provider="replay"),
        turns=[{"tool_calls": [{"name": name, "arguments": {"path": "morning.ipynb"}}]}, {"text": "ok"}],
    )
    agent = Agent(provider, registry, InPlaceRunner(namespace={}), approver=lambda *a: False)
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        events = list(agent.run("write up what I did this morning as a report"))
    (asked,) = [e for e in events if isinstance(e, ev.ApprovalNeeded)]
    assert asked.estimate.startswith("about 3 min here (re-runs every step)"), asked.estimate  # it was estimated
    assert [str(w.message) for w in shown if WARNING in str(w.message)] == []
