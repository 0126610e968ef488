"""Overhead of kenkyu.tools.md.run over a plain OpenMM script with the same settings, same machine, one run.

Both integrate the same System (kenkyu's own system.xml and prepared.pdb) for the same number of steps
with the same integrator, platform and reporters (DCD + state-data CSV every report interval, a
checkpoint every checkpoint interval). Only production is timed: kenkyu's figure is the
``production_wall_s`` it records in run.json; the plain script times ``simulation.step(n)``. The plain
script runs before and after kenkyu and its mean is used, so drift in machine load affects both.

    python benchmarks/bench_md_overhead.py                # villin, implicit solvent, CPU, 2 ps
    dhfr=$(python -c 'import kenkyu.tools.md as m; print(m.example_structure("dhfr"))')
    python benchmarks/bench_md_overhead.py --structure "$dhfr" --ps 1

Prints the two timings and the ratio (goal: kenkyu at most 2% slower).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path


def plain_openmm(run_dir: Path, params: dict, platform: str, out: Path) -> float:
    """The script a scientist would write by hand; returns the wall time of the production steps."""
    import openmm
    from openmm import unit
    from openmm.app import CheckpointReporter, DCDReporter, PDBFile, Simulation, StateDataReporter

    pdb = PDBFile(str(run_dir / "prepared.pdb"))
    system = openmm.XmlSerializer.deserialize((run_dir / "system.xml").read_text())
    dt = params["timestep_fs"] / 1000
    integrator = openmm.LangevinMiddleIntegrator(
        params["temperature_k"] * unit.kelvin,
        params["friction_per_ps"] / unit.picosecond,
        dt * unit.picoseconds,
    )
    integrator.setRandomNumberSeed(params["seed"])
    simulation = Simulation(pdb.topology, system, integrator, openmm.Platform.getPlatformByName(platform))
    simulation.context.setPositions(pdb.positions)
    simulation.minimizeEnergy(maxIterations=params["minimize_max_iterations"])
    simulation.context.setVelocitiesToTemperature(params["temperature_k"] * unit.kelvin, params["seed"])
    report = max(1, round(params["report_interval_ps"] / dt))
    checkpoint = max(1, round(params["checkpoint_interval_ps"] / params["report_interval_ps"])) * report
    explicit = params["solvent"] == "explicit"
    simulation.reporters += [
        DCDReporter(str(out / "plain.dcd"), report),
        StateDataReporter(
            str(out / "plain.csv"),
            report,
            step=True,
            time=True,
            potentialEnergy=True,
            kineticEnergy=True,
            totalEnergy=True,
            temperature=True,
            volume=explicit,
            density=explicit,
            speed=True,
        ),
        CheckpointReporter(str(out / "plain.chk"), checkpoint),
    ]
    steps = round(params["ps"] / dt)
    started = time.perf_counter()
    simulation.step(steps)
    return time.perf_counter() - started


def main(argv=None) -> int:
    import statistics

    from kenkyu.tools import md

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--structure", default=str(md.example_structure("villin")))
    parser.add_argument("--ps", type=float, default=1.0, help="production ps per timed run")
    parser.add_argument("--rounds", type=int, default=3, help="alternating plain/kenkyu rounds")
    parser.add_argument("--solvent", default="implicit", choices=("explicit", "implicit", "vacuum"))
    parser.add_argument("--platform", default="CPU")
    parser.add_argument("--report-interval-ps", type=float, default=0.1)
    parser.add_argument("--checkpoint-interval-ps", type=float, default=1.0)
    args = parser.parse_args(argv)

    options = dict(
        ps=args.ps,
        solvent=args.solvent,
        nvt_ps=0.0,
        npt_ps=0.0,
        report_interval_ps=args.report_interval_ps,
        checkpoint_interval_ps=args.checkpoint_interval_ps,
        minimize_max_iterations=100,
        platform=args.platform,
        seed=1,
        padding_nm=0.8,
    )
    plain_times, kenkyu_times = [], []
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        # Prepare once (fix, solvate, system) so the plain script integrates exactly kenkyu's System.
        warmup = md.run(
            args.structure,
            out=folder / "warmup",
            progress=False,
            **{**options, "ps": options["report_interval_ps"]},
        )
        params = {**warmup.info["parameters"], "ps": args.ps}
        # Alternate the two, so a change in machine load hits both; the minimum is the least disturbed run.
        for round_ in range(args.rounds):
            plain_times.append(plain_openmm(warmup.directory, params, args.platform, folder))
            run = md.run(args.structure, out=folder / f"kenkyu{round_}", progress=True, **options)
            kenkyu_times.append(run.info["performance"]["production_wall_s"])
            info = run.info

    steps = info["performance"]["production_steps_timed"]
    ns = args.ps / 1000
    print(
        f"system: {Path(args.structure).name}, {args.solvent} solvent, {info['system']['n_atoms']} atoms, "
        f"{steps} steps per run, {args.rounds} rounds, platform {info['platform']['name']}"
    )
    for name, times in (("kenkyu md.run production", kenkyu_times), ("plain OpenMM script", plain_times)):
        print(
            f"{name:26s}: min {min(times):7.2f} s  median {statistics.median(times):7.2f} s  "
            f"({ns / (min(times) / 86400):.3g} ns/day at min)  runs: {', '.join(f'{t:.2f}' for t in times)}"
        )
    ratio = min(kenkyu_times) / min(plain_times)
    print(
        f"ratio kenkyu / plain (min): {ratio:.3f}  "
        f"median: {statistics.median(kenkyu_times) / statistics.median(plain_times):.3f}"
        f"  (goal <= 1.02: {'met' if ratio <= 1.02 else 'not met'})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
