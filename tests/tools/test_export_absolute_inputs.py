"""A report of a notebook that read its input by an ABSOLUTE path (``'/home/me/data/villin.pdb'``) carries a
copy in its folder, its cell reads the copy, and the export says so: moved elsewhere with the original gone, it
still re-runs to the same number. Real nbformat, nbclient, a python3 kernel and kenkyu's analysis on villin."""

from __future__ import annotations

import shutil

import nbformat
import nbformat.v4 as v4
from md_fixtures import villin_pdb  # noqa: F401 (fixture)
from nbclient import NotebookClient

from kenkyu.assistant.export import export_report


def _execute(nb, folder):
    NotebookClient(nb, timeout=300, resources={"metadata": {"path": str(folder)}}).execute()
    return "".join(
        o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.get("name") == "stdout"
    )


def test_an_input_named_by_absolute_path_is_copied_and_read_from_the_copy(villin_pdb, tmp_path, monkeypatch):  # noqa: F811
    folder, data = tmp_path / "F", tmp_path / "data"
    folder.mkdir()
    data.mkdir()
    shutil.copy(villin_pdb, data / "villin_1vii.pdb")
    absolute = str(data / "villin_1vii.pdb")
    code = (
        "from kenkyu.tools import analysis\n"
        f"rg = analysis.radius_of_gyration(trajectory={absolute!r})\n"
        "print(f\"Rg {rg.iloc[0]['rg_nm']:.4f} nm\")"
    )
    session = v4.new_notebook(cells=[v4.new_code_cell(code)])
    session.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    printed = _execute(session, folder)
    assert printed.startswith("Rg ")
    nbformat.write(session, folder / "villin.ipynb")
    monkeypatch.chdir(folder)

    paths = export_report("villin.ipynb")

    assert paths.executed and paths.outside == (f"{absolute!r} -> inputs/villin_1vii.pdb",)
    report = nbformat.read(paths.ipynb, as_version=4)
    cell = next(c for c in report.cells if c.cell_type == "code" and "radius_of_gyration" in c.source)
    assert "trajectory='inputs/villin_1vii.pdb'" in cell.source and str(data) not in cell.source
    assert (paths.ipynb.parent / "inputs" / "villin_1vii.pdb").read_bytes() == (data / "villin_1vii.pdb").read_bytes()
    for said in (report.cells[0].source, paths.summary()):
        assert f"{absolute!r} -> inputs/villin_1vii.pdb" in said and "`inputs/` folder" in said

    moved = tmp_path / "elsewhere" / "report"
    shutil.move(paths.ipynb.parent, moved)
    shutil.rmtree(data)
    reopened = nbformat.read(moved / paths.ipynb.name, as_version=4)
    for c in reopened.cells:
        if c.cell_type == "code":
            c.outputs = []
    assert _execute(reopened, moved) == printed
