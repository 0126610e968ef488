"""OpenMM integration: ``dataflow_system(system, **options)`` returns a copy of ``system`` in which
one ``openmm.PythonForce`` driven by a :class:`~kenkyu.kernels_md.backend.DataflowBackend` replaces
the forces the backend takes:

* ``NonbondedForce``: NoCutoff, CutoffNonPeriodic and CutoffPeriodic (reaction field, OpenMM's
  k_rf / c_rf and dielectric), and the *direct space* of PME / Ewald: the NonbondedForce stays in
  the system with ``setIncludeDirectSpace(False)`` so OpenMM keeps reciprocal space, and the
  backend computes the real-space pairs, the exceptions, the exclusion corrections and the
  long-range dispersion correction;
* ``HarmonicBondForce``, ``HarmonicAngleForce``, ``PeriodicTorsionForce``, ``RBTorsionForce``,
  ``CMAPTorsionForce``;
* the coarse-grained model's forces built by :mod:`kenkyu.kernels_md.cg` (recognised by name
  *and* energy expression).

Everything else (constraints, barostats, CMMotionRemover, other custom forces)
stays with OpenMM.  A force of a taken type that uses a feature the backend lacks (LJPME,
parameter offsets, per-particle global parameters, triclinic boxes) is left to OpenMM with a
warning, or raises ``UnsupportedForceError`` naming it when ``unsupported="error"``.
"""

from __future__ import annotations

import copy
import math
import warnings

import numpy as np

from .backend import BondedTerms, DataflowBackend, NonbondedParams, _exclusion_csr

ONE_4PI_EPS0 = 138.93545764438198


class UnsupportedForceError(ValueError):
    """A force the dataflow backend cannot take."""


def _nb_dispersion_coefficient(sig, eps, cutoff):
    """OpenMM's long-range dispersion correction coefficient (energy = coeff / volume), for
    plain (unswitched) Lennard-Jones: 8 pi N^2 (<eps sig^12>/(9 rc^9) - <eps sig^6>/(3 rc^3)) with
    the averages over particle-class pairs as NonbondedForceImpl defines them."""
    keys = np.stack([sig, eps], axis=1)
    classes, counts = np.unique(keys, axis=0, return_counts=True)
    cs, ce = classes[:, 0], classes[:, 1]
    cnt = counts.astype(np.float64)
    s = 0.5 * (cs[:, None] + cs[None, :])
    e = np.sqrt(ce[:, None] * ce[None, :])
    w = cnt[:, None] * cnt[None, :]
    w = np.triu(w, 1) + np.diag(cnt * (cnt + 1) / 2)
    s6 = s**6
    sum1 = float(np.sum(w * e * s6 * s6))
    sum2 = float(np.sum(w * e * s6))
    n = float(len(sig))
    ninter = n * (n + 1) / 2
    return 8 * n * n * math.pi * (sum1 / ninter / (9 * cutoff**9) - sum2 / ninter / (3 * cutoff**3))


def _nonbonded_params(force, n, periodic_box):
    import openmm as mm

    method = force.getNonbondedMethod()
    names = {
        mm.NonbondedForce.NoCutoff: "NoCutoff",
        mm.NonbondedForce.CutoffNonPeriodic: "CutoffNonPeriodic",
        mm.NonbondedForce.CutoffPeriodic: "CutoffPeriodic",
        mm.NonbondedForce.Ewald: "Ewald",
        mm.NonbondedForce.PME: "PME",
        mm.NonbondedForce.LJPME: "LJPME",
    }
    if method == mm.NonbondedForce.LJPME:
        raise UnsupportedForceError("NonbondedForce with LJPME is not supported by the dataflow backend")
    if force.getNumParticleParameterOffsets() or force.getNumExceptionParameterOffsets():
        raise UnsupportedForceError("NonbondedForce with parameter offsets is not supported by the dataflow backend")
    from .kernels_nb import MODE_EWALD, MODE_NOCUTOFF, MODE_RF

    q = np.zeros(n)
    sig = np.zeros(n)
    eps = np.zeros(n)
    for i in range(n):
        qi, si, ei = force.getParticleParameters(i)
        q[i], sig[i], eps[i] = qi._value, si._value, ei._value
    ex_idx = np.zeros((force.getNumExceptions(), 2), np.int32)
    ex_prm = np.zeros((force.getNumExceptions(), 4))
    for k in range(force.getNumExceptions()):
        i, j, qq, s, e = force.getExceptionParameters(k)
        ex_idx[k] = (i, j)
        ex_prm[k, :3] = (qq._value * ONE_4PI_EPS0, s._value, e._value)
    periodic = method in (mm.NonbondedForce.CutoffPeriodic, mm.NonbondedForce.Ewald, mm.NonbondedForce.PME)
    cutoff = None if method == mm.NonbondedForce.NoCutoff else force.getCutoffDistance()._value
    alpha = 0.0
    krf = crf = 0.0
    if method == mm.NonbondedForce.NoCutoff:
        mode = MODE_NOCUTOFF
    elif method in (mm.NonbondedForce.CutoffNonPeriodic, mm.NonbondedForce.CutoffPeriodic):
        mode = MODE_RF
        d = force.getReactionFieldDielectric()
        krf = (d - 1.0) / (2.0 * d + 1.0) / cutoff**3
        crf = 3.0 * d / (2.0 * d + 1.0) / cutoff
    else:
        mode = MODE_EWALD
        if method == mm.NonbondedForce.PME:
            alpha = force.getPMEParameters()[0]
        else:
            alpha = force.getEwaldParameters()[0] if hasattr(force, "getEwaldParameters") else 0.0
        alpha = alpha._value if hasattr(alpha, "_value") else float(alpha)
        if alpha == 0.0:
            alpha = math.sqrt(-math.log(2.0 * force.getEwaldErrorTolerance())) / cutoff
        # the correction removes, for every excluded pair, what reciprocal space added for it
        ex_prm[:, 3] = q[ex_idx[:, 0]] * q[ex_idx[:, 1]] * ONE_4PI_EPS0
    keep = np.any(ex_prm != 0.0, axis=1)
    use_switch = bool(force.getUseSwitchingFunction()) and cutoff is not None
    rs = force.getSwitchingDistance()._value if use_switch else 0.0
    disp = 0.0
    if periodic and force.getUseDispersionCorrection():
        if use_switch:
            raise UnsupportedForceError(
                "NonbondedForce with a switching function and the dispersion correction is not supported "
                "by the dataflow backend"
            )
        disp = _nb_dispersion_coefficient(sig, eps, cutoff)
    excl_ptr, excl_idx = _exclusion_csr(n, ex_idx)
    params = NonbondedParams(
        mode=mode,
        qs=q * math.sqrt(ONE_4PI_EPS0),
        sh=0.5 * sig,
        se=np.sqrt(eps),
        excl_ptr=excl_ptr,
        excl_idx=excl_idx,
        cutoff=cutoff,
        periodic=periodic,
        krf=krf,
        crf=crf,
        alpha=alpha,
        use_switch=use_switch,
        switch_distance=rs,
        dispersion_coeff=disp,
    )
    ex_periodic = periodic and (
        mode == MODE_EWALD or force.getExceptionsUsePeriodicBoundaryConditions()
    )
    exc = BondedTerms("exceptions", ex_idx[keep], ex_prm[keep], ex_periodic, alpha, "NonbondedForce")
    return params, exc, names[method]


def _bonded_terms(force):
    import openmm as mm

    pbc = force.usesPeriodicBoundaryConditions()
    name = type(force).__name__
    if isinstance(force, mm.HarmonicBondForce):
        m = force.getNumBonds()
        idx = np.zeros((m, 2), np.int32)
        prm = np.zeros((m, 2))
        for k in range(m):
            i, j, r0, kk = force.getBondParameters(k)
            idx[k] = (i, j)
            prm[k] = (r0._value, kk._value)
        return BondedTerms("bonds", idx, prm, pbc, source=name)
    if isinstance(force, mm.HarmonicAngleForce):
        m = force.getNumAngles()
        idx = np.zeros((m, 3), np.int32)
        prm = np.zeros((m, 2))
        for k in range(m):
            i, j, l, t0, kk = force.getAngleParameters(k)
            idx[k] = (i, j, l)
            prm[k] = (t0._value, kk._value)
        return BondedTerms("angles", idx, prm, pbc, source=name)
    if isinstance(force, mm.PeriodicTorsionForce):
        m = force.getNumTorsions()
        idx = np.zeros((m, 4), np.int32)
        prm = np.zeros((m, 3))
        for k in range(m):
            a, b, c, d, per, ph, kk = force.getTorsionParameters(k)
            idx[k] = (a, b, c, d)
            prm[k] = (kk._value, per, ph._value)
        return BondedTerms("torsions", idx, prm, pbc, source=name)
    if isinstance(force, mm.RBTorsionForce):
        m = force.getNumTorsions()
        idx = np.zeros((m, 4), np.int32)
        prm = np.zeros((m, 6))
        for k in range(m):
            a, b, c, d, *cs = force.getTorsionParameters(k)
            idx[k] = (a, b, c, d)
            prm[k] = [x._value for x in cs]
        return BondedTerms("rb_torsions", idx, prm, pbc, source=name)
    if isinstance(force, mm.CMAPTorsionForce):
        from .cmap import cmap_terms

        idx, prm, coeff, moff, msize = cmap_terms(force)
        return BondedTerms("cmap", idx, prm, pbc, source=name, extra=(coeff, moff, msize))
    return None


def dataflow_system(
    system,
    *,
    threads: int | None = None,
    policy: str = "lpt",
    cell_fraction: float = 0.5,
    skin: float = 0.15,
    tasks_per_thread: int = 6,
    bonded_chunk: int = 4096,
    block_size: int = 256,
    precision: str = "double",
    unsupported: str = "openmm",
    profile: bool = True,
):
    """Return a copy of ``system`` whose supported forces are computed by the dataflow backend.

    Options: ``threads`` (worker threads; default all cores), ``policy`` (``"lpt"``, ``"fifo"``,
    ``"serial"``), ``cell_fraction`` (cell edge as a fraction of cutoff + skin; 1/2 gives the
    finer 5x5x5 shell), ``skin`` (Verlet buffer, nm), ``tasks_per_thread`` (non-bonded task
    granularity; small systems get fewer tasks: at least one per thread, about one per 1000 atoms), ``bonded_chunk`` (terms per bond-engine task), ``block_size`` (atoms per block
    without cutoff), ``precision`` (``"double"``, or ``"mixed"``: float32 pair math with float64
    displacements and accumulation), ``unsupported`` (``"openmm"``: leave an unsupported force to
    OpenMM with a warning; ``"error"``: raise :class:`UnsupportedForceError`).

    The backend object is reachable as ``kenkyu.kernels_md.backend_of(new_system)``.
    """
    import openmm as mm

    from .cg import CG_CONTACT_NAME, CG_NONBONDED_NAME, cg_terms_from_forces

    if unsupported not in ("openmm", "error"):
        raise ValueError("unsupported must be 'openmm' or 'error'")
    new = copy.deepcopy(system)
    n = new.getNumParticles()
    box = np.array([[v[i] for i in range(3)] for v in new.getDefaultPeriodicBoxVectors()])
    nonbonded = None
    bonded: list[BondedTerms] = []
    remove = []
    groups = set()
    periodic = False

    def refuse(force, why):
        index = next(i for i, g in enumerate(new.getForces()) if g.this == force.this)
        msg = f"{type(force).__name__} {force.getName()!r} (force index {index}): {why}"
        if unsupported == "error":
            raise UnsupportedForceError(msg)
        warnings.warn(f"kenkyu.kernels_md: leaving {msg} to OpenMM", stacklevel=3)

    cg_forces = {}
    for k, f in enumerate(new.getForces()):
        if isinstance(f, mm.NonbondedForce):
            if nonbonded is not None:
                refuse(f, "a second NonbondedForce")
                continue
            try:
                nonbonded, exc, method = _nonbonded_params(f, n, box)
            except UnsupportedForceError as err:
                refuse(f, str(err))
                continue
            if len(exc.idx):
                bonded.append(exc)
            groups.add(f.getForceGroup())
            periodic |= nonbonded.periodic
            if method in ("PME", "Ewald"):
                f.setIncludeDirectSpace(False)
                if f.getReciprocalSpaceForceGroup() < 0:
                    f.setReciprocalSpaceForceGroup(f.getForceGroup())
            else:
                remove.append(k)
        elif isinstance(
            f,
            (mm.HarmonicBondForce, mm.HarmonicAngleForce, mm.PeriodicTorsionForce, mm.RBTorsionForce, mm.CMAPTorsionForce),
        ):
            terms = _bonded_terms(f)
            bonded.append(terms)
            periodic |= terms.periodic
            groups.add(f.getForceGroup())
            remove.append(k)
        elif f.getName() in (CG_NONBONDED_NAME, CG_CONTACT_NAME):
            cg_forces[k] = f
    if cg_forces:
        cg_nb, cg_bonded, taken = cg_terms_from_forces(cg_forces, n, refuse)
        if cg_nb is not None:
            if nonbonded is not None:
                raise UnsupportedForceError("a NonbondedForce and a coarse-grained nonbonded force in one system")
            nonbonded = cg_nb
            periodic |= cg_nb.periodic
        bonded.extend(cg_bonded)
        for k in taken:
            groups.add(new.getForce(k).getForceGroup())
        remove.extend(taken)
    if nonbonded is None and not bonded:
        raise UnsupportedForceError("the system has no force the dataflow backend can take")
    if len(groups) > 1:
        warnings.warn(
            f"kenkyu.kernels_md: taken forces were in force groups {sorted(groups)}; the backend's single "
            f"PythonForce uses group {min(groups)}",
            stacklevel=2,
        )
    for k in sorted(set(remove), reverse=True):
        new.removeForce(k)
    backend = DataflowBackend(
        n,
        nonbonded,
        bonded,
        threads=threads,
        policy=policy,
        cell_fraction=cell_fraction,
        skin=skin,
        tasks_per_thread=tasks_per_thread,
        bonded_chunk=bonded_chunk,
        block_size=block_size,
        precision=precision,
        profile=profile,
    )
    pf = mm.PythonForce(backend)
    pf.setName("kenkyu.kernels_md.dataflow")
    pf.setUsesPeriodicBoundaryConditions(bool(periodic))
    pf.setForceGroup(min(groups) if groups else 0)
    new.addForce(pf)
    new._kenkyu_dataflow_backend = backend
    return new


def backend_of(system) -> DataflowBackend:
    """The DataflowBackend inside a system returned by :func:`dataflow_system`."""
    b = getattr(system, "_kenkyu_dataflow_backend", None)
    if b is None:
        raise KeyError("system was not made by dataflow_system (or was copied since)")
    return b
