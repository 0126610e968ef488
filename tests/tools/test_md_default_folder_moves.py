"""A run asked for without out= whose default folder holds a run made with other settings goes to a new folder.

Newcomer r10 T5: "now a longer one: 40 ps of villin, implicit solvent, seed 7" after a 2 ps run. The default
folder held the 2 ps run, the approval card warned the call would be refused, the newcomer approved, and got
RunExistsError. A scientist expects the new run in a new folder: md.run chooses one, the approval card names it
before anything runs, and the run says so. An explicit out= is still refused; the same settings still reuse.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kenkyu.assistant.preflight import collisions
from kenkyu.core.registry import ToolRegistry
from kenkyu.tools import md

from md_fixtures import FAST, villin_pdb  # noqa: F401 (fixture)

pytestmark = pytest.mark.filterwarnings("ignore:Unlikely unit cell vectors")

DEFAULT = "md_runs/villin_1vii_implicit"


def test_a_longer_run_without_out_goes_to_a_new_folder_named_on_the_card(villin_pdb, tmp_path, monkeypatch, capsys):  # noqa: F811
    monkeypatch.chdir(tmp_path)
    first = md.run(villin_pdb, **{**FAST, "seed": 7})
    assert Path(first.directory) == Path(DEFAULT)
    before = {p.name: p.stat().st_mtime_ns for p in Path(DEFAULT).iterdir()}

    tool = ToolRegistry.from_modules(["kenkyu.tools.md"])["md_run"]
    options = {**FAST, "ps": 0.15, "seed": 7}
    longer = {"structure": str(villin_pdb), **{k: v for k, v in options.items() if k != "progress"}}
    # Before it runs: the planner's folder and the approval card name the new folder, and nothing collides.
    assert tool.science.output_folder(longer) == f"{DEFAULT}_0.15ps"
    assert collisions(tool, longer) == []
    where = tool.science.cost(longer, measure=False).steps[0]
    assert where.startswith(f"write the run into {DEFAULT}_0.15ps ({DEFAULT} holds a 300 K, 0.1 ps implicit-solvent")
    assert "ps: run has 0.1, call has 0.15" in where

    capsys.readouterr()
    second = md.run(villin_pdb, **options)
    said = capsys.readouterr().out
    assert Path(second.directory) == Path(f"{DEFAULT}_0.15ps") and second.status == "finished"
    assert f"{DEFAULT} holds a 300 K, 0.1 ps implicit-solvent run (finished)" in said
    assert f"this run goes to {DEFAULT}_0.15ps" in said
    assert f"this run goes to {DEFAULT}_0.15ps" in second.summary()  # the result says it too (from run.json)
    assert {p.name: p.stat().st_mtime_ns for p in Path(DEFAULT).iterdir()} == before  # the first run untouched

    # The same call again (a report re-run carries resume=True) finds its own run there, and reuses it.
    assert tool.science.output_folder(longer) == f"{DEFAULT}_0.15ps"
    again = md.run(villin_pdb, **options, resume=True)
    assert Path(again.directory) == Path(f"{DEFAULT}_0.15ps")
    assert json.loads(Path(DEFAULT, "run.json").read_text())["parameters"]["ps"] == 0.1

    # Another seed gets a folder of its own, named for it; the first call's folder is still the first run's.
    reseeded = {**longer, "seed": 8}
    assert tool.science.output_folder(reseeded) == f"{DEFAULT}_0.15ps_seed8"
    assert tool.science.output_folder({**longer, "ps": 0.1}) == DEFAULT
    assert tool.science.cost({**longer, "ps": 0.1}, measure=False).steps[0] == f"write the run into {DEFAULT}"

    # An explicit out= is the caller's choice: still refused, naming a free folder, nothing run.
    with pytest.raises(md.RunExistsError) as refused:
        md.run(villin_pdb, out=DEFAULT, **{**options, "ps": 0.2})
    assert refused.value.new_folder == f"{DEFAULT}_0.2ps" and not Path(f"{DEFAULT}_0.2ps").exists()


def test_the_same_settings_are_not_moved(villin_pdb, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.chdir(tmp_path)
    md.run(villin_pdb, **{**FAST, "seed": 3})
    tool = ToolRegistry.from_modules(["kenkyu.tools.md"])["md_run"]
    same = {"structure": str(villin_pdb), **{k: v for k, v in FAST.items() if k not in ("progress", "seed")}}
    assert tool.science.output_folder(same) == DEFAULT  # a seed left to chance matches the run's own
    with pytest.raises(md.RunExistsError, match=r"Pass resume=True to continue it"):
        md.run(villin_pdb, **{**FAST, "seed": 3})
    assert Path(md.run(villin_pdb, **{**FAST, "seed": 3}, resume=True).directory) == Path(DEFAULT)
    assert sorted(p.name for p in Path("md_runs").iterdir()) == ["villin_1vii_implicit"]
