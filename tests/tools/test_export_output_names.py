"""export_report(output=...) as a scientist writes it (issue 13): ``output='friday_update'`` wrote a file named
``friday_update`` (no .ipynb: Jupyter does not open it as a notebook) and ``friday_update.html``. A name without
the suffix is the report's name, .ipynb added; an existing folder, or a name ending in '/', is a folder to write
into; the reply says where the report went. Real nbformat; execute=False (the re-run is tested elsewhere)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import nbformat.v4 as v4
import pytest
from kenkyu.assistant import notebook_tools
from kenkyu.assistant.export import export_report
from kenkyu.core.registry import ToolRegistry


@pytest.fixture
def notebook(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    nb = v4.new_notebook(cells=[v4.new_code_cell("x = 1 + 1\nprint(x)")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "analysis.ipynb")
    return Path("analysis.ipynb")


def test_a_name_without_suffix_is_the_reports_name(notebook):
    paths = export_report(notebook, "friday_update", execute=False)
    assert paths.ipynb == Path("friday_update.ipynb") and paths.html == Path("friday_update.html")
    assert not Path("friday_update").exists()
    nbformat.validate(nbformat.read("friday_update.ipynb", as_version=4))
    assert paths.summary().startswith(
        "Wrote the report friday_update.ipynb and its HTML copy friday_update.html "
        "('friday_update' taken as the report's name: .ipynb added)."
    )


def test_a_dotted_name_keeps_its_dots(notebook):
    paths = export_report(notebook, "update_v1.2", execute=False)
    assert paths.ipynb == Path("update_v1.2.ipynb") and paths.html == Path("update_v1.2.html")


def test_a_folder_is_written_into(notebook):
    Path("reports").mkdir()
    paths = export_report(notebook, "reports", execute=False)
    assert paths.ipynb == Path("reports/analysis.report.ipynb") and paths.ipynb.is_file()
    assert "('reports' is a folder: the report was written into it)" in paths.summary()
    # A name ending in '/' is a folder even before it exists.
    paths = export_report(notebook, "shared/", execute=False)
    assert paths.ipynb == Path("shared/analysis.report.ipynb") and paths.ipynb.is_file()


def test_a_notebook_name_is_kept_as_given(notebook):
    paths = export_report(notebook, "out/weekly.ipynb", execute=False)
    assert paths.ipynb == Path("out/weekly.ipynb") and paths.html == Path("out/weekly.html")
    assert "taken as" not in paths.summary() and "is a folder" not in paths.summary()


def test_the_agents_call_and_its_approval_card_agree_on_where(notebook, monkeypatch):
    monkeypatch.setenv("JPY_SESSION_NAME", str(notebook))
    tool = ToolRegistry.from_modules(["kenkyu.assistant.notebook_tools"])["notebook_tools_export_report"]
    Path("reports").mkdir()
    assert tool.science.output_folder({"output": "reports"}) == "reports"  # not the folder above it
    assert tool.science.output_folder({"output": "friday_update"}) == "."
    paths = notebook_tools.export_report(output="friday_update", execute=False)
    assert paths.ipynb == Path("friday_update.ipynb") and paths.ipynb.is_file()
