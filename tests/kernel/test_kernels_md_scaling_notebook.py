"""The dataflow scaling-model notebook runs headless (nbclient) on a small water box."""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("openmm")
pytest.importorskip("numba")

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = REPO / "examples" / "dataflow_scaling_model.ipynb"


@pytest.mark.slow  # 20-40 s on a 2-core machine (MD frames, two thread counts, the Go model)
def test_scaling_model_notebook_runs(monkeypatch):
    monkeypatch.setenv("KENKYU_NB_SMALL", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}
    )
    client.execute()
    outs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not any(o.get("output_type") == "error" for o in outs)
    text = "".join(o.get("text", "") for o in outs)
    assert "task costs (fitted)" in text and "predicted ms" in text and "critical path" in text
    assert "coarse-grained" in text and "nodes" in text
    assert sum(1 for o in outs if "image/png" in o.get("data", {})) >= 3  # timeline, scaling, machine
