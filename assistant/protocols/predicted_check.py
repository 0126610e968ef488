"""The predicted structure check, "can I trust this prediction?": pLDDT against a short simulation's RMSF.

A predicted structure (a PDB whose B-factor column holds pLDDT, as ESMFold and AlphaFold write it, so a
prediction made elsewhere works; or a sequence, folded first) is simulated briefly in implicit solvent
(:func:`kenkyu.tools.structure.prepare_for_md`, then :func:`kenkyu.tools.md.run`), and its per-residue
RMSF is ranked against (100 − pLDDT) (:func:`kenkyu.tools.prediction_check.confidence_vs_dynamics`): a
Spearman correlation with a bootstrap CI, and the regions where prediction and dynamics disagree. The
hypothesis is that the two agree; the verdict is "inconclusive" when the CI includes 0 or the data are
too few, with the reason.
"""

from __future__ import annotations

import re
from pathlib import Path

from kenkyu.assistant.protocols.base import MissingInput, NextPlan, ProposedStep, Protocol, name_of, reasons
from kenkyu.core.routing import number_for, path_tokens, protein_tokens
from kenkyu.core.science import tool_of_step
from kenkyu.tools import md, prediction_check, structure

DEFAULT_PS = 20.0  # long enough for ~20 frames of side-chain and loop motion on a laptop, short enough to wait for
FRAMES = 20  # frames saved per run: twice the check's minimum
STRUCTURE_SUFFIXES = (".pdb", ".ent", ".cif", ".mmcif")

_PREDICTION = re.compile(r"\bpredict(?:ed|ion|ions)?\b|\besmfold\b|\balphafold\b|\bplddt\b", re.I)
_DOUBT = re.compile(
    r"\b(?:trust\w*|confiden\w*|reliab\w*|believ\w*|dynamics|accurate|plddt|rmsf|hold up|credible)\b", re.I
)
_OTHER_PROTOCOL = re.compile(r"\bmutat\w*|\bvariant\w*|\bmelt\w*|\bheat\w*|\bunfold\w*", re.I)

CHECK = name_of(prediction_check.confidence_vs_dynamics)
PREPARE = name_of(structure.prepare_for_md)
SIMULATE = name_of(md.run)
FOLD = name_of(structure.fold)


class PredictedCheck(Protocol):
    name = "predicted-structure-check"
    title = "does a predicted structure's confidence match its dynamics?"
    outline = (
        "the predicted structure (pLDDT in its B-factors, or a sequence folded first) prepared with pdbfixer, a "
        "short implicit-solvent MD run, then the Spearman correlation of per-residue RMSF with (100 - pLDDT), its "
        "bootstrap CI, and the regions where the two disagree"
    )
    verdict_tests = (
        "that the prediction's confidence matches its dynamics: Spearman rho of RMSF with (100 - pLDDT) above 0, "
        "its 95% CI above 0"
    )

    # -- choosing --------------------------------------------------------------------------------------
    def matches(self, question, tools):
        return CHECK in tools

    def claims(self, question):
        return bool(_PREDICTION.search(question) and _DOUBT.search(question) and not _OTHER_PROTOCOL.search(question))

    def plan_steps(self, question, request, candidates):
        steps = []
        prediction = _prediction_in(question, request, candidates)
        if prediction is None:
            sequences = protein_tokens(request)
            if not sequences:
                raise MissingInput(
                    "a predicted structure check needs the prediction: name its PDB file (pLDDT in the "
                    "B-factor column, as ESMFold and AlphaFold write it), e.g. 'predictions/my_protein.pdb', "
                    "or write the sequence to fold (e.g. MKTAYIAKQRQISFVKSHFSRQ)"
                )
            steps.append(ProposedStep(f"fold {sequences[0][:12]}… with ESMFold", FOLD, {"sequences": sequences[0]}))
            prediction = "predictions/seq1.pdb"  # where fold writes a single unnamed sequence
        ps = number_for("ps", request) or DEFAULT_PS
        # prepare_for_md then md.run (what simulate_prediction does in one call), so the plan shows md.run's
        # measured cost and its checks, and can ask for a bit-reproducible run.
        fixed = str(Path(prediction).with_name(f"{Path(prediction).stem}_fixed.pdb"))
        simulate = {
            "structure": fixed,
            "ps": ps,
            "out": run_folder(prediction, ps),
            "solvent": "implicit",
            "nvt_ps": min(10.0, ps / 2),
            "report_interval_ps": ps / FRAMES,
            "minimize_max_iterations": 500,
            "seed": _seed(request),
        }
        if re.search(r"\breproducib\w*", request, re.I):
            simulate["reproducible"] = True  # the report then re-runs to the same numbers
        steps.append(ProposedStep("add hydrogens and terminal oxygens (pdbfixer)", PREPARE, {"prediction": prediction}))
        steps.append(ProposedStep(f"simulate the prediction for {ps:g} ps in implicit solvent", SIMULATE, simulate))
        steps.append(
            ProposedStep(
                "rank its RMSF against (100 − pLDDT), with a bootstrap CI",
                CHECK,
                {"prediction": prediction, "trajectory": simulate["out"]},
            )
        )
        return steps

    # -- Plan ------------------------------------------------------------------------------------------
    def hypothesis(self, question, steps):
        subject = next((s.arguments.get("prediction") for s in steps if s.arguments.get("prediction")), None)
        who = f"`{Path(str(subject)).name}`" if subject else "the prediction"
        answer = f"Working answer to “{question}”: yes. " if question.endswith("?") else ""
        return answer + (
            f"The confidence of {who} matches its dynamics: the residues it is least sure of (low pLDDT) move "
            "most in a short simulation (Spearman ρ of RMSF with 100 − pLDDT above 0), and its confident "
            "regions hold."
        )

    def criteria(self, steps):
        return (
            ["ρ(RMSF, 100 − pLDDT) above 0 with its 95% CI above 0"],
            ["the CI lies below 0: the residues the prediction trusts move more than those it doubts"],
            [
                "the CI includes 0",
                f"fewer than {prediction_check.MIN_FRAMES} frames or {prediction_check.MIN_RESIDUES} residues",
                "the simulation fails",
            ],
        )

    # -- Check -----------------------------------------------------------------------------------------
    def figure(self, results):
        found = next((v for k, v in results.items() if tool_of_step(k) == CHECK), None)
        return getattr(found, "figure", None)

    # -- Act -------------------------------------------------------------------------------------------
    def judge(self, plan, report, failed, skipped):
        correlation = [
            c for c in report.checks if tool_of_step(c.step) == CHECK and c.expectation.startswith("the residues")
        ]
        if not correlation:
            blocking = [c for c in report.checks if c.status in ("fail", "skip")]
            return "inconclusive", reasons(blocking) or ["no correlation of pLDDT with RMSF was computed"]
        decided = correlation[0]
        regions = [c for c in report.checks if tool_of_step(c.step) == CHECK and c.status == "warn" and c != decided]
        verdict = {"pass": "supported", "fail": "refuted"}.get(decided.status, "inconclusive")
        return verdict, reasons([decided, *regions])

    def revised_hypotheses(self, verdict, report):
        mobile = any(
            c.status == "warn" and c.expectation.startswith("no confidently") for c in getattr(report, "checks", [])
        )
        out = []
        if verdict == "supported":
            out.append(
                "pLDDT tracks the dynamics here: the confident core can be used as a structure, the low-pLDDT "
                "segments as flexible; a longer run should keep the correlation and narrow its CI."
            )
        elif verdict == "refuted":
            out.append(
                "The prediction's confidence does not reflect its dynamics: confident regions move, so they may "
                "be mis-packed or need a partner (a ligand, another chain) to hold."
            )
        else:
            out.append(
                "The evidence is too thin to say whether pLDDT tracks the dynamics: a longer run (more frames, "
                "converged RMSF) should decide."
            )
        if mobile:
            out.append(
                "The confident-but-mobile regions are where to look first: compare them with an experimental "
                "structure or simulate them in explicit water."
            )
        return out

    def next_plan(self, plan, report, failed):
        """The same check on a run five times longer, in a new folder (the first run is kept)."""
        simulate = next((s for s in plan.steps if s.tool == SIMULATE), None)
        if simulate is None:
            return None
        args = dict(simulate.arguments)
        args["ps"] = float(args.get("ps", DEFAULT_PS)) * 5
        args["report_interval_ps"] = args["ps"] / FRAMES
        old = args.get("out")
        prediction = next((s.arguments["prediction"] for s in plan.steps if s.tool == CHECK), args["structure"])
        args["out"] = run_folder(prediction, args["ps"])
        steps = [ProposedStep(f"simulate 5x longer ({args['ps']:g} ps): a converged RMSF", SIMULATE, args)]
        for s in plan.steps:
            if s.tool == PREPARE:
                steps.insert(0, ProposedStep(s.text, PREPARE, dict(s.arguments)))
            if s.tool == CHECK:
                steps.append(ProposedStep(s.text, CHECK, {**s.arguments, "trajectory": args["out"]}))
        hypothesis = (
            f"Over {args['ps']:g} ps too, the residues the prediction doubts move most (the first run was {old})."
        )
        return NextPlan(steps, hypothesis)


def _seed(request: str) -> int:
    """The seed the request names ("seed 7"), else 1: a research run always records one."""
    match = re.search(r"\bseed\s*[=:]?\s*(\d+)", request, re.I)
    return int(match.group(1)) if match else 1


def run_folder(prediction: str, ps: float) -> str:
    return f"md_runs/{Path(str(prediction)).stem}_implicit_{float(ps):g}ps"


def _prediction_in(question: str, request: str, candidates) -> str | None:
    """The prediction's PDB: a path in the words, a fold() result in the kernel, or a structure file the
    question names; None when there is none."""
    for token in path_tokens(request):
        if token.lower().endswith(STRUCTURE_SUFFIXES):
            return token
    lowered = question.lower()
    for candidate in sorted(candidates, key=lambda c: -c.order):
        if candidate.kind == "prediction" and candidate.variable:
            path = _fold_result_path(candidate.value)
            if path:
                return path
    for candidate in sorted(candidates, key=lambda c: -c.order):
        if candidate.kind == "pdb_file" and any(
            re.search(rf"(?<!\w){re.escape(n.lower())}(?!\w)", lowered) for n in (*candidate.names, *candidate.aliases)
        ):
            return candidate.value
    return None


def _fold_result_path(variable: str) -> str | None:
    """The PDB of a fold() result held in a kernel variable (plans hold paths, not objects)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    value = shell.user_ns.get(variable) if shell is not None else None
    path = getattr(value, "pdb_path", None)
    return str(path) if path else None


PREDICTED_CHECK = PredictedCheck()
