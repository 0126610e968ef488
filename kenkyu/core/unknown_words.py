"""The word of a request that names something neither kenkyu nor the notebook knows.

"do exactly what Priya did in her notebook", "use the protonation states from my PROPKA run", "stitch my umbrella
windows together with WHAM": each names a thing (a colleague's work, another program's output, a method) that is no
kernel variable, file or run here and no word of any tool. Routed on its other words, such a request ran an
unrelated analysis of whatever was here (issue 13's bar: zero unrelated calls where the input cannot be found), and
a rule per kind of missing thing never reached the next kind a scientist wrote.

The test is general instead: a word that is rare in English (a term of art, a name) and that kenkyu's vocabulary
(its tools' names, descriptions and keywords, the proteins it knows), the notebook's names and English's common
words (with their inflections and the typos one slip away) all leave unexplained is what the request is about and
what is not here. Word frequencies come from ``wordfreq`` (Zipf scale: 3.0 is once per million words).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from kenkyu.core.concepts import CAN_YOU, PROTEIN_NAMES, stems, words_of

# Below this Zipf frequency an English word is a term of art or a name ("wham" 2.8, "centroid" 2.2, "propka" 0);
# everyday words a scientist types sit above it ("wobble" 3.0, "floppy" 3.3, "yelling" 4.0).
RARE_ZIPF = 3.0
# The common words a typo is taken for: those at least this frequent (a rarer target makes names look like typos:
# "priya" is one letter from "prima")
TYPO_TARGET_ZIPF = 3.5

_AMINO_ACIDS = (
    "alanine arginine asparagine aspartate aspartic cysteine glutamine glutamate glutamic glycine histidine "
    "isoleucine leucine lysine methionine phenylalanine proline serine threonine tryptophan tyrosine valine "
    "ala arg asn asp cys gln glu gly his ile leu lys met phe pro ser thr trp tyr val"
).split()
# Words of molecular simulation a scientist writes that no tool's text happens to say
_SCIENCE = (
    "picosecond nanosecond microsecond femtosecond millisecond angstrom nanometer vacuo nmr helical helices "
    "rmsd rmsf rg sasa dssp hbond hbonds kelvin celsius residue backbone sidechain"
).split()
_OURS = {"kenkyu", "ipython", "jupyter", "jupyterlab", "notebook", "kernel", "ipynb"}
_PREFIXES = ("re", "un", "non", "pre", "de", "sub", "over", "multi", "mis", "in")
_SUFFIXES = (
    ("iest", "y"),
    ("ier", "y"),
    ("ies", "y"),
    ("ied", "y"),
    ("ness", ""),
    ("ably", ""),
    ("able", ""),
    ("able", "e"),
    ("ing", ""),
    ("ing", "e"),
    ("ed", ""),
    ("ed", "e"),
    ("er", ""),
    ("er", "e"),
    ("est", ""),
    ("ly", ""),
    ("es", ""),
    ("s", ""),
)
# Where a word is mentioned as what the scientist lacks or sets aside, not asked about: "we don't have PyMOL on this
# box", "Rosetta isn't set up", "I also benchmarked GROMACS but ignore that", "instead of AlphaMissense"
_SET_ASIDE_BEFORE = re.compile(
    r"\b(?:don'?t|do\s+not|doesn'?t|does\s+not|haven'?t|have\s+not|hasn'?t|no|without|ignore|instead\s+of"
    r"|rather\s+than|except|besides|never|not)\b[^.,;:!?]*$",
    re.I,
)
_SET_ASIDE_AFTER = re.compile(
    r"^[^.,;:!?]{0,30}?\b(?:is\s*n[o']t|are\s*n[o']t|is\s+not|are\s+not|not|never)\s+(?:\w+\s+){0,2}?"
    r"(?:installed|set\s+up|available|here|working|on\s+this)\b|^[^.,;:!?]*\bbut\s+ignore\b",
    re.I,
)
_ASKS_IF_KENKYU_CAN = re.compile(CAN_YOU, re.I)


@lru_cache(maxsize=1)
def _zipf():
    from wordfreq import zipf_frequency

    return zipf_frequency


@lru_cache(maxsize=1)
def _common_by_start() -> dict[str, tuple[str, ...]]:
    from wordfreq import top_n_list

    words = top_n_list("en", 60_000)
    # (frequency order: the first word below the target frequency, found by bisection, ends the list)
    low, high = 0, len(words)
    while low < high:
        middle = (low + high) // 2
        low, high = (middle + 1, high) if _zipf()(words[middle], "en") >= TYPO_TARGET_ZIPF else (low, middle)
    grouped: dict[str, list[str]] = {}
    for word in words[:low]:
        if word.isalpha() and len(word) >= 4:
            grouped.setdefault(word[0], []).append(word)
    return {k: tuple(v) for k, v in grouped.items()}


def is_common(word: str) -> bool:
    """Is ``word`` an everyday English word (Zipf frequency at least :data:`RARE_ZIPF`)?"""
    return _zipf()(word, "en") >= RARE_ZIPF


def _edits(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance (a swap of neighbours is one slip), capped at ``limit`` + 1."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2, previous = None, list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        row = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (ca != cb))
            if previous2 is not None and i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                row[j] = min(row[j], previous2[j - 2] + 1)
        if min(row) > limit:
            return limit + 1
        previous2, previous = previous, row
    return previous[-1]


def _stems(word: str) -> Iterable[str]:
    """The word, and what it is with a prefix or an inflection taken off ("rerunnable" -> "runnable", "run";
    "plateaued" -> "plateau"; "unravelling" -> "ravelling", "unravel")."""
    forms = {word}
    for prefix in _PREFIXES:
        if word.startswith(prefix) and len(word) - len(prefix) >= 3:
            forms.add(word[len(prefix) :].lstrip("-"))
    for form in list(forms):
        for suffix, ending in _SUFFIXES:
            if form.endswith(suffix) and len(form) - len(suffix) >= 3:
                base = form[: -len(suffix)] + ending
                forms.add(base)
                if len(base) >= 4 and base[-1] == base[-2]:  # "runn(able)", "unravell(ing)": the doubled consonant
                    forms.add(base[:-1])
    return forms


def _a_slip_of(word: str, vocabulary: set[str]) -> bool:
    """Is ``word`` a typo of a common or known word: one slip, two in a long word ("strucuter")?"""
    if len(word) < 5:
        return False  # too many short terms of art lie one letter from a word ("fep": "few")
    limit = 1 if len(word) < 9 else 2  # ("centroid" is two letters from "centred")
    pool = (*_common_by_start().get(word[0], ()), *(w for w in vocabulary if w[:1] == word[0]))
    return any(abs(len(w) - len(word)) <= limit and _edits(word, w, limit) <= limit for w in pool)


def _explained(word: str, vocabulary: set[str], stemmed: set[str]) -> bool:
    if len(word) < 3 or word in vocabulary or _stem(word) in stemmed:
        return True  # ("mutate" is a word of the tools' "mutation": one stem)
    return any(form in vocabulary or is_common(form) for form in _stems(word)) or _a_slip_of(word, vocabulary)


def _stem(word: str) -> str:
    found = stems(word)
    return found[0] if found else word


# Words as a request writes them: a token of letters (with inner hyphens or apostrophes), not one with digits or
# underscores (an identifier, a residue or a mutation, which the notebook's names answer for), nor a sequence.
_TOKEN = re.compile(r"(?<![\w./`'\"-])[A-Za-z][A-Za-z'-]*[A-Za-z](?![\w./`-])")
# Endings of English adjectives ("intramolecular", "hydrophobic", "electrostatic", "cooperative"): a word that
# describes a thing is no name of one (a name or an acronym is written with a capital: "Kumar", "PROPKA")
_DESCRIBES = re.compile(r"(?:ic|ical|al|ar|ous|ive|ary|ible|able)$")
_CONTRACTION = re.compile(r"(?:n't|'s|'re|'ve|'ll|'d|'m|')$")
_QUOTED = re.compile(r"`[^`]*`|\"[^\"]*\"")
_SEQUENCE = re.compile(r"^[ACDEFGHIKLMNPQRSTVWY]{8,}$")


def unknown_word(text: str, known: Iterable[str] = (), names: Iterable[str] = ()) -> str | None:
    """The first word of ``text`` that names something unknown (see the module's docstring), as written, or None.

    ``known`` holds kenkyu's own words (its tools' names, descriptions and keywords), ``names`` the notebook's (its
    variables, files, runs and what they are called). A word the request sets aside ("we don't have PyMOL") or asks
    kenkyu's abilities about ("can you do metadynamics?", answered by the capability overview) is none."""
    ours, ours_stemmed = _vocabulary(frozenset(w.lower() for w in known))
    held = {w for n in names for w in words_of(str(n))}
    vocabulary, stemmed = ours | held, ours_stemmed | {_stem(w) for w in held}
    plain = _QUOTED.sub(" ", text)
    for found in _TOKEN.finditer(plain):
        written = found.group(0).strip("'-")
        if _SEQUENCE.match(written):
            continue
        if written.islower() and _DESCRIBES.search(written):
            continue  # ("the intramolecular ones", "an allosteric pocket": an adjective describes, names nothing)
        word = _CONTRACTION.sub("", written.lower())
        parts = words_of(word)
        if all(_explained(part, vocabulary, stemmed) for part in parts):
            continue
        before, after = plain[: found.start()], plain[found.end() :]
        if _SET_ASIDE_BEFORE.search(before) or _SET_ASIDE_AFTER.search(after):
            continue
        if _ASKS_IF_KENKYU_CAN.search(re.split(r"[.?!]", before)[-1]):
            continue
        return written
    return None


_AMINO_ACIDS_SET = set(_AMINO_ACIDS)


@lru_cache(maxsize=8)
def _vocabulary(known: frozenset[str]) -> tuple[set[str], set[str]]:
    """kenkyu's words (the tools' ``known`` and this module's lists) and their stems, once per set of tools."""
    words = set(known) | _AMINO_ACIDS_SET | set(_SCIENCE) | _OURS | _proteins()
    return words, {_stem(w) for w in words}


@lru_cache(maxsize=1)
def _proteins() -> set[str]:
    return {w for group in PROTEIN_NAMES for name in group for w in words_of(name)}
