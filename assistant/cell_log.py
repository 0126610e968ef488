"""When each of the kernel's cells ended, what it raised, and what a shell command in it printed and returned.

``explain_error()`` with no arguments explained the kernel's last *Python* error (``sys.last_value``). A
``!papermill …`` cell whose command fails sets no ``sys.last_value``: its traceback is only text in the cell's
output, and "the rerun of my report just failed, why?" was answered with an ESM-2 error from 15 minutes earlier,
without its cell or its age (newcomer r12). This log keeps, per execution count, when the cell ended and, for a
cell that runs a shell command (``!cmd``, ``%%bash``/``%%sh``/``%%script``), the tail of what it printed and
``_exit_code``: the text a shell command's failure leaves, and the times to say how old an error is.

IPython's ``pre_run_cell``/``post_run_cell`` events drive it (``%load_ext kenkyu`` installs it); while a shell cell
runs, ``sys.stdout``/``sys.stderr`` are wrapped by a tee that passes every write on and keeps the last
:data:`KEPT_CHARS` characters (IPython prints a ``!`` command's output, stderr included, to ``sys.stdout``).
"""

from __future__ import annotations

import re
import sys
import time
from dataclasses import dataclass

_ATTRIBUTE = "_kenkyu_cell_log"
KEPT_CELLS = 200
KEPT_CHARS = 20_000
# A line that runs a shell command: "!cmd" (after any indentation), or a cell magic that runs a script.
_SHELL = re.compile(r"^\s*!|^%%(?:bash|sh|script)\b", re.MULTILINE)


@dataclass
class CellRecord:
    count: int
    source: str
    ended: float  # time.time() when the cell finished
    error_id: int | None = None  # id() of the Python exception it raised
    error_name: str | None = None
    shell: bool = False  # the cell runs a shell command
    exit_code: int | None = None  # _exit_code after a shell cell (IPython sets it on each "!cmd")
    output: str = ""  # the tail of what a shell cell printed

    @property
    def shell_failed(self) -> bool:
        return self.shell and self.error_id is None and bool(self.exit_code)

    def shell_line(self) -> str:
        """The cell's (first) shell command as written, shortened: "!papermill report.ipynb out.ipynb …"."""
        for line in self.source.splitlines():
            if _SHELL.match(line):
                line = line.strip()
                return line if len(line) <= 60 else line[:57].rstrip() + " …"
        return self.source.strip().splitlines()[0][:60] if self.source.strip() else ""


class _Tee:
    """A stream that passes every write on and keeps the last KEPT_CHARS characters."""

    def __init__(self, stream, kept: list[str]):
        self._stream, self._kept = stream, kept

    def write(self, text):
        if isinstance(text, str) and text:
            self._kept.append(text)
            if sum(len(t) for t in self._kept) > 2 * KEPT_CHARS:
                joined = "".join(self._kept)[-KEPT_CHARS:]
                self._kept[:] = [joined]
        return self._stream.write(text)

    def __getattr__(self, name):
        return getattr(self._stream, name)


class _Log:
    def __init__(self, shell):
        self.shell = shell
        self.records: list[CellRecord] = []
        self._kept: list[str] | None = None
        self._streams: tuple | None = None

    def before(self, info) -> None:
        source = getattr(info, "raw_cell", "") or ""
        self._restore()
        if _SHELL.search(source):
            self._kept = []
            self._streams = (sys.stdout, sys.stderr)
            sys.stdout, sys.stderr = _Tee(sys.stdout, self._kept), _Tee(sys.stderr, self._kept)

    def after(self, result) -> None:
        kept = self._kept
        self._restore()
        count = result.execution_count
        if count is None:
            return
        info = getattr(result, "info", None)
        source = getattr(info, "raw_cell", "") or ""
        error = result.error_in_exec or result.error_before_exec
        record = CellRecord(count, source, time.time())
        if error is not None:
            record.error_id, record.error_name = id(error), type(error).__name__
        if kept is not None:
            record.shell = True
            code = self.shell.user_ns.get("_exit_code")
            record.exit_code = code if isinstance(code, int) else None
            record.output = "".join(kept)[-KEPT_CHARS:]
        self.records = [r for r in self.records if r.count != count][-KEPT_CELLS + 1 :] + [record]

    def _restore(self) -> None:
        if self._streams is not None:
            out, err = self._streams
            if isinstance(sys.stdout, _Tee):
                sys.stdout = out
            if isinstance(sys.stderr, _Tee):
                sys.stderr = err
        self._kept, self._streams = None, None


def install(shell) -> None:
    """Start the log (``%load_ext kenkyu``); a second load keeps the one log."""
    if getattr(shell, _ATTRIBUTE, None) is None:
        log = _Log(shell)
        setattr(shell, _ATTRIBUTE, log)
        shell.events.register("pre_run_cell", log.before)
        shell.events.register("post_run_cell", log.after)


def records(shell=None) -> list[CellRecord]:
    """The cells that ended, oldest first ([] when the log is not installed)."""
    if shell is None:
        try:
            from IPython import get_ipython

            shell = get_ipython()
        except ImportError:
            return []
    log = getattr(shell, _ATTRIBUTE, None) if shell is not None else None
    return list(log.records) if log is not None else []


def ago(ended: float, now: float | None = None) -> str:
    """ "12 s ago", "15 min ago", "2 h 5 min ago"."""
    seconds = max(0.0, (now if now is not None else time.time()) - ended)
    if seconds < 60:
        return f"{seconds:.0f} s ago"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min ago"
    hours, minutes = divmod(int(seconds // 60), 60)
    return f"{hours} h {minutes} min ago"
