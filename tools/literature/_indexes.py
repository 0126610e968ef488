"""Which literature indexes a working folder holds: the default one and any folder an ingest made.

An ingest into a folder leaves a marker (``kenkyu_index.json``: when it was built, how many passages and
documents it holds, from which paths), so a later request finds that index wherever it was put ("ingest
notes/ into notes_index") — by the marker kenkyu wrote, never by guessing from a folder's name. Newest first.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from dataclasses import dataclass
from pathlib import Path

from kenkyu.core.files import write_json_atomically

MARKER = "kenkyu_index.json"
CHROMA_FILE = "chroma.sqlite3"  # what a Chroma persist folder holds
_SKIPPED = {"node_modules", "__pycache__", "site-packages", "venv", ".venv", "md_runs"}
_MAX_DEPTH = 3
_MAX_FOLDERS = 2000  # a huge working tree is only partly searched


@dataclass(frozen=True)
class FoundIndex:
    """A literature index folder: ``path`` as found (relative to the folder searched, or absolute)."""

    path: str
    passages: int | None
    documents: int | None
    built: float  # epoch seconds: the marker's build time, else the Chroma file's modification time

    @property
    def label(self) -> str:
        """``notes_index/ (12 passages, built 16:10)``: which index, how big, how recent."""
        size = f"{self.passages} passages, " if self.passages is not None else ""
        when = _dt.datetime.fromtimestamp(self.built)
        day = "" if when.date() == _dt.date.today() else f"{when:%Y-%m-%d} "
        return f"{self.path.rstrip('/')}/ ({size}built {day}{when:%H:%M})"


def write_marker(folder, report) -> None:
    """Note in the index folder that kenkyu built it, and what it holds (called by every ingest)."""
    record = {
        "kenkyu_literature_index": 1,
        "built": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "passages": int(report.chunks),
        "documents": int(report.documents),
    }
    write_json_atomically(Path(folder) / MARKER, record)  # a reader never sees half a marker


def index_at(path) -> FoundIndex | None:
    """The index in folder ``path``, or None when it is no Chroma folder."""
    folder = Path(path)
    chroma = folder / CHROMA_FILE
    if not chroma.is_file():
        return None
    try:
        marker = json.loads((folder / MARKER).read_text())
    except (OSError, ValueError):
        marker = {}
    try:
        built = _dt.datetime.fromisoformat(marker["built"]).timestamp()
    except (KeyError, TypeError, ValueError):
        built = chroma.stat().st_mtime
    return FoundIndex(str(path), marker.get("passages"), marker.get("documents"), built)


def find_indexes(root=".", default: str | None = None, also=()) -> list[FoundIndex]:
    """The literature indexes under ``root`` (the default folder, every folder with kenkyu's marker) and in
    ``also`` (paths the kernel holds), newest first."""
    from kenkyu.tools.literature import default_index

    default = default or default_index()
    root = Path(root)
    places = [Path(default) if Path(default).is_absolute() else root / default, *map(Path, also)]
    places.extend(_marked_folders(root))
    found: dict[str, FoundIndex] = {}
    for place in places:
        index = index_at(place)
        if index is None:
            continue
        shown = _shown(place, root)
        found.setdefault(os.path.realpath(place), FoundIndex(shown, index.passages, index.documents, index.built))
    return sorted(found.values(), key=lambda i: -i.built)


def _marked_folders(root: Path):
    visited = 0
    base = len(root.parts)
    for here, folders, names in os.walk(root):
        visited += 1
        if visited > _MAX_FOLDERS:
            return
        depth = len(Path(here).parts) - base
        folders[:] = [f for f in folders if not f.startswith(".") and f not in _SKIPPED and depth < _MAX_DEPTH]
        if MARKER in names:
            yield Path(here)


def _shown(place: Path, root: Path) -> str:
    try:
        relative = os.path.relpath(place, root)
    except ValueError:  # another drive
        return str(place)
    return str(place) if relative.startswith("..") else relative
