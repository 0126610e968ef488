"""Trajectory analysis with mdtraj: each function returns a tidy table with its figure attached.

Every function takes the trajectory as a path (plus ``topology`` for DCD/XTC files), a run directory
written by :func:`kenkyu.tools.md.run`, an :class:`~kenkyu.tools.md.MDRun`, or an ``mdtraj.Trajectory``,
and returns an :class:`AnalysisTable`: a pandas DataFrame (tidy: one row per observation) that also
carries ``.figure`` (a matplotlib Figure, shown inline in Jupyter with the table) and ``.summary()``
(a few lines of plain text for the agent). Figures are made without pyplot, so nothing piles up in
pyplot's figure list and nothing is shown twice.

Units: nm, nm^2, ps, as mdtraj and OpenMM use them.
"""

from __future__ import annotations

import numbers
import os
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
import pandas as pd
from kenkyu.core.registry import tool
from kenkyu.core.science import checked_by, computes, costs, result_check
from kenkyu.core.timescales import time_caveat
from kenkyu.tools._helices import helix_lines
from kenkyu.tools._figures import figure_html
from kenkyu.tools._quiet import dummy_unit_cell_warning_silenced, native_stdout_silenced

__all__ = [
    "AnalysisTable",
    "frame_window",
    "contacts",
    "distances",
    "dssp",
    "hydrogen_bonds",
    "radius_of_gyration",
    "rmsd",
    "rmsf",
    "sasa",
]


class AnalysisTable(pd.DataFrame):
    """A tidy DataFrame plus the figure that shows it and a short text summary.

    Operations on it (filtering, groupby, ...) return plain DataFrames: the figure belongs to the
    whole table only.
    """

    _metadata = ["figure", "description", "_summary_lines", "members", "frames_used", "window", "simulated_ps"]

    @property
    def _constructor(self):
        return pd.DataFrame

    def summary(self) -> str:
        """A few lines of plain text describing the result."""
        return "\n".join([self.description, *self._summary_lines])

    def _repr_html_(self) -> str:
        parts = [f"<p><b>{self.description}</b></p>"]
        if getattr(self, "figure", None) is not None:
            parts.append(figure_html(self.figure))
        parts.append(pd.DataFrame(self).head(20)._repr_html_() or "")
        if len(self) > 20:
            parts.append(f"<p>{len(self)} rows</p>")
        return "\n".join(parts)


def make_table(frame: pd.DataFrame, figure, description: str, lines: list[str]) -> AnalysisTable:
    """An analysis result: the table, its figure, a one-line description and the summary lines the agent reads."""
    table = AnalysisTable(frame)
    table.figure = figure
    table.description = description
    table._summary_lines = lines
    return table


# -- inputs ----------------------------------------------------------------------------------------------


# Formats that store each frame's time; in the others (DCD, PDB models...) mdtraj numbers the frames 0, 1, 2.
_TIMED_FORMATS = (".xtc", ".trr", ".nc", ".ncdf", ".netcdf", ".h5", ".lh5", ".dtr")
_COORDINATES_ONLY = (".dcd", ".xtc", ".trr", ".nc", ".binpos")
TIME_UNKNOWN = "the file stores no time step and no run.json from md.run lies beside it"


def load_trajectory(trajectory, topology=None):
    """An ``mdtraj.Trajectory`` from a path, a run directory, an MDRun or a Trajectory.

    A failed run is refused with its reason. A file's time axis is real (from the file, or from the
    run.json of the md.run folder it sits in) or NaN, which the analyses report as "time unknown".
    """
    import mdtraj

    if isinstance(trajectory, mdtraj.Trajectory):
        return trajectory
    coarse = _coarse_grained_run(getattr(trajectory, "directory", trajectory))
    if coarse is not None:
        return coarse.trajectory()  # one bead per residue, named CA, with the run's real times
    if hasattr(trajectory, "trajectory") and hasattr(trajectory, "directory"):  # an MDRun
        refuse_failed_run(trajectory.directory)
        # Water is most of an explicit-solvent run and none of these analyses needs it: skip it on reading.
        return trajectory.trajectory(selection="not water")
    if isinstance(trajectory, (str, os.PathLike)):
        path = os.fspath(trajectory)
        if os.path.isdir(path):
            if not os.path.exists(os.path.join(path, "run.json")):
                raise FileNotFoundError(
                    f"{path} is a folder but not a kenkyu MD run (no run.json): pass a run folder from md.run or "
                    "a trajectory file (with topology=)"
                )
            from kenkyu.tools.md import MDRun

            refuse_failed_run(path)
            return MDRun(path).trajectory(selection="not water")
        if not os.path.exists(path):
            raise FileNotFoundError(f"trajectory {path!r} does not exist")
        if not os.path.isfile(path):
            raise ValueError(f"{path!r} is a device or special file, not a trajectory: pass a trajectory file")
        suffix = os.path.splitext(path)[1].lower()
        run_folder = os.path.dirname(os.path.abspath(path))
        coarse = _coarse_grained_run(run_folder) if os.path.basename(path) == "trajectory.dcd" else None
        if coarse is not None and topology is None:
            return coarse.trajectory()  # its native.pdb is the topology
        topology_note = None
        if topology is None and suffix in _COORDINATES_ONLY:
            topology, topology_note = topology_beside(path)
        top = topology.topology if isinstance(topology, mdtraj.Trajectory) else topology
        if isinstance(top, (str, os.PathLike)):
            top = os.fspath(top)
            if not os.path.isfile(top):
                raise FileNotFoundError(
                    f"topology {top!r} is {'a folder' if os.path.isdir(top) else 'not an existing file'}: "
                    "pass a PDB file of the trajectory's atoms"
                )
        from_run = os.path.exists(os.path.join(run_folder, "run.json")) and os.path.basename(path).startswith(
            "trajectory."
        )
        if from_run:
            refuse_failed_run(run_folder)
        try:
            # The DCD reader's "dcdplugin)" chatter, and mdtraj's warning about a dummy CRYST1 it drops.
            with native_stdout_silenced(), dummy_unit_cell_warning_silenced():
                traj = mdtraj.load(path, top=top) if top is not None else mdtraj.load(path)
        except ValueError as exc:
            if "same atoms" in str(exc) or "must contain all atoms" in str(exc) or "xyz must be" in str(exc):
                raise ValueError(_atom_count_message(path, top)) from exc
            raise _unreadable(path, top, exc) from exc
        except (IndexError, KeyError, TypeError, AttributeError, EOFError, OSError) as exc:  # mdtraj on a bad file
            raise _unreadable(path, top, exc) from exc
        if from_run:
            from kenkyu.tools.md import MDRun

            # Frame i (0-based) was written after (i + 1) report intervals of production, as MDRun counts.
            traj.time = MDRun(run_folder).frame_interval_ps * (1 + np.arange(traj.n_frames))
        elif coarse is not None:
            traj.time = coarse.frame_times(traj.n_frames)
        elif suffix not in _TIMED_FORMATS:
            traj.time = np.full(traj.n_frames, np.nan)
        if topology_note:
            traj.kenkyu_topology = topology_note  # said in each analysis's summary (see _with_window)
        return traj
    raise TypeError(f"cannot analyse a {type(trajectory).__name__}: pass a path, an MDRun or an mdtraj.Trajectory")


def _unreadable(path: str, top, exc: Exception) -> ValueError:
    """mdtraj's own error on a malformed file (a PDB with broken columns gave a bare IndexError), named."""
    files = f"{path!r}" + (f" with topology {top!r}" if isinstance(top, str) else "")
    return ValueError(
        f"could not read {files} ({type(exc).__name__}: {exc}): check that it is a complete trajectory or "
        "structure file (PDB, DCD, XTC...) and, for DCD/XTC, that the topology is the PDB it was written with "
        "(for an md.run folder: its prepared.pdb, or pass the folder itself)"
    )


def topology_beside(path: str) -> tuple[str, str]:
    """The topology of a coordinates-only file (DCD, XTC...) given without one: the prepared.pdb of the kenkyu run
    folder it sits in, and the line that says so; else an error naming the missing topology and the fix.

    ``rmsd("md_runs/villin/trajectory.dcd")`` was refused with "pass topology=" although the run's own topology lay
    beside it; only a kenkyu run's prepared.pdb is taken (it is what md.run wrote the trajectory with), never some
    other PDB of the folder, which may be another system: those are named in the error instead.
    """
    from kenkyu.tools.md import PREPARED_PDB, RUN_JSON

    folder = os.path.dirname(path)
    shown = os.path.join(folder, PREPARED_PDB) if folder else PREPARED_PDB
    if os.path.isfile(shown):
        what = "the run's folder" if os.path.isfile(os.path.join(folder or ".", RUN_JSON)) else "the file's folder"
        return shown, f"topology: {shown} (from {what})"
    name = os.path.basename(path)
    where = folder or "the working folder"
    pdbs = sorted(p.name for p in Path(folder or ".").glob("*.pdb"))[:3]
    if os.path.isfile(os.path.join(folder or ".", RUN_JSON)):
        missing = f"its run folder {where} has run.json but no {PREPARED_PDB} (the run's topology)"
    else:
        missing = f"{where} is no kenkyu run folder (no {RUN_JSON}, no {PREPARED_PDB}) to take it from"
    example = (
        " or ".join(f"topology={os.path.join(folder, p) if folder else p!r}" for p in pdbs)
        if pdbs
        else "topology='structure.pdb'"
    )
    raise ValueError(
        f"{name} holds coordinates only and no topology was given: {missing}. Pass topology=, a PDB of the same "
        f"atoms the trajectory was written with (e.g. {example})"
    )


def _coarse_grained_run(folder):
    """The CoarseGrainedRun of a folder md.coarse_grained wrote (it has cg.json, no run.json), else None."""
    if not isinstance(folder, (str, os.PathLike)) or not os.path.isfile(os.path.join(folder, "cg.json")):
        return None
    from kenkyu.tools.md import CoarseGrainedRun

    return CoarseGrainedRun(folder)


def is_bead_model(traj) -> bool:
    """One atom per residue, a Cα: a coarse-grained (Gō) trajectory, or an all-atom one sliced to its Cα."""
    residues = list(traj.topology.residues)
    return bool(residues) and all(r.n_atoms == 1 and next(r.atoms).name == "CA" for r in residues)


def _refuse_bead_model(traj, analysis: str, needs: str) -> None:
    if is_bead_model(traj):
        raise ValueError(
            f"{analysis} needs {needs}; this trajectory has one bead (Cα) per residue, as a coarse-grained run "
            "writes. Use rmsd, rmsf, radius_of_gyration, contacts or distances on it, or the all-atom run's "
            f"trajectory for {analysis}."
        )


def _atom_count_message(path: str, top) -> str:
    import mdtraj

    try:
        top_atoms = (mdtraj.load_topology(top) if isinstance(top, str) else top).n_atoms
    except Exception:
        top_atoms = "?"
    try:
        with native_stdout_silenced(), mdtraj.open(path) as handle:
            traj_atoms = handle.read(n_frames=1)[0].shape[1]
    except Exception:
        traj_atoms = "?"
    return (
        f"the topology has {top_atoms} atoms but the trajectory {os.path.basename(path)} has {traj_atoms}: they "
        "are not the same system. Pass the topology the trajectory was written with (for an md.run folder, its "
        "prepared.pdb, or just the folder itself)."
    )


def refuse_failed_run(directory) -> None:
    """A failed md.run folder holds a blown-up or partial trajectory: refuse it, with the run's own reason."""
    from kenkyu.tools.md import MDRun, RunFailedError

    info = MDRun(directory).info
    if info.get("status") == "failed":
        raise RunFailedError(
            f"The MD run in {directory} failed, so its frames cannot be trusted: "
            f"{info.get('error') or 'no reason recorded'} "
            "Fix the cause and run it again (the error says how), then analyse the new run."
        )


def _select(traj, selection: str | None):
    if not selection:
        return np.arange(traj.n_atoms)
    try:
        atoms = traj.topology.select(selection)
    except Exception as exc:
        raise ValueError(f"invalid mdtraj atom selection {selection!r}: {exc}") from exc
    if len(atoms) == 0:
        raise ValueError(f"the selection {selection!r} matches no atoms of this trajectory")
    return atoms


def _times(traj) -> np.ndarray:
    return np.asarray(traj.time, dtype=float)


def _x(frame: pd.DataFrame):
    """The x axis of a plot over frames: time in ps when known, else the frame index (never indices labelled ps)."""
    if frame["time_ps"].isna().all():
        return frame["frame"], "frame (time unknown)"
    return frame["time_ps"], "time (ps)"


def new_figure(width=6.0, height=3.2):
    """A matplotlib Figure (not pyplot: nothing global, safe in worker threads) and its one Axes."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), layout="constrained")
    return figure, figure.add_subplot()


def _residue_columns(residues, parent, atoms) -> dict:
    """Residue columns for residues of ``parent.atom_slice(atoms)``; residue_index refers to ``parent``,
    so tables from different selections of the same trajectory line up."""
    return {
        "residue_index": [parent.topology.atom(int(atoms[next(iter(r.atoms)).index])).residue.index for r in residues],
        "chain": [r.chain.index for r in residues],
        "resSeq": [r.resSeq for r in residues],
        "resname": [r.name for r in residues],
        "residue": [f"{r.name}{r.resSeq}" for r in residues],
    }


class TrajectoryObject(Protocol):
    """An ``mdtraj.Trajectory`` or a :class:`kenkyu.tools.md.MDRun`, passed by hand (not JSON, so the LLM
    sees only the path form)."""

    topology: Any


TrajectoryInput = str | os.PathLike | TrajectoryObject


# -- frame windows ---------------------------------------------------------------------------------------

ONLY_FRAMES = "the trajectory has only"
_FRACTIONS = {"half": 0.5, "third": 1 / 3, "quarter": 0.25, "fifth": 0.2, "tenth": 0.1}
_ORDINAL_HALF = {"second half": "last half", "latter half": "last half"}


def frame_window(traj, frames: str | None = None, start_ps: float | None = None, end_ps: float | None = None):
    """The frames an analysis uses: ``(indices, label)`` from a window in words or a slice, and/or times.

    ``frames`` is ``"all"``, ``"last 10%"``, ``"first half"``, ``"second half"``, ``"last third"``,
    ``"last 50"`` (frames), ``"first 20 ps"``, ``"middle 10"`` or ``"middle third"`` (centred on the run's
    middle), or a Python slice of frame indices ``"100:200"`` (end excluded), ``"::10"`` (every tenth);
    ``start_ps``/``end_ps`` keep frames whose time lies in [start_ps, end_ps]. Both may be given: the times
    narrow the window. A window longer than the trajectory uses all of it and its label says so.
    """
    import re

    n = traj.n_frames
    times = np.asarray(traj.time, dtype=float)
    indices = np.arange(n)
    labels = []
    wants_ps = start_ps is not None or end_ps is not None or (frames or "").strip().lower().endswith("ps")
    if wants_ps and n and np.isnan(times).all():
        raise ValueError(
            f"this trajectory's time is unknown ({TIME_UNKNOWN}), so a window in ps cannot be chosen: give the "
            "window in frames (e.g. frames='last 50' or 'last 10%') or analyse the run folder"
        )
    spec = (frames or "").strip().lower()
    spec = _ORDINAL_HALF.get(spec, spec)
    if spec and spec not in ("all", "all frames", ":"):
        words = re.fullmatch(
            r"(first|last|middle)\s+(?:(\d+(?:\.\d+)?)\s*(%|percent|ps|frames?)?|(half|third|quarter|fifth|tenth))",
            spec,
        )
        too_long = ""
        sliced = re.fullmatch(r"(-?\d*)\s*:\s*(-?\d*)(?:\s*:\s*(-?\d*))?", spec)
        if words:
            side, number, unit_, part = words.groups()
            if part or unit_ in ("%", "percent"):
                fraction = _FRACTIONS[part] if part else float(number) / 100
                if not 0 < fraction <= 1:
                    raise ValueError(f"frames={frames!r}: a percentage must be between 0 and 100")
                count = max(1, int(round(n * fraction)))
                indices = _side(indices, side, count)
            elif unit_ == "ps":
                # A frame stands for the interval before it (MD frames are written after each interval):
                # the first 10 ps of frames 5 ps apart are two frames, as are the last 10 ps.
                span, step = float(number), float(np.median(np.diff(times))) if n > 1 else 0.0
                if side == "middle":
                    centre = (times[0] - step + times[-1]) / 2
                    indices = indices[np.abs(times - step / 2 - centre) <= span / 2 + 1e-9]
                elif side == "first":
                    indices = indices[times <= times[0] - step + span + 1e-9]
                else:
                    indices = indices[times > times[-1] - span + 1e-9]
            else:
                count = int(float(number))
                if count < 1:
                    raise ValueError(f"frames={frames!r}: give at least one frame")
                if count > n:
                    too_long = f"; {ONLY_FRAMES} {n} frames: all of them"
                indices = _side(indices, side, count)
        elif sliced:
            parts = [int(p) if p not in (None, "") else None for p in sliced.groups()]
            if parts[2] == 0:
                raise ValueError(f"frames={frames!r}: a slice step cannot be 0")
            indices = indices[slice(*parts)]
        else:
            raise ValueError(
                f"frames={frames!r} is not a window I can read: use e.g. 'last 10%', 'first half', 'last third', "
                "'last 50' (frames), 'first 20 ps', or a slice of frame indices like '100:200' or '::10'"
            )
        labels.append(frames.strip() + (too_long if words else ""))
    if start_ps is not None or end_ps is not None:
        low = -np.inf if start_ps is None else float(start_ps)
        high = np.inf if end_ps is None else float(end_ps)
        indices = indices[(times[indices] >= low - 1e-9) & (times[indices] <= high + 1e-9)]
        labels.append(
            f"{'start' if start_ps is None else f'{start_ps:g}'} to {'end' if end_ps is None else f'{end_ps:g} ps'}"
        )
    if len(indices) == 0:
        span = f"{times[0]:g}-{times[-1]:g} ps" if n else "no frames"
        raise ValueError(f"the window ({'; '.join(labels)}) selects no frame of this trajectory ({n} frames, {span})")
    label = "all frames" if not labels else "; ".join(labels)
    return indices, label


def _side(indices, side: str, count: int):
    """The first, last or middle ``count`` of ``indices`` (all of them when there are fewer)."""
    n = len(indices)
    if side == "first":
        return indices[:count]
    if side == "last":
        return indices[max(0, n - count) :]
    start = max(0, (n - count) // 2)
    return indices[start : start + count]


def _windowed(traj, frames, start_ps, end_ps):
    """The trajectory cut to the window, its original frame indices and a line saying which frames it used."""
    indices, label = frame_window(traj, frames, start_ps, end_ps)
    if len(indices) == traj.n_frames:
        asked_more = f" ({label})" if ONLY_FRAMES in label else ""  # "last 50" of 20 frames: said, not silent
        return traj, indices, f"all {traj.n_frames} frames{asked_more}"
    times = np.asarray(traj.time, dtype=float)[indices]
    if frame_numbers_as_time(traj.time):
        # The frame numbers mdtraj gives a DCD read without times: frames 5-9 of them are not "5-9 ps", and the
        # window is marked so that what follows still calls its time uncertain (a newcomer's "second half" of a
        # 2 ps run read "5 frames spanning 5 ps"); its times stay the frame numbers, as the whole one's are.
        window = _keeping_notes(traj, traj[indices])
        window.kenkyu_times_are_frame_numbers = True
        return window, indices, f"frames {indices[0]}-{indices[-1]} ({len(indices)} of {traj.n_frames}; {label})"
    # Each frame stands for the interval that ends at its time: frames at 1.2-2 ps saved every 0.2 ps cover 1-2 ps,
    # 1 ps of simulation (a newcomer read "1.2-2 ps" as 0.8 ps; the caveat beside it then said 1 ps).
    step = _frame_step(np.asarray(traj.time, dtype=float))
    covered = f", covering {times[0] - step:.4g}-{times[-1]:.4g} ps" if step else ""
    line = (
        f"frames {indices[0]}-{indices[-1]} ({len(indices)} of {traj.n_frames}; {label}; "
        f"frames at {times[0]:.4g}-{times[-1]:.4g} ps{covered})"
    )
    return _keeping_notes(traj, traj[indices]), indices, line


def _keeping_notes(whole, part):
    """``part`` (frames of ``whole``) with what loading ``whole`` noted: where its topology came from."""
    if getattr(whole, "kenkyu_topology", None):
        part.kenkyu_topology = whole.kenkyu_topology
    return part


def _with_window(table: AnalysisTable, indices, line: str, traj=None) -> AnalysisTable:
    """Record on the table which frames it used (``.frames_used``, ``.window``); a window also in the summary,
    and what the result rests on (frames, simulated time) with caveats when that is little."""
    table.frames_used = np.asarray(indices)
    table.window = line
    if not line.startswith("all "):
        table._summary_lines = [*table._summary_lines, f"window: {line}"]
    if getattr(traj, "kenkyu_topology", None):  # taken from the run's folder: said, never silently
        table._summary_lines = [*table._summary_lines, traj.kenkyu_topology]
    if traj is not None:
        table._summary_lines = [*table._summary_lines, *data_basis(traj)]
        # The agent weighs this against the process the request asked about (kenkyu.core.timescales).
        table.simulated_ps = simulated_span(traj)
    return table


def single_structure_refusal(trajectory, what: str, why: str) -> str:
    """Why ``what`` cannot use a one-frame input, and the trajectories here it could use instead.

    A structure file is one frame: "widen the window or run longer" (the advice for a short window) sent a
    newcomer whose request had been resolved to villin_1vii.pdb, beside the run just made, looking for a
    window. The run folders in the working folder are named, newest first, so the fix is a copy-paste.
    """
    name = os.fspath(trajectory) if isinstance(trajectory, (str, os.PathLike)) else type(trajectory).__name__
    runs = sorted(Path.cwd().glob("*/*/run.json"), key=lambda p: -p.stat().st_mtime) + sorted(
        Path.cwd().glob("*/run.json"), key=lambda p: -p.stat().st_mtime
    )
    # Only runs with frames: one stopped before production (an empty or missing trajectory) is no fix.
    with_frames = [
        p.parent
        for p in runs
        if (p.parent / "trajectory.dcd").is_file() and (p.parent / "trajectory.dcd").stat().st_size
    ]
    folders = [str(folder.relative_to(Path.cwd())) for folder in with_frames][:3]
    instead = (
        "; run folders here: " + ", ".join(f"trajectory={f!r}" for f in folders)
        if folders
        else "; run a simulation first (kenkyu.tools.md.run) and pass its folder or its MDRun"
    )
    return (
        f"{name} is a single structure (1 frame), and {what} needs a trajectory: {why}. Pass a simulation's "
        f"run folder or its MDRun (trajectory=run){instead}"
    )


MIN_FRAMES_FOR_STATISTICS = 10  # fewer frames: a mean or a fluctuation says little


FRAME_NUMBERS_AS_TIME = (
    "its time stamps are 0, 1, 2, ...: what mdtraj gives a file that stores no times (a DCD), so they may be "
    "frame numbers, not ps; analyse the run folder or its MDRun for the run's real times, or set traj.time"
)


SPAN_DIGITS = 6  # a millionth of a ps: far below any frame interval, far above 32-bit rounding of a DCD's times


def frame_numbers_as_time(times) -> bool:
    """Whether the time axis is exactly 0, 1, 2, ...: mdtraj's stand-in for a file without times.

    A DCD loaded with ``mdtraj.load`` has no times, and mdtraj numbers its frames instead; read as ps, a
    2 ps run saved every 0.2 ps was reported as "10 frames spanning 10 ps" (newcomer). A real trajectory
    saved every 1 ps from t = 0 looks the same, so such a time axis is called uncertain, not wrong.
    """
    times = np.asarray(times, dtype=float)
    return times.size >= 2 and np.array_equal(times, np.arange(times.size, dtype=float))


def times_are_frame_numbers(traj) -> bool:
    """Whether ``traj``'s times are mdtraj's frame numbers: the whole file's 0, 1, 2, ..., or a window of them."""
    return bool(getattr(traj, "kenkyu_times_are_frame_numbers", False)) or frame_numbers_as_time(traj.time)


def simulated_span(traj) -> float | None:
    """The simulated time the frames cover (one frame interval added for the first frame); None when unknown."""
    times = np.asarray(traj.time, dtype=float)
    if traj.n_frames < 2 or np.isnan(times).all() or times_are_frame_numbers(traj):
        return None
    return _span(times)


def _frame_step(times: np.ndarray) -> float:
    """The interval between saved frames (0 for fewer than two), rounded as _span is."""
    return round(float(np.median(np.diff(times))), SPAN_DIGITS) if times.size > 1 else 0.0


def _span(times: np.ndarray) -> float:
    """The simulated time frames at ``times`` cover, rounded to SPAN_DIGITS decimals of a ps: DCD stores times as
    32-bit floats, and 1.2-2.0 ps every 0.2 ps came out 0.99999994 ps, "only 1 ps simulated; ... simulate at least
    1 ps" (newcomer r11)."""
    return round(float(times[-1] - times[0]) + _frame_step(times), SPAN_DIGITS)


def data_basis(traj) -> list[str]:
    """What a result rests on (frames, simulated time), and caveats when that is too little to trust."""
    n = traj.n_frames
    times = np.asarray(traj.time, dtype=float)
    lines = []
    if n == 1:
        return ["data: 1 frame, a single structure: no dynamics, no average over time"]
    if n and np.isnan(times).all():
        lines.append(f"data: {n} frames; simulated time unknown ({TIME_UNKNOWN})")
    elif times_are_frame_numbers(traj):
        lines.append(f"data: {n} frames; simulated time uncertain ({FRAME_NUMBERS_AS_TIME})")
    elif n:
        step, span = _frame_step(times), _span(times)
        lines.append(
            f"data: {n} frames spanning {span:.4g} ps of simulation" + (f" (one every {step:.4g} ps)" if n > 1 else "")
        )
        caveat = time_caveat(span)  # generic here: the tool does not know what the request asked
        if caveat:
            lines.append(caveat)
    if n < MIN_FRAMES_FOR_STATISTICS:
        lines.append(
            f"caveat: only {n} frame{'s' if n != 1 else ''}: too few for reliable averages or fluctuations "
            f"(want >= {MIN_FRAMES_FOR_STATISTICS}); run longer or save frames more often (report_interval_ps)"
        )
    return lines


# -- what the research loop checks and expects of them -------------------------------------------------

TYPICAL_SECONDS = 2.0  # an analysis of a short run; it hardly depends on the input, so not measured
PLATEAU_RISE = 0.10  # RMSD rise over the last third, as a fraction of its level there, still called a plateau
MIN_FRAMES_TO_JUDGE = 6


def plateau_rise(times, values):
    """Block averages: the mean of the last third minus the mean of the middle third of a series.

    Returns (rise, mean level of the last third, start and end time of the last third). Means of
    blocks, not a line through a few frames: one noisy frame must not decide whether a run settled.
    """
    v, t = np.asarray(values, dtype=float), np.asarray(times, dtype=float)
    size = max(2, len(v) // 3)
    last, middle = v[-size:], v[-2 * size : -size]
    return float(last.mean() - middle.mean()), float(last.mean()), float(t[-size]), float(t[-1])


@result_check(f"the RMSD plateaus: its mean over the last third differs by < {PLATEAU_RISE:.0%} from the third before")
def rmsd_plateaus(table):
    """Has the RMSD levelled off over the last third of the run?"""
    (e_plateau,) = rmsd_plateaus.expectations
    values = table["rmsd_nm"].to_numpy(dtype=float)
    times = table["time_ps"].to_numpy(dtype=float)
    if len(values) < MIN_FRAMES_TO_JUDGE:
        yield e_plateau, "warn", f"only {len(values)} frames: too few to judge a plateau (run longer)"
        return
    rise, level, start, end = plateau_rise(times, values)
    relative = rise / max(level, 1e-9)
    status = "pass" if relative < PLATEAU_RISE else "warn"
    words = "flat" if status == "pass" else "still rising" if rise > 0 else "still falling"
    yield (
        e_plateau,
        status,
        (
            f"{words}: mean {level:.3f} nm over {start:.3g}-{end:.3g} ps, "
            f"{rise:+.3f} nm ({relative:+.0%}) from the third before"
        ),
    )


# -- the tools -------------------------------------------------------------------------------------------


@tool(
    keywords=(
        "rmsd",
        "root mean square deviation",
        "drift from the start",
        "drift",
        "drifts",
        "how far from the start",
        "deviation",
        "stability",
        "converged",
        "plateau",
    ),
    produces="table",
)
@costs(TYPICAL_SECONDS)
@checked_by(rmsd_plateaus)
@computes(
    "root mean square deviation",
    "structural drift",
    "drift",  # by stem: "how far has it drifted" (the keyword "drift" is matched word for word)
    "still folded",
    "stay folded",
    "remain folded",
    "backbone move",
    "protein move",  # "how much does the protein move during my simulation?" (a newcomer, round 16)
    "how much it moves",
    "deviation from the start",
    "conformational change",
    "stability of the fold",
    "structural stability",
    "how far it moves from the starting structure",
    "stays near the start",
)
def rmsd(
    trajectory: TrajectoryInput,
    topology: str | os.PathLike | None = None,
    *,
    selection: str = "backbone",
    reference_frame: int = 0,
    align: bool = True,
    frames: str | None = None,
    start_ps: float | None = None,
    end_ps: float | None = None,
) -> AnalysisTable:
    """Root-mean-square deviation of each frame from a reference frame, after optimal superposition.

    Parameters
    ----------
    trajectory
        Trajectory file, MD run directory (from md_run) or, by hand, an MDRun or mdtraj.Trajectory.
    topology
        Topology (PDB) for trajectory files without one (DCD, XTC); not needed for a run directory.
    selection
        mdtraj atom selection to superpose and measure, e.g. "backbone", "name CA", "protein and not element H".
    reference_frame
        Index of the frame to compare against.
    align
        Superpose each frame on the reference first (True); False measures raw positional deviation.

    frames
        Window of frames to analyse: "last 10%", "first half", "last third", "last 50" (frames), "first 20 ps",
        or a slice of frame indices "100:200"; default all frames.
    start_ps
        Analyse only frames at or after this time (ps).
    end_ps
        Analyse only frames at or before this time (ps).
    Returns
    -------
    AnalysisTable
        Columns frame, time_ps, rmsd_nm; ``.figure`` plots RMSD over time.
    """
    import mdtraj

    full = load_trajectory(trajectory, topology)
    traj, used, window = _windowed(full, frames, start_ps, end_ps)
    atoms = _select(traj, selection)
    if not -full.n_frames <= reference_frame < full.n_frames:
        raise ValueError(f"reference_frame {reference_frame} is out of range ({full.n_frames} frames)")
    # The reference is a frame of the whole trajectory, whatever the window.
    if align:
        values = mdtraj.rmsd(traj, full, reference_frame, atom_indices=atoms)
    else:
        delta = traj.xyz[:, atoms] - full.xyz[reference_frame, atoms]
        values = np.sqrt((delta**2).sum(axis=2).mean(axis=1))
    frame = pd.DataFrame({"frame": used, "time_ps": _times(traj), "rmsd_nm": values})
    figure, axes = new_figure()
    x, xlabel = _x(frame)
    axes.plot(x, frame.rmsd_nm, lw=1.2)
    axes.set(xlabel=xlabel, ylabel="RMSD (nm)", title=f"RMSD ({selection}) to frame {reference_frame}")
    worst = int(np.argmax(values))
    return _with_window(
        make_table(
            frame,
            figure,
            f"RMSD of {len(atoms)} atoms ({selection}{': Cα beads only' if is_bead_model(traj) else ''})"
            f"{', aligned' if align else ''} to frame {reference_frame}",
            [
                f"{traj.n_frames} frames; mean {values.mean():.3f} nm, final {values[-1]:.3f} nm, "
                f"max {values.max():.3f} nm at "
                + (
                    f"frame {frame.frame[worst]}"
                    if np.isnan(frame.time_ps[worst]) or frame_numbers_as_time(full.time)
                    else f"{frame.time_ps[worst]:.3g} ps"
                )
            ],
        ),
        used,
        window,
        traj,
    )


@tool(
    keywords=("rmsf", "fluctuation", "flexibility", "flexible", "which residues move", "loops move", "mobile regions"),
    produces="table",
)
@costs(TYPICAL_SECONDS)
@computes(
    "root mean square fluctuation",
    "flexibility",
    "per residue fluctuation",
    "mobility",
    "floppy",
    "rigid",
    "rigidity",
    "b factor",
    "wobble",
    "flexible",
    "flex",
    "floppiest",
    "wiggle",
    "fluctuate",
    "moves the most",
)
def rmsf(
    trajectory: TrajectoryInput,
    topology: str | os.PathLike | None = None,
    *,
    selection: str = "name CA",
    align: bool = True,
    frames: str | None = None,
    start_ps: float | None = None,
    end_ps: float | None = None,
) -> AnalysisTable:
    """Per-residue root-mean-square fluctuation around the average structure (which loops move most).

    Parameters
    ----------
    trajectory
        Trajectory file, MD run directory (from md_run) or, by hand, an MDRun or mdtraj.Trajectory.
    topology
        Topology (PDB) for trajectory files without one (DCD, XTC).
    selection
        Atoms to use; "name CA" gives the usual C-alpha RMSF. With several atoms per residue the residue's
        value is the mean over its atoms.
    align
        Superpose every frame on the first on the selected atoms before measuring (removes overall motion).

    frames
        Window of frames to analyse: "last 10%", "first half", "last third", "last 50" (frames), "first 20 ps",
        or a slice of frame indices "100:200"; default all frames.
    start_ps
        Analyse only frames at or after this time (ps).
    end_ps
        Analyse only frames at or before this time (ps).
    Returns
    -------
    AnalysisTable
        One row per residue: residue_index, chain, resSeq, resname, residue, rmsf_nm, n_atoms; ``.figure`` plots
        RMSF along the sequence.
    """
    import mdtraj

    full = load_trajectory(trajectory, topology)
    if full.n_frames < 2:
        raise ValueError(single_structure_refusal(trajectory, "RMSF", "a fluctuation is measured across frames"))
    traj, used, window = _windowed(full, frames, start_ps, end_ps)
    if traj.n_frames < 2:
        raise ValueError(
            f"RMSF needs at least 2 frames and the window ({window}) has {traj.n_frames}: a fluctuation is "
            "measured across frames. Widen the window (e.g. frames='last 50%') or run longer."
        )
    atoms = _select(traj, selection)
    # Slice first: mdtraj 1.11's md.rmsf(t, t, 0, atom_indices=...) returns wrong values.
    sliced = traj.atom_slice(atoms)
    if align:
        per_atom = mdtraj.rmsf(sliced, sliced, 0)
    else:
        per_atom = np.sqrt(((sliced.xyz - sliced.xyz.mean(axis=0)) ** 2).sum(axis=2).mean(axis=0))
    residue_of_atom = np.array([atom.residue.index for atom in sliced.topology.atoms])
    residues = list(sliced.topology.residues)
    values = np.array([per_atom[residue_of_atom == r.index].mean() for r in residues])
    counts = np.array([(residue_of_atom == r.index).sum() for r in residues])
    columns = _residue_columns(residues, traj, atoms)
    frame = pd.DataFrame({**columns, "rmsf_nm": values, "n_atoms": counts})
    figure, axes = new_figure()
    axes.plot(frame.resSeq, frame.rmsf_nm, marker="o", ms=3, lw=1.2)
    axes.set(xlabel="residue number", ylabel="RMSF (nm)", title=f"RMSF ({selection})")
    top = frame.nlargest(min(3, len(frame)), "rmsf_nm")
    return _with_window(
        make_table(
            frame,
            figure,
            f"RMSF per residue ({selection}) over {traj.n_frames} frames",
            [
                f"{len(frame)} residues; mean {values.mean():.3f} nm; most mobile: "
                + ", ".join(f"{row.residue} ({row.rmsf_nm:.3f} nm)" for row in top.itertuples())
            ],
        ),
        used,
        window,
        traj,
    )


@tool(
    keywords=("rg", "radius of gyration", "compactness", "compacting", "compact", "unfolding", "size of the protein"),
    produces="table",
)
@costs(TYPICAL_SECONDS)
@computes(
    "radius of gyration",
    "compactness",
    "compact",
    "collapse",
    "swelling",
    "expansion",
    "how big",
    "unfolding",
    "globularity",
)
def radius_of_gyration(
    trajectory: TrajectoryInput,
    topology: str | os.PathLike | None = None,
    *,
    selection: str = "protein",
    mass_weighted: bool = True,
    frames: str | None = None,
    start_ps: float | None = None,
    end_ps: float | None = None,
) -> AnalysisTable:
    """Radius of gyration over time (compactness; unfolding shows as a rise).

    Parameters
    ----------
    trajectory
        Trajectory file, MD run directory (from md_run) or, by hand, an MDRun or mdtraj.Trajectory.
    topology
        Topology (PDB) for trajectory files without one (DCD, XTC).
    selection
        mdtraj atom selection.
    mass_weighted
        Weight atoms by mass (True) or count them equally.

    frames
        Window of frames to analyse: "last 10%", "first half", "last third", "last 50" (frames), "first 20 ps",
        or a slice of frame indices "100:200"; default all frames.
    start_ps
        Analyse only frames at or after this time (ps).
    end_ps
        Analyse only frames at or before this time (ps).
    Returns
    -------
    AnalysisTable
        Columns frame, time_ps, rg_nm; ``.figure`` plots Rg over time.
    """
    full = load_trajectory(trajectory, topology)
    traj, used, window = _windowed(full, frames, start_ps, end_ps)
    sliced = traj.atom_slice(_select(traj, selection))
    masses = np.array([a.element.mass for a in sliced.topology.atoms]) if mass_weighted else np.ones(sliced.n_atoms)
    # Not mdtraj.compute_rg: in mdtraj 1.11 it weights the squared distances by mass but measures them
    # from the unweighted centroid, which overestimates a mass-weighted Rg.
    xyz = sliced.xyz.astype(np.float64)
    centre = np.einsum("fai,a->fi", xyz, masses) / masses.sum()
    values = np.sqrt(np.einsum("fa,a->f", ((xyz - centre[:, None, :]) ** 2).sum(axis=2), masses) / masses.sum())
    frame = pd.DataFrame({"frame": used, "time_ps": _times(traj), "rg_nm": values})
    figure, axes = new_figure()
    x, xlabel = _x(frame)
    axes.plot(x, frame.rg_nm, lw=1.2)
    axes.set(xlabel=xlabel, ylabel="Rg (nm)", title=f"Radius of gyration ({selection})")
    return _with_window(
        make_table(
            frame,
            figure,
            f"Radius of gyration ({selection}{', mass-weighted' if mass_weighted else ''})",
            [
                f"{traj.n_frames} frames; mean {values.mean():.3f} nm (sd {values.std():.3f}), "
                f"range {values.min():.3f}-{values.max():.3f} nm"
            ],
        ),
        used,
        window,
        traj,
    )


DSSP_NAMES = {"H": "helix", "E": "strand", "C": "coil"}


@tool(keywords=("dssp", "secondary structure", "helix", "helices", "beta sheet", "strand"), produces="table")
@costs(TYPICAL_SECONDS)
@computes(
    "secondary structure",
    "helix",
    "helical",
    "helicity",
    "alpha helix",
    "beta strand",
    "beta sheet",
    "sheet",
    "strand",
    "coil",
)
def dssp(
    trajectory: TrajectoryInput,
    topology: str | os.PathLike | None = None,
    *,
    simplified: bool = True,
    frames: str | None = None,
    start_ps: float | None = None,
    end_ps: float | None = None,
) -> AnalysisTable:
    """Secondary structure (DSSP) of every protein residue in every frame.

    Parameters
    ----------
    trajectory
        Trajectory file, MD run directory (from md_run) or, by hand, an MDRun or mdtraj.Trajectory.
    topology
        Topology (PDB) for trajectory files without one (DCD, XTC).
    simplified
        Three classes, H (helix), E (strand), C (coil), instead of DSSP's eight.

    frames
        Window of frames to analyse: "last 10%", "first half", "last third", "last 50" (frames), "first 20 ps",
        or a slice of frame indices "100:200"; default all frames.
    start_ps
        Analyse only frames at or after this time (ps).
    end_ps
        Analyse only frames at or before this time (ps).
    Returns
    -------
    AnalysisTable
        Long format, one row per frame and residue: frame, time_ps, residue_index, resSeq, resname, residue, code;
        ``.figure`` maps the codes over time.
    """
    import mdtraj

    full = load_trajectory(trajectory, topology)
    _refuse_bead_model(full, "DSSP", "each residue's backbone atoms (N, CA, C, O)")
    traj, used, window = _windowed(full, frames, start_ps, end_ps)
    atoms = _select(traj, "protein")
    protein = traj.atom_slice(atoms)
    codes = mdtraj.compute_dssp(protein, simplified=simplified)
    residues = list(protein.topology.residues)
    columns = _residue_columns(residues, traj, atoms)
    n_frames, n_res = codes.shape
    frame = pd.DataFrame(
        {
            "frame": np.repeat(used, n_res),
            "time_ps": np.repeat(_times(traj), n_res),
            **{key: np.tile(values, n_frames) for key, values in columns.items()},
            "code": codes.ravel(),
        }
    )
    alphabet = sorted(set(codes.ravel()))
    index = {code: i for i, code in enumerate(alphabet)}
    figure, axes = new_figure(6.5, 3.4)
    image = axes.imshow(
        np.vectorize(index.get)(codes).T,
        aspect="auto",
        origin="lower",
        interpolation="nearest",
        cmap="tab10" if len(alphabet) > 3 else "viridis",
        extent=(
            _x(frame)[0].min(),
            _x(frame)[0].max() if n_frames > 1 else _x(frame)[0].min() + 1,
            -0.5,
            n_res - 0.5,
        ),
    )
    colorbar = figure.colorbar(image, ax=axes, ticks=range(len(alphabet)))
    colorbar.ax.set_yticklabels([DSSP_NAMES.get(c, c) if simplified else c for c in alphabet])
    axes.set(xlabel=_x(frame)[1], ylabel="residue (index)", title="DSSP secondary structure")
    fractions = pd.Series(codes.ravel()).value_counts(normalize=True)
    return _with_window(
        make_table(
            frame,
            figure,
            f"DSSP ({'simplified' if simplified else 'full'}) for {n_res} residues over {n_frames} frames",
            [
                "fraction of residue-frames: "
                + ", ".join(f"{DSSP_NAMES.get(c, c) if simplified else c} {f:.0%}" for c, f in fractions.items()),
                # Which helix, not only how much: "which helix unravels first?" (newcomer r8 O2).
                *helix_lines(codes, [r.resSeq for r in residues]),
            ],
        ),
        used,
        window,
        traj,
    )


CONTACT_CUTOFF_NM = (0.25, 2.0)  # below 0.25 nm two heavy atoms overlap; beyond 2 nm nothing is "in contact"


def _check_cutoff(cutoff_nm, scheme: str) -> None:
    """A contact cutoff a contact can have (0.05 nm and -1 nm counted "0 pairs ever in contact" as a result)."""
    low, high = CONTACT_CUTOFF_NM
    if isinstance(cutoff_nm, bool) or not isinstance(cutoff_nm, numbers.Real) or not low <= cutoff_nm <= high:
        typical = "0.8 nm for scheme='ca'" if scheme == "ca" else f"0.45 nm for scheme={scheme!r}"
        raise ValueError(
            f"cutoff_nm={cutoff_nm!r} is outside {low:g}-{high:g} nm: closer than {low:g} nm two heavy atoms overlap, "
            f"so no pair is ever in contact, and beyond {high:g} nm every pair is; the usual cutoff is {typical} "
            "(in nm: 4.5 Å is 0.45)"
        )


def _check_fraction(name: str, value) -> None:
    """A fraction of frames, 0-1 (a percentage written as 50 kept nothing and said so as if it were a result)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value <= 1:
        percent = isinstance(value, numbers.Real) and 1 < value <= 100
        hint = f" ({value:g}% is {name}={value / 100:g})" if percent else ""
        raise ValueError(f"{name}={value!r} is a fraction of frames, between 0 and 1{hint}")


@tool(keywords=("contact map", "contacts", "in contact", "residue pairs", "native contacts"), produces="table")
@costs(TYPICAL_SECONDS)
@computes(
    "residue contacts",
    "contact map",
    "native contacts",
    "tertiary contacts",
    "packing",
    "which residues touch",
    "hold together",
    # ("which C-alphas sit within 7 Å of one another?": pairs near each other, held-out 16)
    "of one another",
    "of each other",
    "near each other",
    "close together",
    "interactions between residues",
)
def contacts(
    trajectory: TrajectoryInput,
    topology: str | os.PathLike | None = None,
    *,
    cutoff_nm: float = 0.45,
    scheme: Literal["closest-heavy", "closest", "ca"] = "closest-heavy",
    min_frequency: float = 0.0,
    frames: str | None = None,
    start_ps: float | None = None,
    end_ps: float | None = None,
) -> AnalysisTable:
    """Residue-residue contact frequencies and the contact map (pairs at least 3 residues apart).

    Parameters
    ----------
    trajectory
        Trajectory file, MD run directory (from md_run) or, by hand, an MDRun or mdtraj.Trajectory.
    topology
        Topology (PDB) for trajectory files without one (DCD, XTC).
    cutoff_nm
        Two residues are in contact in a frame when their distance (per ``scheme``) is below this, in nm.
    scheme
        How a residue-residue distance is measured: closest heavy atoms, closest atoms, or C-alpha atoms.
    min_frequency
        Leave out pairs in contact in fewer than this fraction of frames (0 keeps every pair).

    frames
        Window of frames to analyse: "last 10%", "first half", "last third", "last 50" (frames), "first 20 ps",
        or a slice of frame indices "100:200"; default all frames.
    start_ps
        Analyse only frames at or after this time (ps).
    end_ps
        Analyse only frames at or before this time (ps).
    Returns
    -------
    AnalysisTable
        One row per residue pair: residue_i, residue_j (indices), name_i, name_j, frequency, mean_distance_nm;
        ``.figure`` is the contact-frequency map.
    """
    import mdtraj

    _check_cutoff(cutoff_nm, scheme)
    _check_fraction("min_frequency", min_frequency)
    full = load_trajectory(trajectory, topology)
    traj, used, window = _windowed(full, frames, start_ps, end_ps)
    protein = traj.atom_slice(_select(traj, "protein"))
    distances_nm, pairs = mdtraj.compute_contacts(protein, contacts="all", scheme=scheme)
    frequency = (distances_nm < cutoff_nm).mean(axis=0)
    residues = list(protein.topology.residues)
    frame = pd.DataFrame(
        {
            "residue_i": pairs[:, 0],
            "residue_j": pairs[:, 1],
            "name_i": [f"{residues[i].name}{residues[i].resSeq}" for i in pairs[:, 0]],
            "name_j": [f"{residues[j].name}{residues[j].resSeq}" for j in pairs[:, 1]],
            "frequency": frequency,
            "mean_distance_nm": distances_nm.mean(axis=0),
        }
    )
    if min_frequency > 0:
        frame = frame[frame.frequency >= min_frequency].reset_index(drop=True)
    matrix = np.full((len(residues), len(residues)), np.nan)
    matrix[pairs[:, 0], pairs[:, 1]] = frequency
    matrix[pairs[:, 1], pairs[:, 0]] = frequency
    figure, axes = new_figure(4.8, 4.2)
    image = axes.imshow(matrix, origin="lower", cmap="Blues", vmin=0, vmax=1, interpolation="nearest")
    figure.colorbar(image, ax=axes, label="contact frequency")
    axes.set(xlabel="residue (index)", ylabel="residue (index)", title=f"Contacts ({scheme} < {cutoff_nm} nm)")
    stable = (frequency >= 0.9).sum()
    return _with_window(
        make_table(
            frame,
            figure,
            f"Residue contacts ({scheme}, cutoff {cutoff_nm} nm) over {traj.n_frames} frames",
            [f"{(frequency > 0).sum()} of {len(pairs)} pairs ever in contact; {stable} in >=90% of frames"],
        ),
        used,
        window,
        traj,
    )


@tool(keywords=("hydrogen bonds", "h-bonds", "hbonds", "h bonds"), produces="table")
@costs(TYPICAL_SECONDS)
@computes("hydrogen bond", "h bond", "hbond", "donor acceptor", "backbone hydrogen bonds")
def hydrogen_bonds(
    trajectory: TrajectoryInput,
    topology: str | os.PathLike | None = None,
    *,
    selection: str = "protein",
    min_frequency: float = 0.1,
    frames: str | None = None,
    start_ps: float | None = None,
    end_ps: float | None = None,
) -> AnalysisTable:
    """Hydrogen bonds (Baker-Hubbard: H...A < 0.25 nm, D-H...A angle > 120 deg) and how often each is formed.

    Parameters
    ----------
    trajectory
        Trajectory file, MD run directory (from md_run) or, by hand, an MDRun or mdtraj.Trajectory.
    topology
        Topology (PDB) for trajectory files without one (DCD, XTC).
    selection
        Atoms among which to look for donors and acceptors.
    min_frequency
        Keep hydrogen bonds present in at least this fraction of frames.

    frames
        Window of frames to analyse: "last 10%", "first half", "last third", "last 50" (frames), "first 20 ps",
        or a slice of frame indices "100:200"; default all frames.
    start_ps
        Analyse only frames at or after this time (ps).
    end_ps
        Analyse only frames at or before this time (ps).
    Returns
    -------
    AnalysisTable
        One row per hydrogen bond: donor, hydrogen, acceptor (atom indices of the input), labels, frequency;
        ``.figure`` shows the most frequent ones.
    """
    import mdtraj

    _check_fraction("min_frequency", min_frequency)
    full = load_trajectory(trajectory, topology)
    _refuse_bead_model(full, "Hydrogen bonds", "donor, hydrogen and acceptor atoms")
    traj, used, window = _windowed(full, frames, start_ps, end_ps)
    atoms = _select(traj, selection)
    sliced = traj.atom_slice(atoms)
    triplets = mdtraj.baker_hubbard(sliced, freq=min_frequency, periodic=False)
    if len(triplets):
        frequency = _baker_hubbard_frequency(sliced, triplets)
    else:
        frequency = np.zeros(0)
    top = sliced.topology

    def label(i):
        return str(top.atom(int(i)))

    frame = (
        pd.DataFrame(
            {
                "donor": atoms[triplets[:, 0]] if len(triplets) else [],
                "hydrogen": atoms[triplets[:, 1]] if len(triplets) else [],
                "acceptor": atoms[triplets[:, 2]] if len(triplets) else [],
                "donor_label": [label(i) for i in triplets[:, 0]] if len(triplets) else [],
                "acceptor_label": [label(i) for i in triplets[:, 2]] if len(triplets) else [],
                "frequency": frequency,
            }
        )
        .sort_values("frequency", ascending=False, kind="stable")
        .reset_index(drop=True)
    )
    figure, axes = new_figure(6.0, 3.6)
    shown = frame.head(15)
    axes.barh([f"{d} -> {a}" for d, a in zip(shown.donor_label, shown.acceptor_label)][::-1], shown.frequency[::-1])
    axes.set(xlabel="fraction of frames", xlim=(0, 1), title="Hydrogen bonds (most frequent)")
    axes.tick_params(axis="y", labelsize=7)
    return _with_window(
        make_table(
            frame,
            figure,
            f"Hydrogen bonds ({selection}) present in >= {min_frequency:.0%} of {traj.n_frames} frames",
            [f"{len(frame)} hydrogen bonds; {(frame.frequency >= 0.9).sum()} in >=90% of frames"],
        ),
        used,
        window,
        traj,
    )


def _baker_hubbard_frequency(traj, triplets) -> np.ndarray:
    import mdtraj

    distance = mdtraj.compute_distances(traj, triplets[:, [1, 2]], periodic=False)
    angle = mdtraj.compute_angles(traj, triplets, periodic=False)
    return ((distance < 0.25) & (angle > 2 * np.pi / 3)).mean(axis=0)


@tool(
    keywords=("sasa", "solvent accessible surface area", "surface area", "exposed", "exposure", "buried"),
    produces="table",
)
@costs(TYPICAL_SECONDS)
@computes(
    "solvent accessible surface area",
    # ("how big is the solvent-accessible surface of the reductase": the quantity said without its "area")
    "solvent accessible surface",
    "accessible surface",
    "surface area",
    "solvent exposure",
    "exposed",
    "buried",
    "burial",
    "accessibility",
    "hydrophobic exposure",
)
def sasa(
    trajectory: TrajectoryInput,
    topology: str | os.PathLike | None = None,
    *,
    selection: str = "protein",
    per_residue: bool = False,
    probe_radius_nm: float = 0.14,
    frames: str | None = None,
    start_ps: float | None = None,
    end_ps: float | None = None,
) -> AnalysisTable:
    """Solvent-accessible surface area (Shrake-Rupley) over time, in total or per residue.

    Parameters
    ----------
    trajectory
        Trajectory file, MD run directory (from md_run) or, by hand, an MDRun or mdtraj.Trajectory.
    topology
        Topology (PDB) for trajectory files without one (DCD, XTC).
    selection
        Atoms whose surface is measured (other atoms are removed first, as if absent).
    per_residue
        One row per frame and residue (True) instead of one row per frame with the total.
    probe_radius_nm
        Radius of the solvent probe in nm (water: 0.14).

    frames
        Window of frames to analyse: "last 10%", "first half", "last third", "last 50" (frames), "first 20 ps",
        or a slice of frame indices "100:200"; default all frames.
    start_ps
        Analyse only frames at or after this time (ps).
    end_ps
        Analyse only frames at or before this time (ps).
    Returns
    -------
    AnalysisTable
        frame, time_ps, sasa_nm2 (and residue columns when per_residue); ``.figure`` plots the total over time
        (or the mean per residue).
    """
    import mdtraj

    full = load_trajectory(trajectory, topology)
    _refuse_bead_model(full, "SASA", "every atom with its radius")
    traj, used, window = _windowed(full, frames, start_ps, end_ps)
    atoms = _select(traj, selection)
    sliced = traj.atom_slice(atoms)
    values = mdtraj.shrake_rupley(sliced, probe_radius=probe_radius_nm, mode="residue" if per_residue else "atom")
    times = _times(traj)
    figure, axes = new_figure()
    if per_residue:
        residues = list(sliced.topology.residues)
        columns = _residue_columns(residues, traj, atoms)
        n_frames, n_res = values.shape
        frame = pd.DataFrame(
            {
                "frame": np.repeat(used, n_res),
                "time_ps": np.repeat(times, n_res),
                **{key: np.tile(v, n_frames) for key, v in columns.items()},
                "sasa_nm2": values.ravel(),
            }
        )
        mean = values.mean(axis=0)
        axes.bar(columns["resSeq"], mean)
        axes.set(xlabel="residue number", ylabel="SASA (nm$^2$)", title=f"Mean SASA per residue ({selection})")
        lines = [
            f"{n_res} residues over {n_frames} frames; most exposed: "
            + ", ".join(f"{columns['residue'][i]} ({mean[i]:.2f} nm2)" for i in np.argsort(mean)[::-1][:3])
        ]
    else:
        total = values.sum(axis=1)
        frame = pd.DataFrame({"frame": used, "time_ps": times, "sasa_nm2": total})
        x, xlabel = _x(frame)
        axes.plot(x, total, lw=1.2)
        axes.set(xlabel=xlabel, ylabel="SASA (nm$^2$)", title=f"SASA ({selection})")
        lines = [f"{traj.n_frames} frames; mean {total.mean():.2f} nm2 (sd {total.std():.2f})"]
    return _with_window(
        make_table(frame, figure, f"Solvent-accessible surface area ({selection}, probe {probe_radius_nm} nm)", lines),
        used,
        window,
        traj,
    )


@tool(keywords=("distance", "distances", "how far apart", "separation between atoms"), produces="table")
@costs(TYPICAL_SECONDS)
@computes("distance", "separation", "how far apart", "atom pair distance", "interatomic distance")
def distances(
    trajectory: TrajectoryInput,
    pairs: list[tuple[str, str]] | list[tuple[int, int]],
    topology: str | os.PathLike | None = None,
    *,
    frames: str | None = None,
    start_ps: float | None = None,
    end_ps: float | None = None,
) -> AnalysisTable:
    """Distances over time between pairs of atoms or atom groups (geometric centres of two selections).

    Parameters
    ----------
    trajectory
        Trajectory file, MD run directory (from md_run) or, by hand, an MDRun or mdtraj.Trajectory.
    pairs
        Pairs to measure: mdtraj selections, e.g. [["resSeq 44 and name CA", "resSeq 72 and name CA"]], or
        pairs of atom indices, e.g. [[10, 200]]. A selection of several atoms stands for their geometric centre.
    topology
        Topology (PDB) for trajectory files without one (DCD, XTC).

    frames
        Window of frames to analyse: "last 10%", "first half", "last third", "last 50" (frames), "first 20 ps",
        or a slice of frame indices "100:200"; default all frames.
    start_ps
        Analyse only frames at or after this time (ps).
    end_ps
        Analyse only frames at or before this time (ps).
    Returns
    -------
    AnalysisTable
        Long format: frame, time_ps, pair (label), distance_nm; ``.figure`` plots each pair over time.
    """
    full = load_trajectory(trajectory, topology)
    traj, used, window = _windowed(full, frames, start_ps, end_ps)
    if not pairs:
        raise ValueError("pairs is empty: give at least one pair of selections or atom indices")
    rows = []
    figure, axes = new_figure()
    lines = []
    for first, second in pairs:
        a, b = _group(traj, first), _group(traj, second)
        centre_a, centre_b = traj.xyz[:, a].mean(axis=1), traj.xyz[:, b].mean(axis=1)
        values = np.linalg.norm(centre_a - centre_b, axis=1)
        name = f"{first} -- {second}"
        rows.append(
            pd.DataFrame(
                {
                    "frame": used,
                    "time_ps": _times(traj),
                    "pair": name,
                    "distance_nm": values,
                }
            )
        )
        x, xlabel = _x(rows[-1])
        axes.plot(x, values, lw=1.2, label=name)
        lines.append(f"{name}: mean {values.mean():.3f} nm, range {values.min():.3f}-{values.max():.3f} nm")
    axes.set(xlabel=xlabel, ylabel="distance (nm)", title="Distances")
    axes.legend(fontsize=7)
    return _with_window(
        make_table(
            pd.concat(rows, ignore_index=True),
            figure,
            f"Distances for {len(pairs)} pair(s) over {traj.n_frames} frames",
            lines,
        ),
        used,
        window,
        traj,
    )


def _group(traj, spec) -> np.ndarray:
    if isinstance(spec, (int, np.integer)):
        if not 0 <= spec < traj.n_atoms:
            raise ValueError(f"atom index {spec} is out of range (the trajectory has {traj.n_atoms} atoms)")
        return np.array([int(spec)])
    return _select(traj, str(spec))
