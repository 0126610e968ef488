"""NVE energy drift of DHFR with reaction field: dataflow backend beside OpenMM's CPU platform.

Same system as ``bench_dataflow.py`` (amber99sb/tip3p, CutoffPeriodic 1.0 nm, HBonds, hydrogen mass
1.5 amu), VerletIntegrator, started from the equilibrated structure with 300 K velocities drawn with
the same seed, both engines in this process one after the other.  The drift is the slope of the
total energy, reported in kT/ns/dof (dof = 3N - constraints - 3), with its standard error from
``--blocks`` consecutive blocks of the run (the slope of each block; mean +- std/sqrt(blocks)):
the energy's fluctuations are correlated in time, so the textbook error of one least-squares fit
would understate it.  The first ``--skip-ps`` are left out of the fits: the total energy jumps while
freshly drawn velocities meet the constraints (the same jump in both engines).  Drift is physics,
not speed: load on the machine does not bias it.

    nice .venv/bin/python benchmarks/bench_dataflow_drift.py [--ps 20] [--skip-ps 1] [--blocks 5] [--dt-fs 4]
        [--threads 1] [--precision mixed|double] [--engines openmm dataflow]
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
from bench_dataflow import make_system

KB = 0.00831446261815324  # kJ/mol/K


def nve(system, pdb, threads, n_steps, dt_ps, every, seed=11):
    import openmm as mm
    from openmm import unit

    integ = mm.VerletIntegrator(dt_ps * unit.picoseconds)
    ctx = mm.Context(system, integ, mm.Platform.getPlatformByName("CPU"), {"Threads": str(threads)})
    ctx.setPositions(pdb.positions)
    ctx.setVelocitiesToTemperature(300 * unit.kelvin, seed)
    ctx.applyVelocityConstraints(1e-6)
    t, e = [], []
    t0 = time.perf_counter()
    for k in range(n_steps // every + 1):
        if k:
            integ.step(every)
        st = ctx.getState(getEnergy=True)
        t.append(k * every * dt_ps)
        e.append(st.getPotentialEnergy()._value + st.getKineticEnergy()._value)
    wall = time.perf_counter() - t0
    return np.array(t), np.array(e), wall


def drift_with_error(t, e, blocks):
    """(slope of the whole run, mean block slope, its standard error), all in energy units per ps."""
    whole = float(np.polyfit(t, e, 1)[0])
    parts = [(tb, eb) for tb, eb in zip(np.array_split(t, blocks), np.array_split(e, blocks)) if len(tb) > 2]
    slopes = np.array([np.polyfit(tb, eb, 1)[0] for tb, eb in parts])
    se = float(slopes.std(ddof=1) / math.sqrt(len(slopes))) if len(slopes) > 1 else float("nan")
    return whole, float(slopes.mean()), se


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ps", type=float, default=20.0)
    ap.add_argument("--blocks", type=int, default=5)
    ap.add_argument("--skip-ps", type=float, default=1.0)
    ap.add_argument("--dt-fs", type=float, default=4.0)
    ap.add_argument("--every", type=int, default=25)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--cell-fraction", type=float, default=0.6)
    ap.add_argument("--skin", type=float, default=0.12)
    ap.add_argument("--rebuild", default="sound")
    ap.add_argument("--precision", default="mixed")
    ap.add_argument("--engines", nargs="+", choices=("openmm", "dataflow"), default=["openmm", "dataflow"])
    args = ap.parse_args(argv)
    if args.blocks < 2:
        ap.error("--blocks must be at least 2 (the standard error comes from the spread of block slopes)")

    from kenkyu.kernels_md import dataflow_system

    pdb, system = make_system()
    n = system.getNumParticles()
    dof = 3 * n - system.getNumConstraints() - 3
    dt = args.dt_fs * 1e-3
    n_steps = round(args.ps / dt)
    kT = KB * 300.0
    unit = 1000.0 / kT / dof  # kJ/mol/ps -> kT/ns/dof
    print(
        f"NVE drift, DHFR-RF {n} atoms, {dof} dof, {args.ps} ps = {n_steps} steps of {args.dt_fs} fs, "
        f"{args.threads} threads, fits from {args.skip_ps} ps in {args.blocks} blocks; dataflow: skin {args.skin} nm, "
        f"rebuild rule {args.rebuild}, precision {args.precision}"
    )
    res = {}
    engines = []
    if "openmm" in args.engines:
        engines.append(("OpenMM CPU", system))
    if "dataflow" in args.engines:
        df = dataflow_system(
            system,
            threads=args.threads,
            cell_fraction=args.cell_fraction,
            skin=args.skin,
            rebuild=args.rebuild,
            precision=args.precision,
        )
        engines.append(("dataflow", df))
    for label, sys_ in engines:
        t, e, wall = nve(sys_, pdb, args.threads, n_steps, dt, args.every)
        keep = t >= args.skip_ps
        whole, mean, se = drift_with_error(t[keep], e[keep], args.blocks)
        res[label] = (mean * unit, se * unit)
        print(
            f"{label:<11} drift {mean * unit:+.3f} +- {se * unit:.3f} kT/ns/dof (block slopes; one fit of the whole "
            f"run {whole * unit:+.3f}); E0 {e[0]:.1f}, E_end {e[-1]:.1f} kJ/mol, std of E about the fit "
            f"{np.std(e[keep] - np.polyval(np.polyfit(t[keep], e[keep], 1), t[keep])):.2f} kJ/mol, {wall:.0f} s",
            flush=True,
        )
    if len(res) < 2:
        return
    (d_o, s_o), (d_d, s_d) = res["OpenMM CPU"], res["dataflow"]
    diff, s = d_d - d_o, math.hypot(s_o, s_d)
    print(f"dataflow - OpenMM CPU: {diff:+.3f} +- {s:.3f} kT/ns/dof ({diff / s:+.1f} standard errors)")


if __name__ == "__main__":
    main()
