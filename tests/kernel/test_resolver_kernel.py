"""The resolver in a real kernel with the embedded model: "compute the RMSD of traj" passes the kernel's
Trajectory itself to the analysis (``trajectory=traj``) and says so; a request whose input is nowhere to
be found calls no tool and names what is missing."""

import pytest
from notebooks import run_cells, text_of

from kenkyu.assistant.session import RECORD_MIME

pytestmark = [pytest.mark.slow, pytest.mark.embedded_llm]
pytest.importorskip("mdtraj")
pytest.importorskip("llama_cpp")


def record_of(cell) -> dict:
    return next(o["data"][RECORD_MIME] for o in cell.outputs if RECORD_MIME in o.get("data", {}))


def test_a_kernel_trajectory_is_used_by_name_and_a_missing_one_is_asked_for(tmp_path):
    nb, _ = run_cells(
        [
            "%load_ext kenkyu",
            "%kenkyu provider local\n%kenkyu approval auto",
            "import mdtraj\nimport kenkyu.tools.md as kmd\n"
            "first = mdtraj.load(str(kmd.example_structure('villin')))\n"
            "traj = mdtraj.join([first, first])",
            "%%ask\ncompute the RMSD of traj",
            "del traj, first",
            "%%ask\nplot the rmsd of my trajectory",
        ],
        tmp_path,
    )
    used = record_of(nb.cells[3])
    code = [c for c in used["cells"] if c["cell_type"] == "code"]
    assert len(code) == 1, [c["source"] for c in used["cells"]]
    source = code[0]["source"]
    assert source.startswith("# using `traj` (Trajectory, ")
    assert "kenkyu.tools.analysis.rmsd(trajectory=traj)" in source
    assert "using `traj` (trajectory, " in text_of(nb.cells[3]).lower()
    assert "rmsd_nm" in str(code[0]["outputs"])

    missing = record_of(nb.cells[5])
    assert not [c for c in missing["cells"] if c["cell_type"] == "code"], "no tool may run without its input"
    reply = text_of(nb.cells[5])
    assert "Which trajectory?" in reply and "rmsd" in reply.lower()


def test_a_slice_of_a_kernel_trajectory_runs_on_those_frames_and_a_report_is_exported(tmp_path):
    """ "the rmsd of traj[2:]" analyses the frames the slice holds; "export this as an html report" in a
    kernel that does not know its notebook's file exports the cells it ran (an .html appears)."""
    nb, _ = run_cells(
        [
            "%load_ext kenkyu",
            "%kenkyu provider local\n%kenkyu approval auto",
            "import mdtraj\nimport kenkyu.tools.md as kmd\n"
            "first = mdtraj.load(str(kmd.example_structure('villin')))\n"
            "traj = mdtraj.join([first, first, first, first, first])",
            "%%ask\ncompute the RMSD of traj[2:]",
            "%%ask\nexport this as an html report",
        ],
        tmp_path,
    )
    used = record_of(nb.cells[3])
    code = [c for c in used["cells"] if c["cell_type"] == "code"]
    assert "kenkyu.tools.analysis.rmsd(trajectory=traj[2:])" in code[0]["source"]
    table = next(o["data"]["text/plain"] for o in code[0]["outputs"] if "text/plain" in o.get("data", {}))
    assert "rmsd_nm" in table and len(table.strip().splitlines()) == 1 + 3, table  # frames 2, 3 and 4 of five
    exported = record_of(nb.cells[4])
    calls = [c for c in exported["cells"] if c["cell_type"] == "code"]
    assert calls and "export_report" in calls[0]["source"], text_of(nb.cells[4])
    assert list(tmp_path.glob("**/*.html")), text_of(nb.cells[4])
