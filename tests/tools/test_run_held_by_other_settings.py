"""A run refused because its folder holds a run made with OTHER settings (newcomer r8 O6, O1).

The newcomer ran hp35 at 300 K, then asked for 360 K: the default folder was the 300 K run's, the call was
refused, and the card offered Resume (fails: the settings differ) and Overwrite and rerun (deletes the finished
300 K run). Now a 360 K run gets its own default folder, and a call pointed at the 300 K run's folder is refused
with what that folder holds and a new folder to run in — the only way on the card offers.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from kenkyu.assistant import events as ev
from kenkyu.assistant.agent import Agent
from kenkyu.assistant.notebook_tools import explain_error
from kenkyu.assistant.preflight import collisions
from kenkyu.assistant.runner import InPlaceRunner
from kenkyu.core.config import ProviderConfig
from kenkyu.core.providers.replay import ReplayProvider
from kenkyu.core.registry import ToolRegistry
from kenkyu.tools import md

from md_fixtures import FAST, villin_pdb  # noqa: F401 (fixture)

pytestmark = pytest.mark.filterwarnings("ignore:Unlikely unit cell vectors")


def test_default_folder_names_a_temperature_other_than_300_k():
    assert md.default_run_directory("data/hp35.pdb", "implicit") == "md_runs/hp35_implicit"
    assert md.default_run_directory("data/hp35.pdb", "implicit", 300) == "md_runs/hp35_implicit"
    assert md.default_run_directory("data/hp35.pdb", "implicit", 360.0) == "md_runs/hp35_implicit_360K"
    tool = ToolRegistry.from_modules(["kenkyu.tools.md"])["md_run"]
    planned = tool.science.output_folder({"structure": "hp35.pdb", "solvent": "implicit", "temperature_k": 360})
    assert planned == "md_runs/hp35_implicit_360K"


def test_a_360_k_call_into_the_300_k_runs_folder_offers_only_a_new_folder(villin_pdb, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.chdir(tmp_path)
    first = md.run(villin_pdb, **FAST)  # 300 K, default folder
    assert Path(first.directory).resolve() == (tmp_path / "md_runs/villin_1vii_implicit").resolve()
    before = sorted(p.name for p in Path("md_runs/villin_1vii_implicit").iterdir())

    # The approval card, before anything runs, says what the folder holds instead of offering Resume/Overwrite.
    tool = ToolRegistry.from_modules(["kenkyu.tools.md"])["md_run"]
    asked = {"structure": str(villin_pdb), "out": "md_runs/villin_1vii_implicit", "ps": 0.1, "solvent": "implicit"}
    (warning,) = collisions(tool, {**asked, "temperature_k": 360})
    assert warning.startswith(
        "md_runs/villin_1vii_implicit holds a run made with other settings (temperature_k 300 there, 360 asked)"
    )
    assert "resume=True" not in warning and "overwrite=True" not in warning
    (same,) = collisions(tool, asked)
    # the same settings: resuming is the right offer
    assert "to continue that run deny, and ask again with resume=True" in same

    with pytest.raises(md.RunExistsError) as refused:
        md.run(villin_pdb, out="md_runs/villin_1vii_implicit", **{**FAST, "temperature_k": 360.0})
    message = str(refused.value)
    assert "holds a 300 K, 0.1 ps implicit-solvent run (finished)" in message
    assert "temperature_k: run has 300.0, call has 360.0" in message
    assert "resume=True" not in message and "overwrite=True" not in message
    assert "out='md_runs/villin_1vii_implicit_360K'" in message
    assert refused.value.new_folder == "md_runs/villin_1vii_implicit_360K"  # what the card and the CLI read
    assert not Path("md_runs/villin_1vii_implicit_360K").exists()
    # "why did that fail?" gives the same way on, from the kernel's last error (IPython keeps it there)
    for name in ("last_value", "last_exc"):
        monkeypatch.setattr(sys, name, refused.value, raising=False)
    fix = "call again with out='md_runs/villin_1vii_implicit_360K' (a new folder); that run is kept"
    assert explain_error().fix == fix
    assert explain_error(f"RunExistsError: {message}").fix == fix  # its text, read from the cell's output
    for name in ("last_value", "last_exc"):
        monkeypatch.setattr(sys, name, None)
    pasted = explain_error(f"RunExistsError: {message}").fix  # the text alone: still never resume= or overwrite=
    assert pasted.startswith("call again with the new out= folder the message names; that run is kept")

    # The same call through the agent: the card's code is the call in that new folder, nothing else.
    arguments = {
        "structure": str(villin_pdb),
        "out": "md_runs/villin_1vii_implicit",
        **{k: v for k, v in FAST.items() if k != "progress"},
        "temperature_k": 360.0,
    }
    call = {"tool_calls": [{"name": "md_run", "arguments": arguments}]}
    namespace: dict = {}
    agent = Agent(
        ReplayProvider(ProviderConfig(provider="replay"), turns=[call, {"text": "refused"}]),
        ToolRegistry.from_modules(["kenkyu.tools.md"]),
        InPlaceRunner(namespace=namespace),
        approval_mode="auto",
    )
    (result,) = [e for e in agent.run("the same at 360 K") if isinstance(e, ev.ToolResult)]
    assert not result.ok and "did you mean" not in result.summary
    # resume=True in a folder not made yet only makes the cell re-runnable; nothing deletes the 300 K run.
    assert "overwrite" not in result.resume
    assert "out='md_runs/villin_1vii_implicit_360K'" in result.resume

    exec(result.resume, namespace)  # the card's button: a 360 K run beside the 300 K one
    hot = json.loads(Path("md_runs/villin_1vii_implicit_360K/run.json").read_text())
    assert hot["status"] == "finished" and hot["parameters"]["temperature_k"] == 360.0
    kept = json.loads(Path("md_runs/villin_1vii_implicit/run.json").read_text())
    assert kept["status"] == "finished" and kept["parameters"]["temperature_k"] == 300.0
    assert sorted(p.name for p in Path("md_runs/villin_1vii_implicit").iterdir()) == before


def test_the_same_settings_still_offer_resume(villin_pdb, tmp_path):  # noqa: F811
    out = tmp_path / "run"
    md.run(villin_pdb, out=out, **FAST)
    with pytest.raises(md.RunExistsError, match=r"Pass resume=True to continue it, overwrite=True"):
        md.run(villin_pdb, out=out, **FAST)


def test_the_command_line_names_the_new_folder_not_resume_or_overwrite(villin_pdb, tmp_path, capsys):  # noqa: F811
    from kenkyu.tools.md import cli

    out = tmp_path / "run"
    argv = ["md", "run", str(villin_pdb), "--ps", "0.02", "--out", str(out), "--solvent", "vacuum", "--nvt-ps", "0"]
    argv += ["--report-interval-ps", "0.01", "--minimize-max-iterations", "10", "--platform", "CPU", "--no-progress"]
    assert cli.main(argv) == 0
    capsys.readouterr()
    assert cli.main([*argv, "--temperature-k", "360"]) == 2
    err = capsys.readouterr().err
    assert f"out='{out}_360K'" in err and "give that new folder with --out" in err and "--resume" not in err
