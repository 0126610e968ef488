"""A benchmark probe that reads the frames an analysis used from its ``.window`` fails cleanly when the agent
dropped the frame window (closing r10: "h-bonds ... only between t = 1 ps and t = 3 ps" ran over every frame,
and the check read "AttributeError: 'NoneType' object has no attribute 'group'").

The task, its probe expression and the probe cell are the benchmark's own; the result is a real analysis table
of villin over every frame, as the call without a window returns it.
"""

from __future__ import annotations

import io
import json
import sys
from contextlib import redirect_stdout
from pathlib import Path
from types import SimpleNamespace

import mdtraj
import pytest

pytestmark = pytest.mark.filterwarnings("ignore:Unlikely unit cell vectors")

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

from benchmarks.agent.checks import TaskRun, check  # noqa: E402
from benchmarks.agent.harness import PROBE_MARK, load_set, probe_source  # noqa: E402
from kenkyu.tools import analysis  # noqa: E402
from kenkyu.tools.md import example_structure  # noqa: E402

TASK = "held9_hbonds_between_one_and_three_ps"


def _probed(task, arguments: dict, result) -> TaskRun:
    """Run the task's probe cell as the kernel does after %%ask, with one analysis_hydrogen_bonds call."""
    cell = {"cell_type": "code", "metadata": {"kenkyu": {"tool": "analysis_hydrogen_bonds", "variable": "hb"}}}
    record = {
        "cells": [{**cell, "outputs": []}],
        "messages": [
            {"role": "assistant", "tool_calls": [{"name": "analysis_hydrogen_bonds", "arguments": arguments}]}
        ],
    }
    shell = SimpleNamespace(_kenkyu_session=SimpleNamespace(records=[record]))
    printed = io.StringIO()
    with redirect_stdout(printed):
        exec(probe_source(task), {"get_ipython": lambda: shell, "hb": result})
    line = next(line for line in printed.getvalue().splitlines() if PROBE_MARK in line)
    values = json.loads(line.split(PROBE_MARK, 1)[1])["values"]
    return TaskRun(folder=Path("."), record=record, values=values)


@pytest.fixture(scope="module")
def villin_frames():
    one = mdtraj.load(str(example_structure("villin")))
    return mdtraj.join([one] * 4)


def test_a_dropped_window_says_no_window_found(villin_frames):
    (task,) = [t for t in load_set("everyday_heldout9") if t.id == TASK]
    (spec,) = [s for s in task.value_specs if ".window" in s["expr"]]
    everything = analysis.hydrogen_bonds(villin_frames)  # the call with the window dropped
    assert everything.window == "all 4 frames"

    run = _probed(task, {"trajectory": "md_runs/villin"}, everything)
    ok, message = check(run, {"value_in_range": spec})
    assert not ok
    assert message.startswith("no window found: frames the hydrogen bonds used (9-11): its .window names no frame")
    assert "analysis_hydrogen_bonds was called with no frames=, start_ps= or end_ps=" in message
    assert "AttributeError" in message  # what the expression raised is still there, after the words

    # A window given but not one the expression can read still names the arguments the call had.
    run = _probed(task, {"trajectory": "md_runs/villin", "start_ps": 1.0}, everything)
    assert "called with start_ps=1.0;" in check(run, {"value_in_range": spec})[1]


def test_a_window_the_call_kept_is_read_and_other_errors_are_left_as_they_are(villin_frames):
    (task,) = [t for t in load_set("everyday_heldout9") if t.id == TASK]
    (spec,) = [s for s in task.value_specs if ".window" in s["expr"]]
    kept = analysis.hydrogen_bonds(villin_frames, frames="last half")
    ok, message = check(_probed(task, {"frames": "last half"}, kept), {"value_in_range": spec})
    assert message == "frames the hydrogen bonds used (9-11) = 2 outside [9, 11]" and not ok

    count = {"name": "hydrogen bonds found", "tool": "analysis_hydrogen_bonds", "expr": "len(result.nothing)"}
    ok, message = check(
        TaskRun(
            folder=Path("."),
            values={
                "analysis_hydrogen_bonds::len(result.nothing)": {
                    "error": "AttributeError: 'AnalysisTable' object has no attribute 'nothing'"
                }
            },
        ),
        {"value_in_range": count},
    )
    assert not ok and message.startswith("hydrogen bonds found: AttributeError")
