"""A coarse-grained simulation: a Cα Gō model (one bead per residue) run on kenkyu's dataflow backend.

``kenkyu.tools.md.coarse_grained("villin.pdb", ps=100, temperature_k=300)`` (the tool
``md_coarse_grained``) builds :func:`kenkyu.kernels_md.build_go_model` from the all-atom structure,
hands its forces to :func:`kenkyu.kernels_md.dataflow_system` (or leaves them to OpenMM with
``backend="openmm"``), runs Langevin dynamics at ``temperature_k`` and follows the fraction of native
contacts Q: near 1 while the model stays folded, falling as it unfolds at high temperature. The folder::

    md_runs/villin_cg_300K/
        native.pdb      the beads at the native structure (the trajectory's topology)
        trajectory.dcd  one frame per report interval
        q.csv           frame, time_ps, q, rg_nm, potential_kj_mol, temperature_k
        q.png           Q and Rg over time
        cg.json         parameters, model size, backend, speed, seed, status

is written under a temporary name and renamed when the run finished: a failure leaves no half-made folder.
"""

from __future__ import annotations

import inspect
import numbers
import math
import os
import secrets
import shutil
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from kenkyu.core.registry import tool
from kenkyu.core.science import NOTHING_KEPT, Cost, checked_by, computes, costs, result_check, when_routed, writes
from kenkyu.tools.md import _files as files
from kenkyu.tools.md._frames import default_report_interval
from kenkyu.tools.md._errors import RunExistsError, RunInterrupted, SimulationUnstableError, UnphysicalSettingError
from kenkyu.tools.md._interrupt import interrupt_deferred
from kenkyu.tools.md._public import public, structure_stem
from kenkyu.tools.md._routing import short_cg_unless_stated
from kenkyu.tools.md._run_folder import FolderChoice, choose_run_folder

CG_JSON = "cg.json"
GAS_CONSTANT_KJ = 0.00831446261815324  # kJ/(mol K)
TEMPERATURE_TOLERANCE = 0.15  # a few dozen beads: the kinetic temperature fluctuates by ~15% per frame

# (low, high, why), inclusive: the bead model's settings, checked before anything is made. A value outside ran
# before: 5000 K gave a "finished" run of a random coil, and a 100 fs step a "finished" run whose beads had flown
# 1000 nm apart (villin's model, measured 2026-12-01: 10-80 fs hold 300 K and 700 K with every bond intact; 100 fs
# blew up).
CG_RANGES = {
    "temperature_k": (
        1.0,
        1500.0,
        "a Gō model's folding temperature is a few hundred kelvin in these units (villin's model unfolds near "
        "650 K); far above it the chain is a random coil and the run measures nothing",
    ),
    "timestep_fs": (
        1.0,
        50.0,
        "the beads' bonds vibrate with a ~330 fs period; 10 fs is the default, villin's model stayed stable to "
        "80 fs and blew up at 100 fs",
    ),
    "friction_per_ps": (0.0, 100.0, "Langevin friction of 0.1-10 /ps is usual (1 /ps is the default)"),
}
BOND_STRETCH_LIMIT = 2.5  # a bead bond this many times its native length (~0.38 nm) is a broken integration


def check_cg_settings(ps, temperature_k, timestep_fs, friction_per_ps, report_interval_ps) -> None:
    """Refuse a coarse-grained setting outside its range (UnphysicalSettingError: the value, the range, why)."""
    values = {"ps": ps, "temperature_k": temperature_k, "timestep_fs": timestep_fs,
              "friction_per_ps": friction_per_ps, "report_interval_ps": report_interval_ps}  # fmt: skip
    if report_interval_ps is None:  # not given: chosen from ps and timestep_fs once they are checked
        values.pop("report_interval_ps")
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
            raise UnphysicalSettingError(f"{name} must be a finite number, got {value!r}")
    for name in ("ps", "report_interval_ps"):
        if name in values and not values[name] > 0:
            raise UnphysicalSettingError(f"{name} must be positive (in ps), got {values[name]:g}")
    for name, (low, high, why) in CG_RANGES.items():
        if not low <= values[name] <= high:
            raise UnphysicalSettingError(
                f"{name}={values[name]:g} is outside the coarse-grained model's range {low:g}-{high:g}: {why}."
            )
    if report_interval_ps is not None and report_interval_ps > ps:
        raise UnphysicalSettingError(
            f"report_interval_ps ({report_interval_ps:g}) is longer than the run (ps={ps:g}): no frame would be "
            "saved; give a report_interval_ps of at most ps"
        )


def cg_directory(structure, temperature_k: float = 300.0, seed: int | None = None) -> str:
    """The folder :func:`coarse_grained` writes when no ``out=`` is given.

    A seed given by the caller is in the name: "the same again with seed 2" is a replica, and it went to the
    first run's folder and was refused (RunExistsError) although nothing asked to replace anything.
    """
    seeded = f"_seed{int(seed)}" if seed is not None else ""
    return f"md_runs/{structure_stem(structure)}_cg_{float(temperature_k):g}K{seeded}"


def _folder_of_call(arguments: dict) -> str | None:
    if arguments.get("out"):
        return str(arguments["out"])
    if not arguments.get("structure"):
        return None
    call = {**_cg_defaults(), **arguments}
    if call["overwrite"]:
        return cg_directory(call["structure"], call["temperature_k"], call["seed"])
    try:
        settings = _settings_of(call)
    except (TypeError, ValueError):
        return cg_directory(call["structure"], call["temperature_k"], call["seed"])
    given = call["report_interval_ps"] is not None
    return str(_cg_folder(Path(call["structure"]), settings, call["seed"], given).folder)


def _cg_defaults() -> dict:
    return {
        name: parameter.default
        for name, parameter in inspect.signature(coarse_grained).parameters.items()
        if parameter.default is not inspect.Parameter.empty
    }


def _settings_of(call: dict) -> dict:
    """What makes two runs the same run (a resume compares them with the folder's cg.json; cg.json records them)."""
    return {
        "ps": float(call["ps"]),
        "temperature_k": float(call["temperature_k"]),
        "timestep_fs": float(call["timestep_fs"]),
        "friction_per_ps": float(call["friction_per_ps"]),
        "report_interval_ps": float(
            call["report_interval_ps"]
            if call.get("report_interval_ps") is not None
            else default_report_interval(call["ps"], call["timestep_fs"])[0]
        ),
        "backend": call["backend"],
    }


def _cg_folder(structure: Path, settings: dict, seed, interval_given: bool = True) -> FolderChoice:
    """The folder a call without ``out=`` writes: the default one, or a free one beside it when the default holds
    a run of other settings ("a longer one" after a short run was refused after its approval, as md.run's was)."""
    default = Path(cg_directory(structure, settings["temperature_k"], seed))
    requested = {**settings, "seed": seed}
    return choose_run_folder(
        default,
        requested,
        lambda held: _differences(held.get("parameters", {}), requested, structure, interval_given),
        CG_JSON,
    )


def estimate_cg(arguments: dict, *, measure: bool = True) -> Cost:
    """~1 ms a step per 100 beads (one bead per Cα of the structure; ~100 when it cannot be read yet): DHFR's card
    said "~100 beads" for its 159 (h4 r11)."""
    steps = float(arguments.get("ps", 100.0)) * 1000 / float(arguments.get("timestep_fs", 10.0))
    beads = _beads_in(arguments.get("structure"))
    if beads is None:
        return Cost(10.0 + steps * 1e-3, f"{steps:,.0f} steps at ~1 ms/step for ~100 beads, typical, not measured")
    return Cost(
        10.0 + steps * 1e-3 * beads / 100,
        f"{steps:,.0f} steps at ~1 ms/step per 100 beads, {beads} beads (one per Cα), typical, not measured",
    )


def _beads_in(structure) -> int | None:
    """The Cα atoms of a structure file (the Gō model's beads), or None when there is no file to read."""
    if not isinstance(structure, (str, os.PathLike)) or not Path(structure).is_file():
        return None
    try:
        import mdtraj

        return len(mdtraj.load_topology(str(structure)).select("name CA")) or None
    except Exception:  # noqa: BLE001 - an unreadable file: the call itself will say why; the price stays typical
        return None


@dataclass
class CoarseGrainedRun:
    """A coarse-grained run folder: Q and Rg over time (``.table``), the figure and the trajectory."""

    directory: Path
    _figure: object = field(default=None, repr=False, compare=False)

    def __post_init__(self):
        self.directory = Path(self.directory)

    @property
    def info(self) -> dict:
        return files.read_json(self.directory / CG_JSON)

    @property
    def status(self) -> str:
        """finished, interrupted (Stop, or a kill already noticed), running, or killed (its process is gone)."""
        info = self.info
        if info.get("status") == "running" and not _writer_alive(info):
            return "killed"
        return info.get("status", "unknown")

    def state(self) -> str:
        """What the folder holds, in words: how far the run got, and what resume=True does with it."""
        info, status = self.info, self.status
        p, kept = info["parameters"], info.get("n_frames", 0)
        rerun = f"resume=True runs it again from 0 ps with its seed {p['seed']} (a Gō run keeps no checkpoint)"
        if status == "running":
            return f"running: {kept} of {info.get('planned_frames')} frames so far (process {info.get('pid')})"
        if status == "killed":
            reached = kept * p["report_interval_ps"]
            return (
                f"killed at {reached:g} of {p['ps']:g} ps (its process ended without a clean stop); "
                f"{kept} frames kept; {rerun}"
            )
        if status == "interrupted":
            return f"{info.get('interrupted', 'interrupted')}; {kept} frames kept; {rerun}"
        return status

    @property
    def table(self):
        """One row per frame: frame, time_ps, q, rg_nm, potential_kj_mol, temperature_k (a pandas DataFrame)."""
        import pandas as pd

        return pd.read_csv(self.directory / "q.csv")

    @property
    def figure(self):
        if self._figure is None:
            self._figure = _figure(self.table, self.info)
        return self._figure

    def trajectory(self):
        """The bead trajectory as an ``mdtraj.Trajectory`` (time in ps). A run that blew up is refused with its
        reason: its frames are kept for a look, not for analysis."""
        import mdtraj

        if self.info.get("status") == "failed":
            from kenkyu.tools.md._errors import RunFailedError

            raise RunFailedError(
                f"The coarse-grained run in {self.directory} failed, so its frames cannot be trusted: "
                f"{self.info.get('error') or 'no reason recorded'} Run it again with the fix the error names "
                "(overwrite=True), then analyse the new run."
            )

        from kenkyu.tools._quiet import native_stdout_silenced

        with native_stdout_silenced():  # the DCD reader's "dcdplugin)" chatter
            traj = mdtraj.load(str(self.directory / "trajectory.dcd"), top=str(self.directory / "native.pdb"))
        traj.time = self.frame_times(traj.n_frames)
        return traj

    def frame_times(self, n_frames: int):
        """Time in ps of each saved frame: frame i was written after i + 1 report intervals."""
        import numpy as np

        return self.info["parameters"]["report_interval_ps"] * (1 + np.arange(n_frames))

    def summary(self) -> str:
        i, t = self.info, self.table
        p = i["parameters"]
        third = max(1, len(t) // 3)
        late = t["q"].iloc[-third:]
        speed = f"{i['ms_per_step']:.3g} ms/step" if i.get("ms_per_step") else "speed not measured yet"
        return "\n".join(
            [
                f"Coarse-grained (Gō) run {self.directory} ({self.state()})",
                f"{i['n_beads']} beads, {i['n_native_contacts']} native contacts; {p['temperature_k']:g} K, "
                f"{p['ps']:g} ps at {p['timestep_fs']:g} fs on the {p['backend']} backend "
                f"({speed}), seed {p['seed']}",
                f"Q (fraction of native contacts): first frame {t['q'].iloc[0]:.2f}, mean over the last third "
                f"{late.mean():.2f} (sd {late.std(ddof=0):.2f}), final {t['q'].iloc[-1]:.2f}",
                f"Rg mean {t['rg_nm'].mean():.3f} nm; kinetic temperature mean {t['temperature_k'].mean():.0f} K",
                f"files: {', '.join(str(self.directory / n) for n in ('trajectory.dcd', 'q.csv', 'q.png', CG_JSON))}",
            ]
        )

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        from kenkyu.tools._figures import figure_html, summary_html

        return summary_html(self.summary()) + figure_html(self.figure)


def _figure(table, info):
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8.0, 3.0), layout="constrained")
    left, right = figure.subplots(1, 2)
    left.plot(table.time_ps, table.q, lw=1.2)
    left.set(xlabel="time (ps)", ylabel="Q (fraction of native contacts)", ylim=(0, 1.05))
    right.plot(table.time_ps, table.rg_nm, lw=1.2, color="tab:orange")
    right.set(xlabel="time (ps)", ylabel="Rg (nm)")
    figure.suptitle(f"Gō model, {info['parameters']['temperature_k']:g} K ({info['parameters']['backend']} backend)")
    return figure


CG_EXPECTATIONS = (
    "the run finishes all its frames with finite energies",
    f"the mean kinetic temperature is within {TEMPERATURE_TOLERANCE:.0%} of the target",
)


@result_check(*CG_EXPECTATIONS)
def cg_is_sound(run):
    """Did the coarse-grained run finish, stay finite and hold its temperature?"""
    run = run if isinstance(run, CoarseGrainedRun) else CoarseGrainedRun(run)
    e_done, e_temp = CG_EXPECTATIONS
    info, table = run.info, run.table
    expected = info["n_frames"]
    finite = all(math.isfinite(v) for v in table.potential_kj_mol)
    ok = info.get("status") == "finished" and len(table) == expected and finite
    yield (
        e_done,
        "pass" if ok else "fail",
        f"{len(table)} of {expected} frames, energies {'' if finite else 'not '}finite",
    )
    target = info["parameters"]["temperature_k"]
    mean = float(table.temperature_k.mean())
    off = abs(mean - target) / target
    yield e_temp, "pass" if off < TEMPERATURE_TOLERANCE else "warn", f"mean {mean:.0f} K for {target:g} K"


@tool(
    approval="ask",
    writes_files=True,
    keywords=(
        "coarse-grained",
        "coarse grained",
        "cg model",
        "go model",
        "go-model",
        "gō model",
        "gō-model",
        "go simulation",
        "fraction of native contacts",
        "unfolding temperature",
        "one bead per residue",
    ),
    produces="run_folder",
    result_name="cg_run",
)
@writes(_folder_of_call)
@costs(estimate_cg)
@checked_by(cg_is_sound)
@when_routed(short_cg_unless_stated)
@public
@computes(
    "go model",
    "coarse grained",
    "coarse grained model",
    "c alpha model",
    "bead model",
    "structure based model",
    "fraction of native contacts",
    "stays folded",
    "stay folded",
    "folding temperature",
)
def coarse_grained(
    structure: str | os.PathLike,
    ps: float = 100.0,
    out: str | os.PathLike | None = None,
    *,
    temperature_k: float = 300.0,
    timestep_fs: float = 10.0,
    friction_per_ps: float = 1.0,
    report_interval_ps: float | None = None,
    backend: Literal["dataflow", "openmm"] = "dataflow",
    threads: int | None = None,
    seed: int | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = True,
) -> CoarseGrainedRun:
    """Coarse-grained simulation of a protein: a Cα Gō model (one bead per residue) on the dataflow backend.

    Builds the Gō model from the all-atom structure (native contacts 12-10, Debye-Hückel electrostatics),
    runs Langevin dynamics at ``temperature_k`` and records the fraction of native contacts Q and the
    radius of gyration over time: Q stays near 1 while the model is folded and falls as it unfolds
    (for villin's model, around 300 K folded, 650 K unfolding). Much cheaper than all-atom MD.

    Parameters
    ----------
    structure
        Path of an all-atom PDB or mmCIF file (one bead is placed on each residue's C-alpha).
    ps
        Length of the run in picoseconds (model time).
    out
        Run folder to create; default ``md_runs/<structure name>_cg_<temperature>K`` (``..._seed<seed>`` when a
        seed is given, so replicas with other seeds do not collide).
    temperature_k
        Temperature in kelvin.
    timestep_fs
        Integration time step in femtoseconds (10 fs suits the bead model).
    friction_per_ps
        Langevin friction coefficient in 1/ps.
    report_interval_ps
        Interval in ps between saved frames and Q values; default every 1 ps, or for a run shorter than 10 ps
        the largest round interval that saves at least 10 frames (a 2 ps run: every 0.2 ps), as md.run chooses.
        On resume, left out, the run's own.
    backend
        ``"dataflow"`` (kenkyu.kernels_md computes the forces) or ``"openmm"`` (OpenMM's own custom forces).
    threads
        Worker threads of the dataflow backend; default all cores.
    seed
        Random seed for velocities and thermostat; drawn and recorded when omitted.
    resume
        Reuse the finished run in ``out`` when it was made with the same parameters (a re-run notebook gets
        the same numbers and simulates nothing); start it when ``out`` holds no run. A run of other parameters
        is refused, naming them. An interrupted run (its frames kept, no checkpoint) is run again from 0 ps
        with its seed; the kept frames stay until it finishes.
    overwrite
        Replace an earlier run in ``out``.
    progress
        Show a progress bar.

    Returns
    -------
    CoarseGrainedRun
        ``.table`` (Q, Rg, energy, temperature per frame), ``.figure``, ``.trajectory()``, ``.summary()``.
    """
    import numpy as np
    import openmm
    from kenkyu.tools.md import _now, _versions
    from openmm import unit
    from openmm.app import PDBFile
    from tqdm.auto import tqdm

    check_cg_settings(ps, temperature_k, timestep_fs, friction_per_ps, report_interval_ps)
    if backend not in ("dataflow", "openmm"):
        raise ValueError(f"backend must be 'dataflow' or 'openmm', not {backend!r}")
    interval_given = report_interval_ps is not None
    if not interval_given:
        report_interval_ps, _ = default_report_interval(ps, timestep_fs)
    path = Path(structure)
    settings = _settings_of(
        {
            "ps": ps,
            "temperature_k": temperature_k,
            "timestep_fs": timestep_fs,
            "friction_per_ps": friction_per_ps,
            "report_interval_ps": report_interval_ps,
            "backend": backend,
        }
    )
    if out is not None:
        directory = Path(out)
    elif overwrite:
        directory = Path(cg_directory(structure, temperature_k, seed))
    else:
        choice = _cg_folder(path, settings, seed, interval_given)
        directory = choice.folder
        if choice.reason:
            print(choice.note)
    _settle_killed_run(directory)  # a run whose process was killed outright reads as interrupted from here on
    if directory.exists() and any(directory.iterdir()) and not overwrite:
        if not resume:
            held = files.read_json(directory / CG_JSON) if (directory / CG_JSON).is_file() else {}
            if held.get("status") == "failed":
                raise RunExistsError(
                    f"{directory} holds a coarse-grained run that failed ({held.get('error', 'no reason recorded')}) "
                    "Pass overwrite=True (with the fix the error names) to replace it, or another out="
                )
            if held.get("status") == "interrupted":
                raise RunExistsError(
                    f"{directory} holds an interrupted coarse-grained run ({held.get('interrupted')}, "
                    f"{held.get('n_frames')} frames kept): pass resume=True to run it again from 0 ps with its seed "
                    "(the kept frames stay until it finishes), overwrite=True to replace it, or another out="
                )
            raise RunExistsError(
                f"{directory} already exists: pass resume=True to reuse it (same parameters), overwrite=True to "
                "replace it, or another out="
            )
        kept = _finished_run(directory, path, {**settings, "seed": seed}, interval_given)
        if kept.status == "finished":
            return kept
        seed = kept.info["parameters"]["seed"]  # interrupted: the same run again, from 0 ps, with its seed
        report_interval_ps = kept.info["parameters"]["report_interval_ps"]  # and its frames (the default may differ)
        settings["report_interval_ps"] = float(report_interval_ps)
        print(
            f"{directory} holds {kept.info.get('n_frames', 0)} frames of a run {kept.info.get('interrupted')}. "
            f"A Gō run keeps no checkpoint: running it again from 0 ps with its seed {seed} (the same frames, then "
            "the rest); the kept frames stay until it finishes."
        )
    from kenkyu.kernels_md import build_go_model
    from kenkyu.tools.md._prepare import read_structure_file

    pdb = read_structure_file(path)  # a missing, empty or malformed file is a StructureError naming it, as in md.run
    model = build_go_model(pdb)
    system = model.system
    if backend == "dataflow":
        from kenkyu.kernels_md import dataflow_system

        system = dataflow_system(model.system, **({"threads": threads} if threads else {}))
    seed = secrets.randbelow(2**31 - 1) if seed is None else int(seed)
    dt_ps = timestep_fs / 1000.0
    report_steps = max(1, round(report_interval_ps / dt_ps))
    n_frames = round(ps / report_interval_ps)
    integrator = openmm.LangevinMiddleIntegrator(
        temperature_k * unit.kelvin, friction_per_ps / unit.picosecond, dt_ps * unit.picoseconds
    )
    integrator.setRandomNumberSeed(seed)
    context = openmm.Context(system, integrator, openmm.Platform.getPlatformByName("Reference"))
    context.setPositions(model.positions)
    context.setVelocitiesToTemperature(temperature_k * unit.kelvin, seed)
    bonded = _bonded_pairs(model.system)

    # A new run writes straight into its folder, frame by frame, with a progress record (cg.json, status
    # "running"), so a kernel killed outright (the OOM killer, "Restart kernel") leaves the frames so far there.
    # A run that replaces something (overwrite=, or a rerun of kept frames) is made beside it and moved into
    # place when it ends: what the folder held stays until then.
    in_place = not (directory.exists() and any(directory.iterdir()))
    work = directory if in_place else directory.with_name(f".{directory.name}.partial")
    if not in_place:
        shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    parameters = {
        "structure": str(path.resolve()),
        "structure_sha256": _sha256(path),
        **settings,
        "threads": threads,
        "seed": seed,
    }
    about = {
        "kenkyu_cg_run": 1,
        "parameters": parameters,
        "model": "Cα Gō model (kenkyu.kernels_md.build_go_model)",
        "n_beads": len(model.positions),
        "n_native_contacts": int(len(model.contacts)),
        "sequence": model.sequence,
        "platform": context.getPlatform().getName(),
    }
    try:
        with open(work / "native.pdb", "w") as handle:
            # keepIds: the file's residue numbers and chain ids (MET41 … PHE76 of villin, as md.run's final.pdb keeps
            # them), not 1..n: an RMSF of this run beside an all-atom one names the same residues (newcomer r12).
            PDBFile.writeFile(model.topology, model.positions * unit.nanometer, handle, keepIds=True)
        n = len(model.positions)
        started = time.perf_counter()
        with (
            _FrameWriter(work, model.topology, dt_ps, report_steps, about, n_frames) as frames,
            interrupt_deferred() as stop,
        ):
            for frame in tqdm(range(n_frames), disable=not progress, desc=f"CG {directory.name}", unit="frame"):
                try:
                    integrator.step(report_steps)
                except openmm.OpenMMException as exc:
                    from kenkyu.kernels_md.cells import BLOWN_APART

                    if BLOWN_APART not in str(exc):
                        raise
                    # kernels_md refuses a cell grid for beads flown apart (it once took all the memory, rc 137)
                    why = str(exc).split(f"{BLOWN_APART}: ", 1)[-1].split(". ", 1)[0]
                    raise SimulationUnstableError(
                        f"The coarse-grained run blew up before frame {frame + 1} ({why}; timestep_fs="
                        f"{timestep_fs:g}, {temperature_k:g} K). Use a smaller timestep_fs (10 fs is the default) "
                        "or a lower temperature_k."
                    ) from exc
                if stop.requested:
                    if not frames.rows:  # stopped before its first frame: there is nothing to keep
                        raise RunInterrupted(
                            f"Coarse-grained run {directory} interrupted before its first frame; {NOTHING_KEPT}. "
                            "Start it again with the same call (a shorter ps finishes sooner)."
                        )
                    raise _Stopped(len(frames.rows) * report_interval_ps)
                state = context.getState(getPositions=True, getEnergy=True)
                energy = state.getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole)
                kinetic = state.getKineticEnergy().value_in_unit(unit.kilojoule_per_mole)
                x = state.getPositions(asNumpy=True).value_in_unit(unit.nanometer)
                if not (math.isfinite(energy) and np.isfinite(x).all()):
                    raise SimulationUnstableError(
                        f"The coarse-grained run blew up at frame {frame + 1} (energy {energy}): use a smaller "
                        "timestep_fs (5 fs) or a lower temperature_k."
                    )
                stretch = _bond_stretch(x, bonded)
                if stretch > BOND_STRETCH_LIMIT:  # finite but torn apart: not a result
                    raise SimulationUnstableError(
                        f"The coarse-grained run blew up at frame {frame + 1}: a bead bond stretched to "
                        f"{stretch:.3g} times its native length (the integration broke down at timestep_fs="
                        f"{timestep_fs:g}, {temperature_k:g} K). Use a smaller timestep_fs (10 fs is the default) "
                        "or a lower temperature_k."
                    )
                row = {
                    "frame": frame,
                    "time_ps": round((frame + 1) * report_interval_ps, 9),
                    "q": model.fraction_native(x),
                    "rg_nm": float(np.sqrt(((x - x.mean(axis=0)) ** 2).sum(axis=1).mean())),
                    "potential_kj_mol": energy,
                    "temperature_k": 2 * kinetic / (3 * n * GAS_CONSTANT_KJ),
                }
                frames.add(x * unit.nanometer, row, time.perf_counter() - started)
        rows = frames.rows
        stopped_at = None
    except _Stopped as stop:
        # Stop pressed to look at what there is: the frames computed so far are kept (the DCD is closed),
        # marked interrupted in cg.json, and the same move into place as a finished run's.
        rows = frames.rows
        stopped_at = stop.reached_ps
    except SimulationUnstableError as exc:
        raise _blown_up(exc, work, directory, in_place, about, frames.rows, report_interval_ps) from exc
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    try:
        wall_s = time.perf_counter() - started
        import pandas as pd

        table = pd.DataFrame(rows)  # q.csv holds these rows already: the writer appended each one
        info = {
            **about,
            "status": "finished" if stopped_at is None else "interrupted",
            "finished": _now(),
            **({} if stopped_at is None else {"interrupted": f"interrupted at {stopped_at:g} of {ps:g} ps"}),
            "n_frames": len(rows),
            "wall_s": wall_s,
            "ms_per_step": 1000 * wall_s / (len(rows) * report_steps),
            "versions": _versions(),
        }
        _figure(table, info).savefig(work / "q.png", dpi=100)
        files.write_json_atomic(work / CG_JSON, info)  # last: "finished" only once every file is there
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    if not in_place:
        earlier = files.read_json(directory / CG_JSON) if (directory / CG_JSON).is_file() else {}
        if (
            stopped_at is not None
            and earlier.get("status") == "interrupted"
            and earlier.get("n_frames", 0) >= len(rows)
        ):
            # A rerun of an interrupted run stopped sooner than the first time: the longer stretch stays.
            shutil.rmtree(work, ignore_errors=True)
            raise RunInterrupted(
                f"Coarse-grained run {directory} interrupted again at {stopped_at:g} of {ps:g} ps; the earlier "
                f"{earlier['n_frames']} frames ({earlier.get('interrupted', 'interrupted')}) are kept as they were."
            )
        shutil.rmtree(directory)
        os.replace(work, directory)
    if stopped_at is not None:
        raise RunInterrupted(
            f"Coarse-grained run {directory} interrupted at {stopped_at:g} of {ps:g} ps; its {len(rows)} frames "
            f"are kept (cg.json says interrupted): look at them with "
            f"kenkyu.tools.md.CoarseGrainedRun({str(directory)!r}). A Gō run keeps no checkpoint, so the same "
            "call with resume=True runs it again from 0 ps with its seed (the same frames, then the rest); the "
            "kept frames stay until it finishes."
        )
    return CoarseGrainedRun(directory)


def _blown_up(exc, work: Path, directory: Path, in_place: bool, about: dict, rows: list, interval_ps: float):
    """A blow-up's error, its frames so far kept: a run made in place keeps the frames saved before it, marked
    failed in cg.json with the reason (nothing computed is lost; analyses refuse them as a failed md.run's);
    a run made beside an earlier one (overwrite=, a rerun) leaves that one as it was."""
    from kenkyu.tools.md import _now, _versions

    if in_place and rows:
        files.write_json_atomic(
            work / CG_JSON,
            {**about, "status": "failed", "error": str(exc), "finished": _now(), "n_frames": len(rows),
             "versions": _versions()},
        )  # fmt: skip
        kept = (
            f"The {len(rows)} frames saved before it (to {len(rows) * interval_ps:g} ps) are kept in {directory}, "
            "marked failed (cg.json): not a result to analyse. Start the fixed run with overwrite=True."
        )
    else:
        shutil.rmtree(work, ignore_errors=True)
        kept = (
            "No frame was saved before it; nothing is kept."
            if in_place
            else f"Nothing of this run is kept; {directory} holds what it held before."
        )
    return SimulationUnstableError(f"{exc} {kept}")


def _bonded_pairs(system):
    """The model's bead bonds as index arrays and native lengths (nm)."""
    import numpy as np
    import openmm

    pairs = []
    for force in system.getForces():
        if isinstance(force, openmm.HarmonicBondForce):
            for k in range(force.getNumBonds()):
                i, j, r0, _ = force.getBondParameters(k)
                pairs.append((i, j, r0.value_in_unit(openmm.unit.nanometer) if hasattr(r0, "value_in_unit") else r0))
    if not pairs:
        return None
    i, j, r0 = (np.array(column) for column in zip(*pairs))
    return i.astype(int), j.astype(int), r0.astype(float)


def _bond_stretch(x, bonded) -> float:
    """The largest bead bond length over its native length (1 for the native structure)."""
    import numpy as np

    if bonded is None:
        return 1.0
    i, j, r0 = bonded
    return float((np.linalg.norm(x[i] - x[j], axis=1) / r0).max())


class _FrameWriter:
    """Writes each frame as it is made: the DCD and q.csv flushed after every frame, then the progress record.

    The record (cg.json, status "running", written atomically) says how many frames are complete, which process
    writes them and with what seed; the trajectory and the table may run a frame ahead of it. A process killed
    outright leaves all three: :func:`_settle_killed_run` cuts the files back to the record and marks the run
    interrupted, so it reads and resumes as a stopped one does. The record is rewritten at most every
    ``RECORD_EVERY_S`` seconds (and after the first frame), so a short report interval costs no file per frame.
    """

    RECORD_EVERY_S = 0.5

    def __init__(self, folder: Path, topology, dt_ps: float, report_steps: int, about: dict, planned: int):
        self.folder, self.about, self.planned = folder, about, planned
        self.topology, self.dt_ps, self.report_steps = topology, dt_ps, report_steps
        self.rows: list[dict] = []
        self._recorded_at = -math.inf

    def __enter__(self) -> "_FrameWriter":
        from openmm.app import DCDFile

        self._record(wall_s=0.0)
        self._dcd_handle = open(self.folder / "trajectory.dcd", "wb")
        self._dcd = DCDFile(self._dcd_handle, self.topology, self.dt_ps, 0, self.report_steps)
        self._table = open(self.folder / "q.csv", "w", newline="")
        return self

    def add(self, positions, row: dict, wall_s: float) -> None:
        self._dcd.writeModel(positions)
        self._dcd_handle.flush()
        if not self.rows:
            self._table.write(",".join(row) + "\n")
        self._table.write(",".join(repr(v) for v in row.values()) + "\n")
        self._table.flush()
        self.rows.append(row)
        if len(self.rows) == 1 or wall_s - self._recorded_at >= self.RECORD_EVERY_S:
            self._record(wall_s)

    def _record(self, wall_s: float) -> None:
        from kenkyu.core.files import write_json_atomically

        done = len(self.rows)
        write_json_atomically(
            self.folder / CG_JSON,
            {
                **self.about,
                "status": "running",
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "n_frames": done,
                "planned_frames": self.planned,
                "ms_per_step": 1000 * wall_s / (done * self.report_steps) if done else None,
            },
        )
        self._recorded_at = wall_s

    def __exit__(self, *exc) -> None:
        self._dcd_handle.close()
        self._table.close()


def _writer_alive(info: dict) -> bool:
    """Whether the process a "running" record names is still running (on this machine)."""
    if info.get("host") != socket.gethostname():
        return True  # another machine's run (a shared disk): nothing here can tell it ended
    try:
        os.kill(int(info.get("pid", -1)), 0)
    except ProcessLookupError:
        return False
    except (OSError, ValueError):
        return True
    return True


def _settle_killed_run(directory: Path) -> None:
    """A run folder whose process was killed outright (its cg.json still says "running", its process is gone):
    cut the trajectory and q.csv back to the frames the record counts, and mark it interrupted, naming the kill.
    A run still in progress is refused, never touched."""
    record_path = directory / CG_JSON
    info = files.read_json(record_path) if record_path.is_file() else {}
    if info.get("status") != "running":
        return
    if _writer_alive(info):
        raise RunExistsError(
            f"{directory} holds a coarse-grained run in progress (process {info.get('pid')}, "
            f"{info.get('n_frames', 0)} of {info.get('planned_frames')} frames so far): wait for it to finish, "
            "or give another out="
        )
    kept = int(info.get("n_frames", 0))
    files.truncate_dcd(directory / "trajectory.dcd", kept)
    files.truncate_csv(directory / "q.csv", kept)
    interval = info["parameters"]["report_interval_ps"]
    info.update(
        status="interrupted",
        interrupted=f"killed at {kept * interval:g} of {info['parameters']['ps']:g} ps (its process ended without "
        "a clean stop: the kernel was restarted or killed)",
    )
    files.write_json_atomic(record_path, info)


class _Stopped(Exception):
    """Stop pressed between frames (inside the simulation loop; handled by keeping the frames so far)."""

    def __init__(self, reached_ps: float):
        super().__init__(reached_ps)
        self.reached_ps = reached_ps


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def _finished_run(directory: Path, structure: Path, requested: dict, interval_given: bool = True) -> CoarseGrainedRun:
    """The finished run in ``directory`` when it was made with the ``requested`` parameters (resume=True).

    Never a run of other settings: any difference is refused, named, with the fix. The structure is the same
    file (its path) or the same content (a copied session folder); a seed not given matches the run's own.
    ``threads`` only sets the speed and is not compared."""
    info_path = directory / CG_JSON
    info = files.read_json(info_path) if info_path.is_file() else {}
    if info.get("status") not in ("finished", "interrupted"):
        raise RunExistsError(
            f"{directory} exists but holds no finished coarse-grained run (no finished {CG_JSON}): pass "
            "overwrite=True to replace it, or another out="
        )
    different = _differences(info.get("parameters", {}), requested, structure, interval_given)
    if different:
        raise RunExistsError(
            f"{directory} holds a coarse-grained run of other parameters (" + "; ".join(different) + "): "
            "call again with the run's parameters (they are in cg.json), pass overwrite=True to replace it, "
            "or give another out="
        )
    return CoarseGrainedRun(directory)


def _differences(stored: dict, requested: dict, structure: Path, interval_given: bool = True) -> list[str]:
    """How a call's settings differ from a stored run's ("ps: run has 20.0, call has 60.0"); a seed not given
    matches the run's own, and so does a report interval not given (runs under 10 ps saved every 1 ps before)."""
    different = [
        f"{key}: run has {stored.get(key)!r}, call has {value!r}"
        for key, value in requested.items()
        if not (key == "seed" and value is None)
        and not (key == "report_interval_ps" and not interval_given and key in stored)
        and stored.get(key) != (int(value) if key == "seed" else value)
    ]
    if not _same_structure(structure, stored):
        different.append(f"structure: run has {stored.get('structure')}, call has {structure.resolve()}")
    return different


def _same_structure(structure: Path, stored: dict) -> bool:
    if stored.get("structure") == str(structure.resolve()):
        return True
    return (
        bool(stored.get("structure_sha256"))
        and structure.is_file()
        and _sha256(structure) == stored["structure_sha256"]
    )
