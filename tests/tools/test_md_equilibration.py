"""The equilibration md.run adds by default scales with the production asked for (newcomer item 9: "simulate
it for 5 ps" ran 10 ps of NVT first), is stated on the approval card and in run.json, and a run started
under any default still resumes."""

from __future__ import annotations

import pytest
from kenkyu.core.science import science_of
from kenkyu.tools import md
from kenkyu.tools.md._equilibration import default_nvt_ps

from md_fixtures import FAST, villin_pdb  # noqa: F401 (fixture)


def test_default_nvt_is_half_the_production_within_three_thermostat_times_and_10_ps():
    assert default_nvt_ps(5) == 3.0  # the newcomer's 5 ps: 3 ps of NVT, not 10
    assert default_nvt_ps(10) == 5.0 and default_nvt_ps(14) == 7.0
    assert default_nvt_ps(20) == default_nvt_ps(1000) == 10.0  # the old default, for longer runs
    assert default_nvt_ps(0.5) == 3.0  # never under 3 thermostat times at friction 1/ps
    assert default_nvt_ps(5, friction_per_ps=10) == 2.5 and default_nvt_ps(1, friction_per_ps=10) == 2.0
    assert default_nvt_ps(100, friction_per_ps=0.1) == 30.0  # a weak thermostat needs longer, whatever the cap


def test_the_approval_card_states_the_default_and_how_to_skip_it():
    science = science_of(md.run)
    steps = science.cost({"structure": "nowhere.pdb", "ps": 5, "solvent": "implicit"}, measure=False).steps
    assert "3 ps NVT equilibration (added by default: half the production within 3-10 ps; nvt_ps=0 skips it)" in steps
    assert steps[-1].startswith("5 ps production, implicit solvent") and "(4,000 steps of 2 fs in all)" in steps[-1]
    explicit = science.cost({"structure": "nowhere.pdb", "ps": 50}, measure=False).steps
    assert "10 ps NVT equilibration (added by default: half the production within 3-10 ps; nvt_ps=0 skips it)" in (
        explicit
    )
    assert any(s.startswith("10 ps NPT equilibration (added by default, for the water box's density") for s in explicit)
    given = science.cost({"structure": "nowhere.pdb", "ps": 5, "solvent": "implicit", "nvt_ps": 1}, measure=False)
    assert "1 ps NVT equilibration" in given.steps  # what the caller typed is not "added"
    assert not any("NVT" in s for s in science.cost({"ps": 5, "solvent": "implicit", "nvt_ps": 0}).steps)


def test_a_run_records_its_default_equilibration(villin_pdb, tmp_path):  # noqa: F811
    options = {k: v for k, v in FAST.items() if k != "nvt_ps"}
    run = md.run(villin_pdb, out=tmp_path / "run", **{**options, "ps": 0.5, "report_interval_ps": 0.25})
    info = run.info
    assert info["parameters"]["nvt_ps"] == 3.0
    assert info["equilibration"]["nvt_ps"] == 3.0 and info["equilibration"]["nvt"].startswith(
        "default: half the production within 3-10 ps (at least 3 thermostat times"
    )
    assert "(after 3 ps NVT; NVT by default: half the production within 3-10 ps)" in run.summary()
    given = md.run(villin_pdb, out=tmp_path / "given", **FAST)
    assert given.info["equilibration"]["nvt"] == "given" and "NVT by default" not in given.summary()


def test_a_call_that_leaves_equilibration_to_the_default_resumes_the_run_it_started(villin_pdb, tmp_path):  # noqa: F811
    """A run made under another default (10 ps NVT before, or nvt_ps given) is still found by the call that
    leaves nvt_ps out: the default means the run's own equilibration, not a new one to compare against."""
    first = md.run(villin_pdb, out=tmp_path / "run", **FAST)  # nvt_ps=0.02 given
    options = {k: v for k, v in FAST.items() if k != "nvt_ps"}
    again = md.run(villin_pdb, out=tmp_path / "run", resume=True, **options)
    assert again.directory == first.directory and again.info["parameters"]["nvt_ps"] == 0.02
    with pytest.raises(md.ResumeError, match="nvt_ps: run has 0.02, call has 1.0"):
        md.run(villin_pdb, out=tmp_path / "run", resume=True, **{**options, "nvt_ps": 1.0})
