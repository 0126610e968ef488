"""The thermal-unfolding protocol: "which part unfolds first when heated?", "what is the melting temperature of X?".

Plans a Gō-model temperature ladder on Dask (``unfolding.ladder``) and its melting curve
(``unfolding.melting_curve``: Q(T) per DSSP segment, midpoints with 95% bootstrap CIs, the order), checks
that the curve crosses Q = 0.5 inside the ladder and that one segment's midpoint is clear of the others',
and judges the hypothesis filled from the question. The next plan moves the ladder when the transition
lies outside it, and refines it around Tm with more replicas when the CIs overlap. A Gō model's
temperatures are its own: every text says so (a relative Tm, not a laboratory melting point).
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

from kenkyu.assistant.protocols.base import MissingInput, NextPlan, ProposedStep, Protocol, name_of, reasons
from kenkyu.core.science import result_check, tool_of_step
from kenkyu.tools import unfolding

LADDER, MELTING = name_of(unfolding.ladder), name_of(unfolding.melting_curve)
_MELT_WORDS = re.compile(r"\bmelt(?:s|ing|ed)?\b|\bTm\b|\bdenatur\w*", re.IGNORECASE)
_UNFOLD = re.compile(r"\bunfold\w*|\bgives? way\b|\bfalls? apart\b|\bfray\w*", re.IGNORECASE)
_HEAT = re.compile(r"\bheat\w*|\bhot(?:ter)?\b|\btemperatures?\b|\bthermal\w*|\bwarm\w*", re.IGNORECASE)
_ORDER = re.compile(
    r"\bfirst\b|\border\b|\bwhich (?:part|segment|helix|helices|strand|region|end)\b|\bwhere\b|\bsegments?\b",
    re.IGNORECASE,
)
_SEGMENT = re.compile(r"\b(?:helix|strand|loop) \d+\b|\b[NC]-terminus\b")
_TM = re.compile(r"Tm (\d+(?:\.\d+)?) K \(95% CI (\d+(?:\.\d+)?)–(\d+(?:\.\d+)?) K\)")
_STRUCTURE_FILE = re.compile(r"[\w./~-]+\.(?:pdb|cif|mmcif)\b", re.IGNORECASE)
# The structures kenkyu ships, by the words a question may name them with.
_EXAMPLES = {"villin": "villin", "1vii": "villin", "dhfr": "dhfr", "5dfr": "dhfr"}


@result_check("one segment unfolds first: its midpoint's 95% CI lies below every other segment's")
def first_is_resolved(curve):
    (expectation,) = first_is_resolved.expectations
    order = curve.data["order"]
    by_name = {s["name"]: s for s in curve.data["segments"]}
    if order["first"] is not None:
        s = by_name[order["segments"][0]]
        yield (
            expectation,
            "pass",
            f"first: {order['first']}, Tm {s['tm_k']:.0f} K (95% CI {s['tm_lo_k']:.0f}–{s['tm_hi_k']:.0f} K); "
            f"order {order['text']}",
        )
    else:
        yield expectation, "warn", f"not resolved: {order['text']}"


def asks_order(question: str) -> bool:
    """Whether the question is about which part goes first (else: the melting temperature)."""
    return bool(_ORDER.search(question or ""))


class ThermalUnfolding(Protocol):
    name = "thermal-unfolding"
    title = "which part unfolds first when heated, and at which (model) temperature?"
    outline = (
        "a C-alpha Go model heated over a temperature ladder with replicas (Dask), then the fraction of native "
        "contacts Q(T) of the protein and of each DSSP segment, melting midpoints with bootstrap CIs and their order"
    )
    verdict_tests = (
        "for a which-part-first question, that the segment the hypothesis names (written as helix 1, strand 2, loop 1, "
        "N-terminus or C-terminus) has the lowest melting midpoint; otherwise that the protein's Q crosses 0.5 "
        "inside the ladder with a CI that places Tm"
    )

    # -- choosing --------------------------------------------------------------------------------------
    def claims(self, question: str) -> bool:
        text = question or ""
        return bool(_MELT_WORDS.search(text) or (_UNFOLD.search(text) and (_HEAT.search(text) or asks_order(text))))

    def matches(self, question, tools):
        return bool({LADDER, MELTING} & set(tools))

    def plan_steps(self, question, request, candidates):
        structure = _structure(question, request, candidates)
        arguments = {"structure": structure, **_ladder_numbers(request)}
        # The seed is in the plan's call, so an exported report re-runs the same trajectories.
        stated = re.search(r"\bseed\s*(\d+)", request or "", re.IGNORECASE)
        arguments["seed"] = int(stated.group(1)) if stated else secrets.randbelow(2**31 - 1)
        t_min, t_max = arguments.get("t_min", 250.0), arguments.get("t_max", 600.0)
        out = unfolding.ladder_directory(structure, t_min, t_max)
        arguments["out"] = out
        return [
            ProposedStep(
                "heat the Gō model over a temperature ladder (a Dask ensemble; finished temperatures are reused)",
                LADDER,
                arguments,
            ),
            ProposedStep(
                "melting curve: Q(T) of the protein and each DSSP segment, midpoints with 95% CIs, the order",
                MELTING,
                {"ladder": out},
            ),
        ]

    # -- Plan ------------------------------------------------------------------------------------------
    def hypothesis(self, question, steps):
        ladder = _step(steps, LADDER)
        arguments = ladder.arguments if ladder is not None else {}
        structure = arguments.get("structure")
        subject = f"the Gō model of `{os.path.basename(str(structure))}`" if structure else "the Gō model"
        t_min, t_max = _range(arguments)
        answer = f"Working answer to “{question}”: " if question.endswith("?") else ""
        units = "temperatures are the model's (a relative scale, not a laboratory melting point)"
        if asks_order(question):
            ends = _termini(structure)
            if ends:
                names = " or ".join(s.label for s in ends)
                return (
                    f"{answer}a chain end. In {subject}, a terminus ({names}) loses its native contacts at a lower "
                    f"temperature than every helix and strand: the ends fray first. The midpoints are compared "
                    f"on a {t_min:g}–{t_max:g} K ladder; {units}."
                )
            guess = _fewest_contacts(structure)
            named = guess.label if guess else "the segment with the fewest native contacts per residue"
            return (
                f"{answer}{named}. In {subject}, the segment with the fewest native contacts per residue ({named}) "
                f"unfolds first. The midpoints are compared on a {t_min:g}–{t_max:g} K ladder; {units}."
            )
        return (
            f"{answer}{subject[0].upper()}{subject[1:]} melts in one cooperative transition whose midpoint Tm lies "
            f"inside the {t_min:g}–{t_max:g} K ladder, with a 95% CI narrow enough to place it; {units}."
        )

    def criteria(self, steps):
        ladder = _step(steps, LADDER)
        t_min, t_max = _range(ladder.arguments if ladder is not None else {})
        support = [f"the protein's Q(T) crosses 0.5 inside {t_min:g}–{t_max:g} K and its midpoint's 95% CI lies inside"]
        refute = ["Q does not fall as the temperature rises (no melting transition)"]
        open_ = [
            "Q never crosses 0.5 in the ladder (the midpoint lies outside it: move the ladder)",
            "runs of the ladder fail",
        ]
        # For a question about the order (the criteria do not see the question: both are listed).
        support.append("for the order: the segment the hypothesis names unfolds first, its CI clear of the others'")
        refute.append("for the order: another segment unfolds first, its CI clear of the named one's")
        open_.append("the segments' CIs overlap: the order is not resolved (more replicas, a finer ladder)")
        return support, refute, open_

    def tool_checks(self):
        return {unfolding.melting_curve: (first_is_resolved,)}

    # -- Check -----------------------------------------------------------------------------------------
    def figure(self, results):
        curve = next((v for k, v in results.items() if tool_of_step(k) == MELTING), None)
        return curve.figure if isinstance(curve, unfolding.MeltingCurve) else None

    # -- Act -------------------------------------------------------------------------------------------
    def judge(self, plan, report, failed, skipped):
        ours = [c for c in report.checks if tool_of_step(c.step) in (LADDER, MELTING)]
        blocking = [c for c in report.checks if c.status in ("fail", "skip")]
        falls = [c for c in ours if c.expectation.startswith("Q (fraction") and c.status == "fail"]
        if falls:
            return "refuted", reasons(falls)
        if blocking or not ours:
            return "inconclusive", reasons(blocking) or ["no melting curve was computed"]
        tm = [c for c in ours if c.expectation.startswith("the fitted midpoint")]
        if asks_order(plan.question):
            order = [c for c in ours if c.expectation.startswith("one segment unfolds first")]
            if not order or order[0].status != "pass":
                return "inconclusive", reasons(order) or ["the unfolding order was not checked"]
            first = re.match(r"first: (.+?) \(residues", order[0].detail)
            named = set(_SEGMENT.findall(plan.hypothesis))
            if first is None or not named:
                return "inconclusive", [*reasons(order), "the hypothesis names no segment to compare with"]
            if first.group(1) in named:
                return "supported", reasons(order + tm)
            return "refuted", [*reasons(order), f"the hypothesis named {', '.join(sorted(named))}"]
        if tm and tm[0].status == "pass":
            return "supported", reasons(tm)
        return "inconclusive", reasons(tm) or ["no midpoint was fitted"]

    def revised_hypotheses(self, verdict, report):
        if report is None:
            return []
        out = []
        crossing = next((c for c in report.checks if "crosses 0.5" in c.expectation), None)
        if crossing is not None and "never unfolds" in crossing.detail:
            out.append("The model is more stable than this ladder reaches: its midpoint lies above the top rung.")
        if crossing is not None and "never folded" in crossing.detail:
            out.append("The ladder starts above the midpoint: the model is already unfolded at its bottom rung.")
        order = next((c for c in report.checks if c.expectation.startswith("one segment unfolds first")), None)
        if order is not None and order.status == "warn":
            out.append(
                "The segments unfold nearly together (a cooperative transition), or the runs are too few to "
                "separate them: twice the replicas on a ladder around Tm narrow each CI."
            )
        if order is not None and order.status == "pass":
            first = re.match(r"first: (.+?),", order.detail)
            where = first.group(1) if first else "the first segment"
            if verdict == "supported":
                out.append(
                    f"{where} frays first; in all-atom MD at high temperature, or with a mutation that loosens "
                    "it, the same segment should go first (the Gō model keeps only native contacts)."
                )
            else:
                out.append(
                    f"{where} unfolds first: its native contacts are fewer or more local than its neighbours'; "
                    "a destabilising mutation there should lower the model's Tm most."
                )
        if verdict == "supported" and order is None:
            out.append(
                "The transition is cooperative: ladders of mutants at the same settings give relative shifts of Tm."
            )
        return out

    def next_plan(self, plan, report, failed):
        step = _step(plan.steps, LADDER)
        if step is None:
            return None
        args = {k: v for k, v in step.arguments.items() if k not in ("overwrite", "out", "temperatures")}
        t_min, t_max = _range(args)
        span = t_max - t_min
        checks = [] if report is None else report.checks
        crossing = next((c for c in checks if "crosses 0.5" in c.expectation), None)
        tm = next((_TM.search(c.detail) for c in checks if c.expectation.startswith("the fitted midpoint")), None)
        unfinished = LADDER in failed or any(c.step == LADDER and c.status == "fail" for c in checks)
        if unfinished:
            args["out"] = step.arguments.get("out") or unfolding.ladder_directory(args["structure"], t_min, t_max)
            change = "finish the ladder: the same call reuses the finished temperatures and reruns the others"
            hypothesis = plan.hypothesis
        elif crossing is not None and "never unfolds" in crossing.detail:
            args["t_min"], args["t_max"] = t_max - span / 4, t_max + span
            change = f"heat further ({args['t_min']:g}–{args['t_max']:g} K): Q never crossed 0.5 in the ladder"
            hypothesis = f"The midpoint lies above {t_max:g} K (model units). " + _claim(plan.hypothesis)
        elif crossing is not None and "never folded" in crossing.detail:
            args["t_min"], args["t_max"] = max(10.0, t_min - span), t_min + span / 4
            change = f"start colder ({args['t_min']:g}–{args['t_max']:g} K): the model was unfolded at the bottom rung"
            hypothesis = f"The midpoint lies below {t_min:g} K (model units). " + _claim(plan.hypothesis)
        elif tm is not None:
            centre = float(tm.group(1))
            half = max(span / 4, (float(tm.group(3)) - float(tm.group(2))))
            args["t_min"], args["t_max"] = _round10(max(10.0, centre - half)), _round10(centre + half)
            args["replicas"] = 2 * int(args.get("replicas", 2))
            change = (
                f"refine the ladder around Tm {centre:.0f} K ({args['t_min']:g}–{args['t_max']:g} K) with "
                f"{args['replicas']} replicas: narrower CIs on every midpoint"
            )
            hypothesis = _claim(plan.hypothesis)
            hypothesis = hypothesis[:1].upper() + hypothesis[1:]
        else:
            return None
        if "seed" in args and not unfinished:  # new runs, new trajectories: the old seeds would repeat them
            args["seed"] = (int(args["seed"]) + 1000) % (2**31 - 1)
        new_min, new_max = _range(args)
        hypothesis = re.sub(r"\d+(?:\.\d+)?–\d+(?:\.\d+)? K ladder", f"{new_min:g}–{new_max:g} K ladder", hypothesis)
        if "out" not in args:
            t_min, t_max = _range(args)
            args["out"] = unfolding.ladder_directory(args["structure"], t_min, t_max) + f"_{args.get('replicas', 2)}rep"
        return NextPlan(
            [
                ProposedStep(change, LADDER, args),
                ProposedStep("melting curve of the new ladder", MELTING, {"ladder": args["out"]}),
            ],
            hypothesis,
        )


def _round10(value: float) -> float:
    return float(round(value / 10.0) * 10)


def _claim(hypothesis: str) -> str:
    """The hypothesis without the template's "Working answer to ...:" preface."""
    return re.sub(r"^Working answer to “[^”]*”:\s*", "", hypothesis.strip())


def _step(steps, tool):
    return next((s for s in steps if getattr(s, "tool", None) == tool), None)


def _range(arguments: dict) -> tuple[float, float]:
    temps = arguments.get("temperatures")
    if temps:
        return float(min(temps)), float(max(temps))
    return float(arguments.get("t_min", 250.0)), float(arguments.get("t_max", 600.0))


def _termini(structure):
    """The chain ends with enough native contacts to follow (the hypothesis names them)."""
    if not structure or not Path(str(structure)).is_file():
        return []
    try:
        return _followed(structure, kinds=("terminus",))
    except Exception:  # an unreadable structure is the ladder's error to report, with its fix
        return []


def _fewest_contacts(structure):
    if not structure or not Path(str(structure)).is_file():
        return None
    try:
        return unfolding.predicted_first(structure)
    except Exception:
        return None


def _followed(structure, kinds):
    from kenkyu.kernels_md import build_go_model

    contacts = build_go_model(str(structure)).contacts
    out = []
    for s in unfolding.segments_of(structure):
        n = int(((contacts >= s.first) & (contacts <= s.last)).any(axis=1).sum())
        if s.kind in kinds and n >= unfolding.MIN_SEGMENT_CONTACTS:
            out.append(s)
    return out


def _structure(question: str, request: str, candidates) -> str:
    """The structure to heat: a file named in the request, one in the notebook the question names, or a
    structure kenkyu ships ("villin"); :class:`MissingInput` naming the fix otherwise."""
    for token in _STRUCTURE_FILE.findall(request or ""):
        if Path(token).expanduser().is_file():
            return token
    words = set(re.findall(r"[a-z0-9]+", (request or "").lower()))
    files = [c for c in candidates or () if c.kind == "pdb_file" and not c.variable]
    for candidate in sorted(files, key=lambda c: -c.order):
        if words & {n.lower() for n in (*candidate.names, *candidate.aliases)}:
            return candidate.value
    for word, example in _EXAMPLES.items():
        if word in words:
            from kenkyu.tools import md

            return str(md.example_structure(example))
    named = _STRUCTURE_FILE.findall(request or "")
    if named:
        raise MissingInput(f"{named[0]} does not exist here: give the path of a PDB or mmCIF file that does")
    raise MissingInput(
        "a thermal-unfolding plan needs the protein's structure: name a PDB or mmCIF file in the question "
        "(e.g. 'Which part of villin_1vii.pdb unfolds first when heated?')"
    )


def _ladder_numbers(request: str) -> dict:
    """The ladder settings a request states ("300 to 600 K", "6 temperatures", "3 replicas", "100 ps")."""
    text = request or ""
    out: dict = {}
    span = re.search(r"(\d+(?:\.\d+)?)\s*(?:K\s*)?(?:–|-|to|and)\s*(\d+(?:\.\d+)?)\s*K\b", text)
    if span and float(span.group(1)) < float(span.group(2)):
        out["t_min"], out["t_max"] = float(span.group(1)), float(span.group(2))
    for key, pattern, kind in (
        ("n_temperatures", r"(\d+)\s*temperatures", int),
        ("replicas", r"(\d+)\s*replicas?", int),
        ("ps", r"(\d+(?:\.\d+)?)\s*ps\b", float),
    ):
        found = re.search(pattern, text, re.IGNORECASE)
        if found:
            out[key] = kind(found.group(1))
    if out.get("ps", 400.0) < 40:
        out["report_interval_ps"] = out["ps"] / 20  # a short ladder still saves 20 frames per run
    return out


THERMAL_UNFOLDING = ThermalUnfolding()
