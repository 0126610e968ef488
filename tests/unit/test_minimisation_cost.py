"""The price shown before a minimisation is approved includes the whole minimisation.

A newcomer's DHFR minimisation was priced "~15 s, typical, not measured" and took minutes, and md.run's
estimate counted only the calibration's first 200 L-BFGS iterations although md.run minimises until
converged. Both now price a converged minimisation from this machine's calibration, and say how.
"""

from __future__ import annotations

import json
from importlib.resources import files

import pytest
from kenkyu.core.science import science_of
from kenkyu.tools import md
from kenkyu.tools.md import cost


@pytest.fixture
def calibrated(tmp_path, monkeypatch):
    """A speed cache as a calibration on this machine leaves it: 20 s of set-up, 10 s of it 200 iterations."""
    monkeypatch.setenv("KENKYU_CACHE", str(tmp_path))
    villin = str(files("kenkyu") / "data" / "villin_1vii.pdb")
    entry = {
        "n_atoms": 596,
        "steps_per_s": 100.0,
        "setup_s": 20.0,
        "minimize_s": 10.0,
        "structure": villin,
        "platform": "CPU",
        "source": "calibrated on this machine (200 steps)",
    }
    (tmp_path / "md_speed.json").write_text(json.dumps({cost.speed_key("implicit", False, None): entry}))
    return villin


def test_md_minimize_is_priced_from_the_calibration_with_the_rest_of_the_minimisation(calibrated):
    estimate = science_of(md.minimize).cost({"structure": calibrated}, measure=False)
    assert estimate.seconds == pytest.approx(20.0 + 10.0 * (cost.CONVERGED_MINIMIZATION_FACTOR - 1))
    assert "not measured" not in estimate.basis
    assert "minimisation priced at 2.5x the 200 iterations timed" in estimate.basis


def test_a_bounded_minimisation_is_priced_by_its_bound(calibrated):
    short = science_of(md.minimize).cost({"structure": calibrated, "max_iterations": 100}, measure=False)
    double = science_of(md.minimize).cost({"structure": calibrated, "max_iterations": 400}, measure=False)
    assert short.seconds == pytest.approx(20.0)
    assert double.seconds == pytest.approx(30.0)


def test_md_run_counts_a_converged_minimisation_in_its_set_up(calibrated):
    converged = science_of(md.run).cost({"structure": calibrated, "solvent": "implicit", "ps": 1}, measure=False)
    bounded = science_of(md.run).cost(
        {"structure": calibrated, "solvent": "implicit", "ps": 1, "minimize_max_iterations": 200}, measure=False
    )
    assert converged.seconds - bounded.seconds == pytest.approx(10.0 * (cost.CONVERGED_MINIMIZATION_FACTOR - 1))
    assert "minimisation priced at" in converged.basis and "minimisation priced" not in bounded.basis


def test_a_run_measured_here_prices_its_own_minimisation(calibrated, tmp_path):
    data = json.loads((tmp_path / "md_speed.json").read_text())
    for entry in data.values():
        entry.pop("minimize_s")  # learn_from_run's entries: set-up is the run's whole minimisation
        entry["source"] = "measured by the last run on this machine"
    (tmp_path / "md_speed.json").write_text(json.dumps(data))
    estimate = science_of(md.minimize).cost({"structure": calibrated}, measure=False)
    assert estimate.seconds == pytest.approx(20.0)
    assert "measured by the last run on this machine" in estimate.basis


def test_nothing_measured_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("KENKYU_CACHE", str(tmp_path))
    estimate = science_of(md.minimize).cost({"structure": "nowhere.pdb"}, measure=False)
    assert "not measured" in estimate.basis
