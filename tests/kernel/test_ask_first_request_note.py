"""The first %%ask of a kernel on the embedded model says why it waits: it loads torch, the MiniLM tool router
and the model before anything else shows (45 s under a bare header for a newcomer on 2 busy cores). The next
request, with all of it loaded, does not say it again. A real kernel and the real embedded model."""

import pytest
from notebooks import run_cells

pytestmark = [pytest.mark.slow, pytest.mark.embedded_llm]
pytest.importorskip("mdtraj")
pytest.importorskip("llama_cpp")

NOTE = "first request in this kernel: loading the tool router and the model"


def header(cell) -> str:
    return next(o["data"]["text/markdown"] for o in cell.outputs if "text/markdown" in o.get("data", {}))


def test_only_the_first_request_says_it_is_loading(tmp_path):
    nb, _ = run_cells(
        [
            "%load_ext kenkyu",
            "%kenkyu provider local\n%kenkyu approval auto",
            "import mdtraj\nimport kenkyu.tools.md as kmd\ntraj = mdtraj.load(str(kmd.example_structure('villin')))",
            "%%ask\nwhat is the radius of gyration of traj?",
            "%%ask\nand the sasa of traj",
        ],
        tmp_path,
    )
    first, second = header(nb.cells[3]), header(nb.cells[4])
    assert first.startswith("<sub>研究 kenkyu · embedded") and NOTE in first, first
    assert NOTE not in second and second.startswith("<sub>研究 kenkyu · embedded"), second
