"""A rare word of the question written verbatim in a passage counts as the passage being about the question.

A newcomer's note said "G121V" in so many words; the question "what does G121V do?" scored it below the relevance
bar (a sentence embedding hardly sees a mutation name) and the answer was "no passage is about the question"
(newcomer r9). Real ingest (MiniLM, Chroma, LlamaIndex's BM25) of the shared small corpus plus that note.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from kenkyu.tools import literature
from kenkyu.tools.literature._evidence import answer_markdown, cited_evidence
from kenkyu.tools.literature._exact import named_terms, rare_terms
from kenkyu.tools.literature._results import MIN_RELEVANCE
from literature_corpus import write_corpus

DHFR_NOTE = """# DHFR reading notes

## Met20 loop
The Met20 loop of E. coli dihydrofolate reductase closes over the nicotinamide ring in the Michaelis complex
and occludes it in the product complexes. Its motion is coupled to the catalytic cycle.

## Distal variants
Cameron and Benkovic (1997): G121V slowed hydride transfer about 200-fold, although residue 121 lies 19 angstrom
from the active site, on the betaF-betaG loop. M42W slowed it less; together the two were non-additive.
"""


@pytest.fixture(scope="module")
def index(tmp_path_factory) -> str:
    corpus = write_corpus(tmp_path_factory.mktemp("exact") / "corpus")
    (corpus / "dhfr_reading.md").write_text(DHFR_NOTE)
    path = str(corpus.parent / "index")
    literature.ingest([corpus], path, progress=False)
    return path


def _from_note(passages):
    return next(p for p in passages if Path(p.path).name == "dhfr_reading.md")


def test_a_mutation_named_in_a_note_makes_its_passage_an_answer(index):
    passages = literature.search("what does G121V do?", index, k=5)
    note = _from_note(passages)
    # The embedding alone would have put it below the bar: this is the case the exact match is for.
    assert note.relevance < MIN_RELEVANCE and note.exact_terms == ["G121V"]
    line = next(line for line in passages.summary().splitlines() if line.startswith(f"[{note.number}] "))
    assert "exact match of G121V" in line and "weak match" not in line
    assert "None of them is about the query" not in passages.summary()

    answer = literature.ask("what does G121V do?", index, llm=False)
    assert answer.evidence == "passages-only" and "does not answer" not in answer.text
    assert "dhfr_reading.md" in {Path(c.path).name for c in answer.citations}
    # The research loop's Check counts it as cited evidence, and its Act section quotes it.
    ((_, status, detail),) = cited_evidence(answer)
    assert status == "pass" and "dhfr_reading.md" in detail
    assert any("DHFR reading notes" in line for line in answer_markdown(answer))


def test_a_mutation_no_passage_holds_still_finds_nothing(index):
    answer = literature.ask("what does Q999K do?", index, llm=False)
    assert answer.evidence == "missing" and "no passage is about the question" in answer.text


def test_the_words_that_count_are_names_and_only_rare_ones():
    assert named_terms("my notes mention G121V. what does that mutation do to dhfr, per ESM-2?") == ["G121V", "ESM"]
    assert named_terms("Lys65 and Met20 of DHFR (5dfr, 1VII), LipA, p53") == [
        "Lys65",
        "Met20",
        "DHFR",
        "5dfr",
        "1VII",
        "LipA",
        "p53",
    ]
    # Numbers with their units, years and ordinary words are not names.
    assert named_terms("simulate 10 ps at 300K in 2021 for 4ns, a 5kDa protein") == []
    texts = [f"passage {i} about DHFR" for i in range(40)] + ["the G121V variant"]
    # DHFR is in almost every passage: it says nothing about which one answers; G121V is in one.
    assert rare_terms("what does G121V do to DHFR?", texts) == ["G121V"]
    assert rare_terms("what does A7V do?", texts) == []
