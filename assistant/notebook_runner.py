"""Run action cells through the notebook instead of in place: the sidebar's runner.

The agent runs in a background thread of the kernel. ``NotebookRunner.run`` asks the sidebar (over
the chat comm) to insert the cell into the notebook and execute it there, then waits on a queue for
the sidebar's ``cell_result``. The kernel's shell thread stays free meanwhile, so the notebook's own
``execute_request`` for that cell runs in the ordinary way: the scientist sees the cell, its live
outputs, widgets and progress bars, and the notebook file keeps them.

The outputs come back as nbformat v4 output dicts. They go into the record unchanged; what the agent
reads is a text summary (images become ``[image/png]``; widgets their ``text/plain``).
"""

from __future__ import annotations

import queue
import sys
import threading
import time
import uuid
from collections.abc import Callable

from kenkyu.assistant.interrupts import is_interruption, last_kernel_error
from kenkyu.assistant.runner import Execution
from kenkyu.assistant.summaries import summarize_for_agent

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
INTERRUPT_GRACE_S = 30.0


class CellNotRun(RuntimeError):
    """The notebook did not run the cell (cancelled by the sidebar, or no answer in time)."""


class CellError(Exception):
    """The cell raised in the notebook; keeps the kernel's own exception name for the agent."""

    def __init__(self, ename: str, evalue: str):
        super().__init__(evalue)
        self.ename = ename


def _interrupted(ename: str) -> bool:
    """The cell ended in KeyboardInterrupt, or in an error a tool raised while keeping its work on one."""
    return ename == "KeyboardInterrupt" or is_interruption(last_kernel_error(ename))


def error_name(error: BaseException) -> str:
    return getattr(error, "ename", None) or type(error).__name__


class NotebookExecution(Execution):
    """An :class:`Execution` whose outputs came from the notebook rather than from a tee."""

    has_value: bool = False

    def summary(self, limit: int = 2500) -> str:
        printed = "".join(_clean_stream(o.get("text", "")) for o in self.outputs if o.get("output_type") == "stream")
        shown = [output_text(o) for o in self.outputs if o.get("output_type") == "display_data"]
        shown = [s for s in shown if s.strip()]
        if self.error is not None:
            text = f"ERROR: {error_name(self.error)}: {self.error}"
            if printed.strip():
                text += f"\nOutput before the error:\n{printed[-800:]}"
            return text[:limit]
        if self.has_value:
            text = summarize_for_agent(self.value)
        else:
            results = [output_text(o) for o in self.outputs if o.get("output_type") == "execute_result"]
            text = "\n".join(results) if results else "(the cell returned nothing)"
        if printed.strip():
            text += f"\nPrinted:\n{printed[-800:]}"
        if shown:
            text += "\nShown:\n" + "\n".join(shown)[-800:]
        return text[:limit]


def output_text(output: dict) -> str:
    """What the agent reads of one nbformat output: text, and placeholders for what it cannot read."""
    kind = output.get("output_type")
    if kind == "stream":
        return _clean_stream(output.get("text", ""))
    if kind == "error":
        return f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"
    data = output.get("data", {}) or {}
    plain = data.get("text/plain", "")
    if isinstance(plain, list):  # nbformat allows multi-line strings as lists
        plain = "".join(plain)
    if WIDGET_MIME in data:
        return plain or "[widget]"
    placeholders = [f"[{mime}]" for mime in data if mime.startswith("image/")]
    if not plain and not placeholders:
        placeholders = [f"[{mime}]" for mime in data]
    return " ".join([*placeholders, plain] if plain else placeholders)


def _clean_stream(text) -> str:
    """Progress bars redraw a line with carriage returns; keep only what the line ended as."""
    if isinstance(text, list):
        text = "".join(text)
    return "\n".join(line.rsplit("\r", 1)[-1] for line in text.split("\n"))


class NotebookRunner:
    """As :class:`~kenkyu.assistant.runner.InPlaceRunner`: ``run(code, metadata)`` and ``namespace``.

    ``send`` delivers a message to the sidebar (the chat channel's redacting ``comm.send``);
    ``deliver`` is called by the channel with each ``cell_result``. ``deadline`` (``time.monotonic``)
    is the end of the request's time budget: a cell without an answer by then is reported as not run.
    """

    def __init__(
        self, send: Callable[[dict], None], namespace: dict, *, request_id: str, deadline: float | None = None
    ):
        self.send = send
        self.namespace = namespace
        self.request_id = request_id
        self.deadline = deadline
        # Called when the scientist interrupts the kernel during a cell: the request stops there too,
        # as %%ask does when the notebook's stop button is pressed.
        self.on_interrupt: Callable[[], None] = lambda: None
        self.last_cell_request_id: str | None = None
        self._waiting: dict[str, queue.Queue] = {}
        self._lock = threading.Lock()
        self._cancelled: str | None = None

    def cells_run_on_main_thread(self) -> bool:
        """In a kernel the notebook's cells run on its main thread, where an interrupt lands (the
        request's time budget interrupts them there, as the stop button does)."""
        app = sys.modules.get("ipykernel.kernelapp")
        return bool(app is not None and app.IPKernelApp.initialized())

    # -- the agent's side ---------------------------------------------------------------------------
    def run(self, code: str, metadata: dict | None = None) -> Execution:
        """Insert the cell, with ``metadata``, into the notebook, and wait for the notebook to run it."""
        execution = NotebookExecution(code)
        cell_request_id = self._new_cell_request()
        self.last_cell_request_id = cell_request_id
        metadata = metadata or {"kenkyu": {"agent": True}}
        started = time.monotonic()
        self.send(
            {
                "type": "run_cell",
                "request_id": self.request_id,
                "cell_request_id": cell_request_id,
                "cell_type": "code",
                "source": code,
                "metadata": metadata,
            }
        )
        result = self._wait(cell_request_id)
        execution.duration_s = time.monotonic() - started
        outputs = result.get("outputs")
        execution.outputs = [dict(o) for o in outputs if isinstance(o, dict)] if isinstance(outputs, list) else []
        status = result.get("status")
        if status == "ok":
            execution.has_value, execution.value = self._value_of(metadata.get("kenkyu", {}).get("variable"))
        elif status == "error":
            failure = next((o for o in execution.outputs if o.get("output_type") == "error"), None)
            execution.error = (
                CellError(failure.get("ename", "Error"), failure.get("evalue", ""))
                if failure
                else CellError("Error", "the cell failed in the notebook")
            )
            if _interrupted(execution.error.ename):
                # Stop, Ctrl-C or the request's time budget: the tool kept its work (md.run's checkpoint);
                # the agent reports it as interrupted and resumable, and the request stops here.
                execution.interrupted = True
                kept = last_kernel_error(execution.error.ename)
                if kept is not None:
                    execution.error = CellError(execution.error.ename, str(kept))
                self.on_interrupt()
        else:
            reason = result.get("reason") or (
                "the notebook did not run the cell (the kernel was restarting, or the cell was deleted)"
                if status == "cancelled"
                else f"the sidebar answered with an unknown status {status!r}"
            )
            execution.error = CellNotRun(reason)
            # An error output marks the step as failed in the record, so a report leaves it out.
            execution.outputs.append({"output_type": "error", "ename": "CellNotRun", "evalue": reason, "traceback": []})
        return execution

    def insert_markdown(self, source: str, metadata: dict) -> None:
        """Narrative cells are inserted, not executed; the sidebar's answer is not waited for."""
        self.send(
            {
                "type": "run_cell",
                "request_id": self.request_id,
                "cell_request_id": f"md-{uuid.uuid4().hex}",
                "cell_type": "markdown",
                "source": source,
                "metadata": metadata,
            }
        )

    # -- the channel's side -------------------------------------------------------------------------
    def deliver(self, message: dict) -> bool:
        """Hand a ``cell_result`` to the waiting ``run``; False when no cell waits for it."""
        with self._lock:
            box = self._waiting.get(message.get("cell_request_id"))
        if box is None:
            return False
        box.put(message)
        return True

    def cancel_all(self, reason: str) -> None:
        """Wake every waiting ``run`` with a not-run result (the sidebar closed or was replaced)."""
        with self._lock:
            self._cancelled = reason
            boxes = list(self._waiting.values())
        for box in boxes:
            box.put({"status": "cancelled", "reason": reason, "outputs": []})

    # -- plumbing -----------------------------------------------------------------------------------
    def _new_cell_request(self) -> str:
        cell_request_id = uuid.uuid4().hex
        with self._lock:
            self._waiting[cell_request_id] = queue.Queue(maxsize=1)
        return cell_request_id

    def _wait(self, cell_request_id: str) -> dict:
        with self._lock:
            box = self._waiting[cell_request_id]
            cancelled = self._cancelled
        try:
            if cancelled:
                return {"status": "cancelled", "reason": cancelled, "outputs": []}
            # After the deadline the agent interrupts the cell; wait a little longer for its result, so the
            # interrupted cell is reported as such (resumable) rather than as never answered.
            timeout = None if self.deadline is None else max(0.0, self.deadline + INTERRUPT_GRACE_S - time.monotonic())
            try:
                return box.get(timeout=timeout)
            except queue.Empty:
                return {
                    "status": "cancelled",
                    "outputs": [],
                    "reason": "no result from the notebook within the request's time budget; "
                    "check the cell in the notebook, or raise the limit with %kenkyu budget --seconds",
                }
        finally:
            with self._lock:
                self._waiting.pop(cell_request_id, None)

    def _value_of(self, variable: str | None) -> tuple[bool, object]:
        """The value of the variable the action cell assigned (named in its metadata), read from the
        kernel, so the agent gets the tool's own ``summary()`` exactly as with the in-place runner."""
        if variable and variable in self.namespace:
            return True, self.namespace[variable]
        return False, None
