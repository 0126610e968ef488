"""An exported report leaves out the notebook's own cells that raised, says so, and still re-runs.

The newcomer's session: ``rmsd['rmsd_angstrom'].max()`` raised a KeyError, the report kept it, and a
re-run of the report stopped there. Real nbformat, nbclient and a real python3 kernel.
"""

from __future__ import annotations

import os

import nbformat
import nbformat.v4 as v4

from kenkyu.assistant.export import export_report


def _cell(source, outputs=()):
    cell = v4.new_code_cell(source)
    cell.outputs = list(outputs)
    return cell


def _session_notebook(path):
    raised = v4.new_output(
        "error", ename="KeyError", evalue="'rmsd_angstrom'", traceback=["\x1b[31mKeyError\x1b[0m: 'rmsd_angstrom'"]
    )
    nb = v4.new_notebook(
        cells=[
            _cell("rmsd = {'rmsd_nm': [0.1, 0.2]}"),
            _cell("max(rmsd['rmsd_angstrom'])", [raised]),
            _cell(
                "print('largest', max(rmsd['rmsd_nm']) * 10, 'A')", [v4.new_output("stream", text="largest 2.0 A\n")]
            ),
        ]
    )
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def test_a_cell_that_raised_is_left_out_with_a_note_and_the_report_reruns(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _session_notebook(tmp_path / "session.ipynb")

    paths = export_report("session.ipynb")  # re-executes in a fresh kernel; it used to stop at the KeyError

    assert paths.executed
    report = nbformat.read(paths.ipynb, as_version=4)
    sources = [c.source for c in report.cells if c.cell_type == "code"]
    assert not any("rmsd_angstrom" in s for s in sources)
    run = next(c for c in report.cells if c.cell_type == "code" and "largest" in c.source)
    assert "largest 2.0 A" in "".join(o.get("text", "") for o in run.outputs)  # the report's own output
    (note,) = [c for c in report.cells if "left_out" in c.metadata.get("kenkyu", {})]
    assert note.source.startswith("*A cell of the notebook that raised an error was left out*")
    assert "KeyError: 'rmsd_angstrom'" in note.source and "max(rmsd['rmsd_angstrom'])" in note.source
    assert "1 cell(s) of the notebook that raised an error are left out" in report.cells[0].source
    assert "rmsd_angstrom" in paths.html.read_text()  # the static page shows the note too

    # The reply a person reads: what was written, that it re-ran, what was left out, how to re-run it.
    text = paths.summary()
    assert text.startswith(f"Wrote the report {os.path.join('session_report', 'session.report.ipynb')} and its HTML")
    assert "re-ran from a fresh kernel with no LLM" in text
    assert "Left out 1 cell(s)" in text and "max(rmsd['rmsd_angstrom']) -> KeyError: 'rmsd_angstrom'" in text
    assert "papermill session_report/session.report.ipynb session_report/rerun.ipynb --cwd session_report" in text
    assert repr(paths) == text  # no raw dataclass repr in a %%ask reply
    markdown = paths._repr_markdown_()
    assert "[session.report.ipynb](session_report/session.report.ipynb)" in markdown
    assert "[session.report.html](session_report/session.report.html)" in markdown


def test_an_unexecuted_report_says_so_and_how_to_run_it_from_here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _session_notebook(tmp_path / "session.ipynb")
    paths = export_report("session.ipynb", execute=False, html=False)
    assert not paths.executed and paths.html is None
    text = paths.summary()
    assert "It was not re-executed: it keeps the outputs this session recorded" in text
    # In the report's folder, where its inputs are: never the session's own, whose runs it would reuse and extend.
    assert text.endswith(
        "papermill session_report/session.report.ipynb session_report/rerun.ipynb --cwd session_report"
    )
    assert "Re-run it with: " in text.splitlines()[-1]
    assert "not re-executed" in paths._repr_markdown_() and ".html" not in paths._repr_markdown_()


def test_a_kernel_without_a_notebook_file_exports_its_cells_without_the_one_that_raised(tmp_path):
    """The newcomer's path: "export a report of all this" in a kernel that does not know its notebook's file
    writes the report from the kernel's input history, which keeps no outputs; kenkyu records which cells
    raised, so the KeyError cell is left out here too. A real ipykernel."""
    from comm_client import printed as run
    from comm_client import running_kernel

    with running_kernel(tmp_path, {"JPY_SESSION_NAME": ""}) as client:
        run(client, "%load_ext kenkyu")
        run(client, "rmsd = {'rmsd_nm': [0.1, 0.2]}")
        run(client, "max(rmsd['rmsd_angstrom'])")  # raises KeyError
        run(client, "import statistics as stats\nstats.stdev([1.0])")  # the import ran; stdev raised
        run(client, "print('mean', stats.mean([1.0, 3.0]))")
        out = run(
            client,
            "from kenkyu.assistant import notebook_tools\nprint(notebook_tools.export_report(html=False).summary())",
        )
    assert "It was not re-executed" in out, out
    assert "max(rmsd['rmsd_angstrom']) -> KeyError: 'rmsd_angstrom'" in out
    report = nbformat.read(tmp_path / "kenkyu_session_report" / "kenkyu_session.report.ipynb", as_version=4)
    code = [c.source for c in report.cells if c.cell_type == "code"]
    assert any("rmsd = {'rmsd_nm'" in s for s in code) and not any("rmsd_angstrom" in s for s in code)
    assert "import statistics as stats" in code and not any("stdev" in s for s in code)
    assert "Left out 2 cell(s)" in out


def test_the_statements_before_the_one_that_raised_are_kept_and_the_report_reruns(tmp_path, monkeypatch):
    """Newcomer r10: a cell of `import mdtraj as md` and a load that failed was left out whole, so the next
    cell, which loaded the trajectory right, stopped the report's re-run at "NameError: md". The session is
    run by a real kernel (nbclient, errors allowed), so the traceback is IPython's own."""
    from nbclient import NotebookClient

    monkeypatch.chdir(tmp_path)
    nb = v4.new_notebook(
        cells=[
            _cell(
                "import statistics as stats\n\nspread = stats.stdev([1.0])  # one value: stdev raises\nprint('never')"
            ),
            _cell("print('mean', stats.mean([1.0, 3.0]))"),
        ]
    )
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(
        nb, allow_errors=True, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    assert nb.cells[0].outputs[-1]["ename"] == "StatisticsError"  # the session as the user had it
    nbformat.write(nb, tmp_path / "session.ipynb")

    paths = export_report("session.ipynb", html=False)

    assert paths.executed  # it stopped at NameError: stats before
    report = nbformat.read(paths.ipynb, as_version=4)
    code = [c.source for c in report.cells if c.cell_type == "code"]
    assert "import statistics as stats" in code
    assert not any("stdev" in s or "never" in s for s in code)
    mean = next(c for c in report.cells if c.cell_type == "code" and "stats.mean" in c.source)
    assert "mean 2.0" in "".join(o.get("text", "") for o in mean.outputs)
    (note,) = [c for c in report.cells if "left_out" in c.metadata.get("kenkyu", {})]
    assert "StatisticsError" in note.source and "statements before the one that raised" in note.source
