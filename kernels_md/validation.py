"""Compare the dataflow backend with an OpenMM platform (Reference by default) on one structure."""

from __future__ import annotations

import numpy as np


def evaluate(system, positions, platform: str = "Reference", box=None, threads: int | None = None):
    """(energy kJ/mol, forces (n, 3) kJ/mol/nm) of ``system`` at ``positions`` (nm) on ``platform``."""
    import openmm as mm

    props = {}
    if platform == "CPU" and threads:
        props["Threads"] = str(threads)
    ctx = mm.Context(system, mm.VerletIntegrator(0.001), mm.Platform.getPlatformByName(platform), props)
    if box is not None:
        ctx.setPeriodicBoxVectors(*box)
    ctx.setPositions(positions)
    st = ctx.getState(getEnergy=True, getForces=True)
    e = st.getPotentialEnergy()._value
    f = np.array(st.getForces(asNumpy=True)._value)
    del ctx
    return e, f


def force_errors(f, fref):
    """Per-atom relative error 2|F - Fref| / (|F| + |Fref|): (median, 99th percentile, max)."""
    num = 2.0 * np.linalg.norm(f - fref, axis=1)
    den = np.linalg.norm(f, axis=1) + np.linalg.norm(fref, axis=1)
    rel = num / np.where(den > 0, den, 1.0)
    return float(np.median(rel)), float(np.percentile(rel, 99)), float(rel.max())


def compare(system, positions, ref=None, box=None, **options):
    """Evaluate ``dataflow_system(system, **options)`` on the Reference platform's terms and compare.

    ``ref`` may be a precomputed (energy, forces) of ``system`` on Reference.  Returns a dict with
    energies, relative energy error and the force-error statistics."""
    from .openmm_system import dataflow_system

    if ref is None:
        ref = evaluate(system, positions, "Reference", box)
    df = dataflow_system(system, **options)
    e, f = evaluate(df, positions, "Reference", box)
    med, p99, mx = force_errors(f, ref[1])
    return {
        "energy": e,
        "energy_ref": ref[0],
        "energy_rel_err": abs(e - ref[0]) / abs(ref[0]),
        "force_median": med,
        "force_p99": p99,
        "force_max": mx,
    }
