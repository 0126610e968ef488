"""Atomic writes: a file is either its old or its new content, never half of either (a crash, a full
disk or Ctrl-C mid-write leaves the earlier version in place)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path


def write_text_atomically(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and an atomic rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp", encoding="utf-8") as handle:
        handle.write(text)
    # Temporary files are private (0600); the result is an ordinary file, readable as the umask allows.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(handle.name, 0o666 & ~umask)
    os.replace(handle.name, path)


def write_json_atomically(path: str | os.PathLike, data) -> None:
    """``data`` as indented JSON, written atomically."""
    write_text_atomically(path, json.dumps(data, indent=1))
