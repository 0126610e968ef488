"""The agent's notebook tools: explain an error (the failing line and a likely fix) and describe the notebook."""

from __future__ import annotations

import linecache
import sys

import pytest
from kenkyu.assistant import notebook_tools
from kenkyu.assistant import AGENT_TOOL_MODULES
from kenkyu.assistant.session import AssistantSession
from kenkyu.core.config import ProviderConfig, Settings
from kenkyu.core.science import science_of

RED, GREEN, STRING, OFF = "\x1b[0;31m", "\x1b[0;32m", "\x1b[38;5;124m", "\x1b[0m"
# IPython's traceback of a failing cell, with its colours (what the notebook's error output holds).
IPYTHON_TRACEBACK = "\n".join(
    [
        f"{RED}---------------------------------------------------------------------------{OFF}",
        f"{RED}FileNotFoundError{OFF}                         Traceback (most recent call last)",
        f"Cell {GREEN}In[4], line 2{OFF}",
        f"{GREEN}      1{OFF} import mdtraj",
        f'{GREEN}----> 2{OFF} traj = mdtraj.load({STRING}"villin.dcd"{OFF}, top={STRING}"villin.pdb"{OFF})',
        "File .../mdtraj/core/trajectory.py:389, in load(filename_or_filenames, **kwargs)",
        f"{RED}FileNotFoundError{OFF}: [Errno 2] No such file or directory: 'villin.dcd'",
    ]
)


def test_a_missing_file_names_the_line_and_files_with_a_similar_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "villin.pdb").write_text("")
    (tmp_path / "villin_run.dcd").write_text("")
    e = notebook_tools.explain_error(IPYTHON_TRACEBACK)
    assert e.error_type == "FileNotFoundError" and e.message.endswith("'villin.dcd'")
    assert e.line_number == 2 and e.failing_line.startswith('traj = mdtraj.load("villin.dcd"')
    assert e.kind == "file not found" and "villin_run.dcd" in e.fix
    text = e.summary()
    assert "failing line (line 2 of the cell)" in text and "likely fix:" in text


@pytest.mark.parametrize(
    "error, kind, words",
    [
        ("ValueError: xyz must be shape (Any, 596, 3). You supplied  (10, 8612, 3)", "atom-count", "prepared.pdb"),
        ("OpenMMException: Particle coordinate is NaN.  For more information, see ...", "blew up", "timestep_fs"),
        ("SimulationUnstableError: The simulation blew up: the potential energy is nan", "blew up", "minimize"),
        ("ModuleNotFoundError: No module named 'mdtraj'", "missing package", "kenkyu[md]"),
        ("ModuleNotFoundError: No module named 'numba'", "missing package", "kenkyu[kernels]"),
        ("RunExistsError: md_runs/villin_explicit already holds a run (finished).", "run folder exists", "resume=True"),
        ("ValueError: invalid mdtraj atom selection 'bakbone': ...", "atom selection", "backbone"),
        ("MDError: No OpenMM platform could run this system (CUDA: no device)", "platform", "platform='CPU'"),
    ],
)
def test_common_errors_get_a_fix_from_the_table(error, kind, words):
    e = notebook_tools.explain_error(error)
    assert kind in e.kind and words in e.fix
    assert e.error_type == error.split(":")[0]


def test_the_failing_line_is_found_in_the_cell_from_the_message():
    e = notebook_tools.explain_error("NameError: name 'trajj' is not defined", cell="x = 1\nrmsd(trajj)\ny = 2")
    assert e.failing_line == "rmsd(trajj)" and e.line_number == 2 and "run the cell that defines trajj" in e.fix


def test_by_hand_it_explains_the_kernels_last_error_with_the_tables_columns(monkeypatch):
    source = "import pandas as pd\ntable = pd.DataFrame({'rmsd_nm': [0.1], 'time_ps': [1.0]})\nvalue = table['rmsd']\n"
    name = "<ipython-input-3-abc>"
    linecache.cache[name] = (len(source), None, source.splitlines(True), name)
    namespace = {"__name__": "__main__"}
    try:
        exec(compile(source, name, "exec"), namespace)
    except KeyError as exc:
        monkeypatch.setattr(sys, "last_value", exc, raising=False)
        monkeypatch.setattr(sys, "last_exc", exc, raising=False)
    e = notebook_tools.explain_error()
    assert e.error_type == "KeyError" and e.kind == "missing key or column"
    assert e.failing_line == "value = table['rmsd']" and e.line_number == 3
    assert "did you mean 'rmsd_nm'" in e.fix and "time_ps" in e.fix
    assert e.raised_in and "pandas" in e.raised_in
    verdicts = science_of(notebook_tools.explain_error).check(e)
    assert [s for _, s, _ in verdicts] == ["pass"]


def test_no_error_yet_says_so(monkeypatch):
    monkeypatch.delattr(sys, "last_value", raising=False)
    monkeypatch.delattr(sys, "last_exc", raising=False)
    e = notebook_tools.explain_error()
    assert not e.found and "No error" in e.summary()


def test_overview_lists_runs_and_files_most_relevant_first(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name, mark, status in (
        ("md_runs/villin_implicit", "run.json", "finished"),
        ("md_runs/villin_cg_300K", "cg.json", "finished"),
    ):
        (tmp_path / name).mkdir(parents=True)
        (tmp_path / name / mark).write_text(f'{{"status": "{status}"}}')
    (tmp_path / "villin.pdb").write_text("")
    view = notebook_tools.overview("show me the coarse-grained run")
    assert [r["path"] for r in view.runs][0] == "md_runs/villin_cg_300K"
    assert {r["kind"] for r in view.runs} == {"MD run", "coarse-grained run"} and view.files == ["villin.pdb"]
    assert "md_runs/villin_implicit (MD run, finished)" in view.summary()


def test_the_session_registers_the_notebook_tools():
    session = AssistantSession(settings=Settings(provider=ProviderConfig("none")), namespace={})
    assert set(AGENT_TOOL_MODULES) <= set(session.tool_modules)
    registry = session.registry
    explain = next(t for t in registry if t.function is notebook_tools.explain_error)
    export = next(t for t in registry if t.function is notebook_tools.export_report)
    assert explain.approval == "auto" and explain.qualified_call == "kenkyu.assistant.notebook_tools.explain_error"
    assert export.approval == "ask" and export.writes_files and export.science.expectations
    assert export.science.output_folder({"notebook": "work/analysis.ipynb"}) == "work/analysis_report"


def test_export_without_a_notebook_asks_which(monkeypatch):
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    with pytest.raises(FileNotFoundError, match="Which notebook"):
        notebook_tools.export_report()


def test_a_misspelt_selection_keyword_is_named_with_the_corrected_selection():
    pytest.importorskip("mdtraj")
    cell = "import mdtraj\nsel = traj.topology.select('resname ALA and nmae CB')"
    e = notebook_tools.explain_error("ValueError: Cannot use literals as truth", cell=cell)
    assert e.kind == "atom selection" and "'nmae'" in e.cause
    assert "'name'" in e.fix and "'resname ALA and name CB'" in e.fix
    # the fix is among the first lines a short reply quotes
    assert e.summary().splitlines()[2].startswith("likely fix: did you mean 'name'?")


def test_a_mistyped_folder_gets_did_you_mean_the_folder_that_exists(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "md_runs" / "lysozyme_implicit").mkdir(parents=True)
    e = notebook_tools.explain_error("FileNotFoundError: trajectory 'md_runs/lysozym_implicit' does not exist")
    assert e.fix.startswith("did you mean md_runs/lysozyme_implicit?")


def test_export_without_a_saved_notebook_in_a_kernel_exports_the_cells_it_ran(tmp_path, monkeypatch):
    """Outside a kernel there is nothing to export from; the cells a kernel ran make kenkyu_session.ipynb."""
    from types import SimpleNamespace

    monkeypatch.chdir(tmp_path)
    record = {"prompt": "rg of villin", "done": {"reason": "finished"}, "cells": []}
    shell = SimpleNamespace(
        history_manager=SimpleNamespace(input_hist_raw=["", "x = 1", "%%ask\nrg of villin", "%%ask\nexport it"]),
        _kenkyu_session=SimpleNamespace(records=[record]),
    )
    monkeypatch.setattr("IPython.get_ipython", lambda: shell)
    path = notebook_tools.notebook_from_kernel()
    import nbformat

    nb = nbformat.read(path, as_version=4)
    assert [c.source for c in nb.cells] == ["x = 1", "%%ask\nrg of villin"]
    assert nb.cells[1].outputs[0]["data"]["application/vnd.kenkyu.record+json"]["prompt"] == "rg of villin"


def test_overview_puts_the_variable_whose_table_answers_the_question_first(tmp_path, monkeypatch):
    import pandas as pd

    monkeypatch.chdir(tmp_path)
    namespace = {"compactness": pd.DataFrame({"rg_nm": [1.0]}), "dev": pd.DataFrame({"rmsd_nm": [0.1]})}
    monkeypatch.setattr(notebook_tools, "_user_namespace", lambda: namespace)
    view = notebook_tools.overview("which variable holds the rmsd?")
    assert view.variables[0]["name"] == "dev" and "best match" in view.summary()
