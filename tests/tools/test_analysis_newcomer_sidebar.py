"""What a newcomer in the chat sidebar met in the analyses (round 10): a structure file given to RMSF, and a
window of a DCD read with ``mdtraj.load`` (no times) reported in picoseconds it never had.

A real 0.1 ps villin run (OpenMM, vacuum) analysed with mdtraj."""

from __future__ import annotations

import mdtraj
import pytest
from md_fixtures import FAST

md = pytest.importorskip("kenkyu.tools.md")
from kenkyu.tools import analysis  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:Unlikely unit cell vectors")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A working folder as the sidebar's kernel has it: the structure, and a run folder under md_runs/."""
    here = tmp_path_factory.mktemp("newcomer_analysis")
    md.run(
        md.example_structure("villin"), out=here / "md_runs" / "villin", **{**FAST, "solvent": "vacuum", "nvt_ps": 0.0}
    )
    return here


def test_rmsf_of_a_structure_file_names_it_one_structure_and_offers_the_run_folder(workdir, monkeypatch):
    monkeypatch.chdir(workdir)
    stopped = workdir / "md_runs" / "stopped_in_nvt"  # a run stopped before production: no frames to offer
    stopped.mkdir(exist_ok=True)
    (stopped / "run.json").write_text('{"status": "interrupted"}')
    with pytest.raises(ValueError) as refused:
        analysis.rmsf(str(md.example_structure("villin")))
    message = str(refused.value)
    assert "villin_1vii.pdb is a single structure (1 frame)" in message
    assert "trajectory='md_runs/villin'" in message  # the fix names the run that is here
    assert "stopped_in_nvt" not in message
    assert "Widen the window" not in message  # no window makes one structure a trajectory


def test_a_window_of_frame_numbers_is_not_reported_as_picoseconds(workdir):
    folder = workdir / "md_runs" / "villin"
    traj = mdtraj.load(str(folder / "trajectory.dcd"), top=str(folder / "prepared.pdb"))
    assert list(traj.time) == list(range(traj.n_frames))  # mdtraj numbers the frames of a DCD: no times
    rg = analysis.radius_of_gyration(traj, frames="second half")
    summary = rg.summary()
    assert "simulated time uncertain" in summary
    assert " ps of simulation" not in summary and "only 5 ps simulated" not in summary
    assert rg.window == "frames 5-9 (5 of 10; second half)"  # frame numbers, not "5-9 ps"
    assert list(rg.time_ps) == list(rg.frame)  # the times are the frame numbers, as the whole file's are
