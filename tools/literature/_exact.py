"""Rare words of a question written verbatim in a passage: a mutation (G121V), a residue (Lys65, Met20), a gene or
protein name (BRCA1, DHFR, LipA), a PDB id (5dfr).

A sentence embedding hardly sees such a word: a newcomer's note said "G121V" in so many words, and the question
"what does G121V do to DHFR?" scored it 0.24, below the relevance bar, so the answer was "no passage is about the
question". A word like these that few passages of the index hold is the question's subject when it appears, so a
passage holding it counts as about the question whatever its cosine (:func:`~._results.about_question`).
"""

from __future__ import annotations

import re

# Letters and digits in one word, starting with a letter (G121V, Met20, BRCA1, p53, HP35), a PDB id (5dfr, 1VII),
# or a name written in capitals (DHFR, GFP) or with a capital inside it (LipA, GroEL). A number with its unit
# (300K, 10ps) starts with a digit and is not a PDB id, so it is no such word.
_NAMED = re.compile(
    r"(?<![\w])(?:[A-Za-z]+\d+[A-Za-z\d]*|\d[A-Za-z][A-Za-z\d]{2}|[A-Z]{3,}\d*|[A-Z]?[a-z]+[A-Z][A-Za-z]*)(?![\w])"
)
_UNITS = re.compile(r"^\d+(?:ps|ns|fs|us|ms|nm|mm|mg|ml|kb|mb|gb|kda)$", re.IGNORECASE)

RARE_SHARE = 0.05  # a word in at most this share of the passages (and at least 3 may hold it) is rare


def named_terms(query: str) -> list[str]:
    """The words of ``query`` shaped like a mutation, residue, gene, protein or PDB id, in order, once each."""
    found = [m.group(0) for m in _NAMED.finditer(query or "")]
    return list(dict.fromkeys(t for t in found if not _UNITS.match(t)))


def _pattern(term: str) -> re.Pattern:
    return re.compile(rf"(?<![\w]){re.escape(term)}(?![\w])", re.IGNORECASE)


def holds(text: str, terms: list[str]) -> list[str]:
    """The terms written verbatim (as a whole word, any case) in ``text``."""
    return [t for t in terms if _pattern(t).search(text or "")]


def rare_terms(query: str, texts: list[str]) -> list[str]:
    """The named words of ``query`` that at least one and at most a few of ``texts`` (the index's passages) hold."""
    terms = named_terms(query)
    if not terms or not texts:
        return []
    most = max(3, int(RARE_SHARE * len(texts)))
    rare = []
    for term in terms:
        pattern = _pattern(term)
        count = sum(1 for text in texts if pattern.search(text))
        if 1 <= count <= most:
            rare.append(term)
    return rare
