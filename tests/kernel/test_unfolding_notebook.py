"""The thermal-unfolding example runs headless from a clean kernel, by hand and through %%research."""

from __future__ import annotations

import shutil

import pytest
from md_fixtures import REPO_ROOT

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOK = REPO_ROOT / "examples" / "thermal_unfolding.ipynb"


@pytest.mark.slow
def test_thermal_unfolding_notebook_runs(tmp_path):
    notebook_path = tmp_path / NOTEBOOK.name
    shutil.copy(NOTEBOOK, notebook_path)
    notebook = nbformat.read(notebook_path, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()  # raises CellExecutionError on any failing cell

    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    text = "\n".join(
        str(output.get("text", "")) + str(output.get("data", {}).get("text/markdown", "")) for output in outputs
    )
    # The ladder ran every member, the melting curve gave a midpoint, and %%research judged it.
    assert "16 of 16 runs finished" in text
    assert "Tm" in text and "95% CI" in text
    assert "## Act" in text and "Verdict" in text
    assert "model units" in text or "not laboratory melting points" in text
    html = "".join(output.get("data", {}).get("text/html", "") for output in outputs)
    assert "<img" in html  # the Q(T) curves
