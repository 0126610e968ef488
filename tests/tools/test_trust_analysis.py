"""Issue 15, wrong analysis numbers: no RMSF from one frame, no frame indices labelled as picoseconds, both atom
counts on a mismatch, and every result says how much data it rests on (issue 18 item 6: caveats).

A real 0.1 ps villin run (OpenMM, vacuum) analysed with mdtraj."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from md_fixtures import FAST

md = pytest.importorskip("kenkyu.tools.md")
from kenkyu.tools import analysis  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:Unlikely unit cell vectors")


@pytest.fixture(scope="module")
def villin_run(tmp_path_factory):
    # 10 frames, one every 0.01 ps: the time axis is 0.01 ... 0.10 ps.
    out = tmp_path_factory.mktemp("trust") / "villin"
    return md.run(md.example_structure("villin"), out=out, **{**FAST, "solvent": "vacuum", "nvt_ps": 0.0})


def test_rmsf_of_fewer_than_two_frames_is_refused(villin_run, tmp_path):
    with pytest.raises(ValueError, match="RMSF needs at least 2 frames"):
        analysis.rmsf(villin_run.directory, frames="last 1")
    with pytest.raises(ValueError, match=r"is a single structure \(1 frame\), and RMSF needs a trajectory"):
        analysis.rmsf(str(villin_run.final_pdb))  # one model: no fluctuation to measure


def test_a_dcd_in_its_run_folder_gets_the_runs_real_time_axis(villin_run):
    table = analysis.rmsd(str(villin_run.trajectory_path), topology=str(villin_run.topology_path))
    np.testing.assert_allclose(table.time_ps, np.arange(1, 11) * 0.01)
    np.testing.assert_allclose(table.time_ps, analysis.rmsd(villin_run.directory).time_ps)
    assert table.figure.axes[0].get_xlabel() == "time (ps)"


def test_a_dcd_away_from_its_run_says_its_time_is_unknown(villin_run, tmp_path):
    dcd = shutil.copy(villin_run.trajectory_path, tmp_path / "copied.dcd")
    pdb = shutil.copy(villin_run.topology_path, tmp_path / "copied.pdb")
    table = analysis.radius_of_gyration(str(dcd), topology=str(pdb))
    assert table.time_ps.isna().all(), "never frame indices labelled as ps"
    assert list(table.frame) == list(range(10))
    assert "simulated time unknown" in table.summary()
    assert table.figure.axes[0].get_xlabel() == "frame (time unknown)"
    with pytest.raises(ValueError, match="time is unknown.*give the window in frames"):
        analysis.rmsd(str(dcd), topology=str(pdb), start_ps=0.05)
    # A window in frames still works.
    assert len(analysis.rmsd(str(dcd), topology=str(pdb), frames="last 5")) == 5


def test_topology_and_trajectory_with_different_atom_counts_say_both(villin_run, tmp_path):
    import mdtraj

    ca_only = tmp_path / "ca.pdb"
    topology = mdtraj.load(str(villin_run.topology_path))
    topology.atom_slice(topology.topology.select("name CA")).save_pdb(str(ca_only))
    with pytest.raises(ValueError, match=r"topology has 36 atoms but the trajectory trajectory.dcd has 596"):
        analysis.rmsd(str(villin_run.trajectory_path), topology=str(ca_only))


def test_results_say_what_data_they_rest_on_and_flag_too_little(villin_run):
    table = analysis.rmsd(villin_run.directory)
    summary = table.summary()
    assert "data: 10 frames spanning 0.1 ps of simulation (one every 0.01 ps)" in summary
    assert "caveat: only 0.1 ps simulated" in summary and "not sampled" in summary
    assert "caveat: only 10 frames" not in summary
    few = analysis.rmsf(villin_run.directory, frames="last 4").summary()
    assert "data: 4 frames" in few and "caveat: only 4 frames: too few" in few


def test_a_folder_or_device_where_a_trajectory_or_topology_is_expected(villin_run, tmp_path):
    with pytest.raises(FileNotFoundError, match="is a folder but not a kenkyu MD run"):
        analysis.rmsd(tmp_path)
    with pytest.raises(FileNotFoundError, match="topology .* is a folder"):
        analysis.rmsd(str(villin_run.trajectory_path), topology=str(tmp_path))
    if Path("/dev/null").exists():
        with pytest.raises(ValueError, match="device or special file, not a trajectory"):
            analysis.rmsd("/dev/null")
