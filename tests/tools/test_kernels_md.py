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


@pytest.mark.parametrize("policy", ["lpt", "locality", "fifo", "serial"])
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
@pytest.mark.parametrize("cell_fraction", [0.25, 1.0])
def test_water_matches_reference(waterbox, method, cell_fraction):
    if method == "NoCutoff" and cell_fraction != 1.0:
        pytest.skip("cell size is irrelevant without a cutoff")
    system = _water_system(waterbox, getattr(app, method))
    pos = waterbox[2]
    eref, fref = evaluate(system, pos)
    df = dataflow_system(system, threads=2, cell_fraction=cell_fraction, tiles=3)
    e, f = evaluate(df, pos)
    med, p99, mx = force_errors(f, fref)
    assert abs(e - eref) <= 1e-9 * abs(eref), (e, eref)
    assert med <= 1e-12 and mx <= 1e-8, (med, p99, mx)
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
        grid = np.cos(g)[:, None] * 3 + np.sin(2 * g)[None, :] * 2 + rng.normal(scale=0.5, size=(size, size))
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
    system = ff.createSystem(
        top, nonbondedMethod=getattr(app, method), nonbondedCutoff=1.0 * unit.nanometer, constraints=app.HBonds
    )
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
    df = dataflow_system(_water_system(waterbox, app.PME), threads=2, tiles=4)
    b = backend_of(df)
    with pytest.raises(RuntimeError):
        b.graph()  # built with the first box
    evaluate(df, waterbox[2])
    g = b.graph()
    text = str(g)
    assert "nonbonded[0]" in text and "reduce[0]" in text and "gather[0]" in text
    d = g.to_dict()
    tasks = {t["name"]: t for t in d["tasks"]}
    nbk = [t for t in d["tasks"] if t["kind"] == "nonbonded"]
    assert len(nbk) == len(b.layout.tiles) == 4
    # a non-bonded task waits for the tiles it reads, not for a global binning step
    assert all(set(t["deps"]) and all(x.startswith("gather[") for x in t["deps"]) for t in nbk)
    for t in d["tasks"]:
        if t["kind"] == "reduce":
            assert {x for x in t["deps"] if x.startswith("nonbonded")} <= {x["name"] for x in nbk}
            assert not any(x.startswith("reduce") for x in t["deps"])
    assert not any(t["kind"] in ("bin", "nlist") for t in tasks.values())
    text = b.describe()
    assert "DataflowBackend" in text and "critical path" in text and "list rebuilds" in text


# --- round 2: correctness gaps, determinism, the step's trace, the model ----------------------------


def test_fast_erfc_matches_math_erfc():
    import math

    from kenkyu.kernels_md.kernels_nb import erfc_vec

    x = np.linspace(0.0, 4.0, 4001)
    out = np.empty_like(x)
    erfc_vec(x, out)
    ref = np.array([math.erfc(v) for v in x])
    rel = np.abs(out - ref) / ref
    assert np.median(rel) < 1e-14 and rel.max() < 1e-13, (np.median(rel), rel.max())


def test_pme_coincident_excluded_particles_finite():
    """Two excluded particles on the same spot (a virtual site on its parent): OpenMM uses the finite
    limit of the Ewald exclusion correction, -2 alpha/sqrt(pi) q_i q_j k; so must the backend."""
    s = mm.System()
    nb = mm.NonbondedForce()
    nb.setNonbondedMethod(mm.NonbondedForce.PME)
    nb.setCutoffDistance(0.9)
    s.setDefaultPeriodicBoxVectors(mm.Vec3(2.5, 0, 0), mm.Vec3(0, 2.5, 0), mm.Vec3(0, 0, 2.5))
    rng = np.random.default_rng(4)
    pos = rng.random((12, 3)) * 2.5
    for k in range(12):
        s.addParticle(1.0)
        nb.addParticle(0.4 * (-1) ** k, 0.3, 0.5)
    pos[1] = pos[0]  # coincident pair, excluded
    pos[3] = pos[2] + 0.1  # an ordinary excluded pair (excluded pairs sit within the cutoff)
    nb.addException(0, 1, 0.0, 1.0, 0.0)
    nb.addException(2, 3, 0.0, 1.0, 0.0)
    s.addForce(nb)
    eref, fref = evaluate(s, pos)
    e, f = evaluate(dataflow_system(s, threads=1), pos)
    assert np.isfinite(e) and np.all(np.isfinite(f))
    assert abs(e - eref) <= 1e-9 * abs(eref), (e, eref)
    assert force_errors(f, fref)[0] <= 1e-10


def _triclinic(waterbox):
    system = _water_system(waterbox, app.PME)
    a, b, c = (mm.Vec3(2.4, 0, 0), mm.Vec3(0.3, 2.4, 0), mm.Vec3(-0.2, 0.4, 2.4))
    return system, (a, b, c)


def test_triclinic_box_left_to_openmm_with_a_warning(waterbox):
    system, vecs = _triclinic(waterbox)
    system.setDefaultPeriodicBoxVectors(*vecs)
    with pytest.raises(UnsupportedForceError, match="triclinic"):
        dataflow_system(system, unsupported="error")
    with pytest.warns(UserWarning, match="triclinic"):
        df = dataflow_system(system)
    eref, fref = evaluate(system, waterbox[2], box=vecs)
    e, f = evaluate(df, waterbox[2], box=vecs)
    assert abs(e - eref) <= 1e-9 * abs(eref)
    assert force_errors(f, fref)[0] <= 1e-12


def test_box_turning_triclinic_falls_back_to_openmm(waterbox):
    """A context whose box becomes triclinic after creation: the backend warns and its terms are
    computed by OpenMM's CPU implementation of the same forces (checked against Reference)."""
    system, vecs = _triclinic(waterbox)
    df = dataflow_system(system, threads=1)
    eref, fref = evaluate(system, waterbox[2], box=vecs)
    with pytest.warns(UserWarning, match="triclinic"):
        e, f = evaluate(df, waterbox[2], box=vecs)
    assert abs(e - eref) <= 1e-5 * abs(eref)
    assert force_errors(f, fref)[0] <= 1e-5  # CPU platform (single precision) vs Reference


def _context(system, platform="Reference"):
    return mm.Context(system, mm.VerletIntegrator(0.001), mm.Platform.getPlatformByName(platform))


def _state(ctx, groups=-1):
    st = ctx.getState(getEnergy=True, getForces=True, groups=groups)
    return st.getPotentialEnergy()._value, np.asarray(st.getForces(asNumpy=True)._value)


@pytest.mark.parametrize("method", ["CutoffPeriodic", "PME"])
def test_update_parameters_in_context_reaches_backend(waterbox, method):
    system = _water_system(waterbox, getattr(app, method))
    df = dataflow_system(system, threads=1)
    ref_ctx, df_ctx = _context(system), _context(df)
    for c in (ref_ctx, df_ctx):
        c.setPositions(waterbox[2])
    # scale the charges of the first 30 atoms, in both the original and (PME) the dataflow system's force
    forces = [next(f for f in system.getForces() if isinstance(f, mm.NonbondedForce))]
    forces += [f for f in df.getForces() if isinstance(f, mm.NonbondedForce)]
    for f in forces:
        for i in range(30):
            q, sig, eps = f.getParticleParameters(i)
            f.setParticleParameters(i, 0.5 * q, sig, eps)
        for k in range(f.getNumExceptions()):
            i, j, qq, sig, eps = f.getExceptionParameters(k)
            if i < 30 or j < 30:
                f.setExceptionParameters(k, i, j, qq * (0.5 if (i < 30) != (j < 30) else 0.25), sig, eps)
    forces[0].updateParametersInContext(ref_ctx)
    forces[-1].updateParametersInContext(df_ctx)  # RF: the original's force, whose copy the backend took
    eref, fref = _state(ref_ctx)
    e, f = _state(df_ctx)
    assert abs(e - eref) <= 1e-9 * abs(eref), (e, eref)
    assert force_errors(f, fref)[0] <= 1e-10


def test_go_model_global_parameters_reach_backend():
    from kenkyu.kernels_md import build_go_model
    from kenkyu.tools.md import example_structure

    model = build_go_model(app.PDBFile(str(example_structure("dhfr"))))
    df = dataflow_system(model.system, threads=1)
    ref_ctx, df_ctx = _context(model.system), _context(df)
    rng = np.random.default_rng(2)
    pos = model.positions + rng.normal(scale=0.05, size=model.positions.shape)
    for c in (ref_ctx, df_ctx):
        c.setPositions(pos)
    e0 = _state(df_ctx)[0]
    for c in (ref_ctx, df_ctx):
        c.setParameter("kappa", 0.5)
        c.setParameter("kdh", 3.0)
    eref, fref = _state(ref_ctx)
    e, f = _state(df_ctx)
    assert abs(e - e0) > 1e-3  # the change was seen
    assert abs(e - eref) <= 1e-9 * abs(eref), (e, eref)
    assert force_errors(f, fref)[0] <= 1e-10


def test_force_groups_preserved(waterbox):
    """Bonded terms in group 1, non-bonded in group 2: per-group energies and forces equal OpenMM's,
    and a multiple-time-step integrator runs the same trajectory as with OpenMM's own forces."""
    ff, top, pos = waterbox
    system = ff.createSystem(top, nonbondedMethod=app.PME, nonbondedCutoff=1.0 * unit.nanometer, rigidWater=False)
    for f in system.getForces():
        f.setForceGroup(2 if isinstance(f, mm.NonbondedForce) else 1)
    df = dataflow_system(system, threads=1)
    from kenkyu.kernels_md import backends_of

    assert sorted(b.group for b in backends_of(df)) == [1, 2]
    ref_ctx, df_ctx = _context(system), _context(df)
    for c in (ref_ctx, df_ctx):
        c.setPositions(pos)
    for groups in ({1}, {2}):
        eref, fref = _state(ref_ctx, groups)
        e, f = _state(df_ctx, groups)
        assert abs(e - eref) <= 1e-9 * max(1.0, abs(eref)), (groups, e, eref)
        assert force_errors(f, fref)[0] <= 1e-10
    # MTS: bonded group 1 at 4 substeps; same initial conditions, same trajectory
    trajs = []
    for sys_ in (system, df):
        integ = mm.MTSIntegrator(0.002, [(2, 1), (1, 4)])
        ctx = mm.Context(sys_, integ, mm.Platform.getPlatformByName("Reference"))
        ctx.setPositions(pos)
        ctx.setVelocitiesToTemperature(300, 3)
        integ.step(4)
        trajs.append(np.asarray(ctx.getState(getPositions=True).getPositions(asNumpy=True)._value))
    assert np.abs(trajs[0] - trajs[1]).max() < 1e-8


@pytest.mark.parametrize("method", ["CutoffPeriodic", "PME"])
def test_bitwise_identical_at_any_thread_count(waterbox, method):
    system = _water_system(waterbox, getattr(app, method))
    x = np.array(waterbox[2].value_in_unit(unit.nanometer))
    x2 = x + np.random.default_rng(0).normal(scale=2e-3, size=x.shape)  # moved, lists reused
    out = []
    for threads, policy in ((1, "lpt"), (2, "lpt"), (3, "fifo"), (1, "locality"), (2, "locality"), (3, "locality")):
        b = backend_of(dataflow_system(system, threads=threads, policy=policy, tiles=6))
        b.compute(x, np.full(3, 2.4))
        e, f = b.compute(x2, np.full(3, 2.4))
        assert not b.last.rebuilt
        out.append((e, f.copy()))
        b.scheduler.shutdown()
    for e, f in out[1:]:
        assert e == out[0][0]
        assert np.array_equal(f, out[0][1])


@pytest.mark.parametrize("precision", ["double", "mixed"])
def test_kept_list_misses_no_pair_while_atoms_move_within_the_buffer(waterbox, precision):
    # every atom moves just under half the Verlet buffer: the two largest moves add up to less than
    # the buffer, so the list built at x0 is kept, and it must still hold every pair now inside the
    # cutoff (the runs trimmed at build time to r_list included)
    system = _water_system(waterbox, app.CutoffPeriodic)
    x0 = np.array(waterbox[2].value_in_unit(unit.nanometer))
    d = np.random.default_rng(3).normal(size=x0.shape)
    df = dataflow_system(system, threads=1, tiles=3, precision=precision)
    b = backend_of(df)
    x1 = x0 + d * (0.49 * b.skin / np.linalg.norm(d, axis=1))[:, None]
    ctx = mm.Context(df, mm.VerletIntegrator(0.001), mm.Platform.getPlatformByName("Reference"))
    ctx.setPositions(x0)
    ctx.getState(getForces=True)
    built = b.rebuilds
    ctx.setPositions(x1)
    f = np.array(ctx.getState(getForces=True).getForces(asNumpy=True)._value)
    assert b.rebuilds == built, "the list should have been kept"
    eref, fref = evaluate(system, x1)
    med, _, mx = force_errors(f, fref)
    assert med <= (1e-12 if precision == "double" else 1e-5) and mx <= (1e-8 if precision == "double" else 1e-2)


def test_mixed_precision_bar(waterbox):
    system = _water_system(waterbox, app.PME)
    eref, fref = evaluate(system, waterbox[2])
    e, f = evaluate(dataflow_system(system, threads=1, precision="mixed"), waterbox[2])
    assert force_errors(f, fref)[0] <= 1e-5
    assert abs(e - eref) <= 1e-5 * abs(eref)


def test_timeline_trace_and_model(waterbox):
    import matplotlib

    matplotlib.use("Agg")
    from kenkyu.kernels_md import model as pm

    system = _water_system(waterbox, app.CutoffPeriodic)
    b = backend_of(dataflow_system(system, threads=2, tiles=4))
    x = np.array(waterbox[2].value_in_unit(unit.nanometer))
    samples = pm.collect(b, lambda: b.compute(x, np.full(3, 2.4)), steps=4)
    assert samples[0][2] and not samples[1][2]  # first step builds the lists, the next ones reuse them
    trace = b.scheduler.trace
    assert len(trace) == len(b.graph().tasks) and {w for _, w, _, _ in trace} <= {0, 1}
    fig = b.timeline()
    assert fig.axes and fig.axes[0].get_title().startswith("one step")
    m = pm.fit_costs(samples)
    assert m.coef["nonbonded"][1]["candidates"] >= 0
    t1 = pm.predict_step(b, m, 1)
    t2 = pm.predict_step(b, m, 2)
    assert 0 < t2 < t1
    # fitted on CPU time (what a shared machine can still measure): the same kind of prediction
    mc = pm.fit_costs(pm.collect(b, lambda: b.compute(x, np.full(3, 2.4)), steps=3, clock="cpu"), clock="cpu")
    assert 0 < pm.predict_step(b, mc, 2) < pm.predict_step(b, mc, 1)
    with pytest.raises(ValueError, match="clock"):
        pm.fit_costs(samples, clock="gpu")
    # list scheduling on a toy graph: a chain is not sped up, independent tasks are
    chain = [pm.SimTask("a", "x", (), 1.0), pm.SimTask("b", "x", ("a",), 1.0)]
    assert pm.simulate(chain, 4)[0] == 2.0
    fan = [pm.SimTask(f"t{k}", "x", (), 1.0) for k in range(4)]
    assert pm.simulate(fan, 2)[0] == 2.0 and pm.simulate(fan, 4)[0] == 1.0
    # two nodes joined by a slow link pay the latency on cross-node edges
    two = [pm.SimTask("a", "x", (), 1.0, 0, 8.0), pm.SimTask("b", "x", ("a",), 1.0, 1)]
    assert pm.simulate(two, 1, nodes=2, latency=0.5, bandwidth=16.0)[0] == pytest.approx(3.0)
    machine = pm.DataflowMachine(nodes=4, pipelines=8, speed=2.0)
    for system_kind in ("all-atom", "coarse-grained"):
        assert pm.predict_machine(50_000, m, machine, system_kind) > 0
    b.scheduler.shutdown()


# --- round 3: the serial part of a step, priorities by remaining path, CPU-time trace -----------------


def test_spans_merge_adjacent_columns_and_skip_empty_ones():
    from kenkyu.kernels_md.cells import spans_of

    col_start = np.array([0, 3, 3, 7, 9, 12, 12, 15])  # columns 1 and 5 are empty
    assert spans_of(np.array([0, 1, 2, 3]), col_start).tolist() == [[0, 9]]
    assert spans_of(np.array([0, 2, 5, 6]), col_start).tolist() == [[0, 7], [12, 15]]
    assert spans_of(np.array([1, 5]), col_start).shape == (0, 2)
    # the one-call form the backend uses on a rebuild step gives the same spans, group by group
    from kenkyu.kernels_md.kernels_nb import spans_csr

    groups = [np.array([0, 1, 2, 3]), np.array([0, 2, 5, 6]), np.array([1, 5]), np.array([4, 6])]
    flat, ptr = spans_csr(np.concatenate(groups), np.array([0, 4, 8, 10, 12]), col_start)
    for k, g in enumerate(groups):
        assert flat[ptr[k] : ptr[k + 1]].tolist() == spans_of(g, col_start).tolist()


def test_column_sort_from_the_last_order_equals_a_full_sort():
    from kenkyu.kernels_md.kernels_nb import column_sort

    rng = np.random.default_rng(5)
    x0 = rng.uniform(0, 3.0, size=(2000, 3))
    x1 = x0 + rng.normal(scale=0.03, size=x0.shape)  # moved a little, as between two list builds
    args = (np.zeros(3), 0.75, 0.75, 4, 4)
    out = []
    for prev in (None, "last"):
        order, cs, col = np.empty(2000, np.int32), np.empty(17, np.int64), np.empty(2000, np.int32)
        column_sort(x0, *args, order, cs, col)
        if prev:
            o1 = np.empty(2000, np.int32)
            column_sort(x1, *args, o1, cs, col, order)
        else:
            o1 = np.empty(2000, np.int32)
            column_sort(x1, *args, o1, cs, col)
        out.append(o1)
    assert np.array_equal(out[0], out[1])
    z = x1[out[0], 2]
    for c in range(16):
        assert np.all(np.diff(z[cs[c] : cs[c + 1]]) >= 0)


def test_priority_by_remaining_path_runs_what_unlocks_the_long_chain_first():
    # a cheap "gather" that a long task waits for must start before an independent task that costs
    # more than the gather but less than the chain behind it
    order = []

    def rec(name):
        return lambda wid: order.append(name)

    g = TaskGraph(
        [
            Task("pos", "positions", (), 0.0, rec("pos")),
            Task("bond", "bonds", ("pos",), 5.0, rec("bond")),
            Task("gather", "gather", ("pos",), 1.0, rec("gather")),
            Task("nb", "nonbonded", ("gather",), 100.0, rec("nb")),
        ]
    )
    assert g.levels() == [101.0, 5.0, 101.0, 100.0]
    DataflowScheduler(1, "lpt").run(g)
    assert order == ["pos", "gather", "nb", "bond"]


def test_rebuild_keeps_the_periodic_grid_and_traces_cpu_time(waterbox):
    system = _water_system(waterbox, app.CutoffPeriodic)
    x = np.array(waterbox[2].value_in_unit(unit.nanometer))
    b = backend_of(dataflow_system(system, threads=2, tiles=4))
    e0, f0 = b.compute(x, np.full(3, 2.4))
    f0 = f0.copy()
    lay = b.layout
    b._rebuild = True  # as after updateParametersInContext: same box, so the same grid
    e1, f1 = b.compute(x, np.full(3, 2.4))
    assert b.last.rebuilt and b.layout is lay
    assert e1 == e0 and np.array_equal(f1, f0)
    b.compute(x, np.full(3, 2.5))  # a new box (a barostat step): a new grid
    assert b.layout is not lay
    assert len(b.scheduler.cpu) == len(b.scheduler.trace) == len(b.graph().tasks)
    assert all(c >= 0 for c in b.scheduler.cpu) and sum(b.scheduler.cpu) > 0
    feats = b.task_features()
    assert all("cpu_seconds" in f for f in feats.values())
    b.scheduler.shutdown()


def test_list_builds_are_counted_and_timed_only_on_rebuild_steps(waterbox):
    """The benchmark's "CPU ms per list build" comes from these counters: a step that keeps the
    lists adds no build, a rebuild adds one with the CPU time of every tile's search."""
    system = _water_system(waterbox, app.CutoffPeriodic)
    x = np.array(waterbox[2].value_in_unit(unit.nanometer))
    box = np.full(3, 2.4)
    b = backend_of(dataflow_system(system, threads=2, tiles=4))
    assert np.isnan(b.list_build_ms())
    b.compute(x, box)
    assert b.last.rebuilt and b.list_builds == 1 and b.list_build_cpu > 0
    first = b.list_build_cpu
    for _ in range(3):  # the same positions: the lists are kept
        b.compute(x, box)
        assert not b.last.rebuilt
    assert b.list_builds == 1 and b.list_build_cpu == first
    assert b.t_total > b.t_step > 0  # four evaluations summed
    b._rebuild = True
    b.compute(x, box)
    assert b.list_builds == 2 and b.list_build_cpu > first
    assert b.list_build_ms() == pytest.approx(1e3 * b.list_build_cpu / 2)
    assert "ms CPU per build" in b.describe()
    b.scheduler.shutdown()


# --- round 4: the positions stage beside the bond engine ---------------------------------------------


def test_positions_stage_runs_beside_the_bond_engine_unless_the_grid_may_change(waterbox):
    system = _water_system(waterbox, app.CutoffPeriodic)
    x = np.array(waterbox[2].value_in_unit(unit.nanometer))
    ref = backend_of(dataflow_system(system, threads=1, tiles=4))
    b = backend_of(dataflow_system(system, threads=2, tiles=4))
    box = np.full(3, 2.4)
    ref.compute(x, box)  # the same history: lists built at x
    b.compute(x, box)
    assert not b._stage_in_graph  # first evaluation: the grid (and the graph) is made by the stage
    g = b.graph()
    bonded = [t for t in g.tasks if t.kind in ("bonds", "angles", "torsions", "exceptions")]
    assert bonded and all(t.deps == () for t in bonded)  # they read the coordinates, not the stage
    assert all(t.deps == ("positions",) for t in g.tasks if t.kind == "gather")
    for k in range(3):  # atoms moved within the buffer, then far enough to rebuild the lists
        y = x + (0.02 if k < 2 else 0.2) * np.sin(np.arange(x.size).reshape(x.shape))
        e, f = b.compute(y, box)
        e1, f1 = ref.compute(y, box)
        assert b._stage_in_graph and b.last.rebuilt == (k == 2)
        assert e == e1 and np.array_equal(f, f1)  # bitwise the same as one thread, stage in the graph or not
        trace = {g.tasks[t].name: (w, a, z) for t, w, a, z in b.scheduler.trace}
        assert "positions" in trace and b.t_step >= b.scheduler.t_run
        # the stage's measured time is the task's, and the step's wall time does not count it twice
        assert b._t_positions <= trace["positions"][2] - trace["positions"][1] + 1e-6
    b.compute(x, np.full(3, 2.5))  # a new box: the stage may change the grid, so it runs first
    assert not b._stage_in_graph and b.last.rebuilt
    assert "critical path" in b.describe()
    b.scheduler.shutdown()


# --- round 9: tasks placed along a space-filling curve, each worker its own stretch ------------------


def test_locality_policy_runs_a_kind_in_curve_order_and_steals_the_far_end():
    from kenkyu.kernels_md.scheduler import _Compiled, _Placed

    order = []
    tasks = [Task("src", "s", (), 5.0, lambda w: order.append("src"))]
    for k, place in enumerate([0.9, 0.1, 0.6, 0.3]):  # listed out of curve order
        tasks.append(Task(f"nb{k}", "nb", ("src",), 1.0 + k, lambda w, k=k: order.append(f"nb{k}"), place=place))
    tasks.append(Task("bond", "bonds", (), 0.1, lambda w: order.append("bond")))
    g = TaskGraph(tasks)
    sched = DataflowScheduler(1, "locality")
    sched.run(g)
    # one worker: the root that unlocks the heavy kind first, that kind along the curve, the filler last
    assert order == ["src", "nb1", "nb3", "nb2", "nb0", "bond"]
    # two workers: places below 0.5 belong to worker 0, the rest to worker 1
    cg = _Compiled(g, "locality", 2)
    assert [cg.home[k] for k in range(1, 5)] == [1, 0, 1, 0]
    ready = _Placed(cg, 2)  # holds the roots
    assert ready.pop(1) == 0  # the source first, whoever asks
    for k in range(1, 5):
        ready.push(k)
    assert ready.pop(0) == 2  # worker 0 takes its own nearest (place 0.1)
    assert ready.pop(0) == 4  # then its next (0.3)
    assert ready.pop(0) == 1  # nothing of its own left: worker 1's far end (0.9), not its next (0.6)
    assert ready.pop(1) == 3 and len(ready) == 1  # worker 1 still runs its own next
    assert ready.pop(1) == 5  # the bond task, shared


def test_tiles_are_placed_along_a_serpentine_curve_balanced_by_cost(waterbox):
    system = _water_system(waterbox, app.CutoffPeriodic)
    x = np.array(waterbox[2].value_in_unit(unit.nanometer))
    b = backend_of(dataflow_system(system, threads=2, tiles=9))
    b.compute(x, np.full(3, 2.4))
    g = b.graph()
    lay = b.layout
    nb = sorted((t for t in g.tasks if t.kind == "nonbonded"), key=lambda t: t.place)
    assert len(nb) == len(lay.tiles) and all(0.0 <= t.place < 1.0 for t in nb)
    for t in nb:  # a tile's gather and reduce live where its non-bonded task does
        k = t.name[len("nonbonded") :]
        assert g.by_name["gather" + k].place == g.by_name["reduce" + k].place == t.place
    # consecutive tiles on the curve are neighbours in the tile grid
    first = [int(lay.tiles[int(t.name[10:-1])][0]) for t in nb]
    xs = sorted({c // lay.ncy for c in first})
    ys = sorted({c % lay.ncy for c in first})
    cell = [(xs.index(c // lay.ncy), ys.index(c % lay.ncy)) for c in first]
    assert all(abs(a[0] - c[0]) + abs(a[1] - c[1]) == 1 for a, c in zip(cell, cell[1:]))
    # the stretches follow measured costs: a tile measured three times as costly takes a larger share
    heavy = nb[0]
    heavy.cost = 3.0 * sum(t.cost for t in nb[1:]) / (len(nb) - 1)
    b._place_tiles(g)
    share = 1.0 / (len(nb) + 2)  # the heavy tile counts as three
    assert heavy.place == pytest.approx(1.5 * share) and nb[1].place == pytest.approx(3.5 * share)
    b.scheduler.shutdown()
