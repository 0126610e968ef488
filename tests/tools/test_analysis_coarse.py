"""The analyses on a coarse-grained run, as a scientist passes it: the run object, its folder, its DCD."""

from __future__ import annotations

import mdtraj
import numpy as np
import pytest
from kenkyu.tools import analysis, md

from md_fixtures import villin_pdb  # noqa: F401 (fixture)


@pytest.fixture
def cg_run(villin_pdb, tmp_path):  # noqa: F811
    return md.coarse_grained(
        villin_pdb, ps=12.0, report_interval_ps=0.5, out=tmp_path / "cg", backend="openmm", seed=3, progress=False
    )


def test_a_coarse_grained_run_is_analysed_per_bead_with_its_real_times(cg_run):
    by_object = analysis.rmsf(cg_run)
    by_folder = analysis.rmsf(str(cg_run.directory))
    by_file = analysis.rmsd(str(cg_run.directory / "trajectory.dcd"))
    assert len(by_object) == len(by_folder) == cg_run.info["n_beads"] == 36  # one bead per villin residue
    np.testing.assert_allclose(by_object.rmsf_nm, by_folder.rmsf_nm)
    assert by_file.time_ps.iloc[0] == pytest.approx(0.5) and by_file.time_ps.iloc[-1] == pytest.approx(12.0)
    assert "Cα beads only" in by_file.summary()


def test_analyses_that_need_all_atoms_refuse_beads_and_name_what_works(cg_run):
    for name in ("dssp", "hydrogen_bonds", "sasa"):
        with pytest.raises(ValueError, match=r"one bead \(Cα\) per residue.*Use rmsd, rmsf, radius_of_gyration"):
            getattr(analysis, name)(cg_run)


def test_a_maximum_is_placed_at_a_frame_when_the_times_may_be_frame_numbers(cg_run):
    # Loaded by hand, a DCD has no times: mdtraj numbers the frames 0, 1, 2 ... (not ps).
    traj = mdtraj.load(str(cg_run.directory / "trajectory.dcd"), top=str(cg_run.directory / "native.pdb"))
    summary = analysis.rmsd(traj).summary()
    assert "simulated time uncertain" in summary
    assert " ps" not in summary.split("max ")[1].split("\n")[0]  # "max 0.170 nm at frame 9", not "at 9 ps"
    assert "at frame" in summary.split("max ")[1].split("\n")[0]
