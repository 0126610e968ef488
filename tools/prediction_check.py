"""Does a predicted structure's confidence match its dynamics? pLDDT (and PAE) against MD fluctuations.

A structure predictor says per residue how sure it is (pLDDT, 0-100; ESMFold and AlphaFold write it in
the PDB's B-factor column). A short simulation of the prediction says which residues move. Where the
two agree, the residues the predictor doubts are the ones that move; where they disagree, a region is
either *confident but mobile* (a confidently predicted segment that MD loosens: a strained or wrongly
packed part, or one that needs a partner) or *unconfident but rigid* (a doubted segment that holds:
often a true structure the single-sequence model was unsure of). By hand::

    import kenkyu.tools.prediction_check as prediction_check
    check_1 = prediction_check.confidence_vs_dynamics("predictions/seq1.pdb", "md_runs/seq1_implicit")
    check_1.rho, check_1.ci          # Spearman rho of RMSF vs (100 - pLDDT) and its bootstrap 95% CI
    check_1.regions                  # where prediction and dynamics disagree
    check_1.figure

The prediction may be a PDB made anywhere (pLDDT in the B-factor column) or, by hand, a
:class:`kenkyu.tools.structure.FoldResult`; a PAE matrix saved beside the PDB (``<name>_pae.npy``, as
``kenkyu.tools.structure.fold`` writes it) adds each residue's mean PAE to the table.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from kenkyu.core.registry import tool
from kenkyu.core.science import checked_by, costs, result_check

__all__ = ["ConfidenceDynamics", "PredictionInputError", "confidence_vs_dynamics", "plddt_of"]

CONFIDENT_PLDDT = 70.0  # ColabFold's "confident" band starts here (70-90 confident, >90 very high)
MOBILE_QUANTILE = 0.75  # a residue in the top quarter of this protein's RMSF is "mobile"...
MOBILE_OVER_MEDIAN = 1.5  # ...and only if it also moves at least 1.5x the median residue
RIGID_QUANTILE = 0.5  # a residue at or below the median RMSF is "rigid"
MIN_FRAMES = 10  # fewer frames: an RMSF is too noisy to rank residues by
MIN_RESIDUES = 10  # fewer residues: a rank correlation with a bootstrap CI says nothing
CONFIDENCE_LEVEL = 0.95


class PredictionInputError(ValueError):
    """The prediction or the trajectory cannot be compared (no pLDDT, residues that do not match)."""


@dataclass
class ConfidenceDynamics:
    """Per-residue pLDDT against MD RMSF: the table, the correlation with its CI, the disagreeing regions."""

    prediction: str
    trajectory: str
    table: pd.DataFrame  # residue_index, resSeq, resname, residue, plddt, unconfidence, rmsf_nm, [pae_mean_A], label
    rho: float  # Spearman rank correlation of RMSF with (100 - pLDDT); > 0 means doubted residues move more
    ci: tuple[float, float]  # its bootstrap confidence interval (CONFIDENCE_LEVEL)
    n_frames: int
    regions: pd.DataFrame  # kind, residues, first, last, n, mean_plddt, mean_rmsf_nm
    pae_rho: float | None = None  # Spearman of RMSF with each residue's mean PAE, when a PAE was found
    resamples: int = 2000
    _figure: object = field(default=None, repr=False, compare=False)

    @property
    def n_residues(self) -> int:
        return len(self.table)

    @property
    def too_few(self) -> str | None:
        """Why the data are too few to judge, or None."""
        if self.n_frames < MIN_FRAMES:
            return f"only {self.n_frames} frames (at least {MIN_FRAMES} are needed to rank residues by RMSF)"
        if self.n_residues < MIN_RESIDUES:
            return f"only {self.n_residues} residues (at least {MIN_RESIDUES} are needed for a rank correlation)"
        return None

    @property
    def ci_text(self) -> str:
        return f"ρ = {self.rho:+.2f} (95% CI {self.ci[0]:+.2f} to {self.ci[1]:+.2f})"

    def summary(self) -> str:
        lines = [
            f"pLDDT vs MD RMSF for {Path(self.prediction).name} over {self.n_frames} frames of {self.trajectory}: "
            f"{self.n_residues} residues, mean pLDDT {self.table.plddt.mean():.1f}, mean RMSF "
            f"{self.table.rmsf_nm.mean():.3f} nm.",
            f"Spearman of RMSF with (100 - pLDDT): {self.ci_text}, {self.resamples} paired bootstrap resamples.",
        ]
        if self.pae_rho is not None:
            lines.append(f"Spearman of RMSF with the residue's mean PAE: ρ = {self.pae_rho:+.2f}.")
        if len(self.regions):
            lines.append(
                "Disagreements: "
                + "; ".join(
                    f"{r.kind} {r.residues} (pLDDT {r.mean_plddt:.0f}, RMSF {r.mean_rmsf_nm:.3f} nm)"
                    for r in self.regions.itertuples()
                )
            )
        else:
            lines.append("No region where prediction and dynamics disagree.")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()

    @property
    def figure(self):
        if self._figure is None:
            self._figure = _figure(self)
        return self._figure

    def _repr_html_(self) -> str:
        import html

        from kenkyu.tools._figures import figure_html

        text = "<br>".join(html.escape(line) for line in self.summary().splitlines())
        regions = self.regions.to_html(index=False) if len(self.regions) else ""
        return f"<p>{text}</p>\n{figure_html(self.figure)}\n{regions}"


# -- inputs ---------------------------------------------------------------------------------------------


def plddt_of(prediction) -> tuple[Path, pd.DataFrame, np.ndarray | None]:
    """(PDB path, one row per residue with its C-alpha pLDDT, the PAE matrix or None) of a prediction."""
    import mdtraj
    from kenkyu.tools.viz import file_bfactors

    pae = None
    if hasattr(prediction, "pdb_path") and hasattr(prediction, "plddt"):  # a FoldResult
        path = Path(prediction.pdb_path)
        pae = np.asarray(prediction.pae, dtype=float) if getattr(prediction, "pae", None) is not None else None
    else:
        path = Path(prediction)
    if not path.is_file():
        raise FileNotFoundError(
            f"predicted structure {str(path)!r} does not exist; pass the PDB of a prediction (pLDDT in the "
            "B-factor column, as ESMFold and AlphaFold write it) or a kenkyu.tools.structure.fold() result"
        )
    if pae is None:
        beside = path.with_name(f"{path.stem}_pae.npy")
        pae = np.load(beside) if beside.is_file() else None
    structure = mdtraj.load_pdb(str(path))
    bfactors = file_bfactors(path)
    if bfactors is None or len(bfactors) != structure.n_atoms:
        raise PredictionInputError(f"{path} has no B-factor column to read pLDDT from; a prediction is a PDB file")
    ca = [atom for atom in structure.topology.atoms if atom.name == "CA"]
    values = bfactors[[a.index for a in ca]]
    if np.isnan(values).any() or np.ptp(values) == 0:
        raise PredictionInputError(
            f"the B-factors of {path} are {'missing' if np.isnan(values).any() else f'all {values[0]:g}'}: "
            "this file carries no pLDDT. Pass a predicted structure (ESMFold and AlphaFold write pLDDT "
            "in the B-factor column), not an experimental one."
        )
    if values.max() <= 1.0:  # some tools write pLDDT as a 0-1 fraction
        values = values * 100.0
    if values.max() < 20:  # no predictor is that unsure of every residue; these are an experiment's B-factors
        raise PredictionInputError(
            f"the B-factors of {path} run from {values.min():g} to {values.max():g}: an experimental "
            "structure's B-factors, not pLDDT (a prediction's pLDDT is 0-100, rarely below 20 everywhere). "
            "Pass a predicted structure."
        )
    if values.min() < 0 or values.max() > 100:
        raise PredictionInputError(
            f"the B-factors of {path} run from {values.min():g} to {values.max():g}, not 0-100: they are "
            "crystallographic B-factors, not pLDDT. Pass a predicted structure."
        )
    rows = pd.DataFrame(
        {
            "chain": [a.residue.chain.index for a in ca],
            "resSeq": [a.residue.resSeq for a in ca],
            "resname": [a.residue.name for a in ca],
            "plddt": values.astype(float),
        }
    )
    if pae is not None and pae.shape != (len(rows), len(rows)):
        pae = None  # a PAE of another prediction: leave it out rather than misalign it
    return path, rows, pae


def _label(trajectory, traj) -> str:
    """How the summary names the trajectory: its path, or (an object passed by hand) its size."""
    if isinstance(trajectory, (str, os.PathLike)):
        return str(trajectory)
    directory = getattr(trajectory, "directory", None)
    return str(directory) if directory is not None else f"a trajectory of {traj.n_residues} residues"


def _spearman_ci(x, y, seed: int, resamples: int) -> tuple[float, tuple[float, float]]:
    """Spearman rho and its paired bootstrap CI (BCa; percentile where BCa is undefined)."""
    from scipy import stats

    def rho(a, b, axis=-1):
        # Spearman = Pearson of the ranks, over the last axis, so the bootstrap runs vectorised (100x faster).
        ra, rb = stats.rankdata(a, axis=axis), stats.rankdata(b, axis=axis)
        ra = ra - ra.mean(axis=axis, keepdims=True)
        rb = rb - rb.mean(axis=axis, keepdims=True)
        return (ra * rb).sum(axis=axis) / np.sqrt((ra**2).sum(axis=axis) * (rb**2).sum(axis=axis))

    value = float(stats.spearmanr(x, y).statistic)
    ci = (float("nan"), float("nan"))
    for method in ("BCa", "percentile"):
        with np.errstate(all="ignore"):
            result = stats.bootstrap(
                (x, y),
                rho,
                paired=True,
                vectorized=True,
                n_resamples=resamples,
                confidence_level=CONFIDENCE_LEVEL,
                method=method,
                random_state=np.random.default_rng(seed),
            )
        ci = (float(result.confidence_interval.low), float(result.confidence_interval.high))
        if not any(np.isnan(ci)):
            break
    return value, ci


def _labels(table: pd.DataFrame) -> list[str]:
    rmsf = table.rmsf_nm.to_numpy()
    mobile = (rmsf >= np.quantile(rmsf, MOBILE_QUANTILE)) & (rmsf >= MOBILE_OVER_MEDIAN * np.median(rmsf))
    rigid = rmsf <= np.quantile(rmsf, RIGID_QUANTILE)
    confident = table.plddt.to_numpy() >= CONFIDENT_PLDDT
    return [
        "confident but mobile" if c and m else "unconfident but rigid" if not c and r else ""
        for c, m, r in zip(confident, mobile, rigid)
    ]


def _regions(table: pd.DataFrame) -> pd.DataFrame:
    """Runs of consecutive residues with the same disagreement label."""
    rows = []
    labels = table.label.tolist()
    start = 0
    for i in range(1, len(labels) + 1):
        if i == len(labels) or labels[i] != labels[start]:
            if labels[start]:
                part = table.iloc[start:i]
                first, last = part.iloc[0], part.iloc[-1]
                rows.append(
                    {
                        "kind": labels[start],
                        "residues": first.residue if i - start == 1 else f"{first.residue}–{last.residue}",
                        "first": int(first.resSeq),
                        "last": int(last.resSeq),
                        "n": i - start,
                        "mean_plddt": float(part.plddt.mean()),
                        "mean_rmsf_nm": float(part.rmsf_nm.mean()),
                    }
                )
            start = i
    columns = ["kind", "residues", "first", "last", "n", "mean_plddt", "mean_rmsf_nm"]
    return pd.DataFrame(rows, columns=columns)


def _figure(result: ConfidenceDynamics):
    from matplotlib.figure import Figure

    table = result.table
    figure = Figure(figsize=(9.0, 3.2), layout="constrained")
    along, scatter = figure.subplots(1, 2, width_ratios=(2, 1))
    along.plot(table.resSeq, table.rmsf_nm, marker="o", ms=3, lw=1.2, color="tab:blue", label="RMSF (MD)")
    along.set(xlabel="residue number", ylabel="RMSF (nm)", title="Prediction confidence vs dynamics")
    twin = along.twinx()
    twin.plot(table.resSeq, 100 - table.plddt, lw=1.2, ls="--", color="tab:orange", label="100 − pLDDT")
    twin.set_ylabel("100 − pLDDT")
    colours = {"confident but mobile": "tab:red", "unconfident but rigid": "tab:green"}
    for region in result.regions.itertuples():
        along.axvspan(region.first - 0.5, region.last + 0.5, color=colours[region.kind], alpha=0.15)
    handles = along.get_lines() + twin.get_lines()
    from matplotlib.patches import Patch

    handles += [Patch(color=c, alpha=0.3, label=k) for k, c in colours.items() if (result.regions.kind == k).any()]
    along.legend(handles=handles, fontsize=7, loc="upper center")
    scatter.scatter(100 - table.plddt, table.rmsf_nm, s=12)
    scatter.set(xlabel="100 − pLDDT", ylabel="RMSF (nm)", title=result.ci_text)
    scatter.title.set_fontsize(8)
    return figure


# -- what the research loop checks ----------------------------------------------------------------------


@result_check(f"enough data to correlate: at least {MIN_FRAMES} frames and {MIN_RESIDUES} residues")
def enough_data(result):
    (expectation,) = enough_data.expectations
    few = result.too_few
    detail = few or f"{result.n_frames} frames, {result.n_residues} residues"
    yield expectation, "warn" if few else "pass", detail


@result_check(
    "the residues the prediction is least sure of move most in MD: Spearman ρ of RMSF with (100 − pLDDT) "
    "above 0, its 95% CI excluding 0"
)
def confidence_tracks_dynamics(result):
    (expectation,) = confidence_tracks_dynamics.expectations
    few = result.too_few
    if few:
        yield expectation, "warn", f"{result.ci_text}, but {few}: inconclusive"
    elif result.ci[0] > 0:
        yield expectation, "pass", f"{result.ci_text}: doubted residues move more"
    elif result.ci[1] < 0:
        yield expectation, "fail", f"{result.ci_text}: the residues the prediction trusts move more"
    else:
        yield expectation, "warn", f"{result.ci_text}: the CI includes 0, so it is inconclusive"


@result_check("no confidently predicted region is mobile in MD")
def no_confident_mobile(result):
    (expectation,) = no_confident_mobile.expectations
    found = result.regions[result.regions.kind == "confident but mobile"]
    if len(found):
        names = ", ".join(f"{r.residues} (pLDDT {r.mean_plddt:.0f})" for r in found.itertuples())
        yield expectation, "warn", f"confident but mobile: {names}; look at these before trusting them"
    else:
        yield expectation, "pass", "every mobile residue is one the prediction doubted"


@tool(
    keywords=(
        "plddt vs rmsf",
        "plddt against rmsf",
        "confidence vs dynamics",
        "prediction confidence and dynamics",
        "trust the predicted structure",
        "confidence match its dynamics",
    ),
    produces="table",
)
@costs(5.0, basis="typical: one RMSF and a bootstrap of a few thousand resamples, not measured")
@checked_by(enough_data, confidence_tracks_dynamics, no_confident_mobile)
def confidence_vs_dynamics(
    prediction: str | os.PathLike,
    trajectory: str | os.PathLike,
    *,
    selection: str = "name CA",
    resamples: int = 2000,
    seed: int = 0,
) -> ConfidenceDynamics:
    """Compare a predicted structure's per-residue confidence (pLDDT) with how much each residue moves in MD.

    Spearman rank correlation of the C-alpha RMSF with (100 − pLDDT), with a paired bootstrap 95% CI, and
    the regions where the two disagree: confident (pLDDT >= 70) but mobile (top quarter of RMSF), or
    unconfident but rigid (RMSF at or below the median).

    Parameters
    ----------
    prediction
        PDB file of the prediction with pLDDT (0-100) in the B-factor column, as ESMFold and AlphaFold
        write it, or by hand a fold() result.
    trajectory
        MD run directory of the prediction (from simulate_prediction or md_run) or a trajectory file.
    selection
        Atoms for the RMSF ("name CA": C-alpha, the atom pLDDT is read from).
    resamples
        Bootstrap resamples for the confidence interval.
    seed
        Seed of the bootstrap, so a report re-runs to the same interval.

    Returns
    -------
    ConfidenceDynamics
        ``.table`` per residue, ``.rho`` and ``.ci``, ``.regions`` of disagreement, ``.figure``.
    """
    from kenkyu.tools import analysis

    path, confidence, pae = plddt_of(prediction)
    traj = analysis.load_trajectory(trajectory)
    moving = pd.DataFrame(analysis.rmsf(traj, selection=selection))
    keys = ["chain", "resSeq", "resname"]
    table = moving[["residue_index", *keys, "residue", "rmsf_nm"]].merge(confidence, on=keys, how="inner")
    if len(table) < 0.9 * len(confidence):
        raise PredictionInputError(
            f"only {len(table)} of the prediction's {len(confidence)} residues are in the trajectory "
            f"({traj.n_residues} residues): simulate this prediction (simulate_prediction keeps its numbering)"
        )
    table.insert(table.columns.get_loc("rmsf_nm"), "unconfidence", 100.0 - table.plddt)
    pae_rho = None
    if pae is not None:
        # Column j: the expected error of residue j's position over every alignment: how well placed j is.
        placed = pd.DataFrame({**{k: confidence[k] for k in keys}, "pae_mean_A": pae.mean(axis=0)})
        table = table.merge(placed, on=keys, how="left")
    table = table.sort_values(["chain", "resSeq"]).reset_index(drop=True)
    table["label"] = _labels(table)
    rho, ci = _spearman_ci(table.unconfidence.to_numpy(), table.rmsf_nm.to_numpy(), seed, resamples)
    if pae is not None:
        from scipy import stats

        pae_rho = float(stats.spearmanr(table.pae_mean_A, table.rmsf_nm).statistic)
    return ConfidenceDynamics(
        prediction=str(path),
        trajectory=_label(trajectory, traj),
        table=table.drop(columns=["chain"]),
        rho=rho,
        ci=ci,
        n_frames=traj.n_frames,
        regions=_regions(table),
        pae_rho=pae_rho,
        resamples=resamples,
    )
