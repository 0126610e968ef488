"""Action cells: a tool call written as the plain public Python call that a person would type.

``rg = kenkyu.tools.analysis.radius_of_gyration(trajectory='run/trajectory.dcd')`` is both what the
agent runs and what the report re-runs without any LLM.
"""

from __future__ import annotations

import enum
import keyword
import os
import pprint
import re
from typing import Iterable

from kenkyu.core.secrets import secret_variable_holding
from kenkyu.core.routing import sliced_variable

CELL_MARK = "kenkyu"  # metadata key on every cell the agent writes


def python_literal(value) -> str:
    """A Python literal for a JSON-ish value (paths become strings, enums their values)."""
    return pprint.pformat(_plain(value), width=100, sort_dicts=False)


def _plain(value):
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    raise TypeError(f"cannot write {type(value).__name__} into an action cell; tools take JSON-like arguments")


def fresh_variable(base: str, taken: Iterable[str]) -> str:
    """``base``, or ``base_2``, ``base_3``... whichever is not already taken in the kernel."""
    base = re.sub(r"\W", "_", base).strip("_") or "result"
    if base[0].isdigit() or keyword.iskeyword(base):
        base = f"{base}_result"
    taken = set(taken)
    if base not in taken:
        return base
    n = 2
    while f"{base}_{n}" in taken:
        n += 1
    return f"{base}_{n}"


class KernelName(str):
    """A kernel variable passed by name: written into the action cell as ``trajectory=traj``, not ``'traj'``."""


def action_code(tool, arguments: dict, variable: str, using: dict | None = None, here: str | os.PathLike = ".") -> str:
    """The source of the action cell for one tool call.

    ``using`` (argument name -> the notebook candidate it came from, see :mod:`kenkyu.assistant.resolver`)
    adds a comment line per input the request did not spell out, and passes a kernel variable by name. ``here`` is
    the kernel's working folder, where the call's relative folders are (the MCP server's may be elsewhere)."""
    using = using or {}
    arguments = _rerunnable(tool, arguments, here)
    arguments, reaching = _reaches_once(tool, arguments, using, here)
    arguments, searching = _newest_index(tool, arguments, here)
    written = {
        name: KernelName(using[name].value) if name in using and using[name].variable else _secret_or(value)
        for name, value in arguments.items()
    }
    if written:
        args = ",\n    ".join(f"{name}={_literal(value)}" for name, value in written.items())
        call = (
            f"{tool.qualified_call}(\n    {args},\n)"
            if len(args) > 60
            else f"{tool.qualified_call}({args.replace(chr(10) + '    ', ' ')})"
        )
    else:
        call = f"{tool.qualified_call}()"
    imports = "" if tool.defined_in_notebook else f"import {tool.module}\n\n"
    if any(isinstance(v, EnvironmentValue) for v in written.values()):
        imports = f"import os\n{imports}" if imports else "import os\n\n"
    notes = "".join(f"# using {_one_line(c.label)} as {name}\n" for name, c in using.items()) + searching + reaching
    return f"{notes}{imports}{variable} = {call}\n{variable}"


def _rerunnable(tool, arguments: dict, here: str | os.PathLike = ".") -> dict:
    """The call with ``resume=True`` when the tool can resume and the folder it writes holds nothing yet.

    For this run that changes nothing (resume starts a run when its folder holds none), but the notebook's
    cell now re-runs: Run All from a fresh kernel reuses the finished run of the same parameters, continues
    an interrupted one from its checkpoint, and refuses other parameters by name, instead of RunExistsError
    or a whole simulation again (newcomer r7 O10). A folder that exists already keeps the call as it is, so
    the scientist is still asked whether to resume, overwrite or write elsewhere."""
    parameters = getattr(tool, "parameters", None) or {}
    if "resume" not in parameters.get("properties", {}) or {"resume", "overwrite"} & set(arguments):
        return arguments
    science = getattr(tool, "science", None)
    try:
        folder = science.output_folder(arguments) if science is not None else None
    except Exception:  # a broken declaration writes the call as given
        return arguments
    if not folder:
        return arguments
    folder = os.path.join(here, folder)  # (an absolute folder stays itself)
    if (os.path.isdir(folder) and os.listdir(folder)) or os.path.isfile(folder):
        return arguments
    return {**arguments, "resume": True}


def _reaches_once(tool, arguments: dict, using: dict, here: str | os.PathLike = ".") -> tuple[dict, str]:
    """``md.extend(run, ps=2)`` on a finished 10 ps run is written ``md.extend(run, to_ps=12.0)``, with a line
    saying so: the same extension now, and Run All from a fresh kernel reaches 12 ps once instead of adding
    2 ps on every re-run (the exported report's cells already do this). A run that is not finished (an
    extension was stopped) keeps ``ps``: the same call continues it."""
    import json

    science = getattr(tool, "science", None)
    properties = (getattr(tool, "parameters", None) or {}).get("properties", {})
    if not getattr(science, "in_place", False) or not {"run", "ps", "to_ps"} <= set(properties):
        return arguments, ""
    if "to_ps" in arguments or "run" not in arguments:
        return arguments, ""
    source = using.get("run")
    folder = source.path if source is not None and source.variable else arguments["run"]
    if not isinstance(folder, (str, os.PathLike)) or not str(folder):
        return arguments, ""
    try:
        with open(os.path.join(here, folder, "run.json"), encoding="utf-8") as handle:
            info = json.load(handle)
        length = float(info["parameters"]["ps"])
        added = float(arguments.get("ps", properties["ps"].get("default") or 10.0))
    except (OSError, ValueError, KeyError, TypeError):  # no readable run here: the call as asked (extend says why)
        return arguments, ""
    if info.get("status") != "finished" or not added > 0:
        return arguments, ""
    total = round(length + added, 9)
    kept = {name: value for name, value in arguments.items() if name != "ps"}
    note = f"# ps={added:g} on a {length:g} ps run, written as to_ps={total:g}: a re-run reaches {total:g} ps once\n"
    return {**kept, "to_ps": total}, note


def _newest_index(tool, arguments: dict, here: str | os.PathLike = ".") -> tuple[dict, str]:
    """A literature call that names no index reads the newest one here, written into the cell with a line
    saying which ("searching notes_index/ (12 passages, built 16:10)"), so the cell and a report re-run read
    the same index; the default folder when that is the newest (newcomer r7 R8: notes just indexed into
    another folder were "not found"). An ingest (it makes the index) is written as called."""
    science = getattr(tool, "science", None)
    prop = (getattr(tool, "parameters", None) or {}).get("properties", {}).get("index")
    if not prop or "index" in arguments or getattr(science, "produces", None) == "index" or "chroma_host" in arguments:
        return arguments, ""
    from kenkyu.tools.literature._indexes import find_indexes

    default = str(prop.get("default") or "")
    found = find_indexes(here, default=default or None)
    if not found:
        return arguments, ""
    newest = found[0]
    if os.path.normpath(newest.path) == os.path.normpath(default):
        return arguments, ""
    return {
        **arguments,
        "index": newest.path,
    }, f"# searching {_one_line(newest.label)}: the newest literature index here\n"


class EnvironmentValue(str):
    """An argument that is the value of a secret environment variable (a key): written as
    ``os.environ['NAME']``, so the cell, the record and the report re-run with it and never hold it."""


def _secret_or(value):
    name = secret_variable_holding(value)
    return EnvironmentValue(name) if name else value


def _literal(value) -> str:
    if isinstance(value, EnvironmentValue):
        return f"os.environ[{str(value)!r}]"
    if isinstance(value, KernelName) and value.isidentifier() and not keyword.iskeyword(value):
        return str(value)
    if isinstance(value, KernelName) and sliced_variable(value) is not None:
        return str(value)  # "traj[:5]": frames of a kernel variable, a plain slice (nothing else is written)
    if isinstance(value, KernelName) and re.fullmatch(r"[A-Za-z_]\w*\[(?:'[^'\\]*'|\"[^\"\\]*\")\]", value):
        return str(value)  # "runs['old']": an entry of a kernel dict, by its key (resolver._entries)
    return python_literal(value)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())[:200]


def cell_metadata(tool, call_id: str, variable: str, provider: str | None = None) -> dict:
    return {CELL_MARK: {"agent": True, "tool": tool.name, "call_id": call_id, "variable": variable, "model": provider}}
