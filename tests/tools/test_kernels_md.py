"""kenkyu.kernels_md: unit tests on small systems (no shared data needed)."""

from __future__ import annotations

import copy
import pickle
import subprocess
import sys
import threading

import numpy as np
import pytest

mm = pytest.importorskip("openmm")
pytest.importorskip("numba")
from kenkyu.kernels_md import DataflowScheduler, Task, TaskGraph, backend_of, dataflow_system
from kenkyu.kernels_md.openmm_system import UnsupportedForceError
from kenkyu.kernels_md.validation import evaluate, force_errors
from openmm import app, unit


def test_import_is_cheap():
    code = "import sys, kenkyu.kernels_md as k; print('numba' in sys.modules, 'openmm' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


# --- task graph and scheduler -------------------------------------------------------------------


def test_graph_rejects_cycles_and_unknown_deps():
    with pytest.raises(ValueError, match="cycle"):
        TaskGraph([Task("a", "x", ("b",)), Task("b", "x", ("a",))])
    with pytest.raises(ValueError, match="unknown"):
        TaskGraph([Task("a", "x", ("zzz",))])


@pytest.mark.parametrize("policy", ["lpt", "fifo", "serial"])
def test_scheduler_respects_dependencies(policy):
    log, lock = [], threading.Lock()

    def rec(name):
        def fn(wid):
            with lock:
                log.append((name, wid))
        return fn

    tasks = [Task("src", "s", (), 1, rec("src"))]
    for k in range(12):
        tasks.append(Task(f"a{k}", "a", ("src",), k, rec(f"a{k}")))
        tasks.append(Task(f"b{k}", "b", (f"a{k}",), 1, rec(f"b{k}")))
    tasks.append(Task("sink", "r", tuple(f"b{k}" for k in range(12)), 1, rec("sink")))
    g = TaskGraph(tasks)
    sched = DataflowScheduler(2, policy)
    for _ in range(3):
        log.clear()
        sched.run(g)
        pos = {name: i for i, (name, _) in enumerate(log)}
        assert len(pos) == len(tasks)
        for t in tasks:
            for d in t.deps:
                assert pos[d] < pos[t.name], (d, t.name)
        assert {w for _, w in log} <= {0, 1}
    assert sched.stats["a"][0] == 36
    sched.shutdown()


def test_scheduler_propagates_errors():
    def boom(wid):
        raise RuntimeError("kaboom")

    g = TaskGraph([Task("a", "x", (), 1, boom), Task("b", "x", ("a",), 1, lambda w: None)])
    with pytest.raises(RuntimeError, match="kaboom"):
        DataflowScheduler(2).run(g)


# --- small all-atom systems against the Reference platform ----------------------------------------


@pytest.fixture(scope="module")
def waterbox():
    ff = app.ForceField("amber99sb.xml", "tip3p.xml")
    mod = app.Modeller(app.Topology(), [])
    mod.addSolvent(ff, boxSize=mm.Vec3(2.4, 2.4, 2.4) * unit.nanometer)
    # a little disorder so no pair sits exactly on a grid artefact
    return ff, mod.topology, mod.getPositions()


def _water_system(waterbox, method, **kw):
    ff, top, _ = waterbox
    return ff.createSystem(top, nonbondedMethod=method, nonbondedCutoff=1.0 * unit.nanometer, rigidWater=False, **kw)


@pytest.mark.parametrize("method", ["NoCutoff", "CutoffNonPeriodic", "CutoffPeriodic", "PME", "Ewald"])
@pytest.mark.parametrize("cell_fraction", [1.0, 0.5])
def test_water_matches_reference(waterbox, method, cell_fraction):
    if method == "NoCutoff" and cell_fraction != 1.0:
        pytest.skip("cell size is irrelevant without a cutoff")
    system = _water_system(waterbox, getattr(app, method))
    pos = waterbox[2]
    eref, fref = evaluate(system, pos)
    df = dataflow_system(system, threads=2, cell_fraction=cell_fraction, tasks_per_thread=3)
    e, f = evaluate(df, pos)
    med, p99, mx = force_errors(f, fref)
    assert abs(e - eref) <= 1e-6 * abs(eref), (e, eref)
    assert med <= 1e-8 and mx <= 1e-5, (med, p99, mx)
    if method in ("PME", "Ewald"):
        nb = [x for x in df.getForces() if isinstance(x, mm.NonbondedForce)]
        assert len(nb) == 1 and not nb[0].getIncludeDirectSpace()
    else:
        assert not any(isinstance(x, mm.NonbondedForce) for x in df.getForces())


def test_switching_function_matches_reference(waterbox):
    system = _water_system(waterbox, app.CutoffNonPeriodic, switchDistance=0.8 * unit.nanometer)
    nb = next(x for x in system.getForces() if isinstance(x, mm.NonbondedForce))
    assert nb.getUseSwitchingFunction()
    eref, fref = evaluate(system, waterbox[2])
    e, f = evaluate(dataflow_system(system, threads=1, policy="serial"), waterbox[2])
    assert abs(e - eref) <= 1e-8 * abs(eref)
    assert force_errors(f, fref)[2] <= 1e-6


def test_mixed_precision_is_close(waterbox):
    system = _water_system(waterbox, app.PME)
    eref, fref = evaluate(system, waterbox[2])
    e, f = evaluate(dataflow_system(system, threads=2, precision="mixed"), waterbox[2])
    med, _, _ = force_errors(f, fref)
    assert abs(e - eref) <= 1e-4 * abs(eref)
    assert med <= 1e-4


def _random_molecule_system(n=40, seed=3):
    rng = np.random.default_rng(seed)
    pos = np.cumsum(rng.normal(scale=0.09, size=(n, 3)), axis=0) + 1.0
    s = mm.System()
    for _ in range(n):
        s.addParticle(12.0)
    hb, ha, pt, rb = mm.HarmonicBondForce(), mm.HarmonicAngleForce(), mm.PeriodicTorsionForce(), mm.RBTorsionForce()
    for i in range(n - 1):
        hb.addBond(i, i + 1, 0.1 + 0.05 * rng.random(), 1000 + 500 * rng.random())
    for i in range(n - 2):
        ha.addAngle(i, i + 1, i + 2, 1.5 + rng.random(), 100 + 50 * rng.random())
    for i in range(n - 3):
        pt.addTorsion(i, i + 1, i + 2, i + 3, int(rng.integers(1, 5)), 6 * rng.random() - 3, 10 * rng.random())
        rb.addTorsion(i, i + 1, i + 2, i + 3, *(rng.normal(size=6) * 5))
    for f in (hb, ha, pt, rb):
        s.addForce(f)
    return s, pos


def test_bond_engine_matches_reference_and_gradient():
    system, pos = _random_molecule_system()
    eref, fref = evaluate(system, pos)
    df = dataflow_system(system, threads=2, bonded_chunk=7)
    b = backend_of(df)
    assert sorted(b.graph().kinds()) == sorted(["angles", "bonds", "positions", "rb_torsions", "reduce", "torsions"])
    assert b.graph().kinds()["torsions"] == 6  # 37 terms in chunks of at most 7
    e, f = evaluate(df, pos)
    assert abs(e - eref) <= 1e-10 * max(1.0, abs(eref))
    assert force_errors(f, fref)[2] <= 1e-9
    # forces are minus the gradient of the energy
    h = 1e-6
    for i, d in [(0, 0), (7, 1), (21, 2), (39, 0)]:
        p1, p2 = pos.copy(), pos.copy()
        p1[i, d] += h
        p2[i, d] -= h
        num = -(b.compute(p1)[0] - b.compute(p2)[0]) / (2 * h)
        assert abs(num - b.compute(pos)[1][i, d]) <= 1e-4 * max(1.0, abs(num))


def test_cmap_matches_reference():
    system, pos = _random_molecule_system(14, seed=5)
    rng = np.random.default_rng(9)
    cmap = mm.CMAPTorsionForce()
    for size in (24, 10):
        g = np.arange(size) * 2 * np.pi / size
        grid = (np.cos(g)[:, None] * 3 + np.sin(2 * g)[None, :] * 2 + rng.normal(scale=0.5, size=(size, size)))
        cmap.addMap(size, grid.T.ravel().tolist())  # energy[i + size*j]
    for k in range(8):
        cmap.addTorsion(k % 2, k, k + 1, k + 2, k + 3, k + 1, k + 2, k + 3, k + 4)
    system.addForce(cmap)
    eref, fref = evaluate(system, pos)
    df = dataflow_system(system, threads=2, unsupported="error")
    assert not any(isinstance(f, mm.CMAPTorsionForce) for f in df.getForces())
    assert backend_of(df).graph().kinds()["cmap"] == 1
    e, f = evaluate(df, pos)
    assert abs(e - eref) <= 1e-9 * max(1.0, abs(eref)), (e, eref)
    assert force_errors(f, fref)[2] <= 1e-8


def test_unsupported_forces(waterbox):
    system = _water_system(waterbox, app.PME)
    nb = next(x for x in system.getForces() if isinstance(x, mm.NonbondedForce))
    nb.addGlobalParameter("lam", 1.0)
    nb.addParticleParameterOffset("lam", 0, 0.1, 0.0, 0.0)
    with pytest.raises(UnsupportedForceError, match="NonbondedForce .*offsets"):
        dataflow_system(system, unsupported="error")
    with pytest.warns(UserWarning, match="NonbondedForce"):
        df = dataflow_system(system)
    # left to OpenMM, the bonded terms still move to the backend; energies still agree
    assert any(isinstance(f, mm.NonbondedForce) and f.getIncludeDirectSpace() for f in df.getForces())
    eref, fref = evaluate(system, waterbox[2])
    e, f = evaluate(df, waterbox[2])
    assert abs(e - eref) <= 1e-6 * abs(eref)
    assert force_errors(f, fref)[0] <= 1e-6
    lj = _water_system(waterbox, app.LJPME)
    with pytest.raises(UnsupportedForceError, match="LJPME"):
        dataflow_system(lj, unsupported="error")
    with pytest.raises(UnsupportedForceError, match="no force"):
        s = mm.System()
        s.addParticle(1.0)
        dataflow_system(s)


def test_system_copy_and_pickle(waterbox):
    system = _water_system(waterbox, app.CutoffPeriodic)
    df = dataflow_system(system, threads=2)
    assert system.getNumForces() != df.getNumForces() or any(
        isinstance(f, mm.NonbondedForce) for f in system.getForces()
    )
    b2 = pickle.loads(pickle.dumps(backend_of(df)))
    e1, f1 = backend_of(df).compute(np.array(waterbox[2].value_in_unit(unit.nanometer)), np.full(3, 2.4))
    f1 = f1.copy()
    e2, f2 = b2.compute(np.array(waterbox[2].value_in_unit(unit.nanometer)), np.full(3, 2.4))
    assert e1 == pytest.approx(e2, rel=1e-12)
    assert np.allclose(f1, f2, rtol=1e-10, atol=1e-8)
    copy.deepcopy(df)  # the PythonForce's function survives a System copy


@pytest.mark.parametrize("method", ["CutoffPeriodic", "PME", "CutoffNonPeriodic", "NoCutoff"])
def test_md_with_constraints_and_barostat(waterbox, method):
    """An OpenMM integrator, constraints and a barostat work unchanged; pair lists follow the atoms
    and the box, and after the run the forces still match a fresh Reference evaluation."""
    ff, top, pos = waterbox
    system = ff.createSystem(top, nonbondedMethod=getattr(app, method), nonbondedCutoff=1.0 * unit.nanometer,
                             constraints=app.HBonds)
    if method in ("CutoffPeriodic", "PME"):
        system.addForce(mm.MonteCarloBarostat(1 * unit.bar, 300 * unit.kelvin, 5))
    df = dataflow_system(system, threads=2)
    integ = mm.LangevinMiddleIntegrator(300 * unit.kelvin, 1 / unit.picosecond, 0.002 * unit.picoseconds)
    sim = app.Simulation(top, df, integ, mm.Platform.getPlatformByName("CPU"), {"Threads": "1"})
    sim.context.setPositions(pos)
    sim.context.setVelocitiesToTemperature(300 * unit.kelvin, 1)
    sim.step(60)
    st = sim.context.getState(getEnergy=True, getPositions=True)
    b = backend_of(df)
    assert np.isfinite(st.getPotentialEnergy()._value)
    assert b.steps >= 60 and b.rebuilds >= 1
    if method != "NoCutoff":
        assert b.rebuilds >= 2  # 60 steps at 300 K move atoms by more than the skin
    # after the run the backend still agrees with a fresh OpenMM evaluation of the same state
    box = st.getPeriodicBoxVectors()
    e_ref, f_ref = evaluate(system, st.getPositions(), box=box)
    e, f = evaluate(df, st.getPositions(), box=box)
    assert abs(e - e_ref) <= 1e-6 * abs(e_ref)
    assert force_errors(f, f_ref)[0] <= 1e-8


def test_graph_is_printable(waterbox):
    df = dataflow_system(_water_system(waterbox, app.PME), threads=2, tasks_per_thread=2)
    g = backend_of(df).graph()
    text = str(g)
    assert "nonbonded[0]" in text and "reduce" in text and "nlist" in text
    d = g.to_dict()
    nbk = [t for t in d["tasks"] if t["kind"] == "nonbonded"]
    assert len(nbk) == backend_of(df).n_nb_tasks == 2 and all(t["deps"][0].startswith("nlist") for t in nbk)
    reduce = next(t for t in d["tasks"] if t["kind"] == "reduce")
    assert set(reduce["deps"]) == {t["name"] for t in d["tasks"] if t["kind"] not in ("positions", "bin", "nlist", "reduce")}
    assert "DataflowBackend" in backend_of(df).describe()
