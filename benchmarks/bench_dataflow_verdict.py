"""The 2-thread scaling verdict of ``bench_dataflow.py --rounds N``, from paired rounds.

One quiet run's strong-scaling efficiency moves by about ±0.1 from run to run (two runs minutes
apart on 2026-11-30: dataflow 0.78 then 0.90, OpenMM 0.91 then 0.86), more than the difference the
bar asks about.  So the benchmark measures in rounds: each round times OpenMM CPU and the dataflow
system at 1 and at P threads back to back, which gives one efficiency per engine and one *paired*
difference (dataflow − OpenMM, both hit by the same load in the same seconds).  The verdict is read
from a bootstrap confidence interval of the mean paired difference over rounds, never from one run.
(A module of ``bench_dataflow.py``, not a script: ``make bench`` runs it and it prints nothing.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

VERDICTS = ("met", "missed", "inconclusive (difference within noise)")


@dataclass
class ScalingVerdict:
    rounds: int
    eff_df: tuple[float, float, float]  # median, min, max over rounds
    eff_omm: tuple[float, float, float]
    diff: np.ndarray  # per round: dataflow efficiency − OpenMM efficiency
    diff_mean: float
    diff_ci: tuple[float, float]
    confidence: float
    verdict: str

    def lines(self, base: int, threads: int) -> list[str]:
        (m1, lo1, hi1), (m2, lo2, hi2) = self.eff_df, self.eff_omm
        lo, hi = self.diff_ci
        return [
            f"strong-scaling efficiency {base}->{threads} threads over {self.rounds} paired rounds: "
            f"dataflow median {m1:.2f} (min-max {lo1:.2f}-{hi1:.2f}), OpenMM CPU median {m2:.2f} ({lo2:.2f}-{hi2:.2f})",
            "    paired difference dataflow - OpenMM per round: " + " ".join(f"{d:+.3f}" for d in self.diff),
            f"    mean {self.diff_mean:+.3f}, {100 * self.confidence:.0f}% bootstrap CI [{lo:+.3f}, {hi:+.3f}]",
            f"verdict ({threads} threads scale at least as well as OpenMM CPU): {self.verdict}",
        ]


def _spread(x) -> tuple[float, float, float]:
    x = np.asarray(x, float)
    return float(np.median(x)), float(x.min()), float(x.max())


def scaling_verdict(eff_df, eff_omm, confidence: float = 0.9, seed: int = 0) -> ScalingVerdict:
    """Verdict on "dataflow scales at least as well as OpenMM CPU" from per-round efficiencies.

    ``met`` when the whole confidence interval of the mean paired difference is ≥ 0, ``missed``
    when it is wholly < 0, otherwise inconclusive.  Needs at least 2 rounds (one round has no
    spread to tell noise from a difference).
    """
    from scipy.stats import bootstrap

    eff_df = np.asarray(eff_df, float)
    eff_omm = np.asarray(eff_omm, float)
    if eff_df.shape != eff_omm.shape or eff_df.ndim != 1:
        raise ValueError("one efficiency per round for each engine: the two lists must have the same length")
    if len(eff_df) < 2:
        raise ValueError(
            f"a scaling verdict needs at least 2 paired rounds, got {len(eff_df)}: run with --rounds 5 (the default)"
        )
    diff = eff_df - eff_omm
    if np.ptp(diff) == 0.0:  # no spread: the bootstrap interval is the value itself
        lo = hi = float(diff[0])
    else:
        res = bootstrap(
            (diff,), np.mean, confidence_level=confidence, method="percentile", random_state=seed, n_resamples=4000
        )
        lo, hi = float(res.confidence_interval.low), float(res.confidence_interval.high)
    verdict = VERDICTS[0] if lo >= 0.0 else VERDICTS[1] if hi < 0.0 else VERDICTS[2]
    return ScalingVerdict(
        rounds=len(diff),
        eff_df=_spread(eff_df),
        eff_omm=_spread(eff_omm),
        diff=diff,
        diff_mean=float(diff.mean()),
        diff_ci=(lo, hi),
        confidence=confidence,
        verdict=verdict,
    )
