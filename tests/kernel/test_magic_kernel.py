"""%%ask in a real ipykernel: action cells, the record in the notebook, export and re-execution."""

import json

import nbformat
import pytest
from notebooks import TESTS, run_cells, text_of

from kenkyu.assistant.export import export_report
from kenkyu.assistant.session import RECORD_MIME

TURNS = [
    {"text": "I will square {n}.", "tool_calls": [{"name": "toolbox_square", "arguments": {"x": 3}}]},
    {
        "text": "And write it down.",
        "tool_calls": [{"name": "toolbox_write_note", "arguments": {"path": "note.txt", "text": "9"}}],
    },
    {"text": "3 squared is 9; the note is in note.txt."},
]


def record_of(cell):
    return next(o["data"][RECORD_MIME] for o in cell.outputs if RECORD_MIME in o.get("data", {}))


def test_ask_runs_tools_in_place_and_records_them(tmp_path, write_replay):
    replay = write_replay(TURNS)
    nb, path = run_cells(
        [
            "%load_ext kenkyu",
            f"%kenkyu provider replay {replay}\n%kenkyu tools add toolbox\n%kenkyu approval auto",
            "n = 3",
            "%%ask\nSquare {n} and note the result",
            "print(square, open('note.txt').read())",
        ],
        tmp_path,
    )
    record = record_of(nb.cells[3])
    assert record["prompt"] == "Square 3 and note the result" and record["variables"] == {"n": 3}
    code = [c for c in record["cells"] if c["cell_type"] == "code"]
    assert [c["metadata"]["kenkyu"]["tool"] for c in code] == ["toolbox_square", "toolbox_write_note"]
    assert code[0]["source"] == "import toolbox\n\nsquare = toolbox.square(x=3.0)\nsquare"
    assert "9.0" in text_of(nb.cells[3])  # shown live in the ask cell's output
    assert text_of(nb.cells[4]).strip() == "9.0 9"  # the results are ordinary kernel variables
    assert "%kenkyu cells" in json.dumps(nb.cells[3].outputs)


def test_report_drops_the_llm_and_reexecutes_with_the_same_numbers(tmp_path, write_replay, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(TESTS))  # the report's fresh kernel imports the test toolbox
    replay = write_replay(TURNS)
    _, path = run_cells(
        [
            "%load_ext kenkyu",
            f"%kenkyu provider replay {replay}\n%kenkyu tools add toolbox\n%kenkyu approval auto",
            "n = 3",
            "%%ask\nSquare {n} and note the result",
        ],
        tmp_path,
    )
    (tmp_path / "note.txt").unlink()
    paths = export_report(path, tmp_path / "report.ipynb")
    assert paths.executed and paths.html.exists() and "<html" in paths.html.read_text()[:500].lower()
    report = nbformat.read(paths.ipynb, as_version=4)
    nbformat.validate(report)
    sources = "\n".join(c.source for c in report.cells)
    assert "%%ask" not in sources and "%kenkyu" not in sources and "load_ext" not in sources
    tagged = [i for i, c in enumerate(report.cells) if "parameters" in c.metadata.get("tags", [])]
    setup = next(i for i, c in enumerate(report.cells) if c.source == "n = 3")
    first_step = next(i for i, c in enumerate(report.cells) if "kenkyu" in c.metadata)
    # papermill's injected values land after the setup cells and before the steps that use them
    assert len(tagged) == 1 and setup < tagged[0] < first_step and "n = 3" in report.cells[tagged[0]].source
    code = [c for c in report.cells if c.cell_type == "code" and "kenkyu" in c.metadata]
    assert [c.source.splitlines()[-2] for c in code] == [
        "square = toolbox.square(x=3.0)",
        "write_note = toolbox.write_note(path='note.txt', text='9')",
    ]
    assert text_of(code[0]).split() == ["squaring", "3.0", "9.0"]
    assert (tmp_path / "note.txt").read_text() == "9"  # the report really re-ran the tools
    provenance = report.metadata["kenkyu"]["provenance"]
    assert provenance["versions"]["kenkyu"] and provenance["models"]
    assert "## Provenance" in report.cells[-1].source
    assert report.metadata["kernelspec"]["name"] == "python3"


def test_tools_needing_approval_are_declined_where_the_front_end_cannot_ask(tmp_path, write_replay):
    replay = write_replay([TURNS[1], {"text": "Understood."}])
    nb, _ = run_cells(
        [
            "%load_ext kenkyu",
            f"%kenkyu provider replay {replay}\n%kenkyu tools add toolbox",
            "%%ask\nwrite a note",
        ],
        tmp_path,
    )
    out = text_of(nb.cells[2])
    assert "needs approval" in out and "%kenkyu approval auto" in out
    assert not (tmp_path / "note.txt").exists()


def test_errors_are_shown_not_raised(tmp_path):
    nb, _ = run_cells(
        [
            "%load_ext kenkyu",
            "%kenkyu provider openai",
            "%ask anything",
            "print('kernel alive')",
        ],
        tmp_path,
        env={"OPENAI_API_KEY": ""},
    )
    out = text_of(nb.cells[2])
    assert "OPENAI_API_KEY is not set" in out and "What to do" in json.dumps(nb.cells[2].outputs)
    assert text_of(nb.cells[3]).strip() == "kernel alive"


def test_magic_works_in_plain_ipython(tmp_path, write_replay, monkeypatch):
    """Terminal IPython: no rich display, the steps print as text."""
    from IPython.core.interactiveshell import InteractiveShell

    monkeypatch.chdir(tmp_path)
    replay = write_replay(TURNS[:1] + [{"text": "Nine."}])
    shell = InteractiveShell.instance()
    try:
        shell.run_line_magic("load_ext", "kenkyu")
        shell.run_line_magic("kenkyu", f"provider replay {replay}")
        shell.run_line_magic("kenkyu", "tools add toolbox")
        shell.run_cell("%ask square 3", store_history=True)
        assert shell.user_ns["square"] == 9.0
        session = shell._kenkyu_session
        assert session.records[-1]["cells"][1]["source"].endswith("square")
        shell.run_line_magic("kenkyu", "cells")  # offers the steps as the next cell
        assert shell.rl_next_input.startswith(
            "# I will square {n}.\n\nimport toolbox\n\nsquare = toolbox.square(x=3.0)"
        )
    finally:
        InteractiveShell.clear_instance()


def test_conversation_comes_back_when_the_notebook_is_reopened(tmp_path, write_replay):
    replay = write_replay(TURNS)
    _, path = run_cells(
        [
            "%load_ext kenkyu",
            f"%kenkyu provider replay {replay}\n%kenkyu tools add toolbox\n%kenkyu approval auto",
            "n = 3",
            "%%ask\nSquare {n} and note the result",
        ],
        tmp_path,
        name="first.ipynb",
    )
    # A new kernel for the same notebook (Jupyter sets JPY_SESSION_NAME to its path).
    nb, _ = run_cells(
        ["%load_ext kenkyu", "%kenkyu history", "%kenkyu"],
        tmp_path,
        name="second.ipynb",
        env={"JPY_SESSION_NAME": str(path)},
    )
    history = text_of(nb.cells[1])
    assert "[user] Square 3 and note the result" in history
    assert "toolbox_square({'x': 3})" in history and "[tool toolbox_square] 9.0" in history
    assert "6 messages, 1 asks" in text_of(nb.cells[2])


NOTEBOOK_TOOL = '''import kenkyu

@kenkyu.tool()
def hydrophobic_fraction(sequence: str) -> float:
    """Fraction of hydrophobic residues (AVILMFWC) in a protein sequence.

    Parameters
    ----------
    sequence
        One-letter amino-acid sequence.
    """
    return sum(c in "AVILMFWC" for c in sequence) / len(sequence)'''


def test_tools_defined_in_the_notebook_are_callable_and_reported(tmp_path, write_replay):
    replay = write_replay(
        [
            {"tool_calls": [{"name": "hydrophobic_fraction", "arguments": {"sequence": "MKVLAW"}}]},
            {"text": "Five of six residues are hydrophobic."},
        ]
    )
    nb, path = run_cells(
        [
            "%load_ext kenkyu",
            f"%kenkyu provider replay {replay}",
            NOTEBOOK_TOOL,
            "%kenkyu tools",
            "%ask how hydrophobic is MKVLAW?",
        ],
        tmp_path,
    )
    assert "`hydrophobic_fraction`" in text_of(nb.cells[3])
    record = next(o["data"][RECORD_MIME] for o in nb.cells[4].outputs if RECORD_MIME in o.get("data", {}))
    code = [c for c in record["cells"] if c["cell_type"] == "code"][0]
    assert (
        code["source"]
        == "hydrophobic_fraction_result = hydrophobic_fraction(sequence='MKVLAW')\nhydrophobic_fraction_result"
    )
    assert "0.833" in text_of(nb.cells[4])  # M, V, L, A, W of six; the trailing "?" did not become %pinfo
    report = nbformat.read(export_report(path, tmp_path / "report.ipynb").ipynb, as_version=4)
    assert any(c.source == code["source"] and "0.833" in text_of(c) for c in report.cells)


def test_report_leaves_out_failed_steps_and_keeps_its_own_folder(tmp_path, write_replay, monkeypatch):
    from kenkyu.assistant.export import ReportExistsError, ReportInputError

    monkeypatch.setenv("PYTHONPATH", str(TESTS))
    replay = write_replay(
        [
            {"tool_calls": [{"name": "toolbox_explode", "arguments": {"reason": "bad input file"}}]},
            {"text": "Retrying differently.", "tool_calls": [{"name": "toolbox_square", "arguments": {"x": 5}}]},
            {"text": "25."},
        ]
    )
    nb, path = run_cells(
        [
            "%load_ext kenkyu",
            f"%kenkyu provider replay {replay}\n%kenkyu tools add toolbox",
            "%ask square 5",
        ],
        tmp_path,
        name="session.ipynb",
    )
    shown = text_of(nb.cells[2])
    assert "RuntimeError: bad input file" in shown and "Traceback" not in shown  # one line, not 40
    paths = export_report(path)
    assert paths.ipynb == tmp_path / "session_report" / "session.report.ipynb" and paths.executed
    report = nbformat.read(paths.ipynb, as_version=4)
    sources = [c.source for c in report.cells]
    assert not any("toolbox.explode" in s for s in sources)
    assert any(
        "A step that failed was left out:* `toolbox_explode` — RuntimeError: bad input file" in s for s in sources
    )
    assert any(s.endswith("square = toolbox.square(x=5.0)\nsquare") for s in sources)
    with pytest.raises(ReportExistsError, match="already holds a report"):
        export_report(path)
    assert export_report(path, overwrite=True).executed
    (tmp_path / "not_a_notebook.ipynb").write_text("[1, 2]")
    with pytest.raises(ReportInputError, match="not a Jupyter notebook"):
        export_report(tmp_path / "not_a_notebook.ipynb")


def test_undefined_variables_and_bad_settings_are_named(tmp_path):
    nb, _ = run_cells(
        [
            "%load_ext kenkyu",
            "%ask RMSD of {run_dir}",
            "%kenkyu budget --steps -3",
            "%kenkyu provider replay missing.json",
            "%kenkyu export missing.ipynb",
            "%kenkyu history",
        ],
        tmp_path,
    )
    assert "no kernel variable named 'run_dir'" in text_of(nb.cells[1])
    assert "budgets must be positive: --steps -3" in text_of(nb.cells[2])
    assert "no replay file at missing.json" in text_of(nb.cells[3])
    assert "No notebook at missing.ipynb" in text_of(nb.cells[4])
    assert "(no conversation yet)" in text_of(nb.cells[5])
