"""The export and its approval card read one tool registry (issue 13): both used to build their own from every tool
module, on every export and every price shown. Real registry, real notebook, real export (execute=False); the
registry's builder is counted, not replaced."""

from __future__ import annotations

import nbformat
import pytest
from kenkyu.assistant import report_tools
from kenkyu.assistant.export import export_report
from kenkyu.assistant.notebook_tools import export_report as export_tool
from kenkyu.core.registry import ToolRegistry
from kenkyu.core.science import science_of

MD_CELL = "import kenkyu.tools.md\nrun = kenkyu.tools.md.run(structure='villin.pdb', ps=1.0, solvent='implicit')\nrun"
RMSD_CELL = "import kenkyu.tools.analysis\nrmsd = kenkyu.tools.analysis.rmsd(trajectory='md_runs/villin_implicit')"


@pytest.fixture
def built(monkeypatch):
    """How many registries are built from modules from here on (the cached one is dropped first)."""
    report_tools.report_registry.cache_clear()
    calls = []
    real = ToolRegistry.from_modules.__func__

    def counted(cls, modules):
        calls.append(tuple(modules))
        return real(cls, modules)

    monkeypatch.setattr(ToolRegistry, "from_modules", classmethod(counted))
    yield calls
    report_tools.report_registry.cache_clear()


def _notebook(tmp_path):
    cells = [
        nbformat.v4.new_code_cell(MD_CELL, metadata={"kenkyu": {"agent": True, "tool": "md_run", "variable": "run"}}),
        nbformat.v4.new_code_cell(
            RMSD_CELL, metadata={"kenkyu": {"agent": True, "tool": "analysis_rmsd", "variable": "rmsd"}}
        ),
    ]
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "study.ipynb"
    nbformat.write(notebook, path)
    return path


def test_pricing_and_exporting_build_the_registry_once(tmp_path, monkeypatch, built):
    monkeypatch.chdir(tmp_path)
    path = _notebook(tmp_path)
    for _ in range(2):  # the card is priced again on each request; the export follows
        cost = science_of(export_tool).estimate({"notebook": str(path)}, measure=False)
    export_report(path, execute=False, html=False)
    export_report(path, "again", execute=False, html=False)
    assert len(built) == 1, built
    # What each part reads from it is what it read before: the simulation is priced, the export itself is not
    # a step the report re-runs, and the notebook's own tools count among those that write nothing.
    assert "md_run ~" in cost.basis and "1 step(s) that compute or write files" in cost.basis
    names = {t.name for t in report_tools.report_registry()}
    assert {"md_run", "analysis_rmsd", "notebook_tools_explain_error", "notebook_tools_export_report"} <= names
