"""How the agent benchmark reads a task: the values its probe printed, and fixtures from a relative cache.

The probe: whatever a C library printed around its values.

mdtraj's DCD reader writes "dcdplugin) ..." on the process's own stdout; in a kernel that chatter can land on
the probe's line, before its mark: a right md_extend (30 frames, printed) was scored "no number (None)".
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.agent.harness import PROBE_MARK, read_run  # noqa: E402

EXPR = "::len(mdtraj.load('md_runs/villin/trajectory.dcd'))"


def notebook_whose_probe_printed(text: str):
    ask = nbformat.v4.new_code_cell("%%ask\ncan it go 2ps longer?")
    probe = nbformat.v4.new_code_cell("_bench_probe(...)")
    probe.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
    return nbformat.v4.new_notebook(cells=[ask, probe])


def test_values_are_read_when_a_library_printed_before_the_mark_on_the_same_line(tmp_path):
    line = f'dcdplugin) detected standard 32-bit DCD file{PROBE_MARK}{{"alive": true, "values": {{"{EXPR}": 30.0}}}}'
    run = read_run(notebook_whose_probe_printed(line + "\ndcdplugin) CHARMM format DCD file\n"), tmp_path)
    assert run.kernel_alive is True and run.values == {EXPR: 30.0}


def test_values_are_read_when_a_library_printed_after_the_json(tmp_path):
    line = f'{PROBE_MARK}{{"alive": true, "values": {{"{EXPR}": 25.0}}}}dcdplugin) CHARMM format DCD file'
    run = read_run(notebook_whose_probe_printed(line + "\n"), tmp_path)
    assert run.values == {EXPR: 25.0}


def test_a_relative_fixture_cache_still_points_the_task_kernels_at_the_tiny_models(tmp_path, monkeypatch):
    """`run.py --cache test-artifacts/...` (relative): each task's kernel runs in its own folder, so the
    KENKYU_MODELS it is given must be absolute, or a right ESM call meets "model not found"."""
    from benchmarks.agent.fixtures import Fixtures

    monkeypatch.chdir(tmp_path)
    models = tmp_path / "cache" / "models"
    models.mkdir(parents=True)
    (models / ".complete").write_text("built\n")  # built before; not rebuilt here
    env = Fixtures(Path("cache"))._tiny_esm_models(tmp_path / "task")
    assert env == {"KENKYU_MODELS": str(models)}
