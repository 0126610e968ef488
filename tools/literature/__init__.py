"""Ask your own papers: cited answers from the PDFs, notes, BibTeX and notebooks you index.

```python
from kenkyu.tools import literature
literature.ingest(["papers/", "refs.bib", "notes/"])            # incremental: only changes are embedded
literature.search("lipase thermostability", k=5)                   # hybrid BM25 + dense, fused by rank
literature.ask("How much did the disulfide raise the melting point?")   # answer with [n] citations
```

Passages live in Chroma (a folder, ``literature_index/`` by default, or a ``chroma run`` server via
``chroma_host``/``chroma_port``), embedded by the MiniLM model kenkyu ships (or any LlamaIndex
embedding). Retrieval is LlamaIndex's: BM25 and dense retrievers fused by reciprocal rank, with
year/author/tag filters and optional reranking. Answers come from a kenkyu provider called with no
tools; document text reaches it fenced as data, citations and quotations are checked against the
retrieved passages, and when nothing relevant was found it says so instead of guessing. Without an
LLM, :func:`ask` returns the ranked passages with their citations.

Everything heavy (llama_index, chromadb, pypdf, torch) is imported inside the functions.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Literal

from kenkyu.core.registry import tool
from kenkyu.core.science import checked_by, computes, costs, quoted_by, when_routed
from kenkyu.tools.literature._evidence import answer_markdown, cited_evidence
from kenkyu.tools.literature._readers import LiteratureError, UnreadableDocumentError, UnsupportedFileError
from kenkyu.tools.literature._results import CitedAnswer, IngestReport, Passage, Passages
from kenkyu.tools.literature._routing import routed_ask, routed_search
from kenkyu.tools.literature._store import IndexNotFoundError

__all__ = [
    "CitedAnswer",
    "IndexNotFoundError",
    "IndexStatus",
    "IngestReport",
    "LiteratureError",
    "Passage",
    "Passages",
    "UnreadableDocumentError",
    "UnsupportedFileError",
    "answer_markdown",
    "ask",
    "default_index",
    "example_notes",
    "ingest",
    "search",
    "status",
]


def default_index() -> str:
    """``$KENKYU_LITERATURE_INDEX``, else ``literature_index`` (a folder in the working directory)."""
    return os.environ.get("KENKYU_LITERATURE_INDEX") or "literature_index"


def example_notes() -> str:
    """The folder of reading notes and BibTeX shipped with kenkyu (kenkyu/data/literature: villin's structure
    and folding, simulation practice), to try ingest and ask on before indexing papers of your own."""
    from importlib.resources import files

    # From the kenkyu package, as md.example_structure: kenkyu.data is a namespace package (no __init__.py).
    return str(files("kenkyu").joinpath("data", "literature"))


TYPICAL_SECONDS = 15.0  # retrieval (and an answer) over a small index; not measured


@tool(
    approval="ask",
    writes_files=True,
    produces="index",
    keywords=(
        "ingest",
        "index my papers",
        "index papers",
        "index my notes",
        "index notes",
        "add papers",
        "literature index",
        "bibtex",
        "pdfs",
    ),
)
@costs(TYPICAL_SECONDS)
def ingest(
    paths: str | list[str],
    index: str = "literature_index",
    *,
    embedding=None,
    chroma_host: str | None = None,
    chroma_port: int | None = None,
    on_error: Literal["raise", "skip"] = "raise",
    progress: bool = True,
) -> IngestReport:
    """Add papers and notes to the literature index (PDF, Markdown, text, BibTeX, notebooks).

    Incremental: files whose content is unchanged are not read or embedded again, changed files are
    re-indexed, and files that no longer exist (or BibTeX entries removed from their file) leave the index.

    Parameters
    ----------
    paths
        Files and folders (searched recursively) to index.
    index
        The index folder (or, with ``chroma_host``, the collection name on that Chroma server).
    embedding
        ``None``/``"minilm"`` (the MiniLM model shipped with kenkyu), ``"hf:MODEL_OR_PATH"``,
        ``"openai:MODEL"``, ``"ollama:MODEL"``, or a LlamaIndex embedding object.
    chroma_host
        Host of a Chroma server (``chroma run``) for a shared or large corpus.
    chroma_port
        Port of that server (default 8000).
    on_error
        ``"raise"`` stops at an unreadable file; ``"skip"`` lists it in the report and goes on.
    progress
        Show progress bars.
    """
    from kenkyu.tools.literature._ingest import ingest as _ingest

    return _ingest(
        paths,
        index,
        embedding=embedding,
        chroma_host=chroma_host,
        chroma_port=chroma_port,
        on_error=on_error,
        progress=progress,
    )


@tool(
    keywords=("search my papers", "search the literature", "find passages", "which paper", "which papers", "passages"),
    produces="answer",
)
@costs(TYPICAL_SECONDS)
@checked_by(cited_evidence)
@when_routed(routed_search)
@quoted_by(answer_markdown)
@computes("search the papers", "search my notes", "find in the papers", "find passages")
def search(
    query: str,
    index: str = "literature_index",
    *,
    k: int = 5,
    mode: Literal["hybrid", "dense", "bm25"] = "hybrid",
    filters: dict | None = None,
    rerank=None,
    embedding=None,
    chroma_host: str | None = None,
    chroma_port: int | None = None,
) -> Passages:
    """Find the passages of the indexed papers and notes that best match a query, with their citations.

    Parameters
    ----------
    query
        What to look for, in words.
    index
        The index folder (or collection name on a Chroma server).
    k
        How many passages to return.
    mode
        ``"hybrid"`` (BM25 and dense retrieval fused by reciprocal rank), ``"dense"`` or ``"bm25"``.
    filters
        Metadata filters: ``{"year": 2021}`` or ``{"year": (2019, 2022)}``, ``{"author": "Tanaka"}``,
        ``{"tag": "enzymes"}`` (a list means any of them).
    rerank
        Optional reranker: a sentence-transformers CrossEncoder, the folder of one, or a LlamaIndex
        node postprocessor.
    embedding
        Only for an index built with a custom embedding object: pass the same object.
    chroma_host
        Host of a Chroma server holding the index.
    chroma_port
        Port of that server.
    """
    from kenkyu.tools.literature._retrieve import search as _search

    return _search(
        query,
        index,
        k=k,
        mode=mode,
        filters=filters,
        rerank=rerank,
        embedding=embedding,
        chroma_host=chroma_host,
        chroma_port=chroma_port,
    )


@tool(
    keywords=(
        "literature",
        "my papers",
        "the papers",
        "according to",
        "what do my papers say",
        "cite",
        "citations",
        "in my notes",
        "what did the paper find",
    ),
    produces="answer",
)
@costs(TYPICAL_SECONDS)
@checked_by(cited_evidence)
@when_routed(routed_ask)
@quoted_by(answer_markdown)
@computes(
    "literature",
    "papers",
    "paper",
    "notes",
    "my notes",
    "references",
    "publications",
    "articles",
    "according to",
    "what is known",
    "reported in",
    "what do the papers say",
)
def ask(
    question: str,
    index: str = "literature_index",
    *,
    k: int = 5,
    llm=None,
    mode: Literal["hybrid", "dense", "bm25"] = "hybrid",
    filters: dict | None = None,
    rerank=None,
    min_relevance: float = 0.3,
    embedding=None,
    chroma_host: str | None = None,
    chroma_port: int | None = None,
) -> CitedAnswer:
    """Answer a question from the indexed papers and notes, citing passages as [n].

    The answer quotes only words that occur in the retrieved passages; when no passage is about the
    question it says so. Without an LLM (none given and no kenkyu assistant in the kernel) it returns
    the ranked passages with their citations.

    Parameters
    ----------
    question
        The question, in words.
    index
        The index folder (or collection name on a Chroma server).
    k
        How many passages the answer may draw on.
    llm
        A kenkyu provider, a provider name (``"local"``, ``"openai"``, ``"anthropic"``), or ``False``
        for the passages only. Default: the kernel's kenkyu assistant's provider, if there is one.
    mode
        Retrieval mode, as for search.
    filters
        Metadata filters, as for search.
    rerank
        Optional reranker, as for search.
    min_relevance
        Below this cosine similarity between the question and the best passage, the literature is
        taken not to cover the question.
    embedding
        Only for an index built with a custom embedding object: pass the same object.
    chroma_host
        Host of a Chroma server holding the index.
    chroma_port
        Port of that server.
    """
    from kenkyu.tools.literature._answer import answer, resolve_llm

    provider = resolve_llm(llm)
    without_llm = "no LLM configured"
    if provider is not None and not getattr(provider, "writes_prose", True):
        # The embedded model routes tools; an answer from papers written by it would be invented.
        without_llm = f"{provider.model_id} calls tools but does not write answers"
        provider = None
    passages = search(
        question,
        index,
        k=k,
        mode=mode,
        filters=filters,
        rerank=rerank,
        embedding=embedding,
        chroma_host=chroma_host,
        chroma_port=chroma_port,
    )
    return answer(question, passages, provider, min_relevance=min_relevance, without_llm=without_llm)


@dataclass
class IndexStatus:
    """What an index holds."""

    location: str
    embedding: str | None
    documents: list = field(default_factory=list)  # IndexedSource
    chunks: int = 0

    def summary(self) -> str:
        lines = [
            f"literature index {self.location}: {len(self.documents)} documents, {self.chunks} passages, "
            f"embedding {self.embedding or '(none yet)'}"
        ]
        for d in sorted(self.documents, key=lambda d: d.key):
            name = os.path.basename(d.key.split("#")[0]) + (f"#{d.key.split('#', 1)[1]}" if "#" in d.key else "")
            lines.append(f"  {name}: {d.title!r}, {d.kind}, {d.chunks} passages")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        import html

        return f"<pre>{html.escape(self.summary())}</pre>"


def status(
    index: str = "literature_index", *, chroma_host: str | None = None, chroma_port: int | None = None
) -> IndexStatus:
    """The documents an index holds, with their passage counts."""
    from kenkyu.tools.literature._store import open_store

    store = open_store(index, chroma_host=chroma_host, chroma_port=chroma_port)
    return IndexStatus(store.location, store.embedding_spec, list(store.sources().values()), store.count())
