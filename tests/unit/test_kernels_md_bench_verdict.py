"""The 2-thread scaling verdict of benchmarks/bench_dataflow.py: read from paired rounds, never one run.

Two quiet runs minutes apart gave efficiencies 0.78 vs 0.91 (missed) and 0.90 vs 0.86 (met): a single
run cannot call the bar, so the benchmark pairs rounds and only calls it when the interval says so.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from bench_dataflow_verdict import scaling_verdict  # noqa: E402


def test_the_two_quiet_runs_of_today_are_inconclusive_not_a_verdict():
    v = scaling_verdict([0.78, 0.90], [0.91, 0.86])
    assert v.verdict.startswith("inconclusive")
    assert v.diff.tolist() == pytest.approx([-0.13, 0.04])
    assert v.diff_ci[0] < 0 < v.diff_ci[1]


def test_a_consistent_lead_is_met_and_a_consistent_lag_is_missed():
    omm = [0.90, 0.86, 0.93, 0.88, 0.91]
    better = [e + d for e, d in zip(omm, [0.03, 0.05, 0.02, 0.04, 0.03])]
    worse = [e - d for e, d in zip(omm, [0.03, 0.05, 0.02, 0.04, 0.03])]
    met = scaling_verdict(better, omm)
    assert met.verdict == "met" and met.diff_ci[0] > 0
    missed = scaling_verdict(worse, omm)
    assert missed.verdict == "missed" and missed.diff_ci[1] < 0
    # the engines' own spreads are reported (median, min, max), not just the difference
    assert missed.eff_omm == pytest.approx((0.90, 0.86, 0.93))
    assert "verdict" in missed.lines(1, 2)[-1] and "missed" in missed.lines(1, 2)[-1]


def test_one_round_is_refused_with_the_fix():
    with pytest.raises(ValueError, match="--rounds"):
        scaling_verdict([0.9], [0.9])
    with pytest.raises(ValueError, match="same length"):
        scaling_verdict([0.9, 0.8], [0.9])
