"""The analysis behind ``unfolding.melting_curve``: DSSP segments, the two-state fit, the result and the order.

Kept apart from the ladder and the tools (:mod:`kenkyu.tools.unfolding`), which re-export these names."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

MELTING_JSON = "melting.json"
HALF = 0.5  # Q of a half-unfolded model: the whole protein's curve must cross it inside the ladder
MIN_SEGMENT_CONTACTS = 3  # a segment with fewer native contacts has no Q(T) worth fitting
MIN_DROP = 0.1  # a curve whose Q falls by less across the ladder has no transition in it to fit
UNITS_NOTE = (
    "temperatures are the Gō model's (its contact energy sets the scale): compare segments and ladders, "
    "not laboratory melting points"
)


# -- segments --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    name: str  # "helix 1", "strand 2", "loop 1", "N-terminus"
    kind: str  # helix | strand | loop | terminus
    first: int  # bead (residue) indices, inclusive
    last: int
    residues: str  # "44–48", residue numbers of the structure

    @property
    def label(self) -> str:
        return f"{self.name} (residues {self.residues})"


def segments_of(structure) -> list[Segment]:
    """The native structure's segments by DSSP: helices and strands (3+ residues), loops and termini.

    Residues are those with a Cα, in the order the Gō model places its beads."""
    import mdtraj

    from kenkyu.tools._quiet import native_stdout_silenced

    with native_stdout_silenced():
        traj = mdtraj.load(str(structure))
    protein = [r for r in traj.topology.residues if any(a.name == "CA" for a in r.atoms)]
    dssp = mdtraj.compute_dssp(traj, simplified=True)[0]
    codes = [dssp[r.index] for r in protein]
    kinds = ["helix" if c == "H" else "strand" if c == "E" else "coil" for c in codes]
    runs: list[list] = []
    for i, kind in enumerate(kinds):
        if runs and runs[-1][0] == kind:
            runs[-1][2] = i
        else:
            runs.append([kind, i, i])
    # A helix or strand shorter than 3 residues is a turn or a bridge: part of the coil around it.
    for run in runs:
        if run[0] != "coil" and run[2] - run[1] < 2:
            run[0] = "coil"
    merged: list[list] = []
    for run in runs:
        if merged and merged[-1][0] == run[0]:
            merged[-1][2] = run[2]
        else:
            merged.append(list(run))
    out, counts = [], {"helix": 0, "strand": 0, "loop": 0}
    for k, (kind, first, last) in enumerate(merged):
        if kind == "coil":
            if k == 0 and len(merged) > 1:
                name, kind = "N-terminus", "terminus"
            elif k == len(merged) - 1 and len(merged) > 1:
                name, kind = "C-terminus", "terminus"
            else:
                counts["loop"] += 1
                name, kind = f"loop {counts['loop']}", "loop"
        else:
            counts[kind] += 1
            name = f"{kind} {counts[kind]}"
        residues = f"{protein[first].resSeq}–{protein[last].resSeq}"
        out.append(Segment(name, kind, first, last, residues))
    return out


# -- the melting curve -----------------------------------------------------------------------------------


def sigmoid(t, high, low, tm, width):
    """Two-state melting curve: Q falls from ``high`` to ``low`` around the midpoint ``tm``."""
    import numpy as np

    return low + (high - low) / (1.0 + np.exp(np.clip((t - tm) / width, -60, 60)))


def _sigmoid_jacobian(t, high, low, tm, width):
    import numpy as np

    e = np.exp(np.clip((t - tm) / width, -60, 60))
    s = 1.0 / (1.0 + e)
    slope = (high - low) * s * s * e  # d sigmoid / d((tm - t) / width)
    return np.stack([s, 1.0 - s, slope / width, slope * (t - tm) / width**2], axis=1)


def fit_midpoint(temps, q) -> tuple[float, float, float, float] | None:
    """(high, low, Tm, width) of the sigmoid fitted to Q(T); None when the fit fails or Q does not fall.

    Fitted on the ladder scaled to [0, 1] with the analytic Jacobian: the bootstrap fits it hundreds of times."""
    import warnings

    import numpy as np
    from scipy.optimize import OptimizeWarning, curve_fit

    t, q = np.asarray(temps, float), np.asarray(q, float)
    if not q[0] - q[-1] >= MIN_DROP or len(t) < 4:  # four parameters: no fit to fewer points or a flat curve
        return None
    span = t[-1] - t[0]
    x = (t - t[0]) / span
    middle = 0.5 * (q[0] + q[-1])
    guess = float(x[np.argmax(q < middle)]) if (q < middle).any() else 0.5
    try:
        with warnings.catch_warnings():  # the covariance is not used: the CI comes from the bootstrap
            warnings.simplefilter("ignore", OptimizeWarning)
            (high, low, m, w), _ = curve_fit(
                sigmoid,
                x,
                q,
                p0=(q[0], q[-1], guess, 0.1),
                bounds=([0, 0, -1, 0.005], [1, 1, 2, 1]),
                jac=_sigmoid_jacobian,
                max_nfev=400,  # a curve that does not converge by then has no midpoint to give
            )
    except (RuntimeError, ValueError):
        return None
    return float(high), float(low), float(t[0] + m * span), float(w * span)


@dataclass
class MeltingCurve:
    """Q(T) of a temperature ladder, per segment, with the fitted midpoints and the unfolding order."""

    directory: Path
    data: dict

    @property
    def table(self):
        """One row per temperature and segment: temperature_k, segment, q, q_lo, q_hi, n_frames (a DataFrame)."""
        import pandas as pd

        return pd.DataFrame(self.data["curve"])

    @property
    def segments(self):
        """One row per segment: name, residues, n_contacts, tm_k, tm_lo_k, tm_hi_k, crosses_half, status."""
        import pandas as pd

        return pd.DataFrame(self.data["segments"])

    @property
    def tm_k(self) -> float | None:
        return self.data["protein"]["tm_k"]

    @property
    def tm_ci_k(self) -> tuple[float, float] | None:
        ci = self.data["protein"]["tm_ci_k"]
        return None if ci is None else tuple(ci)

    @property
    def order(self) -> list[str]:
        """Segments with a midpoint, first to unfold first."""
        return list(self.data["order"]["segments"])

    @property
    def first(self) -> str | None:
        """The segment that unfolds first when its CI is clear of every other's; None when not resolved."""
        return self.data["order"]["first"]

    @property
    def figure(self):
        return _melting_figure(self.data)

    def summary(self) -> str:
        d, p = self.data, self.data["protein"]
        basis = d["basis"]
        lines = [f"Melting curve of {d['ladder']} (Gō model; {UNITS_NOTE})"]
        lines.append(
            f"rests on {basis['n_runs']} runs at {basis['n_temperatures']} temperatures "
            f"({basis['t_min']:g}–{basis['t_max']:g} K, {basis['replicas']} replicas), "
            f"{basis['frames_used']} frames after discarding the first {basis['discard_fraction']:.0%} of each run "
            f"({basis['ps_used']:g} ps of model time); CI: {basis['ci']}"
        )
        if p["tm_k"] is None:
            lines.append(f"protein: no midpoint — {p['why']}")
        else:
            lo, hi = p["tm_ci_k"] or (math.nan, math.nan)
            lines.append(f"protein: Tm {p['tm_k']:.0f} K (95% CI {lo:.0f}–{hi:.0f} K), width {p['width_k']:.0f} K")
        for s in d["segments"]:
            if s["tm_k"] is None:
                lines.append(f"  {s['name']} ({s['residues']}, {s['n_contacts']} contacts): {s['why']}")
            else:
                lines.append(
                    f"  {s['name']} ({s['residues']}, {s['n_contacts']} contacts): Tm {s['tm_k']:.0f} K "
                    f"(95% CI {s['tm_lo_k']:.0f}–{s['tm_hi_k']:.0f} K)"
                )
        lines.append(f"unfolding order: {d['order']['text']}")
        files = ", ".join(str(self.directory / n) for n in (MELTING_JSON, "melting_q.csv", "melting.png"))
        lines.append(f"files: {files}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        from kenkyu.tools._figures import figure_html, summary_html

        return summary_html(self.summary()) + figure_html(self.figure)


def _melting_figure(data):
    import numpy as np
    from matplotlib.figure import Figure

    curve = data["curve"]
    names = [s["name"] for s in data["segments"]]
    figure = Figure(figsize=(7.5, 4.0), layout="constrained")
    ax = figure.subplots()
    colors = {name: f"C{i % 10}" for i, name in enumerate(["protein", *names])}
    temps = sorted({row["temperature_k"] for row in curve})
    grid = np.linspace(temps[0], temps[-1], 200)
    fits = {"protein": data["protein"], **{s["name"]: s for s in data["segments"]}}
    for name in ["protein", *names]:
        rows = [r for r in curve if r["segment"] == name]
        if not rows:
            continue
        t = [r["temperature_k"] for r in rows]
        q = np.array([r["q"] for r in rows])
        err = np.array([[r["q"] - r["q_lo"] for r in rows], [r["q_hi"] - r["q"] for r in rows]])
        style = {"lw": 2.2} if name == "protein" else {"lw": 1.0}
        ax.errorbar(t, q, yerr=np.clip(err, 0, None), fmt="o", ms=3, color=colors[name], capsize=2)
        fit = fits[name]
        label = name
        if fit.get("fit"):
            high, low, tm, width = fit["fit"]
            ax.plot(grid, sigmoid(grid, high, low, tm, width), color=colors[name], label=label, **style)
            ax.axvline(tm, color=colors[name], ls=":", lw=0.8)
        else:
            ax.plot(t, q, color=colors[name], ls="--", label=f"{label} (no fit)", **style)
    ax.axhline(HALF, color="grey", lw=0.6)
    ax.set(
        xlabel="temperature (K, Gō model units)",
        ylabel="Q (fraction of native contacts)",
        ylim=(0, 1.05),
        title="Melting curves: Q(T) per segment, sigmoid fits, midpoints dotted",
    )
    ax.legend(fontsize=7, ncol=2)
    return figure


def _contact_states(run, model, tolerance: float = 1.2):
    """(frames × contacts) booleans: is each native contact formed (within 1.2 × its native distance)?"""
    import mdtraj

    traj = run.trajectory()
    distances = mdtraj.compute_distances(traj, model.contacts, periodic=False)
    return distances < tolerance * model.contact_r0[None, :]


def unfolding_order(segments: list[dict]) -> dict:
    """Segments by midpoint (first to unfold first); neighbours whose 95% CIs overlap are "not resolved"."""
    timed = sorted((s for s in segments if s["tm_k"] is not None), key=lambda s: s["tm_k"])
    if not timed:
        return {"segments": [], "first": None, "resolved": [], "text": "no segment has a midpoint in the ladder"}
    resolved = [a["tm_hi_k"] < b["tm_lo_k"] for a, b in zip(timed, timed[1:])]
    parts = [f"{timed[0]['name']} ({timed[0]['tm_k']:.0f} K)"]
    for ok, s in zip(resolved, timed[1:]):
        parts.append(("< " if ok else "≈ (not resolved: CIs overlap) ") + f"{s['name']} ({s['tm_k']:.0f} K)")
    first = timed[0]
    clear = len(timed) > 1 and all(first["tm_hi_k"] < s["tm_lo_k"] for s in timed[1:])
    text = " ".join(parts)
    if len(timed) == 1:
        text += "; the only segment with a midpoint: no order to resolve"
    elif clear:
        text += f"; {first['name']} (residues {first['residues']}) unfolds first"
    else:
        text += "; which segment unfolds first is not resolved (its CI overlaps another's)"
    return {
        "segments": [s["name"] for s in timed],
        "first": f"{first['name']} (residues {first['residues']})" if clear else None,
        "resolved": resolved,
        "text": text,
    }


def _save(directory: Path, data: dict) -> None:
    """Every number of the analysis beside the runs it comes from (nothing computed is lost)."""
    import pandas as pd
    from kenkyu.tools.md._files import write_json_atomic

    write_json_atomic(directory / MELTING_JSON, data)
    pd.DataFrame(data["curve"]).to_csv(directory / "melting_q.csv", index=False)
    _melting_figure(data).savefig(directory / "melting.png", dpi=100)


def predicted_first(structure) -> Segment | None:
    """The segment with the fewest native contacts per residue: the one a Gō model should lose first."""
    from kenkyu.kernels_md import build_go_model

    model = build_go_model(str(structure))
    best, best_density = None, math.inf
    for s in segments_of(structure):
        if s.kind == "terminus" or s.kind == "loop":
            continue
        n = int(((model.contacts >= s.first) & (model.contacts <= s.last)).any(axis=1).sum())
        density = n / (s.last - s.first + 1)
        if n >= MIN_SEGMENT_CONTACTS and density < best_density:
            best, best_density = s, density
    return best
