"""md.extend's approval card prices an extension of a run named by a kernel variable (h3 r11: "unknown — no
measurement yet" for `extend(run=run)`, though the run's run.json had its own speed). A real short OpenMM run, a
real in-process IPython shell holding it as `run`."""

from __future__ import annotations

import json
import math

import pytest
from IPython.core.interactiveshell import InteractiveShell
from kenkyu.core.science import science_of
from kenkyu.tools import md

from md_fixtures import FAST, villin_pdb  # noqa: F401 (fixture)

pytestmark = pytest.mark.filterwarnings("ignore:Unlikely unit cell vectors")


@pytest.fixture
def shell():
    yield InteractiveShell.instance()
    InteractiveShell.clear_instance()


def test_the_card_prices_the_run_a_variable_holds(villin_pdb, tmp_path, shell):  # noqa: F811
    run = md.run(villin_pdb, out=tmp_path / "run", **FAST)
    speed = run.info["performance"]["ns_per_day"]
    shell.user_ns["run"] = run
    cost = science_of(md.extend).cost({"run": "run", "ps": 1.0})
    assert math.isfinite(cost.seconds) and cost.basis == f"1 ps at the run's own {speed:.3g} ns/day"
    by_folder = science_of(md.extend).cost({"run": str(run.directory), "ps": 1.0})
    assert by_folder.seconds == pytest.approx(cost.seconds)
    # A name that holds nothing is still unknown, said as before.
    assert math.isnan(science_of(md.extend).cost({"run": "nothing_here", "ps": 1.0}).seconds)


def test_md_runs_card_names_the_folder_of_the_structure_a_variable_holds(villin_pdb, tmp_path, shell, monkeypatch):  # noqa: F811
    from kenkyu.core.registry import ToolRegistry

    monkeypatch.chdir(tmp_path)
    shell.user_ns["structure"] = str(villin_pdb)  # the call says structure=structure; the run reads villin_1vii.pdb
    tool = ToolRegistry.from_modules(["kenkyu.tools.md"])["md_run"]
    assert (
        tool.science.output_folder({"structure": "structure", "solvent": "implicit"}) == "md_runs/villin_1vii_implicit"
    )
    # Its price is that of the same file: villin's atoms, not those of the structure the speed was measured on.
    from kenkyu.tools.md import cost

    monkeypatch.setenv("KENKYU_CACHE", str(tmp_path / "cache"))
    (tmp_path / "cache").mkdir()
    measured = {"n_atoms": 2000, "steps_per_s": 500.0, "setup_s": 3.0, "structure": "/elsewhere/big.pdb"}
    (tmp_path / "cache" / "md_speed.json").write_text(json.dumps({cost.speed_key("implicit", False, None): measured}))
    by_name = tool.science.cost({"structure": "structure", "ps": 1.0, "solvent": "implicit"}, measure=False)
    by_path = tool.science.cost({"structure": str(villin_pdb), "ps": 1.0, "solvent": "implicit"}, measure=False)
    assert by_name.seconds == pytest.approx(by_path.seconds) and by_name.steps == by_path.steps
    assert "scaled by size" in by_name.basis and "~2,000 atoms" not in by_name.basis
