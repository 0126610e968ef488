"""The embedded model's "Results:" lines quote the top passages of a literature result: what the result says of a
passage after its score (a weak match, an exact match of a rare word of the question) stays with it (newcomer r9:
a villin note read as evidence about DHFR's Met20 loop in the compact reply)."""

from __future__ import annotations

from kenkyu.core.messages import Message
from kenkyu.core.providers.local_llama import _report_results
from kenkyu.tools.literature._results import Passages
from literature_corpus import note_passage


def _results_line(passages: Passages) -> str:
    tool = Message("tool", passages.summary(), tool_call_id="1", name="literature_search")
    return "".join(chunk.text for chunk in _report_results([tool]))


def test_the_weak_match_mark_reaches_the_reply():
    passages = Passages(
        [note_passage(1, "dhfr_reading", 0.63), note_passage(2, "villin_folding", 0.17)],
        query="what do my notes say about the Met20 loop of DHFR?",
        index="literature_index",
    )
    reply = _results_line(passages)
    villin = next(line for line in reply.splitlines() if line.strip().startswith("[2] "))
    dhfr = next(line for line in reply.splitlines() if line.strip().startswith("[1] "))
    assert "text of villin_folding" in villin
    assert "weak match (relevance 0.17, below 0.30): probably not about the question" in villin
    assert "weak match" not in dhfr and "text of dhfr_reading" in dhfr


def test_an_exact_match_says_why_it_counts():
    passages = Passages([note_passage(1, "dhfr_reading", 0.24, ["G121V"])], query="what does G121V do?", index="i")
    line = next(line for line in _results_line(passages).splitlines() if line.strip().startswith("[1] "))
    assert "exact match of G121V from the question (relevance 0.24)" in line
