"""Ingest: files -> passages -> embeddings -> Chroma, doing only the work that changed.

A source whose content hash matches the index is neither read nor embedded again; a changed one has
its old passages replaced; a source whose file is gone (or a BibTeX entry dropped from its file) leaves
the index.
"""

from __future__ import annotations

import os
import re
import time
import warnings
from pathlib import Path

from kenkyu.tools.literature._embedding import embedding_spec, resolve_embedding
from kenkyu.tools.literature._indexes import write_marker
from kenkyu.tools.literature._readers import EmptyFolderError, LiteratureError, Source, collect_files, read_sources
from kenkyu.tools.literature._results import IngestReport
from kenkyu.tools.literature._store import open_store

CHUNK_TOKENS = 200  # MiniLM reads at most 256 word pieces; longer passages would be cut off unseen
CHUNK_OVERLAP = 30
LARGE_FILE_BYTES = 10 * 2**20  # above this, say so before starting: splitting and embedding take minutes
BYTES_PER_PASSAGE = 800  # ~200 tokens of English text
SPLIT_BLOCK_CHARS = 200_000  # a long text is split in blocks of this size, so its progress can be shown


def ingest(
    paths,
    index="literature_index",
    *,
    embedding=None,
    chroma_host=None,
    chroma_port=None,
    on_error: str = "raise",
    progress: bool = True,
) -> IngestReport:
    started = time.perf_counter()
    if on_error not in ("raise", "skip"):
        raise LiteratureError(f"on_error must be 'raise' or 'skip', not {on_error!r}")
    if chroma_host is None:
        _refuse_index_inside_an_input(paths, index)
    try:
        files = collect_files(paths)
    except EmptyFolderError as exc:
        # A folder emptied on purpose still drops its old papers from the index; a new empty one is a mistake.
        if not _indexed_from(index, exc.folder, chroma_host, chroma_port):
            raise
        files = collect_files(paths, allow_empty=True)
    large = size_warnings(files)
    for message in large:
        # Said at once (not only in the report at the end), so a long silence has its reason on screen.
        warnings.warn(message, stacklevel=2)
    store = open_store(index, chroma_host=chroma_host, chroma_port=chroma_port, create=True)
    spec = embedding_spec(embedding)
    if store.embedding_spec and store.count() and store.embedding_spec != spec:
        raise LiteratureError(
            f"the index {store.location} was built with the embedding {store.embedding_spec!r}, not {spec!r}: "
            f"pass embedding={store.embedding_spec!r}, or ingest into a new index folder"
        )
    indexed = store.sources()
    sources, skipped = read_sources(
        files, {k: s.content_hash for k, s in indexed.items()}, on_error, progress, always_show=bool(large)
    )
    report = IngestReport(store.location, skipped=skipped, warnings=list(large))

    nodes = []
    seen = set()
    for source in sources:
        seen.add(source.key)
        if source.sections is None:
            report.unchanged.append(source.key)
            continue
        if source.key in indexed:
            store.delete_source(source.key)
            report.updated.append(source.key)
        else:
            report.added.append(source.key)
        report.pages += len(source.sections)
        if not source.sections:
            report.warnings.append(f"{Path(source.path).name} has no text to index")
        nodes.extend(source_nodes(source, progress=progress and bool(large)))

    # Files that were looked at this time (or are gone) speak for all their sources.
    looked_at = {str(f) for f in files} - {s.split(": ", 1)[0] for s in skipped}
    for key, old in indexed.items():
        if key not in seen and (old.origin in looked_at or not Path(old.origin).exists()):
            store.delete_source(key)
            report.removed.append(key)

    if nodes:
        from llama_index.core import VectorStoreIndex

        embed_model, spec = resolve_embedding(embedding)
        vector_index = VectorStoreIndex.from_vector_store(
            store.vector_store(), embed_model=embed_model, show_progress=progress and len(nodes) > 64
        )
        vector_index.insert_nodes(nodes)
    report.embedded = len(nodes)
    if nodes or report.removed or store.embedding_spec != spec:
        store.record(spec)
    report.chunks = store.count()
    report.documents = len(indexed) - len(report.removed) + len(report.added)
    report.seconds = time.perf_counter() - started
    if chroma_host is None:  # a folder index: a later request finds it by this marker, wherever it is
        write_marker(store.location, report)
    return report


def _indexed_from(index, folder: Path, chroma_host, chroma_port) -> bool:
    """Does the index hold sources that came from files in this folder?"""
    try:
        store = open_store(index, chroma_host=chroma_host, chroma_port=chroma_port)
    except LiteratureError:
        return False
    return any(Path(source.origin).is_relative_to(folder) for source in store.sources().values())


def size_warnings(files) -> list[str]:
    """One warning per file big enough that ingesting it takes long."""
    messages = []
    for path in files:
        size = Path(path).stat().st_size
        if size > LARGE_FILE_BYTES:
            messages.append(
                f"{Path(path).name} is {size / 2**20:.0f} MB: about {size // BYTES_PER_PASSAGE:,} passages to split "
                "and embed, which takes a long time on a CPU (many minutes); progress is shown as it goes. "
                "Ingest only the part you need to be quicker."
            )
    return messages


def source_nodes(source: Source, progress: bool = False) -> list:
    """Split a source's sections into passages that carry their citation in their metadata."""
    from llama_index.core import Document
    from llama_index.core.node_parser import SentenceSplitter
    from tqdm.auto import tqdm

    splitter = SentenceSplitter(chunk_size=CHUNK_TOKENS, chunk_overlap=CHUNK_OVERLAP)
    documents = []
    origin = source.key.split("#", 1)[0]
    for number, section in enumerate(source.sections):
        metadata = {
            "source": source.key,
            "origin": origin,
            "path": str(source.path),
            "kind": source.kind,
            "title": source.title,
            "authors": "; ".join(source.authors),
            "tags": ", ".join(source.tags),
            "location": section.location,
            "content_hash": source.content_hash,
        }
        # Chroma stores no None; absent keys simply never match a filter.
        if source.year is not None:
            metadata["year"] = int(source.year)
        if section.page is not None:
            metadata["page"] = int(section.page)
        metadata.update(filter_flags(source.authors, source.tags))
        hidden = [k for k in metadata if k != "title"]
        documents.append(
            Document(
                text=section.text,
                id_=f"{source.key}::{number}",
                metadata=metadata,
                excluded_embed_metadata_keys=hidden,
                excluded_llm_metadata_keys=list(metadata),
            )
        )
    if not progress:
        return splitter.get_nodes_from_documents(documents)
    # A long text as one document would show no progress: split block by block (at paragraph breaks).
    nodes = []
    total = sum(len(d.text) for d in documents)
    with tqdm(total=total, desc=f"splitting {Path(source.path).name}", unit="char", unit_scale=True) as bar:
        for document in documents:
            for number, block in enumerate(_blocks(document.text)):
                piece = Document(
                    text=block,
                    id_=f"{document.id_}.{number}",
                    metadata=document.metadata,
                    excluded_embed_metadata_keys=document.excluded_embed_metadata_keys,
                    excluded_llm_metadata_keys=document.excluded_llm_metadata_keys,
                )
                nodes.extend(splitter.get_nodes_from_documents([piece]))
                bar.update(len(block))
    return nodes


def _blocks(text: str) -> list[str]:
    blocks, start = [], 0
    while start < len(text):
        end = min(len(text), start + SPLIT_BLOCK_CHARS)
        if end < len(text):
            cut = text.rfind("\n\n", start + SPLIT_BLOCK_CHARS // 2, end)
            end = cut + 2 if cut > 0 else end
        blocks.append(text[start:end])
        start = end
    return blocks


def filter_flags(authors: list[str], tags: list[str]) -> dict[str, int]:
    """One flag key per author surname and per tag.

    Chroma filters metadata by equality, not by substring, so "papers by Tanaka" becomes the flag
    ``author_tanaka == 1`` on every passage of every paper Tanaka wrote.
    """
    flags = {f"author_{flag_word(a.split()[-1])}": 1 for a in authors if a.split()}
    flags.update({f"tag_{flag_word(t)}": 1 for t in tags if t.strip()})
    return flags


def flag_word(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _refuse_index_inside_an_input(paths, index) -> None:
    """An index folder in (or equal to) a folder being ingested puts Chroma's files among the papers: the next
    ingest of that folder would read them as documents (newcomer R7: ``ingest('notes/', index='notes/')``)."""
    index_folder = Path(index).expanduser().resolve()
    for path in [paths] if isinstance(paths, (str, os.PathLike)) else list(paths):
        folder = Path(path).expanduser().resolve()
        if folder.is_dir() and index_folder.is_relative_to(folder):
            raise LiteratureError(
                f"the index {str(index)!r} would be written inside {str(path)!r}, the folder being ingested, and its "
                f"database files read as papers next time: leave index out (the default is 'literature_index') "
                f"or choose a folder outside {str(path)!r}"
            )
