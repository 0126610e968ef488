"""An analysis the session ran between two extensions of a run reads the run at the length it had then.

A report re-runs where it is: its ``md.run(..., resume=True)`` finds the run it made before, already extended
to the session's final length, and each ``md.extend(run, to_ps=...)`` leaves it as it is. An analysis of the
run folder between two extensions (``rmsd('md_runs/villin')`` after the first, before the second) would then
read every frame of the longer run, and its numbers would differ from the session's. Such a call gets
``end_ps=<the length the run had then>`` (the session's own extend lines print it), so every re-run analyses
the same frames as the session did; a call that already chooses its frames is left as it is, with a comment
saying what a re-run reads.
"""

from __future__ import annotations

import ast
import inspect
import os
import re
from dataclasses import dataclass

# md.extend's line: "md.extend: <folder> extended from 1 to 2 ps of production (to_ps=2.0)".
_EXTENDED = re.compile(
    r"^md\.extend: (?P<folder>.+) extended from (?P<start>[0-9.eE+-]+) to [0-9.eE+-]+ ps of production "
    r"\(to_ps=(?P<total>[0-9.eE+-]+)\)\s*$",
    re.MULTILINE,
)
_WINDOW_ARGUMENTS = ("frames", "start_ps", "end_ps")


@dataclass(frozen=True)
class _Extension:
    cell: int
    folder: str
    from_ps: float
    to_ps: float
    names: frozenset  # the expressions the extend call gave as the run (`run`, 'md_runs/villin')


def analyses_at_their_length(body: list) -> None:
    """Give each analysis of a run that a later cell extends ``end_ps=`` the run's length at that point."""
    extensions = _extensions(body)
    if not extensions:
        return
    for index, cell in enumerate(body):
        if cell.cell_type != "code" or index in {e.cell for e in extensions}:
            continue
        edits, notes = [], []
        for call in _analysis_calls(cell.source):
            target = _target(call)
            # Every extension of the run the call names, however each cell named it (run, extended_run, its folder).
            folders = {os.path.normpath(e.folder) for e in extensions if target is not None and _same_run(target, e)}
            mine = [e for e in extensions if os.path.normpath(e.folder) in folders]
            if not any(e.cell > index for e in mine):
                continue  # the run is not extended after this analysis: the re-run reads what the session read
            before = [e for e in mine if e.cell < index]
            length = before[-1].to_ps if before else next(e for e in mine if e.cell > index).from_ps
            if any(k.arg in _WINDOW_ARGUMENTS for k in call.keywords):
                notes.append(
                    f"# {ast.unparse(call.func)}: the run is extended further below, so a re-run of this report "
                    f"where it is reads the longer run; the session's run was {length:g} ps long here."
                )
                continue
            last = max([*call.args, *(k.value for k in call.keywords)], key=lambda a: (a.end_lineno, a.end_col_offset))
            edits.append((last.end_lineno, last.end_col_offset, f", end_ps={length!r}"))
        if edits:
            notes.insert(
                0,
                "# end_ps=: the run's length when the session ran this analysis; the report extends the run further "
                "below, and its re-runs analyse the same frames as the session.",
            )
            cell.source = _inserted(cell.source, edits)
        if notes:
            cell.source = "\n".join(notes) + "\n" + cell.source


def _extensions(body: list) -> list[_Extension]:
    found = []
    for index, cell in enumerate(body):
        if cell.cell_type != "code":
            continue
        printed = "".join(
            "".join(o.get("text", "")) for o in cell.get("outputs", []) if o.get("output_type") == "stream"
        )
        calls = _calls(cell.source, lambda f: f.attr == "extend" and _owner(f) == "md")
        shapes = {ast.dump(call) for call in calls}
        # The run as the call names it (`run`), and the variable its result went into (`extended_run`).
        names = {ast.unparse(_target(call)) for call in calls if _target(call) is not None}
        if calls:
            for node in ast.walk(ast.parse(cell.source)):
                if isinstance(node, ast.Assign) and ast.dump(node.value) in shapes:
                    names |= {ast.unparse(target) for target in node.targets}
        for line in _EXTENDED.finditer(printed):
            found.append(
                _Extension(
                    index,
                    line["folder"],
                    float(line["start"]),
                    float(line["total"]),
                    frozenset(names | {line["folder"]}),
                )
            )
    return found


def _calls(source: str, wanted) -> list[ast.Call]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and wanted(node.func)
    ]


def _owner(func: ast.Attribute) -> str:
    return ast.unparse(func.value).split(".")[-1]


def _analysis_calls(source: str) -> list[ast.Call]:
    """kenkyu.tools.analysis calls whose function takes a time window (``end_ps``)."""
    from kenkyu.tools import analysis

    def takes_end_ps(func: ast.Attribute) -> bool:
        function = getattr(analysis, func.attr, None)
        try:
            return _owner(func) == "analysis" and "end_ps" in inspect.signature(function).parameters
        except (TypeError, ValueError):
            return False

    return _calls(source, takes_end_ps)


def _target(call: ast.Call):
    """The run a call names: its ``run=``/``trajectory=`` argument, or its first positional one."""
    given = next((k.value for k in call.keywords if k.arg in ("run", "trajectory")), None)
    return given if given is not None else (call.args[0] if call.args else None)


def _same_run(target, extension: _Extension) -> bool:
    if isinstance(target, ast.Constant) and isinstance(target.value, str):
        return os.path.normpath(target.value) == os.path.normpath(extension.folder)
    return ast.unparse(target) in extension.names


def _inserted(source: str, edits: list[tuple[int, int, str]]) -> str:
    """``source`` with each text inserted at (line, col) in ast's coordinates (1-based lines, UTF-8 bytes)."""
    lines = [line.encode() for line in source.split("\n")]
    for line, col, text in sorted(edits, reverse=True):  # from the end: earlier offsets stay valid
        lines[line - 1] = lines[line - 1][:col] + text.encode() + lines[line - 1][col:]
    return "\n".join(line.decode() for line in lines)
