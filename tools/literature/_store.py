"""Where the passages live: a Chroma collection (embedded on disk, or on a ``chroma run`` server).

One job: open the collection, say what it holds (which sources, with which content hashes), add and
delete a source's passages, and give the BM25 retriever its corpus. The collection's own metadata
records the embedding spec (so queries are embedded like the passages were) and a generation token
that changes with every ingest (so cached BM25 indexes know when they are stale).
"""

from __future__ import annotations

import re
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

from kenkyu.tools.literature._readers import LiteratureError

COLLECTION = "kenkyu_literature"
_PAGE = 5000  # rows per chroma.get call


# Said wherever there is no index yet: a newcomer without papers at hand can still try the tools.
EXAMPLE_HINT = (
    "To try it first on the reading notes shipped with kenkyu (kenkyu/data/literature): "
    "kenkyu.tools.literature.ingest(kenkyu.tools.literature.example_notes())"
)


class IndexNotFoundError(LiteratureError):
    pass


@dataclass
class IndexedSource:
    key: str
    origin: str
    content_hash: str
    title: str
    kind: str
    chunks: int
    pages: int


class LiteratureStore:
    """An open literature index."""

    def __init__(self, collection, location: str):
        self.collection = collection
        self.location = location

    # -- what the collection records about itself ----------------------------------------------------
    @property
    def settings(self) -> dict:
        return dict(self.collection.metadata or {})

    @property
    def embedding_spec(self) -> str | None:
        return self.settings.get("kenkyu_embedding")

    @property
    def generation(self) -> str:
        return self.settings.get("kenkyu_generation", "")

    def record(self, embedding_spec: str) -> None:
        """Note the embedding used and start a new generation (invalidates cached BM25 indexes)."""
        metadata = {k: v for k, v in self.settings.items() if not k.startswith("hnsw:")}
        metadata.update(kenkyu_embedding=embedding_spec, kenkyu_generation=uuid.uuid4().hex)
        self.collection.modify(metadata=metadata)

    # -- contents ------------------------------------------------------------------------------------
    def count(self) -> int:
        return self.collection.count()

    def rows(self, include=("metadatas",)):
        """Every stored passage, in pages so a large index is not fetched in one response."""
        offset = 0
        while True:
            batch = self.collection.get(include=list(include), limit=_PAGE, offset=offset)
            n = len(batch["ids"])
            for i in range(n):
                yield {key: (batch[key][i] if batch.get(key) is not None else None) for key in ("ids", *include)}
            if n < _PAGE:
                return
            offset += n

    def sources(self) -> dict[str, IndexedSource]:
        found: dict[str, IndexedSource] = {}
        pages: dict[str, set] = {}
        for row in self.rows():
            meta = row["metadatas"] or {}
            key = meta.get("source")
            if key is None:
                continue
            if key not in found:
                found[key] = IndexedSource(
                    key,
                    meta.get("origin", key),
                    meta.get("content_hash", ""),
                    meta.get("title", ""),
                    meta.get("kind", ""),
                    0,
                    0,
                )
                pages[key] = set()
            found[key].chunks += 1
            pages[key].add(meta.get("page", meta.get("location")))
        for key, source in found.items():
            source.pages = len(pages[key])
        return found

    def nodes(self):
        """The stored passages as LlamaIndex nodes (text and metadata), for BM25."""
        from llama_index.core.vector_stores.utils import metadata_dict_to_node

        nodes = []
        for row in self.rows(include=("documents", "metadatas")):
            node = metadata_dict_to_node(row["metadatas"], text=row["documents"])
            nodes.append(node)
        return nodes

    def embeddings(self, ids: list[str]) -> dict[str, list[float]]:
        if not ids:
            return {}
        got = self.collection.get(ids=list(ids), include=["embeddings"])
        return dict(zip(got["ids"], got["embeddings"]))

    def vector_store(self):
        from llama_index.vector_stores.chroma import ChromaVectorStore

        return ChromaVectorStore(chroma_collection=self.collection)

    def delete_source(self, key: str) -> None:
        self.collection.delete(where={"source": key})


def collection_name(index: str | Path) -> str:
    """A Chroma collection name for an index on a server: the index's own name, made legal."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", Path(str(index)).name or "literature") or "literature"
    name = name.strip("._-") or "literature"
    return (name + "_idx") if len(name) < 3 else name[:500]


_clients: dict[tuple, object] = {}
_clients_lock = threading.Lock()


def _client(path: str | None, host: str | None, port: int | None):
    import chromadb
    from chromadb.config import Settings

    key = (path, host, port)
    with _clients_lock:
        if key not in _clients:
            quiet = Settings(anonymized_telemetry=False)
            if host is not None:
                try:
                    client = chromadb.HttpClient(host=host, port=int(port or 8000), settings=quiet)
                    client.heartbeat()
                except Exception as exc:
                    raise LiteratureError(
                        f"cannot reach a Chroma server at {host}:{port or 8000} ({exc}); start one with "
                        f"`chroma run --path DIR --host {host} --port {port or 8000}`, or leave chroma_host out "
                        "to use the index folder on this machine"
                    ) from exc
            else:
                client = chromadb.PersistentClient(path=path, settings=quiet)
            _clients[key] = client
        return _clients[key]


def open_store(index, *, chroma_host=None, chroma_port=None, create: bool = False) -> LiteratureStore:
    """Open (or with ``create=True`` make) the index: a folder, or a collection on a Chroma server."""
    if chroma_host is None:
        folder = Path(index).expanduser().resolve()
        exists = (folder / "chroma.sqlite3").exists()
        if not exists and not create:
            raise IndexNotFoundError(
                f"no literature index at {folder}: build it first from the folder that holds your papers and "
                f"notes (PDF, Markdown, text, BibTeX), e.g. kenkyu.tools.literature.ingest(['papers/'], "
                f"index={str(index)!r}) or `kenkyu lit ingest papers/ --index {index}`. {EXAMPLE_HINT}"
            )
        if folder.exists() and not folder.is_dir():
            raise LiteratureError(f"{folder} is a file, not an index folder: choose another index path")
        folder.mkdir(parents=True, exist_ok=True)
        client, name, location = _client(str(folder), None, None), COLLECTION, str(folder)
    else:
        client = _client(None, chroma_host, chroma_port)
        name = collection_name(index)
        location = f"chroma://{chroma_host}:{chroma_port or 8000}/{name}"
    if create:
        collection = client.get_or_create_collection(name, configuration={"hnsw": {"space": "cosine"}})
    else:
        try:
            collection = client.get_collection(name)
        except Exception as exc:  # chromadb's NotFoundError, whose import path moved between versions
            raise IndexNotFoundError(
                f"no literature index named {name!r} at {location}: build it first with "
                f"ingest([...], index={str(index)!r}, chroma_host={chroma_host!r}, chroma_port={chroma_port!r})"
            ) from exc
    return LiteratureStore(collection, location)


def forget_clients() -> None:
    """Drop cached clients (tests start and stop servers)."""
    with _clients_lock:
        _clients.clear()
