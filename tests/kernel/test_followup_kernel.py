"""Follow-ups in a real kernel with the embedded model: %%ask cells in a row, each reading the one before through the
session's conversation ("the same thing", "do that for the first half only", "what was ... again")."""

import re

import pytest
from notebooks import run_cells, text_of

from kenkyu.assistant.session import RECORD_MIME

pytestmark = [pytest.mark.slow, pytest.mark.embedded_llm]
pytest.importorskip("mdtraj")
pytest.importorskip("llama_cpp")


def code_of(cell) -> list[str]:
    record = next(o["data"][RECORD_MIME] for o in cell.outputs if RECORD_MIME in o.get("data", {}))
    return [c["source"] for c in record["cells"] if c["cell_type"] == "code"]


def test_follow_ups_carry_the_previous_object_and_window_and_a_recall_computes_nothing(tmp_path):
    nb, _ = run_cells(
        [
            "%load_ext kenkyu",
            "%kenkyu provider local\n%kenkyu approval auto",
            "import mdtraj\nimport kenkyu.tools.md as kmd\n"
            "first = mdtraj.load(str(kmd.example_structure('villin')))\n"
            "t = mdtraj.join([first] * 6)",
            "%%ask\nwhat is the radius of gyration of t?",
            "%%ask\nand the rmsd of the same thing",
            "%%ask\ndo that for the first half only",
            "%%ask\nwhat was the mean rmsd again?",
        ],
        tmp_path,
    )
    (rg,) = code_of(nb.cells[3])
    assert "radius_of_gyration(trajectory=t" in rg
    (rmsd,) = code_of(nb.cells[4])
    assert "kenkyu.tools.analysis.rmsd(trajectory=t" in rmsd
    assert "as in your previous request" in text_of(nb.cells[4])
    (half,) = code_of(nb.cells[5])
    assert "kenkyu.tools.analysis.rmsd(trajectory=t" in half and "first half" in half
    # The mean RMSD is already in the notebook: answered from it, nothing is computed again.
    recall = code_of(nb.cells[6])
    assert not any("kenkyu.tools.analysis" in source for source in recall), recall
    # ... and the reply gives the mean of the RMSD table's column (identical frames: 0 nm), naming where it is from.
    reply = text_of(nb.cells[6])
    assert re.search(r"mean of rmsd\w*\['rmsd_nm'\] = 0\b", reply), reply
