"""Retrieval: dense (Chroma), lexical (BM25) or both fused by reciprocal rank, with metadata filters and
optional reranking. All of it LlamaIndex's own retrievers; kenkyu only wires them and keeps the BM25
index cached until the collection changes.
"""

from __future__ import annotations

import threading

import numpy as np
from kenkyu.tools.literature._embedding import resolve_embedding
from kenkyu.tools.literature._exact import holds, named_terms, rare_terms
from kenkyu.tools.literature._ingest import flag_word
from kenkyu.tools.literature._readers import LiteratureError
from kenkyu.tools.literature._results import Passage, Passages
from kenkyu.tools.literature._store import LiteratureStore, open_store

MODES = ("hybrid", "dense", "bm25")
FILTER_KEYS = ("year", "author", "tag")


def search(
    query: str,
    index="literature_index",
    *,
    k: int = 5,
    mode: str = "hybrid",
    filters=None,
    rerank=None,
    embedding=None,
    chroma_host=None,
    chroma_port=None,
) -> Passages:
    if mode not in MODES:
        raise LiteratureError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    if not isinstance(k, int) or k < 1:
        raise LiteratureError(f"k must be a positive whole number of passages, not {k!r}")
    if not str(query).strip():
        raise LiteratureError("the query is empty: ask about something")
    store = open_store(index, chroma_host=chroma_host, chroma_port=chroma_port)
    result = Passages(query=query, mode=mode, index=store.location)
    if store.count() == 0:
        return result
    from llama_index.core import QueryBundle

    embed_model = query_embedding(store, embedding)
    vector = embed_model.get_query_embedding(query)
    bundle = QueryBundle(query, embedding=vector)
    metadata_filters = build_filters(filters)
    fetch = k if rerank is None else max(4 * k, 20)
    retriever = build_retriever(store, embed_model, mode, fetch, metadata_filters)
    hits = retriever.retrieve(bundle)
    if rerank is not None:
        hits = reranker(rerank, k).postprocess_nodes(hits, query_bundle=bundle)
    hits = hits[:k]
    relevance = cosine_relevance(store, vector, [h.node.node_id for h in hits])
    rare = rare_terms(query, passage_texts(store)) if named_terms(query) else []
    for number, hit in enumerate(hits, start=1):
        passage = to_passage(number, hit, relevance.get(hit.node.node_id))
        passage.exact_terms = holds(passage.text, rare)
        result.append(passage)
    return result


def query_embedding(store: LiteratureStore, embedding):
    """Embed queries as the index's passages were embedded."""
    recorded = store.embedding_spec
    if embedding is None:
        if recorded and recorded.startswith("custom:"):
            raise LiteratureError(
                f"the index {store.location} was built with a custom embedding ({recorded}); pass the same "
                "object again as embedding=..."
            )
        return resolve_embedding(recorded)[0]
    model, spec = resolve_embedding(embedding)
    if recorded and not recorded.startswith("custom:") and spec != recorded:
        raise LiteratureError(
            f"the index {store.location} was built with the embedding {recorded!r}, not {spec!r}: "
            f"pass embedding={recorded!r} (or nothing)"
        )
    return model


def build_filters(filters):
    """``{"year": 2021 | (2019, 2022), "author": "Tanaka" | [...], "tag": "enzymes" | [...]}`` as
    LlamaIndex ``MetadataFilters`` (a ``MetadataFilters`` object is passed through)."""
    if filters is None:
        return None
    from llama_index.core.vector_stores import (
        FilterCondition,
        FilterOperator,
        MetadataFilter,
        MetadataFilters,
    )

    if isinstance(filters, MetadataFilters):
        return filters
    if not isinstance(filters, dict):
        raise LiteratureError(
            f"filters must be a dict such as {{'year': 2021, 'author': 'Tanaka'}}, not {type(filters).__name__}"
        )
    unknown = set(filters) - set(FILTER_KEYS)
    if unknown:
        raise LiteratureError(
            f"unknown filter(s) {sorted(unknown)}: use {', '.join(FILTER_KEYS)} (or a LlamaIndex MetadataFilters)"
        )
    parts = []
    year = filters.get("year")
    if year is not None:
        if isinstance(year, (list, tuple)) and len(year) == 2:
            low, high = year
            if low is not None:
                parts.append(MetadataFilter(key="year", value=int(low), operator=FilterOperator.GTE))
            if high is not None:
                parts.append(MetadataFilter(key="year", value=int(high), operator=FilterOperator.LTE))
        elif isinstance(year, int):
            parts.append(MetadataFilter(key="year", value=year, operator=FilterOperator.EQ))
        else:
            raise LiteratureError(f"filter year must be a year (2021) or a range (2019, 2022), not {year!r}")
    for name in ("author", "tag"):
        wanted = filters.get(name)
        if wanted is None:
            continue
        words = [wanted] if isinstance(wanted, str) else list(wanted)
        # Any of the named authors (or tags) will do; one flag key per name (see _ingest).
        keys = [f"{name}_{flag_word(w.split()[-1] if name == 'author' else w)}" for w in words if str(w).strip()]
        flags = [MetadataFilter(key=key, value=1, operator=FilterOperator.EQ) for key in keys]
        if len(flags) == 1:
            parts.append(flags[0])
        elif flags:
            parts.append(MetadataFilters(filters=flags, condition=FilterCondition.OR))
    return MetadataFilters(filters=parts, condition=FilterCondition.AND) if parts else None


def build_retriever(store: LiteratureStore, embed_model, mode: str, k: int, metadata_filters):
    from llama_index.core import VectorStoreIndex
    from llama_index.core.llms import MockLLM
    from llama_index.core.retrievers import QueryFusionRetriever
    from llama_index.core.retrievers.fusion_retriever import FUSION_MODES

    retrievers = []
    if mode in ("dense", "hybrid"):
        vector_index = VectorStoreIndex.from_vector_store(store.vector_store(), embed_model=embed_model)
        retrievers.append(vector_index.as_retriever(similarity_top_k=k, filters=metadata_filters))
    if mode in ("bm25", "hybrid"):
        retrievers.append(bm25_retriever(store, k, metadata_filters))
    if len(retrievers) == 1:
        return retrievers[0]
    # num_queries=1: fuse the two rankings of the user's own query; no LLM rewrites it (MockLLM is
    # never called, it only keeps LlamaIndex from looking for a default LLM).
    return QueryFusionRetriever(
        retrievers, llm=MockLLM(), mode=FUSION_MODES.RECIPROCAL_RANK, num_queries=1, similarity_top_k=k, use_async=False
    )


_bm25_cache: dict[str, tuple[str, object]] = {}
_bm25_lock = threading.Lock()
_texts_cache: dict[str, tuple[str, list[str]]] = {}


def passage_texts(store: LiteratureStore) -> list[str]:
    """Every passage's text, read once per collection generation (to tell how rare a word of the question is)."""
    with _bm25_lock:
        cached = _texts_cache.get(store.location)
        if cached is None or cached[0] != store.generation:
            cached = (store.generation, [row["documents"] or "" for row in store.rows(include=("documents",))])
            _texts_cache[store.location] = cached
        return cached[1]


def bm25_retriever(store: LiteratureStore, k: int, metadata_filters):
    """A BM25 retriever over the whole collection; the index is built once per collection generation."""
    from llama_index.core.retrievers import BaseRetriever
    from llama_index.retrievers.bm25 import BM25Retriever

    with _bm25_lock:
        cached = _bm25_cache.get(store.location)
        if cached is None or cached[0] != store.generation:
            base = BM25Retriever(nodes=store.nodes(), similarity_top_k=1)
            base.bm25.corpus = base.corpus  # so filtered copies can share the index
            cached = (store.generation, base)
            _bm25_cache[store.location] = cached
        base = cached[1]

    class MatchingOnly(BaseRetriever):
        """BM25 hits that share at least one term with the query (bm25s pads with zero scores)."""

        def _retrieve(self, query_bundle):
            try:
                retriever = BM25Retriever(
                    existing_bm25=base.bm25, similarity_top_k=min(k, len(base.corpus)), filters=metadata_filters
                )
            except ValueError:  # every passage filtered out
                return []
            return [hit for hit in retriever.retrieve(query_bundle) if hit.score and hit.score > 0]

    return MatchingOnly()


def reranker(rerank, k: int):
    """A LlamaIndex postprocessor from what the user gave: one already, a sentence-transformers
    CrossEncoder, or the path of a local CrossEncoder model folder."""
    from llama_index.core.postprocessor.types import BaseNodePostprocessor

    if isinstance(rerank, BaseNodePostprocessor):
        return rerank
    if isinstance(rerank, str):
        from pathlib import Path

        if not Path(rerank).is_dir():
            raise LiteratureError(
                f"rerank={rerank!r} is not a folder holding a CrossEncoder model; kenkyu never downloads models: "
                "save one locally (CrossEncoder(...).save(folder)) and pass its folder"
            )
        from sentence_transformers import CrossEncoder

        rerank = CrossEncoder(rerank, device="cpu")
    if not hasattr(rerank, "predict"):
        raise LiteratureError(
            f"rerank must be a LlamaIndex node postprocessor, a sentence-transformers CrossEncoder or a model "
            f"folder, not {type(rerank).__name__}"
        )
    return cross_encoder_postprocessor(rerank, k)


def cross_encoder_postprocessor(model, top_n: int):
    from llama_index.core.postprocessor.types import BaseNodePostprocessor
    from llama_index.core.schema import MetadataMode, NodeWithScore

    class CrossEncoderRerank(BaseNodePostprocessor):
        """Order passages by a CrossEncoder's score for (query, passage)."""

        @classmethod
        def class_name(cls) -> str:
            return "KenkyuCrossEncoderRerank"

        def _postprocess_nodes(self, nodes, query_bundle=None):
            if not nodes or query_bundle is None:
                return nodes
            pairs = [(query_bundle.query_str, n.node.get_content(metadata_mode=MetadataMode.NONE)) for n in nodes]
            scores = np.asarray(model.predict(pairs, show_progress_bar=False), dtype=float).reshape(len(nodes), -1)[
                :, -1
            ]
            order = np.argsort(-scores, kind="stable")[:top_n]
            return [NodeWithScore(node=nodes[i].node, score=float(scores[i])) for i in order]

    return CrossEncoderRerank()


def cosine_relevance(store: LiteratureStore, query_vector, ids: list[str]) -> dict[str, float]:
    """How close each passage is to the query in embedding space, whatever ranked it (fused rank
    scores say nothing about whether any passage answers the question)."""
    stored = store.embeddings(ids)
    q = np.asarray(query_vector, dtype=float)
    q = q / (np.linalg.norm(q) or 1.0)
    out = {}
    for node_id, vector in stored.items():
        v = np.asarray(vector, dtype=float)
        out[node_id] = float(np.dot(q, v / (np.linalg.norm(v) or 1.0)))
    return out


def to_passage(number: int, hit, relevance: float | None) -> Passage:
    from llama_index.core.schema import MetadataMode

    meta = hit.node.metadata
    return Passage(
        number=number,
        title=meta.get("title", ""),
        authors=[a for a in meta.get("authors", "").split("; ") if a],
        year=meta.get("year"),
        source=meta.get("source", ""),
        path=meta.get("path", meta.get("source", "")),
        page=meta.get("page"),
        location=meta.get("location", ""),
        text=hit.node.get_content(metadata_mode=MetadataMode.NONE),
        score=float(hit.score or 0.0),
        relevance=relevance,
        kind=meta.get("kind", ""),
        tags=[t for t in meta.get("tags", "").split(", ") if t],
        node_id=hit.node.node_id,
    )
