"""explain_error() explains the most recent failure, names its cell and says how old it is (newcomer r12).

"the rerun of my report just failed, why?" right after a `!papermill …` cell whose output held a traceback
explained an ESM-2 error from 15 min earlier, with neither its cell nor its age: a shell command's failure never
sets sys.last_value. Here a real kernel runs a Python error, then a shell command that fails with a traceback."""

from __future__ import annotations

from notebooks import run_cells, text_of

# A program that fails the way papermill does: a traceback on stderr, exit status 1.
FAILING = (
    "import sys\n"
    "!{sys.executable} -c \"raise FileExistsError('md_runs/5dfr_minimized already holds a minimisation: pass "
    "overwrite=True, or another out=')\""
)
EXPLAIN = "from kenkyu.assistant import notebook_tools\nprint(notebook_tools.explain_error())"


def test_a_failed_shell_command_just_run_is_explained_not_an_older_python_error(tmp_path):
    nb, _ = run_cells(["%load_ext kenkyu", "import math\nmath.sqrt(-1)", FAILING, EXPLAIN], tmp_path, allow_errors=True)
    assert "FileExistsError" in text_of(nb.cells[2])  # the command's traceback is in the cell's output
    text = text_of(nb.cells[3])
    first = text.splitlines()[0]
    assert first.startswith("Error: FileExistsError: md_runs/5dfr_minimized already holds a minimisation"), text
    assert "In [3] `!{sys.executable} -c" in first and "(a shell command, exit status 1)" in first
    assert first.endswith(" s ago")
    assert "math domain error" not in text


def test_an_older_python_error_is_named_with_its_cell_and_age_and_what_ran_since(tmp_path):
    nb, _ = run_cells(
        ["%load_ext kenkyu", "import math\nmath.sqrt(-1)", "x = 1", "!true", EXPLAIN], tmp_path, allow_errors=True
    )
    text = text_of(nb.cells[4])
    first = text.splitlines()[0]
    assert first.startswith("Error: ValueError: math domain error — In [2], ") and first.endswith(" s ago"), text
    assert "note: this is the last Python error, In [2]" in text
    assert "2 cell(s) ran since (In [3]–In [4]) without a Python error" in text


def test_a_failed_command_that_printed_no_traceback_is_named_with_its_last_words(tmp_path):
    nb, _ = run_cells(
        ["%load_ext kenkyu", "!kenkyu-no-such-command report.ipynb", "x = 2", EXPLAIN], tmp_path, allow_errors=True
    )
    text = text_of(nb.cells[3])
    first = text.splitlines()[0]
    assert first.startswith("Error: shell command failed: ") and "not found" in first, text
    assert "In [2] `!kenkyu-no-such-command report.ipynb` (a shell command, exit status 127)" in first
    assert "likely fix: the command is not on this kernel's PATH" in text
    assert "note: 1 cell(s) ran since it without an error" in text
