"""The stability protocol, "does the fold hold": the first research protocol, and the default.

A simulation (``md.run``) and its analyses (RMSD, radius of gyration, RMSF) test whether a protein
keeps its folded structure. The tools check their own results (the run finished and stayed finite,
the RMSD levelled off); this protocol adds what the question needs: the RMSD stays below
:data:`RMSD_FOLDED_NM`, the radius of gyration within :data:`RG_PASS`, the mobility at the chain ends.
From those checks it judges the hypothesis, revises it and proposes the next simulation.

A stability question asked on its own ("Does villin stay folded?") is planned here, not routed: an
ensemble of replicas (:func:`kenkyu.tools.ensembles.run`, :data:`DEFAULT_REPLICAS` by default) instead of
one run, so that the checks report each quantity as a mean with its 95% CI over the replicas (the RMSD
plateau, the Rg change, the RMSF of the most mobile residues; :mod:`.replicas`). A run much shorter than
the process the question asks about (:mod:`kenkyu.core.timescales`: unfolding takes µs–s) cannot support
the hypothesis: its verdict is "inconclusive", with the reason. A request that names its own steps
("Run 10 ps of villin.pdb, then compute the RMSD") is routed as before, and its single run checked as before.
"""

from __future__ import annotations

import os
import re

from kenkyu.assistant.protocols.base import (
    MissingInput,
    NextPlan,
    ProposedStep,
    Protocol,
    name_of,
    produces,
    reasons,
    tools_in,
)
from kenkyu.assistant.protocols import stability_replicas as replicas
from kenkyu.core.routing import number_for, path_tokens, replica_count
from kenkyu.core.science import result_check, science_of, tool_of_step
from kenkyu.core.timescales import process_asked, shortfall
from kenkyu.tools import analysis, ensembles, md

# Thresholds, in one place: the plan's text and the checks below both read them.
RMSD_FOLDED_NM = 0.3  # a backbone RMSD above this from the start structure means the fold has changed
RG_PASS, RG_WARN = 0.05, 0.10  # relative change of Rg from the first frame
DEFAULT_REPLICAS = 3  # the fewest that give a spread, and a CI, that one outlier cannot dominate
DEFAULT_PS = 10.0
FRAMES = 10  # frames each replica saves: enough for the plateau check (it wants at least 6)

_STABILITY = re.compile(
    r"\b(?:stay|stays|remain|remains|keep|keeps|still)\s+(?:\w+\s+)?(?:folded|(?:its|the|their)\s+fold)\b"
    r"|\bfold\s+holds?\b|\bhold\s+(?:its|the)\s+fold\b|\bstable\b|\bstability\b|\bfall\s+apart\b",
    re.I,
)
# Questions other protocols answer: heating (thermal unfolding), mutations, predicted structures.
_OTHER_PROTOCOL = re.compile(
    r"\bheat\w*|\bmelt\w*|\btemperatures?\b|\bthermal\b|\bmuta(?:nt|tion)\w*|\bvariant\w*|\bpredict\w*"
    r"|\bplddt\b|\bwhich part\b|\bunfolds? first\b|\b[ACDEFGHIKLMNPQRSTVWY]\d+[ACDEFGHIKLMNPQRSTVWY]\b",
    re.I,
)
STRUCTURE_SUFFIXES = (".pdb", ".ent", ".cif", ".mmcif")
EXAMPLES = ("villin", "1vii", "dhfr", "5dfr")  # the structures kenkyu ships (kenkyu.tools.md.example_structure)


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


# -- the same questions over replicas: each a mean with its 95% CI ----------------------------------------


@result_check("every replica finishes")
def replicas_finished(ensemble):
    (expectation,) = replicas_finished.expectations
    done, total = len(ensemble.finished), len(ensemble.members)
    errors = "; ".join(f"{k}: {v}" for k, v in ensemble.errors.items())[:200]
    status = "pass" if done == total else "warn" if done >= 2 else "fail"
    yield expectation, status, f"{done} of {total} replicas finished" + (f" ({errors})" if errors else "")


@result_check(
    f"the backbone RMSD plateaus below {RMSD_FOLDED_NM} nm in the replicas (mean of the last third; "
    "its 95% CI over replicas below the threshold)"
)
def replicas_fold_kept(ensemble):
    from kenkyu.tools.analysis import PLATEAU_RISE, plateau_rise

    (expectation,) = replicas_fold_kept.expectations
    if len(ensemble.finished) < 1:
        yield expectation, "skip", "no replica finished"
        return
    table = replicas.series(ensemble)["rmsd"]
    level = replicas.interval(replicas.per_replica(table, "rmsd_nm", lambda t, v: plateau_rise(t, v)[1]))
    rise = replicas.interval(
        replicas.per_replica(table, "rmsd_nm", lambda t, v: plateau_rise(t, v)[0] / max(plateau_rise(t, v)[1], 1e-9))
    )
    detail = f"plateau RMSD {level.text(' nm')}; rise over the last third {rise.mean:+.0%} on average"
    if level.n < 2:
        status = "warn"
    elif level.low > RMSD_FOLDED_NM:
        status = "fail"
    elif rise.mean >= PLATEAU_RISE:
        status, detail = "warn", detail + ": still rising"
    elif level.high < RMSD_FOLDED_NM:
        status = "pass"
    else:
        status, detail = "warn", detail + f": the CI straddles {RMSD_FOLDED_NM} nm"
    yield expectation, status, detail


@result_check(
    f"the radius of gyration stays within {RG_PASS:.0%} of its start in the replicas (largest change per "
    f"replica; its 95% CI within ±{RG_PASS:.0%}, beyond ±{RG_WARN:.0%} fails)"
)
def replicas_stay_compact(ensemble):
    (expectation,) = replicas_stay_compact.expectations
    if len(ensemble.finished) < 1:
        yield expectation, "skip", "no replica finished"
        return

    def largest_change(times, values):
        change = (values - values[0]) / values[0]
        return change[abs(change).argmax()]

    change = replicas.interval(replicas.per_replica(replicas.series(ensemble)["rg"], "rg_nm", largest_change))
    detail = f"largest Rg change {change.text('%', scale=100, digits=1)}"
    if change.n < 2:
        status = "warn"
    elif change.low > RG_WARN or change.high < -RG_WARN:
        status = "fail"
    elif -RG_PASS <= change.low and change.high <= RG_PASS:
        status = "pass"
    else:
        status = "warn"
    yield expectation, status, detail


@result_check("the most mobile residues across replicas lie at a chain end or in a loop (mean RMSF, 95% CI)")
def replicas_mobile_at_ends(ensemble):
    from scipy import stats

    (expectation,) = replicas_mobile_at_ends.expectations
    if len(ensemble.finished) < 1:
        yield expectation, "skip", "no replica finished"
        return
    table = replicas.series(ensemble)["rmsf"]
    n = len(table)
    top = table.nlargest(min(3, n), "rmsf_mean_nm")
    positions = list(table["residue_index"])
    ends = {positions[0], positions[1], positions[-2], positions[-1]} if n >= 4 else set(positions)

    def ci(row) -> str:
        if row.n_members < 2:
            return f"{row.rmsf_mean_nm:.3f} nm"
        half = stats.t.ppf(0.975, row.n_members - 1) * row.rmsf_std_nm / row.n_members**0.5
        return f"{row.rmsf_mean_nm:.3f} nm, 95% CI ±{half:.3f}"

    names = ", ".join(f"{r.residue} ({ci(r)})" for r in top.itertuples())
    at_end = [r.residue for r in top.itertuples() if r.residue_index in ends]
    replicas_n = int(table.n_members.max())
    if at_end:
        yield (
            expectation,
            "pass",
            f"most mobile over {replicas_n} replicas: {names}; at a chain end: {', '.join(at_end)}",
        )
    else:
        yield expectation, "warn", f"most mobile over {replicas_n} replicas: {names}; none at a chain end"


# The checks whose failure refutes "the fold holds" (the others say the evidence is missing, not against it).
REFUTING = {replicas_fold_kept.expectations[0], replicas_stay_compact.expectations[0]}


class Stability(Protocol):
    name = "stability"
    title = "does the fold hold under simulation?"
    outline = (
        "independent MD replicas of the structure (implicit solvent by default), then the RMSD plateau, the "
        "radius of gyration change and the RMSF per replica with 95% CIs over the replicas"
    )
    verdict_tests = (
        "the fold holds: in every replica the backbone RMSD levels off below 0.3 nm and the radius of gyration stays "
        "within 5% of the start"
    )

    # -- choosing --------------------------------------------------------------------------------------
    def claims(self, question: str) -> bool:
        return bool(_STABILITY.search(question) and not _OTHER_PROTOCOL.search(question))

    def plan_steps(self, question, request, candidates):
        """Replicas of one simulation, unless the request names its own steps (then they are routed)."""
        sentences = re.split(r"(?<=[.?!])\s+", request.strip())
        rest = " ".join(s for s in sentences if not s.endswith("?") and not s.lower().startswith("hypothesis"))
        if _NAMES_STEPS.search(rest):
            return None
        structure = _structure_in(question, request, candidates)
        if structure is None:
            raise MissingInput(
                "a stability question needs the protein: name its structure file in the question (e.g. "
                "'Does villin.pdb stay folded?'), or a file of the working folder by its name"
            )
        ps = number_for("ps", request) or DEFAULT_PS
        n = replica_count(request) or DEFAULT_REPLICAS
        # Implicit solvent unless the words ask for water or vacuum: replicas multiply the cost.
        solvent = (
            "explicit"
            if re.search(r"\bexplicit\b|\bwater box\b|\btip3p\b|\bin water\b", request, re.I)
            else "vacuum"
            if re.search(r"\bvacuum\b", request, re.I)
            else "implicit"
        )
        options = {"nvt_ps": min(10.0, ps / 2), "report_interval_ps": ps / FRAMES}
        if re.search(r"\breproducib\w*", request, re.I):
            options["reproducible"] = True  # bit-identical replicas when the report re-runs
        arguments = {
            "structure": structure,
            "replicas": n,
            "ps": ps,
            "solvent": solvent,
            "out": ensemble_folder(structure, solvent, ps, n),
            "md_options": options,
            "seed": _seed(request),
        }
        text = f"simulate {n} independent replicas of {ps:g} ps in {solvent} solvent (Dask)"
        return [ProposedStep(text, name_of(ensembles.run), arguments)]

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
        if name_of(ensembles.run) in tools:
            signs.append(
                f"in every replica its backbone RMSD levels off below {RMSD_FOLDED_NM} nm and its radius of "
                f"gyration stays within {RG_PASS:.0%} of the start (means with 95% CIs over the replicas)"
            )
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
        if name_of(ensembles.run) in tools:
            support.append(
                f"the replicas' plateau RMSD has its 95% CI below {RMSD_FOLDED_NM} nm and their Rg change "
                f"within ±{RG_PASS:.0%}"
            )
            refute.append(
                f"the CI of the plateau RMSD lies above {RMSD_FOLDED_NM} nm, or the Rg changes by > {RG_WARN:.0%}"
            )
            open_.append("the replicas disagree (a CI straddles a threshold) or the RMSD is still rising")
        if tools & {name_of(md.run), name_of(ensembles.run)}:
            open_.append("the run is far shorter than unfolding takes (µs–s): holding for it is then no evidence")
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
            ensembles.run: (replicas_finished, replicas_fold_kept, replicas_stay_compact, replicas_mobile_at_ends),
        }

    # -- Check -----------------------------------------------------------------------------------------
    def figure(self, results):
        """RMSD with its plateau window and Rg relative to the start: the series the hypothesis rests on."""

        def first(tool):
            return next((v for k, v in results.items() if tool_of_step(k) == name_of(tool)), None)

        ensemble = first(ensembles.run)
        if ensemble is not None and ensemble.finished:
            return replicas.figure(ensemble, RMSD_FOLDED_NM, RG_PASS, RG_WARN)
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

        def decides(c) -> bool:
            return tool_of_step(c.step) in decisive or c.expectation in REFUTING

        refuting = [c for c in report.checks if c.status == "fail" and decides(c)]
        if refuting:  # a fold lost within even a short run is evidence: a refutation needs no long run
            return "refuted", reasons(refuting)
        blocking = [c for c in report.checks if c.status in ("fail", "skip")]
        open_ = [
            c
            for c in report.checks
            if c.status == "warn"
            and (c.step.startswith(name_of(analysis.rmsd)) or c.expectation == replicas_fold_kept.expectations[0])
        ]
        evidence = [c for c in report.checks if decides(c) and c.status == "pass"]
        too_short = _too_short(plan)
        if blocking or open_ or not evidence:
            why = reasons(blocking + open_) or ["no result bears on the hypothesis"]
            return "inconclusive", why + ([too_short] if too_short and not blocking else [])
        if too_short:
            return "inconclusive", [too_short, *reasons(evidence)]
        return "supported", reasons(evidence)

    def revised_hypotheses(self, verdict, report):
        # A replica check stands for the single-run tool it repeats, so the same revisions apply.
        stands_for = {
            name_of(md.run): replicas_finished.expectations[0],
            name_of(analysis.rmsd): replicas_fold_kept.expectations[0],
            name_of(analysis.radius_of_gyration): replicas_stay_compact.expectations[0],
            name_of(analysis.rmsf): replicas_mobile_at_ends.expectations[0],
        }

        def status(tool) -> str:
            if report is None:
                return "skip"
            found = report.status_of(name_of(tool))
            if found == "skip":
                found = next((c.status for c in report.checks if c.expectation == stands_for[name_of(tool)]), "skip")
            return found

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
            return self._next_replicas(plan, report, failed)
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

    def _next_replicas(self, plan, report, failed):
        """The replicas again, changed where a check asked for it, in a folder of their own."""
        run = name_of(ensembles.run)
        step = next((s for s in plan.steps if s.tool == run), None)
        if step is None:
            return None
        args = {k: v for k, v in step.arguments.items() if k not in ("overwrite",)}
        options = dict(args.get("md_options") or {})

        def status(check) -> str:
            found = [c.status for c in (report.checks if report is not None else []) if c.expectation == check]
            return found[0] if found else "skip"

        claim = _claim(plan.hypothesis)
        if run in failed or status(replicas_finished.expectations[0]) == "fail":
            options["timestep_fs"] = float(options.get("timestep_fs", 2.0)) / 2
            change = f"halve the time step to {options['timestep_fs']:g} fs: the replicas were numerically unstable"
            hypothesis = "The failure was numerical (time step or clashes), not a property of the protein: " + claim
        elif args.get("solvent") != "explicit" and status(replicas_fold_kept.expectations[0]) == "pass":
            args["solvent"] = "explicit"
            change = "repeat the replicas in explicit water (TIP3P): the implicit-solvent result should hold"
            hypothesis = "The result is not an artefact of the implicit solvent: in water too, " + claim
        else:
            args["ps"] = float(args.get("ps", DEFAULT_PS)) * 10
            options["report_interval_ps"] = args["ps"] / FRAMES
            change = f"run the replicas 10x longer ({args['ps']:g} ps): closer to the time the question is about"
            hypothesis = "Given more time, " + claim
        args["md_options"] = options
        args["out"] = ensemble_folder(args["structure"], args.get("solvent", "implicit"), args["ps"], args["replicas"])
        return NextPlan([ProposedStep(change, run, args)], hypothesis)


# A request that names its own analyses or a single run is routed as written, not replaced by replicas.
_NAMES_STEPS = re.compile(
    r"\b(?:compute|calculate|plot|analy[sz]e|measure|then|rmsd|rmsf|radius of gyration|rg|dssp|"
    r"single run|one run|one simulation)\b",
    re.I,
)


def ensemble_folder(structure, solvent: str, ps: float, replicas_n: int) -> str:
    """Where a plan's replicas go: the settings in the name, so a next plan's replicas sit beside them."""
    return (
        f"md_ensembles/{os.path.splitext(os.path.basename(str(structure)))[0]}_{solvent}_{float(ps):g}ps_x{replicas_n}"
    )


def _structure_in(question: str, request: str, candidates) -> str | None:
    """The protein: a structure path in the words, a structure file the question names, or a shipped
    example it names ("villin"); None when there is none."""
    for token in path_tokens(request):
        if token.lower().endswith(STRUCTURE_SUFFIXES):
            return token
    lowered = question.lower()

    def said(name: str) -> bool:
        return bool(name) and re.search(rf"(?<!\w){re.escape(name.lower())}(?!\w)", lowered) is not None

    for candidate in sorted(candidates, key=lambda c: -c.order):
        if candidate.kind == "pdb_file" and any(said(n) for n in (*candidate.names, *candidate.aliases)):
            return candidate.value
    for name in EXAMPLES:
        if said(name):
            return str(md.example_structure(name))
    return None


def _seed(request: str) -> int:
    """The seed the request names ("seed 7"), else 1: replicas get seed, seed + 1, ... (recorded)."""
    match = re.search(r"\bseed\s*[=:]?\s*(\d+)", request, re.I)
    return int(match.group(1)) if match else 1


def _simulated_ps(plan) -> float | None:
    """The production length the plan simulated (each replica's), or None when it ran nothing."""
    for step in plan.steps:
        if step.tool in (name_of(md.run), name_of(ensembles.run)):
            return float(step.arguments.get("ps", DEFAULT_PS))
    return None


def _too_short(plan) -> str | None:
    """Why a run this short cannot support "the fold holds", from the process the question asks about
    (unfolding when it names none: the hypothesis is about the fold)."""
    ps = _simulated_ps(plan)
    if ps is None:
        return None
    process = process_asked(plan.question)
    if process is None or process.name == "folding":  # "does it keep its fold" asks whether it unfolds
        process = process_asked("unfolding")
    caveat = shortfall(ps, process)
    if caveat is None:
        return None
    return (
        f"{caveat[0].upper()}{caveat[1:]}: that the fold held over it is no evidence that it stays folded; inconclusive"
    )


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
