"""newcomer R7 O7, end to end: a session ingests its notes folder; the exported report re-runs, because the
folder the cell names is copied into the report's folder (before: "notes/ does not exist"). Real nbclient,
ipykernel, literature.ingest with kenkyu's shipped MiniLM embedding, on the reading notes shipped with kenkyu."""

from __future__ import annotations

import shutil

import nbformat
import nbformat.v4 as v4
from nbclient import NotebookClient

from kenkyu.assistant.export import export_report
from kenkyu.tools import literature

CELL = (
    "import os\n"
    "from kenkyu.tools import literature\n"
    "report = literature.ingest('notes/', progress=False)\n"
    "print(sorted(os.path.basename(key) for key in report.added))"
)


def _printed(nb) -> str:
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)


def test_a_report_that_ingests_a_notes_folder_reruns(tmp_path, monkeypatch):
    shutil.copytree(literature.example_notes(), tmp_path / "notes")
    session = v4.new_notebook(cells=[v4.new_code_cell(CELL)])
    session.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(session, timeout=300, resources={"metadata": {"path": str(tmp_path)}}).execute()
    nbformat.write(session, tmp_path / "lit.ipynb")
    assert "villin_folding.md" in _printed(session)
    monkeypatch.chdir(tmp_path)

    paths = export_report("lit.ipynb", html=False)

    assert paths.executed and paths.inputs == ("notes",)
    folder = paths.ipynb.parent
    assert sorted(p.name for p in (folder / "notes").iterdir()) == sorted(
        p.name for p in (tmp_path / "notes").iterdir()
    )
    assert _printed(nbformat.read(paths.ipynb, as_version=4)) == _printed(session)  # the same sources, indexed anew
