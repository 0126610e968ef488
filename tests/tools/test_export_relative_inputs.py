"""A report of a notebook that read its input by a relative path re-runs: right after export and later.

The newcomer's notebook in folder F loaded 'villin_1vii.pdb'; its report, written to F/villin_report/ and
re-executed there, failed with "Structure file 'villin_1vii.pdb' does not exist", its fix named the same
file, and the kernel's "running over TCP without encryption" log line headed the output. Real nbformat,
nbclient, a real python3 kernel, kenkyu's analysis on the real villin structure.
"""

from __future__ import annotations

import shutil

import nbformat
import nbformat.v4 as v4
import pytest
from md_fixtures import villin_pdb  # noqa: F401 (fixture)
from nbclient import NotebookClient

from kenkyu.assistant.export import ReportExecutionError, export_report

ANALYSIS = (
    "from kenkyu.tools import analysis\n"
    "from units import in_nm\n"
    "rg = analysis.radius_of_gyration(trajectory='villin_1vii.pdb')\n"
    "rg.to_csv('rg.csv')\n"
    "print(f\"Rg {in_nm(rg.iloc[0]['rg_nm'])}\")"
)


def _notebook(folder, villin):
    shutil.copy(villin, folder / "villin_1vii.pdb")
    (folder / "units.py").write_text("def in_nm(x):\n    return f'{x:.3f} nm'\n")  # a helper of the scientist's
    nb = v4.new_notebook(cells=[v4.new_markdown_cell("Villin, compact?"), v4.new_code_cell(ANALYSIS)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(nb, timeout=300, resources={"metadata": {"path": str(folder)}}).execute()  # the session
    nbformat.write(nb, folder / "villin.ipynb")
    return _printed(nb)


def _printed(notebook) -> str:
    """What the analysis cell printed (its stdout; mdtraj's warnings go to stderr)."""
    cell = next(c for c in notebook.cells if c.cell_type == "code" and "radius_of_gyration" in c.source)
    return "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stdout")


def test_report_reruns_with_relative_inputs_after_export_and_when_reopened_elsewhere(
    villin_pdb,  # noqa: F811
    tmp_path,
    monkeypatch,
    capfd,
):
    folder = tmp_path / "F"
    folder.mkdir()
    session_output = _notebook(folder, villin_pdb)
    assert session_output.startswith("Rg ") and "nm" in session_output
    (folder / "rg.csv").unlink()  # the session's own output; the report's re-run must not write here
    monkeypatch.chdir(folder)
    capfd.readouterr()

    paths = export_report("villin.ipynb", "villin_report/villin.report.ipynb")

    assert paths.executed
    report_dir = folder / "villin_report"
    assert paths.inputs == ("villin_1vii.pdb", "units.py")
    assert (report_dir / "villin_1vii.pdb").read_bytes() == (folder / "villin_1vii.pdb").read_bytes()
    report = nbformat.read(paths.ipynb, as_version=4)
    assert _printed(report) == session_output  # the same number, computed by the report itself
    assert (report_dir / "rg.csv").exists() and not (folder / "rg.csv").exists()  # its outputs stay in its folder
    assert "villin_1vii.pdb" in report.cells[0].source and "copied" in report.cells[0].source
    assert "copied from the notebook's folder" in paths.summary()
    assert "without encryption" not in "".join(capfd.readouterr())  # not in the user's cell output

    # Later, and elsewhere: the folder moved (sent to a colleague) and opened there, run from its own folder.
    moved = tmp_path / "elsewhere" / "villin_report"
    shutil.move(report_dir, moved)
    (folder / "villin_1vii.pdb").unlink()  # the original is gone too
    reopened = nbformat.read(moved / "villin.report.ipynb", as_version=4)
    for cell in reopened.cells:
        if cell.cell_type == "code":
            cell.outputs = []
    NotebookClient(reopened, timeout=300, resources={"metadata": {"path": str(moved)}}).execute()
    assert _printed(reopened) == session_output


def test_a_report_written_beside_the_notebook_copies_nothing(villin_pdb, tmp_path, monkeypatch):  # noqa: F811
    _notebook(tmp_path, villin_pdb)
    monkeypatch.chdir(tmp_path)
    paths = export_report("villin.ipynb", "villin.report.ipynb", html=False)
    assert paths.executed and paths.inputs == ()
    assert "copied" not in paths.summary()


def _session(folder, cells):
    nb = v4.new_notebook(cells=[v4.new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(nb, timeout=300, resources={"metadata": {"path": str(folder)}}).execute()
    nbformat.write(nb, folder / "villin.ipynb")
    return nb


def test_an_input_from_outside_the_notebook_folder_is_copied_in_and_the_cell_reads_the_copy(
    villin_pdb,  # noqa: F811
    tmp_path,
    monkeypatch,
):
    """The scientist keeps structures in a sibling data folder: ``'../data/villin_1vii.pdb'``. From the report's
    folder that path leads nowhere (and a copy at the same relative place would land outside the report)."""
    folder, data = tmp_path / "F", tmp_path / "data"
    folder.mkdir()
    data.mkdir()
    shutil.copy(villin_pdb, data / "villin_1vii.pdb")
    session = _session(
        folder,
        [
            ANALYSIS.replace("'villin_1vii.pdb'", "'../data/villin_1vii.pdb'").replace(
                "from units import in_nm\n", "in_nm = '{:.3f} nm'.format\n"
            )
        ],
    )
    monkeypatch.chdir(folder)

    paths = export_report("villin.ipynb")

    assert paths.executed and paths.outside == ("'../data/villin_1vii.pdb' -> inputs/villin_1vii.pdb",)
    report = nbformat.read(paths.ipynb, as_version=4)
    assert _printed(report) == _printed(session)  # computed from the copy
    analysis = next(c for c in report.cells if c.cell_type == "code" and "radius_of_gyration" in c.source)
    assert "trajectory='inputs/villin_1vii.pdb'" in analysis.source and "../data" not in analysis.source
    for said in (report.cells[0].source, paths.summary()):
        assert "outside the notebook's folder were copied into the report's `inputs/` folder" in said
        assert "'../data/villin_1vii.pdb' -> inputs/villin_1vii.pdb" in said

    # Moved and opened elsewhere, with the original data folder gone: it still re-runs.
    moved = tmp_path / "elsewhere" / "report"
    shutil.move(paths.ipynb.parent, moved)
    shutil.rmtree(data)
    reopened = nbformat.read(moved / paths.ipynb.name, as_version=4)
    NotebookClient(reopened, timeout=300, resources={"metadata": {"path": str(moved)}}).execute()
    assert _printed(reopened) == _printed(session)


def test_a_path_built_at_run_time_is_named_at_export_and_in_the_error_of_its_rerun(
    villin_pdb,  # noqa: F811
    tmp_path,
    monkeypatch,
):
    folder, data = tmp_path / "F", tmp_path / "data"
    folder.mkdir()
    data.mkdir()
    shutil.copy(villin_pdb, data / "villin_1vii.pdb")
    built = (
        "rg = analysis.radius_of_gyration(trajectory=os.path.join(DATA, 'villin_1vii.pdb'))\nprint(rg.iloc[0]['rg_nm'])"
    )
    # (a folder named by a literal, '../data', is copied in: the report carries folders; one joined from parts is not)
    _session(folder, ["import os\nfrom kenkyu.tools import analysis\nDATA = os.path.join('..', 'data')", built])
    monkeypatch.chdir(folder)

    written = export_report("villin.ipynb", execute=False)
    assert written.built == ("cell 4 (`os.path.join(DATA, 'villin_1vii.pdb')`)",)
    for said in (nbformat.read(written.ipynb, as_version=4).cells[0].source, written.summary()):
        assert "Some cells build a file path while they run, so kenkyu cannot know which file they read" in said
        assert "cell 4 (`os.path.join(DATA, 'villin_1vii.pdb')`)" in said and "copy it into the report's folder" in said

    with pytest.raises(
        ReportExecutionError,
        match=r"in cell 4\..*built at run time.*cell 4 \(`os.path.join.*copy it into villin_report \(where",
    ):
        export_report("villin.ipynb", overwrite=True)  # from the report's folder, '../data' is not there
