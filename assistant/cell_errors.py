"""Which of the kernel's own cells raised, by execution count.

A saved notebook keeps each cell's error in its outputs, and the report leaves such cells out. A kernel
that does not know its notebook's file is exported from its input history (``kenkyu_session.ipynb``),
which keeps no outputs: without this record a cell that raised would be copied into the report and stop
its re-run there. IPython's ``post_run_cell`` event says how each cell ended.
"""

from __future__ import annotations

_ATTRIBUTE = "_kenkyu_cell_errors"


def install(shell) -> None:
    """Start recording (``%load_ext kenkyu``); a second load keeps the one recorder."""
    if getattr(shell, _ATTRIBUTE, None) is None:
        setattr(shell, _ATTRIBUTE, {})
        shell.events.register("post_run_cell", _recorder(shell))


def _recorder(shell):
    def record(result) -> None:
        error = result.error_in_exec or result.error_before_exec
        count = result.execution_count
        if error is not None and count is not None:
            getattr(shell, _ATTRIBUTE)[count] = {
                "ename": type(error).__name__,
                "evalue": str(error),
                "line": _line_in_cell(error),
            }

    return record


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
