"""md.run's cost model: the expected seconds of a run, from speeds measured on this machine.

An MD step's cost is its number of time steps divided by a speed (steps per second) for the system's
size, plus the set-up (pdbfixer, force field, minimisation). Both are measured, never guessed: the
first time a (solvent, platform, threads) combination is planned, a short calibration builds the
very system the plan will simulate, minimises it briefly and times up to a few hundred steps (at most
about ten seconds of them); every finished
``md.run`` in a research step afterwards refines the numbers with its own timing (``run.json``'s
performance; :func:`learn_from_run` is the tool's after-run hook). They are cached in
``$KENKYU_CACHE`` (default ``~/.cache/kenkyu``) as ``md_speed.json``.

Across sizes the speed is scaled linearly in the number of atoms (cut-off and PME systems), or
quadratically for vacuum (no cut-off): an estimate, said as such in the plan.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from kenkyu.core.science import Cost

CALIBRATION_STEPS = 200  # timed steps at most...
CALIBRATION_SECONDS = 10.0  # ...or fewer once this long has been timed (an explicit-water box is slow)
CALIBRATION_MIN_STEPS = 40  # but never fewer than this: a speed from a handful of steps is noise
# The calibration minimises only as far as stable steps need: a full minimisation of an explicit-water box
# took minutes on a busy 2-core machine, all before the approval card could show a cost. The real run's
# own set-up time replaces this one once it finishes (learn_from_run).
CALIBRATION_MIN_ITERATIONS = 200
# md.run and md.minimize minimise until converged (10 kJ/mol/nm) by default, which takes longer than the
# calibration's 200 iterations: benchmarks/bench_minimization_factor.py (CPU, implicit solvent) measured 1.15x for
# villin and 1.59x for DHFR on a quiet machine, 1.3x and 2.1x under load. A newcomer's DHFR minimisation was priced
# at 15 s and took minutes; the estimate now says this factor and errs long.
CONVERGED_MINIMIZATION_FACTOR = 2.5


def cache_path() -> Path:
    root = os.environ.get("KENKYU_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "kenkyu")
    return Path(root) / "md_speed.json"


def _load() -> dict:
    try:
        return json.loads(cache_path().read_text())
    except (OSError, ValueError):
        return {}


def _save(data: dict) -> None:
    from kenkyu.core.files import write_json_atomically

    try:
        write_json_atomically(cache_path(), data)
    except OSError:
        pass  # a read-only home: estimates are then measured again next time


def speed_key(solvent: str, reproducible: bool, platform: str | None) -> str:
    import openmm

    threads = "1thread" if reproducible else "threads"
    where = "CPU" if reproducible and not platform else (platform or "auto")
    return f"{solvent}/{where}/{threads}/openmm-{openmm.__version__}/{os.cpu_count()}cpu"


def _with_defaults(arguments: dict) -> dict:
    """The call's arguments with md.run's defaults filled in, equilibration as md.run will choose it."""
    import inspect

    from kenkyu.tools import md
    from kenkyu.tools.md._equilibration import equilibration

    defaults = {k: v.default for k, v in inspect.signature(md.run).parameters.items()}
    p = {**defaults, **arguments}
    p["nvt_ps"], p["npt_ps"], _ = equilibration(
        p["ps"], p["solvent"], p["friction_per_ps"], arguments.get("nvt_ps"), arguments.get("npt_ps")
    )
    return p


def md_steps(arguments: dict) -> int:
    """Time steps the run will take: NVT (+ NPT for explicit solvent) + production."""
    p = _with_defaults(arguments)
    ps = float(p["ps"]) + float(p["nvt_ps"]) + (float(p["npt_ps"]) if p["solvent"] == "explicit" else 0.0)
    return round(ps * 1000.0 / float(p["timestep_fs"]))


def run_steps(arguments: dict, n_atoms: int | None = None) -> tuple[str, ...]:
    """Every stage the call will run, with its length; defaults the caller never typed say so, with the
    rule that chose them and how to turn them off."""
    from kenkyu.tools.md._equilibration import rule

    p = _with_defaults(arguments)

    def given(name: str) -> str:
        if arguments.get(name) is not None:
            return ""
        if name == "nvt_ps":
            return f" (added by default: {rule(p['friction_per_ps'])}; nvt_ps=0 skips it)"
        return " (added by default, for the water box's density; npt_ps=0 skips it)"

    iterations = int(p["minimize_max_iterations"])
    stages = [
        f"prepare the structure (pdbfixer, hydrogens at pH {float(p['ph']):g}, {p['solvent']} solvent)",
        "minimise" + (f" (at most {iterations} iterations)" if iterations else " (until converged)"),
    ]
    if float(p["nvt_ps"]) > 0:
        stages.append(f"{float(p['nvt_ps']):g} ps NVT equilibration{given('nvt_ps')}")
    if p["solvent"] == "explicit" and float(p["npt_ps"]) > 0:
        stages.append(f"{float(p['npt_ps']):g} ps NPT equilibration{given('npt_ps')}")
    atoms = f", {n_atoms:,} atoms" if n_atoms else ""
    stages.append(
        f"{float(p['ps']):g} ps production, {p['solvent']} solvent{atoms} "
        f"({md_steps(arguments):,} steps of {float(p['timestep_fs']):g} fs in all)"
    )
    return tuple(stages)


def estimate_run(arguments: dict, *, measure: bool = True) -> Cost:
    """The expected cost of one ``md.run`` call: set-up plus time steps over the measured speed."""
    from kenkyu.tools.md._kernel import kernel_value

    held = kernel_value(arguments.get("structure"))
    if isinstance(held, (str, os.PathLike)) and not os.path.exists(str(arguments.get("structure"))):
        arguments = {**arguments, "structure": str(held)}  # structure=structure: the file the variable names
    solvent = arguments.get("solvent", "explicit")
    resumed = _resumed_run(arguments)
    if resumed is not None:
        return _estimate_resume(arguments, solvent, resumed, measure)
    steps = md_steps(arguments)
    entry, n_atoms, same = _measured_speed(arguments, solvent, bool(arguments.get("reproducible")), measure)
    if entry is None:
        return Cost(float("nan"), "no speed measured for this setup yet", run_steps(arguments))
    exponent = 2 if solvent == "vacuum" else 1
    scale = (n_atoms / entry["n_atoms"]) ** exponent
    iterations = int(arguments.get("minimize_max_iterations") or 0)
    setup_s, minimization = _setup_seconds(entry, iterations)
    seconds = setup_s * (n_atoms / entry["n_atoms"]) + steps * scale / entry["steps_per_s"]
    ns_day = entry["steps_per_s"] / scale * float(arguments.get("timestep_fs", 2.0)) * 1e-6 * 86400
    how = entry.get("source", "measured")
    basis = f"{steps:,} steps at {ns_day:.3g} ns/day for ~{n_atoms:,} atoms, {how}" + (
        "" if same else ", scaled by size"
    )
    return Cost(seconds, basis + minimization + busy_now(), run_steps(arguments, n_atoms))


RESUME_SETUP_S = 5.0  # loading system.xml and the checkpoint: a resume prepares and minimises nothing again


def _resumed_run(arguments: dict) -> tuple[Path, dict, dict | None] | None:
    """``(folder, run.json, last checkpoint's header)`` of the run a ``resume=True`` call continues; None when the
    call starts a run afresh (no resume=True, or no run with a checkpoint in its folder: md.run then starts over).
    The minimised start (minimized.chk) counts as a checkpoint at step 0, as md.run's resume uses it."""
    if not arguments.get("resume") or arguments.get("overwrite"):
        return None
    from kenkyu.tools.md import CHECKPOINT, MINIMIZED_CHECKPOINT, RUN_JSON, _folder_of_call
    from kenkyu.tools.md import _files as files

    try:
        folder = _folder_of_call(arguments)
        if not folder:
            return None
        folder = Path(folder)
        info = files.read_json(folder / RUN_JSON)
        if info.get("status") == "finished":
            return folder, info, None
        for name in (CHECKPOINT, MINIMIZED_CHECKPOINT):
            if (folder / name).is_file():
                return folder, info, files.read_checkpoint(folder / name)[0]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return None


def _estimate_resume(arguments: dict, solvent: str, resumed: tuple, measure: bool) -> Cost:
    """What a resume has left to simulate, from the run's own record (its steps, its atoms) and its last checkpoint,
    at the speed md.run's estimate uses: the card priced the whole run again (issue 13), minutes for a run stopped
    a few steps from its end."""
    folder, info, header = resumed
    if header is None:
        return Cost(
            1.0,
            f"{folder} holds this run, finished: resume=True reuses it and simulates nothing",
            (f"reuse the finished run in {folder}",),
        )
    recorded = info.get("steps") or {}
    p = info.get("parameters") or {}
    dt_ps = float(p.get("timestep_fs", arguments.get("timestep_fs", 2.0))) / 1000.0
    if recorded:
        equilibration = int(recorded.get("nvt", 0)) + int(recorded.get("npt", 0))
        production = int(recorded["production"])
    else:  # stopped while preparing, before the steps were recorded: the call's own
        production = round(float(_with_defaults(arguments)["ps"]) / dt_ps)
        equilibration = md_steps(arguments) - production
    step = int(header.get("step", 0))
    in_production = header.get("phase") == "production"
    done = equilibration + step if in_production else step
    total = equilibration + production
    left = max(0, total - done)
    where = (
        f"production step {step:,} ({step * dt_ps:g} of {production * dt_ps:g} ps)"
        if in_production
        else f"equilibration step {step:,} ({step * dt_ps:g} of {equilibration * dt_ps:g} ps)"
    )
    stages = (
        f"resume {folder} from its last checkpoint, {where}: no preparation or minimisation again",
        f"{left * dt_ps:g} ps left of {total * dt_ps:g} ps ({left:,} of {total:,} steps)",
    )
    entry, n_atoms, _ = _measured_speed(arguments, solvent, bool(arguments.get("reproducible")), measure)
    if entry is None:
        return Cost(float("nan"), "no speed measured for this setup yet", stages)
    n_atoms = int((info.get("system") or {}).get("n_atoms") or n_atoms)  # the run's own atoms, exactly
    scale = (n_atoms / entry["n_atoms"]) ** (2 if solvent == "vacuum" else 1)
    ns_day = entry["steps_per_s"] / scale * dt_ps * 1e-3 * 86400
    basis = (
        f"the {left:,} of {total:,} steps left after the last checkpoint, at {ns_day:.3g} ns/day for {n_atoms:,} "
        f"atoms, {entry.get('source', 'measured')}"
    )
    # Loading system.xml and a checkpoint never costs more than preparing and minimising afresh: on a small system
    # whose whole set-up is a few seconds, the flat RESUME_SETUP_S priced a resume above the whole run.
    fresh_setup_s = _setup_seconds(entry, 0)[0] * (n_atoms / entry["n_atoms"])
    setup_s = min(RESUME_SETUP_S, fresh_setup_s)
    return Cost(setup_s + left * scale / entry["steps_per_s"], basis + busy_now(), stages)


BUSY_LOAD_PER_CORE = 1.5  # more runnable processes than this per core: a run shares its core and slows down


def busy_now() -> str:
    """A note for the estimate when the machine is busier than when its speed was measured: the speed is this
    machine's, measured when it was calm, and a 1 ps DHFR card said "about 6 min" for a run that took 14.5 at
    load ~10 on 2 cores (h4 r11). The number is left as measured; the note says why it may run longer."""
    try:
        load, cores = os.getloadavg()[0], os.cpu_count() or 1
    except (AttributeError, OSError):  # no load average on this platform
        return ""
    if load <= BUSY_LOAD_PER_CORE * cores:
        return ""
    return f"; the machine is busy now (load {load:.1f} on {cores} cores): expect up to ~{load / cores:.0f}x longer"


def _measured_speed(arguments: dict, solvent: str, reproducible: bool, measure: bool) -> tuple[dict | None, int, bool]:
    """This machine's speed entry for the call's setup (calibrated now if ``measure`` and none is cached), the
    atoms the call's structure will have, and whether the entry was measured on that very structure."""
    structure = arguments.get("structure")
    entry = _load().get(speed_key(solvent, reproducible, arguments.get("platform")))
    if entry is None and measure and structure and os.path.exists(str(structure)):
        entry = calibrate(str(structure), solvent, reproducible, arguments.get("platform"))
    if entry is None:
        return None, 0, False
    same = entry.get("structure") == os.path.abspath(str(structure)) if structure else False
    if not same and structure and os.path.exists(str(structure)):
        return entry, _atoms_after_preparation(str(structure), solvent), False
    return entry, entry["n_atoms"], same


def _setup_seconds(entry: dict, iterations: int) -> tuple[float, str]:
    """Set-up seconds for a minimisation of ``iterations`` (0: until converged), and what the estimate assumed.

    A run's own timing (learn_from_run) is its real minimisation; a calibration timed only its first
    CALIBRATION_MIN_ITERATIONS iterations, so the rest of a converged minimisation is extrapolated."""
    timed = entry.get("minimize_s")
    if timed is None:  # measured by a run: its set-up is a whole minimisation already
        return float(entry["setup_s"]), ""
    if iterations and iterations <= CALIBRATION_MIN_ITERATIONS:
        return float(entry["setup_s"]), ""
    factor = CONVERGED_MINIMIZATION_FACTOR
    if iterations:
        factor = min(factor, iterations / CALIBRATION_MIN_ITERATIONS)
    extra = float(timed) * (factor - 1.0)
    return float(entry["setup_s"]) + extra, (
        f"; minimisation priced at {factor:g}x the {CALIBRATION_MIN_ITERATIONS} iterations timed "
        f"({float(timed) * factor:.0f} s)"
    )


def estimate_minimize(arguments: dict, *, measure: bool = True) -> Cost:
    """The expected cost of one ``md.minimize`` call, from the same calibration md.run's estimate uses; with
    ``resume=True`` on a folder that holds a finished minimisation, its reuse (the card priced it all again)."""
    solvent = arguments.get("solvent", "implicit")
    if arguments.get("resume") and not arguments.get("overwrite") and arguments.get("structure"):
        from kenkyu.tools.md._minimize_paths import MINIMIZATION_JSON, minimize_directory

        folder = arguments.get("out") or minimize_directory(arguments["structure"], solvent)
        if (Path(folder) / MINIMIZATION_JSON).is_file():
            return Cost(
                1.0,
                f"{folder} holds a finished minimisation: resume=True reuses it when its input and settings are "
                "these (nothing computed), and refuses it naming any difference",
                (f"reuse the finished minimisation in {folder}",),
            )
    entry, n_atoms, _ = _measured_speed(arguments, solvent, False, measure)
    if entry is None:
        return Cost(60.0, "pdbfixer, force field and L-BFGS on a small protein, typical, not measured")
    iterations = int(arguments.get("max_iterations") or 0)
    setup_s, minimization = _setup_seconds(entry, iterations)
    if not minimization:  # a run's timing: its set-up holds a converged minimisation already
        minimization = f"; {entry.get('source', 'measured')}"
    # L-BFGS costs force evaluations, which scale like a step does with size.
    scale = (n_atoms / entry["n_atoms"]) ** (2 if solvent == "vacuum" else 1)
    return Cost(setup_s * scale, f"set-up and minimisation for ~{n_atoms:,} atoms{minimization}")


def _atoms_after_preparation(structure: str, solvent: str) -> int:
    """Atoms the run will simulate, without building it: heavy atoms x 2 when the file has no hydrogens,
    plus water at 100 atoms/nm^3 in a box 1 nm wider than the protein on each side (explicit solvent)."""
    import mdtraj

    from kenkyu.tools._quiet import dummy_unit_cell_warning_silenced

    # Only atoms are counted here: an RCSB file's dummy 1 Å CRYST1 (NMR entries) made mdtraj warn in every
    # %%ask md_run cell about a unit cell this estimate never uses.
    with dummy_unit_cell_warning_silenced():
        top = mdtraj.load(structure)
    protein = top.atom_slice(top.topology.select("protein"))
    n = protein.n_atoms
    if not any(a.element.symbol == "H" for a in protein.topology.atoms):
        n *= 2
    if solvent == "explicit":
        extent = protein.xyz[0].max(axis=0) - protein.xyz[0].min(axis=0) + 2.0
        n += int(100 * float(extent.prod()))
    return n


def calibrate(structure: str, solvent: str, reproducible: bool, platform: str | None = None) -> dict:
    """Build the system as md.run will, minimise it briefly and time its steps (bounded in steps and in
    seconds); cache the speed."""
    import openmm
    from kenkyu.tools.md import _prepare as prep
    from openmm import unit
    from openmm.app import Simulation

    started = time.perf_counter()
    fixer, _ = prep.fix_structure(
        structure, ph=7.0, keep_water=False, keep_heterogens=False, add_terminal_residues=False
    )
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
    system = prep.create_system(forcefield, modeller, solvent=solvent)
    integrator = openmm.LangevinMiddleIntegrator(300 * unit.kelvin, 1 / unit.picosecond, 0.002 * unit.picoseconds)
    name = platform or ("CPU" if reproducible else None)
    if name:
        properties = {"Threads": "1"} if reproducible and name == "CPU" else {}
        chosen = openmm.Platform.getPlatformByName(name)
        simulation = Simulation(modeller.topology, system, integrator, chosen, properties)
    else:
        simulation = Simulation(modeller.topology, system, integrator)
    simulation.context.setPositions(modeller.positions)
    minimizing = time.perf_counter()
    simulation.minimizeEnergy(maxIterations=CALIBRATION_MIN_ITERATIONS)
    minimize_s = time.perf_counter() - minimizing
    simulation.context.setVelocitiesToTemperature(300 * unit.kelvin, 1)
    setup_s = time.perf_counter() - started
    simulation.step(20)  # warm-up (kernel compilation on GPUs)
    steps, timed = 0, time.perf_counter()
    while steps < CALIBRATION_STEPS:
        simulation.step(10)
        steps += 10
        if steps >= CALIBRATION_MIN_STEPS and time.perf_counter() - timed > CALIBRATION_SECONDS:
            break
    steps_per_s = steps / (time.perf_counter() - timed)
    entry = {
        "n_atoms": system.getNumParticles(),
        "steps_per_s": steps_per_s,
        "setup_s": setup_s,
        "minimize_s": minimize_s,  # the first CALIBRATION_MIN_ITERATIONS iterations only
        "structure": os.path.abspath(structure),
        "platform": simulation.context.getPlatform().getName(),
        "source": f"calibrated on this machine ({steps} steps)",
        "measured": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    data = _load()
    data[speed_key(solvent, reproducible, platform)] = entry
    _save(data)
    return entry


def learn_from_run(run) -> None:
    """Refine the cached speed with a finished run's own timing (production ns/day and set-up time)."""
    try:
        info = run.info
        p = info["parameters"]
        perf = info.get("performance", {})
        if info.get("status") != "finished" or not perf.get("production_wall_s"):
            return
        steps_per_s = perf["production_steps_timed"] / perf["production_wall_s"]
        entry = {
            "n_atoms": info["system"]["n_atoms"],
            "steps_per_s": steps_per_s,
            "setup_s": float(info.get("minimization", {}).get("wall_s", 0.0)) + 1.0,
            "structure": str(info.get("structure", "")),
            "platform": info.get("platform", {}).get("name"),
            "source": "measured by the last run on this machine",
            "measured": info.get("updated"),
        }
        data = _load()
        key = speed_key(p["solvent"], bool(p.get("reproducible")), p.get("platform"))
        old = data.get(key, {})
        if old.get("setup_s"):
            entry["setup_s"] = max(entry["setup_s"], old["setup_s"])  # the calibration timed pdbfixer too
        data[key] = entry
        _save(data)
    except (KeyError, TypeError, ValueError, OSError):
        return  # an odd run.json must not break the research loop
