"""A notebook whose kernel died mid-run: the report says which cells never ran, and a re-run that kills its
kernel again is reported (which cell), not lost. Real nbformat, nbclient and python3 kernels; the crash is a
real one (the kernel process exits, as when it runs out of memory)."""

from __future__ import annotations

import nbformat
import nbformat.v4 as v4
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError

from kenkyu.assistant.export import ReportExecutionError, export_report

# It prints first: the saved cell then shows it started (its execution count), as JupyterLab shows a cell that
# was running when its kernel died; os._exit ends the kernel process, as a crash or the OOM killer does.
CRASH = "import os, sys, time\nprint('crashing'); sys.stdout.flush(); time.sleep(0.5)\nos._exit(1)"


def _crashed_session(folder):
    cells = ["x = 6 * 7", "print('x is', x)", CRASH, "print('after the crash', x + 1)"]
    nb = v4.new_notebook(cells=[v4.new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    with pytest.raises(DeadKernelError):
        NotebookClient(nb, timeout=120, resources={"metadata": {"path": str(folder)}}).execute()
    nbformat.write(nb, folder / "crashed.ipynb")  # what JupyterLab saves after "the kernel has died"
    return nb


def test_the_report_of_a_crashed_session_names_the_cells_that_never_ran(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    session = _crashed_session(tmp_path)
    assert [c.get("execution_count") for c in session.cells][3] is None  # the cell after the crash never ran

    written = export_report("crashed.ipynb", execute=False)
    report = nbformat.read(written.ipynb, as_version=4)
    named = "cell 4 of crashed.ipynb, report cell 6 (`print('after the crash', x + 1)`)"
    assert written.never_ran == (named,)
    for said in (report.cells[0].source, written.summary()):
        assert "1 code cell(s) never ran in the session, or did not finish" in said
        assert named in said and "runs them for the first time" in said
    assert f"never ran in the session (no execution count): {named}" in str(written)  # what `kenkyu report` prints

    # Re-run, the crash happens again: the export says where, and writes the report up to there.
    with pytest.raises(ReportExecutionError, match=r"the kernel died while running cell 5 \(`import os, sys, time`\)"):
        export_report("crashed.ipynb", overwrite=True)
    rerun = nbformat.read(tmp_path / "crashed_report" / "crashed.report.ipynb", as_version=4)
    assert "x is 42" in "".join(o.get("text", "") for c in rerun.cells if c.cell_type == "code" for o in c.outputs)


def test_a_notebook_that_ran_to_the_end_names_no_cell(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    nb = v4.new_notebook(cells=[v4.new_code_cell(c) for c in ("x = 6 * 7", "print(x)")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(nb, timeout=120, resources={"metadata": {"path": str(tmp_path)}}).execute()
    nbformat.write(nb, tmp_path / "fine.ipynb")
    written = export_report("fine.ipynb")
    assert written.executed and written.never_ran == () and "never ran" not in written.summary()
