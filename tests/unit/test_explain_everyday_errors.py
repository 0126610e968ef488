"""explain_error on the errors a scientist makes every day with mdtraj, numpy and pandas: each fix names the
real thing (the index and the size, the function's parameters, the object's attributes, the two lengths)."""

from __future__ import annotations

import linecache
import sys

import pytest
from kenkyu.assistant import notebook_tools
from kenkyu.tools import md

SETUP = (
    "import mdtraj, numpy as np, pandas as pd\n"
    f"traj = mdtraj.load({str(md.example_structure('villin'))!r})\n"
    "import kenkyu.tools.analysis\n"
    "time_ps, rg_nm = np.arange(10) * 0.1, np.ones(20)\n"
)


def _explain_cell(monkeypatch, line: str, count=[0]):  # noqa: B006 (a counter for unique cell names)
    """Run SETUP + ``line`` as a kernel cell would, and explain the error it raised (the kernel's last)."""
    count[0] += 1
    source = SETUP + line + "\n"
    name = f"<ipython-input-{count[0]}-everyday>"
    linecache.cache[name] = (len(source), None, source.splitlines(True), name)
    namespace = {"__name__": "__main__"}
    with pytest.raises(Exception) as raised:
        exec(compile(source, name, "exec"), namespace)
    monkeypatch.setattr(sys, "last_value", raised.value, raising=False)
    monkeypatch.setattr(sys, "last_exc", raised.value, raising=False)
    e = notebook_tools.explain_error()
    assert e.failing_line == line and "none in kenkyu's table" not in e.summary()
    return e


@pytest.mark.filterwarnings("ignore:Unlikely unit cell vectors")
def test_an_index_past_the_end_names_the_index_the_size_and_the_one_based_cause(monkeypatch):
    e = _explain_cell(monkeypatch, "ca = traj.xyz[0, traj.topology.select('name CA')][40]")
    assert e.error_type == "IndexError" and e.kind == "index out of range"
    assert "index 40" in e.cause and "36 entries" in e.cause and "0 to 35" in e.cause
    assert "counts from 0" in e.cause and "frame window" in e.cause
    # 39 is past the end too (36 entries): the fix says the selection is shorter, never "use index 39".
    assert "only 36 entries" in e.fix and "use index 39" not in e.fix and "resSeq 40" in e.fix
    # Python's own list message has no sizes: still a fix, not "none".
    e = notebook_tools.explain_error("IndexError: list index out of range")
    assert e.kind == "index out of range" and "len(x)" in e.fix


@pytest.mark.filterwarnings("ignore:Unlikely unit cell vectors")
def test_an_unexpected_keyword_gets_the_functions_real_parameters(monkeypatch):
    e = _explain_cell(monkeypatch, "r = kenkyu.tools.analysis.rmsd(traj, atom_selection='backbone')")
    assert e.error_type == "TypeError" and e.kind == "unknown argument"
    assert "reference_frame" in e.fix and "start_ps" in e.fix  # rmsd's own parameters, not a generic hint
    assert e.fix.startswith("did you mean selection=?")


@pytest.mark.filterwarnings("ignore:Unlikely unit cell vectors")
def test_a_missing_trajectory_attribute_gets_the_close_names(monkeypatch):
    e = _explain_cell(monkeypatch, "print(traj.nframes)")
    assert e.error_type == "AttributeError" and e.kind == "missing attribute"
    assert e.fix.startswith("did you mean traj.n_frames")
    assert "a Trajectory has" in e.fix and "n_atoms" in e.fix


@pytest.mark.filterwarnings("ignore:Unlikely unit cell vectors")
def test_arrays_of_different_lengths_name_both_variables(monkeypatch):
    e = _explain_cell(monkeypatch, "difference = time_ps - rg_nm")
    assert e.error_type == "ValueError" and e.kind == "mismatched lengths"
    assert "10 vs 20" in e.cause and e.fix.startswith("here time_ps has 10, rg_nm has 20:")
    assert "stride" in e.fix and "x[:n]" in e.fix
    e = _explain_cell(monkeypatch, "table = pd.DataFrame({'time_ps': time_ps}); table['rg_nm'] = rg_nm")
    assert e.kind == "mismatched lengths" and "10 vs 20" in e.cause


@pytest.mark.filterwarnings("ignore:Unlikely unit cell vectors")
def test_a_missing_module_function_gets_the_real_one_as_the_cell_names_the_module(monkeypatch):
    # newcomer R7 O4: mdtraj has rmsd, not compute_rmsd; difflib alone offered compute_rg.
    e = _explain_cell(monkeypatch, "import mdtraj as md; d = md.compute_rmsd(traj, traj)")
    assert e.kind == "missing attribute" and e.cause == "module mdtraj has no 'compute_rmsd'"
    assert e.fix.startswith("did you mean md.rmsd,")


@pytest.mark.filterwarnings("ignore:Unlikely unit cell vectors")
def test_an_analysis_written_as_an_attribute_gets_the_function_that_computes_it(monkeypatch):
    """Newcomer r11: `traj.dssp` got an alphabetical list of a Trajectory's attributes as its 'likely fix'."""
    e = _explain_cell(monkeypatch, "ss = traj.dssp")
    assert e.kind == "missing attribute"
    assert e.fix.startswith("dssp is a function, not an attribute: mdtraj.compute_dssp(traj)")
    assert "kenkyu.tools.analysis.dssp(traj)" in e.fix
