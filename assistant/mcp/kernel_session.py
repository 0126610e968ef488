"""The kernel an MCP session runs in, and the notebook that records it.

Every tool call an outside agent makes runs in one real Jupyter kernel (``jupyter_client``), as the
action cell ``%%ask`` would write (:func:`kenkyu.assistant.cells.action_code`), so variables persist
between calls. Each call is appended, with its outputs, to the session notebook, which is written
atomically after every call: a crash or a killed server leaves the record of every call before it.

Calls are serialised (one kernel runs one cell at a time); two clients' calls queue, and each call's
outputs are collected from the messages answering its own request, so they never cross.
"""

from __future__ import annotations

import ast
import datetime as _dt
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import nbformat.v4 as v4

from kenkyu.assistant.cells import CELL_MARK
from kenkyu.core.files import write_text_atomically
from kenkyu.core.secrets import redact_obj

# Evaluated in the kernel after the cell (a user expression): what the agent reads of the result, the
# same text the in-kernel agent reads (kenkyu.assistant.summaries).
_SUMMARY = "__import__('kenkyu.assistant.summaries', fromlist=['_']).summarize_for_agent({variable})"


@dataclass
class CallRecord:
    """One call's cell: its code, the outputs the kernel sent for it, and how it ended."""

    code: str
    metadata: dict
    outputs: list = field(default_factory=list)
    status: str = "running"  # ok | error | cancelled
    error: str = ""
    summary: str = ""
    duration_s: float = 0.0
    cancel_requested: bool = False
    done: threading.Event = field(default_factory=threading.Event)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def printed(self) -> str:
        return "".join(o.get("text", "") for o in self.outputs if o.get("output_type") == "stream")


class KernelSession:
    """A Jupyter kernel started for this session, and the notebook at ``notebook`` it appends to.

    The kernel's working directory is the notebook's folder, where ``kenkyu report`` re-runs the
    record too, so relative run folders mean the same place in both."""

    def __init__(self, notebook: str | os.PathLike, kernel_name: str = "python3", startup_timeout: float = 120):
        self.notebook_path = Path(notebook).resolve()
        self.cwd = self.notebook_path.parent
        self.kernel_name = kernel_name
        self.startup_timeout = startup_timeout
        self._lock = threading.Lock()  # one cell at a time in the kernel
        self._save_lock = threading.Lock()
        self.km = None
        self.kc = None
        self.notebook = None
        self.current: CallRecord | None = None

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self, **popen) -> "KernelSession":
        """Start the kernel; ``popen`` goes to the kernel's process (``stdout=`` keeps its output off a
        stdio channel)."""
        from jupyter_client import KernelManager

        self.cwd.mkdir(parents=True, exist_ok=True)
        self.notebook = self._load_or_create()
        self.km = KernelManager(kernel_name=self.kernel_name)
        env = dict(os.environ)
        # Tools that could write prose with a model get none: the outside agent is the model here.
        env["KENKYU_PROVIDER"] = "none"
        self.km.start_kernel(cwd=str(self.cwd), env=env, **popen)
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=self.startup_timeout)
        return self

    def shutdown(self) -> None:
        if self.kc is not None:
            self.kc.stop_channels()
        if self.km is not None and self.km.has_kernel:
            self.km.shutdown_kernel(now=True)

    def alive(self) -> bool:
        return self.km is not None and self.km.is_alive()

    def interrupt(self) -> None:
        """Ctrl-C in the kernel: a running simulation stops at its last checkpoint and can be resumed."""
        if self.km is not None:
            self.km.interrupt_kernel()

    # -- running calls -----------------------------------------------------------------------------
    def run(self, record: CallRecord, variable: str | None = None, timeout: float | None = None) -> CallRecord:
        """Run one action cell, record it in the notebook, and return what happened (blocking).

        A call cancelled while it waited for the kernel never runs (and is not recorded: nothing ran)."""
        with self._lock:
            if record.cancel_requested:
                record.status, record.error = "cancelled", "cancelled before it started"
                record.done.set()
                return record
            self.current = record
            started = time.perf_counter()
            try:
                expressions = {"summary": _SUMMARY.format(variable=variable)} if variable else {}
                reply = self.kc.execute_interactive(
                    record.code,
                    user_expressions=expressions,
                    output_hook=lambda msg: self._collect(record, msg),
                    allow_stdin=False,
                    timeout=timeout,
                )
                self._finish(record, reply["content"], variable)
            except Exception as exc:  # the kernel died or timed out: still a record, never a lost call
                record.status, record.error = "error", f"{type(exc).__name__}: {exc}"
            finally:
                record.duration_s = time.perf_counter() - started
                self.current = None
                self._append(record)
                record.done.set()
        return record

    def _collect(self, record: CallRecord, msg: dict) -> None:
        kind = msg["header"]["msg_type"]
        if kind == "clear_output":
            record.outputs.clear()
            return
        # update_display_data (a widget or display id updating in place) is left out: the display is recorded
        if kind not in ("stream", "display_data", "execute_result", "error"):
            return
        output = v4.output_from_msg(msg)
        if kind == "stream" and record.outputs and record.outputs[-1].get("name") == output.name:
            record.outputs[-1]["text"] += output.text
        else:
            record.outputs.append(output)

    def _finish(self, record: CallRecord, content: dict, variable: str | None) -> None:
        if content.get("status") == "ok":
            record.status = "ok"
            value = content.get("user_expressions", {}).get("summary", {})
            if value.get("status") == "ok":
                record.summary = ast.literal_eval(value["data"]["text/plain"])
            return
        name, text = content.get("ename", "Error"), content.get("evalue", "")
        record.status = "cancelled" if name in ("KeyboardInterrupt", "RunInterrupted") else "error"
        record.error = f"{name}: {text}"

    # -- the record --------------------------------------------------------------------------------
    def _load_or_create(self):
        if self.notebook_path.exists():
            return nbformat.read(self.notebook_path, as_version=4)
        started = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
        nb = v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nb.metadata[CELL_MARK] = {"mcp_session": {"started": started}}
        nb.cells.append(
            v4.new_markdown_cell(
                "# kenkyu MCP session\n\nEach cell below is a tool call an outside agent made through "
                f"`kenkyu mcp` (started {started}), run in this notebook's kernel with its outputs. "
                "`kenkyu report` turns it into a report that re-runs with no LLM."
            )
        )
        return nb

    def _append(self, record: CallRecord) -> None:
        """A call that worked is a code cell with its outputs; one that failed or was cancelled is a note
        with its code and error (kept in the record, but not re-run by the report)."""
        meta = {**record.metadata}
        ended = {"status": record.status, "duration_s": round(record.duration_s, 3)}
        meta[CELL_MARK] = {**meta.get(CELL_MARK, {}), **ended}
        if record.ok:
            cell = v4.new_code_cell(record.code, metadata=meta)
            cell.outputs = list(record.outputs)
        else:
            what = "was cancelled" if record.status == "cancelled" else "failed"
            cell = v4.new_markdown_cell(
                f"*A call that {what} (not re-run by the report):*\n\n```python\n{record.code}\n```\n\n"
                f"`{record.error[:500]}`",
                metadata=meta,
            )
        with self._save_lock:
            self.notebook.cells.append(cell)
            write_text_atomically(self.notebook_path, nbformat.writes(nbformat.from_dict(redact_obj(self.notebook))))
