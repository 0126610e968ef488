"""md.compare_backends' verdict follows its own repeats, and says when the ratio does not time the backend.

Newcomer r12: "faster" from a median of 1.17x while the repeats ranged 0.95-1.17x at load 9; and on villin in
explicit solvent a footnote said the NonbondedForce stayed with OpenMM while the verdict still read as the
backend's speed. The timings here are made-up tables: the verdict is what is checked, never a speed."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest
from kenkyu.tools.md import BackendComparison
from kenkyu.tools.md._speed import forces_left_to_openmm


def comparison(ratios, **extra):
    rows = []
    for repeat, ratio in enumerate(ratios):
        rows.append({"repeat": repeat, "backend": "openmm-cpu", "ms_per_step": 10.0 * ratio})
        rows.append({"repeat": repeat, "backend": "dataflow", "ms_per_step": 10.0})
    table = pd.DataFrame(rows).assign(steps=100, seconds=lambda t: t.ms_per_step / 10, ns_per_day=1.0, finite=True)
    table = table.sort_values(["backend", "repeat"], kind="stable").reset_index(drop=True)
    return BackendComparison(
        table=table,
        system="villin_1vii.pdb (explicit solvent)",
        n_atoms=8634,
        timestep_fs=2.0,
        threads=None,
        energies_kj_mol={"openmm-cpu": -1.0, "dataflow": -1.0},
        **extra,
    )


def verdict_line(result):
    (line,) = [x for x in result.summary().splitlines() if x.startswith("dataflow runs at ")]
    return line


def test_repeats_on_both_sides_of_one_are_no_verdict():
    line = verdict_line(comparison([1.17, 0.95, 1.17], load=9.1, cores=2))
    assert "1.17x" in line and "0.95-1.17x" in line  # the median and the spread, as before
    assert "faster" not in line.replace("not shown faster", "")
    assert "inconclusive" in line and "load 9.1 on 2 cores" in line
    assert "more repeats (repeats=7)" in line and "quieter machine" in line  # 100 steps each: enough steps


def test_a_verdict_from_a_few_steps_asks_for_more_steps_too():
    result = comparison([1.25, 0.24, 0.78])
    result.table["steps"] = 3
    assert "more repeats (repeats=7, steps=100)" in verdict_line(result)


@pytest.mark.parametrize(
    ("ratios", "said", "not_said"),
    [
        ([1.30, 1.21, 1.25], "faster in every repeat", "inconclusive"),
        ([0.61, 0.70, 0.66], "slower in every repeat", "inconclusive"),
        ([0.98, 1.02, 1.01], "about the same", "inconclusive"),
        ([1.4], "one repeat has no spread: not a verdict", "faster"),
    ],
)
def test_a_verdict_only_where_every_repeat_agrees(ratios, said, not_said):
    line = verdict_line(comparison(ratios))
    assert said in line and not_said not in line


def test_a_nonbonded_force_left_to_openmm_is_said_in_the_verdict():
    why = "leaving NonbondedForce 'NonbondedForce' (force index 3): NonbondedForce with LJPME ... to OpenMM"
    line = verdict_line(comparison([1.17, 1.10, 1.12], nonbonded_with_openmm=why))
    assert "does not measure the backend" in line and "LJPME" in line
    assert "faster in every repeat" not in line
    assert "PME/Ewald (its direct space" in line and "CutoffNonPeriodic" in line  # the methods the backend takes


def _system(method):
    import openmm as mm
    from openmm import unit

    system = mm.System()
    for _ in range(4):
        system.addParticle(12.0)
    system.setDefaultPeriodicBoxVectors(mm.Vec3(3, 0, 0), mm.Vec3(0, 3, 0), mm.Vec3(0, 0, 3))
    bonds = mm.HarmonicBondForce()
    bonds.addBond(0, 1, 0.15, 1000.0)
    bonds.addBond(2, 3, 0.15, 1000.0)
    system.addForce(bonds)
    nonbonded = mm.NonbondedForce()
    for q in (0.5, -0.5, 0.5, -0.5):
        nonbonded.addParticle(q, 0.3, 0.5)
    nonbonded.addException(0, 1, 0.0, 0.3, 0.0)
    nonbonded.addException(2, 3, 0.0, 0.3, 0.0)
    nonbonded.setNonbondedMethod(method)
    nonbonded.setCutoffDistance(1.0 * unit.nanometer)
    system.addForce(nonbonded)
    return system


def _left(method):
    from kenkyu.kernels_md import dataflow_system

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dataflow = dataflow_system(_system(method))
    return forces_left_to_openmm(dataflow, [str(w.message) for w in caught])


def test_pme_direct_space_taken_is_not_a_nonbonded_force_left_to_openmm():
    import openmm as mm

    left, nonbonded = _left(mm.NonbondedForce.PME)
    assert nonbonded is None
    assert left == ["NonbondedForce's reciprocal space (the backend computes its direct space)"]


def test_ljpme_left_to_openmm_is_named_with_its_reason():
    import openmm as mm

    left, nonbonded = _left(mm.NonbondedForce.LJPME)
    assert nonbonded is not None and "LJPME" in nonbonded
    assert any("LJPME" in x for x in left)
