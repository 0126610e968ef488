"""Which files a report's cells name are copied into its folder, and which never are."""

from __future__ import annotations

import pytest

from kenkyu.assistant.report_inputs import ReportInputConflict, copy_inputs, named_paths


def test_named_paths_reads_literals_and_local_imports_not_magics():
    source = "%matplotlib inline\nimport helpers.sub\nfrom units import nm\nt = load('data/x.pdb', sel='protein')"
    assert named_paths(source) == ["data/x.pdb", "protein", "helpers.py", "units.py"]
    assert named_paths("this is not python (") == []
    assert named_paths("open('/abs/path.pdb')") == []


def test_copy_inputs_copies_named_files_only(tmp_path):
    notebook, report = tmp_path / "F", tmp_path / "F" / "F_report"
    (notebook / "data").mkdir(parents=True)
    report.mkdir()
    (notebook / "data" / "x.pdb").write_text("ATOM\n")
    (notebook / "md_runs" / "run").mkdir(parents=True)  # a folder: made by a step the report re-runs
    (notebook / ".env").write_text("OPENAI_API_KEY=sk-abc\n")
    (notebook / "api_key.txt").write_text("sk-abc\n")
    (tmp_path / "outside.pdb").write_text("ATOM\n")
    cells = [
        "load('data/x.pdb')",
        "load('md_runs/run')",
        "dotenv('.env'); read('api_key.txt')",
        "load('../outside.pdb')",
    ]

    assert copy_inputs(cells, notebook, report) == ("data/x.pdb",)
    assert (report / "data" / "x.pdb").read_text() == "ATOM\n"
    assert not (report / ".env").exists() and not (report / "api_key.txt").exists()
    assert not (report / "md_runs").exists()
    assert copy_inputs(cells, notebook, report) == ()  # already there, the same file
    assert copy_inputs(cells, notebook, notebook) == ()  # a report beside the notebook reads the originals

    (report / "data" / "x.pdb").write_text("something else\n")
    with pytest.raises(ReportInputConflict, match=r"'data/x.pdb'.*differs"):
        copy_inputs(cells, notebook, report)
