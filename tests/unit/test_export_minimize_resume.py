"""A report's minimisation step is written with resume=True, as its simulations are (newcomer r12: a session saved
with `minimize(structure='5dfr_minimized.pdb')` exported a report whose second run in its folder stopped there with
RunExistsError)."""

import ast

import nbformat.v4 as v4

from kenkyu.assistant.export import _rerunnable_runs


def test_a_reports_minimisation_reuses_its_finished_minimisation_when_run_again():
    sources = [
        "minimized = kenkyu.tools.md.minimize(structure='5dfr_minimized.pdb')\nminimized",
        "minimized = kenkyu.tools.md.minimize(structure='x.pdb', overwrite=True)",  # the step decided itself
    ]
    cells = [v4.new_code_cell(s, metadata={"kenkyu": {}}) for s in sources]
    _rerunnable_runs(cells)
    ast.parse(cells[0].source)
    assert "md.minimize(structure='5dfr_minimized.pdb', resume=True)" in cells[0].source
    assert cells[0].source.startswith("# resume=True: re-running this report reuses its finished minimisation")
    assert cells[1].source == sources[1]


def test_the_sessions_minimisation_cell_is_written_to_rerun(tmp_path):
    """The agent's cell itself: a new minimisation folder gets resume=True (Run All of the session notebook reuses
    it); a folder that holds one already keeps the call as asked, so its RunExistsError names the choices."""
    from kenkyu.assistant.cells import action_code
    from kenkyu.core.registry import ToolRegistry

    tool = ToolRegistry.from_modules(["kenkyu.tools.md"])["md_minimize"]
    code = action_code(tool, {"structure": "villin.pdb"}, "minimized", here=tmp_path)
    assert "md.minimize(structure='villin.pdb', resume=True)" in code
    (tmp_path / "md_runs" / "villin_minimized").mkdir(parents=True)
    (tmp_path / "md_runs" / "villin_minimized" / "minimization.json").write_text("{}")
    assert "resume" not in action_code(tool, {"structure": "villin.pdb"}, "minimized", here=tmp_path)
