"""Check: do the results meet the plan's expectations?

Plain Python on the tools' own result objects (an :class:`~kenkyu.tools.md.MDRun`, the analysis
tables, a literature answer), so the research loop's Check cell is an ordinary call that an exported
report re-runs to the same verdicts::

    check = kenkyu.assistant.checks.check_results({"md_run": run, "analysis_rmsd": rmsd})
    check            # a table of pass / warn / fail per expectation, with a figure

Each tool's expectations and their thresholds are listed in :data:`EXPECTATIONS`; the plan quotes the
same text, so what was promised in Plan is what is checked here.
"""

from __future__ import annotations

import base64
import io
import math
from dataclasses import asdict, dataclass, field

# Thresholds, in one place: the plan's text and the checks below both read them.
RMSD_FOLDED_NM = 0.3  # a backbone RMSD above this from the start structure means the fold has changed
PLATEAU_RISE = 0.10  # RMSD rise over the last third, as a fraction of its level there, still called a plateau
RG_PASS, RG_WARN = 0.05, 0.10  # relative change of Rg from the first frame
ENERGY_DRIFT = 0.05  # relative change of the potential energy between the first and last third of production
TEMPERATURE_TOLERANCE = 0.10  # mean temperature within this fraction of the thermostat's target
MIN_FRAMES_TO_JUDGE = 6
LITERATURE_MIN_RELEVANCE = 0.3  # cosine similarity of question and passage, as literature.ask's own cut-off

EXPECTATIONS: dict[str, list[str]] = {
    "md_run": [
        "the run finishes all its production frames (no blow-up)",
        "energies and positions stay finite (no NaN)",
        f"the potential energy is stable: first and last third of production differ by < {ENERGY_DRIFT:.0%}",
        f"the mean temperature is within {TEMPERATURE_TOLERANCE:.0%} of the target",
    ],
    "analysis_rmsd": [
        f"the RMSD plateaus: its mean over the last third differs by < {PLATEAU_RISE:.0%} from the third before",
        f"the backbone RMSD stays below {RMSD_FOLDED_NM} nm (the fold is kept)",
    ],
    "analysis_radius_of_gyration": [
        f"the radius of gyration stays within {RG_PASS:.0%} of its start ({RG_WARN:.0%} is a warning)",
    ],
    "analysis_rmsf": [
        "the most mobile residues lie at a chain end or in a loop, not in the middle of a helix",
    ],
    "literature": ["the literature returns cited evidence for the question"],
}
STATUSES = ("pass", "warn", "fail", "skip")


def expectations_for(tool_name: str | None) -> list[str]:
    if tool_name and tool_name.startswith("literature"):
        return EXPECTATIONS["literature"]
    return EXPECTATIONS.get(tool_name or "", [])


@dataclass
class Check:
    step: str
    expectation: str
    status: str  # pass | warn | fail | skip
    detail: str

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"a check's status is one of {STATUSES}, not {self.status!r}")


@dataclass
class CheckReport:
    """The verdicts of one Check section; shows as a table (and figure) in a notebook."""

    checks: list[Check] = field(default_factory=list)
    figure: object = None

    def by_step(self, step: str) -> list[Check]:
        return [c for c in self.checks if c.step == step]

    def status_of(self, step: str) -> str:
        """The worst status among a step's checks ("skip" when it has none)."""
        found = {c.status for c in self.by_step(step)}
        for status in ("fail", "warn", "pass"):
            if status in found:
                return status
        return "skip"

    @property
    def counts(self) -> dict[str, int]:
        return {s: sum(c.status == s for c in self.checks) for s in STATUSES}

    def table(self):
        import pandas as pd

        return pd.DataFrame([asdict(c) for c in self.checks], columns=["step", "expectation", "status", "detail"])

    def summary(self) -> str:
        counts = ", ".join(f"{n} {s}" for s, n in self.counts.items() if n)
        lines = [f"Check: {counts or 'nothing to check'}"]
        lines += [f"- [{c.status}] {c.step}: {c.expectation} — {c.detail}" for c in self.checks]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()

    def _repr_markdown_(self) -> str:
        marks = {"pass": "✅ pass", "warn": "⚠️ warn", "fail": "❌ fail", "skip": "⏭ skip"}
        rows = ["| step | expectation | result | detail |", "|---|---|---|---|"]
        rows += [f"| `{c.step}` | {c.expectation} | {marks[c.status]} | {c.detail} |" for c in self.checks]
        counts = ", ".join(f"{n} {s}" for s, n in self.counts.items() if n)
        return f"**Check:** {counts}\n\n" + "\n".join(rows)

    def _repr_html_(self) -> str:
        import html

        rows = "".join(
            f"<tr><td><code>{html.escape(c.step)}</code></td><td>{html.escape(c.expectation)}</td>"
            f"<td><b>{c.status}</b></td><td>{html.escape(c.detail)}</td></tr>" for c in self.checks
        )
        parts = [f"<p><b>{html.escape(self.summary().splitlines()[0])}</b></p>",
                 f"<table><tr><th>step</th><th>expectation</th><th>result</th><th>detail</th></tr>{rows}</table>"]
        if self.figure is not None:
            buffer = io.BytesIO()
            self.figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
            parts.append(f'<img src="data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}"/>')
        return "\n".join(parts)


def check_results(results: dict, failed: dict | None = None, skipped: dict | None = None) -> CheckReport:
    """Check each step's result against its expectations.

    Parameters
    ----------
    results
        Step name (the tool's name, e.g. ``"md_run"``, ``"analysis_rmsd"``) -> the object the step returned.
        A name may carry a suffix (``"analysis_rmsd_2"``) when a plan calls a tool twice.
    failed
        Step name -> the error a step raised; each becomes a failed check.
    skipped
        Step name -> why a step did not run (declined, or an earlier step it needs failed).
    """
    report = CheckReport()
    for step, why in (failed or {}).items():
        expectation = expectations_for(_tool_of(step))
        report.checks.append(Check(step, expectation[0] if expectation else "the step runs", "fail", str(why)[:300]))
    for step, why in (skipped or {}).items():
        report.checks.append(Check(step, "the step runs", "skip", str(why)[:300]))
    for step, value in results.items():
        checker = _CHECKERS.get(_tool_of(step)) or (check_literature if _tool_of(step).startswith("literature") else None)
        if checker is None:
            continue
        report.checks.extend(Check(step, e, s, d) for e, s, d in checker(value))
    report.figure = _figure(results)
    return report


def _tool_of(step: str) -> str:
    base = step.rsplit("_", 1)
    return base[0] if len(base) == 2 and base[1].isdigit() else step


# -- per-tool checks: each yields (expectation, status, detail) -----------------------------------------


def check_md_run(run):
    """A run that blew up, stopped early or drifted in energy or temperature."""
    from kenkyu.tools.md import MDRun

    run = run if isinstance(run, MDRun) else MDRun(run)
    info = run.info
    p = info["parameters"]
    expected_frames = round(p["ps"] / p["report_interval_ps"])
    e_finish, e_finite, e_energy, e_temp = EXPECTATIONS["md_run"]
    frames = run.n_frames
    if info.get("status") == "finished" and frames >= expected_frames:
        yield e_finish, "pass", f"finished: {frames} of {expected_frames} frames"
    else:
        error = info.get("error") or "no error recorded"
        yield e_finish, "fail", f"status {info.get('status')!r} with {frames} of {expected_frames} frames: {error}"
    data = run.state_data() if run.state_data_path.exists() else None
    if data is None or not len(data):
        yield e_finite, "fail", "no state data was written"
        return
    energy = data["Potential Energy (kJ/mole)"].to_numpy(dtype=float)
    temperature = data["Temperature (K)"].to_numpy(dtype=float)
    blown = "blow" in str(info.get("error", "")).lower() or "nan" in str(info.get("error", "")).lower()
    if all(math.isfinite(v) for v in energy) and not blown:
        yield e_finite, "pass", f"{len(energy)} state rows, all finite"
    else:
        yield e_finite, "fail", f"non-finite energy: {info.get('error') or 'NaN in state.csv'}"
        return
    production = energy[-frames:] if frames else energy
    third = max(1, len(production) // 3)
    first, last = production[:third].mean(), production[-third:].mean()
    drift = abs(last - first) / max(abs(first), 1e-9)
    status = "pass" if drift < ENERGY_DRIFT else "warn"
    yield e_energy, status, f"mean {first:.6g} -> {last:.6g} kJ/mol ({drift:.1%})"
    target = p["temperature_k"]
    mean_t = temperature.mean()
    off = abs(mean_t - target) / target
    yield e_temp, "pass" if off < TEMPERATURE_TOLERANCE else "warn", f"mean {mean_t:.1f} K for {target:g} K"


def check_rmsd(table):
    """Plateau in the last third, and below the folded threshold."""
    import numpy as np

    e_plateau, e_folded = EXPECTATIONS["analysis_rmsd"]
    values = table["rmsd_nm"].to_numpy(dtype=float)
    times = table["time_ps"].to_numpy(dtype=float)
    if len(values) < MIN_FRAMES_TO_JUDGE:
        yield e_plateau, "warn", f"only {len(values)} frames: too few to judge a plateau (run longer)"
    else:
        rise, level, start, end = plateau_rise(times, values)
        relative = rise / max(level, 1e-9)
        status = "pass" if relative < PLATEAU_RISE else "warn"
        words = "flat" if status == "pass" else "still rising" if rise > 0 else "still falling"
        yield e_plateau, status, (f"{words}: mean {level:.3f} nm over {start:.3g}-{end:.3g} ps, "
                                  f"{rise:+.3f} nm ({relative:+.0%}) from the third before")
    worst = float(np.max(values))
    yield e_folded, "pass" if worst < RMSD_FOLDED_NM else "fail", f"max {worst:.3f} nm, final {values[-1]:.3f} nm"


def plateau_rise(times, values):
    """Block averages: the mean of the last third minus the mean of the middle third of a series.

    Returns (rise, mean level of the last third, start and end time of the last third). Means of
    blocks, not a line through a few frames: one noisy frame must not decide whether a run settled.
    """
    import numpy as np

    v, t = np.asarray(values, dtype=float), np.asarray(times, dtype=float)
    size = max(2, len(v) // 3)
    last, middle = v[-size:], v[-2 * size:-size]
    return float(last.mean() - middle.mean()), float(last.mean()), float(t[-size]), float(t[-1])


def check_radius_of_gyration(table):
    (e_rg,) = EXPECTATIONS["analysis_radius_of_gyration"]
    values = table["rg_nm"].to_numpy(dtype=float)
    change = (values - values[0]) / values[0]
    worst = float(change[abs(change).argmax()])
    status = "pass" if abs(worst) <= RG_PASS else "warn" if abs(worst) <= RG_WARN else "fail"
    yield e_rg, status, f"start {values[0]:.3f} nm, final {values[-1]:.3f} nm, largest change {worst:+.1%}"


def check_rmsf(table):
    """The most mobile residues at the termini or in loops; helices (from DSSP of the start) are stiffer."""
    (e_rmsf,) = EXPECTATIONS["analysis_rmsf"]
    n = len(table)
    top = table.nlargest(min(3, n), "rmsf_nm")
    positions = list(table["residue_index"])
    ends = {positions[0], positions[1], positions[-2], positions[-1]} if n >= 4 else set(positions)
    names = ", ".join(f"{r.residue} ({r.rmsf_nm:.3f} nm)" for r in top.itertuples())
    at_end = [r.residue for r in top.itertuples() if r.residue_index in ends]
    if at_end:
        yield e_rmsf, "pass", f"most mobile: {names}; at a chain end: {', '.join(at_end)}"
    else:
        yield e_rmsf, "warn", f"most mobile: {names}; none at a chain end (check them against the helices)"


def check_literature(answer):
    (e_lit,) = EXPECTATIONS["literature"]
    evidence = getattr(answer, "evidence", "found")
    citations = getattr(answer, "citations", None)
    if evidence == "missing":
        citations = []
    elif evidence == "passages-only":
        # Without an LLM every retrieved passage is listed; only those about the question count.
        citations = [c for c in getattr(answer, "passages", citations or [])
                     if getattr(c, "relevance", None) is None or c.relevance >= LITERATURE_MIN_RELEVANCE]
    if citations is None:
        try:
            citations = list(answer)
        except TypeError:
            citations = []
    sources = sorted({_source_of(c) for c in citations} - {""})
    if citations:
        yield e_lit, "pass", f"{len(citations)} cited passage(s) from {len(sources) or '?'} source(s): {', '.join(sources)[:200]}"
    else:
        yield e_lit, "warn", "no passage matched: the corpus may not cover this question"


def _source_of(citation) -> str:
    for attr in ("source", "key", "title", "path", "file"):
        value = getattr(citation, attr, None) or (citation.get(attr) if isinstance(citation, dict) else None)
        if value:
            return str(value).rsplit("/", 1)[-1]
    return ""


_CHECKERS = {
    "md_run": check_md_run,
    "analysis_rmsd": check_rmsd,
    "analysis_radius_of_gyration": check_radius_of_gyration,
    "analysis_rmsf": check_rmsf,
}


def _figure(results: dict):
    """RMSD with its plateau window and Rg relative to the start: the two series the hypothesis rests on."""
    rmsd = next((v for k, v in results.items() if _tool_of(k) == "analysis_rmsd"), None)
    rg = next((v for k, v in results.items() if _tool_of(k) == "analysis_radius_of_gyration"), None)
    panels = [x for x in (rmsd, rg) if x is not None]
    if not panels:
        return None
    from matplotlib.figure import Figure

    figure = Figure(figsize=(4.0 * len(panels), 3.0), layout="constrained")
    axes = figure.subplots(1, len(panels), squeeze=False)[0]
    index = 0
    if rmsd is not None:
        ax = axes[index]
        index += 1
        ax.plot(rmsd["time_ps"], rmsd["rmsd_nm"], lw=1.2)
        n = len(rmsd)
        if n >= 3:
            start = rmsd["time_ps"].iloc[n - max(2, n // 3)]
            ax.axvspan(start, rmsd["time_ps"].iloc[-1], color="tab:orange", alpha=0.15, label="plateau window")
        ax.axhline(RMSD_FOLDED_NM, color="tab:red", ls="--", lw=1, label=f"{RMSD_FOLDED_NM} nm")
        ax.set(xlabel="time (ps)", ylabel="RMSD (nm)", title="Check: RMSD plateau")
        ax.legend(fontsize=7)
    if rg is not None:
        ax = axes[index]
        relative = (rg["rg_nm"] - rg["rg_nm"].iloc[0]) / rg["rg_nm"].iloc[0] * 100
        ax.plot(rg["time_ps"], relative, lw=1.2)
        for sign in (-1, 1):
            ax.axhline(sign * RG_PASS * 100, color="tab:green", ls="--", lw=1)
            ax.axhline(sign * RG_WARN * 100, color="tab:red", ls=":", lw=1)
        ax.set(xlabel="time (ps)", ylabel="Rg change (%)", title="Check: compactness")
    return figure
