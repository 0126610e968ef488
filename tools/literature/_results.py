"""What the literature tools return: readable in Jupyter (``_repr_html_``), in a terminal and to the
agent (``summary()``), and as a table (``to_dataframe()``).

Every ``summary()`` that contains document text fences it as data (see ``_safety``), because
that text is what the agent reads of a tool result.
"""

from __future__ import annotations

import html
import os
from dataclasses import dataclass, field
from pathlib import Path

from kenkyu.tools.literature._excerpt import excerpt
from kenkyu.tools.literature._safety import DATA_NOTE, fence_as_data


@dataclass
class Passage:
    """One retrieved passage and where it comes from. ``number`` is its citation number [n]."""

    number: int
    title: str
    authors: list[str]
    year: int | None
    source: str  # the index key: a file path, or "refs.bib#citekey"
    path: str  # the file to open (the PDF of a BibTeX entry)
    page: int | None
    location: str  # "p. 3", "cell 4", "@key" or ""
    text: str
    score: float  # the retrieval score in the chosen mode (fused rank score for hybrid)
    relevance: float | None = None  # cosine similarity of the query and passage embeddings
    kind: str = ""
    tags: list[str] = field(default_factory=list)
    node_id: str = ""
    # Rare words of the question (G121V, Lys65, DHFR) the passage holds verbatim (see _exact): they make it about
    # the question whatever its relevance.
    exact_terms: list[str] = field(default_factory=list)

    @property
    def citation(self) -> str:
        """``Doe & Roe (2021), "Title", paper.pdf p. 3``."""
        who = _authors_short(self.authors)
        when = f" ({self.year})" if self.year else ""
        where = Path(self.path).name + (f" {self.location}" if self.location else "")
        return f'{who}{when}, "{self.title}", {where}'.lstrip(", ")

    @property
    def link(self) -> str:
        """A link to the file (relative to the working directory when it is inside it), at the page."""
        path = Path(self.path)
        try:
            target = os.path.relpath(path, Path.cwd())
            if target.startswith(".."):
                raise ValueError
        except ValueError:
            target = path.as_uri() if path.is_absolute() else str(path)
        return target + (f"#page={self.page}" if self.page and self.kind == "pdf" else "")


MIN_RELEVANCE = 0.3  # cosine similarity (MiniLM): below it, no passage is about the question


def about_question(p, min_relevance: float = MIN_RELEVANCE) -> bool:
    """Whether a passage counts as about the question: its relevance reaches the bar, or it holds a rare word of
    the question verbatim (a mutation, residue or gene name the embedding hardly sees); unknown relevance counts."""
    relevance = getattr(p, "relevance", None)
    return bool(getattr(p, "exact_terms", None)) or relevance is None or relevance >= min_relevance


def none_about(passages, min_relevance: float = MIN_RELEVANCE) -> float | None:
    """The closest relevance when passages came back and none is about the question; None otherwise."""
    if not passages or any(about_question(p, min_relevance) for p in passages):
        return None
    return max(p.relevance for p in passages)


class Passages(list):
    """Ranked passages for a query; ``passages[0]`` is citation [1]."""

    def __init__(self, items=(), *, query: str = "", mode: str = "hybrid", index: str = ""):
        super().__init__(items)
        self.query, self.mode, self.index = query, mode, index

    def cite(self, number: int) -> Passage:
        """The passage behind citation ``[number]``."""
        for passage in self:
            if passage.number == number:
                return passage
        raise KeyError(f"no passage [{number}]: citations run from 1 to {len(self)}")

    def to_dataframe(self):
        import pandas as pd

        columns = ["number", "title", "authors", "year", "source", "page", "location", "score", "relevance", "text"]
        rows = [{**{c: getattr(p, c) for c in columns}, "authors": "; ".join(p.authors)} for p in self]
        return pd.DataFrame(rows, columns=columns)

    def summary(self, text_chars: int | None = None) -> str:
        if not self:
            return f'No passages in {self.index} match "{self.query}".'
        # The agent reads at most ~2,000 characters of a tool result; every fence must fit whole.
        text_chars = text_chars or max(120, min(350, 1200 // len(self)))
        lines = [f'{len(self)} passages from {self.index} for "{self.query}" ({self.mode} retrieval).', DATA_NOTE]
        closest = none_about(self)
        if closest is not None:
            lines.insert(
                1,
                f"None of them is about the query (closest relevance {closest:.2f}, below {MIN_RELEVANCE:.2f}): "
                "the nearest text in the index, not an answer.",
            )
        for p in self:
            lines.append(f"[{p.number}] {p.citation} (score {p.score:.3g}){match_note(p, closest is None)}")
            # The sentence that matches the query, not the passage's opening (newcomer r10: the note's first 150
            # characters were quoted, and the sentence about the C-terminal helix was further down).
            shown = excerpt(p.text, self.query, text_chars, p.exact_terms)
            lines.append(fence_as_data(shown, f"passage [{p.number}]"))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        if not self:
            return (
                f"<p>No passages in <code>{html.escape(self.index)}</code> match <i>{html.escape(self.query)}</i>.</p>"
            )
        some_about = none_about(self) is None
        items = "".join(_passage_html(p, weak=match_note(p, some_about), question=self.query) for p in self)
        return (
            f"<div class='kenkyu-literature'><p><b>{len(self)} passages</b> for <i>{html.escape(self.query)}</i> "
            f"<small>({html.escape(self.mode)}, {html.escape(self.index)})</small></p><ol>{items}</ol></div>"
        )


def match_note(p: Passage, some_about: bool) -> str:
    """Marks a passage that is not about the question among passages that are, and says why a passage below the
    relevance bar still counts (it holds a rare word of the question verbatim).

    Retrieval always returns k passages: a newcomer asking about DHFR's Met20 loop got two passages of their DHFR
    note and, at the same rank as citations, a villin folding note and a bare BibTeX title (relevance 0.17 and
    0.19). When no passage is relevant the summary's first line already says so; then nothing is marked."""
    if p.exact_terms and p.relevance is not None and p.relevance < MIN_RELEVANCE:
        said = ", ".join(p.exact_terms)
        return f" — exact match of {said} from the question (relevance {p.relevance:.2f})"
    if not some_about or about_question(p):
        return ""
    return f" — weak match (relevance {p.relevance:.2f}, below {MIN_RELEVANCE:.2f}): probably not about the question"


def _passage_html(p: Passage, quote_chars: int = 500, weak: str = "", question: str = "") -> str:
    who = html.escape(_authors_short(p.authors))
    year = f" ({p.year})" if p.year else ""
    where = html.escape(Path(p.path).name + (f" {p.location}" if p.location else ""))
    return (
        f"<li value='{p.number}'><b>{html.escape(p.title)}</b> — {who}{year} · "
        f"<a href='{html.escape(p.link)}' target='_blank'>{where}</a> <small>score {p.score:.3g}"
        f"{html.escape(weak)}</small>"
        "<blockquote style='margin:0.2em 0 0.6em 1em;color:#444'>"
        f"{html.escape(excerpt(p.text, question, quote_chars, p.exact_terms))}</blockquote></li>"
    )


@dataclass
class IngestReport:
    """What an ingest did. Sources are index keys (file paths, or ``refs.bib#key`` for BibTeX entries)."""

    index: str
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    embedded: int = 0  # passages embedded in this run (0 when nothing changed)
    pages: int = 0  # pages (PDF) or sections read in this run
    chunks: int = 0  # passages in the index after the run
    documents: int = 0  # sources in the index after the run
    skipped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        lines = [
            f"literature index {self.index}: {self.documents} documents, {self.chunks} passages",
            f"added {len(self.added)}, updated {len(self.updated)}, unchanged {len(self.unchanged)}, "
            f"removed {len(self.removed)}; embedded {self.embedded} passages from {self.pages} pages "
            f"in {self.seconds:.1f} s",
        ]
        for label, keys in (("added", self.added), ("updated", self.updated), ("removed", self.removed)):
            for key in keys[:20]:
                lines.append(f"  {label}: {_short_key(key)}")
        lines += [f"  skipped: {s}" for s in self.skipped] + [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(self.summary())}</pre>"


@dataclass
class CitedAnswer:
    """An answer whose [n] markers resolve to ``citations`` (each a :class:`Passage`)."""

    question: str
    text: str
    passages: Passages
    citations: list[Passage] = field(default_factory=list)
    evidence: str = "found"  # found | missing | passages-only
    model: str | None = None
    warnings: list[str] = field(default_factory=list)
    unverified_quotes: list[str] = field(default_factory=list)
    refused_tool_calls: list[str] = field(default_factory=list)
    without_llm: str = "no LLM configured"  # why only passages came back, when evidence is passages-only

    def cite(self, number: int) -> Passage:
        return self.passages.cite(number)

    def summary(self) -> str:
        lines = [f"Q: {self.question}"]
        if self.evidence == "passages-only":
            lines.append(f"({self.without_llm}: the ranked passages with their citations)")
            lines.append(self.passages.summary())
        else:
            # The answer is the model's words built on document text, so it is fenced too.
            lines.append(fence_as_data(self.text, "answer"))
            if self.citations:
                lines.append("Sources:")
                lines += [f"[{p.number}] {p.citation}" for p in self.citations]
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        if self.evidence == "passages-only":
            return (
                # The first letter only: capitalize() lower-cased the model's name ("Smollm2-135m-instruct.q4_1").
                f"<p><i>{html.escape(self.without_llm[:1].upper() + self.without_llm[1:])}: the ranked passages with "
                "their citations.</i></p>" + self.passages._repr_html_()
            )
        body = html.escape(self.text).replace("\n", "<br>")
        for p in self.citations:
            body = body.replace(
                f"[{p.number}]", f"<a href='{html.escape(p.link)}' title='{html.escape(p.citation)}'>[{p.number}]</a>"
            )
        sources = "".join(_passage_html(p, question=self.question) for p in self.citations)
        warnings = "".join(f"<p style='color:#a60'>⚠ {html.escape(w)}</p>" for w in self.warnings)
        return (
            f"<div class='kenkyu-literature'><p><b>{html.escape(self.question)}</b></p><p>{body}</p>{warnings}"
            + (f"<p><b>Sources</b></p><ol>{sources}</ol>" if sources else "")
            + "</div>"
        )


def _authors_short(authors: list[str]) -> str:
    surnames = [a.split()[-1] for a in authors if a.split()]
    if not surnames:
        return ""
    if len(surnames) == 1:
        return surnames[0]
    if len(surnames) == 2:
        return f"{surnames[0]} & {surnames[1]}"
    return f"{surnames[0]} et al."


def _short_key(key: str) -> str:
    path, _, entry = key.partition("#")
    return Path(path).name + (f"#{entry}" if entry else "")
