"""An extension's action cell re-runs without extending again.

A scientist who asked "extend my run by 0.05 ps" and later pressed Run All (fresh kernel) expects the run they
had, not one 0.05 ps longer on every re-run. The cell says ``to_ps=`` (the length reached) and why; a stopped
extension keeps ``ps=``, the call that continues it. Real OpenMM run, real md.extend.
"""

from __future__ import annotations

import json

from kenkyu.assistant.cells import action_code
from kenkyu.core.registry import ToolRegistry
from kenkyu.core.routing import Candidate
from kenkyu.tools import md

from md_fixtures import FAST, villin_pdb  # noqa: F401 (fixture)


def _extend_tool():
    return ToolRegistry.from_modules(["kenkyu.tools.md"])["md_extend"]


def test_run_all_reaches_the_extended_length_once(villin_pdb, tmp_path):  # noqa: F811
    run = md.run(villin_pdb, out=tmp_path / "run", **FAST)
    frames = run.n_frames
    code = action_code(_extend_tool(), {"run": "run", "ps": 0.05}, "extended_run", here=tmp_path)
    assert "to_ps=0.15" in code and "ps=0.05" in code.splitlines()[0]  # the note says what was asked
    assert "kenkyu.tools.md.extend(run='run', to_ps=0.15)" in code
    for _ in range(2):  # the session's run, then Run All
        namespace = {}
        exec(code.replace("'run'", repr(str(run.directory))), namespace)
        assert namespace["extended_run"].n_frames == frames + 5


def test_a_kernel_run_is_read_through_its_folder_and_passed_by_name(tmp_path):
    folder = tmp_path / "md_runs" / "villin"
    folder.mkdir(parents=True)
    (folder / "run.json").write_text(json.dumps({"status": "finished", "parameters": {"ps": 10.0}}))
    mine = Candidate(kind="run", value="mine", label="`mine` (MDRun)", variable=True, path="md_runs/villin")
    code = action_code(_extend_tool(), {"run": "mine", "ps": 2.0}, "extended_run", {"run": mine}, here=tmp_path)
    assert "kenkyu.tools.md.extend(run=mine, to_ps=12)" in code or "extend(run=mine, to_ps=12.0)" in code


def test_a_stopped_extension_keeps_the_call_that_continues_it(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "run.json").write_text(
        json.dumps({"status": "interrupted", "parameters": {"ps": 10.0}, "extensions": [{"added_ps": 2.0}]})
    )
    code = action_code(_extend_tool(), {"run": "run", "ps": 2.0}, "extended_run", here=tmp_path)
    assert "ps=2.0" in code and "to_ps" not in code


def test_no_run_folder_keeps_the_call_as_asked(tmp_path):
    code = action_code(_extend_tool(), {"run": "nowhere", "ps": 2.0}, "extended_run", here=tmp_path)
    assert "extend(run='nowhere', ps=2.0)" in code and "to_ps" not in code
