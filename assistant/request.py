"""One request's life, whichever front door it came through: ``%%ask``, ``%%research``, the sidebar.

A :class:`Request` is where everything a request owns lives, so the front ends only turn their
input into a Request and its events into their output:

- **the session, one request at a time.** A kernel has one conversation; a request holds it from
  :meth:`Request.begin` to :meth:`Request.end`. A second request meanwhile gets :class:`RequestBusy`
  (``%%ask`` runs on the kernel's shell thread, which a sidebar request needs free to run its cells,
  so it must not wait), or waits when its front end runs it on a thread of its own (the sidebar).
- **the record**: drafted as events pass through :meth:`Request.follow` (each cell, the end), then
  filed in ``session.records``, redacted, however the request ended.
- **what Stop targets**: :meth:`Request.stop` stops this request's agent (or its research loop),
  never the agent of a request that started later through another front door.
- **where cells run**: ``runner`` (the kernel in place, or the notebook for the sidebar), called as
  ``runner.run(code, metadata)`` with the metadata of :func:`kenkyu.assistant.cells.cell_metadata`.

    request = session.new_request("Square {n}", variables={"n": 3}, origin="sidebar", runner=runner)
    for event in request.ask(approver=approve, wait=True):
        ...                    # request.stop() from another thread ends it after the current step
    request.record             # the redacted record, once it ended (None when it never started)
"""

from __future__ import annotations

import datetime as _dt
import threading
from collections.abc import Callable, Iterator

from kenkyu.assistant import events as ev
from kenkyu.core.secrets import redact_obj

RECORD_VERSION = 1
GRACE_S = 1.0  # how long a request that must not wait waits for the session before it is busy


class RequestBusy(RuntimeError):
    """Another request holds the session."""

    def __init__(self, running: "Request | None"):
        what = (
            f"another request ({running.origin}: {_shorten(running.prompt)!r})"
            if running is not None
            else "the sidebar's settings or restored conversation"
        )
        super().__init__(f"kenkyu is still busy with {what}; one request at a time per kernel")
        self.fix = (
            "wait for it to finish, or stop it (the sidebar's Stop button, or the notebook's interrupt for a "
            "%%ask cell), then run this again"
        )


class Request:
    """One request: ``kind`` is ``"ask"`` (the agent loop) or ``"research"`` (Plan, Do, Check, Act)."""

    def __init__(
        self,
        session,
        prompt: str,
        *,
        kind: str = "ask",
        origin: str = "%%ask",
        variables: dict | None = None,
        runner=None,
    ):
        self.session = session
        self.prompt = prompt
        self.kind = kind
        self.origin = origin  # which front door, for the busy message
        self.variables = variables or {}
        self.runner = runner or session.in_place_runner
        self.agent = None  # the ask's Agent, once it exists
        self.draft: dict | None = None  # the record while the request runs
        self.record: dict | None = None  # the filed, redacted record once it ended
        self.awaiting_approval: str | None = None  # the call_id of the last approval_needed event
        self._stop = threading.Event()
        self._first_message = 0

    # -- stopping ----------------------------------------------------------------------------------
    def stop(self) -> None:
        """End this request after the current chunk or step (thread-safe; before it starts, too)."""
        self._stop.set()
        agent = self.agent
        if agent is not None:
            agent.stop()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    # -- holding the session -----------------------------------------------------------------------
    def begin(self, wait: bool = False) -> None:
        """Take the session (raises :class:`RequestBusy`, or waits with ``wait``) and start the record."""
        self.session._claim(self, wait)
        self._first_message = len(self.session.history)
        self.draft = {"version": RECORD_VERSION}
        if self.kind != "ask":
            self.draft["kind"] = self.kind
        self.draft.update(
            prompt=self.prompt,
            variables=self.variables,
            provider=self.session.settings.provider.describe(),
            started=_now(),
            cells=[],
        )
        if self.kind != "ask":
            self.draft["model"] = None

    def open(self, wait: bool = False) -> list[ev.Event]:
        """:meth:`begin`, for a loop that yields events: [] when the request started, else the events
        that say it could not (busy), for the front end to show."""
        try:
            self.begin(wait)
        except RequestBusy as busy:
            return busy_events(busy)
        return []

    def end(self) -> dict:
        """File the record, redacted, and let the next request have the session."""
        try:
            self.draft["finished"] = _now()
            self.draft["messages"] = [m.to_dict() for m in self.session.history[self._first_message :]]
            self.record = redact_obj(self.draft)
            self.session.records.append(self.record)
        finally:
            self.session._release(self)
        return self.record

    def follow(self, events: Iterator[ev.Event]) -> Iterator[ev.Event]:
        """Pass the events on, drafting the record from them."""
        for event in events:
            if self.stop_requested and self.agent is not None:
                self.agent.stop()  # a Stop that came before the agent existed (its run clears its flag)
            if isinstance(event, ev.CellAdded):
                self.draft["cells"].append(
                    {
                        "cell_type": event.cell_type,
                        "source": event.source,
                        "metadata": event.metadata,
                        "outputs": event.outputs,
                    }
                )
            elif isinstance(event, ev.Done):
                self.draft["done"] = event.to_dict()
            elif isinstance(event, ev.ApprovalNeeded):
                self.awaiting_approval = event.call_id
            yield event

    # -- the two kinds -----------------------------------------------------------------------------
    def ask(self, *, cells=None, approver: Callable | None = None, wait: bool = False) -> Iterator[ev.Event]:
        """The agent loop on the prompt: yields its events; the record is filed when it ends."""
        refused = self.open(wait)
        if refused:
            yield from refused
            return
        try:
            yield from self.follow(self._agent_events(cells, approver))
        finally:
            self.end()

    def research(
        self, *, approver=None, plan=None, measure_costs: bool = True, wait: bool = False
    ) -> Iterator[ev.Event]:
        """Plan, Do, Check and Act on the prompt (see :func:`kenkyu.assistant.research.run_research`)."""
        from kenkyu.assistant.research import run_research

        return run_research(
            self.session,
            self.prompt,
            variables=self.variables,
            approver=approver,
            plan=plan,
            measure_costs=measure_costs,
            lifecycle=self,
            wait=wait,
        )

    def _agent_events(self, cells, approver) -> Iterator[ev.Event]:
        from kenkyu.assistant.agent import Agent, Budget, deny_all
        from kenkyu.assistant.context import render_context

        session = self.session
        if self.stop_requested:  # stopped while it waited for the session
            yield ev.Done("stopped", 0, 0, 0.0)
            return
        try:
            provider = session.provider
            registry = session.registry_with_notebook_tools()
        except Exception as exc:
            fix = getattr(exc, "fix", "") or "check %kenkyu provider and the installed extras"
            yield ev.Error(str(exc), where="setup", fix=fix, recoverable=False)
            yield ev.Done("error", 0, 0, 0.0)
            self.draft["model"] = None
            return
        self.draft["model"] = provider.model_id
        settings = session.settings
        self.agent = Agent(
            provider,
            registry,
            self.runner,
            history=session.history,
            budget=Budget(settings.max_steps, settings.max_tokens, settings.max_seconds, settings.max_request_cost_s),
            approval_mode=settings.approval,
            approver=approver or deny_all,
            taken_names=session._taken_names,
        )
        yield from self.agent.run(self.prompt, render_context(session.namespace, cells))


def busy_events(busy: RequestBusy) -> list[ev.Event]:
    """What a front end shows for a request that could not start: an error, and its end."""
    return [ev.Error(str(busy), where="busy", fix=busy.fix, recoverable=True), ev.Done("busy", 0, 0, 0.0)]


class RequestSlot:
    """The session's one place for a request: who holds it, and the lock that says so."""

    def __init__(self):
        self._lock = threading.Lock()
        self.holder: Request | None = None

    def claim(self, request: Request, wait: bool) -> None:
        # Even a request that must not wait waits a moment: the sidebar holds the slot for a few
        # milliseconds to apply its settings, and that should not make a %%ask fail.
        if not self._lock.acquire(timeout=-1 if wait else GRACE_S):
            raise RequestBusy(self.holder)
        self.holder = request

    def release(self, request: Request) -> None:
        if self.holder is request:
            self.holder = None
            self._lock.release()

    def __enter__(self):
        """Hold the slot without a request (the sidebar changing settings or restoring a conversation)."""
        self._lock.acquire()
        return self

    def __exit__(self, *exc):
        self._lock.release()


def _shorten(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
