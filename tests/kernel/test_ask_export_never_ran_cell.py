"""The export names a cell the session never ran by its place in the notebook and by what it does (newcomer r11).

``%kenkyu cells`` inserts the last request's action cell below; a newcomer left it unrun (a 20 ps simulation they had
stopped) and exported. The reply said "1 code cell(s) never ran …: cell 56 (`import kenkyu.tools.md`)": 56 was the
report's numbering (the notebook had 21 cells) and the import line is how every action cell starts. It now says the
notebook's cell, the report's, and the cell's first line that is not an import. A real python3 kernel runs the
session with kenkyu loaded (its %%ask on a replayed model writes the action cell), then the inserted copy is saved
without an execution count, as JupyterLab saves a cell nobody ran.
"""

from __future__ import annotations

import json

import nbformat
import nbformat.v4 as v4
from nbclient import NotebookClient

from kenkyu.assistant.export import export_report

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}
ACTION_CELL = "import math\n\nroot = math.sqrt(x)\nroot"


def test_a_never_run_cell_is_named_by_its_notebook_cell_and_its_first_statement(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    replay = tmp_path / "replay.json"
    replay.write_text(json.dumps({"turns": [{"text": "x is 42."}]}))
    sources = ["%load_ext kenkyu", "x = 6 * 7", f"%kenkyu provider replay {replay}", "%%ask\nwhat is x?", "print(x)"]
    nb = v4.new_notebook(cells=[v4.new_code_cell(c) for c in sources], metadata={"kernelspec": KERNELSPEC})
    NotebookClient(nb, timeout=180, resources={"metadata": {"path": str(tmp_path)}}).execute()
    nb.cells.insert(4, v4.new_code_cell(ACTION_CELL))  # inserted below the %%ask cell, never run
    nbformat.write(nb, tmp_path / "session.ipynb")

    written = export_report("session.ipynb", execute=False)
    report = nbformat.read(written.ipynb, as_version=4)
    in_report = next(i for i, c in enumerate(report.cells, 1) if c.source == ACTION_CELL)
    named = f"cell 5 of session.ipynb, report cell {in_report} (`root = math.sqrt(x)`)"
    assert written.never_ran == (named,), written.never_ran
    assert named in written.summary() and named in report.cells[0].source
