"""The predicted-structure example runs headless from a clean kernel: %%research on the stand-in prediction, then
the same comparison by hand. Run at 2 ps instead of the notebook's 10 to keep the test short."""

from __future__ import annotations

import re

import pytest

pytest.importorskip("nbclient")
from notebooks import outputs_text, run_example  # noqa: E402

CI = re.compile(r"ρ = ([+-]\d\.\d\d) \(95% CI ([+-]\d\.\d\d) to ([+-]\d\.\d\d)\)")
KINDS = ("confident but mobile", "unconfident but rigid")


@pytest.mark.slow
def test_predicted_structure_notebook_prints_the_correlation_with_its_ci_and_the_disagreeing_regions(tmp_path):
    nb = run_example(
        "predicted_structure_check.ipynb",
        tmp_path,
        shorter={"Simulate 10 ps": "Simulate 2 ps", '"_implicit_10ps"': '"_implicit_2ps"'},
    )
    text = outputs_text(nb)
    # %%research planned, ran and judged the prediction, and the Check reported the correlation.
    assert "## Plan" in text and "## Act" in text and "**Verdict:" in text
    assert "(template of protocol predicted-structure-check" in text  # the embedded model: the template
    # By hand: the Spearman correlation with its bootstrap CI, printed, the same as %%research's check found.
    printed = next(line for line in text.splitlines() if line.startswith("Spearman of RMSF with (100 - pLDDT)"))
    rho, low, high = (float(v) for v in CI.search(printed).groups())
    assert -1 <= low <= rho <= high <= 1
    checked = next(line for line in text.splitlines() if line.startswith("- [") and "Spearman ρ of RMSF" in line)
    assert CI.search(printed).group(0) in checked  # %%research's Check found the same ρ and CI on the same run
    # The disagreeing regions: listed in the summary (the stand-in's loops, pLDDT 65, hold still in MD), and the
    # table under it has exactly those rows.
    summary = next(line for line in text.splitlines() if line.startswith("Disagreements: "))
    regions = re.findall(rf"({'|'.join(KINDS)}) (\S+) \(pLDDT", summary)
    by_hand = next(c for c in nb.cells if c.source.rstrip().endswith("comparison.regions"))
    table = next(o for o in by_hand.outputs if "text/html" in o.get("data", {}))["data"]["text/plain"]
    rows = [re.search(rf"({'|'.join(KINDS)})\s+(\S+)", line).groups() for line in table.splitlines()[1:]]
    assert regions and rows == regions
    html = "".join(o.get("data", {}).get("text/html", "") for c in nb.cells for o in c.get("outputs", []))
    assert "<img" in html  # the figure of RMSF against pLDDT
