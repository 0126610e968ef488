"""A simulation's action cell is written to re-run (newcomer r7 O10): resume=True when the folder it writes
holds nothing yet; a folder that exists keeps the call as asked, so the existing run is not taken silently."""

from kenkyu.assistant.cells import action_code
from kenkyu.core.registry import ToolRegistry

TOOLS = ToolRegistry.from_modules(["kenkyu.tools.md"])


def test_a_new_run_folder_gets_resume_and_an_existing_one_does_not(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cg, run = TOOLS["md_coarse_grained"], TOOLS["md_run"]
    arguments = {"structure": "villin.pdb", "ps": 20.0, "seed": 3}
    assert "seed=3,\n    resume=True,\n)" in action_code(cg, arguments, "cg_run")
    assert "resume=True" in action_code(run, {"structure": "villin.pdb", "ps": 1.0}, "run")

    (tmp_path / "md_runs" / "villin_cg_300K_seed3").mkdir(parents=True)
    (tmp_path / "md_runs" / "villin_cg_300K_seed3" / "cg.json").write_text("{}")
    assert "resume" not in action_code(cg, arguments, "cg_run")  # refused as it stands: the approval says so
    # The caller's own decision stays: overwrite is never joined by resume.
    assert "resume" not in action_code(run, {"structure": "villin.pdb", "ps": 1.0, "overwrite": True}, "run")


def test_tools_that_cannot_resume_are_written_as_called():
    code = action_code(TOOLS["md_extend"], {"run": "md_runs/a", "ps": 2.0}, "extended_run")
    assert "resume" not in code


def test_the_folder_is_looked_for_where_the_kernel_works(tmp_path):
    # The MCP server's own folder may not be the kernel's: the run folder is judged where the cell will run.
    arguments = {"structure": "villin.pdb", "ps": 1.0, "out": "md_runs/a"}
    assert "resume=True" in action_code(TOOLS["md_run"], arguments, "run", here=tmp_path)
    (tmp_path / "md_runs" / "a").mkdir(parents=True)
    (tmp_path / "md_runs" / "a" / "run.json").write_text("{}")
    assert "resume" not in action_code(TOOLS["md_run"], arguments, "run", here=tmp_path)
