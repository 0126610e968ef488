"""The mutation-effect protocol: "what does K25A do to villin?", "is F36L destabilising?".

The hypothesis is the protein language model's prediction: ESM-2's masked-marginal score (negative: the
mutant is less likely than the wild type, read as destabilising). The experiment tests it with MD: wild
type and mutants (built with pdbfixer) simulated in replicas, the fluctuations near the site compared
with bootstrap confidence intervals over replicas (:mod:`kenkyu.tools.mutants`). The verdict says
whether the MD agrees with the language model, and "inconclusive" when the runs are too short, the
replicas too few or the interval includes zero; the next plan then asks for more replicas and longer runs.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from kenkyu.assistant.protocols.base import MissingInput, NextPlan, ProposedStep, Protocol, name_of, reasons
from kenkyu.core.science import tool_of_step
from kenkyu.tools import mutants, structure
from kenkyu.tools.md._routing import frame_interval

# A substitution as scientists write it: wild-type letter, position, mutant letter ("K25A"), maybe a chain ("A:K25A").
AMINO = "ACDEFGHIKLMNPQRSTVWY"
MUTATION = re.compile(rf"\b(?:[A-Za-z0-9]:)?[{AMINO}]\d{{1,4}}[{AMINO}]\b")
_SEQUENCE = re.compile(rf"\b[{AMINO}]{{10,}}\b")
_PATH = re.compile(r"[\w./-]+\.(?:pdb|cif|mmcif)\b", re.IGNORECASE)
_REPLICAS = re.compile(r"\b(\d+)\s+replicas?\b", re.IGNORECASE)
_LENGTH = re.compile(r"\b(\d+(?:\.\d+)?)\s*(ps|ns)\b", re.IGNORECASE)
_REGION = re.compile(r"\b(?:residues?|positions?)\s+(\d+)\s*(?:-|–|to)\s*(\d+)\b", re.IGNORECASE)
_SCAN = re.compile(r"\b(?:scan\w*|which\s+(?:mutations?|substitutions?))\b", re.IGNORECASE)
_PICKS = re.compile(r"\b(?:top|worst)\s+(\d+)\b", re.IGNORECASE)
SCAN_PICKS = 2  # a scan simulates the substitutions ESM-2 scores worst in the region, this many by default
_SHIPPED = ("villin", "1vii", "dhfr", "5dfr")  # proteins kenkyu ships (kenkyu.tools.md.example_structure)

DEFAULT_REPLICAS = mutants.MIN_REPLICAS
DEFAULT_PS = mutants.MIN_PS_FOR_VERDICT  # by default a plan that could decide; the scientist may ask for less


class MutationEffect(Protocol):
    name = "mutation-effect"
    title = "what does a point mutation do to the protein?"
    outline = (
        "ESM-2 masked-marginal scores of the substitutions (or a scan of a region), the mutants built with "
        "pdbfixer and simulated beside the wild type in replicas, then RMSF, Rg, contacts and hydrogen bonds "
        "near the site compared with bootstrap CIs"
    )
    verdict_tests = (
        "that the MD agrees with ESM-2's prediction: a negative score (destabilising) means the residues near the "
        "site fluctuate more in the mutant than in the wild type, a positive one that they do not"
    )

    # -- choosing --------------------------------------------------------------------------------------
    def claims(self, question: str) -> bool:
        if _SEQUENCE.search(question):  # "what does A4G do to MKTAYIAKQR...?": a sequence alone, no structure to
            return False  # simulate; the router answers it with the language model's scores
        return bool(MUTATION.search(question) or (_SCAN.search(question) and _REGION.search(question)))

    def matches(self, question, tools) -> bool:
        return name_of(mutants.compare_to_wild_type) in tools or name_of(mutants.simulate_mutants) in tools

    def plan_steps(self, question, request, candidates):
        found = MUTATION.findall(request)
        region = _REGION.search(request) if _SCAN.search(request) else None
        if not found and region is None:
            raise MissingInput(
                "a mutation question needs the substitution (write it as K25A: wild type, position, mutant) "
                "or a region to scan ('scan residues 20-30')"
            )
        pdb = _structure(request, candidates)
        scan_step = None
        if not found:
            found, scan_step = _worst_in_region(pdb, region, request)
        numbering = "pdb" if re.search(r"\bpdb (?:numbering|residue numbers?)\b", request, re.I) else "sequence"
        try:
            located = mutants.parse_mutations(pdb, found, numbering)
        except mutants.MutationError as exc:  # the plan says what does not match; nothing runs
            raise MissingInput(str(exc)) from None
        names = [m.along_chain for m in located]  # the scores count along the sequence, whatever the words' numbering
        sequence = mutants.chain_sequence(pdb, located[0].chain)
        replicas = int(_REPLICAS.search(request).group(1)) if _REPLICAS.search(request) else DEFAULT_REPLICAS
        ps = _length_ps(request)
        simulate = {
            "structure": pdb,
            "mutations": names,
            "replicas": replicas,
            "ps": ps,
            "solvent": "explicit" if re.search(r"\bexplicit\b|\bwater\b", request, re.I) else "implicit",
            "md_options": _md_options(ps),
            # Drawn now and written into the call: a report that re-runs the plan simulates the same replicas.
            "seed": secrets.randbelow(2**30),
        }
        simulate["numbering"] = numbering  # said in the call: the mutant tools read a structure's numbers by default
        if numbering == "pdb":
            simulate["mutations"] = found
        runs = mutants.runs_directory(pdb)
        swaps = ", ".join(m.swap() for m in located)
        scores = ProposedStep(
            f"ESM-2's prediction: masked-marginal scores of {', '.join(names)}",
            name_of(structure.variant_effects),
            {"sequence": sequence, "mutations": names},
        )
        return [
            scan_step or scores,
            ProposedStep(
                f"build {swaps} with pdbfixer; simulate wild type and mutant(s), {replicas} replicas x {ps:g} ps",
                name_of(mutants.simulate_mutants),
                simulate,
            ),
            ProposedStep(
                "compare mutant and wild type near the site (RMSF, Rg, contacts, hydrogen bonds) with bootstrap CIs",
                name_of(mutants.compare_to_wild_type),
                {"runs": runs},
            ),
        ]

    # -- Plan ------------------------------------------------------------------------------------------
    def hypothesis(self, question, steps) -> str:
        scored = next((s for s in steps if s.tool == name_of(structure.variant_effects)), None)
        scanned = next((s for s in steps if s.tool == name_of(structure.mutational_scan)), None)
        simulated = next((s for s in steps if s.tool == name_of(mutants.simulate_mutants)), None)
        if scored is not None:
            sequence, mutations = scored.arguments["sequence"], scored.arguments["mutations"]
        elif scanned is not None and simulated is not None:
            sequence, mutations = scanned.arguments["sequence"], simulated.arguments["mutations"]
        else:
            return "The substitution changes how the protein moves near the site, as ESM-2 predicts."
        try:
            scores = structure.variant_effects(sequence, mutations)
        except Exception as exc:  # no weights on this machine: the plan still says what step 1 will decide
            return (
                f"ESM-2's masked-marginal score (step 1) predicts the effect of {', '.join(mutations)} "
                f"(negative: destabilising; it could not be computed while planning: {type(exc).__name__}); "
                "in MD the residues near the site move as that prediction says."
            )
        model = scores.description.rsplit(" from ", 1)[-1].removesuffix(" (masked marginals)")
        parts = []
        for row in scores.itertuples():
            if row.score < 0:
                parts.append(
                    f"{row.mutation} (score {row.score:+.2f}) destabilises the fold near the site: its residues "
                    "fluctuate more than the wild type's (delta RMSF > 0)"
                )
            else:
                parts.append(
                    f"{row.mutation} (score {row.score:+.2f}) is tolerated: the residues near the site fluctuate "
                    "no more than the wild type's (delta RMSF <= 0)"
                )
        return f"ESM-2 ({model}) predicts: " + "; ".join(parts) + "."

    def criteria(self, steps):
        ps, reps = f"{mutants.MIN_PS_FOR_VERDICT:g} ps", mutants.MIN_REPLICAS
        return (
            [f"the near-site delta RMSF's 95% CI lies on ESM-2's side of zero, with >= {reps} replicas of >= {ps}"],
            [f"the 95% CI lies on the other side of zero, with >= {reps} replicas of >= {ps}"],
            [
                "the CI includes zero",
                f"fewer than {reps} replicas per structure",
                f"runs shorter than {ps} (too short for the fluctuations near the site to converge)",
            ],
        )

    # -- Check -----------------------------------------------------------------------------------------
    def figure(self, results):
        effect = next((v for k, v in results.items() if tool_of_step(k) == name_of(mutants.compare_to_wild_type)), None)
        return getattr(effect, "figure", None)

    # -- Act -------------------------------------------------------------------------------------------
    def judge(self, plan, report, failed, skipped):
        compare = name_of(mutants.compare_to_wild_type)
        mine = [c for c in report.checks if tool_of_step(c.step) == compare]
        blocking = [c for c in report.checks if c.status in ("fail", "skip") and tool_of_step(c.step) != compare]
        if blocking or not mine:
            return "inconclusive", reasons(blocking) or ["the comparison of mutant and wild type did not run"]
        agreement = mutants.agrees_with_language_model.expectations[0]
        disagreeing = [c for c in mine if c.expectation == agreement and c.status == "fail"]
        if disagreeing:
            return "refuted", reasons(disagreeing)
        open_ = [c for c in mine if c.status != "pass"]
        if open_:
            return "inconclusive", reasons(open_)
        return "supported", reasons(c for c in mine if c.expectation == agreement)

    def revised_hypotheses(self, verdict, report):
        if verdict == "supported":
            return [
                "The substitution loosens the protein near the site as ESM-2 predicts: a free-energy calculation "
                "(alchemical ddG) would say by how much it destabilises the fold."
            ]
        if verdict == "refuted":
            return [
                "ESM-2's score reflects what evolution accepts (function, binding, expression), not only folding "
                "stability: the MD sees the opposite local effect. Repeat in explicit water before trusting either."
            ]
        thin = [c for c in (report.checks if report is not None else []) if c.status == "warn"]
        if any(c.expectation == mutants.long_enough.expectations[0] for c in thin):
            return [
                "Any effect of the substitution develops more slowly than the runs lasted: the same comparison "
                f"over >= {mutants.MIN_PS_FOR_VERDICT:g} ps per replica can tell."
            ]
        return []

    def next_plan(self, plan, report, failed):
        """More replicas when the interval was too wide or too few; longer runs when they were too short."""
        simulate = next((s for s in plan.steps if s.tool == name_of(mutants.simulate_mutants)), None)
        if simulate is None:
            return None
        args = dict(simulate.arguments)
        replicas, ps = int(args.get("replicas", 2)), float(args.get("ps", 10.0))
        warned = {c.expectation for c in (report.checks if report is not None else []) if c.status == "warn"}
        changes = []
        if mutants.enough_replicas.expectations[0] in warned or mutants.resolved.expectations[0] in warned:
            replicas = max(mutants.MIN_REPLICAS, 2 * replicas)
            changes.append(f"{replicas} replicas (the interval over replicas was too wide or too few to resample)")
        if mutants.long_enough.expectations[0] in warned:
            ps = max(mutants.MIN_PS_FOR_VERDICT, 10 * ps)
            changes.append(f"{ps:g} ps per replica (the runs were shorter than the effect needs)")
        if not changes:
            if args.get("solvent") == "explicit":
                return None
            args["solvent"] = "explicit"
            changes.append("explicit water (TIP3P): the result should not depend on the implicit solvent")
        args.update(replicas=replicas, ps=ps, md_options=_md_options(ps))
        args["out"] = f"{mutants.runs_directory(args['structure'])}_{replicas}x{ps:g}ps_{args['solvent']}"
        steps = []
        for s in plan.steps:
            if s.tool is None:
                continue
            if s is simulate:
                steps.append(ProposedStep("repeat with " + "; ".join(changes), s.tool, args))
            elif s.tool == name_of(mutants.compare_to_wild_type):
                steps.append(ProposedStep(s.text, s.tool, {**s.arguments, "runs": args["out"]}))
            else:
                steps.append(ProposedStep(s.text, s.tool, dict(s.arguments)))
        return NextPlan(steps, re.sub(r"^ESM-2 \([^)]*\) predicts: ", "", plan.hypothesis) or plan.hypothesis)


def _structure(request: str, candidates) -> str:
    """The wild-type structure: a file named in the words, a protein kenkyu ships, or one in the notebook."""
    from kenkyu.tools import md

    for token in _PATH.findall(request):
        if Path(token).is_file():
            return token
        raise MissingInput(f"the structure {token} named in the question does not exist here; check the path")
    words = request.lower()
    for name in _SHIPPED:
        if re.search(rf"\b{name}\b", words):
            return str(md.example_structure(name))
    for candidate in candidates or []:
        if candidate.kind in ("pdb_file", "structure") and not candidate.variable and Path(candidate.value).is_file():
            return candidate.value
    raise MissingInput(
        "a mutation question needs the wild-type structure: name a PDB or mmCIF file in the question "
        "(e.g. 'what does K25A do to my_protein.pdb?') or put one in the working folder"
    )


def _worst_in_region(pdb: str, region, request: str) -> tuple[list[str], ProposedStep]:
    """The substitutions ESM-2 scores worst in a region, chosen while planning (the scan is cheap beside MD), and
    the scan itself as the plan's first step, so the Do section shows the heatmap they were chosen from."""
    sequence = mutants.chain_sequence(pdb)
    first, last = sorted(int(x) for x in region.groups())
    if first < 1 or last > len(sequence):
        raise MissingInput(f"positions {first}-{last} are outside the chain (1-{len(sequence)}, counted along it)")
    positions = list(range(first, last + 1))
    picks = int(_PICKS.search(request).group(1)) if _PICKS.search(request) else SCAN_PICKS
    try:
        scan = structure.mutational_scan(sequence, positions=positions, progress=False)
    except Exception as exc:  # no weights: say what the scan needs instead of planning blind
        raise MissingInput(
            f"a scan chooses its substitutions from ESM-2's scores while planning, and ESM-2 could not run "
            f"({type(exc).__name__}: {exc}); name the substitutions instead (e.g. K25A)"
        ) from None
    worst = list(scan.nsmallest(picks, "score").mutation)
    step = ProposedStep(
        f"ESM-2's scan of positions {first}-{last}; the {len(worst)} substitutions it scores worst "
        f"({', '.join(worst)}) are simulated",
        name_of(structure.mutational_scan),
        {"sequence": sequence, "positions": positions},
    )
    return worst, step


def _length_ps(request: str) -> float:
    match = _LENGTH.search(request)
    if not match:
        return DEFAULT_PS
    value = float(match.group(1))
    return value * 1000 if match.group(2).lower() == "ns" else value


def _md_options(ps: float) -> dict:
    """Ten frames at least, at most one every 10 ps, each a whole number of 2 fs steps written without float noise
    (frame_interval: ``ps / 10`` gave 0.06999999999999999 ps for 0.7 ps, and 0.025 ps, 12.5 steps, for 0.25 ps).
    A short run (under 100 ps: a smoke test or a report's) is bitwise reproducible, so its exported report re-runs
    to the same numbers, and one shorter than the default 10 ps NVT equilibration gets none; all of it shown in
    the plan through md_options, never hidden."""
    options: dict = {"report_interval_ps": min(frame_interval(ps), 10.0)}
    if ps < 100:
        options["reproducible"] = True
    if ps < 10:
        options["nvt_ps"] = 0
    return options


MUTATION_EFFECT = MutationEffect()
