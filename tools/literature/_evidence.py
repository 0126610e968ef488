"""What the research loop checks and quotes of a literature result (declared on ``search`` and ``ask``).

- :data:`cited_evidence` is the Check section's test: did the question find cited passages?
- :func:`answer_markdown` is how the Act section quotes the result: the model's answer with its
  sources, or (without an LLM) the best passages about the question.
"""

from __future__ import annotations

import re

from kenkyu.core.science import result_check
from kenkyu.tools.literature._results import about_question


@result_check("the literature returns cited evidence for the question")
def cited_evidence(answer):
    """Cited passages for the question: an answer's citations, or the passages about it."""
    (e_lit,) = cited_evidence.expectations
    evidence = getattr(answer, "evidence", "found")
    citations = getattr(answer, "citations", None)
    if evidence == "missing":
        citations = []
    elif evidence == "passages-only":
        # Without an LLM every retrieved passage is listed; only those about the question count.
        citations = [c for c in getattr(answer, "passages", citations or []) if about_question(c)]
    if citations is None:
        try:
            citations = list(answer)
        except TypeError:
            citations = []
    sources = sorted({_source_of(c) for c in citations} - {""})
    if citations:
        yield (
            e_lit,
            "pass",
            (f"{len(citations)} cited passage(s) from {len(sources) or '?'} source(s): {', '.join(sources)[:200]}"),
        )
    else:
        yield e_lit, "warn", "no passage matched: the corpus may not cover this question"


def _source_of(citation) -> str:
    for attr in ("source", "key", "title", "path", "file"):
        value = getattr(citation, attr, None) or (citation.get(attr) if isinstance(citation, dict) else None)
        if value:
            return str(value).rsplit("/", 1)[-1]
    return ""


def answer_markdown(answer, passages: int = 3, chars: int = 260) -> list[str]:
    """A literature result as Markdown: the model's answer with its sources, or the best passages."""
    evidence = getattr(answer, "evidence", None)
    if evidence == "passages-only" or (evidence is None and isinstance(answer, list)):
        found = [p for p in getattr(answer, "passages", answer) if about_question(p)][:passages]
        if not found:
            return ["- no passage in the index is about this question"]
        lines = [f"Best passages for *{getattr(answer, 'question', '')}* (no model wrote an answer):", ""]
        for p in found:
            text = " ".join(str(p.text).split())
            text = text[:chars].rsplit(" ", 1)[0] + "…" if len(text) > chars else text
            lines.append(f"- [{p.number}] {_inline(text)} — *{_inline(p.citation)}*")
        return lines
    lines = ["> " + _inline(line) for line in str(getattr(answer, "text", answer)).strip().splitlines()[:12]]
    for p in getattr(answer, "citations", [])[:8]:
        lines.append(f"- [{p.number}] {_inline(p.citation)}")
    return lines


def _inline(text: str) -> str:
    """Document text inside Markdown: no fences, headings or HTML that could break the section around it."""
    return re.sub(r"[`<>#]", " ", str(text)).strip()
