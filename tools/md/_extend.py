"""Extend a finished MD run by N ps: the same folder, the trajectory and state data grow, run.json records it.

``kenkyu.tools.md.extend("md_runs/villin_implicit", ps=50)`` (the tool ``md_extend``) continues a
finished run from its last checkpoint with md.run's own resume machinery (the same System, platform,
seed and reporters, appending to the trajectory and state.csv): production becomes ``ps`` longer,
``parameters.ps`` in run.json is the new total, and ``extensions`` lists each extension (from, to,
when). A failed or unfinished run is refused with the reason and what to do instead. An extension that
is interrupted is continued by the same call.

``extend(run, to_ps=60)`` says the total instead of the increment, which makes the call idempotent: a run
already that long (or longer) is left alone, with a line saying so, and a shorter one is extended to it. An
exported report writes its extensions this way (each call prints the total it reached, ``to_ps=``), so
re-running the report where it is gives the same run and the same numbers instead of growing the run by
``ps`` on every re-run.
"""

from __future__ import annotations

import math
import os

from kenkyu.core.registry import tool
from kenkyu.core.science import Cost, checked_by, computes, costs, writes
from kenkyu.tools.md import MDRun  # defined before kenkyu.tools.md imports this module
from kenkyu.tools.md import _files as files
from kenkyu.tools.md._errors import ResumeError
from kenkyu.tools.md._kernel import kernel_value
from kenkyu.tools.md._public import as_run, public
from kenkyu.tools.md.checks import run_is_sound


def _folder_of_call(arguments: dict) -> str | None:
    run = arguments.get("run")
    return str(run.directory if hasattr(run, "directory") else run) if run else None


EXTENSION_SETUP_S = 5.0  # loading system.xml and the checkpoint: no preparation, no minimisation


def estimate_extension(arguments: dict, *, measure: bool = True) -> Cost:
    """The extension's steps at the speed the run itself measured (run.json's performance); for a run that
    recorded none, at this machine's speed for its setup scaled to its atoms, as md.run's own estimate is."""
    try:
        info = _run_priced(arguments["run"]).info
        ps = _added_ps(info, arguments.get("ps"), arguments.get("to_ps"))
    except (KeyError, TypeError, ValueError, OSError):
        return Cost(float("nan"), "the run has no measured speed to extend at")
    speed = (info.get("performance") or {}).get("ns_per_day")
    if speed:
        return Cost(ps / 1000 / speed * 86400 + EXTENSION_SETUP_S, f"{ps:g} ps at the run's own {speed:.3g} ns/day")
    try:
        return _priced_by_size(info, ps, measure)
    except (KeyError, TypeError, ValueError, OSError):
        return Cost(float("nan"), "the run has no measured speed to extend at, and none is measured for its setup")


def _priced_by_size(info: dict, ps: float, measure: bool) -> Cost:
    """An extension of a run without a speed of its own (a run.json from before it was recorded, or a resume that
    had no production left to time): md.run's cost model, this machine's speed for the run's solvent and platform
    scaled to the run's own number of atoms. The card said "unknown" for it (issue 13)."""
    from kenkyu.tools.md import cost

    p = info["parameters"]
    solvent, reproducible = p["solvent"], bool(p.get("reproducible"))
    ran_on = (info.get("platform") or {}).get("name")
    cached = cost._load()
    keys = [cost.speed_key(solvent, reproducible, where) for where in (p.get("platform"), ran_on)]
    entry = next((cached[key] for key in keys if key in cached), None)  # the call's platform, else the one it ran on
    structure = str(info.get("structure") or "")
    if entry is None and measure and os.path.isfile(structure):
        entry = cost.calibrate(structure, solvent, reproducible, p.get("platform"))
    if entry is None:
        raise ValueError("no speed measured")
    n_atoms = int(info["system"]["n_atoms"])
    scale = (n_atoms / entry["n_atoms"]) ** (2 if solvent == "vacuum" else 1)
    steps = round(ps * 1000.0 / float(p["timestep_fs"]))
    ns_day = entry["steps_per_s"] / scale * float(p["timestep_fs"]) * 1e-6 * 86400
    same = n_atoms == entry["n_atoms"]
    return Cost(
        steps * scale / entry["steps_per_s"] + EXTENSION_SETUP_S,
        f"{ps:g} ps ({steps:,} steps) for the run's {n_atoms:,} atoms at {ns_day:.3g} ns/day, "
        f"{entry.get('source', 'measured')}{'' if same else ', scaled by size'} (the run recorded no speed of its own)"
        + cost.busy_now(),
    )


def _run_priced(value):
    """The run an extension's card prices: an MDRun, a run folder, or the name of a kernel variable holding either.
    The agent's call names the variable (``extend(run=run)``): the card said "unknown — no measurement yet" for a
    run whose run.json had its speed (h3 r11)."""
    try:
        return as_run(value)
    except (FileNotFoundError, TypeError):
        held = kernel_value(value)
        if held is None:
            raise
        return as_run(held)


@tool(
    approval="ask",
    writes_files=True,
    keywords=("extend", "continue the run", "run longer", "more picoseconds", "longer simulation", "prolong"),
    produces="run_folder",
    result_name="extended_run",
)
@writes(_folder_of_call, in_place="run")
@costs(estimate_extension)
@checked_by(run_is_sound)
@public
@computes("extend", "extension", "continue", "continuation", "prolong", "run longer", "simulate longer")
def extend(
    run: str | os.PathLike | MDRun, ps: float | None = None, *, to_ps: float | None = None, progress: bool = True
):
    """Extend a finished MD run by ``ps`` picoseconds of production (or up to ``to_ps``), in the same folder.

    Continues from the run's last checkpoint with the same System, temperature, seed and platform;
    the trajectory and state.csv grow, time is continuous, run.json's ``parameters.ps`` becomes the
    new total and ``extensions`` records each extension. Refuses a failed or unfinished run, saying why.

    Parameters
    ----------
    run
        The run folder written by md_run (or, by hand, its MDRun).
    ps
        Picoseconds of production to add (a multiple of the run's report interval); default 10.
    to_ps
        Instead of ``ps``: the total production to reach. A run already this long is left as it is (a
        line says so), so the call can be repeated, as a report re-run does.
    progress
        Show a progress bar.

    Returns
    -------
    MDRun
        The same run folder, now longer.
    """
    from kenkyu.tools.md import _now, _Runner

    mdrun = as_run(run)
    info = mdrun.info
    p = dict(info["parameters"])
    status = info.get("status", "unknown")
    extensions = list(info.get("extensions", []))
    unfinished = extensions[-1] if extensions and not extensions[-1].get("finished") else None
    ps = _added_ps(info, ps, to_ps)
    if to_ps is not None and ps <= 1e-9 and status == "finished":
        than = "" if ps > -1e-9 else f", more than to_ps={float(to_ps):g} (a run is never shortened)"
        print(
            f"md.extend: {mdrun.directory} already has {p['ps']:g} ps of production{than}; "
            f"left as it is, nothing simulated (to_ps={float(to_ps)!r})"
        )
        return type(mdrun)(mdrun.directory)
    if unfinished is not None and status != "finished":
        if not math.isclose(unfinished["added_ps"], ps):
            raise ResumeError(
                f"{mdrun.directory} holds an extension by {unfinished['added_ps']:g} ps that did not finish "
                f"({status}); continue it with extend(..., ps={unfinished['added_ps']:g})"
            )
    elif status != "finished":
        why = f": {info['error']}" if info.get("error") else ""
        fix = (
            "a failed run cannot be extended: fix the cause and start it again (md_run with overwrite=True)"
            if status == "failed"
            else "finish it first: call md_run again with the same arguments and resume=True"
        )
        raise ResumeError(f"Cannot extend {mdrun.directory}: the run is {status!r}, not finished{why}. {fix}.")
    if not ps > 0:
        raise ValueError(f"ps must be positive, got {ps}")
    intervals = ps / p["report_interval_ps"]
    if abs(intervals - round(intervals)) > 1e-6:
        raise ValueError(
            f"ps={ps:g} is not a whole number of the run's report interval ({p['report_interval_ps']:g} ps): "
            f"use e.g. ps={max(1, round(intervals)) * p['report_interval_ps']:g}"
        )
    header = files.read_checkpoint(mdrun.checkpoint_path)[0] if mdrun.checkpoint_path.exists() else None
    if header is None or header.get("phase") != "production":
        raise ResumeError(f"Cannot extend {mdrun.directory}: it has no production checkpoint to continue from")
    if unfinished is None:
        previous_ps = p["ps"]
        p["ps"] = round(previous_ps + ps, 9)
        extensions.append({"from_ps": previous_ps, "to_ps": p["ps"], "added_ps": ps, "started": _now()})
    # The checkpoint loads only on the platform that wrote it (as in md.run's resume).
    p["platform"] = info.get("platform", {}).get("name") or p.get("platform")
    files.write_json_atomic(
        mdrun.run_json, {**info, "parameters": p, "status": "extending", "extensions": extensions, "error": None}
    )
    with files.explain_disk_full(mdrun.directory):
        _Runner(mdrun.directory, p, info.get("structure"), progress).execute()
    done = files.read_json(mdrun.run_json)
    record = done["extensions"][-1]
    record["finished"] = _now()
    files.write_json_atomic(mdrun.run_json, done)
    # The total reached, exactly (repr): an exported report calls extend(..., to_ps=<this>) so that its
    # re-runs reach the same length instead of adding ps each time (kenkyu.assistant.export reads it).
    print(
        f"md.extend: {mdrun.directory} extended from {record['from_ps']:g} to {record['to_ps']:g} ps of production "
        f"(to_ps={record['to_ps']!r})"
    )
    return type(mdrun)(mdrun.directory)


def _added_ps(info: dict, ps, to_ps) -> float:
    """The picoseconds a call adds: ``ps``, or what ``to_ps`` still lacks (an unfinished extension to that
    total continues: the same call again); 10 when neither is given."""
    from kenkyu.tools.md._validate import _number

    for key, value in (("ps", ps), ("to_ps", to_ps)):
        if value is not None:  # "5 ns" is refused naming the setting and its unit, not float()'s error
            _number(key, value)
    if to_ps is None:
        return float(10.0 if ps is None else ps)
    if ps is not None:
        raise ValueError(
            f"give ps (picoseconds to add) or to_ps (the total to reach), not both: ps={ps}, to_ps={to_ps}"
        )
    to_ps = float(to_ps)
    extensions = info.get("extensions") or []
    if extensions and not extensions[-1].get("finished") and info.get("status") != "finished":
        pending = extensions[-1]
        if math.isclose(pending["to_ps"], to_ps):
            return float(pending["added_ps"])
        raise ResumeError(
            f"the run holds an extension to {pending['to_ps']:g} ps that did not finish ({info.get('status')}); "
            f"continue it with extend(..., to_ps={pending['to_ps']:g})"
        )
    return round(to_ps - float(info["parameters"]["ps"]), 9)
