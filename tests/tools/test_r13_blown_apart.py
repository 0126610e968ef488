"""Flown-apart coordinates: kernels_md refuses to build a cell grid for them (it once took all the memory and the
kernel was killed, rc 137, before a blown-up Gō run could say anything), and md.coarse_grained turns the refusal into
its own instability error, keeping the frames it saved before it."""

from __future__ import annotations

import numpy as np
import pytest

mm = pytest.importorskip("openmm")
pytest.importorskip("numba")
from kenkyu.kernels_md import build_go_model, dataflow_system
from kenkyu.kernels_md.cells import BLOWN_APART, MAX_COLUMNS, CoordinatesBlownApartError, check_extent
from kenkyu.tools.md import example_structure
from openmm import app


def _go_context(threads=1):
    model = build_go_model(app.PDBFile(str(example_structure("villin"))))
    system = dataflow_system(model.system, threads=threads)
    integrator = mm.VerletIntegrator(0.001)
    context = mm.Context(system, integrator, mm.Platform.getPlatformByName("Reference"))
    return model, context


def test_a_bead_far_away_is_refused_with_the_fix_not_a_grid_of_billions_of_columns():
    model, context = _go_context()
    positions = np.array(model.positions, dtype=float)
    positions[5] += (1.0e6, 1.0e6, 0.0)  # one bead a millimetre (1e6 nm) away: a run that blew up
    context.setPositions(positions)
    with pytest.raises(mm.OpenMMException) as raised:
        context.getState(getForces=True)
    said = str(raised.value)
    assert BLOWN_APART in said and "columns" in said and "smaller timestep_fs" in said
    context.setPositions(model.positions)  # the same context computes forces again once the coordinates are sane
    forces = context.getState(getForces=True).getForces(asNumpy=True)._value
    assert np.isfinite(forces).all()


def test_non_finite_coordinates_are_named_and_counted():
    positions = np.zeros((4, 3))
    positions[2, 1] = np.nan
    with pytest.raises(CoordinatesBlownApartError, match=r"1 of 4 particles have non-finite"):
        check_extent(positions, 1.0, periodic=False)


def test_a_protein_sized_extent_passes_and_a_box_in_angstrom_is_named():
    check_extent(np.random.default_rng(0).uniform(0, 30, size=(500, 3)), 1.2, periodic=False)  # 25 x 25 columns
    box = np.array([6.0, 6.0, 6.0]) * 10.0 * 200  # not a solvated protein's box
    with pytest.raises(CoordinatesBlownApartError, match="box vectors") as raised:
        check_extent(np.zeros((3, 3)), 1.0, periodic=True, box=box)
    assert f"{MAX_COLUMNS:,}" in str(raised.value)


def test_a_coarse_grained_run_that_flies_apart_says_so_and_keeps_its_frames_marked_failed(tmp_path, monkeypatch):
    from kenkyu.tools import analysis, md

    real = mm.LangevinMiddleIntegrator

    class FliesApartOnItsThirdFrame(real):
        """The run's own integrator, whose step becomes 2 ps long after two frames: the beads fly apart."""

        frames = 0

        def step(self, steps):
            FliesApartOnItsThirdFrame.frames += 1
            if FliesApartOnItsThirdFrame.frames == 3:
                self.setStepSize(2.0)
            return real.step(self, steps)

    monkeypatch.setattr(mm, "LangevinMiddleIntegrator", FliesApartOnItsThirdFrame)
    folder = tmp_path / "cg"
    settings = dict(ps=2.0, report_interval_ps=0.5, threads=1, seed=1, progress=False)
    with pytest.raises(md.SimulationUnstableError) as raised:
        md.coarse_grained(example_structure("villin"), out=folder, **settings)
    said = str(raised.value)
    assert "blew up before frame 3" in said and "smaller timestep_fs" in said and "columns" in said
    assert "The 2 frames saved before it (to 1 ps) are kept" in said and "overwrite=True" in said
    run = md.CoarseGrainedRun(folder)
    assert run.info["status"] == "failed" and run.info["n_frames"] == 2 and "blew up" in run.info["error"]
    with pytest.raises(md.RunFailedError, match="cannot be trusted"):
        analysis.radius_of_gyration(folder)  # kept for a look, never analysed as a result
    with pytest.raises(md.RunExistsError, match="failed"):
        md.coarse_grained(example_structure("villin"), out=folder, **settings)
    monkeypatch.setattr(mm, "LangevinMiddleIntegrator", real)
    fixed = md.coarse_grained(example_structure("villin"), out=folder, overwrite=True, **settings)
    assert fixed.status == "finished" and len(fixed.table) == 4
