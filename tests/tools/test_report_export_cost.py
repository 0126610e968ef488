"""The export's approval card prices the simulations the report will run again (newcomer r11: a DHFR notebook
whose 1 ps run had taken minutes was shown "about 60 s")."""

from __future__ import annotations

import nbformat
from kenkyu.assistant.notebook_tools import export_report
from kenkyu.core.science import science_of
from kenkyu.tools import md

MD_CELL = (
    "# using dhfr.pdb as structure\nimport kenkyu.tools.md\n\n"
    "run = kenkyu.tools.md.run(\n    structure={structure!r},\n    ps=1.0,\n    solvent='implicit',\n)\nrun"
)


def _agent_cell(source: str, tool: str, error: bool = False):
    cell = nbformat.v4.new_code_cell(source, metadata={"kenkyu": {"agent": True, "tool": tool}})
    if error:
        cell.outputs = [nbformat.v4.new_output("error", ename="RunInterrupted", evalue="stopped", traceback=[])]
    return cell


def _notebook(tmp_path, cells):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = cells
    path = tmp_path / "study.ipynb"
    nbformat.write(notebook, path)
    return path


def _export_estimate(path):
    return science_of(export_report).estimate({"notebook": str(path)}, measure=False)


def test_a_simulation_in_the_notebook_is_priced_by_its_own_estimate(tmp_path):
    structure = str(md.example_structure("dhfr"))
    path = _notebook(tmp_path, [_agent_cell(MD_CELL.format(structure=structure), "md_run")])
    run_cost = science_of(md.run).estimate({"structure": structure, "ps": 1.0, "solvent": "implicit"}, measure=False)
    cost = _export_estimate(path)
    assert cost.seconds == 60.0 + run_cost.seconds
    assert "md_run ~" in cost.basis and "1 step(s) that compute or write files" in cost.basis


def test_a_failed_step_is_left_out_as_the_report_leaves_it_out(tmp_path):
    structure = str(md.example_structure("dhfr"))
    path = _notebook(tmp_path, [_agent_cell(MD_CELL.format(structure=structure), "md_run", error=True)])
    assert _export_estimate(path).seconds == 60.0


def test_analyses_only_or_no_notebook_keep_the_typical_minute(tmp_path):
    analysis = _agent_cell(
        "import kenkyu.tools.analysis\nr = kenkyu.tools.analysis.rmsd(trajectory=run)", "analysis_rmsd"
    )
    assert _export_estimate(_notebook(tmp_path, [analysis])).seconds == 60.0
    assert _export_estimate(tmp_path / "missing.ipynb").seconds == 60.0
