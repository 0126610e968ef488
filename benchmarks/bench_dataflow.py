"""Benchmark: kenkyu.kernels_md dataflow backend vs OpenMM's CPU platform on DHFR with reaction field.

OpenMM benchmark protocol: amber99sb + tip3p, CutoffPeriodic (reaction field) at 1.0 nm, HBonds
constraints, hydrogen mass 1.5 amu, LangevinMiddleIntegrator 300 K, 1/ps, 4 fs.  Both run in this
process on the same machine at 1 and 2 threads; the dataflow system keeps OpenMM's CPU platform for
integration and constraints, and its backend replaces the non-bonded and bonded forces.

Prints ms/step and ns/day for both, the ratio (speed of dataflow / speed of OpenMM CPU), the
strong-scaling efficiency t(1) / (2 t(2)), pairs per second per core, and the time per task kind.

    nice .venv/bin/python benchmarks/bench_dataflow.py [--steps 50] [--warmup 10] [--cell-fraction 0.5]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np


def make_system():
    from openmm import app, unit

    from kenkyu.tools.md import example_structure

    pdb = app.PDBFile(str(example_structure("dhfr_solvated")))
    ff = app.ForceField("amber99sb.xml", "tip3p.xml")
    system = ff.createSystem(
        pdb.topology,
        nonbondedMethod=app.CutoffPeriodic,
        nonbondedCutoff=1.0 * unit.nanometer,
        constraints=app.HBonds,
        hydrogenMass=1.5 * unit.amu,
    )
    return pdb, system


def time_run(system, pdb, threads, steps, warmup):
    import openmm as mm
    from openmm import unit

    integ = mm.LangevinMiddleIntegrator(300 * unit.kelvin, 1 / unit.picosecond, 0.004 * unit.picoseconds)
    integ.setRandomNumberSeed(7)
    ctx = mm.Context(system, integ, mm.Platform.getPlatformByName("CPU"), {"Threads": str(threads)})
    ctx.setPositions(pdb.positions)
    ctx.setVelocitiesToTemperature(300 * unit.kelvin, 7)
    integ.step(warmup)
    ctx.getState(getEnergy=True)
    return ctx, integ


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--cell-fraction", type=float, default=0.5)
    ap.add_argument("--skin", type=float, default=0.15)
    ap.add_argument("--tasks-per-thread", type=int, default=6)
    ap.add_argument("--policy", default="lpt")
    ap.add_argument("--precision", default="double")
    args = ap.parse_args(argv)

    import openmm as mm
    from kenkyu.kernels_md import backend_of, dataflow_system

    pdb, system = make_system()
    n = system.getNumParticles()
    print(f"DHFR-RF: {n} atoms, OpenMM {mm.__version__}, {os.cpu_count()} CPUs visible, "
          f"{args.steps} timed steps after {args.warmup} warm-up steps, 4 fs, HBonds, H mass 1.5 amu")
    rows = {}
    kinds = {}
    pairs_per_step = {}
    for threads in args.threads:
        # OpenMM CPU platform
        ctx, integ = time_run(system, pdb, threads, args.steps, args.warmup)
        t0 = time.perf_counter()
        integ.step(args.steps)
        ctx.getState(getEnergy=True)
        t_omm = (time.perf_counter() - t0) / args.steps
        del ctx, integ
        # dataflow backend
        df = dataflow_system(
            system, threads=threads, cell_fraction=args.cell_fraction, skin=args.skin,
            tasks_per_thread=args.tasks_per_thread, policy=args.policy, precision=args.precision,
        )
        b = backend_of(df)
        ctx, integ = time_run(df, pdb, threads, args.steps, args.warmup)
        b.scheduler.reset_stats()
        steps0, rebuilds0 = b.steps, b.rebuilds
        t0 = time.perf_counter()
        pairs = 0
        for _ in range(args.steps):
            integ.step(1)
            pairs += b.last.pairs
        ctx.getState(getEnergy=True)
        t_df = (time.perf_counter() - t0) / args.steps
        nsteps = b.steps - steps0
        kinds[threads] = {k: (c, s / max(1, args.steps)) for k, (c, s) in b.timings().items()}
        rebuilds = b.rebuilds - rebuilds0
        pairs_per_step[threads] = pairs / args.steps
        rows[threads] = (t_omm, t_df, rebuilds, nsteps)
        del ctx, integ
        b.scheduler.shutdown()
        if threads == args.threads[0]:
            print(b.describe())

    day = 86400.0
    dt_ns = 0.004e-3
    print()
    print(f"{'threads':>7} | {'OpenMM CPU ms/step':>18} {'ns/day':>8} | {'dataflow ms/step':>16} {'ns/day':>8} | "
          f"{'ratio':>6} | {'pairs/s/core':>12} | list rebuilds")
    for threads, (t_omm, t_df, rebuilds, nsteps) in rows.items():
        ratio = t_omm / t_df
        pps = pairs_per_step[threads] / t_df / threads
        print(f"{threads:>7} | {1e3 * t_omm:>18.1f} {dt_ns * day / t_omm:>8.2f} | {1e3 * t_df:>16.1f} "
              f"{dt_ns * day / t_df:>8.2f} | {ratio:>6.2f} | {pps:>12.3g} | {rebuilds}/{args.steps}")
    if 1 in rows and 2 in rows:
        eff_df = rows[1][1] / (2 * rows[2][1])
        eff_omm = rows[1][0] / (2 * rows[2][0])
        print(f"strong-scaling efficiency 1->2 threads: dataflow {eff_df:.2f}, OpenMM CPU {eff_omm:.2f}")
    print(f"pairs within cutoff per step: {np.mean(list(pairs_per_step.values())):.4g}")
    for threads, kk in kinds.items():
        print(f"time per task kind, {threads} thread(s), ms per step (summed over tasks; wall time inside tasks):")
        for k, (c, s) in sorted(kk.items(), key=lambda kv: -kv[1][1]):
            print(f"    {k:<12} {1e3 * s:8.2f} ms  ({c / args.steps:.0f} tasks/step)")


if __name__ == "__main__":
    main()
