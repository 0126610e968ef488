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
