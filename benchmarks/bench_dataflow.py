"""Benchmark: kenkyu.kernels_md dataflow backend vs OpenMM's CPU platform on DHFR (OpenMM benchmark protocol).

amber99sb + tip3p, HBonds constraints, hydrogen mass 1.5 amu, LangevinMiddleIntegrator 300 K, 1/ps,
4 fs; reaction field (CutoffPeriodic) at 1.0 nm, or PME at 0.9 nm (``--method PME``).  Both run in
this process on the same machine, in *paired rounds*: each of ``--rounds`` rounds times OpenMM CPU
and the dataflow system at every thread count back to back (order reversed every other round; best of
``--repeat`` timings per round), so each round gives both engines' strong-scaling efficiency under the
same load, and the 2-thread bar is called from the per-round paired differences
(:mod:`bench_dataflow_verdict`: median, min-max, bootstrap CI, met / missed / inconclusive).
The dataflow system keeps OpenMM's CPU platform for integration, constraints
(and PME's reciprocal space); its backend replaces the non-bonded direct space and bonded forces.

Prints ms/step and ns/day for both, the ratio (speed of dataflow / speed of OpenMM CPU), the
strong-scaling efficiency t(1) / (P t(P)), list rebuilds per 100 steps and the CPU ms of one list
build (all tiles), pairs per second per core, the time per task kind and the last step's critical
path.  Runs unchanged on a bigger machine: ``--threads 1 2 4 8 16``.

    nice .venv/bin/python benchmarks/bench_dataflow.py [--method RF|PME] [--precision double|mixed]
        [--steps 100] [--warmup 20] [--rounds 5] [--repeat 1] [--threads 1 2]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from bench_dataflow_verdict import scaling_verdict


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


def _order(threads, rnd):
    """Measurement order of one round: (threads, engine) pairs, reversed every other round so that
    neither engine nor thread count is always measured first (a load trend then hits both)."""
    seq = [(t, e) for t in threads for e in ("omm", "df")]
    return seq if rnd % 2 == 0 else seq[::-1]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--method", choices=("RF", "PME"), default="RF")
    ap.add_argument("--cutoff", type=float, default=None)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument(
        "--rounds", type=int, default=5, help="paired rounds: each times both engines at every thread count"
    )
    ap.add_argument("--repeat", type=int, default=1, help="timings per engine and thread count in a round, best kept")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--cell-fraction", type=float, default=0.6)
    ap.add_argument("--skin", type=float, default=0.12)
    ap.add_argument("--rebuild", default="sound")
    ap.add_argument("--tiles", type=int, default=None)
    ap.add_argument("--policy", default="lpt")
    ap.add_argument("--precision", default="double")
    args = ap.parse_args(argv)
    if args.rounds < 1 or args.repeat < 1:
        ap.error("--rounds and --repeat must be at least 1")

    import openmm as mm

    from kenkyu.kernels_md import backend_of, dataflow_system

    pdb, system = make_system(args.method, args.cutoff)
    n = system.getNumParticles()
    load0 = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    print(
        f"DHFR-{args.method}: {n} atoms, OpenMM {mm.__version__}, {os.cpu_count()} CPUs visible, "
        f"load {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}, {args.rounds} rounds x {args.repeat} timing(s) "
        f"(best kept) of {args.steps} steps per engine and thread count after {args.warmup} warm-up steps, 4 fs, "
        f"HBonds, H mass 1.5 amu, precision={args.precision}, skin={args.skin} nm, rebuild rule={args.rebuild}"
    )
    threads_list = list(dict.fromkeys(args.threads))
    # every context exists from the start, so a round measures all of them back to back
    ctx, backends = {}, {}
    for threads in threads_list:
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
        backends[threads] = backend_of(df)
        ctx[threads, "omm"] = start(system, pdb, threads, args.warmup)
        ctx[threads, "df"] = start(df, pdb, threads, args.warmup)
        backends[threads].scheduler.reset_stats()
    acc = {t: dict(steps=0, rebuilds=0, builds=0, build_cpu=0.0) for t in threads_list}
    # per round: (wall s/step, CPU s/step) of the best timing, and the backend's wall s/step in it
    wall = {k: [] for k in ctx}
    cpu = {k: [] for k in ctx}
    backend_wall = {t: [] for t in threads_list}
    t_start = time.perf_counter()
    for rnd in range(args.rounds):
        for threads, eng in _order(threads_list, rnd):
            c, integ = ctx[threads, eng]
            b = backends[threads]
            best = None
            for _ in range(args.repeat):
                s0, r0, l0, c0, w0 = b.steps, b.rebuilds, b.list_builds, b.list_build_cpu, b.t_total
                w, cp = timed(integ, c, args.steps)
                if eng == "df":
                    a = acc[threads]
                    a["steps"] += b.steps - s0
                    a["rebuilds"] += b.rebuilds - r0
                    a["builds"] += b.list_builds - l0
                    a["build_cpu"] += b.list_build_cpu - c0
                    inside = (b.t_total - w0) / max(1, b.steps - s0)
                if best is None or w < best[0]:
                    best = (w, cp, inside if eng == "df" else None)
            wall[threads, eng].append(best[0])
            cpu[threads, eng].append(best[1])
            if eng == "df":
                backend_wall[threads].append(best[2])
        print(
            f"round {rnd + 1}/{args.rounds} ({time.perf_counter() - t_start:.0f} s, load {os.getloadavg()[0]:.2f}): "
            + ", ".join(
                f"{t}t OpenMM {1e3 * wall[t, 'omm'][-1]:.1f} / dataflow {1e3 * wall[t, 'df'][-1]:.1f} ms"
                for t in threads_list
            ),
            flush=True,
        )
    rows = {}
    for threads in threads_list:
        b = backends[threads]
        a = acc[threads]
        steps = max(1, a["steps"])
        rows[threads] = (
            float(np.median(wall[threads, "omm"])),
            float(np.median(wall[threads, "df"])),
            100.0 * a["rebuilds"] / steps,
            b.last.pairs,
            1e3 * a["build_cpu"] / a["builds"] if a["builds"] else float("nan"),
            {k: (c / steps, s / steps, b.cpu_timings()[k][1] / steps) for k, (c, s) in b.timings().items()},
            b.describe(),
        )
    del ctx
    for b in backends.values():
        b.scheduler.shutdown()

    day = 86400.0
    dt_ns = 0.004e-3
    print()
    print(f"median over {args.rounds} rounds (min-max in brackets):")
    print(
        f"{'threads':>7} | {'OpenMM CPU ms/step':>24} {'ns/day':>7} | {'dataflow ms/step':>24} {'ns/day':>7} | "
        f"{'ratio':>6} | {'rebuilds/100 steps':>18} | {'CPU ms/list build':>17} | {'pairs/s/core':>12}"
    )
    for threads, (t_omm, t_df, reb, pairs, build_ms, _, _) in rows.items():
        rng_o = f"({1e3 * min(wall[threads, 'omm']):.1f}-{1e3 * max(wall[threads, 'omm']):.1f})"
        rng_d = f"({1e3 * min(wall[threads, 'df']):.1f}-{1e3 * max(wall[threads, 'df']):.1f})"
        print(
            f"{threads:>7} | {1e3 * t_omm:>10.1f} {rng_o:>13} {dt_ns * day / t_omm:>7.2f} | {1e3 * t_df:>10.1f} "
            f"{rng_d:>13} {dt_ns * day / t_df:>7.2f} | {t_omm / t_df:>6.2f} | {reb:>18.1f} | {build_ms:>17.1f} | "
            f"{pairs / t_df / threads:>12.3g}"
        )
    print(
        "list build cost per step (CPU ms per build x builds per step): "
        + ", ".join(f"{th} thread(s) {r[4] * r[2] / 100.0:.1f} ms" for th, r in rows.items())
    )
    print("CPU time per step (all threads of the process; less sensitive to other jobs than wall time), median:")
    for threads in threads_list:
        c_omm, c_df = np.median(cpu[threads, "omm"]), np.median(cpu[threads, "df"])
        print(
            f"    {threads} thread(s): OpenMM CPU {1e3 * c_omm:.1f} ms, dataflow {1e3 * c_df:.1f} ms, "
            f"ratio {c_omm / c_df:.2f}"
        )
    base = min(threads_list)
    for threads in threads_list:
        if threads == base:
            continue
        # per round: both engines' efficiency from that round's own 1- and P-thread timings
        eff = {e: np.array(wall[base, e]) * base / (threads * np.array(wall[threads, e])) for e in ("omm", "df")}
        if args.rounds >= 2:
            for line in scaling_verdict(eff["df"], eff["omm"]).lines(base, threads):
                print(line)
        else:
            print(
                f"strong-scaling efficiency {base}->{threads} threads (1 round, no verdict: use --rounds 5): "
                f"dataflow {eff['df'][0]:.2f}, OpenMM CPU {eff['omm'][0]:.2f}"
            )
        # the rest of a dataflow step (OpenMM's integration and constraints, the PythonForce
        # boundary) is the same code as in OpenMM's own run: what scales differently is the backend
        bw_b, bw_t = np.array(backend_wall[base]), np.array(backend_wall[threads])
        eff_b = bw_b * base / (threads * bw_t)
        rest_b = np.array(wall[base, "df"]) - bw_b
        rest_t = np.array(wall[threads, "df"]) - bw_t
        print(
            f"    inside the backend (force evaluation, wall ms/step, median of rounds): {1e3 * np.median(bw_b):.1f} "
            f"-> "
            f"{1e3 * np.median(bw_t):.1f}, efficiency {np.median(eff_b):.2f} ({eff_b.min():.2f}-{eff_b.max():.2f}); "
            f"the rest of the step (OpenMM integration, constraints, PythonForce boundary): "
            f"{1e3 * np.median(rest_b):.1f} -> {1e3 * np.median(rest_t):.1f} ms"
        )
    print(f"pairs within cutoff per step: {np.mean([r[3] for r in rows.values()]):.4g}")
    for threads, (*_, kinds, desc) in rows.items():
        print(f"\n{threads} thread(s): ms per step inside tasks by kind, wall and thread CPU (tasks/step):")
        for k, (c, s, cp) in sorted(kinds.items(), key=lambda kv: -kv[1][1]):
            print(f"    {k:<12} {1e3 * s:8.2f} ms wall {1e3 * cp:8.2f} ms CPU  ({c:.0f})")
        print(desc)
    load1 = os.getloadavg()
    took = time.perf_counter() - t_start
    print(f"\nload at the end {load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f}; {took:.0f} s of rounds")


if __name__ == "__main__":
    main()
