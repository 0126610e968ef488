"""Benchmark: kenkyu.kernels_md dataflow backend vs OpenMM's CPU platform on DHFR (OpenMM benchmark protocol).

amber99sb + tip3p, HBonds constraints, hydrogen mass 1.5 amu, LangevinMiddleIntegrator 300 K, 1/ps,
4 fs; reaction field (CutoffPeriodic) at 1.0 nm, or PME at 0.9 nm (``--method PME``).  Both run in
this process on the same machine, *interleaved*: for each thread count, OpenMM CPU and the dataflow
system alternate ``--repeat`` times and the best of each is kept (so a burst of load on a shared
machine hits both).  The dataflow system keeps OpenMM's CPU platform for integration, constraints
(and PME's reciprocal space); its backend replaces the non-bonded direct space and bonded forces.

Prints ms/step and ns/day for both, the ratio (speed of dataflow / speed of OpenMM CPU), the
strong-scaling efficiency t(1) / (P t(P)), list rebuilds per 100 steps and the CPU ms of one list
build (all tiles), pairs per second per core, the time per task kind and the last step's critical
path.  Runs unchanged on a bigger machine: ``--threads 1 2 4 8 16``.

    nice .venv/bin/python benchmarks/bench_dataflow.py [--method RF|PME] [--precision double|mixed]
        [--steps 100] [--warmup 20] [--repeat 2] [--threads 1 2]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np


def make_system(method="RF", cutoff=None):
    from openmm import app, unit

    from kenkyu.tools.md import example_structure

    pdb = app.PDBFile(str(example_structure("dhfr_solvated")))
    ff = app.ForceField("amber99sb.xml", "tip3p.xml")
    nbm = app.CutoffPeriodic if method == "RF" else app.PME
    rc = cutoff or (1.0 if method == "RF" else 0.9)
    system = ff.createSystem(
        pdb.topology,
        nonbondedMethod=nbm,
        nonbondedCutoff=rc * unit.nanometer,
        constraints=app.HBonds,
        hydrogenMass=1.5 * unit.amu,
    )
    return pdb, system


def start(system, pdb, threads, warmup):
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


def timed(integ, ctx, steps):
    """(wall seconds, process CPU seconds) per step; CPU time (all threads of this process) is less
    sensitive than wall time to other jobs on a shared machine."""
    t0 = time.perf_counter()
    c0 = time.process_time()
    integ.step(steps)
    ctx.getState(getEnergy=True)
    return (time.perf_counter() - t0) / steps, (time.process_time() - c0) / steps


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--method", choices=("RF", "PME"), default="RF")
    ap.add_argument("--cutoff", type=float, default=None)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--cell-fraction", type=float, default=0.6)
    ap.add_argument("--skin", type=float, default=0.12)
    ap.add_argument("--rebuild", default="sound")
    ap.add_argument("--tiles", type=int, default=None)
    ap.add_argument("--policy", default="lpt")
    ap.add_argument("--precision", default="double")
    args = ap.parse_args(argv)

    import openmm as mm

    from kenkyu.kernels_md import backend_of, dataflow_system

    pdb, system = make_system(args.method, args.cutoff)
    n = system.getNumParticles()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"DHFR-{args.method}: {n} atoms, OpenMM {mm.__version__}, {os.cpu_count()} CPUs visible, load {load:.2f}, "
        f"{args.steps} timed steps x {args.repeat} (best kept) after {args.warmup} warm-up steps, 4 fs, HBonds, "
        f"H mass 1.5 amu, precision={args.precision}, skin={args.skin} nm, rebuild rule={args.rebuild}"
    )
    rows = {}
    cpu = {}
    backend_wall = {}  # mean wall seconds per step inside the backend (its force evaluation)
    for threads in args.threads:
        df = dataflow_system(
            system,
            threads=threads,
            cell_fraction=args.cell_fraction,
            skin=args.skin,
            tiles=args.tiles,
            policy=args.policy,
            precision=args.precision,
            rebuild=args.rebuild,
        )
        b = backend_of(df)
        omm = start(system, pdb, threads, args.warmup)
        dfc = start(df, pdb, threads, args.warmup)
        t_omm, t_df = [], []
        rebuilds = steps = pairs = builds = 0
        build_cpu = 0.0
        t_backend = []  # per repeat: mean wall seconds per step inside the backend
        b.scheduler.reset_stats()
        for _ in range(args.repeat):
            t_omm.append(timed(omm[1], omm[0], args.steps))
            s0, r0, l0, c0, w0 = b.steps, b.rebuilds, b.list_builds, b.list_build_cpu, b.t_total
            t_df.append(timed(dfc[1], dfc[0], args.steps))
            steps += b.steps - s0
            rebuilds += b.rebuilds - r0
            builds += b.list_builds - l0
            build_cpu += b.list_build_cpu - c0
            t_backend.append((b.t_total - w0) / max(1, b.steps - s0))
            pairs = b.last.pairs
        kinds = {k: (c / steps, s / steps) for k, (c, s) in b.timings().items()}
        backend_wall[threads] = t_backend[int(np.argmin([w for w, _ in t_df]))]  # of the repeat kept
        cpu[threads] = (min(c for _, c in t_omm), min(c for _, c in t_df))
        rows[threads] = (
            min(w for w, _ in t_omm),
            min(w for w, _ in t_df),
            100.0 * rebuilds / max(1, steps),
            pairs,
            1e3 * build_cpu / builds if builds else float("nan"),
            kinds,
            b.describe(),
        )
        del omm, dfc
        b.scheduler.shutdown()

    day = 86400.0
    dt_ns = 0.004e-3
    print()
    print(
        f"{'threads':>7} | {'OpenMM CPU ms/step':>18} {'ns/day':>8} | {'dataflow ms/step':>16} {'ns/day':>8} | "
        f"{'ratio':>6} | {'rebuilds/100 steps':>18} | {'CPU ms/list build':>17} | {'pairs/s/core':>12}"
    )
    for threads, (t_omm, t_df, reb, pairs, build_ms, _, _) in rows.items():
        print(
            f"{threads:>7} | {1e3 * t_omm:>18.1f} {dt_ns * day / t_omm:>8.2f} | {1e3 * t_df:>16.1f} "
            f"{dt_ns * day / t_df:>8.2f} | {t_omm / t_df:>6.2f} | {reb:>18.1f} | {build_ms:>17.1f} | "
            f"{pairs / t_df / threads:>12.3g}"
        )
    print(
        "list build cost per step (CPU ms per build x builds per step): "
        + ", ".join(f"{th} thread(s) {r[4] * r[2] / 100.0:.1f} ms" for th, r in rows.items())
    )
    print("CPU time per step (all threads of the process; less sensitive to other jobs than wall time):")
    for threads, (c_omm, c_df) in cpu.items():
        print(
            f"    {threads} thread(s): OpenMM CPU {1e3 * c_omm:.1f} ms, dataflow {1e3 * c_df:.1f} ms, "
            f"ratio {c_omm / c_df:.2f}"
        )
    base = min(rows)
    for threads in rows:
        if threads == base:
            continue
        eff_df = rows[base][1] * base / (threads * rows[threads][1])
        eff_omm = rows[base][0] * base / (threads * rows[threads][0])
        print(
            f"strong-scaling efficiency {base}->{threads} threads: dataflow {eff_df:.2f}, OpenMM CPU {eff_omm:.2f} "
            f"(speed-up dataflow {rows[base][1] / rows[threads][1]:.2f}x, "
            f"OpenMM {rows[base][0] / rows[threads][0]:.2f}x)"
        )
        # the rest of a dataflow step (OpenMM's integration and constraints, the PythonForce
        # boundary) is the same code as in OpenMM's own run: what scales differently is the backend
        eff_b = backend_wall[base] * base / (threads * backend_wall[threads])
        rest_b = rows[base][1] - backend_wall[base]
        rest_t = rows[threads][1] - backend_wall[threads]
        print(
            f"    inside the backend (force evaluation, mean wall ms/step): {1e3 * backend_wall[base]:.1f} -> "
            f"{1e3 * backend_wall[threads]:.1f}, efficiency {eff_b:.2f}; the rest of the step (OpenMM integration, "
            f"constraints, PythonForce boundary): {1e3 * rest_b:.1f} -> {1e3 * rest_t:.1f} ms"
        )
    print(f"pairs within cutoff per step: {np.mean([r[3] for r in rows.values()]):.4g}")
    for threads, (*_, kinds, desc) in rows.items():
        print(f"\n{threads} thread(s): ms per step inside tasks, by kind (tasks per step):")
        for k, (c, s) in sorted(kinds.items(), key=lambda kv: -kv[1][1]):
            print(f"    {k:<12} {1e3 * s:8.2f} ms  ({c:.0f})")
        print(desc)


if __name__ == "__main__":
    main()
