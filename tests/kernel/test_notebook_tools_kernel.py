"""The notebook tools in a real kernel: the last error explained, and the notebook exported as a report."""

from __future__ import annotations

from notebooks import TESTS, run_cells, text_of

from kenkyu.assistant import notebook_tools
from kenkyu.core.science import science_of

TURNS = [
    {"text": "I will square {n}.", "tool_calls": [{"name": "toolbox_square", "arguments": {"x": 3}}]},
    {"text": "3 squared is 9."},
]


def test_the_last_error_of_the_kernel_is_explained_by_hand(tmp_path):
    nb, _ = run_cells(
        [
            "import pandas as pd\nt = pd.DataFrame({'rmsd_nm': [0.1, 0.2]})",
            "x = 1\nt['rmsd']",
            "from kenkyu.assistant import notebook_tools\nprint(notebook_tools.explain_error())",
        ],
        tmp_path,
        allow_errors=True,
    )
    text = text_of(nb.cells[2])
    assert "Error: KeyError: 'rmsd'" in text
    assert "failing line (line 2 of the cell): t['rmsd']" in text
    assert "did you mean 'rmsd_nm'" in text


def test_export_report_tool_writes_a_report_that_reexecutes(tmp_path, write_replay, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(TESTS))  # the report's fresh kernel imports the test toolbox
    replay = write_replay(TURNS)
    _, path = run_cells(
        [
            "%load_ext kenkyu",
            f"%kenkyu provider replay {replay}\n%kenkyu tools add toolbox\n%kenkyu approval auto",
            "n = 3",
            "%%ask\nSquare {n}",
        ],
        tmp_path,
        name="session.ipynb",
    )
    monkeypatch.setenv("JPY_SESSION_NAME", str(path))  # "the current notebook", as Jupyter tells the kernel
    paths = notebook_tools.export_report(html=False)
    assert paths.ipynb == tmp_path / "session_report" / "session.report.ipynb" and paths.executed
    assert "toolbox.square(x=3.0)" in paths.ipynb.read_text()
    assert [s for _, s, _ in science_of(notebook_tools.export_report).check(paths)] == ["pass"]
