"""NVE energy drift of DHFR with reaction field: dataflow backend beside OpenMM's CPU platform.

Same system as ``bench_dataflow.py`` (amber99sb/tip3p, CutoffPeriodic 1.0 nm, HBonds, hydrogen mass
1.5 amu), VerletIntegrator, started from the equilibrated structure with 300 K velocities drawn with
the same seed.  The drift is the slope of a linear fit of the total energy, reported in
kT/ns/dof (dof = 3N - constraints - 3).

    nice .venv/bin/python benchmarks/bench_dataflow_drift.py [--ps 10] [--dt-fs 4] [--threads 2]
"""

from __future__ import annotations

import argparse
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


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ps", type=float, default=10.0)
    ap.add_argument("--dt-fs", type=float, default=4.0)
    ap.add_argument("--every", type=int, default=25)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--cell-fraction", type=float, default=0.6)
    ap.add_argument("--skin", type=float, default=0.12)
    ap.add_argument("--rebuild", default="sound")
    ap.add_argument("--precision", default="double")
    args = ap.parse_args(argv)

    from kenkyu.kernels_md import dataflow_system

    pdb, system = make_system()
    n = system.getNumParticles()
    dof = 3 * n - system.getNumConstraints() - 3
    dt = args.dt_fs * 1e-3
    n_steps = round(args.ps / dt)
    kT = KB * 300.0
    print(
        f"NVE drift, DHFR-RF {n} atoms, {dof} dof, {args.ps} ps = {n_steps} steps of {args.dt_fs} fs, "
        f"{args.threads} threads; dataflow: skin {args.skin} nm, rebuild rule {args.rebuild}, "
        f"precision {args.precision}"
    )
    for label, sys_ in (
        ("OpenMM CPU", system),
        (
            "dataflow",
            dataflow_system(
                system,
                threads=args.threads,
                cell_fraction=args.cell_fraction,
                skin=args.skin,
                rebuild=args.rebuild,
                precision=args.precision,
            ),
        ),
    ):
        t, e, wall = nve(sys_, pdb, args.threads, n_steps, dt, args.every)
        slope = np.polyfit(t, e, 1)[0]  # kJ/mol/ps
        drift = slope * 1000.0 / kT / dof
        print(
            f"{label:<11} drift {drift:+.3e} kT/ns/dof   (slope {slope:+.3f} kJ/mol/ps, E0 {e[0]:.1f}, "
            f"E_end {e[-1]:.1f}, std {e.std():.2f} kJ/mol, {wall:.0f} s)"
        )


if __name__ == "__main__":
    main()
