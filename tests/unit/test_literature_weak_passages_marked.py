"""Retrieval returns k passages whatever their relevance: the ones not about the question are marked, so a
newcomer asking about DHFR's Met20 loop does not read a villin note as evidence (newcomer r9)."""

from __future__ import annotations

from kenkyu.tools.literature._results import CitedAnswer, Passages
from literature_corpus import note_passage


def _met20_passages() -> Passages:
    return Passages(
        [
            note_passage(1, "dhfr_reading", 0.63),
            note_passage(2, "simulation_practice", 0.31),
            note_passage(3, "villin_folding", 0.17),
        ],
        query="what do my notes say about the Met20 loop of DHFR?",
        index="literature_index",
    )


def _citation_line(summary: str, number: int) -> str:
    return next(line for line in summary.splitlines() if line.startswith(f"[{number}] "))


def test_the_off_topic_passage_is_marked_and_the_relevant_ones_are_not():
    summary = _met20_passages().summary()
    assert "weak match (relevance 0.17" in _citation_line(summary, 3)
    assert "weak match" not in _citation_line(summary, 1) and "weak match" not in _citation_line(summary, 2)
    # The cell shows the HTML: the mark is there too, once.
    assert _met20_passages()._repr_html_().count("weak match") == 1
    # A passages-only answer (the embedded model) shows the same list.
    answer = CitedAnswer(question="Met20?", text="", passages=_met20_passages(), evidence="passages-only")
    assert answer.summary().count("weak match") == 1


def test_when_no_passage_is_relevant_the_header_says_so_and_no_passage_is_singled_out():
    passages = Passages(
        [note_passage(1, "villin_folding", 0.2), note_passage(2, "villin_structure", 0.1)], query="q", index="i"
    )
    summary = passages.summary()
    assert "None of them is about the query" in summary and "weak match" not in summary
