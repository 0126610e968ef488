"""Short, plain-text descriptions of values: what the agent reads of a tool result or a variable."""

from __future__ import annotations

import difflib
import numbers
import os
import re
import reprlib
from pathlib import Path

from kenkyu.core.secrets import redact
from kenkyu.core.timescales import time_caveat

_repr = reprlib.Repr()  # keyword arguments arrive only in Python 3.12
_repr.maxstring, _repr.maxother, _repr.maxlist, _repr.maxdict, _repr.maxlevel = 120, 120, 8, 8, 3


def summarize_for_agent(value, limit: int = 2000) -> str:
    """A tool's own ``summary()`` when it has one; tables as text; otherwise a short repr. Secrets are
    blanked: the model never needs a key, and what it reads may come back in its reply."""
    return redact(_summary(value, limit))


def weigh_caveats(summary: str, value, request: str) -> str:
    """The summary with its simulated-time caveat weighed against the process the request asked about.

    A tool states the generic caveat (it does not know the question); a result that records how much time
    it simulated (``value.simulated_ps``) gets the question's own instead: "does the loop move?" on 4 ps
    says loops take ns–µs, a question about side-chain rotamers gets none. The rest of the summary is the
    tool's, untouched.
    """
    span = getattr(value, "simulated_ps", None)
    if not request or not isinstance(span, numbers.Real) or isinstance(span, bool):
        return summary
    generic, asked = time_caveat(float(span)), time_caveat(float(span), request)
    if generic == asked:
        return summary
    lines = summary.split("\n")
    if generic in lines:
        at = lines.index(generic)
        lines[at : at + 1] = [asked] if asked else []
    elif asked:  # the run was long enough for the generic test, not for this process: say so by the data line
        at = next((i + 1 for i, line in enumerate(lines) if line.startswith("data: ")), len(lines))
        lines.insert(at, asked)
    return "\n".join(lines)


def with_fix(summary: str) -> str:
    """A failed tool's summary with a fix the reader can act on under its error line, when the error names a
    path that does not exist: "trajectory 'md_runs/vilin' does not exist" gains "fix: did you mean
    md_runs/villin?" (real names from disk, closest first). Other summaries are returned as they are."""
    first, _, rest = summary.partition("\n")
    message = first.removeprefix("ERROR: ")
    missing = message.startswith(("FileNotFoundError", "IsADirectoryError")) or "does not exist" in message
    if not first.startswith("ERROR: ") or not missing or "did you mean" in summary:
        return summary
    quoted = re.findall(r"['\"]([^'\"]+)['\"]", message)
    paths = [q for q in quoted if "/" in q or "." in q] or quoted
    if not paths:
        return summary
    near = near_paths(paths[0])
    if Path(paths[0]).exists():
        # It is here: the code that failed looked from another folder (a report re-run in its own folder).
        fix = (
            f"{paths[0]!r} exists in the working folder {os.getcwd()}, but the code that failed ran in another "
            "folder: give it the full path, or run it from this folder"
        )
    elif near:
        fix = f"did you mean {near[0]}? ({', '.join(near)} exist here; {paths[0]!r} does not)"
    else:
        fix = f"check the name: paths start at the working folder {os.getcwd()}"
    return "\n".join([first, f"fix: {fix}", *([rest] if rest else [])])


def near_paths(name: str, limit: int = 3) -> list[str]:
    """Files and folders here (two levels deep) whose names are close to ``name``'s, closest first."""
    here = Path.cwd()
    candidates = []
    for depth in ("*", "*/*"):
        candidates += [str(p.relative_to(here)) for p in here.glob(depth) if not p.name.startswith(".")][:2000]
    # And beside the missing one, however deep: md_runs/villin/trajectroy.dcd means md_runs/villin/trajectory.dcd.
    parent = here / os.path.dirname(name.rstrip("/"))
    if os.path.dirname(name.rstrip("/")) and not os.path.isabs(name) and parent.is_dir():
        candidates += [str(p.relative_to(here)) for p in sorted(parent.iterdir())[:500] if not p.name.startswith(".")]
    candidates = list(dict.fromkeys(candidates))
    # The name itself is never suggested: "did you mean X? (X does not exist)" helps no one.
    candidates = [c for c in candidates if os.path.normpath(c) != os.path.normpath(name)]
    base = os.path.basename(name.rstrip("/"))
    by_name = difflib.get_close_matches(base, [os.path.basename(c) for c in candidates], n=limit, cutoff=0.5)
    # Closest first (get_close_matches ranks them): 'md_runs/vilin' means md_runs/villin before villin.pdb.
    ranked = sorted(
        (c for c in candidates if os.path.basename(c) in by_name), key=lambda c: by_name.index(os.path.basename(c))
    )
    return ranked[:limit]


def _summary(value, limit: int) -> str:
    if value is None:
        return "(the tool returned nothing)"
    summary = getattr(value, "summary", None)
    if callable(summary):
        try:
            text = str(summary())
            return text[:limit]
        except Exception as exc:  # a broken summary must not break the turn
            return f"{type(value).__name__} (its summary() failed: {exc})"
    try:
        import pandas as pd

        if isinstance(value, pd.DataFrame):
            with pd.option_context("display.max_columns", 12, "display.width", 160):
                head = value.to_string(max_rows=20)
            return f"DataFrame {value.shape[0]} rows x {value.shape[1]} columns\n{head}"[:limit]
    except ImportError:
        pass
    return describe_value(value)["repr"][:limit]


def describe_value(value) -> dict:
    """Type, shape/dtype where it has them, and a short repr: one line of the kernel-variable context."""
    info = {"type": f"{type(value).__module__}.{type(value).__qualname__}".removeprefix("builtins.")}
    shape = getattr(value, "shape", None)
    if shape is not None and not callable(shape):
        try:
            info["shape"] = tuple(int(s) for s in shape)
        except (TypeError, ValueError):
            pass
    dtype = getattr(value, "dtype", None)
    if dtype is not None and not callable(dtype):
        info["dtype"] = str(dtype)
    elif hasattr(value, "__len__") and not isinstance(value, (str, bytes)):
        try:
            info["len"] = len(value)
        except Exception:
            pass
    try:
        info["repr"] = redact(_repr.repr(value).replace("\n", " "))
    except Exception as exc:
        info["repr"] = f"<unprintable {type(value).__name__}: {exc}>"
    return info
