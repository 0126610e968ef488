"""The structure quick-start notebook runs headless, with tiny random models under the default names.

The tiny ESMFold's prediction has mean pLDDT 50, so the notebook's confidence gate skips the MD run and
only the pdbfixer hand-over runs here; tests/tools/test_structure_md.py runs MD on a sane structure written by
the same fold output path.
"""

from __future__ import annotations

import os
import shutil

import pytest
from md_fixtures import REPO_ROOT

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("esm")

NOTEBOOK = REPO_ROOT / "examples" / "structure_quickstart.ipynb"


@pytest.mark.slow
def test_structure_quickstart_notebook_runs_with_tiny_models(tmp_path):
    from tiny_esm import make_tiny_models

    models = make_tiny_models(tmp_path / "models")
    notebook_path = tmp_path / NOTEBOOK.name
    shutil.copy(NOTEBOOK, notebook_path)
    notebook = nbformat.read(notebook_path, as_version=4)
    env = {
        **os.environ,
        "KENKYU_MODELS": str(models),
        "HF_HUB_OFFLINE": "1",
        "TORCH_HOME": str(tmp_path / "torch"),
    }
    client = nbclient.NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute(env=env)  # raises CellExecutionError on any failing cell

    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    text = "".join(output.get("text", "") for output in outputs if output.output_type == "stream")
    assert "ESMFold prediction seq1 (35 residues)" in text and "pTM" in text
    assert "top 7 (L/5) contacts" in text and "Mutational scan of seq1 (35 aa, 35 positions, 665 substitutions)" in text
    assert "ready for MD:" in text and "not simulating this prediction" in text
    html = "".join(output.get("data", {}).get("text/html", "") for output in outputs)
    assert html.count("<img") >= 4  # fold (pLDDT + PAE), contact map, scan heatmap, variant bars
    assert "facebook/esmfold_v1" in html  # the models table
    widgets = [o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert widgets, "the 3D view was not displayed"
    assert (tmp_path / "structure_quickstart" / "seq1.pdb").is_file()
    assert (tmp_path / "structure_quickstart" / "seq1_fixed.pdb").is_file()
