"""Replicas for the stability protocol: each quantity per replica, its mean and 95% CI, and their figure.

One simulation says what one trajectory did; replicas (independent seeds) say how much of it is chance.
Each check of :mod:`.stability` on an ensemble reads one number per replica from here (the RMSD plateau,
the Rg change, the RMSF of a residue) and reports the mean with a Student-t 95% confidence interval over
the replicas: with two replicas that interval is wide (t = 12.7), which is the honest width.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from kenkyu.tools import analysis, ensembles

CONFIDENCE = 0.95


@dataclass(frozen=True)
class Interval:
    """A mean over replicas with its confidence interval (NaN bounds for a single replica)."""

    mean: float
    sd: float
    low: float
    high: float
    n: int

    def text(self, unit: str = "", scale: float = 1.0, digits: int = 3) -> str:
        f = f"{{:.{digits}f}}"
        mean, sd = f.format(self.mean * scale), f.format(self.sd * scale)
        if self.n < 2:
            return f"{mean}{unit} (one replica: no spread, no CI)"
        low, high = f.format(self.low * scale), f.format(self.high * scale)
        return f"{mean} ± {sd}{unit} (mean ± sd of {self.n} replicas; 95% CI {low} to {high}{unit})"


def interval(values) -> Interval:
    """Mean, sd and the t-based 95% CI of the mean of per-replica values."""
    from scipy import stats

    v = np.asarray(values, dtype=float)
    n = len(v)
    mean = float(v.mean())
    if n < 2:
        return Interval(mean, 0.0, math.nan, math.nan, n)
    sd = float(v.std(ddof=1))
    half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, n - 1)) * sd / math.sqrt(n)
    return Interval(mean, sd, mean - half, mean + half, n)


def series(ensemble) -> dict:
    """RMSD, Rg and RMSF of every finished replica, computed once per ensemble object (the checks and
    the figure share them)."""
    cached = getattr(ensemble, "_kenkyu_replica_series", None)
    if cached is not None:
        return cached
    found = {
        "rmsd": ensemble.map(analysis.rmsd),
        "rg": ensemble.map(analysis.radius_of_gyration),
        "rmsf": ensembles.rmsf(ensemble),
    }
    ensemble._kenkyu_replica_series = found
    return found


def per_replica(table, column: str, reduce) -> list[float]:
    """One number per replica: ``reduce(times, values)`` over each member's rows, in member order."""
    return [
        float(reduce(part["time_ps"].to_numpy(dtype=float), part[column].to_numpy(dtype=float)))
        for _, part in table.groupby("member", sort=True)
    ]


def figure(ensemble, rmsd_limit: float, rg_pass: float, rg_warn: float):
    """RMSD and Rg change of each replica over time, and RMSF mean with its 95% CI across replicas."""
    from matplotlib.figure import Figure
    from scipy import stats

    data = series(ensemble)
    fig = Figure(figsize=(12.0, 3.0), layout="constrained")
    rmsd_ax, rg_ax, rmsf_ax = fig.subplots(1, 3)
    for name, part in data["rmsd"].groupby("member", sort=True):
        rmsd_ax.plot(part.time_ps, part.rmsd_nm, lw=1.0, label=name)
    rmsd_ax.axhline(rmsd_limit, color="tab:red", ls="--", lw=1)
    rmsd_ax.set(xlabel="time (ps)", ylabel="RMSD (nm)", title="Check: RMSD of each replica")
    rmsd_ax.legend(fontsize=6)
    for _, part in data["rg"].groupby("member", sort=True):
        rg = part.rg_nm.to_numpy()
        rg_ax.plot(part.time_ps, (rg - rg[0]) / rg[0] * 100, lw=1.0)
    for sign in (-1, 1):
        rg_ax.axhline(sign * rg_pass * 100, color="tab:green", ls="--", lw=1)
        rg_ax.axhline(sign * rg_warn * 100, color="tab:red", ls=":", lw=1)
    rg_ax.set(xlabel="time (ps)", ylabel="Rg change (%)", title="Check: compactness of each replica")
    rmsf = data["rmsf"]
    n = rmsf.n_members.to_numpy()
    t = np.where(n > 1, stats.t.ppf(0.5 + CONFIDENCE / 2, np.maximum(n - 1, 1)), np.nan)
    half = t * rmsf.rmsf_std_nm.to_numpy() / np.sqrt(n)
    rmsf_ax.plot(rmsf.resSeq, rmsf.rmsf_mean_nm, lw=1.4, label="mean")
    rmsf_ax.fill_between(
        rmsf.resSeq, rmsf.rmsf_mean_nm - half, rmsf.rmsf_mean_nm + half, alpha=0.3, label="95% CI of the mean"
    )
    rmsf_ax.set(xlabel="residue number", ylabel="RMSF (nm)", title="Check: RMSF across replicas")
    rmsf_ax.legend(fontsize=6)
    return fig
