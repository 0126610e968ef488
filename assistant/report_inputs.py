"""The input files a report reads, copied into the report's folder.

A report re-runs in a folder of its own (``<name>_report/``: its simulations write their run folders there,
not over the session's), yet its cells name their inputs as the scientist wrote them, relative to the
notebook's folder (``'villin_1vii.pdb'``). Changing the report's working directory back to the notebook's
folder would make its re-run write into the session's ``md_runs/`` (where the original runs already are)
and would break as soon as the report folder is moved or sent to someone. Copying the files the cells name
makes the report folder whole: it re-runs right after export, when opened later, and wherever it is moved,
and the copies are what the report computed from even if the originals change later.
"""

from __future__ import annotations

import ast
import filecmp
import os
import re
import shutil
from pathlib import Path

# A file this large is hard-linked when the file system allows (no second copy of a trajectory); a hard link
# is a file of its own name, so moving the report folder keeps it, unlike a symbolic link.
_LINK_ABOVE_BYTES = 64 * 1024 * 1024
_MAGIC_LINE = re.compile(r"^\s*[%!]")
# Never carried into a report folder (which is made to be shared): hidden files (.env, .netrc) and files
# whose names say they hold keys or credentials. A cell reading one fails in the re-run, naming it.
_SECRET_FILE = re.compile(
    r"(^|[._-])(key|pem|p12|pfx|token|secret|secrets|credentials?|password)s?([._-]|$)|^id_", re.I
)


class ReportInputConflict(FileExistsError):
    """A different file of the same name is already where an input would be copied."""


def named_paths(source: str) -> list[str]:
    """The string literals of a code cell that could be relative file paths, in order of appearance."""
    code = "\n".join("" if _MAGIC_LINE.match(line) else line for line in source.splitlines())
    try:
        nodes = list(ast.walk(ast.parse(code)))
    except SyntaxError:  # a cell of another language or a broken one: no input is guessed from it
        return []
    literals = [n.value for n in nodes if isinstance(n, ast.Constant)]
    # A module of the scientist's own beside the notebook (import helpers): the kernel finds it in its
    # working folder, so it is an input too.
    modules = [a.name.split(".")[0] + ".py" for n in nodes if isinstance(n, ast.Import) for a in n.names]
    modules += [
        n.module.split(".")[0] + ".py" for n in nodes if isinstance(n, ast.ImportFrom) and n.module and not n.level
    ]
    return [
        s
        for s in literals + modules
        if isinstance(s, str) and s and len(s) < 1024 and "\n" not in s and not os.path.isabs(s)
    ]


def copy_inputs(code_cells: list[str], notebook_dir: Path, report_dir: Path) -> tuple[str, ...]:
    """Copy each file the cells name relative to ``notebook_dir`` to the same relative path under
    ``report_dir``; return the relative names copied. Folders are not copied: a run folder the notebook
    reads is made by one of its own steps, which the report re-runs."""
    notebook_dir, report_dir = notebook_dir.resolve(), report_dir.resolve()
    if notebook_dir == report_dir:
        return ()
    copied: list[str] = []
    for name in dict.fromkeys(p for source in code_cells for p in named_paths(source)):
        original = (notebook_dir / name).resolve()
        if not original.is_file() or not original.is_relative_to(notebook_dir) or original.is_relative_to(report_dir):
            continue
        relative = original.relative_to(notebook_dir)
        if any(part.startswith(".") for part in relative.parts) or _SECRET_FILE.search(relative.name):
            continue
        target = report_dir / relative
        if target.exists():
            if target.is_file() and filecmp.cmp(original, target, shallow=False):
                continue
            raise ReportInputConflict(
                f"the report reads {name!r}, but {target} already exists and differs from {original}; "
                "export to an empty folder (-o) or remove that file"
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        _copy(original, target)
        copied.append(str(relative))
    return tuple(copied)


def _copy(original: Path, target: Path) -> None:
    if original.stat().st_size > _LINK_ABOVE_BYTES:
        try:
            os.link(original, target)
            return
        except OSError:  # another file system, or links not allowed: copy instead
            pass
    shutil.copy2(original, target)
