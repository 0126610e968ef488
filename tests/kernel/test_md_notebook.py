"""The MD quick-start notebook runs headless from a clean kernel."""

from __future__ import annotations

import shutil

import pytest
from md_fixtures import REPO_ROOT

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("openmm")

NOTEBOOK = REPO_ROOT / "examples" / "md_quickstart.ipynb"


@pytest.mark.slow
def test_md_quickstart_notebook_runs(tmp_path):
    notebook_path = tmp_path / NOTEBOOK.name
    shutil.copy(NOTEBOOK, notebook_path)
    notebook = nbformat.read(notebook_path, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()  # raises CellExecutionError on any failing cell

    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    text = "".join(output.get("text", "") for output in outputs if output.output_type == "stream")
    assert "(finished)" in text and "20 frames" in text
    assert "RMSD of" in text and "most mobile" in text
    html = "".join(output.get("data", {}).get("text/html", "") for output in outputs)
    assert html.count("<img") >= 2  # the RMSD and RMSF figures, shown with their tables
    widgets = [o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert widgets, "the nglview widget was not displayed"
    assert (tmp_path / "md_quickstart_run" / "run.json").is_file()
