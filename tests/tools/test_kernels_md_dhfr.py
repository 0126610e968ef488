"""kenkyu.kernels_md against OpenMM's Reference platform on the DHFR benchmark structures.

Bars (issues 4 and 14): median per-atom relative force error 2|F-Fref|/(|F|+|Fref|) <= 1e-12 in
double precision and <= 1e-5 in mixed precision, and energy within 1e-5 relative, for the
23,558-atom solvated cube with reaction field (1.0 nm) and with PME, for the 2,489-atom protein
without cutoff, and for the coarse-grained Go model built from it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

mm = pytest.importorskip("openmm")
pytest.importorskip("numba")
from kenkyu.kernels_md import backend_of, build_go_model, dataflow_system
from kenkyu.kernels_md.validation import evaluate, force_errors
from openmm import app, unit

REPO = Path(__file__).resolve().parents[2]
FORCE_BAR = {"double": 1e-12, "mixed": 1e-5}
ENERGY_BAR = 1e-5


from kenkyu.tools.md import example_structure  # noqa: E402  (after the importorskips)


@pytest.fixture(scope="module")
def ff():
    return app.ForceField("amber99sb.xml", "tip3p.xml")


@pytest.fixture(scope="module")
def protein():
    return app.PDBFile(str(example_structure("dhfr")))


@pytest.fixture(scope="module")
def cube():
    return app.PDBFile(str(example_structure("dhfr_solvated")))


def _check(system, positions, label, ref=None, bar=None, **options):
    eref, fref = ref if ref is not None else evaluate(system, positions)
    df = dataflow_system(system, threads=2, **options)
    e, f = evaluate(df, positions)
    med, p99, mx = force_errors(f, fref)
    rel = abs(e - eref) / abs(eref)
    print(f"{label}: E={e:.6f} Eref={eref:.6f} relE={rel:.2e} force median={med:.2e} p99={p99:.2e} max={mx:.2e}")
    assert rel <= ENERGY_BAR, (label, e, eref)
    assert med <= (bar or FORCE_BAR[options.get("precision", "double")]), (label, med)
    assert p99 <= 1e-3, (label, p99)
    return df


def test_protein_no_cutoff(ff, protein):
    system = ff.createSystem(protein.topology, nonbondedMethod=app.NoCutoff, constraints=None)
    df = _check(system, protein.positions, "DHFR protein NoCutoff")
    assert backend_of(df).nb.cutoff is None


def test_cube_reaction_field(ff, cube):
    system = ff.createSystem(
        cube.topology, nonbondedMethod=app.CutoffPeriodic, nonbondedCutoff=1.0 * unit.nanometer, constraints=app.HBonds
    )
    ref = evaluate(system, cube.positions)
    df = _check(system, cube.positions, "DHFR cube RF 1.0 nm (cells >= cutoff + skin)", ref=ref, cell_fraction=1.0)
    # single-precision pair math (float64 displacements and accumulation) also meets the bar
    _check(system, cube.positions, "DHFR cube RF 1.0 nm, mixed precision", ref=ref, precision="mixed")
    b = backend_of(df)
    assert b.last.terms["dispersion"] < 0  # long-range correction is included
    assert b.last.pairs > 4_000_000


def test_cube_pme(ff, cube):
    system = ff.createSystem(
        cube.topology, nonbondedMethod=app.PME, nonbondedCutoff=1.0 * unit.nanometer, constraints=app.HBonds
    )
    ref = evaluate(system, cube.positions)
    _check(
        system, cube.positions, "DHFR cube PME (direct space in backend, half-size cells)", ref=ref, cell_fraction=0.5
    )
    _check(system, cube.positions, "DHFR cube PME, mixed precision", ref=ref, precision="mixed")


def test_coarse_grained_go_model(protein):
    model = build_go_model(protein)
    assert len(model.positions) == 159 and len(model.contacts) > 100
    names = {f.getName() for f in model.system.getForces()}
    assert {"kenkyu_cg_nonbonded", "kenkyu_cg_contacts"} <= names
    rng = np.random.default_rng(1)
    perturbed = model.positions + rng.normal(scale=0.05, size=model.positions.shape)
    df = _check(model.system, perturbed, "DHFR Go model (perturbed)", cell_fraction=0.5)
    # the custom forces moved to the backend, nothing else remained
    assert [type(f).__name__ for f in df.getForces()] == ["PythonForce"]
    assert model.fraction_native(model.positions) == 1.0
    _check(model.system, perturbed, "DHFR Go model (perturbed), mixed precision", precision="mixed")
    # at the native structure the net forces nearly cancel (contacts sit at their minimum), so the
    # relative error of the small remainders is larger than the terms' own error
    _check(model.system, model.positions, "DHFR Go model (native)", bar=1e-10)


def test_protein_charmm36_with_cmap(protein):
    """CHARMM36 brings CMAPTorsionForce (taken by the bond engine) and custom forces (left to OpenMM)."""
    system = app.ForceField("charmm36.xml").createSystem(protein.topology, nonbondedMethod=app.NoCutoff)
    assert any(isinstance(f, mm.CMAPTorsionForce) for f in system.getForces())
    df = _check(system, protein.positions, "DHFR protein CHARMM36 + CMAP NoCutoff")
    kinds = backend_of(df).graph().kinds()
    assert kinds["cmap"] >= 1
    left = {type(f).__name__ for f in df.getForces()}
    assert "CMAPTorsionForce" not in left and "CustomNonbondedForce" in left


def test_coarse_grained_forces_recognised_by_expression(protein):
    """A custom force that carries the model's name but not its expression stays with OpenMM."""
    model = build_go_model(protein)
    for f in model.system.getForces():
        if f.getName() == "kenkyu_cg_contacts":
            f.setEnergyFunction("eps*(5*(r0/r)^12 - 6*(r0/r)^10) + 0.001*r")
    with pytest.warns(UserWarning, match="kenkyu_cg_contacts"):
        df = dataflow_system(model.system, threads=2)
    assert any(f.getName() == "kenkyu_cg_contacts" for f in df.getForces())
    eref, fref = evaluate(model.system, model.positions)
    e, f = evaluate(df, model.positions)
    assert abs(e - eref) <= 1e-9 * abs(eref)
    assert force_errors(f, fref)[0] <= 1e-8
