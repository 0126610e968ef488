"""Strong scaling of the dataflow backend, measured and predicted by its performance model.

The backend's force evaluation (``backend.compute``: positions stage + task graph) on DHFR (RF 1.0
nm or PME 0.9 nm, amber99sb/tip3p, the OpenMM benchmark structure) is timed at each thread count,
with the coordinates of a short MD run so list rebuilds happen at their natural rate.  The model
(:mod:`kenkyu.kernels_md.model`) is fitted on the 1-thread profile only; its list-scheduling
simulation then predicts every thread count, including those the machine does not have (shown with
no measurement).  Finally a parametrised dataflow machine predicts ms/step against atom count and
node count, for the all-atom system and the coarse-grained (C-alpha Go) model.

``--clock cpu`` fits the model on CPU time (each task's thread time; the 1-thread compute's thread
time) instead of wall time: on a shared machine the model then describes the quiet machine, and
the 1-thread CPU time per evaluation is the measurement to compare with (wall times at 2 or more
threads stay load-sensitive; both are printed).

Runs unchanged on a bigger machine (``--threads 1 2 4 8 16``); thread counts above the visible CPUs
are predicted only.

    nice .venv/bin/python benchmarks/bench_dataflow_scaling.py [--method RF|PME] [--threads 1 2 4 8 16]
        [--steps 20] [--frames 20] [--clock wall|cpu] [--precision double|mixed]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np


def trajectory(system, pdb, frames, every=1):
    """Coordinates of a short Langevin run with OpenMM's own forces (list ages like in MD)."""
    import openmm as mm
    from openmm import unit

    integ = mm.LangevinMiddleIntegrator(300 * unit.kelvin, 1 / unit.picosecond, 0.004 * unit.picoseconds)
    ctx = mm.Context(system, integ, mm.Platform.getPlatformByName("CPU"))
    ctx.setPositions(pdb.positions)
    ctx.setVelocitiesToTemperature(300 * unit.kelvin, 3)
    out = []
    for _ in range(frames):
        integ.step(every)
        st = ctx.getState(getPositions=True)
        out.append(np.asarray(st.getPositions(asNumpy=True)._value))
    box = np.diag(np.asarray(st.getPeriodicBoxVectors(asNumpy=True)._value))
    return out, box


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--method", choices=("RF", "PME"), default="RF")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2, 4, 8, 16])
    ap.add_argument("--frames", type=int, default=20, help="MD frames (consecutive 4 fs steps) cycled through")
    ap.add_argument("--steps", type=int, default=20, help="timed force evaluations per thread count")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--precision", default="double")
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall", help="what the model is fitted on")
    args = ap.parse_args(argv)

    from bench_dataflow import make_system

    from kenkyu.kernels_md import backend_of, dataflow_system
    from kenkyu.kernels_md import model as pm

    pdb, system = make_system(args.method)
    frames, box = trajectory(system, pdb, args.frames)
    ncpu = os.cpu_count() or 1
    measured_threads = [t for t in args.threads if t <= ncpu]
    print(
        f"DHFR-{args.method}: {system.getNumParticles()} atoms, {ncpu} CPUs visible, load {os.getloadavg()[0]:.2f}; "
        f"timing backend.compute over {args.steps} evaluations of {len(frames)} MD frames (consecutive 4 fs steps)"
    )

    backends = {t: backend_of(dataflow_system(system, threads=t, precision=args.precision)) for t in measured_threads}
    for b in backends.values():
        for x in frames[:3]:
            b.compute(x, box)  # compile, first lists
    # interleave thread counts, keep the best of --repeat
    measured = {t: [] for t in measured_threads}
    cpu = {t: [] for t in measured_threads}
    samples = []
    for rep in range(args.repeat):
        for t, b in backends.items():
            t0 = time.perf_counter()
            c0 = time.process_time()
            for k in range(args.steps):
                a = time.thread_time()
                b.compute(frames[k % len(frames)], box)
                if t == 1 and rep == 0:
                    spent = b.t_step if args.clock == "wall" else time.thread_time() - a
                    samples.append((b.task_features(), spent, b.last.rebuilt))
            measured[t].append((time.perf_counter() - t0) / args.steps)
            cpu[t].append((time.process_time() - c0) / args.steps)
    model = pm.fit_costs(samples, threads=1, clock=args.clock)
    b1 = backends[min(backends)]
    b1.compute(frames[0], box)
    print()
    print(model.describe())
    print()
    print(f"model fitted on {args.clock} time; load now {os.getloadavg()[0]:.2f}")
    print(
        f"{'threads':>7} | {'measured ms/eval':>16} | {'process CPU ms':>14} | {'predicted ms/eval':>17} | "
        f"{'pred/meas':>9} | speed-up meas / pred"
    )
    t_pred1 = pm.predict_step(b1, model, 1)
    for t in args.threads:
        pred = pm.predict_step(b1, model, t)
        if t in measured:
            meas = min(measured[t])
            print(
                f"{t:>7} | {1e3 * meas:>16.1f} | {1e3 * min(cpu[t]):>14.1f} | {1e3 * pred:>17.1f} | "
                f"{pred / meas:>9.2f} | {min(measured[min(measured)]) / meas:.2f} / {t_pred1 / pred:.2f}"
            )
        else:
            print(
                f"{t:>7} | {'(not measured)':>16} | {'':>14} | {1e3 * pred:>17.1f} | {'':>9} | - / {t_pred1 / pred:.2f}"
            )
    for b in backends.values():
        b.scheduler.shutdown()

    print(
        "\ndataflow machine (pipelines of this CPU core's speed, 8 per node, 1 us / 10 GB/s links): predicted ms/step"
    )
    for kind in ("all-atom", "coarse-grained"):
        print(f"  {kind}:")
        sizes = (25_000, 100_000, 1_000_000) if kind == "all-atom" else (1_000, 10_000, 100_000)
        nodes = (1, 2, 4, 8, 16, 64)
        print("    " + f"{'atoms':>9} | " + " ".join(f"{n:>4} nodes" for n in nodes))
        for n in sizes:
            row = [
                pm.predict_machine(n, model, pm.DataflowMachine(nodes=k, pipelines=8))
                if kind == "all-atom"
                else pm.predict_machine(n, model, pm.DataflowMachine(nodes=k, pipelines=8), system="coarse-grained")
                for k in nodes
            ]
            print("    " + f"{n:>9} | " + " ".join(f"{1e3 * v:>10.2f}" for v in row))


if __name__ == "__main__":
    main()
