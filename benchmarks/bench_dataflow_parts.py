"""Where the serial remainder of a dataflow step goes: the parts of a DHFR step outside the task graph.

A dataflow step is OpenMM's integration and constraints (CPU platform) + the PythonForce boundary
(OpenMM builds a State, calls Python, copies the forces back) + our ``__call__`` (positions out of
the State, box) + the backend's ``compute``.  Each part is timed at every thread count with the same
System and integrator as ``bench_dataflow.py``:

* ``no forces``: the System's particles and constraints, no force at all: OpenMM's integration and
  constraints only (not ours);
* ``PythonForce, cached forces``: plus a PythonForce returning a fixed force array: adds OpenMM's
  boundary cost (State, GIL, copy in and out) with nothing computed;
* ``PythonForce, our __call__ with cached forces``: plus our reading of positions and box from the
  State, still nothing computed;
* ``dataflow``: the full backend, with the wall time inside ``compute`` subtracted.

    nice .venv/bin/python benchmarks/bench_dataflow_parts.py [--threads 1 2] [--steps 100] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np


def _bare(system):
    """Same particles, masses, box and constraints; no forces."""
    import openmm as mm

    s = mm.System()
    for i in range(system.getNumParticles()):
        s.addParticle(system.getParticleMass(i))
    for k in range(system.getNumConstraints()):
        s.addConstraint(*system.getConstraintParameters(k))
    s.setDefaultPeriodicBoxVectors(*system.getDefaultPeriodicBoxVectors())
    return s


class _Cached:
    """A PythonForce computation that returns fixed forces; with ``read=True`` it first reads the
    State the way the backend's ``__call__`` does (positions, box)."""

    def __init__(self, n, read):
        self.f = np.zeros((n, 3))
        self.read = read
        self.t = 0.0

    def __call__(self, state):
        if self.read:
            t0 = time.perf_counter()
            pos = state.getPositions(asNumpy=True)._value
            vecs = np.asarray(state.getPeriodicBoxVectors(asNumpy=True)._value)
            np.ascontiguousarray(pos, dtype=np.float64)
            np.diag(vecs)
            self.t += time.perf_counter() - t0
        return 0.0, self.f


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--precision", default="mixed")
    args = ap.parse_args(argv)

    import openmm as mm
    from bench_dataflow import make_system, start, timed

    from kenkyu.kernels_md import backend_of, dataflow_system

    pdb, system = make_system("RF")
    n = system.getNumParticles()
    print(f"DHFR-RF {n} atoms, load {os.getloadavg()[0]:.2f}; median over {args.rounds} rounds of {args.steps} steps")
    parts = {}
    for threads in args.threads:
        bare = _bare(system)
        cached = _Cached(n, read=False)
        with_pf = _bare(system)
        pf = mm.PythonForce(cached)
        pf.setUsesPeriodicBoundaryConditions(True)
        with_pf.addForce(pf)
        reader = _Cached(n, read=True)
        with_read = _bare(system)
        pf2 = mm.PythonForce(reader)
        pf2.setUsesPeriodicBoundaryConditions(True)
        with_read.addForce(pf2)
        df = dataflow_system(system, threads=threads, precision=args.precision)
        b = backend_of(df)
        runs = {
            "no forces": start(bare, pdb, threads, args.warmup),
            "PythonForce, cached forces": start(with_pf, pdb, threads, args.warmup),
            "PythonForce, reads State, cached forces": start(with_read, pdb, threads, args.warmup),
            "dataflow": start(df, pdb, threads, args.warmup),
        }
        got = {k: [] for k in runs}
        gcpu = {k: [] for k in runs}
        inside, read_t, positions = [], [], []
        for _ in range(args.rounds):
            for name, (ctx, integ) in runs.items():
                w0, r0 = b.t_total, reader.t
                b.scheduler.reset_stats()
                w, c = timed(integ, ctx, args.steps)
                got[name].append(w)
                gcpu[name].append(c)
                if name == "dataflow":
                    inside.append((b.t_total - w0) / args.steps)
                    st = b.scheduler.stats.get("positions")
                    positions.append((st[1] / args.steps, st[2] / args.steps) if st else (0.0, 0.0))
                if name.startswith("PythonForce, reads"):
                    read_t.append((reader.t - r0) / args.steps)
        med = {k: float(np.median(v)) for k, v in got.items()}
        med.update({("cpu", k): float(np.median(v)) for k, v in gcpu.items()})
        parts[threads] = med, float(np.median(inside)), float(np.median(read_t)), np.median(positions, axis=0)
        b.scheduler.shutdown()
        del runs
    print(f"{'':<52}" + "".join(f"{t:>3} thread(s)" for t in args.threads))

    def row(label, vals):
        print(f"{label:<52}" + "".join(f"{1e3 * v:>9.2f} ms" for v in vals))

    ts = args.threads
    row("OpenMM integration + constraints (no forces)", [parts[t][0]["no forces"] for t in ts])
    row(
        "+ PythonForce boundary (cached forces)",
        [parts[t][0]["PythonForce, cached forces"] - parts[t][0]["no forces"] for t in ts],
    )
    row("    of which reading positions/box from the State", [parts[t][2] for t in ts])
    print("process CPU per step (all threads; what other jobs cannot inflate):")
    for name in ("no forces", "PythonForce, cached forces", "PythonForce, reads State, cached forces", "dataflow"):
        row(f"    {name}", [parts[t][0]["cpu", name] for t in ts])
    row("dataflow step", [parts[t][0]["dataflow"] for t in ts])
    row("    inside backend.compute", [parts[t][1] for t in ts])
    row("    outside compute (integration, boundary, __call__)", [parts[t][0]["dataflow"] - parts[t][1] for t in ts])
    row("    positions task, wall", [parts[t][3][0] for t in ts])
    row("    positions task, thread CPU", [parts[t][3][1] for t in ts])
    print(f"load at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
