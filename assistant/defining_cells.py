"""Which cell of the saved notebook defines a name that is not defined in the kernel.

A NameError for ``md`` while the notebook has ``import mdtraj as md`` in a cell never run is fixed by running
that cell; the explanation names it ("run cell 2 first: it defines md") instead of a fuzzy "did you mean rmsd?"
(newcomer r8 O4). The cells are parsed with :mod:`ast`, so a name in a comment or a string does not count.
Jupyter tells the kernel its notebook's path in ``JPY_SESSION_NAME``; what is read is the notebook as last saved.
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass


@dataclass
class DefiningCell:
    number: int  # 1-based, counting every cell as the notebook shows them
    line: str  # the line that defines the name
    imports: bool  # an import (``import mdtraj as md``), not an assignment

    def fix(self, name: str) -> str:
        return f"run cell {self.number} first: it defines {name} (`{self.line}`)"


def defining_cell(name: str, notebook: str | os.PathLike | None = None) -> DefiningCell | None:
    """The first code cell of ``notebook`` (default the kernel's own) that defines ``name``, or None."""
    path = notebook or os.environ.get("JPY_SESSION_NAME")
    if not name or not path or not os.path.isfile(path):
        return None
    try:
        import nbformat

        cells = nbformat.read(path, as_version=4).cells
    except Exception:  # an unreadable notebook only loses the hint, never the explanation
        return None
    for number, cell in enumerate(cells, start=1):
        if cell.cell_type != "code":
            continue
        found = _definition(name, cell.source)
        if found is not None:
            line, imports = found
            return DefiningCell(number, cell.source.splitlines()[line - 1].strip(), imports)
    return None


def _definition(name: str, source: str) -> tuple[int, bool] | None:
    """(line number, whether an import) of the top-level statement in ``source`` that binds ``name``."""
    # IPython magics (%load_ext, !pip) are not Python: blank them out, keeping the line numbers.
    lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return None
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            if any((a.asname or a.name.split(".")[0]) == name for a in node.names):
                return node.lineno, True
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == name:
            return node.lineno, False
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.For, ast.With)):
            targets = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
            if name in targets:
                return node.lineno, False
    return None
