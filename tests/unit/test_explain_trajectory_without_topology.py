"""explain_error on ``md.load('md_runs/<run>/trajectory.dcd')`` without top= (newcomer r10 in the sidebar: "why
did my cell fail?" got mdtraj's list of topology formats and "likely fix: none in kenkyu's table")."""

from __future__ import annotations

import json
import linecache
import sys

import pytest
from kenkyu.assistant import notebook_tools


def _explain_cell(monkeypatch, source: str):
    """Run ``source`` as a kernel cell would, then explain the error it raised (the kernel's last)."""
    name = "<ipython-input-1-dcd>"
    linecache.cache[name] = (len(source), None, source.splitlines(True), name)
    with pytest.raises(Exception) as raised:
        exec(compile(source, name, "exec"), {"__name__": "__main__"})
    monkeypatch.setattr(sys, "last_value", raised.value, raising=False)
    monkeypatch.setattr(sys, "last_exc", raised.value, raising=False)
    return notebook_tools.explain_error()


def test_a_dcd_loaded_without_topology_gets_the_runs_own_topology(tmp_path, monkeypatch):
    run = tmp_path / "md_runs" / "villin_1vii_implicit"
    run.mkdir(parents=True)
    (run / "run.json").write_text(json.dumps({"status": "finished"}))
    (run / "trajectory.dcd").write_bytes(b"")
    monkeypatch.chdir(tmp_path)
    line = "traj = md.load('md_runs/villin_1vii_implicit/trajectory.dcd')"
    e = _explain_cell(monkeypatch, "import mdtraj as md\n" + line + "\n")
    assert e.error_type == "OSError" and e.failing_line == line
    assert e.kind == "trajectory without topology" and "only coordinates" in e.cause
    assert "top='md_runs/villin_1vii_implicit/prepared.pdb'" in e.fix
    assert "MDRun('md_runs/villin_1vii_implicit').trajectory()" in e.fix
    assert "none in kenkyu's table" not in e.summary()


def test_the_same_error_as_text_outside_a_run_folder_still_gets_a_fix():
    e = notebook_tools.explain_error(
        'OSError: The topology is loaded by filename extension, and the detected ".xtc" format is not supported.',
        cell="import mdtraj as md\ntraj = md.load('my.xtc')",
    )
    assert e.kind == "trajectory without topology" and "top='<structure>.pdb'" in e.fix
