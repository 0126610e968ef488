"""Molecular dynamics with OpenMM: structure in, resumable run directory out.

``run()`` is what the agent calls and what a scientist types::

    import kenkyu.tools.md
    run_1 = kenkyu.tools.md.run("1vii.pdb", ps=100, out="runs/villin")
    print(run_1.summary())
    traj = run_1.trajectory()          # mdtraj.Trajectory, loaded on demand

The protocol is pdbfixer -> force field -> (solvate + ions) -> minimise -> NVT -> NPT -> production.
Equilibration left to the default scales with the production: NVT for half of it, at least 3 ps (three
thermostat times), at most 10 ps; NPT 10 ps in explicit solvent (see ``_equilibration``).
Everything lives in one run directory (see :class:`MDRun`); a run killed at any point, SIGKILL
included, continues from its last checkpoint with ``resume=True``.

OpenMM, pdbfixer and mdtraj are imported inside the functions: this module is imported whenever the
agent builds its tool registry, which must stay fast.
"""

from __future__ import annotations

import datetime as _dt
import errno
import inspect
import math
import os
import platform as _platform_module
import secrets
import sys
import time
import warnings
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal, Protocol

from kenkyu.core.registry import tool
from kenkyu.core.science import NOTHING_KEPT, checked_by, computes, costs, when_routed, writes
from kenkyu.tools.md import _files as files
from kenkyu.tools.md._compare import differing_settings
from kenkyu.tools.md._errors import (
    ChainGapError,
    DiskFullError,
    ForceFieldError,
    MDError,
    MissingBoxError,
    ResumeError,
    RunExistsError,
    NonstandardResidueError,
    RunFailedError,
    RunInterrupted,
    SimulationUnstableError,
    StructureError,
    UnknownResidueError,
    UnphysicalSettingError,
)
from kenkyu.tools._quiet import native_stdout_silenced
from kenkyu.tools.md.checks import run_is_sound
from kenkyu.tools.md._validate import check_parameters
from kenkyu.tools.md.cost import estimate_run, learn_from_run
from kenkyu.tools.md._kernel import kernel_value
from kenkyu.tools.md._routing import implicit_unless_stated
from kenkyu.tools.md._run_folder import (
    FolderChoice,
    choose_run_folder,
    folder_detail,
    free_folder,
    naming_the_folder,
    run_in_words,
)
from kenkyu.tools.md._interrupt import (
    interrupt_held,
    minimize_interruptibly,
    potential_energy_kj_mol,
)

__all__ = [
    "BackendComparison",
    "ChainGapError",
    "CoarseGrainedRun",
    "DiskFullError",
    "ForceFieldError",
    "MDError",
    "MDRun",
    "Minimization",
    "MissingBoxError",
    "NonstandardResidueError",
    "ResumeError",
    "RunFailedError",
    "RunExistsError",
    "RunInterrupted",
    "SimulationUnstableError",
    "StructureError",
    "UnknownResidueError",
    "UnphysicalSettingError",
    "compare_backends",
    "coarse_grained",
    "default_platform_order",
    "example_structure",
    "extend",
    "minimize",
    "run",
    "run_directory",
]

PLATFORM_ORDER = ("CUDA", "OpenCL", "CPU")

# File names inside a run directory.
RUN_JSON = "run.json"
PREPARED_PDB = "prepared.pdb"  # the fixed (and solvated) starting structure; the trajectory's topology
SYSTEM_XML = "system.xml"  # the OpenMM System, so a resume uses exactly the same physics
CHECKPOINT = "checkpoint.chk"
# The prepared system's minimised state, with its velocities: a checkpoint of its own, so that a resume (or a
# checkpoint.chk lost later) never redoes preparation and minimisation, minutes for a solvated protein.
MINIMIZED_CHECKPOINT = "minimized.chk"
# Besides every checkpoint_interval_ps of simulated time, a checkpoint at the first report boundary after this
# many wall-clock seconds: a short run's equilibration (shorter than the interval) still has checkpoints, so a
# Stop loses at most this much work.
CHECKPOINT_WALL_S = 20.0
STATE_CSV = "state.csv"
FINAL_PDB = "final.pdb"
BAROSTAT_FREQUENCY = 25  # steps between Monte Carlo volume moves (OpenMM's default)
# A finite state that has still blown up: no folded protein or water box comes near these (equilibrium
# potential energies are negative, a few hundred kJ/mol per atom at most in magnitude).
BLOWN_UP_KJ_MOL_PER_ATOM = 1e4
BLOWN_UP_TEMPERATURE_FACTOR = 5.0  # mean temperature this many times the thermostat's: the integrator diverged

# Parameters that change the physics: a resume must use the same values as the original call.
_PHYSICS = (
    "ps",
    "solvent",
    "forcefield",
    "water_model",
    "padding_nm",
    "ionic_strength_molar",
    "ph",
    "solvate",
    "keep_heterogens",
    "delete_nonstandard",
    "replace_residues",
    "allow_chain_breaks",
    "add_terminal_residues",
    "temperature_k",
    "pressure_bar",
    "friction_per_ps",
    "timestep_fs",
    "minimize_max_iterations",
    "nvt_ps",
    "npt_ps",
    "report_interval_ps",
    "checkpoint_interval_ps",
    "trajectory_format",
    "backend",
    "backend_options",
    "seed",
)
# What a run.json written before a parameter existed means by its absence (so such runs still resume).
_ABSENT_MEANS = {"delete_nonstandard": False, "replace_residues": None, "allow_chain_breaks": False}


class TopologyWithPositions(Protocol):
    """Anything with ``.topology`` and ``.positions`` (openmm.app.PDBFile, PDBxFile, Modeller), usable by hand.

    Not JSON: the LLM sees only the path form of ``structure``.
    """

    topology: Any
    positions: Any


def example_structure(name: str = "villin") -> Path:
    """Path of a small protein shipped with kenkyu, for examples and tests.

    ``"villin"``: the villin headpiece subdomain, PDB 1VII (36 residues, 596 atoms with hydrogens).
    ``"dhfr"``: dihydrofolate reductase, PDB 5DFR as in OpenMM's benchmark suite (159 residues, 2,489 atoms).
    ``"dhfr_solvated"``: the same in a 62.23 Å water cube (23,558 atoms), OpenMM's explicit-solvent benchmark.
    """
    known = {
        "villin": "villin_1vii.pdb",
        "1vii": "villin_1vii.pdb",
        "dhfr": "dhfr/5dfr_minimized.pdb",
        "5dfr": "dhfr/5dfr_minimized.pdb",
        "dhfr_solvated": "dhfr/5dfr_solv-cube_equil.pdb",
    }
    if name.lower() not in known:
        raise ValueError(f"unknown example {name!r}; available: {sorted(set(known))}")
    return Path(str(resources.files("kenkyu").joinpath("data", *known[name.lower()].split("/"))))


def default_platform_order() -> tuple[str, ...]:
    """The platforms ``run`` tries, fastest first; the first that can create a context is used."""
    return PLATFORM_ORDER


# ----------------------------------------------------------------------------------------------------
# The result object
# ----------------------------------------------------------------------------------------------------


@dataclass
class MDRun:
    """One MD run directory: the paths of its files, its parameters, and its trajectory on demand.

    Everything is read from the folder when used (status, length, frames, trajectory), never frozen when
    the object is made: after ``md.extend`` or a resumed run, the same ``MDRun`` describes the longer run.

    Files: ``run.json`` (every parameter, versions, platform, seed, status), ``prepared.pdb`` (fixed
    and solvated start; the trajectory's topology), ``system.xml``, ``trajectory.dcd`` or
    ``trajectory.xtc`` (production frames), ``state.csv`` (energies, temperature, volume per frame),
    ``checkpoint.chk`` (last checkpoint), ``minimized.chk`` (the minimised start, so a resume never minimises
    again) and ``final.pdb`` (last frame, once finished).
    """

    directory: Path
    _trajectory_cache: object = field(default=None, repr=False, compare=False)

    def __post_init__(self):
        self.directory = Path(self.directory)

    # paths -------------------------------------------------------------------------------------------
    @property
    def run_json(self) -> Path:
        return self.directory / RUN_JSON

    @property
    def topology_path(self) -> Path:
        return self.directory / PREPARED_PDB

    @property
    def trajectory_path(self) -> Path:
        return self.directory / f"trajectory.{self.info['parameters']['trajectory_format']}"

    @property
    def state_data_path(self) -> Path:
        return self.directory / STATE_CSV

    @property
    def checkpoint_path(self) -> Path:
        return self.directory / CHECKPOINT

    @property
    def final_pdb(self) -> Path:
        return self.directory / FINAL_PDB

    # contents ----------------------------------------------------------------------------------------
    @property
    def info(self) -> dict:
        """The parsed ``run.json``."""
        return files.read_json(self.run_json)

    @property
    def status(self) -> str:
        return self.info.get("status", "unknown")

    @property
    def n_frames(self) -> int:
        """Production frames on disk as of the last checkpoint."""
        if not self.checkpoint_path.exists():
            return 0
        header, _ = files.read_checkpoint(self.checkpoint_path)
        return header["frames"] if header["phase"] == "production" else 0

    def trajectory(self, *, stride: int = 1, selection: str | None = None, reload: bool = False):
        """Load the production trajectory as an ``mdtraj.Trajectory`` (cached until its files change).

        Parameters
        ----------
        stride
            Keep every ``stride``-th frame.
        selection
            An mdtraj atom selection (e.g. ``"protein"``) to load only those atoms.
        reload
            Read the files again even if a trajectory is cached.
        """
        import mdtraj
        import numpy

        # The folder is the truth, not this object: md.extend (or a resumed run) grows the trajectory of a
        # run a kernel variable already holds, and a cell re-run on that variable must see the new frames.
        # So the cache is keyed on the files' identity (size and modification time) as well as the call's.
        key = (stride, selection, _stamp(self.trajectory_path), _stamp(self.topology_path), _stamp(self.run_json))
        if reload or self._trajectory_cache is None or self._trajectory_cache[0] != key:
            top = mdtraj.load_topology(str(self.topology_path))
            atoms = top.select(selection) if selection else None
            with native_stdout_silenced():  # the DCD reader's "dcdplugin)" chatter
                traj = mdtraj.load(str(self.trajectory_path), top=top, stride=stride, atom_indices=atoms)
            # Frame i (0-based) was written after (i + 1) report intervals of production.
            traj.time = self.frame_interval_ps * (1 + stride * numpy.arange(traj.n_frames))
            self._trajectory_cache = (key, traj)
        return self._trajectory_cache[1]

    @property
    def frame_interval_ps(self) -> float:
        """Time between saved frames: a whole number of steps (the requested interval, rounded to steps)."""
        info = self.info
        steps = (info.get("steps") or {}).get("report_interval")
        p = info["parameters"]
        return steps * p["timestep_fs"] / 1000.0 if steps else p["report_interval_ps"]

    def state_data(self):
        """The state-data CSV as a pandas DataFrame (one row per reported frame)."""
        import pandas as pd

        frame = pd.read_csv(self.state_data_path)
        frame.columns = [c.strip('#"') for c in frame.columns]
        return frame

    def summary(self) -> str:
        """A short plain-text account of the run, for the agent and for ``print``."""
        info = self.info
        p = info["parameters"]
        lines = [f"MD run {self.directory} ({info.get('status', 'unknown')})"]
        if info.get("folder_chosen"):
            lines.append(f"folder: {info['folder_chosen']}")
        system = info.get("system", {})
        lines.append(
            f"{system.get('n_atoms', '?')} atoms, {p['solvent']} solvent "
            f"({', '.join(info.get('forcefield_files', []))}), "
            f"{p['temperature_k']} K, dt {p['timestep_fs']} fs, seed {p['seed']}"
        )
        frames = self.n_frames
        chosen = (info.get("equilibration") or {}).get("nvt", "given")
        lines.append(
            f"production: {frames} frames = {frames * self.frame_interval_ps:.3g} ps of {p['ps']:.3g} ps "
            f"(after {p['nvt_ps']:.3g} ps NVT"
            + ("" if p["solvent"] != "explicit" else f" + {p['npt_ps']:.3g} ps NPT")
            # Say when kenkyu chose the equilibration: it is simulated time the caller did not ask for.
            + ("" if chosen == "given" else f"; NVT by default: {chosen.removeprefix('default: ').split(' (')[0]}")
            + ")"
        )
        if str(info.get("frames", "")).startswith("default for a run shorter"):
            lines.append(f"frames: {info['frames']}")  # more frames than the 1 ps the caller may expect: said
        if self.state_data_path.exists():
            data = self.state_data()
            if len(data):
                lines.append(
                    f"final potential energy {data['Potential Energy (kJ/mole)'].iloc[-1]:.6g} kJ/mol; "
                    f"temperature mean {data['Temperature (K)'].mean():.1f} K "
                    f"(sd {data['Temperature (K)'].std(ddof=0):.1f})"
                )
        perf = info.get("performance", {})
        if perf.get("ns_per_day"):
            lines.append(f"speed {perf['ns_per_day']:.3g} ns/day on {info.get('platform', {}).get('name', '?')}")
        elif info.get("platform"):
            lines.append(f"platform {info['platform'].get('name')}")
        fix = info.get("fix", {})
        changes = [
            f"{fix.get('missing_residues_added', 0)} missing residues",
            f"{fix.get('missing_heavy_atoms_added', 0)} heavy atoms",
            f"{fix.get('hydrogens_added', 0)} hydrogens (pH {fix.get('ph', p['ph'])})",
        ]
        line = "pdbfixer added " + ", ".join(changes)
        if fix.get("nonstandard_replaced"):
            line += f"; replaced {', '.join(fix['nonstandard_replaced'])}"
        if fix.get("heterogens_removed"):
            line += "; removed " + ", ".join(f"{n}x{name}" for name, n in fix["heterogens_removed"].items())
        lines.append(line)
        if fix.get("deleted_inside_chain"):
            lines.append(
                "DELETION MUTANT: deleted " + ", ".join(fix["deleted_inside_chain"]) + " from inside its chain "
                "(delete_nonstandard=True); the chain is split there, with no bond across the gap"
            )
        if fix.get("chain_breaks"):
            lines.append(
                "CHAIN BREAKS (allow_chain_breaks=True; residues missing, simulated as separate pieces): "
                + "; ".join(fix["chain_breaks"])
            )
        for warning in info.get("warnings") or []:
            lines.append(f"warning: {warning}")
        if info.get("error"):
            lines.append(f"error: {info['error']}")
        names = [
            self.trajectory_path,
            self.state_data_path,
            self.final_pdb,
            self.checkpoint_path,
            self.run_json,
        ]
        lines.append("files: " + ", ".join(str(path) for path in names if path.exists()))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_markdown_(self) -> str:
        body = self.summary().splitlines()
        return f"**{body[0]}**\n\n" + "\n".join(f"- {line}" for line in body[1:])


def _stamp(path: Path) -> tuple[int, int] | None:
    """A file's (size, mtime in ns): what changes when a run writes to it; None when it does not exist."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_size, stat.st_mtime_ns


# ----------------------------------------------------------------------------------------------------
# The tool
# ----------------------------------------------------------------------------------------------------


def run_directory(structure, solvent: str = "explicit", detail: str = "") -> str:
    """The folder :func:`run` writes when no ``out=`` is given: ``md_runs/<structure name>_<solvent>``,
    with ``_<detail>`` appended when given (a follow-up run kept beside the first, e.g. ``2ps_1fs``)."""
    name = f"{_structure_name(structure)}_{solvent}" + (f"_{detail}" if detail else "")
    return f"md_runs/{name}"


def default_run_directory(structure, solvent: str = "explicit", temperature_k: float = 300.0) -> str:
    """The folder :func:`run` writes when no ``out=`` is given. A temperature other than 300 K goes into the
    name (``md_runs/hp35_implicit_360K``): a 360 K run asked for after the 300 K one got the 300 K run's
    folder and was refused. The default temperature keeps the plain name reports and tests rely on."""
    kelvin = float(temperature_k)
    return run_directory(structure, solvent, "" if math.isclose(kelvin, 300.0) else f"{kelvin:g}K")


def _folder_of_call(arguments: dict) -> str | None:
    """The run directory a call will write, known before it runs (the planner hands it to later steps)."""
    choice = _folder_choice_of_call(arguments)
    return None if choice is None else str(choice.folder)


def _folder_choice_of_call(arguments: dict) -> FolderChoice | None:
    """``out=``, else the default folder md.run will choose from what is on disk; None without a structure."""
    if not arguments.get("structure"):
        return None
    if arguments.get("out"):
        return FolderChoice(Path(arguments["out"]))
    return _default_folder_of(arguments)


def _default_folder_of(arguments: dict) -> FolderChoice:
    """The folder a call without ``out=`` writes (see ``_run_folder``): the default one, or a free one beside it
    when the default holds a run made with other settings. ``overwrite=True`` asks to start the default over."""
    call = {**_run_defaults(), **arguments}
    structure = call["structure"]
    if isinstance(structure, str) and not Path(structure).exists() and kernel_value(structure) is not None:
        call["structure"] = kernel_value(structure)  # the call names a kernel variable: the run reads its value
    default = Path(default_run_directory(call["structure"], call["solvent"], call["temperature_k"]))
    if call["overwrite"]:
        return FolderChoice(default)
    try:
        params, given, _ = _parameters_of_call(call)
    except (TypeError, ValueError):
        return FolderChoice(default)  # arguments the call itself refuses, naming the problem

    def differences(held: dict) -> list[str]:
        return _differences(*_comparable(held, dict(params), given), call["structure"], held)

    return choose_run_folder(default, params, differences)


def _run_defaults() -> dict:
    return {
        name: parameter.default
        for name, parameter in inspect.signature(run).parameters.items()
        if parameter.default is not inspect.Parameter.empty
    }


@tool(
    approval="ask",
    writes_files=True,
    keywords=("simulate", "molecular dynamics", "openmm", "relax", "equilibrate", "md"),
    produces="run_folder",
)
@writes(_folder_of_call)
@costs(naming_the_folder(estimate_run, _folder_choice_of_call), after_run=learn_from_run)
@checked_by(run_is_sound)
@when_routed(implicit_unless_stated)
@computes("molecular dynamics", "dynamics", "all atom simulation", "production run", "openmm simulation")
def run(
    structure: str | os.PathLike | TopologyWithPositions,
    ps: float = 10.0,
    out: str | os.PathLike | None = None,
    *,
    solvent: Literal["explicit", "implicit", "vacuum"] = "explicit",
    forcefield: list[str] | str | None = None,
    water_model: Literal["tip3p", "tip3pfb", "spce", "tip4pew", "opc"] = "tip3p",
    padding_nm: float = 1.0,
    ionic_strength_molar: float = 0.15,
    ph: float = 7.0,
    solvate: bool = True,
    keep_heterogens: bool = False,
    delete_nonstandard: bool = False,
    replace_residues: dict[str, str] | None = None,
    allow_chain_breaks: bool = False,
    add_terminal_residues: bool = False,
    temperature_k: float = 300.0,
    pressure_bar: float = 1.0,
    friction_per_ps: float = 1.0,
    timestep_fs: float = 2.0,
    minimize_max_iterations: int = 0,
    nvt_ps: float | None = None,
    npt_ps: float | None = None,
    report_interval_ps: float | None = None,
    checkpoint_interval_ps: float = 10.0,
    trajectory_format: Literal["dcd", "xtc"] = "dcd",
    platform: Literal["CUDA", "OpenCL", "CPU", "Reference"] | None = None,
    backend: Literal["openmm", "dataflow"] = "openmm",
    backend_options: dict | None = None,
    seed: int | None = None,
    reproducible: bool = False,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = True,
) -> MDRun:
    """Run a molecular dynamics simulation of a protein with OpenMM and return the run directory.

    Fixes the structure with pdbfixer (missing residues and atoms, hydrogens at ``ph``, non-standard
    residues replaced, ligands removed unless ``keep_heterogens``), builds the force field (Amber
    ff14SB + TIP3P for explicit solvent; Amber ff99SB-ILDN + OBC GB for implicit solvent, because
    amber14's GB models use CustomGBForce and run ~6x slower on CPU), solvates with ``padding_nm`` of
    water and ``ionic_strength_molar`` NaCl, minimises, equilibrates (NVT, then NPT for explicit
    solvent) and runs ``ps`` picoseconds of production with a Langevin integrator (NPT with a Monte
    Carlo barostat in explicit solvent). Writes a trajectory, a state-data CSV, checkpoints, the final
    PDB and run.json into ``out``. A killed or interrupted run continues with ``resume=True``.

    Parameters
    ----------
    structure
        Path of a PDB or mmCIF file (or, by hand, an OpenMM/mdtraj object with topology and positions).
    ps
        Length of the production run in picoseconds. Equilibration comes on top: by default NVT for half
        the production, at least 3 ps (3 thermostat times at friction 1/ps), at most 10 ps (5 ps -> 3 ps,
        10 ps -> 5 ps, 20 ps or more -> 10 ps), plus 10 ps NPT in explicit solvent. ``nvt_ps=0`` skips NVT.
    out
        Run directory to create; default ``md_runs/<structure name>_<solvent>`` in the working directory (with the
        temperature when not 300 K). When that folder holds a run made with other settings, the run goes to a free
        folder beside it named for what differs (``..._40ps``, ``..._seed8``, else ``..._2``), and says so; an
        ``out=`` given is never moved (a run of other settings there is refused, naming a new folder).
    solvent
        ``"explicit"`` (water box, PME, NPT), ``"implicit"`` (OBC generalized Born, NVT; much faster) or ``"vacuum"``.
    forcefield
        OpenMM force-field XML files overriding the default, e.g. ``["amber14-all.xml", "implicit/obc2.xml"]``
        (one file may be given as a plain string). A name OpenMM does not have is refused, listing those it has.
    water_model
        Water model for explicit solvent.
    padding_nm
        Minimum distance in nm between the protein and the edge of the water box.
    ionic_strength_molar
        NaCl concentration in mol/L added on top of neutralising counter-ions.
    ph
        pH used to choose protonation states when adding hydrogens.
    solvate
        Add a water box (explicit solvent). Set False for a structure that is already solvated and has a box.
    keep_heterogens
        Keep ligands and other non-standard molecules (the force field must have templates for them).
    delete_nonstandard
        Delete residues inside a chain that no standard residue replaces (refused by default, naming them):
        the chain is split there, a real break with no bond across the gap, and the run is a deletion mutant.
    replace_residues
        Non-standard residue names to replace by standard ones, e.g. ``{"XYZ": "ALA"}`` (pdbfixer keeps
        the shared atoms and rebuilds the rest).
    allow_chain_breaks
        Simulate a chain with residues missing (and no SEQRES to rebuild them) as separate pieces with a real
        break; refused by default, naming the gap, because OpenMM would otherwise bond the ends across it.
    add_terminal_residues
        Also build residues missing at chain ends (off by default: they become floppy unobserved tails).
    temperature_k
        Temperature in kelvin.
    pressure_bar
        Pressure in bar for NPT (explicit solvent only).
    friction_per_ps
        Langevin friction coefficient in 1/ps.
    timestep_fs
        Integration time step in femtoseconds (bonds to hydrogen are constrained; 2 fs is safe).
    minimize_max_iterations
        Maximum energy-minimisation iterations; 0 means until converged.
    nvt_ps
        Length of NVT equilibration in ps; default half of ``ps`` within [3 thermostat times, 10 ps] (see
        ``kenkyu.tools.md._equilibration``; the choice and why are in run.json's ``equilibration``).
    npt_ps
        Length of NPT equilibration in ps (explicit solvent only); default 10 ps, for the box's density.
    report_interval_ps
        Interval in ps between saved frames and state-data rows; default 1 ps, and for a run shorter than 10 ps
        the largest round interval (0.5, 0.2, 0.1 ps, ...) that saves at least 10 frames (said in the summary).
    checkpoint_interval_ps
        Interval in ps between checkpoints (rounded to a multiple of the report interval).
    trajectory_format
        ``"dcd"`` or ``"xtc"`` (compressed, smaller).
    platform
        OpenMM platform; default tries CUDA, then OpenCL, then CPU.
    backend
        ``"openmm"`` (default) or ``"dataflow"``: kenkyu's dataflow force backend (kenkyu.kernels_md).
    backend_options
        Keyword arguments for the dataflow backend.
    seed
        Random seed for velocities, thermostat and barostat; drawn at random and recorded when omitted.
    reproducible
        Bitwise-reproducible run: with the same seed, a re-run (e.g. of an exported report) gives the same
        numbers. Uses the CPU platform with one thread, because OpenMM's multi-threaded CPU platform sums
        forces in a varying order and runs drift apart. Slower; meant for small systems, reports and tests.
    resume
        Continue the run in ``out`` from its last checkpoint (start it if ``out`` holds no run yet).
    overwrite
        Delete an existing run in ``out`` and start over.
    progress
        Show a progress bar with ns/day and time remaining.

    Returns
    -------
    MDRun
        The run directory's paths; ``.summary()`` describes it, ``.trajectory()`` loads it with mdtraj.
    """
    call = dict(locals())  # the arguments, before anything else is defined here
    params, given, chosen = _parameters_of_call(call)
    setting_warnings = check_parameters(params)
    for message in setting_warnings:
        warnings.warn(message, stacklevel=2)
    from kenkyu.tools.md import _prepare

    _prepare.check_force_field(_prepare.force_field_files(solvent, water_model, params["forcefield"]))
    folder_choice = FolderChoice(Path(out)) if out is not None else _default_folder_of(call)
    directory = folder_choice.folder
    if folder_choice.note:
        print(f"md.run: {folder_choice.note}.", flush=True)  # the new folder is said as the run starts
    if directory.exists() and not directory.is_dir():
        raise NotADirectoryError(
            f"out={str(directory)!r} is a file{'' if directory.is_file() else ' or device'}, not a folder: "
            "pass the path of a run folder (it is created if missing)."
        )
    existing = directory / RUN_JSON
    # A run that failed while preparing (a bad path, an unknown residue) computed nothing: fixing the
    # input and calling again should just work, without overwrite=True.
    nothing_computed = (
        existing.exists()
        and files.read_json(existing).get("status") == "preparing"
        and not (directory / CHECKPOINT).exists()
    )
    if nothing_computed:
        _remove_run(directory)
    if existing.exists() and not overwrite:
        stored = files.read_json(existing)
        if not resume:
            # A run made with OTHER settings (the 300 K run, asked for 360 K) can neither be resumed by this
            # call nor should it be deleted to make this one: only a new folder is offered.
            different = _differences(*_comparable(stored, dict(params), given), structure, stored)
            if different:
                new_folder = _new_folder_for(directory, params, different)
                raise RunExistsError(
                    _held_by_another_run(directory, stored, different, new_folder), new_folder=str(new_folder)
                )
            raise RunExistsError(
                f"{directory} already holds a run ({stored.get('status', 'unknown')}). "
                "Pass resume=True to continue it, overwrite=True to delete it and start over, or a new out=."
            )
        compared, params = _comparable(stored, params, given)
        _check_same_parameters(compared, params, structure, stored.get("structure"), directory)
        if stored.get("status") == "finished":
            return MDRun(directory)
        params = dict(stored["parameters"], platform=platform or stored.get("platform", {}).get("name"))
    else:
        if overwrite and directory.exists():
            _remove_run(directory)
        if params["seed"] is None:
            params["seed"] = secrets.randbelow(2**31 - 1)
    created = _make_directory(directory)
    runner = _Runner(directory, params, structure, progress, setting_warnings, chosen["equilibration"])
    runner.folder_note = folder_choice.note
    runner.frames_note = chosen["frames"]
    try:
        with files.explain_disk_full(directory):
            return runner.execute()
    except BaseException:
        # A start that failed before its first checkpoint computed nothing worth keeping: leave no
        # half-made folder behind. A run with a checkpoint keeps its folder (marked failed or interrupted).
        if not (directory / CHECKPOINT).exists() and not runner.resuming:
            _remove_run(directory)
            for folder in created:
                _remove_if_empty(folder)
        raise


def _parameters_of_call(call: dict) -> tuple[dict, dict, dict]:
    """The run's parameters from all of a call's arguments (defaults included); the settings whose default scales
    with the run, as the caller gave them (None: left to the default, which a resume takes from the run); and how
    those defaults were chosen, for run.json (``equilibration``, ``frames``)."""
    from kenkyu.tools.md._equilibration import equilibration
    from kenkyu.tools.md._frames import default_report_interval

    from kenkyu.tools.md._validate import _number

    for key in ("ps", "timestep_fs", "friction_per_ps", "nvt_ps", "npt_ps", "report_interval_ps"):
        if call.get(key) is not None:  # "10 ns" is refused naming the setting and its unit, not float()'s error
            _number(key, call[key])
    solvent, forcefield = call["solvent"], call["forcefield"]
    # Not given: scaled to the production (a 5 ps run gets 3 ps of NVT, not 10); on resume, the run's own.
    given = {name: call[name] for name in ("nvt_ps", "npt_ps", "report_interval_ps")}
    nvt_ps, npt_ps, equilibration_record = equilibration(
        call["ps"], solvent, call["friction_per_ps"], given["nvt_ps"], given["npt_ps"]
    )
    report_interval, frames = (
        (given["report_interval_ps"], "given")
        if given["report_interval_ps"] is not None
        else default_report_interval(call["ps"], call["timestep_fs"])
    )
    params = {
        "ps": float(call["ps"]),
        "solvent": solvent,
        # A single file name is a list of one (list("amber14-all.xml") would be its letters).
        "forcefield": ([forcefield] if isinstance(forcefield, (str, os.PathLike)) else list(forcefield))
        if forcefield
        else None,
        "water_model": call["water_model"],
        "padding_nm": float(call["padding_nm"]),
        "ionic_strength_molar": float(call["ionic_strength_molar"]),
        "ph": float(call["ph"]),
        "solvate": bool(call["solvate"]),
        "keep_heterogens": bool(call["keep_heterogens"]),
        "delete_nonstandard": bool(call["delete_nonstandard"]),
        "replace_residues": _residue_replacements(call["replace_residues"]),
        "allow_chain_breaks": bool(call["allow_chain_breaks"]),
        "add_terminal_residues": bool(call["add_terminal_residues"]),
        "temperature_k": float(call["temperature_k"]),
        "pressure_bar": float(call["pressure_bar"]),
        "friction_per_ps": float(call["friction_per_ps"]),
        "timestep_fs": float(call["timestep_fs"]),
        "minimize_max_iterations": int(call["minimize_max_iterations"]),
        "nvt_ps": float(nvt_ps),
        "npt_ps": float(npt_ps) if solvent == "explicit" else 0.0,
        "report_interval_ps": float(report_interval),
        "checkpoint_interval_ps": float(call["checkpoint_interval_ps"]),
        "trajectory_format": call["trajectory_format"],
        "platform": call["platform"],
        "backend": call["backend"],
        "backend_options": call["backend_options"] or {},
        "seed": call["seed"],
        "reproducible": bool(call["reproducible"]),
    }
    return params, given, {"equilibration": equilibration_record, "frames": frames}


def _residue_replacements(replace_residues) -> dict[str, str] | None:
    if not replace_residues:
        return None
    if not isinstance(replace_residues, dict):
        raise ValueError(
            f"replace_residues must map residue names to standard ones, e.g. {{'XYZ': 'ALA'}}, not {replace_residues!r}"
        )
    from kenkyu.tools.md._residues import STANDARD_AMINO_ACIDS

    wrong = {old: new for old, new in replace_residues.items() if str(new).upper() not in STANDARD_AMINO_ACIDS}
    if wrong:
        raise ValueError(
            f"replace_residues: {wrong} are not standard amino acids; use one of {sorted(STANDARD_AMINO_ACIDS)}"
        )
    return {str(old).upper(): str(new).upper() for old, new in sorted(replace_residues.items())}


def _make_directory(directory: Path) -> list[Path]:
    """Create the run folder (and missing parents); return the folders this call created, deepest first."""
    created = []
    folder = directory
    while not folder.exists():
        created.append(folder)
        folder = folder.parent
    directory.mkdir(parents=True, exist_ok=True)
    return created


def _remove_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass  # not empty (someone else's files) or already gone: leave it


def _structure_name(structure) -> str:
    if isinstance(structure, (str, os.PathLike)):
        return Path(structure).stem
    return type(structure).__name__.lower()


def _structure_record(structure) -> str:
    if isinstance(structure, (str, os.PathLike)):
        return str(Path(structure).resolve())
    return f"<{type(structure).__module__}.{type(structure).__name__}>"


def _comparable(stored: dict, params: dict, given: dict) -> tuple[dict, dict]:
    """The stored run's parameters and the call's, made comparable (``params`` is updated in place)."""
    compared = dict(stored.get("parameters") or {})
    # An equilibration (or frame interval) the call leaves to the default is the one the run chose: the default
    # rule may differ from the one it was started with (runs under 10 ps saved every 1 ps before round 11), or
    # scale with a length md.extend changed.
    for name, value in given.items():
        if value is None:
            params[name] = compared.get(name, params[name])
    extensions = stored.get("extensions") or []
    if extensions and math.isclose(params["ps"], extensions[0]["from_ps"]):
        compared["ps"] = params["ps"]  # md.extend made it longer: the call that started it still resumes it
    for key, absent in _ABSENT_MEANS.items():
        compared.setdefault(key, absent)
    return compared, params


def _differences(stored: dict, requested: dict, structure, run: dict) -> list[str]:
    """The settings (and structure) in which a call differs from the run stored, as ``key: run has..``."""
    different = [
        f"{key}: run has {there!r}, call has {asked!r}"
        for key, there, asked in differing_settings(stored, requested, _PHYSICS)
    ]
    stored_structure = run.get("structure")
    if (
        isinstance(structure, (str, os.PathLike))
        and stored_structure
        and _structure_record(structure) != stored_structure
    ):
        different.append(f"structure: run has {stored_structure}, call has {_structure_record(structure)}")
    return different


def _new_folder_for(directory: Path, params: dict, different: list[str]) -> Path:
    """A folder not made yet beside ``directory``, named for the settings that differ (``..._360K``)."""
    return free_folder(directory, folder_detail(params, different))


def _held_by_another_run(directory: Path, stored: dict, different: list[str], new_folder: Path) -> str:
    """RunExistsError's words when the folder holds a run made with other settings: what it holds, and a
    new folder (one that does not exist) as the way on, without resume=/overwrite= (one would fail, the
    other would delete a finished run)."""
    return (
        f"{directory} holds {run_in_words(stored.get('parameters') or {})} ({stored.get('status', 'unknown')}), "
        f"made with other settings ({'; '.join(different)}). Resuming it would refuse those settings and "
        f"starting over would delete that run, so neither is offered: run in a new folder, out='{new_folder}' "
        "(a folder not made yet)."
    )


def _check_same_parameters(stored: dict, requested: dict, structure, stored_structure, directory) -> None:
    different = _differences(stored, requested, structure, {"structure": stored_structure})
    if different:
        raise ResumeError(
            f"Cannot resume {directory}: the call's parameters differ from the run's ("
            + "; ".join(different)
            + "). Call again with the run's parameters (they are in run.json), or use another out=."
        )


def _remove_run(directory: Path) -> None:
    names = {
        RUN_JSON,
        PREPARED_PDB,
        SYSTEM_XML,
        CHECKPOINT,
        MINIMIZED_CHECKPOINT,
        STATE_CSV,
        FINAL_PDB,
        "trajectory.dcd",
        "trajectory.xtc",
    }
    for name in names:
        (directory / name).unlink(missing_ok=True)


def _versions() -> dict:
    import openmm

    versions = {"python": _platform_module.python_version(), "openmm": openmm.__version__}
    for name in ("kenkyu", "pdbfixer", "mdtraj", "numpy"):
        try:
            from importlib.metadata import version

            versions[name] = version(name)
        except Exception:
            versions[name] = None
    return versions


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


# ----------------------------------------------------------------------------------------------------
# The engine: one object per call, so the many small steps share state without long argument lists
# ----------------------------------------------------------------------------------------------------


class _Runner:
    def __init__(
        self, directory: Path, params: dict, structure, progress: bool, setting_warnings=(), equilibration=None
    ):
        self.dir = directory
        self.equilibration = equilibration  # how nvt_ps/npt_ps were chosen, for run.json (a new run only)
        self.setting_warnings = list(setting_warnings)
        self.folder_note = ""  # why the run is not in the default folder (md.run chose another), for run.json
        self.frames_note = "given"  # how the report interval was chosen, for run.json and the summary
        self.resuming = False
        self._dof: int | None = None  # degrees of freedom, for the temperature check at each checkpoint
        self._last_checkpoint_wall = time.perf_counter()  # for CHECKPOINT_WALL_S
        self.p = params
        self.structure = structure
        self.progress = progress
        dt_ps = params["timestep_fs"] / 1000.0
        self.dt_ps = dt_ps
        self.report_steps = max(1, round(params["report_interval_ps"] / dt_ps))
        self.checkpoint_steps = (
            max(1, round(params["checkpoint_interval_ps"] / params["report_interval_ps"])) * self.report_steps
        )
        self.nvt_steps = round(params["nvt_ps"] / dt_ps)
        self.npt_steps = round(params["npt_ps"] / dt_ps)
        self.production_steps = round(params["ps"] / dt_ps)
        self.trajectory_path = directory / f"trajectory.{params['trajectory_format']}"
        self.info: dict = {}

    # -- run.json --------------------------------------------------------------------------------------
    def save_info(self, **updates) -> None:
        self.info.update(updates)
        self.info["updated"] = _now()
        files.write_json_atomic(self.dir / RUN_JSON, self.info)

    # -- top level -------------------------------------------------------------------------------------
    def execute(self) -> MDRun:
        checkpoint_path = self.dir / CHECKPOINT
        resuming = (
            (self.dir / RUN_JSON).exists() and (self.dir / SYSTEM_XML).exists() and (self.dir / PREPARED_PDB).exists()
        )
        self.resuming = resuming
        if resuming:
            self.info = files.read_json(self.dir / RUN_JSON)
            topology, positions, system = self.load_prepared()
        else:
            self.info = {
                "kenkyu_run": 1,
                "status": "preparing",
                "created": _now(),
                "structure": _structure_record(self.structure),
                "parameters": self.p,
                "versions": _versions(),
                "host": {"node": _platform_module.node(), "python": sys.executable},
                "warnings": self.setting_warnings,
            }
            if self.equilibration:
                self.info["equilibration"] = self.equilibration
            if self.folder_note:
                self.info["folder_chosen"] = self.folder_note
            self.info["frames"] = self.frames_note
            self.save_info()
            topology, positions, system = self.prepare()
        header = state = None
        minimized = self.dir / MINIMIZED_CHECKPOINT
        if resuming and not checkpoint_path.exists() and minimized.exists():
            files.write_atomic(checkpoint_path, minimized.read_bytes())  # minimised already: start after it
        if checkpoint_path.exists():
            header, state = files.read_checkpoint(checkpoint_path)
        simulation = self.make_simulation(topology, system, header)
        try:
            if header is None:
                self.minimize_and_start(simulation, positions)
                header, _ = files.read_checkpoint(checkpoint_path)
            else:
                try:
                    simulation.context.loadCheckpoint(state)
                except Exception as exc:
                    raise ResumeError(
                        f"Could not load {checkpoint_path} on platform {self.info['platform']['name']} ({exc}). OpenMM "
                        "checkpoints only load on the platform (and GPU) that wrote them: resume with "
                        f"platform={header.get('platform')!r}."
                    ) from exc
            self.save_info(status="running", error=None)
            self.simulate(simulation, header)
        except KeyboardInterrupt:
            last = files.read_checkpoint(checkpoint_path)[0] if checkpoint_path.exists() else None
            where = self.describe_checkpoint(last) if last else "the start"
            self.save_info(status="interrupted", error=f"interrupted; last checkpoint at {where}")
            if last is None:
                # Nothing is kept (run() removes a folder without a checkpoint): say so, not "resume it".
                raise RunInterrupted(
                    f"Run in {self.dir} interrupted before its first checkpoint; {NOTHING_KEPT}. Start it again "
                    "with the same call (resume=True works too: it starts afresh)."
                ) from None
            # An md.extend stopped mid-way is continued by the same extend call (it has no resume=): advice to add
            # resume=True contradicted the card's own "run it again" (newcomer r8).
            extending = any(not e.get("finished") for e in self.info.get("extensions", []))
            how = (
                "Continue it with the same md.extend call (it picks up the unfinished extension)."
                if extending
                else "Continue it with the same call plus resume=True (CLI: kenkyu md run ... --resume)."
            )
            raise RunInterrupted(
                f"Run in {self.dir} interrupted; its last checkpoint is at {where}, where a resume continues "
                f"(without preparing or minimising again). {how}"
            ) from None
        except SimulationUnstableError as exc:
            self.save_info(status="failed", error=str(exc))
            raise
        except DiskFullError as exc:
            self.save_info_if_possible(status="failed", error=str(exc))
            raise
        except OSError as exc:
            if exc.errno == errno.ENOSPC:  # from a reporter writing the trajectory or CSV
                message = (
                    f"No space left on the device while writing the run files in {self.dir}. Free some space "
                    "(or use out= on a disk with room) and call again with resume=True: the last checkpoint is intact."
                )
                self.save_info_if_possible(status="failed", error=message)
                raise DiskFullError(exc.errno, message) from exc
            self.save_info_if_possible(status="failed", error=f"{type(exc).__name__}: {exc}")
            raise
        except Exception as exc:
            # Whatever stopped it, run.json must not stay "running": analysis reads the status.
            self.save_info_if_possible(status="failed", error=f"{type(exc).__name__}: {exc}")
            raise
        return MDRun(self.dir)

    def save_info_if_possible(self, **updates) -> None:
        try:
            self.save_info(**updates)
        except OSError:
            pass  # the disk is full: run.json keeps its previous, complete version

    # -- preparation -----------------------------------------------------------------------------------
    def prepare(self):
        from kenkyu.tools.md import _prepare as prep
        from openmm import XmlSerializer
        from openmm.app import PDBFile

        p = self.p
        fixer, report = prep.fix_structure(
            self.structure,
            ph=p["ph"],
            keep_water=not p["solvate"] and p["solvent"] == "explicit",
            keep_heterogens=p["keep_heterogens"],
            add_terminal_residues=p["add_terminal_residues"],
            delete_nonstandard=p.get("delete_nonstandard", False),
            replace_residues=p.get("replace_residues"),
            allow_chain_breaks=p.get("allow_chain_breaks", False),
        )
        if report.get("deleted_inside_chain"):
            warnings.warn(
                f"delete_nonstandard=True: deleted {', '.join(report['deleted_inside_chain'])}; the chain is split "
                "there (no bond across the gap). This run simulates a deletion mutant.",
                stacklevel=4,
            )
        ff_files = prep.force_field_files(p["solvent"], p["water_model"], p["forcefield"])
        forcefield, modeller = prep.build_model(
            fixer,
            solvent=p["solvent"],
            solvate=p["solvate"],
            ff_files=ff_files,
            water_model=p["water_model"],
            padding_nm=p["padding_nm"],
            ionic_strength_molar=p["ionic_strength_molar"],
        )
        system = prep.create_system(forcefield, modeller, solvent=p["solvent"])
        if p["solvent"] == "explicit":
            from openmm import MonteCarloBarostat, unit

            barostat = MonteCarloBarostat(
                p["pressure_bar"] * unit.bar, p["temperature_k"] * unit.kelvin, BAROSTAT_FREQUENCY
            )
            barostat.setRandomNumberSeed(p["seed"])
            system.addForce(barostat)
        # system.xml first, prepared.pdb last: resume treats the pair as complete only when both exist.
        files.write_atomic(self.dir / SYSTEM_XML, XmlSerializer.serialize(system).encode())
        import io

        buffer = io.StringIO()
        PDBFile.writeFile(modeller.topology, modeller.positions, buffer, keepIds=True)
        files.write_atomic(self.dir / PREPARED_PDB, buffer.getvalue().encode())
        box = modeller.topology.getPeriodicBoxVectors()
        self.save_info(
            fix=report,
            forcefield_files=list(ff_files),
            system={
                "n_atoms": system.getNumParticles(),
                "n_waters": sum(1 for r in modeller.topology.residues() if r.name == "HOH"),
                "n_residues": modeller.topology.getNumResidues(),
                "box_nm": None if box is None else [round(box[i][i].value_in_unit(unit_nm()), 4) for i in range(3)],
            },
            steps={
                "nvt": self.nvt_steps,
                "npt": self.npt_steps,
                "production": self.production_steps,
                "report_interval": self.report_steps,
                "checkpoint_interval": self.checkpoint_steps,
            },
        )
        return modeller.topology, modeller.positions, system

    def load_prepared(self):
        from openmm import XmlSerializer
        from openmm.app import PDBFile

        pdb = PDBFile(str(self.dir / PREPARED_PDB))
        system = XmlSerializer.deserialize((self.dir / SYSTEM_XML).read_text())
        return pdb.topology, pdb.positions, system

    # -- simulation object -----------------------------------------------------------------------------
    def make_simulation(self, topology, system, header):
        import openmm
        from openmm import unit
        from openmm.app import Simulation

        p = self.p
        phase_is_nvt = header is None or (header["phase"] == "equilibration" and header["step"] < self.nvt_steps)
        for force in system.getForces():
            if isinstance(force, openmm.MonteCarloBarostat):
                force.setFrequency(0 if phase_is_nvt else BAROSTAT_FREQUENCY)
        if p["backend"] == "dataflow":
            system = _dataflow_system(system, p["backend_options"])

        def integrator():
            integ = openmm.LangevinMiddleIntegrator(
                p["temperature_k"] * unit.kelvin,
                p["friction_per_ps"] / unit.picosecond,
                self.dt_ps * unit.picoseconds,
            )
            integ.setRandomNumberSeed(p["seed"])
            return integ

        names = [p["platform"]] if p["platform"] else list(PLATFORM_ORDER)
        if p.get("reproducible") and not p["platform"]:
            names = ["CPU"]
        failures = []
        for name in names:
            try:
                platform = openmm.Platform.getPlatformByName(name)
                # One CPU thread fixes the order of force summation, so the same seed gives the same run.
                properties = {"Threads": "1"} if p.get("reproducible") and name == "CPU" else {}
                simulation = Simulation(topology, system, integrator(), platform, properties)
                break
            except Exception as exc:  # platform missing, or no usable device behind it
                failures.append(f"{name}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
        else:
            raise MDError(
                "No OpenMM platform could run this system (" + "; ".join(failures) + "). "
                "Pass platform='CPU' (always available) or check the GPU drivers."
            )
        platform = simulation.context.getPlatform()
        properties = {key: platform.getPropertyValue(simulation.context, key) for key in platform.getPropertyNames()}
        self.save_info(platform={"name": platform.getName(), "properties": properties, "tried": failures})
        return simulation

    # -- minimisation and velocities -------------------------------------------------------------------
    def minimize_and_start(self, simulation, positions) -> None:
        from openmm import unit

        p = self.p
        self.save_info(status="minimizing")
        simulation.context.setPositions(positions)
        energy_before = potential_energy_kj_mol(simulation)
        started = time.perf_counter()
        try:
            minimize_interruptibly(simulation, maxIterations=p["minimize_max_iterations"])
        except Exception as exc:  # OpenMMException "Particle coordinate is NaN" and kin
            raise SimulationUnstableError(
                f"Energy minimisation failed ({str(exc).splitlines()[0]}; energy before it {energy_before:.6g} "
                "kJ/mol): the starting coordinates are absurd or atoms overlap, so the forces are infinite. "
                "Inspect prepared.pdb for atoms on top of each other (duplicated chains, alternate locations, a "
                "model built in the wrong units) and fix the structure; a smaller timestep does not help here."
            ) from exc
        minimize_wall_s = time.perf_counter() - started
        energy_after = potential_energy_kj_mol(simulation)
        if not math.isfinite(energy_after):
            raise SimulationUnstableError(
                f"Energy minimisation ended with a non-finite energy ({energy_after}); the structure has severe "
                "clashes or a broken residue. Inspect prepared.pdb, or try keep_heterogens=False."
            )
        simulation.context.setVelocitiesToTemperature(p["temperature_k"] * unit.kelvin, p["seed"])
        simulation.currentStep = 0
        simulation.context.setTime(0)
        self.save_info(
            minimization={
                "energy_before_kj_mol": energy_before,
                "energy_after_kj_mol": energy_after,
                "wall_s": minimize_wall_s,
            }
        )
        phase = "equilibration" if self.nvt_steps + self.npt_steps else "production"
        self.checkpoint(simulation, phase)
        # The same state kept apart: checkpoint.chk is overwritten as the run goes on.
        files.write_atomic(self.dir / MINIMIZED_CHECKPOINT, (self.dir / CHECKPOINT).read_bytes())

    def describe_checkpoint(self, header: dict) -> str:
        """Where a checkpoint is, in the words of the protocol: 'NVT equilibration step 500 (1 ps of 3 ps)'."""
        step, phase = header["step"], header["phase"]
        if phase == "equilibration":
            if step < self.nvt_steps or not self.npt_steps:
                total, name = self.nvt_steps, "NVT equilibration"
            else:
                total, name = self.nvt_steps + self.npt_steps, "NPT equilibration"
        else:
            total, name = self.production_steps, "production"
        return f"{name} step {step} ({step * self.dt_ps:g} ps of {total * self.dt_ps:g} ps)"

    # -- checkpoints -----------------------------------------------------------------------------------
    def checkpoint(self, simulation, phase: str) -> None:
        """Save the state atomically, after checking that it is finite (a NaN state is never saved)."""
        with interrupt_held():  # a checkpoint once begun is written whole; a Stop during it comes after
            self._checkpoint(simulation, phase)

    def _checkpoint(self, simulation, phase: str) -> None:
        from openmm import unit

        step = simulation.currentStep
        state = simulation.context.getState(getEnergy=True)
        energy = state.getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole)
        if not math.isfinite(energy):
            raise self.unstable(f"the potential energy is {energy} (NaN/infinite) at {phase} step {step}")
        self.refuse_blown_up(simulation, state, energy, phase, step)
        frames = step // self.report_steps if phase == "production" else 0
        header = {
            "phase": phase,
            "step": step,
            "time_ps": round(step * self.dt_ps, 9),
            "frames": frames,
            "csv_rows": frames,
            "potential_energy_kj_mol": energy,
            "platform": simulation.context.getPlatform().getName(),
            "written": _now(),
        }
        files.write_checkpoint(self.dir / CHECKPOINT, header, simulation.context.createCheckpoint())
        self._last_checkpoint_wall = time.perf_counter()

    def refuse_blown_up(self, simulation, state, energy: float, phase: str, step: int) -> None:
        """A finite state can still be exploded: energies far beyond any folded protein's, or a boiling system."""
        from openmm import unit

        system = simulation.system
        n_atoms = system.getNumParticles()
        if energy / max(n_atoms, 1) > BLOWN_UP_KJ_MOL_PER_ATOM:
            raise self.unstable(
                f"the potential energy is {energy:.3g} kJ/mol ({energy / n_atoms:.3g} per atom) at {phase} step {step}"
            )
        kinetic = state.getKineticEnergy().value_in_unit(unit.kilojoule_per_mole)
        if self._dof is None:  # counted once: a Python loop over every particle
            moving = sum(1 for i in range(n_atoms) if system.getParticleMass(i).value_in_unit(unit.dalton) > 0)
            self._dof = max(1, 3 * moving - system.getNumConstraints() - 3)
        dof = self._dof
        gas_constant = unit.MOLAR_GAS_CONSTANT_R.value_in_unit(unit.kilojoule_per_mole / unit.kelvin)
        temperature = 2 * kinetic / (dof * gas_constant)
        if not math.isfinite(temperature) or temperature > BLOWN_UP_TEMPERATURE_FACTOR * self.p["temperature_k"]:
            raise self.unstable(
                f"the temperature is {temperature:.3g} K (thermostat at {self.p['temperature_k']:g} K) at {phase} "
                f"step {step}"
            )

    def unstable(self, what: str) -> SimulationUnstableError:
        last = None
        if (self.dir / CHECKPOINT).exists():
            last = files.read_checkpoint(self.dir / CHECKPOINT)[0]
        where = f"{last['phase']} step {last['step']} ({last['time_ps']} ps)" if last else "none"
        return SimulationUnstableError(
            f"The simulation blew up: {what}. The last good checkpoint ({where}) is kept and the run is marked "
            "failed. Usual fixes: a smaller timestep_fs (2 fs with H-bond constraints; 1 fs if it still fails), "
            "more minimisation (minimize_max_iterations=0), longer nvt_ps, or check prepared.pdb for clashes "
            "and broken residues. Start the fixed run with overwrite=True."
        )

    # -- dynamics --------------------------------------------------------------------------------------
    def simulate(self, simulation, header: dict) -> None:
        from tqdm.auto import tqdm

        equilibration = self.nvt_steps + self.npt_steps
        done = header["step"] if header["phase"] == "equilibration" else equilibration + header["step"]
        # Counted in ps, not in steps shown through unit_scale: tqdm scales n but not initial, so a resumed run
        # or an extension (initial > 0) got a negative rate and ETA. _run_chunks sets n from the step count.
        bar = tqdm(
            total=self._bar_ps(equilibration + self.production_steps),
            initial=self._bar_ps(done),
            unit="ps",
            disable=not self.progress,
            desc=f"MD {self.dir.name}: ",
            dynamic_ncols=True,
            leave=True,
            bar_format="{desc}{percentage:3.0f}%|{bar}| {n:.3g}/{total:.3g} ps [{elapsed}<{remaining}{postfix}]",
        )
        try:
            if header["phase"] == "equilibration":
                self.equilibrate(simulation, header["step"], bar)
                header = {"phase": "production", "step": 0, "frames": 0, "csv_rows": 0}
            self.produce(simulation, header, bar)
        finally:
            bar.close()
        self.finish(simulation)

    def _bar_ps(self, steps: int) -> float:
        return round(steps * self.dt_ps, 9)

    def _step(self, simulation, steps: int) -> None:
        import openmm

        try:
            simulation.step(steps)
        except (ValueError, openmm.OpenMMException) as exc:
            message = str(exc)
            if "nan" in message.lower() or "infinite" in message.lower() or "constraint" in message.lower():
                raise self.unstable(message.splitlines()[0]) from exc
            raise

    def _run_chunks(self, simulation, end_step: int, phase: str, bar, on_progress=None) -> None:
        """Step to ``end_step`` in chunks, checkpointing every checkpoint interval and updating the bar."""
        while simulation.currentStep < end_step:
            step = simulation.currentStep
            # Chunks end at report boundaries (progress bar updates) and at checkpoint boundaries.
            next_report = (step // self.report_steps + 1) * self.report_steps
            next_checkpoint = (step // self.checkpoint_steps + 1) * self.checkpoint_steps
            chunk = min(end_step, next_checkpoint, next_report) - step
            # Stop's SIGINT is held to the chunk's end, its checkpoint included: raised inside the dataflow
            # backend's Python force (which the checkpoint's energy evaluates too) it would cross OpenMM's C++ as
            # "OpenMMException: <NULL>" (a C++ step defers it to the same place anyway).
            with interrupt_held():
                self._step(simulation, chunk)
                # Chunks end at report boundaries, so a checkpoint anywhere here matches the frames written.
                overdue = time.perf_counter() - self._last_checkpoint_wall >= CHECKPOINT_WALL_S
                at_interval = simulation.currentStep % self.checkpoint_steps == 0
                if at_interval or overdue or simulation.currentStep == end_step:
                    self.checkpoint(simulation, phase)
            # Set from the step count (not += chunk in ps) so the bar ends exactly at its total.
            offset = self.nvt_steps + self.npt_steps if phase == "production" else 0
            reached = self._bar_ps(offset + simulation.currentStep)
            bar.update(reached - bar.n)
            bar.n = reached  # exactly: n + (reached - n) may miss by a rounding error, and a notebook bar closed
            # with n < total turns red as if the run had failed
            if on_progress:
                on_progress(bar)

    def set_barostat(self, simulation, on: bool) -> None:
        """Switch the Monte Carlo barostat (explicit solvent) on or off; NVT phases run with it off."""
        import openmm

        for force in simulation.system.getForces():
            wanted = BAROSTAT_FREQUENCY if on else 0
            if isinstance(force, openmm.MonteCarloBarostat) and force.getFrequency() != wanted:
                force.setFrequency(wanted)
                # reinitialize(preserveState=True) keeps positions, velocities, time and step count.
                simulation.context.reinitialize(preserveState=True)

    def equilibrate(self, simulation, step: int, bar) -> None:
        bar.set_description(f"MD {self.dir.name} (NVT)")
        self._run_chunks(simulation, self.nvt_steps, "equilibration", bar)
        if self.npt_steps:
            # Switch the barostat on: NVT is over. reinitialize(preserveState=True) keeps positions,
            # velocities and the step count.
            self.set_barostat(simulation, on=True)
            bar.set_description(f"MD {self.dir.name} (NPT)")
            self._run_chunks(simulation, self.nvt_steps + self.npt_steps, "equilibration", bar)
        simulation.currentStep = 0
        simulation.context.setTime(0)
        self.checkpoint(simulation, "production")

    def produce(self, simulation, header: dict, bar) -> None:
        from openmm.app import DCDReporter, StateDataReporter, XTCReporter

        step, frames = header["step"], header["frames"]
        append = frames > 0
        if append:
            # Trajectory and CSV may have run ahead of the checkpoint (or end in a torn record): cut them
            # back. With no frame yet, the reporters below simply start new files.
            if self.p["trajectory_format"] == "dcd":
                files.truncate_dcd(self.trajectory_path, frames)
            else:
                files.truncate_xtc(self.trajectory_path, frames)
            files.truncate_csv(self.dir / STATE_CSV, header["csv_rows"])
        self.set_barostat(simulation, on=True)
        explicit = self.p["solvent"] == "explicit"
        trajectory_reporter = (DCDReporter if self.p["trajectory_format"] == "dcd" else XTCReporter)(
            str(self.trajectory_path),
            self.report_steps,
            append=append,
            enforcePeriodicBox=explicit if explicit else None,
        )
        state_reporter = StateDataReporter(
            str(self.dir / STATE_CSV),
            self.report_steps,
            step=True,
            time=True,
            potentialEnergy=True,
            kineticEnergy=True,
            totalEnergy=True,
            temperature=True,
            volume=explicit,
            density=explicit,
            speed=True,
            append=append,
        )
        simulation.reporters[:] = [trajectory_reporter, state_reporter]
        bar.set_description(f"MD {self.dir.name}")
        start_wall, start_step = time.perf_counter(), step

        def show_speed(bar):
            elapsed = time.perf_counter() - start_wall
            if elapsed > 0:
                ns_per_day = (simulation.currentStep - start_step) * self.dt_ps / 1000 / (elapsed / 86400)
                bar.set_postfix_str(f"{ns_per_day:.3g} ns/day", refresh=False)

        try:
            self._run_chunks(simulation, self.production_steps, "production", bar, show_speed)
        finally:
            simulation.reporters.clear()
            _close_reporter_files(trajectory_reporter, state_reporter)
        elapsed = time.perf_counter() - start_wall
        steps = self.production_steps - start_step
        if steps and elapsed > 0:
            self.info["performance"] = {
                "ns_per_day": steps * self.dt_ps / 1000 / (elapsed / 86400),
                "production_wall_s": elapsed,
                "production_steps_timed": steps,
            }

    def finish(self, simulation) -> None:
        import io

        from openmm.app import PDBFile

        state = simulation.context.getState(getPositions=True, enforcePeriodicBox=self.p["solvent"] == "explicit")
        buffer = io.StringIO()
        topology = simulation.topology
        if state.getPeriodicBoxVectors() is not None and self.p["solvent"] == "explicit":
            topology.setPeriodicBoxVectors(state.getPeriodicBoxVectors())
        PDBFile.writeFile(topology, state.getPositions(), buffer, keepIds=True)
        files.write_atomic(self.dir / FINAL_PDB, buffer.getvalue().encode())
        self.save_info(status="finished", finished=_now(), error=None)


def _close_reporter_files(*reporters) -> None:
    """Close the reporters' files now rather than in their ``__del__``, where an error (e.g. ENOSPC while
    flushing) is only printed as "Exception ignored". The reporters open the files themselves, so their
    private ``_out`` attribute is the only handle (XTCReporter opens and closes per frame and has none)."""
    for reporter in reporters:
        handle = getattr(reporter, "_out", None)
        if handle is not None and not handle.closed:
            try:
                handle.close()
            except OSError:
                pass  # the error that matters has been raised already by the write itself


def unit_nm():
    from openmm import unit

    return unit.nanometer


def _dataflow_system(system, options: dict):
    try:
        from kenkyu.kernels_md import dataflow_system
    except ImportError as exc:
        raise MDError(
            f"backend='dataflow' needs kenkyu.kernels_md.dataflow_system, which could not be imported ({exc}). "
            "Use backend='openmm', or install the kernels extra: pip install 'kenkyu[kernels]'."
        ) from exc
    return dataflow_system(system, **options)


# Tools kept in their own modules, shown (and registered) as kenkyu.tools.md.<name>: see _public.py.
from kenkyu.tools.md._minimize import Minimization, minimize  # noqa: E402
from kenkyu.tools.md._extend import extend  # noqa: E402
from kenkyu.tools.md._coarse import CoarseGrainedRun, coarse_grained  # noqa: E402
from kenkyu.tools.md._speed import BackendComparison, compare_backends  # noqa: E402
