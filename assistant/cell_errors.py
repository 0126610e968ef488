"""Which of the kernel's own cells raised, by execution count.

A saved notebook keeps each cell's error in its outputs, and the report leaves such cells out. A kernel
that does not know its notebook's file is exported from its input history (``kenkyu_session.ipynb``),
which keeps no outputs: without this record a cell that raised would be copied into the report and stop
its re-run there. IPython's ``post_run_cell`` event says how each cell ended.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass

_ATTRIBUTE = "_kenkyu_cell_errors"
_STANDING = "_kenkyu_standing_errors"
KEPT_ERRORS = 5  # exception objects kept for errors that still stand (each holds its frames, and their locals)


@dataclass
class _Raised:
    """A cell that raised: its source, its notebook cell, the exception while it stands, and what cleared it."""

    count: int
    source: str
    cell_id: str | None
    error: BaseException | None
    error_id: int = 0  # id() of the exception: sys.last_value, which keeps it alive, is matched by it
    cleared_by: int | None = None


def install(shell) -> None:
    """Start recording (``%load_ext kenkyu``); a second load keeps the one recorder."""
    if getattr(shell, _ATTRIBUTE, None) is None:
        setattr(shell, _ATTRIBUTE, {})
        setattr(shell, _STANDING, [])
        shell.events.register("post_run_cell", _recorder(shell))


def _recorder(shell):
    def record(result) -> None:
        error = result.error_in_exec or result.error_before_exec
        count = result.execution_count
        info = getattr(result, "info", None)
        source, cell_id = getattr(info, "raw_cell", "") or "", getattr(info, "cell_id", None)
        raised = getattr(shell, _STANDING, None)
        if raised is None:
            raised = []
            setattr(shell, _STANDING, raised)
        if error is not None and count is not None:
            getattr(shell, _ATTRIBUTE)[count] = {
                "ename": type(error).__name__,
                "evalue": str(error),
                "line": _line_in_cell(error),
            }
            raised.append(_Raised(count, source, cell_id, error, id(error)))
            standing = [r for r in raised if r.error is not None]
            for old in standing[:-KEPT_ERRORS]:
                old.error = None
        elif error is None and count is not None:
            for earlier in raised:
                if earlier.cleared_by is None and _settles(earlier, source, cell_id):
                    earlier.cleared_by, earlier.error = count, None

    return record


def _settles(earlier: _Raised, source: str, cell_id: str | None) -> bool:
    """Whether a cell that ran cleanly settles an earlier one that raised: the same notebook cell run again, or the
    same call (a Stop's resume: the same call with ``resume=True``, as the sidebar's Resume writes it)."""
    if cell_id and earlier.cell_id:
        if cell_id == earlier.cell_id:
            return True
    return bool(source.strip()) and _call_of(source) == _call_of(earlier.source)


def _call_of(source: str) -> str:
    """The cell's code without comments, blank space and ``resume=True``: what a resume has in common with the call
    that was stopped."""
    code = "\n".join(line for line in source.splitlines() if not line.strip().startswith("#"))
    code = re.sub(r",?\s*resume\s*=\s*True\s*", "", code)
    return re.sub(r"\s+|,(?=\))", "", code)


def standing_error(shell=None) -> tuple[BaseException | None, str]:
    """The error to explain: the kernel's last one (``sys.last_value``) unless a later cell settled it (a Stop
    resumed, a failed cell run again cleanly), then the last one that still stands; and a note saying what was
    settled ("" when nothing was). None when no error stands.

    Without this, "explain the error" after a Stop and a successful Resume explained the KeyboardInterrupt that
    the resume had made stale (issue 13).
    """
    value = getattr(sys, "last_exc", None) or getattr(sys, "last_value", None)
    if shell is None:
        try:
            from IPython import get_ipython

            shell = get_ipython()
        except ImportError:
            shell = None
    raised = getattr(shell, _STANDING, None) if shell is not None else None
    if value is None or not raised:
        return value, ""
    match = next((r for r in reversed(raised) if r.error_id == id(value)), None)  # last_value keeps it alive
    if match is None or match.cleared_by is None:
        return value, ""
    from kenkyu.assistant.interrupts import is_interruption

    settled = (
        f"In [{match.count}] was stopped ({type(value).__name__}) and resumed by In [{match.cleared_by}], which "
        "finished"
        if is_interruption(value)
        else f"In [{match.count}]'s {type(value).__name__} was followed by the same cell running cleanly as "
        f"In [{match.cleared_by}]"
    )
    earlier = next((r for r in reversed(raised) if r.cleared_by is None and r.error is not None), None)
    if earlier is None:
        return None, f"No error stands in this kernel: {settled}."
    return earlier.error, f"{settled}; the last error that still stands is In [{earlier.count}]'s."


def _line_in_cell(error: BaseException) -> int | None:
    """The line of the cell that raised: the first frame run as the cell's own module (IPython's frames
    come before it, the libraries it called after)."""
    tb = error.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_name == "<module>":
            return tb.tb_lineno
        tb = tb.tb_next
    return None


def error_of(shell, execution_count: int) -> dict | None:
    """The error output of the cell run as ``execution_count``, in nbformat's fields; its traceback is only
    the line that raised, as IPython writes it ("Cell In[7], line 2"), which the report reads to keep the
    statements before it."""
    error = (getattr(shell, _ATTRIBUTE, None) or {}).get(execution_count)
    if not error:
        return None
    line = error.get("line")
    traceback = [f"Cell In[{execution_count}], line {line}"] if line else []
    return {"output_type": "error", "ename": error["ename"], "evalue": error["evalue"], "traceback": traceback}
