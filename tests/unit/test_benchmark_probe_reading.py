"""The agent benchmark reads the values its probe cell printed, whatever a C library printed around them.

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
