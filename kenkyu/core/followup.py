"""A request that follows up the previous one in the same kernel ("and the rmsd of the same thing", "do that for the
first half only", "what about traj2?").

The embedded model sees one request at a time; the conversation (the session's history) holds the previous request
and the calls it made. A follow-up is rewritten into a request that stands on its own, from the previous request's
words and the inputs its calls were given, and the reply says so ("using `t`, as in your previous request"). Strong
models read the history themselves; this is for the router.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Sequence

from kenkyu.core.routing import Candidate, mutation_tokens, runs_said, slot_kind, window_tokens, without_windows


@dataclass(frozen=True)
class Previous:
    """The most recent earlier request that called tools: its words and its calls' inputs (slot -> value)."""

    request: str
    inputs: tuple[tuple[str, str], ...]
    index: int = 0  # where it is in the conversation
    # The assistant's question after it, when its reply asked which input to use instead of calling ("Which run? ...
    # the most recent is md_runs/villin ..."): the next request may be the answer. ``earlier`` is the request before
    # it that called tools (what "the same thing" means when the next request is no answer).
    question: str = ""
    earlier: Previous | None = None


@dataclass(frozen=True)
class FollowUp:
    request: str  # the request as it stands on its own
    note: str  # what the reply says first, so the scientist sees what was carried over


def previous_request(messages: Sequence, last_user: int, tools: Sequence) -> Previous | None:
    """The latest user request before ``messages[last_user]`` that made tool calls (a reply that asked "which
    trajectory?" made none: "the same thing" means what was last computed)."""
    by_name = {getattr(t, "name", None): t for t in tools}
    users = [i for i in range(last_user) if messages[i].role == "user"]
    for number, (start, end) in enumerate(zip(reversed(users), [last_user, *reversed(users)])):
        calls = [c for m in messages[start + 1 : end] if m.role == "assistant" for c in (m.tool_calls or ())]
        if not calls:
            replies = [m.content or "" for m in messages[start + 1 : end] if m.role == "assistant"]
            asked = [text for text in replies if _ASKED.search(text)]
            if asked and number == 0:  # the reply just before this request asked which input to use
                earlier = previous_request(messages, start, tools)
                return Previous(messages[start].content, (), start, question=asked[-1], earlier=earlier)
            continue
        inputs: dict[tuple[str, str], None] = {}  # each (slot, value) once, in call order: "both" means them all
        for call in calls:
            properties = getattr(by_name.get(call.name), "parameters", {}).get("properties", {})
            for slot, value in call.arguments.items():
                if isinstance(value, str) and value and slot_kind(slot, properties.get(slot)) is not None:
                    inputs.setdefault((slot, value), None)
        if inputs:  # a question about the notebook ("what was the mean rmsd again?") took no object: further back
            return Previous(messages[start].content, tuple(inputs), start)
    return None


# The reply that asked which input to use (kenkyu.core.providers.local_llama's missing-input message)
_ASKED = re.compile(r"\bWhich [\w ]+\? For \*.+?\* I would call `\w+`", re.S)
# "yes, use that one - the newest", "sure", "the latest", "go ahead": the input the question offered first
_YES = re.compile(
    r"^\s*(?:yes|yeah|yep|yup|sure|ok(?:ay)?|correct|right|please|go\s+ahead|do\s+it|use\s+(?:it|that|this)"
    r"|(?:that|this)\s+one|the\s+(?:newest|latest|most\s+recent|last|newer|recent|first)\b)",
    re.I,
)
_NEWEST = re.compile(r"\b(?:newest|latest|most\s+recent|last|newer|recent)\b", re.I)
_OLDER = re.compile(r"\b(?:older|oldest|earlier|earliest|previous|other)\b", re.I)
# "no, not the newest one", "not the latest - the other": the newest ruled out (its word is no choice of it)
_NOT_NEWEST = re.compile(
    r"\b(?:not|never|rather\s+than|instead\s+of)\s+(?:the\s+|my\s+)?(?:very\s+)?"
    r"(?:newest|latest|most\s+recent|last|newer|recent)\b(?:\s+(?:one|run|simulation|trajectory))?",
    re.I,
)
# An offered input told apart by what it is: "the pdb file", "the run folder", "the variable", "the dcd"
_BY_KIND = (
    (re.compile(r"\b(?:pdb|cif|structure)\b", re.I), lambda c: c.kind in ("pdb_file", "structure")),
    (re.compile(r"\b(?:dcd|xtc|trr)\b", re.I), lambda c: c.kind == "trajectory_file"),
    (re.compile(r"\b(?:folder|directory)\b", re.I), lambda c: c.kind in ("run_folder", "ensemble_folder")),
    (re.compile(r"\b(?:variable|kernel)\b", re.I), lambda c: c.variable),
)
# "the other run", "the older simulation": the noun of what is picked names no tool ("run" is md_run's word too)
_PICKED_NOUN = re.compile(
    r"\b(?P<which>the|that|this|my|other|older|oldest|newer|newest|latest|earlier|previous|first|second|last|finished"
    r"|wrong|right|correct|same)"
    r"\s+(?:md\s+)?(?:runs?|simulations?|sims?|trajector(?:y|ies)|trajs?|ones?)\b",
    re.I,
)
_OTHER_ONE = re.compile(
    r"\b(?:for|on|with|of|to)?\s*(?:the|that)\s+other\s+(?:one|run|simulation|sim|trajectory|traj|file|structure"
    r"|sequence)\b(?:\s+(?:please|pls|too))?",
    re.I,
)
# A pronoun for the previous request's object: "its secondary structure", "is it still folded", "their RMSF"
_POINTED_BACK = re.compile(
    r"\b(?:its|it'?s\s+(?!been\b)|(?:of|for|on|in|from)\s+(?:it|that\s+one|this\s+one)\b|(?:is|does|did|was)\s+it\b)"
    r"|(?P<many>\b(?:their|(?:of|for|on|in|from)\s+them)\b)",
    re.I,
)
# What "it" may stand for inside the request itself ("fold this sequence and plot its contact map"): then it is no
# pointer back to the previous request
_ANTECEDENT = re.compile(
    r"\b(?:runs?|simulations?|sims?|trajector(?:y|ies)|trajs?|structures?|sequences?|proteins?|files?|models?|pdbs?"
    r"|mutants?|variants?|replicas?|ensembles?|peptides?|folds?|fold|simulate|predict|build|minimi[sz]e|relax|mutate"
    r"|make|load|run|extend|export)\b",
    re.I,
)
_ANSWER_WORDS = 12  # an answer is short; a longer request is a request of its own
_WHICH_MUTATIONS = re.compile(r"\s*Which mutations\?")


def answered(request: str, previous: Previous, candidates: Sequence[Candidate], names_a_tool) -> FollowUp | None:
    """``request`` as the answer to the question the assistant asked after ``previous`` (which input to use): the
    earlier request with the input the answer picks among those the question offered; None when it is no answer."""
    if not previous.question or len(request.split()) > _ANSWER_WORDS:
        return None
    given = mutation_tokens(request)
    if given and _WHICH_MUTATIONS.match(previous.question):
        # "Which mutations? ..." answered with them ("W8F and Y20A, please"): the earlier request, with them
        listed = ", ".join(dict.fromkeys(given))
        base = previous.request.strip().rstrip("?.!")
        return FollowUp(f"{base}: {listed}", f"Using {listed}, as you answered (for *{previous.request.strip()}*).\n")
    if names_a_tool(_PICKED_NOUN.sub(" ", _without_names(request, candidates))):
        return None  # ("now the rmsf of it": a request of its own)
    question = previous.question
    offered = sorted(
        (c for c in candidates if c.kind != "error" and (c.label in question or f"`{c.value}`" in question)),
        key=lambda c: question.find(c.label) if c.label in question else question.find(f"`{c.value}`"),
    )
    if not offered:
        return None
    named = [c for c in offered if _says_any(request, (*c.names, c.value))]
    # "the enzyme one", "the headpiece": another name of one of them (the kind of protein it is), when it fits one
    by_alias = [c for c in offered if _says_any(request, c.aliases)]
    named = named or (by_alias if len(by_alias) == 1 else [])
    kinds = [c for pattern, fits in _BY_KIND if pattern.search(request) for c in offered if fits(c)]
    # "the finished one, seed 3", "the 4 ps one": told apart by what its record says
    told = (runs_said(request, offered) or ([], None))[0] or [
        c for c in offered if re.search(r"\bfinished\b", request, re.I) and "finished" in c.label
    ]
    if named:
        chosen = named[0]
    elif told:
        chosen = told[0]
    elif kinds:
        chosen = kinds[0]
    elif _NOT_NEWEST.search(request) and len(offered) > 1:
        chosen = offered[1]  # "no, not the newest one - the other run"
    elif _OLDER.search(request) and not _NEWEST.search(request) and len(offered) > 1:
        chosen = offered[1]
    elif _YES.search(request) or _NEWEST.search(request):
        chosen = offered[0]
    else:
        return None
    shown = f"`{chosen.value}`" if re.fullmatch(r"[A-Za-z_]\w*", chosen.value) else chosen.value
    base = previous.request.strip().rstrip("?.!")
    return FollowUp(f"{base} ({chosen.value})", f"Using {shown}, as you answered (for *{previous.request.strip()}*).\n")


# "no, not the newest one - the other run", "wrong run, I meant the older one": the previous request was made on an
# input the scientist now rules out; the previous request again, on the other input of that kind
_NO = re.compile(r"^\s*(?:no|nope|nah|wrong|not\s+(?:that|this)|that'?s\s+(?:not|the\s+wrong))\b", re.I)


def _corrected(request: str, objects: list[str], candidates: Sequence[Candidate], names_a_tool) -> Candidate | None:
    if not _NO.match(request) or len(request.split()) > _ANSWER_WORDS:
        return None
    if names_a_tool(_PICKED_NOUN.sub(" ", _without_names(request, candidates))):
        return None
    used = [c for c in candidates if c.value in objects and c.kind != "error"]
    if not used:
        return None
    kinds = {c.kind for c in used}
    others = sorted((c for c in candidates if c.kind in kinds and c.value not in objects), key=lambda c: -c.order)
    named = [c for c in others if _says_any(request, c.names)]
    if named:
        return named[0]
    if len(others) == 1 or (others and (_NOT_NEWEST.search(request) or _OLDER.search(request))):
        return others[0]
    return None


def standalone(messages: Sequence, index: int, tools: Sequence, candidates: Sequence[Candidate], names_a_tool):
    """The request at ``messages[index]`` rewritten to stand on its own (a follow-up of a follow-up is read through
    the requests before it), or None when it refers to nothing earlier."""
    previous = previous_request(messages, index, tools)
    if previous is not None:
        earlier = standalone(messages, previous.index, tools, candidates, names_a_tool)
        if earlier is not None:
            previous = replace(previous, request=earlier.request)
    return follow_up(messages[index].content, previous, candidates, names_a_tool)


# "the same thing", "that same run", "the same one": the object of the previous request.
_SAME_OBJECT = re.compile(
    r"\b(?:the|that|this)\s+(?:very\s+)?same(?:\s+(?:thing|one|trajectory|traj|run|simulation|sim|structure|system"
    r"|data|input|protein|frames?))?\b(?!\s+(?:way|time|as|again|for|with|analysis|again))",
    re.I,
)
# "do that for the first half only", "same again for traj2", "repeat it on the last 10%", "what about traj2?",
# "and for the other run?": the previous request again, changed as the rest says.
_REPEAT = re.compile(
    r"^\s*(?:(?:ok(?:ay)?|and|now|then|great|thanks|cool|nice|perfect)\s*[,\u2013\u2014-]?\s+)*"
    r"(?:(?:can|could|would)\s+you\s+|please\s+)?"
    r"(?:(?:do|repeat|redo|run|try)\s+(?:that|it|this|the\s+same(?:\s+thing)?)(?:\s+(?:again|too|also))?"
    # ("ok now the same, but only between 2 and 3 ps": a comma may follow "the same"; "cool - and the same number for
    # dhfr?": what the same is may be said)
    r"|(?:the\s+)?same[,\s]+(?:(?:thing|number|value|numbers|values|analysis|calculation|quantity|measurement|plot"
    r"|table|one)[,\s]+)?(?:again[,\s]+)?(?=for|on|with|over|in|but|only|at\b)"
    r"|(?:what|how)\s+about|(?:and|now)\s+(?=for|on|with|over|in)|again\s+(?=for|on|with|over|in|at\b))"
    r"\s*(?P<rest>.*)$",
    re.I | re.S,
)


# "for both", "for each of them", "on all three": every object of the previous request
_EVERY_OBJECT = re.compile(
    r"\s*\b(?:for|of|on|in|across)\s+(?:both|each|all\s+(?:two|three|four)|them\s+(?:both|all))(?:\s+of\s+them)?\b"
    r"|\s*\b(?:both|each)\s+of\s+them\b",
    re.I,
)


_PURPOSE = re.compile(
    r"[,\s]+(?:so\s+(?:that\s+)?|to\s+(?:have|get|make|see)\b|as\s+a\b|because\b)(?:.*)$", re.I | re.S
)
_SETTING = re.compile(r"\b(?P<name>[a-z_]+)\s*(?:=|of)?\s*(?P<value>\d+(?:\.\d+)?)\b", re.I)
_QUANTITY = re.compile(r"\b\d+(?:\.\d+)?\s*(?P<unit>ps|ns|fs|k|kelvin|°\s*c|%|percent|frames?)(?!\w)", re.I)


def _without_settings_said_in(rest: str, base: str) -> str:
    """The earlier request less the settings the follow-up says anew ("seed 1" when it says "with seed 2", "2 ps"
    when it says "for 5 ps"): the follow-up's value is the one meant."""
    for m in _SETTING.finditer(rest):
        if m["name"].lower() not in ("for", "at", "with", "the", "and", "of", "by", "to", "first", "last"):
            base = re.sub(rf"\b{re.escape(m['name'])}\s*(?:=|of)?\s*\d+(?:\.\d+)?\b", " ", base, flags=re.I)
    for m in _QUANTITY.finditer(rest):
        unit = m["unit"].lower()
        # one dimension, any of its spellings: "at 350 kelvin" replaces "at 300 K"
        unit = (
            r"(?:k|kelvin)"
            if unit in ("k", "kelvin")
            else r"(?:%|percent)"
            if unit in ("%", "percent")
            else re.escape(unit)
        )
        base = re.sub(rf"\b(?:for\s+|at\s+)?\d+(?:\.\d+)?\s*{unit}(?!\w)", " ", base, flags=re.I)
    return re.sub(r"\s{2,}", " ", base).strip(" ,")


def _says_any(text: str, names) -> bool:
    """Does ``text`` say one of ``names`` whole ("md_runs/villin"; "villin" is not said by "villin_seed2")?"""
    lowered = text.lower()
    return any(re.search(rf"(?<![\w/.]){re.escape(n.lower())}(?![\w])", lowered) for n in names if n)


def _without_names(text: str, candidates: Sequence[Candidate]) -> str:
    """The words of ``text`` less the notebook's names and paths ("md_runs/villin" names no tool's "run")."""
    text = re.sub(r"\S*[/.]\S*", " ", text)
    for n in sorted({n for c in candidates for n in (*c.names, c.value) if n}, key=len, reverse=True):
        text = re.sub(rf"(?<![\w/.]){re.escape(n)}(?![\w])", " ", text, flags=re.I)
    return text


def follow_up(
    request: str,
    previous: Previous | None,
    candidates: Sequence[Candidate],
    names_a_tool,
) -> FollowUp | None:
    """``request`` rewritten to stand on its own, when it refers to ``previous``; else None.

    ``names_a_tool(text)`` says whether the words name a tool's quantity or action ("what about the rmsd?" asks for a
    new analysis of the previous object, not the previous analysis again)."""
    if previous is not None and previous.question:
        answer = answered(request, previous, candidates, names_a_tool)
        if answer is not None:
            return answer
        previous = previous.earlier  # a request of its own: "the same thing" is what was last computed
    if previous is None or not previous.inputs:
        return None
    objects = [value for _, value in previous.inputs]
    corrected = _corrected(request, objects, candidates, names_a_tool)
    if corrected is not None:
        base = previous.request.strip().rstrip("?.!")
        for value in objects:
            base = re.sub(rf"(?<![\w/.]){re.escape(value)}(?![\w/])", corrected.value, base)
        rewritten = base if corrected.value in base else f"{base} ({corrected.value})"
        shown = f"`{corrected.value}`" if re.fullmatch(r"[A-Za-z_]\w*", corrected.value) else corrected.value
        return FollowUp(rewritten, f"Using {shown} instead, as you said (for *{previous.request.strip()}*).\n")
    several = list(dict.fromkeys(objects))
    every = _EVERY_OBJECT.search(request)
    if every and len(several) > 1 and not any(_says_any(request, c.names) for c in candidates if c.kind != "error"):
        # "now the radius of gyration for both": each object the previous request's calls took, one step each
        rewritten = (request[: every.start()] + request[every.end() :]).strip(" ?.!,")
        rewritten = f"{rewritten} " + " and ".join(f"of {v}" for v in several)
        shown = ", ".join(several)
        return FollowUp(rewritten, f"For each of {shown}, as in your previous request.\n")
    repeat = _REPEAT.match(request)
    # "same again with seed 2 so I have a replica": why it is asked is no part of what is asked
    rest = _PURPOSE.sub("", repeat["rest"]) if repeat else ""
    if repeat and not names_a_tool(_without_names(rest, candidates)):
        rest = rest.strip(" ?.!,")
        base = previous.request.strip().rstrip("?.!")
        if window_tokens(rest):
            base = without_windows(base)  # the follow-up's own window replaces the earlier one
        base = _without_settings_said_in(rest, base)
        lowered = f" {without_windows(rest).lower()} "  # "the first half" names no variable `first`
        new = [
            c
            for c in candidates
            if c.kind != "error" and c.value not in objects and _says_any(lowered, (*c.names, c.value))
        ]
        if not new and _OTHER_ONE.search(rest):
            # "ok, same for the other one please": of the inputs of the kind the previous request took, the one it did
            # not (the newest of them when there are several)
            kinds = {c.kind for c in candidates if c.value in objects and c.kind != "error"}
            others = [c for c in candidates if c.kind in kinds and c.value not in objects]
            new = sorted(others, key=lambda c: -c.order)[:1]
            rest = _OTHER_ONE.sub(" ", rest).strip(" ,")
        if new:
            # "what about traj2?": the previous request on the object named now
            for value in objects:
                base = re.sub(rf"(?<![\w/.]){re.escape(value)}(?![\w/])", new[0].value, base)
            # and the words that named the old object ("is villin still helical ...", then "now the same for
            # dhfr.pdb": a newcomer's follow-up ran half of it on villin again)
            old_names = {n for c in candidates if c.value in objects for n in (*c.names, *c.aliases) if len(n) > 2}
            for name in sorted(old_names - {new[0].value}, key=len, reverse=True):
                base = re.sub(rf"(?<![\w/.-]){re.escape(name)}(?![\w/-])", new[0].value, base, flags=re.I)
            if new[0].value not in base and new[0].value not in rest:
                base = f"{base} of {new[0].value}"
            elif new[0].value in base:
                # ("... how compact is dhfr.pdb", not "... how compact is dhfr.pdb for dhfr.pdb")
                rest = re.sub(rf"(?:\b(?:for|on|with|of|to|in)\s+)?{re.escape(new[0].value)}", " ", rest).strip(" ,")
        else:
            # the object the previous calls were given, said so the request stands on its own
            base = base if any(v in base for v in objects) else f"{base} (of {objects[0]})"
        rewritten = f"{base} {rest}".strip()
        return FollowUp(rewritten, f"As in your previous request (*{previous.request.strip()}*): {rewritten}.\n")
    pointer = _POINTED_BACK.search(request)
    if (
        pointer
        and not _ANTECEDENT.search(request[: pointer.start()])
        and names_a_tool(_without_names(request, candidates))
        and not any(_says_any(request, (*c.names, c.value)) for c in candidates if c.kind != "error")
    ):
        # "and what about its secondary structure?", "is it still helical?": a new analysis of what the previous
        # request's calls took (held-out 15: DSSP asked which run after an Rg of the older of two runs)
        several = list(dict.fromkeys(objects)) if pointer["many"] else objects[:1]
        rewritten = f"{request.strip()} (" + " and ".join(f"of {v}" for v in several) + ")"
        shown = ", ".join(f"`{v}`" if re.fullmatch(r"[A-Za-z_]\w*", v) else v for v in several)
        return FollowUp(rewritten, f"Using {shown}, as in your previous request.\n")
    same = _SAME_OBJECT.search(request)
    if same:
        value = objects[0]
        rewritten = request[: same.start()] + value + request[same.end() :]
        shown = f"`{value}`" if re.fullmatch(r"[A-Za-z_]\w*(?:\[[^\]]*\])?", value) else value
        return FollowUp(rewritten, f"Using {shown}, as in your previous request.\n")
    return None
