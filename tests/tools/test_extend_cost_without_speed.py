"""md.extend's card prices a run that recorded no speed of its own as md.run prices a run: this machine's speed for
the setup, scaled to the run's atoms (issue 13: it said "unknown"). Such a run.json is one from before the speed
was recorded, or from a resume that had no production left to time. A real short OpenMM run; the speed is learnt
from it, or calibrated, as md.run's own estimate does."""

from __future__ import annotations

import json
import math

import pytest
from kenkyu.core.science import science_of
from kenkyu.tools import md
from kenkyu.tools.md import cost

from md_fixtures import FAST

pytestmark = pytest.mark.filterwarnings("ignore:Unlikely unit cell vectors")


@pytest.fixture
def run(villin_pdb, tmp_path, monkeypatch):
    monkeypatch.setenv("KENKYU_CACHE", str(tmp_path / "cache"))
    return md.run(villin_pdb, out=tmp_path / "run", **FAST)


def _forget_speed(run) -> dict:
    """The run's record as an older kenkyu (or a resume with no production left to time) wrote it: no speed."""
    info = json.loads(run.run_json.read_text())
    measured = info.pop("performance")
    run.run_json.write_text(json.dumps(info))
    return measured


def _card(run, measure=True):
    return science_of(md.extend).cost({"run": str(run.directory), "ps": 1.0}, measure=measure)


def test_priced_at_the_speed_this_machine_measured_for_the_setup(run):
    cost.learn_from_run(run)  # what a research step does after each run: this machine's speed, cached
    measured = _forget_speed(run)
    card = _card(run, measure=False)
    assert math.isfinite(card.seconds)
    assert card.basis.startswith("1 ps (500 steps) for the run's 596 atoms at ")
    assert "measured by the last run on this machine" in card.basis and "recorded no speed of its own" in card.basis
    # The same number as the run's own speed would have given.
    expected = 500 / (measured["production_steps_timed"] / measured["production_wall_s"]) + 5.0
    assert card.seconds == pytest.approx(expected)


def test_with_nothing_cached_it_calibrates_as_md_run_does(run):
    _forget_speed(run)
    assert math.isnan(_card(run, measure=False).seconds)  # nothing measured, and not allowed to measure now
    card = _card(run)
    assert math.isfinite(card.seconds) and "calibrated on this machine" in card.basis
    assert "for the run's 596 atoms" in card.basis
