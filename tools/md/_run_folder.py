"""Where md.run writes when the call names no folder (no ``out=``).

The default folder is ``md_runs/<structure>_<solvent>`` (plus the temperature when it is not 300 K). When that
folder already holds a run made with other settings — "now a longer one: 40 ps" after a 2 ps run — the
scientist means a new run, not "refuse" (a newcomer approved the call, then got RunExistsError). So the call
goes to a free folder beside it, named for what differs (``..._40ps``, ``..._seed8``, else ``..._2``), and says
so. The same choice is made before the call runs (the planner's and the approval card's folder) and when it
runs, from the same files on disk, so both name the same folder. A folder of the same settings is the call's
own: it is resumed or reused as before. An explicit ``out=`` is never moved (md.run refuses it, naming a new
folder).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from kenkyu.core.science import Cost, Estimator

RUN_JSON = "run.json"
CHECKPOINT = "checkpoint.chk"
# Settings that name a folder when they are what differs, in this order; anything else numbers it (_2, _3).
_NAMED = (("ps", "{:g}ps"), ("temperature_k", "{:g}K"), ("timestep_fs", "{:g}fs"), ("seed", "seed{}"))


@dataclass(frozen=True)
class FolderChoice:
    folder: Path
    reason: str = ""  # why the call does not write the plain default folder; "" when it does

    @property
    def note(self) -> str:
        """What md.run says and records when it chose another folder than the default ("" when it did not)."""
        return f"{self.reason}; this run goes to {self.folder}" if self.reason else ""


def run_held(folder: Path, record: str = RUN_JSON) -> dict | None:
    """The run record (run.json; a coarse-grained run's cg.json) a folder holds, or None: no readable record, or a
    start that failed while preparing (nothing computed: md.run clears it and starts again)."""
    try:
        held = json.loads((folder / record).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(held, dict) or _failed_start(folder, held):
        return None
    return held


def _failed_start(folder: Path, held: dict) -> bool:
    return held.get("status") == "preparing" and not (folder / CHECKPOINT).exists()


def _readable_failed_start(folder: Path, record: str = RUN_JSON) -> bool:
    try:
        held = json.loads((folder / record).read_text())
    except (OSError, ValueError):
        return False
    return isinstance(held, dict) and _failed_start(folder, held)


def folder_detail(params: dict, different: list[str]) -> str:
    """The part of a new folder's name that says how its run differs (``40ps``, ``360K_40ps``); "" if none."""
    keys = {d.split(":", 1)[0] for d in different}
    return "_".join(
        pattern.format(params[key])
        for key, pattern in _NAMED
        if key in keys and params.get(key) is not None and not isinstance(params[key], bool)
    )


def free_folder(base: Path, detail: str, usable: Callable[[Path], bool] = lambda p: not p.exists()) -> Path:
    """The first usable folder of ``<base>_<detail>``, ``<base>_<detail>_2``, ... (``<base>_2``, ``_3`` ... when
    ``detail`` is empty)."""
    if detail:
        candidate, n = Path(f"{base}_{detail}"), 2
        stem = f"{base}_{detail}"
    else:
        candidate, n = Path(f"{base}_2"), 3
        stem = str(base)
    while not usable(candidate):
        candidate, n = Path(f"{stem}_{n}"), n + 1
    return candidate


def run_in_words(parameters: dict) -> str:
    """ "a 300 K, 2 ps implicit-solvent run": what a folder holds, as the scientist would say it."""
    kelvin, ps, solvent = parameters.get("temperature_k"), parameters.get("ps"), parameters.get("solvent")
    said = [
        f"{kelvin:g} K" if isinstance(kelvin, (int, float)) else "",
        f"{ps:g} ps" if isinstance(ps, (int, float)) else "",
    ]
    return "a " + ", ".join(w for w in said if w) + (f" {solvent}-solvent" if solvent else "") + " run"


def choose_run_folder(
    default: Path, params: dict, differences: Callable[[dict], list[str]], record: str = RUN_JSON
) -> FolderChoice:
    """The folder a call without ``out=`` writes: ``default``, unless it holds a run whose settings differ
    (``differences(run record)`` lists them); then the first folder beside it that is free or holds this very
    call's run (same settings: resumed or reused as in the default folder). ``record`` is the run's record file."""
    held = run_held(default, record)
    # A record with no settings in it is no run of known settings: the call stays, and is refused naming the folder.
    different = differences(held) if held and held.get("parameters") else []
    if not different:
        return FolderChoice(default)

    def usable(candidate: Path) -> bool:
        if not candidate.exists():
            return True
        if not candidate.is_dir():
            return False
        there = run_held(candidate, record)
        if there is not None:
            return not differences(there)
        if (candidate / record).exists():  # a start that failed while preparing is free; an unreadable record not
            return _readable_failed_start(candidate, record)
        return not any(candidate.iterdir())  # an empty folder, not someone's files

    return FolderChoice(
        free_folder(default, folder_detail(params, different), usable),
        f"{default} holds {run_in_words(held.get('parameters') or {})} ({held.get('status', 'unknown')}) made "
        f"with other settings ({'; '.join(different)}); that run is kept",
    )


def naming_the_folder(estimate: Estimator, folder_of: Callable[[dict], FolderChoice | None]) -> Estimator:
    """``estimate`` with the folder the call will write as its first step: the approval card says where the run
    goes, and why when it is not the default folder (so a scientist approving "a longer one" sees the new one)."""

    def estimate_in_folder(arguments: dict, *, measure: bool = True) -> Cost:
        cost = estimate(arguments, measure=measure)
        if cost.steps and cost.steps[0].startswith(("resume ", "reuse ")):
            return cost  # a resume's first step names the folder it continues ("write the run into" it did not)
        try:
            choice = folder_of(arguments)
        except Exception:  # a folder that cannot be worked out must not hide the estimate; the call will say why
            return cost
        if choice is None:
            return cost
        where = f"write the run into {choice.folder}" + (f" ({choice.reason})" if choice.reason else "")
        return replace(cost, steps=(where, *cost.steps))

    estimate_in_folder.__wrapped__ = estimate
    return estimate_in_folder
