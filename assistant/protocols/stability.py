"""The stability protocol, "does the fold hold": the first research protocol, and the default.

A simulation (``md.run``) and its analyses (RMSD, radius of gyration, RMSF) test whether a protein
keeps its folded structure. The tools check their own results (the run finished and stayed finite,
the RMSD levelled off); this protocol adds what the question needs: the RMSD stays below
:data:`RMSD_FOLDED_NM`, the radius of gyration within :data:`RG_PASS`, the mobility at the chain ends.
From those checks it judges the hypothesis, revises it and proposes the next simulation.
"""

from __future__ import annotations

import os
import re

from kenkyu.assistant.protocols.base import (
    NextPlan,
    ProposedStep,
    Protocol,
    name_of,
    produces,
    reasons,
    tools_in,
)
from kenkyu.core.science import result_check, science_of, tool_of_step
from kenkyu.tools import analysis, md

# Thresholds, in one place: the plan's text and the checks below both read them.
RMSD_FOLDED_NM = 0.3  # a backbone RMSD above this from the start structure means the fold has changed
RG_PASS, RG_WARN = 0.05, 0.10  # relative change of Rg from the first frame


@result_check(f"the backbone RMSD stays below {RMSD_FOLDED_NM} nm (the fold is kept)")
def fold_kept(table):
    import numpy as np

    (expectation,) = fold_kept.expectations
    values = table["rmsd_nm"].to_numpy(dtype=float)
    worst = float(np.max(values))
    status = "pass" if worst < RMSD_FOLDED_NM else "fail"
    yield expectation, status, f"max {worst:.3f} nm, final {values[-1]:.3f} nm"


@result_check(f"the radius of gyration stays within {RG_PASS:.0%} of its start ({RG_WARN:.0%} is a warning)")
def stays_compact(table):
    (expectation,) = stays_compact.expectations
    values = table["rg_nm"].to_numpy(dtype=float)
    change = (values - values[0]) / values[0]
    worst = float(change[abs(change).argmax()])
    status = "pass" if abs(worst) <= RG_PASS else "warn" if abs(worst) <= RG_WARN else "fail"
    yield expectation, status, (f"start {values[0]:.3f} nm, final {values[-1]:.3f} nm, largest change {worst:+.1%}")


@result_check("the most mobile residues lie at a chain end or in a loop, not in the middle of a helix")
def mobile_at_ends(table):
    """The most mobile residues at the termini or in loops; helices (from DSSP of the start) are stiffer."""
    (expectation,) = mobile_at_ends.expectations
    n = len(table)
    top = table.nlargest(min(3, n), "rmsf_nm")
    positions = list(table["residue_index"])
    ends = {positions[0], positions[1], positions[-2], positions[-1]} if n >= 4 else set(positions)
    names = ", ".join(f"{r.residue} ({r.rmsf_nm:.3f} nm)" for r in top.itertuples())
    at_end = [r.residue for r in top.itertuples() if r.residue_index in ends]
    if at_end:
        yield expectation, "pass", f"most mobile: {names}; at a chain end: {', '.join(at_end)}"
    else:
        yield expectation, "warn", (f"most mobile: {names}; none at a chain end (check them against the helices)")


class Stability(Protocol):
    name = "stability"
    title = "does the fold hold under simulation?"

    # -- Plan ------------------------------------------------------------------------------------------
    def hypothesis(self, question: str, steps) -> str:
        subject = _subject(steps)
        tools = tools_in(steps)
        signs = []
        if name_of(analysis.rmsd) in tools:
            signs.append(f"its backbone RMSD levels off below {RMSD_FOLDED_NM} nm")
        if name_of(analysis.radius_of_gyration) in tools:
            signs.append(f"its radius of gyration stays within {RG_PASS:.0%} of the start")
        if name_of(analysis.rmsf) in tools:
            signs.append("its mobility is concentrated at the chain ends and loops")
        claim = f"{subject[0].upper()}{subject[1:]} keeps its folded structure under the simulated conditions"
        answer = f"Working answer to “{question}”: yes. " if question.endswith("?") else ""
        return answer + claim + (f": {', '.join(signs)}" if signs else "") + "."

    def criteria(self, steps):
        tools = tools_in(steps)
        support, refute, open_ = [], [], []
        if name_of(analysis.rmsd) in tools:
            support.append(f"RMSD plateaus below {RMSD_FOLDED_NM} nm")
            refute.append(f"RMSD rises above {RMSD_FOLDED_NM} nm")
            open_.append("the RMSD is still rising at the end (the run is too short to tell)")
        if name_of(analysis.radius_of_gyration) in tools:
            support.append(f"Rg within {RG_PASS:.0%} of the start")
            refute.append(f"Rg changes by more than {RG_WARN:.0%}")
        if name_of(analysis.rmsf) in tools:
            support.append("the most mobile residues are at the ends or in loops")
        if any(produces(t) == "answer" for t in tools):
            support.append("the literature describes a stable fold with these features")
        if name_of(md.run) in tools:
            open_.append("the simulation blows up or stops early")
        return support, refute, open_

    def tool_checks(self):
        return {
            analysis.rmsd: (fold_kept,),
            analysis.radius_of_gyration: (stays_compact,),
            analysis.rmsf: (mobile_at_ends,),
        }

    # -- Check -----------------------------------------------------------------------------------------
    def figure(self, results):
        """RMSD with its plateau window and Rg relative to the start: the series the hypothesis rests on."""

        def first(tool):
            return next((v for k, v in results.items() if tool_of_step(k) == name_of(tool)), None)

        rmsd, rg = first(analysis.rmsd), first(analysis.radius_of_gyration)
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

    # -- Act -------------------------------------------------------------------------------------------
    def judge(self, plan, report, failed, skipped):
        decisive = (name_of(analysis.rmsd), name_of(analysis.radius_of_gyration))
        refuting = [c for c in report.checks if c.status == "fail" and tool_of_step(c.step) in decisive]
        if refuting:
            return "refuted", reasons(refuting)
        blocking = [c for c in report.checks if c.status in ("fail", "skip")]
        open_ = [c for c in report.checks if c.status == "warn" and c.step.startswith(name_of(analysis.rmsd))]
        evidence = [c for c in report.checks if tool_of_step(c.step) in decisive and c.status == "pass"]
        if blocking or open_ or not evidence:
            return "inconclusive", reasons(blocking + open_) or ["no result bears on the hypothesis"]
        return "supported", reasons(evidence)

    def revised_hypotheses(self, verdict, report):
        def status(tool) -> str:
            return report.status_of(name_of(tool)) if report is not None else "skip"

        out = []
        if status(md.run) == "fail":
            out.append(
                "The run's failure is numerical (time step, clashes in the start structure), "
                "not evidence about the protein: repeat with a smaller time step before drawing "
                "conclusions."
            )
        if status(analysis.rmsd) == "warn":
            out.append(
                "The structure is still relaxing away from the experimental model: the plateau, "
                "and with it the answer, lies beyond this run's length."
            )
        if status(analysis.rmsd) == "fail" or status(analysis.radius_of_gyration) == "fail":
            out.append(
                "The fold is not stable under these conditions: compare with explicit solvent before "
                "blaming the protein rather than the solvent model."
            )
        if status(analysis.rmsf) == "warn":
            out.append("Mobility is not where the loops and termini are: look for a helix that frays.")
        if verdict == "supported":
            out.append(
                "The fold is stable on this time scale; the hydrophobic core should hold it in "
                "explicit water too, and a core mutation (e.g. a Phe to Ala) should loosen it."
            )
        return out

    def next_plan(self, plan, report, failed):
        """The same steps with the simulation changed where a check asked for it."""
        simulate = name_of(md.run)
        md_step = next((s for s in plan.steps if s.tool == simulate), None)
        if md_step is None:
            return None
        args = dict(md_step.arguments)
        rmsd, rg = name_of(analysis.rmsd), name_of(analysis.radius_of_gyration)
        status = {step: report.status_of(step) for step in (simulate, rmsd, rg)} if report is not None else {}
        if simulate in failed or status.get(simulate) == "fail":
            args["timestep_fs"] = float(args.get("timestep_fs", 2.0)) / 2
            args["minimize_max_iterations"] = 0
            change = (
                f"halve the time step to {args['timestep_fs']:g} fs and minimise fully: "
                "the run was numerically unstable"
            )
            hypothesis = "The failure was numerical (time step or clashes), not a property of the protein: " + _claim(
                plan.hypothesis
            )
        elif status.get(rmsd) == "warn" or status.get(rg) == "warn":
            args["ps"] = float(args.get("ps", 10.0)) * 10
            change = f"run 10x longer ({args['ps']:g} ps): the RMSD (or Rg) had not settled"
            hypothesis = "The structure was still relaxing from the experimental model; given time, " + _claim(
                plan.hypothesis
            )
        elif args.get("solvent") != "explicit":
            args["solvent"] = "explicit"
            change = "repeat in explicit water (TIP3P): the implicit-solvent result should hold with real water"
            hypothesis = "The result is not an artefact of the implicit solvent: in water too, " + _claim(
                plan.hypothesis
            )
        else:
            args["ps"] = float(args.get("ps", 10.0)) * 10
            change = f"extend to {args['ps']:g} ps to look at slower motions"
            hypothesis = _claim(plan.hypothesis)
            hypothesis = hypothesis[0].upper() + hypothesis[1:]
        args.pop("resume", None)
        args.pop("overwrite", None)
        old_out = science_of(md.run).output_folder(md_step.arguments)
        # A folder that says what changed, so the first run is kept beside it.
        length = f"{float(args.get('ps', 10.0)):g}ps_{float(args.get('timestep_fs', 2.0)):g}fs"
        args["out"] = md.run_directory(args["structure"], args.get("solvent", "explicit"), length)
        steps = []
        for s in plan.steps:
            if s.tool is None:
                continue
            new_args = (
                dict(args)
                if s is md_step
                else {k: (args["out"] if v == old_out else v) for k, v in s.arguments.items()}
            )
            steps.append(ProposedStep(s.text if s is not md_step else f"{change}", s.tool, new_args))
        return NextPlan(steps, hypothesis)


def _subject(steps) -> str:
    for s in steps:
        structure = s.arguments.get("structure") if s.arguments else None
        if structure:
            return f"the protein in `{os.path.basename(str(structure))}`"
    return "the protein"


def _claim(hypothesis: str) -> str:
    """The hypothesis without the template's "Working answer to ...: yes." preface, starting lower-case."""
    claim = re.sub(r"^Working answer to “[^”]*”: yes\.\s*", "", hypothesis.strip())
    return claim[:1].lower() + claim[1:]


STABILITY = Stability()
