"""The embedded model's compact reply cuts at a sentence or word boundary, with an ellipsis, never mid-word; a
literature passage is quoted from its sentence that matches the question, not from its opening (newcomer r10:
the C-terminal-helix note was quoted by its first 150 characters, and the sentence that mattered was further on).
"""

from __future__ import annotations

import re

from kenkyu.core.messages import Message
from kenkyu.core.providers.local_llama import _report_results
from kenkyu.core.text import shorten
from kenkyu.tools.literature._results import CitedAnswer, Passage, Passages
from literature_corpus import PAPERS

LIPASE_PAGE_2 = PAPERS["lipase_disulfide.pdf"][4][1]


def _reply(content: str, name: str = "analysis_rmsd") -> str:
    return "".join(chunk.text for chunk in _report_results([Message("tool", content, tool_call_id="1", name=name)]))


def _words(text: str) -> list[str]:
    return re.findall(r"[\w.]+", text)


def test_a_long_result_line_ends_on_a_whole_word_with_an_ellipsis():
    summary = "RMSD of md_runs/villin_1vii_implicit vs frame 0: " + ", ".join(
        f"frame {i} {0.1 + i / 1000:.4f} nm" for i in range(60)
    )
    (line,) = [line for line in _reply(summary).splitlines() if line.startswith("- `analysis_rmsd`")]
    shown = line.removeprefix("- `analysis_rmsd`: ")
    assert len(shown) <= 500 and shown.endswith("\u2026")
    kept = _words(shown.removesuffix("\u2026"))
    assert kept == _words(summary)[: len(kept)]  # every word shown is whole: "0.1234 nm", never "0.12"


def test_shorten_prefers_a_sentence_end_then_a_word_end():
    text = "The protein stays folded. Its radius of gyration drifts by 2 percent over the run, within noise."
    assert shorten(text, 200) == text
    assert shorten(text, 45) == "The protein stays folded. \u2026"  # the sentence keeps over half the room
    assert shorten(text, 60) == "The protein stays folded. Its radius of gyration drifts by\u2026"
    assert shorten("one two three four five six seven", 20) == "one two three four\u2026"


def _passage(text: str, exact=()) -> Passage:
    return Passage(1, "Disulfide engineering", ["Hiroshi Tanaka"], 2019, "p.pdf", "p.pdf", 2, "p. 2", text, 0.03,
                   0.6, exact_terms=list(exact))  # fmt: skip


def test_a_passage_is_quoted_from_the_sentence_that_matches_the_question():
    question = "what does the disulfide do to the lid helix?"
    passages = Passages([_passage(LIPASE_PAGE_2)], query=question, index="literature_index")
    summary = passages.summary(text_chars=120)
    assert "\u2026 Molecular dynamics showed that the new disulfide rigidifies the lid helix." in summary
    assert "At 60 degrees" not in summary  # the page's opening, about something else
    # What the scientist reads of it in the embedded model's reply: the same sentence, cut at a word.
    (quote,) = [line for line in _reply(summary, "literature_search").splitlines() if line.strip().startswith("[1]")]
    assert "rigidifies the lid helix" in quote
    # In Jupyter too, for the answer's sources.
    answer = CitedAnswer(question, "It rigidifies the lid helix [1].", passages, citations=[passages[0]])
    assert "Molecular dynamics showed that the new disulfide rigidifies the lid helix." in answer._repr_html_()


def test_a_rare_word_of_the_question_outweighs_common_ones_and_no_match_keeps_the_opening():
    text = "The variant was made by PCR. The G121V variant slows hydride transfer tenfold. Variants were purified."
    shown = Passages([_passage(text, ["G121V"])], query="what does the G121V variant do?", index="i").summary()
    assert "\u2026 The G121V variant slows hydride transfer tenfold." in shown
    opening = Passages([_passage(LIPASE_PAGE_2)], query="what is the melting point of ice?", index="i").summary()
    assert "At 60 degrees the half-life" in opening


def test_the_models_name_keeps_its_capitals_when_only_passages_came_back():
    passages = Passages([_passage(LIPASE_PAGE_2)], query="lid helix", index="i")
    why = "SmolLM2-135M-Instruct.Q4_1 calls tools but does not write answers"
    answer = CitedAnswer("lid helix?", "", passages, evidence="passages-only", without_llm=why)
    assert f"<i>{why}: the ranked passages" in answer._repr_html_()  # not "Smollm2-135m-instruct.q4_1"
