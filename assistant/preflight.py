"""What a call will cost and touch, worked out before it runs: shown on every approval, checked against
the request's cost cap even when nothing asks for approval.

The tool declares its cost model and the folder it writes (:mod:`kenkyu.core.science`); this module
turns them into words for the person approving — the estimate, every step that will really run, and
the arguments that collide with what is already on disk — and refuses a call whose estimate would take
the request past its cap. Nothing here knows a tool by name: collisions come from the declared output
folder and the ``resume`` / ``overwrite`` conventions of a tool's signature.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from kenkyu.assistant.costs import estimate, format_seconds


# The usual names of an argument that IS the output folder: equal to it by definition, not a collision.
OUTPUT_NAMES = frozenset({"out", "output", "out_dir", "output_dir", "folder"})


@dataclass
class Preflight:
    estimate: str
    estimate_s: float | None  # None: nothing measured to estimate from
    steps: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_fields(self) -> dict:
        """The optional fields of :class:`~kenkyu.assistant.events.ApprovalNeeded`."""
        return asdict(self)


def preflight(tool, arguments: dict, *, seconds_left: float | None = None) -> Preflight:
    """The estimate, steps and warnings of one call of ``tool`` with ``arguments`` (validated)."""
    cost = estimate(tool, arguments)
    known = not math.isnan(cost.seconds)
    text = (
        f"about {format_seconds(cost.seconds)} here ({cost.basis})"
        if known
        else f"unknown — no measurement yet ({cost.basis})"
    )
    warnings = collisions(tool, arguments)
    if known and seconds_left is not None and cost.seconds > seconds_left:
        warnings.append(
            f"the estimate ({format_seconds(cost.seconds)}) is longer than the {format_seconds(max(seconds_left, 0))} "
            "left in this request's time budget: the run will be interrupted then (resumable); raise the budget "
            "with `%kenkyu budget --seconds` or ask for a shorter run"
        )
    return Preflight(text, round(cost.seconds, 1) if known else None, list(cost.steps), warnings)


def collisions(tool, arguments: dict) -> list[str]:
    """Arguments that would overwrite or collide with a file or folder that exists now."""
    try:
        folder = tool.science.output_folder(arguments)
    except Exception:  # a broken declaration must not hide the approval
        return []
    if not folder:
        return []
    found: list[str] = []
    out = Path(folder)
    continued = tool.science.in_place  # a run extended writes into itself on purpose
    if continued and _same_path(getattr(arguments.get(continued), "directory", arguments.get(continued)), out):
        return []
    inputs = [
        name
        for name, value in arguments.items()
        if name not in OUTPUT_NAMES and isinstance(value, (str, os.PathLike)) and _same_path(value, out)
    ]
    if inputs:
        found.append(
            f"the output folder {folder} is the input `{inputs[0]}` itself: "
            "choose another output folder (out=) so the input is not overwritten"
        )
    elif out.is_file():
        found.append(f"the output folder {folder} is an existing file, not a folder: choose a new out=")
    elif out.is_dir() and any(out.iterdir()):
        params = tool.parameters.get("properties", {})
        if arguments.get("overwrite"):
            found.append(f"{folder} already exists and will be DELETED and started over (overwrite=True)")
        elif arguments.get("resume"):
            found.append(f"{folder} already holds a run: it will be resumed from its last checkpoint (resume=True)")
        elif ("resume" in params or "overwrite" in params) and (other := _other_settings(out, arguments)):
            # Resume would fail and Overwrite would delete that run: the card says what the folder holds.
            found.append(
                f"{folder} holds a run made with other settings ({other}): approved as it stands, the call is "
                "refused and that run is kept, and its card then offers a new folder; or deny, and ask again with "
                "another output folder"
            )
        elif "resume" in params or "overwrite" in params:
            found.append(
                f"{folder} already exists: the call will be refused as it stands and nothing overwritten; to "
                "continue that run deny, and ask again with resume=True (overwrite=True starts over; a new out= "
                "keeps both)"
            )
        else:
            found.append(f"{folder} already exists: files in it may be overwritten")
    return found


def _other_settings(folder: Path, arguments: dict) -> str:
    """The arguments given that differ from the parameters of the run a folder holds (its run.json or
    cg.json), as "temperature_k 300 there, 360 asked"; "" when none differ or no run record is there."""
    import json

    from kenkyu.tools.md._compare import differing_settings, is_number

    for record in ("run.json", "cg.json"):
        try:
            stored = json.loads((folder / record).read_text()).get("parameters") or {}
        except (OSError, ValueError, AttributeError):
            continue
        compared = [
            name
            for name in arguments
            if name in stored and name not in OUTPUT_NAMES and name not in ("resume", "overwrite", "seed")
        ]
        return "; ".join(
            f"{name} {there:g} there, {asked:g} asked"
            if is_number(there) and is_number(asked)
            else f"{name} {there!r} there, {asked!r} asked"
            for name, there, asked in differing_settings(stored, arguments, compared)
        )
    return ""


def over_cap(tool_name: str, cost_s: float | None, spent_s: float, cap_s: float) -> str | None:
    """Why a call must not start under the request's cost cap, or None when it may."""
    if cost_s is None or spent_s + cost_s <= cap_s:
        return None
    already = f"; this request has already started ~{format_seconds(spent_s)} of tool runs" if spent_s else ""
    return (
        f"{tool_name} was not started: its estimate, ~{format_seconds(cost_s)}, would take this request past its "
        f"cost cap of {format_seconds(cap_s)}{already}. Raise the cap with `%kenkyu budget --cost-seconds "
        f"{math.ceil((spent_s + cost_s) * 1.2)}` (or KENKYU_MAX_REQUEST_SECONDS), or ask for a shorter run "
        "(fewer ps, implicit solvent, a smaller system)."
    )


def _same_path(value, out: Path) -> bool:
    if not isinstance(value, (str, os.PathLike)):
        return False
    try:
        return Path(value).exists() and Path(value).resolve() == out.resolve()
    except (OSError, ValueError):
        return False
