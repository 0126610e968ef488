"""Read a scientist's papers and notes into sections of text that remember where they came from.

One job: turn files (PDF, Markdown, text, BibTeX, notebooks) into :class:`Source` objects, each holding
its bibliographic metadata, a content hash, and its text split by page (PDF) or cell (notebook).
Nothing here embeds or stores anything; pypdf, bibtexparser and nbformat are imported when a file of
their kind is read.
"""

from __future__ import annotations

import hashlib
from collections import Counter
import re
from dataclasses import dataclass, field
from pathlib import Path

PDF = (".pdf",)
NOTES = (".md", ".markdown", ".txt", ".rst")
BIBTEX = (".bib",)
NOTEBOOKS = (".ipynb",)
SUPPORTED = PDF + NOTES + BIBTEX + NOTEBOOKS


class LiteratureError(ValueError):
    """A problem with the literature index or its inputs; the message says what to do."""


class UnsupportedFileError(LiteratureError):
    pass


class EmptyFolderError(LiteratureError):
    """A folder given to ingest holds no file kenkyu can read."""

    def __init__(self, message: str, folder: Path):
        super().__init__(message)
        self.folder = folder


class UnreadableDocumentError(LiteratureError):
    pass


@dataclass
class Section:
    """A stretch of text with its place in the document: a PDF page, a notebook cell, or the whole note."""

    text: str
    page: int | None = None
    location: str = ""


@dataclass
class Source:
    """One document as the index sees it."""

    key: str  # unique in the index: the file's absolute path, or "bibfile#citekey"
    path: Path  # the file a reader opens (the PDF attached to a BibTeX entry, when there is one)
    kind: str  # pdf | markdown | text | bibtex | notebook
    content_hash: str
    title: str = ""
    authors: list[str] = field(default_factory=list)
    year: int | None = None
    tags: list[str] = field(default_factory=list)
    sections: list[Section] | None = field(default_factory=list)  # None: unchanged since indexed, not read


def file_hash(path: Path, extra: str = "") -> str:
    digest = hashlib.sha256(extra.encode())
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:32]


def collect_files(paths, allow_empty: bool = False) -> list[Path]:
    """Expand files and folders (recursively) into the supported files they hold.

    A file named explicitly must be of a supported kind; inside folders, other files are skipped.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    found: list[Path] = []
    for given in paths:
        path = Path(given).expanduser()
        if not path.exists():
            raise LiteratureError(f"{path} does not exist: check the path (files and folders are both accepted)")
        if path.is_dir():
            inside = [c for c in sorted(path.rglob("*")) if c.is_file() and not _hidden(c, path)]
            readable = [c for c in inside if c.suffix.lower() in SUPPORTED]
            if not readable and not allow_empty:
                others = Counter(c.suffix.lower() or "no extension" for c in inside)
                held = ", ".join(f"{n} {suffix}" for suffix, n in others.most_common(5)) or "no files at all"
                raise EmptyFolderError(
                    f"{path} holds no file kenkyu can ingest (looked for {', '.join(SUPPORTED)}, in subfolders too; "
                    f"it holds {held}). Put the papers (PDF) or notes there, or pass the folder that has them.",
                    path.resolve(),
                )
            found.extend(c.resolve() for c in readable)
        elif not path.is_file():
            raise LiteratureError(
                f"{path} is a device or special file, not a document or folder: pass a file or folder"
            )
        elif path.suffix.lower() in SUPPORTED:
            found.append(path.resolve())
        else:
            raise UnsupportedFileError(
                f"{path.name}: kenkyu cannot read {path.suffix or 'extension-less'} files; supported are "
                f"{', '.join(SUPPORTED)}. Convert it (e.g. to PDF or Markdown) or leave it out."
            )
    return list(dict.fromkeys(found))


def _hidden(child: Path, root: Path) -> bool:
    # .ipynb_checkpoints and the index folder's own files are not literature.
    return any(part.startswith(".") for part in child.relative_to(root).parts)


def read_sources(
    files: list[Path],
    known: dict[str, str] | None = None,
    on_error: str = "raise",
    progress: bool = True,
    always_show: bool = False,
) -> tuple[list[Source], list[str]]:
    """All sources in these files, and the files skipped (with why) when ``on_error="skip"``.

    ``known`` maps index keys to the content hashes already indexed: a source whose hash matches is
    returned with ``sections=None`` and its file is not read again. A PDF attached to a BibTeX entry
    is read once, through its entry.
    """
    from tqdm.auto import tqdm

    known = known or {}
    sources: list[Source] = []
    skipped: list[str] = []
    bib_files = [f for f in files if f.suffix.lower() in BIBTEX]
    attached: set[Path] = set()
    for bib in bib_files:
        try:
            entries = read_bibtex(bib, known)
        except LiteratureError as exc:
            if on_error != "skip":
                raise
            skipped.append(f"{bib}: {exc}")
            continue
        attached |= {s.path for s in entries if s.kind == "pdf"}
        sources.extend(entries)
    rest = [f for f in files if f.suffix.lower() not in BIBTEX and f not in attached]
    for f in tqdm(
        rest, desc="reading", unit="file", disable=not progress or (len(rest) < 2 and not always_show), leave=False
    ):
        digest = file_hash(f)
        if known.get(str(f)) == digest:
            sources.append(Source(str(f), f, _kind(f), digest, sections=None))
            continue
        try:
            suffix = f.suffix.lower()
            source = read_pdf(f) if suffix in PDF else read_notebook(f) if suffix in NOTEBOOKS else read_note(f)
        except LiteratureError as exc:
            if on_error != "skip":
                raise
            skipped.append(f"{f}: {exc}")
            continue
        sources.append(source)
    return sources, skipped


def _kind(path: Path) -> str:
    suffix = path.suffix.lower()
    return (
        "pdf"
        if suffix in PDF
        else "notebook"
        if suffix in NOTEBOOKS
        else "markdown"
        if suffix in (".md", ".markdown")
        else "text"
    )


# -- PDF -----------------------------------------------------------------------------------------------


def read_pdf(path: Path, key: str | None = None) -> Source:
    """A PDF's text, page by page (pages numbered from 1, as a reader cites them)."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(str(path))
        pages = [page.extract_text() or "" for page in reader.pages]
        info = reader.metadata or {}
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        raise UnreadableDocumentError(
            f"{path.name} is not a readable PDF ({type(exc).__name__}: {exc}). Re-download or re-export it, "
            "or move it out of the folder you ingest."
        ) from exc
    sections = [Section(_tidy(text), page=i + 1, location=f"p. {i + 1}") for i, text in enumerate(pages)]
    sections = [s for s in sections if s.text]
    if not sections:
        raise UnreadableDocumentError(
            f"{path.name} has no text layer (a scanned PDF?): run OCR on it first (e.g. `ocrmypdf in.pdf out.pdf`)"
        )
    title = str(info.get("/Title") or "").strip() or _first_line(sections[0].text) or path.stem
    authors = _split_authors(str(info.get("/Author") or ""))
    tags = [t.strip() for t in re.split(r"[;,]", str(info.get("/Keywords") or "")) if t.strip()]
    year = _year(str(info.get("/Subject") or "")) or _pdf_date_year(info)
    return Source(key or str(path), path, "pdf", file_hash(path), title, authors, year, tags, sections)


def _pdf_date_year(info) -> int | None:
    # The creation date is when the file was made, often not when the work was published; it is a
    # fallback only, for PDFs without a BibTeX entry.
    raw = str(info.get("/CreationDate") or "")
    match = re.match(r"D:(\d{4})", raw)
    return int(match.group(1)) if match else None


# -- notes ---------------------------------------------------------------------------------------------


_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)


def read_note(path: Path) -> Source:
    """A Markdown or text note. Optional YAML front matter gives title, authors, year and tags."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableDocumentError(f"{path.name} is not UTF-8 text ({exc}): save it as UTF-8") from exc
    meta: dict = {}
    match = _FRONT_MATTER.match(text)
    if match:
        import yaml

        try:
            meta = yaml.safe_load(match.group(1)) or {}
        except yaml.YAMLError as exc:
            raise UnreadableDocumentError(f"{path.name}: its front matter is not valid YAML ({exc})") from exc
        text = text[match.end() :]
    heading = re.search(r"^#\s+(.+)$", text, re.MULTILINE)
    title = str(meta.get("title") or (heading.group(1) if heading else "") or path.stem).strip()
    authors = meta.get("authors") or meta.get("author") or []
    authors = _split_authors(authors) if isinstance(authors, str) else [str(a) for a in authors]
    tags = meta.get("tags") or []
    tags = [t.strip() for t in tags.split(",")] if isinstance(tags, str) else [str(t) for t in tags]
    kind = "markdown" if path.suffix.lower() in (".md", ".markdown") else "text"
    sections = [Section(_tidy(text))] if text.strip() else []
    return Source(
        str(path), path, kind, file_hash(path), title, authors, _year(str(meta.get("year", ""))), tags, sections
    )


# -- notebooks -----------------------------------------------------------------------------------------


def read_notebook(path: Path) -> Source:
    """A notebook's Markdown and code cells (outputs are left out: they are results, not writing)."""
    import nbformat

    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception as exc:  # nbformat raises several unrelated types for a broken file
        raise UnreadableDocumentError(
            f"{path.name} is not a readable notebook ({exc}): open and re-save it in Jupyter"
        ) from exc
    sections = []
    for number, cell in enumerate(nb.cells, start=1):
        if cell.cell_type in ("markdown", "code") and cell.source.strip():
            sections.append(Section(cell.source.strip(), location=f"cell {number}"))
    heading = next(
        (re.search(r"^#\s+(.+)$", s.text, re.MULTILINE) for s in sections if re.search(r"^#\s+", s.text, re.MULTILINE)),
        None,
    )
    title = heading.group(1).strip() if heading else path.stem
    return Source(str(path), path, "notebook", file_hash(path), title, sections=sections)


# -- BibTeX --------------------------------------------------------------------------------------------


def read_bibtex(path: Path, known: dict[str, str] | None = None) -> list[Source]:
    """One source per entry: its metadata, plus the text of the PDF its ``file`` field points to
    (or its abstract, when there is no PDF)."""
    import bibtexparser

    try:
        library = bibtexparser.parse_string(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise UnreadableDocumentError(f"{path.name} is not a readable BibTeX file ({exc})") from exc
    if library.failed_blocks:
        bad = library.failed_blocks[0]
        raise UnreadableDocumentError(
            f"{path.name}: BibTeX entry near line {bad.start_line + 1} cannot be parsed "
            f"({type(bad).__name__}); fix that entry (a missing brace or comma?)"
        )
    sources = []
    for entry in library.entries:
        fields = {f.key.lower(): _unbrace(str(f.value)) for f in entry.fields}
        key = f"{path}#{entry.key}"
        title = fields.get("title", entry.key)
        authors = _split_authors(fields.get("author", ""), bibtex=True)
        year = _year(fields.get("year", ""))
        tags = [t.strip() for t in re.split(r"[;,]", fields.get("keywords", "")) if t.strip()]
        pdf = _attached_pdf(fields.get("file", ""), path.parent)
        entry_text = f"{entry.key}|{sorted(fields.items())}"
        if pdf is not None:
            digest = file_hash(pdf, entry_text)
            if (known or {}).get(key) == digest:
                sources.append(Source(key, pdf, "pdf", digest, title, authors, year, tags, sections=None))
                continue
            paper = read_pdf(pdf, key=key)
            sources.append(Source(key, pdf, "pdf", digest, title, authors, year, tags, paper.sections))
        else:
            abstract = fields.get("abstract", "")
            text = "\n".join(p for p in (title, abstract) if p)
            digest = hashlib.sha256(entry_text.encode()).hexdigest()[:32]
            unchanged = (known or {}).get(key) == digest
            sources.append(
                Source(
                    key,
                    path,
                    "bibtex",
                    digest,
                    title,
                    authors,
                    year,
                    tags,
                    None if unchanged else [Section(text, location=f"@{entry.key}")],
                )
            )
    return sources


def _attached_pdf(field_value: str, folder: Path) -> Path | None:
    """The PDF a ``file`` field names: a plain path, or JabRef/Zotero's ``description:path:type``."""
    if not field_value:
        return None
    for candidate in [field_value, *field_value.split(";")]:
        parts = candidate.split(":")
        for piece in [candidate] + [p for p in parts if p.lower().endswith(".pdf")]:
            path = Path(piece.strip()).expanduser()
            path = path if path.is_absolute() else folder / path
            if path.suffix.lower() == ".pdf" and path.is_file():
                return path.resolve()
    return None


# -- small helpers ----------------------------------------------------------------------------------------


def _tidy(text: str) -> str:
    # Join words hyphenated across line breaks and collapse runs of blank space, as a reader sees them.
    text = re.sub(r"(\w)-\n(\w)", r"\1\2", text)
    text = re.sub(r"[ \t]+", " ", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")[:200]


def _split_authors(raw, bibtex: bool = False) -> list[str]:
    if not raw:
        return []
    parts = re.split(r"\s+and\s+", raw) if bibtex or " and " in raw else re.split(r"[;,]\s*", raw)
    names = []
    for part in parts:
        part = part.strip()
        if "," in part and bibtex:  # "Doe, Jane" -> "Jane Doe"
            last, first = (p.strip() for p in part.split(",", 1))
            part = f"{first} {last}".strip()
        if part:
            names.append(part)
    return names


def _unbrace(value: str) -> str:
    return re.sub(r"\s+", " ", value.replace("{", "").replace("}", "")).strip()


def _year(text: str) -> int | None:
    match = re.search(r"\b(1[5-9]\d\d|20\d\d)\b", text)
    return int(match.group(1)) if match else None
