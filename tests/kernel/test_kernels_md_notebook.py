"""The coarse-grained example notebook runs headless (nbclient) with a short run."""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("openmm")
pytest.importorskip("numba")

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = REPO / "examples" / "coarse_grained_dataflow.ipynb"


def test_coarse_grained_notebook_runs(monkeypatch):
    monkeypatch.setenv("KENKYU_NB_STEPS", "8000")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}
    )
    client.execute()
    outputs = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "native contacts" in outputs and "<Q> over the last frames" in outputs
    assert not any(
        o.get("output_type") == "error" for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
    )
