"""A failed tool's line carries a fix a sidebar user can act on (issue 18 bar): a mistyped path gets the
real names from disk, closest first; an error that already says its fix is left as it is."""

from __future__ import annotations

from kenkyu.assistant import events as ev
from kenkyu.assistant.agent import Agent
from kenkyu.assistant.runner import InPlaceRunner
from kenkyu.assistant.summaries import with_fix
from kenkyu.core.config import ProviderConfig
from kenkyu.core.providers.replay import ReplayProvider
from kenkyu.core.registry import ToolRegistry


def test_a_mistyped_run_folder_gets_the_closest_real_name_first(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "md_runs" / "villin_1vii_implicit").mkdir(parents=True)
    (tmp_path / "villin_1vii.pdb").write_text("END\n")
    fixed = with_fix("ERROR: FileNotFoundError: trajectory 'md_runs/vilin_1vii_implicit' does not exist")
    error, fix = fixed.splitlines()
    assert error == "ERROR: FileNotFoundError: trajectory 'md_runs/vilin_1vii_implicit' does not exist"
    assert fix.startswith("fix: did you mean md_runs/villin_1vii_implicit? ")


def test_an_error_that_says_its_own_fix_and_a_result_are_left_alone():
    exists = (
        "ERROR: RunExistsError: md_runs/x already holds a run (finished). Pass resume=True to continue it, "
        "overwrite=True to delete it and start over, or a new out=."
    )
    assert with_fix(exists) == exists
    assert with_fix("RMSD of 144 atoms\n10 frames") == "RMSD of 144 atoms\n10 frames"


def test_the_failed_card_and_the_model_read_the_fix(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "md_runs" / "villin_1vii_implicit").mkdir(parents=True)
    turns = [
        {"tool_calls": [{"name": "analysis_rmsd", "arguments": {"trajectory": "md_runs/vilin_1vii_implicit"}}]},
        {"text": "It failed."},
    ]
    agent = Agent(
        ReplayProvider(ProviderConfig(provider="replay"), turns=turns),
        ToolRegistry.from_modules(["kenkyu.tools.analysis"]),
        InPlaceRunner(namespace={}),
        approval_mode="auto",
    )
    (result,) = [e for e in agent.run("RMSD of md_runs/vilin_1vii_implicit") if isinstance(e, ev.ToolResult)]
    assert not result.ok
    assert result.summary.splitlines()[1].startswith("fix: did you mean md_runs/villin_1vii_implicit?")
    assert [m.content for m in agent.history if m.role == "tool"] == [result.summary]
