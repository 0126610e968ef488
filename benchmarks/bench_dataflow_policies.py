"""Which scheduling policy scales better: the dataflow backend's force evaluation alone, on DHFR-RF,
policies compared in paired rounds at 1 and P threads.

``bench_dataflow.py`` times whole MD steps against OpenMM CPU; this script isolates what the policy
changes (how the workers take the step's tasks).  It records ``--frames`` consecutive MD frames
once, then each round evaluates the forces of all of them with every (policy, threads) backend back
to back (order reversed every other round), so each round gives every policy's 1 -> P efficiency
under the same load.  Printed: per policy the median ms per evaluation at each thread count, its
efficiency, the paired ratio of its P-thread time to the first policy's with a 90% bootstrap CI,
and thread CPU per task kind (at P threads, CPU that grows over 1 thread is cache traffic between
cores, not preemption by other jobs).  The forces are bitwise the same under every policy.

    nice .venv/bin/python benchmarks/bench_dataflow_policies.py [--policies lpt locality] [--threads 1 2]
        [--rounds 8] [--frames 48] [--precision mixed]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np


def record_frames(system, pdb, count):
    """Positions and box of ``count`` consecutive MD steps (after 20 warm-up steps) of ``system``."""
    from bench_dataflow import start

    from kenkyu.kernels_md import backend_of, dataflow_system

    df = dataflow_system(system, threads=1, precision="mixed")
    b = backend_of(df)
    frames = []
    evaluate = b.compute

    def recording(pos, box=None):
        frames.append((pos.copy(), box.copy()))
        return evaluate(pos, box)

    b.compute = recording
    ctx, integ = start(df, pdb, 1, 20)
    integ.step(count)
    del ctx, integ
    return frames[-count:]


def _ci(x, seed=0):
    from scipy.stats import bootstrap

    x = np.asarray(x, float)
    if np.ptp(x) == 0.0:
        return float(x[0]), float(x[0])
    res = bootstrap((x,), np.median, confidence_level=0.9, method="percentile", random_state=seed, n_resamples=4000)
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--policies", nargs="+", default=["lpt", "locality"])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--frames", type=int, default=48)
    ap.add_argument("--precision", default="mixed")
    args = ap.parse_args(argv)
    if args.rounds < 2:
        ap.error("--rounds must be at least 2 (paired rounds)")

    from bench_dataflow import make_system

    from kenkyu.kernels_md import backend_of, dataflow_system

    pdb, system = make_system("RF")
    frames = record_frames(system, pdb, args.frames)
    keys = [(p, t) for p in args.policies for t in args.threads]
    backends = {
        (p, t): backend_of(dataflow_system(system, threads=t, policy=p, precision=args.precision)) for p, t in keys
    }
    for b in backends.values():  # warm up: compile, build the lists, learn the task costs
        for f in frames:
            b.compute(*f)
        b.scheduler.reset_stats()
    load0 = os.getloadavg()[0]
    print(
        f"DHFR-RF {system.getNumParticles()} atoms, precision={args.precision}, {args.frames} MD frames per "
        f"evaluation pass, {args.rounds} paired rounds, load {load0:.2f}"
    )
    wall = {k: [] for k in keys}
    t_start = time.perf_counter()
    for rnd in range(args.rounds):
        for k in keys if rnd % 2 == 0 else keys[::-1]:
            b = backends[k]
            t0 = time.perf_counter()
            for f in frames:
                b.compute(*f)
            wall[k].append((time.perf_counter() - t0) / len(frames))
    base_t, top_t = min(args.threads), max(args.threads)
    print(f"median ms per force evaluation (min-max), {time.perf_counter() - t_start:.0f} s of rounds:")
    eff = {}
    for p in args.policies:
        w = {t: np.array(wall[p, t]) for t in args.threads}
        eff[p] = w[base_t] * base_t / (top_t * w[top_t])
        cells = ", ".join(
            f"{t} thread(s) {1e3 * np.median(w[t]):.2f} ({1e3 * w[t].min():.2f}-{1e3 * w[t].max():.2f})"
            for t in args.threads
        )
        print(
            f"  {p:<9} {cells}; efficiency {base_t}->{top_t} median {np.median(eff[p]):.3f} "
            f"({eff[p].min():.3f}-{eff[p].max():.3f})"
        )
    first = args.policies[0]
    for p in args.policies[1:]:
        ratio = np.array(wall[p, top_t]) / np.array(wall[first, top_t])
        lo, hi = _ci(ratio)
        diff = eff[p] - eff[first]
        dlo, dhi = _ci(diff)
        print(
            f"  {p} / {first} at {top_t} threads, paired per round: time ratio median {np.median(ratio):.3f} "
            f"(90% CI {lo:.3f}-{hi:.3f}); efficiency difference median {np.median(diff):+.3f} "
            f"(90% CI {dlo:+.3f} to {dhi:+.3f})"
        )
    steps = args.rounds * len(frames)
    kinds = sorted({kd for b in backends.values() for kd in b.cpu_timings()})
    print("thread CPU ms per evaluation by task kind:")
    print(f"    {'kind':<11}" + "".join(f"{p[:9]:>10}/{t}t" for p, t in keys))
    for kd in kinds:
        row = "".join(f"{1e3 * backends[k].cpu_timings().get(kd, (0, 0.0))[1] / steps:>12.3f}" for k in keys)
        print(f"    {kd:<11}{row}")
    total = "".join(f"{1e3 * sum(v[1] for v in backends[k].cpu_timings().values()) / steps:>12.3f}" for k in keys)
    print(f"    {'all tasks':<11}{total}")
    for b in backends.values():
        b.scheduler.shutdown()
    print(f"load at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
