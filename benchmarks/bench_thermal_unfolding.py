"""Benchmark: the thermal-unfolding protocol on the villin headpiece, end to end, against the 10-minute bar.

Plans "Which part of villin unfolds first when heated?" with the protocol (as %%research would), runs its
ladder (a Gō model per temperature and replica, on a Dask LocalCluster) and its melting curve, and prints the
midpoint with its 95% CI, each segment's midpoint, the unfolding order, the verdict, the wall time and the
machine's load (the bar: under 10 minutes on a 2-core machine).

    python benchmarks/bench_thermal_unfolding.py [--out DIR] [--replicas 2] [--ps 300] [--fresh]

Finished temperatures in DIR are reused (the ladder resumes); --fresh starts over so the time is the full cost.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    # Outside the repository: the ladder's trajectories are results, not source.
    parser.add_argument("--out", default=str(Path(tempfile.gettempdir()) / "kenkyu_bench_thermal_unfolding"))
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--ps", type=float, default=300.0)
    parser.add_argument("--temperatures", type=int, default=8)
    parser.add_argument("--fresh", action="store_true", help="delete DIR first: time the whole ladder")
    args = parser.parse_args()

    from kenkyu.assistant import checks
    from kenkyu.assistant.research import judge, make_plan
    from kenkyu.core.registry import ToolRegistry
    from kenkyu.tools import unfolding

    out = Path(args.out)
    if args.fresh:
        shutil.rmtree(out, ignore_errors=True)
    print(f"start: {load()}", flush=True)
    started = time.perf_counter()
    registry = ToolRegistry.from_modules(["kenkyu.tools.unfolding"])
    question = (
        f"Which part of villin unfolds first when heated? {args.temperatures} temperatures, "
        f"{args.replicas} replicas of {args.ps:g} ps."
    )

    class NoModel:  # the protocol plans the question itself: no model is asked
        model_id = "none"

    plan = make_plan(question, registry, NoModel())
    ladder_step, curve_step = plan.steps
    ladder_step.arguments["out"] = str(out)
    print(f"plan ({time.perf_counter() - started:.1f} s): {plan.cost_text}; hypothesis: {plan.hypothesis}", flush=True)
    t0 = time.perf_counter()
    ladder = unfolding.ladder(**ladder_step.arguments)
    ladder_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    melt = unfolding.melting_curve(ladder.directory)
    curve_s = time.perf_counter() - t0
    report = checks.check_results(
        {"unfolding_ladder": ladder, "unfolding_melting_curve": melt}, protocol="thermal-unfolding"
    )
    verdict, why = judge(plan, report, {}, {})
    wall = time.perf_counter() - started
    print(ladder.summary())
    print(melt.summary())
    print(report.summary())
    print(f"verdict: {verdict} — " + " | ".join(why))
    print(
        f"wall time {wall:.0f} s (ladder {ladder_s:.0f} s, melting curve {curve_s:.0f} s; estimate was "
        f"{plan.cost_text}); bar: under 600 s — {'met' if wall < 600 else 'MISSED'}"
    )
    print(f"end: {load()}")
    record = {
        "wall_s": wall,
        "ladder_s": ladder_s,
        "melting_curve_s": curve_s,
        "estimate_s": plan.total_cost_s,
        "tm_k": melt.tm_k,
        "tm_ci_k": melt.tm_ci_k,
        "order": melt.data["order"],
        "verdict": verdict,
        "load_end": os.getloadavg(),
        "cpus": os.cpu_count(),
    }
    (out / "benchmark.json").write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":  # Dask's worker processes import this module: run only when called
    main()
