"""The thermal-unfolding example runs headless from a clean kernel, by hand and through %%research."""

from __future__ import annotations

import pytest

pytest.importorskip("nbclient")
from notebooks import outputs_text, run_example  # noqa: E402


@pytest.mark.slow
def test_thermal_unfolding_notebook_runs(tmp_path):
    notebook = run_example("thermal_unfolding.ipynb", tmp_path)  # raises CellExecutionError on any failing cell
    text = outputs_text(notebook)
    # The ladder ran every member, the melting curve gave a midpoint, and %%research judged it.
    assert "16 of 16 runs finished" in text
    assert "Tm" in text and "95% CI" in text
    assert "## Act" in text and "Verdict" in text
    assert "model units" in text or "not laboratory melting points" in text
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    html = "".join(output.get("data", {}).get("text/html", "") for output in outputs)
    assert "<img" in html  # the Q(T) curves
