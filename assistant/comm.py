"""The kernel side of the JupyterLab chat sidebar: the ``kenkyu.chat`` comm.

The sidebar runs ``import kenkyu.assistant.comm as _kk; _kk.register_target()`` and opens a comm;
each comm gets a :class:`ChatChannel`. The contract (messages and their fields) is
``labext/PROTOCOL.md``.

Threads: comm messages arrive on the kernel's shell thread. Quick messages (``approve``, ``stop``,
``cell_result``) are answered there at once. ``hello``, ``settings``, ``ask`` and ``research`` go to
the channel's own worker thread, one after another, so that the shell thread stays free: the agent
waits there for the notebook to execute the cells it asked for, which needs the shell thread. One
kernel has one :class:`~kenkyu.assistant.session.AssistantSession`; each request is a
:class:`~kenkyu.assistant.request.Request`, which holds the session while it runs (a sidebar request
waits for one already running, from another comm or a ``%%ask``) and is what Stop stops. This module
only turns comm messages into requests and their events into comm messages.

Everything sent to the sidebar passes through :func:`~kenkyu.core.secrets.redact_obj`.
"""

from __future__ import annotations

import contextvars
import dataclasses
import logging
import os
import queue
import re
import threading
import time
import uuid
import weakref
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

from kenkyu.assistant import comm_log
from kenkyu.assistant import events as ev
from kenkyu.assistant.approval_answer import NoAnswer
from kenkyu.core.config import PROVIDERS, ProviderConfig, settings_from_env
from kenkyu.assistant.notebook_runner import NotebookRunner
from kenkyu.assistant.render import router_loads_first
from kenkyu.core.secrets import redact_obj
from kenkyu.assistant.session import UnknownVariable, get_session, interpolate

TARGET = "kenkyu.chat"
PROVIDER_FIELDS = ("model", "base_url", "api_key_env", "replay_file")

log = logging.getLogger("kenkyu.comm")


# -- registration ------------------------------------------------------------------------------------
def register_target(shell=None) -> None:
    """Let the sidebar open ``kenkyu.chat`` comms in this kernel. Calling it again changes nothing."""
    import comm
    from IPython import get_ipython

    shell = shell or get_ipython()
    if shell is None:
        raise RuntimeError("the kenkyu sidebar needs an IPython kernel: run this inside Jupyter")
    manager = comm.get_comm_manager()
    existing = manager.targets.get(TARGET)
    if getattr(existing, "_kenkyu_shell", None) is shell:
        return

    def open_channel(comm, open_msg):
        data = open_msg["content"].get("data") or {}
        comm_log.trace("open", comm.comm_id, data, shell_msg=open_msg)
        channel = ChatChannel(comm, get_session(shell))
        channel.handle(data)

    open_channel._kenkyu_shell = shell
    manager.register_target(TARGET, open_channel)
    # The sidebar's kernel is a kenkyu kernel: `%load_ext kenkyu` as if typed, so a sidebar user's first %%ask
    # cell in the same notebook works (it read "Cell magic `%%ask` not found"; newcomer r8) and the outputs of
    # the sidebar's cells reach the notebook redacted, as %%ask's do. Loading it twice is a no-op.
    shell.extension_manager.load_extension("kenkyu")


# -- settings ----------------------------------------------------------------------------------------
class SettingsError(ValueError):
    def __init__(self, message: str, fix: str):
        super().__init__(message)
        self.fix = fix


def apply_settings(session, settings: dict) -> None:
    """Apply the sidebar's settings to the kernel's session.

    A non-empty value sets that setting. An empty one leaves the kernel's current value (its
    ``KENKYU_*`` defaults, or what ``%kenkyu`` chose), except that clearing a value the sidebar had
    set before goes back to the kernel's default. The provider object is rebuilt only when its
    configuration really changed, so a reconnecting sidebar does not restart a conversation's model.
    """
    if not isinstance(settings, dict):
        raise SettingsError("settings must be an object", fix='send {"provider": "...", "model": "...", ...}')
    wanted = {k: (v.strip() if isinstance(v, str) else "") for k, v in settings.items()}
    previous = getattr(session, "_sidebar_settings", {})
    defaults = settings_from_env()
    _check(wanted)

    current = session.settings.provider
    provider = wanted.get("provider") or (defaults.provider.provider if previous.get("provider") else current.provider)
    base = current if provider == current.provider else ProviderConfig(provider=provider, timeout_s=current.timeout_s)
    changes = {}
    for name in PROVIDER_FIELDS:
        value = wanted.get(name, "")
        if value:
            changes[name] = os.path.abspath(value) if name == "replay_file" else value
        elif previous.get(name):
            changes[name] = getattr(defaults.provider, name) if defaults.provider.provider == provider else None
    config = dataclasses.replace(base, **changes)
    if config != current:
        session.use_provider(config)

    approval = wanted.get("approval") or (defaults.approval if previous.get("approval") else "")
    if approval:
        session.configure(approval=approval)
    session._sidebar_settings = {k: v for k, v in wanted.items() if v}


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _check(wanted: dict) -> None:
    if wanted.get("provider") and wanted["provider"] not in PROVIDERS:
        raise SettingsError(
            f"unknown provider {wanted['provider']!r}",
            fix=f"choose one of {', '.join(PROVIDERS)} in the kenkyu settings",
        )
    if wanted.get("approval") and wanted["approval"] not in ("ask", "auto"):
        raise SettingsError(
            f"approval must be 'ask' or 'auto', not {wanted['approval']!r}",
            fix="choose ask or auto in the kenkyu settings",
        )
    name = wanted.get("api_key_env")
    if name and not _ENV_NAME.fullmatch(name):
        # Never echo it: a value that is not a variable name may well be the key itself.
        raise SettingsError(
            "api_key_env must be the NAME of an environment variable, not a key",
            fix="put the key in an environment variable (e.g. OPENAI_API_KEY) before starting "
            "Jupyter, and enter that variable's name in the kenkyu settings",
        )


def model_label(config: ProviderConfig) -> str:
    """What the sidebar's model indicator shows."""
    if config.provider == "local":
        return f"local · {config.model_id} (offline)"
    if config.provider == "replay":
        return f"replay · {Path(config.replay_file).name if config.replay_file else 'no file chosen'}"
    if config.provider == "none":
        return "none · no model chosen"
    where = f" at {urlparse(config.base_url).netloc or config.base_url}" if config.base_url else ""
    return f"{config.provider} · {config.model_id}{where}"


def displayable_history(messages) -> list[dict]:
    """The chat as the sidebar shows it: the questions and the assistant's text (tool traffic left out)."""
    shown = []
    for message in messages:
        if message.role == "user" and message.content.strip():
            shown.append({"role": "user", "text": message.content})
        elif message.role == "assistant" and message.content.strip():
            shown.append({"role": "assistant", "text": message.content})
    return shown


def announce_asked(session, messages, record: dict | None = None) -> None:
    """Show a question asked in a ``%%ask`` cell, and its reply, in every sidebar open on this kernel.

    The sidebar shows the kernel's conversation when it connects (``ready``'s history), %%ask cells included, and
    the model reads them all; but one asked in a cell while the chat was open never appeared there, so the chat
    showed some of the newcomer's %%ask questions and not others (r12). The request's ``record`` goes with it: the
    sidebar files it in the notebook's records with its own, so a reload shows the conversation as it happened
    (the %%ask turns vanished from the chat after a reload, r12) and the kernel keeps them on reconnecting."""
    history = displayable_history(messages)
    if not history:
        return
    message = {"type": "asked", "history": history}
    if isinstance(record, dict):
        message["record"] = record
    for channel in list(_channels_of(session)):
        channel._send(message)


# -- the channels that talk to a session -------------------------------------------------------------
_registry_lock = threading.Lock()
_session_channels: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
REQUEST_TYPES = ("ask", "research")


def _channels_of(session) -> weakref.WeakSet:
    with _registry_lock:
        return _session_channels.setdefault(session, weakref.WeakSet())


# -- the channel -------------------------------------------------------------------------------------
class ChatChannel:
    """One sidebar's comm: routes its messages, runs its requests, streams the agent's events back."""

    def __init__(self, comm, session):
        self.comm = comm
        self.session = session
        self.closed = False
        self._jobs: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        self._records_for_page: list | None = None  # the kernel's records, when the page's lack some (ready)
        self._approvals: dict[str, queue.Queue] = {}
        self._runner: NotebookRunner | None = None
        self._request_id: str | None = None
        self._request = None  # the running kenkyu.assistant.request.Request: what Stop stops
        self._stop_requested = False
        self._abort_reason: str | None = None
        self._dropped: set[str] = set()  # requests stopped before they started
        comm.on_msg(self._on_msg)
        comm.on_close(self._on_close)
        _channels_of(session).add(self)
        self._worker = threading.Thread(target=self._work, name="kenkyu-chat", daemon=True)
        self._worker.start()

    # -- on the shell thread ------------------------------------------------------------------------
    def _on_msg(self, msg) -> None:
        data = msg["content"].get("data") or {}
        comm_log.trace("in", self.comm.comm_id, data, shell_msg=msg)
        self.handle(data)

    def _on_close(self, msg) -> None:
        comm_log.trace("close", self.comm.comm_id, {}, shell_msg=msg)
        self.close()

    def handle(self, data: dict) -> None:
        kind = data.get("type") if isinstance(data, dict) else None
        if kind == "hello":
            # A newer sidebar (a reloaded page) takes over: a request an older one left waiting for
            # a front end that is gone must not hold the conversation.
            for other in list(_channels_of(self.session)):
                if other is not self:
                    other.abort("a newer sidebar connected to this kernel; ask again there")
            self._queue(data)
        elif kind == "settings" or kind in REQUEST_TYPES:
            self._queue(data)
        elif kind == "approve":
            self._approval_box(str(data.get("call_id"))).put(bool(data.get("approved")))
        elif kind == "stop":
            self.stop(data.get("request_id"))
        elif kind == "cell_result":
            runner = self._runner
            if runner is None or not runner.deliver(data):
                log.debug("cell_result for no waiting cell: %s", data.get("cell_request_id"))
        else:
            self._send_event(
                data.get("request_id") if isinstance(data, dict) else None,
                ev.Error(
                    f"the kernel does not understand the sidebar's message type {kind!r}",
                    where="sidebar",
                    fix="update the kenkyu JupyterLab extension to match the installed kenkyu package",
                ),
            )

    def _queue(self, data: dict) -> None:
        # The job is answered from the worker thread, in the context of the message that asked
        # for it. ipykernel names an outgoing comm message's parent from the context it is sent in
        # and routes the comm's next incoming messages to that parent's subshell. A worker thread
        # has no parent of its own, so without this the kernel would use whichever shell message
        # it handled last, on any subshell: after a page reload that is often ipywidgets' control
        # comm's subshell, which JupyterLab deletes right after; the sidebar's next question was
        # then routed there and dropped, and the sidebar waited forever.
        self._jobs.put((data, contextvars.copy_context()))

    def stop(self, request_id=None) -> None:
        if request_id and request_id != self._request_id:
            self._dropped.add(request_id)
            return
        self._stop_requested = True
        request = self._request
        if request is not None:
            request.stop()  # this channel's request only, never another front end's
        self._deny_waiting_approvals()

    def abort(self, reason: str) -> None:
        """End the running request now: stop the agent and wake everything it waits for; drop the
        questions still queued (their front end is most likely gone)."""
        with self._jobs.mutex:
            queued = [job for job, _ in filter(None, self._jobs.queue) if job.get("type") in REQUEST_TYPES]
        self._dropped.update(str(job.get("request_id")) for job in queued)
        if self._request_id is None:
            return
        self._abort_reason = reason
        self.stop()
        runner = self._runner
        if runner is not None:
            runner.cancel_all(reason)

    def close(self) -> None:
        self.abort("the sidebar closed")
        self.closed = True
        self._jobs.put(None)

    # -- on the worker thread -----------------------------------------------------------------------
    def _work(self) -> None:
        while True:
            queued = self._jobs.get()
            if queued is None or self.closed:
                return
            job, context = queued
            context.run(self._do_job, job)

    def _do_job(self, job: dict) -> None:
        request_id = job.get("request_id")
        try:
            getattr(self, f"_do_{job['type']}")(job)
        except Exception as exc:  # a bug here must reach the sidebar, never hang it
            log.exception("kenkyu chat: %s failed", job.get("type"))
            self._send_event(
                request_id,
                ev.Error(
                    f"{type(exc).__name__}: {exc}",
                    where="kernel",
                    fix="see the kernel's log; ask again",
                    recoverable=False,
                ),
            )
            if job.get("type") in REQUEST_TYPES:
                self._send_event(request_id, ev.Done("error", 0, 0, 0.0))

    def _do_hello(self, data: dict) -> None:
        earlier = self.session.slot.holder
        if earlier is not None:
            # A request from before the reload still holds the conversation (asked to stop above), e.g. in a
            # cost calibration of minutes that a stop cannot cut short. Waiting for it left the page at
            # "connecting…" with an empty chat: answer now with the kernel's conversation (it is the newest:
            # the kernel ran it) and apply the page's settings once that request has ended.
            self._send_ready()
            self._send_event(
                None,
                ev.Error(
                    f"an earlier request is still finishing in the kernel ({earlier.origin}: "
                    f"{' '.join(earlier.prompt.split())[:60]!r}); "
                    "it was asked to stop and ends at its next step",
                    where="kernel",
                    fix="wait for it: your next question runs once it has ended (restarting the kernel ends it "
                    "now, but clears the kernel's variables)",
                    recoverable=True,
                ),
            )
            self._queue({"type": "settings", "settings": data.get("settings") or {}})
            return
        records = data.get("records")
        # The conversation and the settings change only between requests.
        with self.session.slot:
            if _lacks_some(records if isinstance(records, list) else [], self.session.records):
                # The kernel holds turns the page never filed (%%ask cells asked while no chat was open, or a
                # reloaded page's last answers not saved yet): it keeps its conversation, and the page gets all
                # of it in ``ready`` and files the missing records in order, so a reload keeps those turns too.
                self._records_for_page = list(self.session.records)
            elif isinstance(records, list) and records and not _is_prefix(records, self.session.records):
                # The notebook's records are the conversation (a restarted kernel, another notebook's).
                self.session.restore([r for r in records if isinstance(r, dict)])
        self._do_settings(data)

    def _do_settings(self, data: dict) -> None:
        try:
            with self.session.slot:
                apply_settings(self.session, data.get("settings") or {})
        except SettingsError as exc:
            self._send_event(None, ev.Error(str(exc), where="settings", fix=exc.fix))
        self._send_ready()

    def _send_ready(self) -> None:
        config = self.session.settings.provider
        try:
            tools = self.session.registry_with_notebook_tools().names()
        except Exception as exc:  # noqa: BLE001 - e.g. a module in KENKYU_TOOL_MODULES that fails to import
            tools = []
            self._send_event(
                None,
                ev.Error(
                    f"the tools could not be loaded: {exc}",
                    where="tools",
                    fix="fix or remove the module named in KENKYU_TOOL_MODULES",
                ),
            )
        self._send(
            {
                "type": "ready",
                "model": {
                    "provider": config.provider,
                    "model": config.model_id,
                    "label": model_label(config),
                    "loads_first": router_loads_first(config.provider),
                },
                "approval": self.session.settings.approval,
                "tools": tools,
                "history": displayable_history(self.session.history),
                **({"records": records} if (records := self._take_records_for_page()) else {}),
            }
        )

    def _take_records_for_page(self) -> list | None:
        records, self._records_for_page = self._records_for_page, None
        return records

    def _do_ask(self, data: dict) -> None:
        self._run_request(data, "ask")

    def _do_research(self, data: dict) -> None:
        self._run_request(data, "research")

    def _run_request(self, data: dict, kind: str) -> None:
        """One ``ask`` or ``research``: a Request whose cells run through the notebook, its events
        streamed to the sidebar, then its record."""
        request_id = str(data.get("request_id") or uuid.uuid4().hex)
        # Set before looking at _dropped: a stop arriving from now on finds this request running.
        self._stop_requested, self._abort_reason = False, None
        self._request_id = request_id
        try:
            if request_id in self._dropped:
                self._dropped.discard(request_id)
                self._send_event(request_id, ev.Done("stopped", 0, 0, 0.0))
                return
            problem = self._question(data.get("prompt"))
            if isinstance(problem, ev.Error):
                self._send_event(request_id, problem)
                self._send_event(request_id, ev.Done("error", 0, 0, 0.0))
                return
            prompt, variables = problem
            deadline = time.monotonic() + self.session.settings.max_seconds
            narrative = NarrativeHold(self._send, hold=kind == "ask")
            runner = NotebookRunner(narrative.send, self.session.namespace, request_id=request_id, deadline=deadline)
            narrative.runner = runner
            runner.on_interrupt = lambda: self.stop(request_id)
            self._runner = runner
            if self._abort_reason:  # aborted while this request was starting
                runner.cancel_all(self._abort_reason)
            request = self.session.new_request(
                prompt, kind=kind, origin="the sidebar", variables=variables, runner=runner
            )
            self._request = request
            if self._stop_requested:  # a stop that came while the request was being made
                request.stop()
            try:
                if kind == "research":
                    events = request.research(approver=self._research_approver(request, deadline), wait=True)
                else:
                    events = request.ask(
                        cells=_context_cells(data.get("cells")),
                        approver=self._ask_approver(request_id, deadline),
                        wait=True,
                    )
                self._stream(request_id, runner, events, narrative)
            except Exception as exc:  # a bug in the loop: the sidebar hears of it, and the record still comes
                log.exception("kenkyu chat: the request failed")
                self._send_event(
                    request_id,
                    ev.Error(f"{type(exc).__name__}: {exc}", where="kernel", fix="ask again", recoverable=False),
                )
                self._send_event(request_id, ev.Done("error", 0, 0, 0.0))
            if request.record is not None:
                self._send({"type": "record", "request_id": request_id, "record": request.record})
        finally:
            self._runner, self._request_id, self._request = None, None, None
            self._deny_waiting_approvals()
            with self._lock:
                self._approvals.clear()

    def _question(self, text):
        """The prompt with ``{name}`` filled from the kernel, and the variables used; or an Error."""
        if not isinstance(text, str) or not text.strip():
            return ev.Error("the question is empty", where="sidebar", fix="type a question")
        try:
            return interpolate(text.strip(), self.session.namespace)
        except UnknownVariable as exc:
            return ev.Error(
                str(exc),
                where="question",
                fix="define the variable in a cell first, or write {{ }} for braces",
            )

    def _stream(
        self, request_id: str, runner: NotebookRunner, events: Iterator[ev.Event], narrative: "NarrativeHold"
    ) -> None:
        """The request's events to the sidebar; its narrative cells into the notebook (see NarrativeHold)."""
        for event in events:
            extra = {}
            if isinstance(event, ev.ApprovalNeeded):
                self._approval_box(event.call_id)  # ready before the sidebar can answer
            elif isinstance(event, ev.CellAdded) and event.cell_type == "code":
                extra["cell_request_id"] = runner.last_cell_request_id
            self._send({"type": "event", "request_id": request_id, "event": event.to_dict(), **extra})
            if isinstance(event, ev.CellAdded) and event.cell_type == "markdown":
                narrative.add(event.source, event.metadata)

    def _ask_approver(self, request_id: str, deadline: float):
        def approve(call, tool, code) -> bool:
            return self._await_approval(request_id, call.id, tool.name, deadline)

        return approve

    def _research_approver(self, request, deadline: float):
        def approve(step, plan) -> bool:
            # The loop asks right after its approval_needed event, whose call_id the request noted.
            return self._await_approval(self._request_id, request.awaiting_approval, step.tool, deadline)

        return approve

    def _await_approval(self, request_id: str, call_id: str, name: str, deadline: float) -> bool:
        box = self._approval_box(call_id)
        asked = time.monotonic()
        try:
            return bool(box.get(timeout=max(0.0, deadline - time.monotonic())))
        except queue.Empty:
            self._send_event(
                request_id,
                ev.Error(
                    f"no answer to the approval request for {name} within the request's time budget; it was not run",
                    where="approval",
                    fix="ask again, and approve or decline in the sidebar",
                ),
            )
            return NoAnswer(round(time.monotonic() - asked))  # falsy: not run, and recorded as unanswered
        finally:
            with self._lock:
                self._approvals.pop(call_id, None)

    # -- plumbing -----------------------------------------------------------------------------------
    def _approval_box(self, call_id: str) -> queue.Queue:
        with self._lock:
            return self._approvals.setdefault(call_id, queue.Queue())

    def _deny_waiting_approvals(self) -> None:
        with self._lock:
            boxes = list(self._approvals.values())
        for box in boxes:
            box.put(False)

    def _send_event(self, request_id, event: ev.Event) -> None:
        self._send({"type": "event", "request_id": request_id, "event": event.to_dict()})

    def _send(self, data: dict) -> None:
        if self.closed:
            return
        try:
            self.comm.send(redact_obj(data))
            if comm_log.enabled():
                comm_log.trace(
                    "out",
                    self.comm.comm_id,
                    data,
                    shell_msg=comm_log.kernel_parent(),
                    note=f"reply_subshell={getattr(self.comm, '_reply_subshell_id', '-')}",
                )
        except Exception:  # the front end went away; the request still finishes and is recorded
            log.exception("kenkyu chat: could not send %s", data.get("type"))


class NarrativeHold:
    """Keeps an ask's narrative cells out of the notebook until the request runs a cell.

    A reply that ran nothing (a question answered, a missing input named, the capability overview) is read in
    the chat; written into the notebook as well it was one markdown cell, with "Undo 1 cell" under a reply that
    changed nothing (newcomer r8). Once the request's first code cell is about to run, the narrative so far goes
    in before it, in order, and later narrative follows at once. The kernel's record keeps every narrative cell
    either way. A research request writes its sections as they come (``hold=False``): they are its record.
    """

    def __init__(self, send, *, hold: bool):
        self._send = send
        self._holding = hold
        self._held: list[tuple[str, dict]] = []
        self.runner: NotebookRunner | None = None

    def add(self, source: str, metadata: dict) -> None:
        if self._holding:
            self._held.append((source, metadata))
        else:
            self.runner.insert_markdown(source, metadata)

    def send(self, message: dict) -> None:
        """The runner's way to the sidebar: a code cell releases the narrative held before it."""
        if self._holding and message.get("type") == "run_cell" and message.get("cell_type") == "code":
            self._holding = False
            held, self._held = self._held, []
            for source, metadata in held:
                self.runner.insert_markdown(source, metadata)
        self._send(message)


def _is_prefix(records: list, kernel_records: list) -> bool:
    """Whether the notebook's records are the start of the kernel's. The sidebar stores its own note on each
    record (``sidebar``: the cards as they were drawn); that is the page's, not the conversation's, so a
    saved record still matches the kernel's after it was noted."""
    return len(records) <= len(kernel_records) and all(
        _conversation(mine) == _conversation(kernels) for mine, kernels in zip(records, kernel_records)
    )


def _lacks_some(records: list, kernel_records: list) -> bool:
    """Whether the notebook's records are the kernel's with some left out (in order): the kernel holds turns the
    page never filed, %%ask cells asked while the chat was closed."""
    left = iter(kernel_records)
    return len(records) < len(kernel_records) and all(
        any(_conversation(mine) == _conversation(kernels) for kernels in left) for mine in records
    )


def _conversation(record):
    return {k: v for k, v in record.items() if k != "sidebar"} if isinstance(record, dict) else record


def _context_cells(cells) -> list[dict] | None:
    """The notebook cells the sidebar sent for context: only their type, source and output text."""
    if not isinstance(cells, list):
        return None
    kept = []
    for cell in cells:
        if isinstance(cell, dict) and isinstance(cell.get("source"), str):
            item = {"cell_type": str(cell.get("cell_type", "code")), "source": cell["source"]}
            if isinstance(cell.get("output"), str):
                item["output"] = cell["output"]
            kept.append(item)
    return kept
