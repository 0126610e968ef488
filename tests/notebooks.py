"""Run notebooks in a real kernel (nbclient + ipykernel), as Jupyter would."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import nbformat.v4 as v4
from nbclient import NotebookClient

TESTS = Path(__file__).resolve().parent


def run_cells(
    sources: list[str],
    cwd: Path,
    name: str = "notebook.ipynb",
    env: dict | None = None,
    allow_errors: bool = False,
    timeout: int = 600,
) -> tuple[nbformat.NotebookNode, Path]:
    nb = v4.new_notebook(cells=[v4.new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    kernel_env = {**os.environ, "PYTHONPATH": f"{TESTS}{os.pathsep}{os.environ.get('PYTHONPATH', '')}", **(env or {})}
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=allow_errors,
        resources={"metadata": {"path": str(cwd)}},
    )
    client.execute(env=kernel_env)
    path = Path(cwd) / name
    nbformat.write(nb, path)
    return nb, path


def text_of(cell) -> str:
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            parts.append(output["text"])
        elif "data" in output:
            parts.append(output["data"].get("text/plain", ""))
        elif output.get("output_type") == "error":
            parts.append(f"{output['ename']}: {output['evalue']}")
    return "\n".join(parts)


def run_example(
    name: str, cwd: Path, timeout: int = 600, shorter: dict[str, str] | None = None
) -> nbformat.NotebookNode:
    """Run ``examples/<name>`` from a clean kernel in ``cwd``, as a user opening it would (every cell in
    order; a failing cell raises ``CellExecutionError``). ``shorter`` replaces text in the cells' sources
    (a 2 ps run for the notebook's 10 ps) to keep a test short; each text must occur, so an edited example
    fails the test rather than silently running at full length. The executed copy is written to ``cwd``."""
    nb = nbformat.read(TESTS.parent / "examples" / name, as_version=4)
    for old, new in (shorter or {}).items():
        hits = [cell for cell in nb.cells if old in cell.source]
        assert hits, f"{name} no longer contains {old!r}: update the test's shortening"
        for cell in hits:
            cell.source = cell.source.replace(old, new)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(cwd)}})
    client.execute()
    nbformat.write(nb, Path(cwd) / name)
    return nb


def outputs_text(nb) -> str:
    """Everything the code cells printed or displayed as text (streams, text/plain, text/markdown)."""
    parts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            parts.append(str(output.get("text", "")))
            parts += [str(output.get("data", {}).get(kind, "")) for kind in ("text/plain", "text/markdown")]
    return "\n".join(p for p in parts if p)
