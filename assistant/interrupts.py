"""Interrupting a running tool the way the notebook's stop button does, when the request's time runs out.

A tool cell runs on the kernel's main thread (in place for ``%%ask``; as the notebook's own cell for the
sidebar). :func:`interrupt_at` arms a timer that, at the request's deadline, raises KeyboardInterrupt in
that thread with :func:`_thread.interrupt_main` — exactly what Ctrl-C or the stop button do — so a tool
that keeps its work on an interrupt (``md.run`` writes a checkpoint and marks its folder resumable)
keeps it here too, and the kernel lives on. Whether the interrupt came from the budget or from the
user, an interrupted tool is reported as interrupted with the code that resumes it, not as failed.
"""

from __future__ import annotations

import _thread
import sys
import threading
import time

from kenkyu.assistant.cells import action_code
from kenkyu.core.science import NOTHING_KEPT

# How long the timer waits for the KeyboardInterrupt it raised to arrive once the cell has ended: the
# interrupt is delivered at the next bytecode boundary, so it must not escape into the agent's own code.
_SETTLE_S = 0.2


class BudgetTimer:
    """``with BudgetTimer(seconds, armed):`` interrupts the main thread after ``seconds``."""

    def __init__(self, seconds: float | None, armed: bool = True):
        self.seconds = seconds
        self.armed = armed and seconds is not None
        self.fired = False
        self._lock = threading.Lock()
        self._running = False
        self._timer: threading.Timer | None = None

    def __enter__(self):
        if self.armed:
            self._running = True
            self._timer = threading.Timer(max(0.0, self.seconds), self._fire)
            self._timer.daemon = True
            self._timer.start()
        return self

    def _fire(self) -> None:
        with self._lock:
            if not self._running:
                return
            self.fired = True
        _thread.interrupt_main()

    def __exit__(self, etype, exc, tb):
        if self._timer is None:
            return False
        with self._lock:
            self._running = False
        self._timer.cancel()
        if self.fired and etype is KeyboardInterrupt:
            return True  # our own interrupt, outside the cell (a cell's interrupt comes as ToolInterrupted)
        if self.fired and etype is None:
            # The cell ended just as the timer fired: absorb the interrupt that is still on its way.
            try:
                deadline = time.monotonic() + _SETTLE_S
                while time.monotonic() < deadline:
                    time.sleep(0.01)
            except KeyboardInterrupt:
                pass
        return False


def main_thread_runs_cells(runner) -> bool:
    """Whether the runner's cells run on this process's main thread, where the timer's interrupt lands."""
    says = getattr(runner, "cells_run_on_main_thread", None)
    if callable(says):
        return bool(says())
    return False


def is_interruption(error: BaseException | None) -> bool:
    """A KeyboardInterrupt, or an error a tool raised while handling one (its run kept)."""
    seen = 0
    while error is not None and seen < 5:
        if isinstance(error, KeyboardInterrupt):
            return True
        error = error.__cause__ or error.__context__
        seen += 1
    return False


def last_kernel_error(ename: str) -> BaseException | None:
    """The exception object of the notebook cell that just failed with ``ename`` (IPython keeps it)."""
    error = getattr(sys, "last_value", None)
    return error if error is not None and type(error).__name__ == ename else None


def resume_code(tool, arguments: dict, variable: str, using: dict | None = None) -> str:
    """The action cell that continues an interrupted call: the same call with ``resume=True``; "" for a
    tool that cannot resume."""
    if "resume" not in tool.parameters.get("properties", {}):
        # A tool that adds to a folder in place (md.extend) continues an interrupted call when the same call
        # runs again: that call is its resume code (the card read "not resumable" and offered no button).
        return action_code(tool, arguments, variable, using) if tool.science.in_place else ""
    kept = {k: v for k, v in arguments.items() if k != "overwrite"}  # overwrite would delete what was kept
    return action_code(tool, {**kept, "resume": True}, variable, using)


def new_folder_offered(error: BaseException | None) -> str | None:
    """The new folder a refused run named (``RunExistsError.new_folder``: its folder holds a run made with
    other settings), read from the exception itself. The sidebar's runner hands over a ``CellError``
    (name and text only); the kernel's own exception object is that cell's, so it is read from there."""
    ename = getattr(error, "ename", None)
    if ename:
        error = last_kernel_error(ename) or error
    return getattr(error, "new_folder", None)


def new_folder_code(
    tool, arguments: dict, variable: str, error: BaseException | None, using: dict | None = None
) -> str:
    """The same call in the new folder a refused run named, or "" (no resume=, no overwrite=: the folder it
    was refused for holds another run, which resuming cannot continue and overwriting would delete)."""
    folder = new_folder_offered(error)
    if not folder or "out" not in tool.parameters.get("properties", {}):
        return ""
    kept = {k: v for k, v in arguments.items() if k not in ("resume", "overwrite")}
    return action_code(tool, {**kept, "out": folder}, variable, using)


def interrupted_summary(execution, resume: str, *, budget: bool) -> str:
    """What the scientist and the model read about an interrupted tool: why, what was kept, how to go on."""
    why = "the request's time budget ran out" if budget else "interrupted by the user"
    kept = execution.interruption()
    # A run stopped before its first checkpoint keeps nothing (md.run says so in its own words): "resumable"
    # over "nothing was kept" contradicted itself on the card a newcomer read; the same call starts it again.
    nothing_kept = bool(kept) and NOTHING_KEPT in kept
    # A Gō run keeps its frames but no checkpoint: its resume=True runs it again from 0 ps, which the card says.
    restarts = bool(kept) and "again from 0 ps" in kept
    if nothing_kept:
        text = f"interrupted — nothing kept ({why})"
    elif restarts and resume:
        text = f"interrupted — frames kept, reruns from 0 ps ({why})"
    else:
        text = f"interrupted — resumable ({why})" if resume else f"interrupted — not resumable ({why})"
    if kept:
        text += f". {kept}"
    if resume:
        how = "Start it again" if nothing_kept else "Run it again from 0 ps" if restarts else "Resume"
        text += f"\n{how} with:\n{resume}"
    elif not nothing_kept:  # a tool that kept nothing says how to start again in its own words
        text += ". Run the cell again to start over."
    return text
