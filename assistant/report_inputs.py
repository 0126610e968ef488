"""The input files a report reads, copied into the report's folder.

A report re-runs in a folder of its own (``<name>_report/``: its simulations write their run folders there,
not over the session's), yet its cells name their inputs as the scientist wrote them, relative to the
notebook's folder (``'villin_1vii.pdb'``). Changing the report's working directory back to the notebook's
folder would make its re-run write into the session's ``md_runs/`` (where the original runs already are)
and would break as soon as the report folder is moved or sent to someone. Copying the files the cells name
makes the report folder whole: it re-runs right after export, when opened later, and wherever it is moved,
and the copies are what the report computed from even if the originals change later.

A file named by a relative path that leads out of the notebook's folder (``'../data/x.pdb'``) would not be
found from the report's folder either, and copying it to the same relative place would write outside the
report. It is copied into the report's ``inputs/`` folder instead, and the cells' literal is rewritten to
the copy (``'inputs/x.pdb'``), so the report stays whole. A file named by an absolute path
(``'/home/me/data/x.pdb'``, or the example structure kenkyu's own cells name) is treated the same way: from
outside the notebook's folder it goes to ``inputs/``, from inside it to its relative place, and the cells read
the copy, so the report does not depend on a path of this machine. A path a cell builds while it runs
(``os.path.join(DATA, name + '.pdb')``, an f-string) cannot be known before it runs: ``built_path`` finds
such an expression so the export can name the cell, and say to copy the file by hand if the re-run needs it.
"""

from __future__ import annotations

import ast
import filecmp
import io
import os
import re
import shutil
import tokenize
from dataclasses import dataclass, field
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


OUTSIDE_FOLDER = "inputs"  # where files from outside the notebook's folder go, inside the report's


class ReportInputConflict(FileExistsError):
    """A different file of the same name is already where an input would be copied."""


@dataclass(frozen=True)
class Inputs:
    """What ``copy_inputs`` did: files copied to their own relative path, and files from outside the
    notebook's folder copied under ``inputs/`` (the literal as the cells wrote it -> the copy's path);
    ``absolute_inside``: absolute literals of files in the notebook's folder -> the relative path of their copy."""

    copied: tuple[str, ...] = ()
    outside: dict[str, str] = field(default_factory=dict)
    absolute_inside: dict[str, str] = field(default_factory=dict)
    remade: tuple[str, ...] = ()  # files in a run folder one of the report's own steps makes: not copied

    @property
    def renamed(self) -> dict[str, str]:
        """Every literal the cells must read a copy by: what ``rewrite_paths`` takes."""
        return {**self.outside, **self.absolute_inside}


def named_paths(source: str) -> list[str]:
    """The string literals of a code cell that could be file paths, in order of appearance."""
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
    return [s for s in literals + modules if isinstance(s, str) and s and len(s) < 1024 and "\n" not in s]


# A folder holding one of these is a run folder (md.run's, md.coarse_grained's).
RUN_MARKERS = ("run.json", "cg.json")


def copy_inputs(
    code_cells: list[str], notebook_dir: Path, report_dir: Path, made_by_steps=lambda folder: False
) -> Inputs:
    """Copy each file or folder the cells name (relative to ``notebook_dir``, or absolute) into ``report_dir``: to
    the same relative path when it lies in the notebook's folder, under ``inputs/`` when it lies outside. A folder
    (``literature.ingest('notes/')``) is copied with its files, except hidden ones and those named for keys; not
    a run folder (nor one holding runs), which a step of the notebook makes and the report re-runs, nor the
    notebook's folder or one above it. Files inside a run folder for which ``made_by_steps(relative folder)`` is
    true are not copied either: copied there, they would make that step stop at "folder already exists" (its
    re-run makes them again)."""
    notebook_dir, report_dir = notebook_dir.resolve(), report_dir.resolve()
    if notebook_dir == report_dir:
        return Inputs()
    copied: list[str] = []
    outside: dict[str, str] = {}
    absolute_inside: dict[str, str] = {}
    remade: list[str] = []
    for name in dict.fromkeys(p for source in code_cells for p in named_paths(source)):
        original = (notebook_dir / name).resolve()
        if original.is_relative_to(report_dir) or _never_carried(Path(name)):
            continue
        files = _files_of(original, report_dir)
        if files is None:
            continue
        if original.is_file() and _in_a_run_folder_a_step_makes(original, notebook_dir, made_by_steps):
            remade.append(name)
            continue
        if original.is_relative_to(notebook_dir):
            relative = original.relative_to(notebook_dir)
            if _never_carried(relative):
                continue
            placed = [_place(f, report_dir / relative / within, name) for f, within in files]
            if any(placed):
                copied.append(str(relative))
            if os.path.isabs(name):  # '/home/me/F/x.pdb' would read the original, not the report's copy
                absolute_inside[name] = relative.as_posix()
            continue
        target = report_dir / OUTSIDE_FOLDER / original.name
        if original.is_file():
            target = _free_name(target, original)
        for f, within in files:
            _place(f, target / within if within.parts else target, name)
        outside[name] = target.relative_to(report_dir).as_posix()
    return Inputs(tuple(copied), outside, absolute_inside, tuple(remade))


_MOST_FILES_IN_A_FOLDER = 1000  # a folder with more is not an input the cells name, but a data store


def _files_of(original: Path, report_dir: Path) -> list[tuple[Path, Path]] | None:
    """``[(file, path within the copy)]`` to copy for a named file or folder, or None when it is not copied."""
    if original.is_file():
        return [(original, Path())]
    if not original.is_dir() or report_dir.is_relative_to(original):  # the notebook's folder, or one above it
        return None
    files = []
    for root, folders, names in os.walk(original):
        folders[:] = [f for f in folders if not f.startswith(".")]
        if any(marker in names for marker in RUN_MARKERS):
            return None  # a run folder, or a folder of runs: made by the notebook's own steps
        for file in names:
            within = (Path(root) / file).relative_to(original)
            if not _never_carried(within) and (Path(root) / file).is_file():
                files.append((Path(root) / file, within))
        if len(files) > _MOST_FILES_IN_A_FOLDER:
            return None
    return files or None  # an empty folder carries nothing


def _in_a_run_folder_a_step_makes(original: Path, notebook_dir: Path, made_by_steps) -> bool:
    if not original.is_relative_to(notebook_dir):
        return False
    for folder in original.parents:
        if folder == notebook_dir:
            return False
        if any((folder / marker).exists() for marker in RUN_MARKERS):
            return made_by_steps(folder.relative_to(notebook_dir).as_posix())
    return False


def _never_carried(path: Path) -> bool:
    """Hidden files and folders (.env, .ssh/) and files whose names say they hold keys."""
    hidden = any(part.startswith(".") and part not in (".", "..") for part in path.parts)
    return hidden or bool(_SECRET_FILE.search(path.name))


def _place(original: Path, target: Path, name: str) -> bool:
    """Copy ``original`` to ``target``; False when the same file is already there."""
    if target.exists():
        if target.is_file() and filecmp.cmp(original, target, shallow=False):
            return False
        raise ReportInputConflict(
            f"the report reads {name!r}, but {target} already exists and differs from {original}; "
            "export to an empty folder (-o) or remove that file"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    _copy(original, target)
    return True


def _free_name(target: Path, original: Path) -> Path:
    """``target``, or ``<stem>_2<suffix>``... when another file of that name (../a/x.pdb, ../b/x.pdb) has it."""
    candidate, n = target, 1
    while candidate.exists() and not (candidate.is_file() and filecmp.cmp(original, candidate, shallow=False)):
        n += 1
        candidate = target.with_name(f"{target.stem}_{n}{target.suffix}")
    return candidate


def rewrite_paths(source: str, renamed: dict[str, str]) -> str:
    """``source`` with each string literal whose value is a key of ``renamed`` replaced by its new path."""
    if not renamed:
        return source
    # Magic and shell lines are blanked for the tokenizer (as in named_paths); positions stay the same.
    code = "\n".join("" if _MAGIC_LINE.match(line) else line for line in source.split("\n"))
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
    except (tokenize.TokenError, SyntaxError):
        return source
    lines = source.split("\n")
    for token in reversed(tokens):  # from the end: earlier columns stay valid
        if token.type != tokenize.STRING or token.start[0] != token.end[0]:
            continue
        try:
            value = ast.literal_eval(token.string)
        except (ValueError, SyntaxError):
            continue
        if isinstance(value, str) and value in renamed:
            row, (start, end) = token.start[0] - 1, (token.start[1], token.end[1])
            lines[row] = lines[row][:start] + repr(renamed[value]) + lines[row][end:]
    return "\n".join(lines)


_PATH_PIECE = re.compile(r"[/\\]|\.[A-Za-z][A-Za-z0-9]{0,5}$")  # a separator, or ends in a file extension
_PATH_CALLS = ("os.path.join", "path.join", "Path", "PurePath", "pathlib.Path", "glob.glob", "glob")


def built_path(source: str) -> str | None:
    """The first expression of a cell that builds a file path while it runs (os.path.join, Path(...) of a
    variable, ``/`` with a string, an f-string or ``+`` with a path-like piece), as source; None if none."""
    code = "\n".join("" if _MAGIC_LINE.match(line) else line for line in source.splitlines())
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if _builds_path(node):
            shown = ast.unparse(node)
            return shown if len(shown) <= 80 else shown[:77] + "..."
    return None


def _builds_path(node) -> bool:
    def piece(n) -> bool:  # a piece of a path: no spaces (f"{n} frames in total" is a sentence, not a path)
        text = n.value if isinstance(n, ast.Constant) and isinstance(n.value, str) else ""
        return bool(_PATH_PIECE.search(text)) and not any(c.isspace() for c in text)

    if isinstance(node, ast.Call) and ast.unparse(node.func) in _PATH_CALLS:
        return any(not isinstance(a, ast.Constant) for a in node.args)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        return any(isinstance(n, ast.Constant) and isinstance(n.value, str) for n in (node.left, node.right))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return piece(node.left) or piece(node.right)
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(v, ast.FormattedValue) for v in node.values) and any(piece(v) for v in node.values)
    return False


def _copy(original: Path, target: Path) -> None:
    if original.stat().st_size > _LINK_ABOVE_BYTES:
        try:
            os.link(original, target)
            return
        except OSError:  # another file system, or links not allowed: copy instead
            pass
    shutil.copy2(original, target)
