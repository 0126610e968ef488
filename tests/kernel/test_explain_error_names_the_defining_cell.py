"""explain_error for a NameError of a name the notebook defines in a cell that was never run (newcomer r8 O4).

The newcomer's notebook had `import mdtraj as md` in cell 2, never run; `t300 = md.load(...)` failed and
explain_error said "did you mean rmsd? run the cell that defines md first". It now names that cell.
"""

from __future__ import annotations

import nbformat
from nbformat import v4
from notebooks import run_cells, text_of

from kenkyu.assistant.defining_cells import defining_cell


def saved_notebook(tmp_path):
    nb = v4.new_notebook(
        cells=[
            v4.new_markdown_cell("# villin at two temperatures"),
            v4.new_code_cell("%matplotlib inline\nimport numpy as np\nimport mdtraj as md"),
            v4.new_code_cell("hp35 = md.load('hp35_villin.pdb')  # md is only used here, not defined"),
            v4.new_code_cell("def rmsd_of(t):\n    md = None\n    return md"),
        ]
    )
    path = tmp_path / "villin_temps.ipynb"
    nbformat.write(nb, path)
    return path


def test_a_name_imported_in_a_cell_not_run_is_explained_by_that_cell(tmp_path):
    path = saved_notebook(tmp_path)
    nb, _ = run_cells(
        [
            "rmsd = 0.1  # a close name the old fix offered",
            "t300 = md.load('hp35_villin.pdb')",
            "from kenkyu.assistant import notebook_tools\nprint(notebook_tools.explain_error())",
        ],
        tmp_path,
        name="run.ipynb",
        env={"JPY_SESSION_NAME": str(path)},  # the kernel's own notebook, as Jupyter tells it
        allow_errors=True,
    )
    text = text_of(nb.cells[2])
    assert "NameError: name 'md' is not defined" in text
    assert "run cell 2 first: it defines md (`import mdtraj as md`)" in text
    assert "did you mean" not in text


def test_only_a_binding_counts_and_an_unknown_name_finds_no_cell(tmp_path):
    path = saved_notebook(tmp_path)
    assert defining_cell("hp35", path).number == 3 and not defining_cell("hp35", path).imports
    assert defining_cell("np", path).line == "import numpy as np"
    assert defining_cell("rmsd_of", path).number == 4
    assert defining_cell("traj", path) is None  # named nowhere: the old fix (run the cell that defines it) stays
    assert defining_cell("md", tmp_path / "missing.ipynb") is None
