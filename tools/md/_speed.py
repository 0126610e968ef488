"""How fast is kenkyu's dataflow backend on *your* system, next to OpenMM's CPU platform?

``kenkyu.tools.md.compare_backends("md_runs/villin_explicit")`` (the tool ``md_compare_backends``)
takes a run folder's system.xml and structure (or prepares a structure as md.run does), builds two
contexts on OpenMM's CPU platform in this process: one with OpenMM's own forces, one whose forces the
dataflow backend computes (:func:`kenkyu.kernels_md.dataflow_system`), warms both up, then times
``steps`` steps of each, interleaved (A B, B A, ...) ``repeats`` times, and reports ms/step, ns/day
and the speed ratio with its spread over the repeats. The speed is a measurement shown to the user;
it is never asserted by a test. Nothing is written.
"""

from __future__ import annotations

import math
import os
import statistics
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from kenkyu.core.science import Cost, checked_by, costs, result_check
from kenkyu.core.registry import tool
from kenkyu.tools.md._public import public

WARMUP_STEPS = 10
ENERGY_AGREEMENT = 1e-3  # relative difference of the starting potential energy between the backends
# kenkyu.kernels_md.dataflow_system's NonbondedForce methods (its module docstring says the same).
TAKEN_METHODS = (
    "NoCutoff, CutoffNonPeriodic, CutoffPeriodic (reaction field), or PME/Ewald (its direct space; "
    "not LJPME, parameter offsets, a switching function with the dispersion correction, or a triclinic box)"
)


def forces_left_to_openmm(dataflow, messages: list[str]) -> tuple[list[str], str | None]:
    """(forces OpenMM computes in the dataflow run too, why the NonbondedForce stayed whole with OpenMM or None).

    ``dataflow`` is what :func:`kenkyu.kernels_md.dataflow_system` returned, ``messages`` its warnings' texts.
    A PME/Ewald NonbondedForce whose direct space the backend took stays in the system for its reciprocal space
    only: that is not the NonbondedForce left to OpenMM.
    """
    left = sorted({m.split(": ", 1)[-1] for m in messages if "kernels_md" in m})
    nonbonded = None
    for force in dataflow.getForces():
        name = type(force).__name__
        if name in ("PythonForce", "CMMotionRemover"):
            continue
        if name == "NonbondedForce" and not force.getIncludeDirectSpace():
            if not any("NonbondedForce" in w for w in left):
                left.append("NonbondedForce's reciprocal space (the backend computes its direct space)")
            continue
        if name == "NonbondedForce":
            why = [w for w in left if "NonbondedForce" in w or "every force" in w]
            nonbonded = why[0] if why else "not taken by the backend"
        if not any(name in w for w in left):
            left.append(f"{name} (not taken by the backend)")
    if not any(type(f).__name__ == "PythonForce" for f in dataflow.getForces()):
        nonbonded = nonbonded or "the backend took no force"
    return left, nonbonded


@dataclass
class BackendComparison:
    """Timings of both backends on one system: ``.table`` (one row per repeat and backend), ``.figure``."""

    table: object  # pandas DataFrame: repeat, backend, steps, seconds, ms_per_step, ns_per_day
    system: str
    n_atoms: int
    timestep_fs: float
    threads: int | None
    energies_kj_mol: dict
    left_to_openmm: list[str] = field(default_factory=list)
    # Why the NonbondedForce (the force that dominates a solvated system's cost) stayed whole with OpenMM in the
    # dataflow run too; None when the backend took it (or its direct space) or the system has none.
    nonbonded_with_openmm: str | None = None
    load: float | None = None  # the 1-minute load average when the timings ended
    cores: int | None = None
    _figure: object = field(default=None, repr=False, compare=False)

    @property
    def ratios(self) -> list[float]:
        """Per repeat: OpenMM CPU ms/step divided by the dataflow backend's (> 1: the dataflow backend is faster)."""
        t = self.table
        openmm = t[t.backend == "openmm-cpu"].ms_per_step.to_numpy()
        dataflow = t[t.backend == "dataflow"].ms_per_step.to_numpy()
        return [float(a / b) for a, b in zip(openmm, dataflow)]

    def median_ms(self, backend: str) -> float:
        return float(self.table[self.table.backend == backend].ms_per_step.median())

    @property
    def figure(self):
        if self._figure is None:
            from matplotlib.figure import Figure

            figure = Figure(figsize=(5.0, 3.0), layout="constrained")
            axes = figure.add_subplot()
            for i, backend in enumerate(("openmm-cpu", "dataflow")):
                values = self.table[self.table.backend == backend].ms_per_step
                axes.bar(i, values.median(), color=("tab:blue", "tab:orange")[i], alpha=0.6)
                axes.plot([i] * len(values), values, "k.", ms=6)
            axes.set_xticks([0, 1], ["OpenMM CPU", "dataflow"])
            axes.set(ylabel="ms per step", title=f"{self.n_atoms:,} atoms, {len(self.ratios)} repeats")
            self._figure = figure
        return self._figure

    def verdict(self) -> str:
        """What the repeats show, and only that: a ratio whose repeats straddle 1.0 is no verdict."""
        ratios = self.ratios
        low, high = min(ratios), max(ratios)
        load = f"load {self.load:.1f} on {self.cores} cores" if self.load is not None and self.cores else "this load"
        more = max(5, 2 * len(ratios) + 1)
        steps = int(self.table.steps.iloc[0]) if "steps" in self.table and len(self.table) else 100
        longer = f", steps={max(100, 4 * steps)}" if steps < 100 else ""  # a few steps time the noise as much
        how = f"for a verdict rerun with more repeats (repeats={more}{longer}) on a quieter machine"
        if self.nonbonded_with_openmm:
            return (
                "does not measure the backend: the NonbondedForce, the force that dominates the cost, stayed with "
                f"OpenMM in the dataflow run too ({self.nonbonded_with_openmm}); the backend takes NonbondedForce "
                f"with {TAKEN_METHODS} — prepare the system with one of those to time the backend"
            )
        if len(ratios) < 2:
            return f"one repeat has no spread: not a verdict; {how}"
        if 0.95 <= low and high <= 1.05:
            return f"about the same: every repeat within 5% of OpenMM CPU ({load})"
        if low > 1.0:
            return f"faster in every repeat ({load})"
        if high < 1.0:
            return f"slower in every repeat ({load})"
        return f"not shown faster or slower at {load} — inconclusive: the repeats range both sides of 1.0x; {how}"

    def summary(self) -> str:
        ratios = self.ratios
        a, b = self.median_ms("openmm-cpu"), self.median_ms("dataflow")
        day = self.timestep_fs * 1e-6 * 86400 * 1000  # ns/day at 1 ms/step
        middle = statistics.median(ratios)
        lines = [
            f"Backend speed on {self.system} ({self.n_atoms:,} atoms, {self.timestep_fs:g} fs, "
            f"threads {self.threads or 'all'})",
            f"OpenMM CPU: {a:.3g} ms/step ({day / a:.3g} ns/day); dataflow: {b:.3g} ms/step ({day / b:.3g} ns/day)",
            f"dataflow runs at {middle:.2f}x OpenMM CPU's speed (median of {len(ratios)} interleaved repeats ranging "
            f"{min(ratios):.2f}-{max(ratios):.2f}x): {self.verdict()}",
            "starting potential energy: " + ", ".join(f"{k} {v:.8g} kJ/mol" for k, v in self.energies_kj_mol.items()),
        ]
        if self.left_to_openmm:
            lines.append("forces OpenMM computed in the dataflow run too: " + "; ".join(self.left_to_openmm))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        from kenkyu.tools._figures import figure_html, summary_html

        return summary_html(self.summary()) + figure_html(self.figure) + self.table.to_html(index=False)


COMPARE_EXPECTATIONS = (
    "both backends ran every timed step with finite energies",
    f"both backends give the same starting potential energy (relative difference < {ENERGY_AGREEMENT:g})",
)


@result_check(*COMPARE_EXPECTATIONS)
def comparison_is_sound(result):
    """Were both timings real (finite, all steps), and was it the same physics?"""
    e_ran, e_same = COMPARE_EXPECTATIONS
    t = result.table
    ok = len(t) and all(math.isfinite(v) and v > 0 for v in t.ms_per_step) and t.finite.all()
    yield (
        e_ran,
        "pass" if ok else "fail",
        f"{len(t)} timings; ratio spread {min(result.ratios):.2f}-{max(result.ratios):.2f}x",
    )
    a, b = result.energies_kj_mol["openmm-cpu"], result.energies_kj_mol["dataflow"]
    relative = abs(a - b) / max(abs(a), 1e-9)
    yield e_same, "pass" if relative < ENERGY_AGREEMENT else "warn", f"{a:.8g} vs {b:.8g} kJ/mol ({relative:.1e})"


def estimate_comparison(arguments: dict, *, measure: bool = True) -> Cost:
    """Both backends' timed and warm-up steps at a rough per-atom cost (~10 us per atom-step on CPU)."""
    atoms = 8000
    try:
        from kenkyu.tools.md import MDRun

        atoms = MDRun(arguments["system"]).info["system"]["n_atoms"]
    except (KeyError, TypeError, ValueError, OSError):
        pass
    steps = 2 * (int(arguments.get("steps", 100)) * int(arguments.get("repeats", 3)) + WARMUP_STEPS)
    return Cost(
        15.0 + steps * atoms * 1e-5, f"{steps:,} steps of ~{atoms:,} atoms at a typical CPU speed, not measured"
    )


def _load(system, solvent: str):
    """(name, topology, positions, openmm.System, timestep_fs, minimise?) from a run folder or a structure."""
    from openmm import XmlSerializer
    from openmm.app import PDBFile

    path = Path(system)
    if path.is_dir():
        from kenkyu.tools.md import MDRun

        run = MDRun(path)
        if not (path / "system.xml").exists() or not run.topology_path.exists():
            raise FileNotFoundError(f"{path} holds no system.xml and prepared.pdb: is it a kenkyu MD run folder?")
        start = run.final_pdb if run.final_pdb.exists() else run.topology_path
        pdb = PDBFile(str(start))
        openmm_system = XmlSerializer.deserialize((path / "system.xml").read_text())
        timestep = float(run.info.get("parameters", {}).get("timestep_fs", 2.0))
        return str(path), pdb.topology, pdb.positions, openmm_system, timestep, start != run.final_pdb
    if not path.is_file():
        raise FileNotFoundError(f"{path} is neither an MD run folder nor a structure file")
    from kenkyu.tools.md import _prepare as prep

    fixer, _ = prep.fix_structure(path, ph=7.0, keep_water=False, keep_heterogens=False, add_terminal_residues=False)
    ff_files = prep.force_field_files(solvent, "tip3p", None)
    forcefield, modeller = prep.build_model(
        fixer,
        solvent=solvent,
        solvate=True,
        ff_files=ff_files,
        water_model="tip3p",
        padding_nm=1.0,
        ionic_strength_molar=0.15,
    )
    openmm_system = prep.create_system(forcefield, modeller, solvent=solvent)
    return f"{path.name} ({solvent} solvent)", modeller.topology, modeller.positions, openmm_system, 2.0, True


@tool(
    approval="ask",
    keywords=(
        "compare backends",
        "dataflow backend speed",
        "benchmark",
        "how fast",
        "ns/day",
        "faster than openmm",
        "beats openmm",
        "openmm's cpu platform",
        "own force backend",
        "time the backends",
        "speed comparison",
        "kernels_md",
    ),
    produces="table",
    result_name="backend_speed",
)
@costs(estimate_comparison)
@checked_by(comparison_is_sound)
@public
def compare_backends(
    system: str | os.PathLike,
    steps: int = 100,
    repeats: int = 3,
    *,
    threads: int | None = None,
    solvent: Literal["explicit", "implicit", "vacuum"] = "explicit",
    precision: Literal["double", "mixed"] = "double",
    seed: int = 1,
) -> BackendComparison:
    """Compare the dataflow backend's speed with OpenMM's CPU platform on your own system.

    Both run the same System from the same positions and velocities in this process on OpenMM's CPU
    platform, one with OpenMM's own forces and one with the forces computed by kenkyu.kernels_md;
    after a warm-up, ``steps`` steps of each are timed, interleaved, ``repeats`` times. Reports ms/step,
    ns/day and the speed ratio with its spread. Writes nothing.

    Parameters
    ----------
    system
        An MD run folder (its system.xml and final or prepared structure) or a structure file to prepare.
    steps
        Time steps timed per backend and repeat.
    repeats
        Interleaved repeats (the spread of the ratio comes from them).
    threads
        CPU threads for both backends; default all cores.
    solvent
        For a structure file only: how to prepare it, as md_run would.
    precision
        The dataflow backend's arithmetic: "double" or "mixed".
    seed
        Seed for the starting velocities and the thermostat (the same for both backends).

    Returns
    -------
    BackendComparison
        ``.table`` (repeat, backend, ms_per_step, ns_per_day), ``.ratios``, ``.figure``, ``.summary()``.
    """
    import openmm
    import pandas as pd
    from kenkyu.kernels_md import dataflow_system
    from openmm import unit

    if steps < 1 or repeats < 1:
        raise ValueError("steps and repeats must be at least 1")
    name, topology, positions, base, timestep_fs, minimise = _load(system, solvent)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        options = {"precision": precision, **({"threads": threads} if threads else {})}
        dataflow = dataflow_system(base, **options)
    left, nonbonded = forces_left_to_openmm(dataflow, [str(w.message) for w in caught])
    properties = {"Threads": str(threads)} if threads else {}
    cpu = openmm.Platform.getPlatformByName("CPU")

    def context(of_system):
        integrator = openmm.LangevinMiddleIntegrator(
            300 * unit.kelvin, 1 / unit.picosecond, timestep_fs / 1000 * unit.picoseconds
        )
        integrator.setRandomNumberSeed(seed)
        return openmm.Context(of_system, integrator, cpu, properties), integrator

    contexts = {"openmm-cpu": context(base), "dataflow": context(dataflow)}
    reference = contexts["openmm-cpu"][0]
    reference.setPositions(positions)
    if minimise:  # a prepared, never-minimised structure would blow up at 2 fs
        openmm.LocalEnergyMinimizer.minimize(reference, 10.0, 200)
    start = reference.getState(getPositions=True).getPositions()
    energies = {}
    for key, (ctx, integrator) in contexts.items():
        ctx.setPositions(start)
        ctx.setVelocitiesToTemperature(300 * unit.kelvin, seed)
        energies[key] = ctx.getState(getEnergy=True).getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole)
        integrator.step(WARMUP_STEPS)  # compiles the kernels, builds the pair lists: not timed
    rows = []
    for repeat in range(repeats):
        order = list(contexts) if repeat % 2 == 0 else list(contexts)[::-1]
        for key in order:
            ctx, integrator = contexts[key]
            began = time.perf_counter()
            integrator.step(steps)
            energy = ctx.getState(getEnergy=True).getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole)
            seconds = time.perf_counter() - began
            ms = 1000 * seconds / steps
            rows.append(
                {
                    "repeat": repeat,
                    "backend": key,
                    "steps": steps,
                    "seconds": seconds,
                    "ms_per_step": ms,
                    "ns_per_day": timestep_fs * 1e-6 * 86400 * 1000 / ms,
                    "finite": math.isfinite(energy),
                }
            )
    table = pd.DataFrame(rows).sort_values(["backend", "repeat"], kind="stable").reset_index(drop=True)
    return BackendComparison(
        table=table,
        system=name,
        n_atoms=base.getNumParticles(),
        timestep_fs=timestep_fs,
        threads=threads,
        energies_kj_mol=energies,
        left_to_openmm=left,
        nonbonded_with_openmm=nonbonded,
        load=os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        cores=os.cpu_count(),
    )
