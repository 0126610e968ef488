"""Which words of a passage to show: the sentence that best matches the question, not the passage's opening.

A newcomer asked "what do my notes say about the C-terminal helix?": the right note came first, but its quote was
the note's first 150 characters, and the sentence about the C-terminal helix was further down (newcomer r10). A
retrieved passage is a chunk of several sentences; the quote now starts at the sentence that shares the most words
of the question (a rare word of the question held verbatim, such as G121V, counts most), and is cut at a sentence
or word boundary. When no sentence shares a word, the passage's opening is shown as before.
"""

from __future__ import annotations

import re

from kenkyu.core.text import ELLIPSIS, shorten

# Where a sentence ends: . ! ? then space, then what can start a sentence (not "e.g. the", not "3.5").
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\[(\"'\u201c])")
# A Markdown bullet or heading starts a sentence too ("... short.\n- The hydrophobic core is formed by Phe47, ...": the
# bullet is its own sentence, not the tail of the heading before it; held-out 14's quote stopped before the residues)
_BLOCK_START = re.compile(r"\n\s*(?=(?:[-*+]|\d+[.)]|#{1,6})\s)")
_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
_COMMON = frozenset(
    "the and for are was were with what which that this these those from into does did has have had how why "
    "when where who about over under than then there their they them its not but can could would should may "
    "might say says said tell notes note papers paper please some any all one".split()
)


def _terms(question: str) -> set[str]:
    """The question's words worth matching: not the common ones; short ones only when they hold a digit."""
    words = _WORD.findall(question.lower())
    return {w for w in words if w not in _COMMON and (len(w) > 2 or any(c.isdigit() for c in w))}


def _stem(word: str) -> str:
    # "helix" and "helices", "fold" and "folding" share their first letters; a crude stem is enough to rank.
    return word[:5] if len(word) > 5 else word


def _score(sentence: str, terms: set[str], exact: list[str]) -> int:
    stems = {_stem(w) for w in _WORD.findall(sentence.lower())}
    shared = sum(1 for term in terms if _stem(term) in stems)
    return shared + 3 * sum(1 for term in exact if term.lower() in sentence.lower())


def _sentences(text: str) -> list[str]:
    """The sentences of ``text``, each Markdown bullet or heading starting one, spaces folded."""
    return [s for block in _BLOCK_START.split(text) for s in _SENTENCE_END.split(" ".join(block.split())) if s]


def best_sentence(text: str, question: str, exact_terms=()) -> int:
    """The index of the sentence of ``text`` that best matches ``question`` (the first of equals; 0 when none
    shares a word with it)."""
    return _best(_sentences(text), question, exact_terms)


def _best(sentences: list[str], question: str, exact_terms=()) -> int:
    terms = _terms(question)
    scores = [_score(s, terms, list(exact_terms)) for s in sentences]
    best = max(range(len(scores)), key=lambda i: (scores[i], -i))
    return best if scores[best] > 0 else 0


def excerpt(text: str, question: str, limit: int, exact_terms=()) -> str:
    """At most ``limit`` characters of ``text`` starting at its sentence that best matches ``question`` (marked
    with a leading ellipsis when that is not the first), cut at a sentence or word boundary."""
    flat = " ".join(text.split())
    if not question:
        return shorten(flat, limit)
    sentences = _sentences(text)
    start = _best(sentences, question, exact_terms)
    if start == 0:
        return shorten(flat, limit)
    return shorten(f"{ELLIPSIS} " + " ".join(sentences[start:]), limit)
