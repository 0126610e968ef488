"""One assistant per kernel: settings, the provider, the tool registry, the conversation and the record.

The provider and the registry are built on first use, so ``%load_ext kenkyu`` imports nothing heavy.
"""

from __future__ import annotations

import os
import re
import string
from dataclasses import replace
from typing import Callable, Iterator

from kenkyu.assistant import events as ev
from kenkyu.assistant.prompt_budget import cap_value
from kenkyu.assistant.request import RECORD_VERSION, Request, RequestSlot, _now  # noqa: F401 (re-exported)
from kenkyu.core.config import ProviderConfig, Settings, settings_from_env
from kenkyu.core.messages import Message
from kenkyu.core.providers import set_active_provider
from kenkyu.core.secrets import redact_obj

RECORD_MIME = "application/vnd.kenkyu.record+json"


class AssistantSession:
    def __init__(self, shell=None, settings: Settings | None = None, tool_modules=None, namespace=None):
        from kenkyu.assistant.runner import InPlaceRunner

        self.shell = shell
        self.settings = settings or settings_from_env()
        self.history: list[Message] = []
        self.records: list[dict] = []
        self.in_place_runner = InPlaceRunner(shell, namespace)
        self._tool_modules = list(tool_modules) if tool_modules is not None else None
        self._provider = None
        self._registry = None
        self._recording_to = None
        self.slot = RequestSlot()  # one request at a time (see kenkyu.assistant.request)

    # -- the request in flight ----------------------------------------------------------------
    @property
    def request(self) -> Request | None:
        """The request that holds the session now, or None."""
        return self.slot.holder

    @property
    def runner(self):
        """Where action cells run: the running request's runner (the notebook, for the sidebar), else here."""
        request = self.slot.holder
        return request.runner if request is not None else self.in_place_runner

    @property
    def agent(self):
        """The running request's agent, or None."""
        request = self.slot.holder
        return request.agent if request is not None else None

    def _claim(self, request: Request, wait: bool) -> None:
        self.slot.claim(request, wait)

    def _release(self, request: Request) -> None:
        self.slot.release(request)

    def new_request(
        self, prompt: str, *, kind: str = "ask", origin: str = "%%ask", variables: dict | None = None, runner=None
    ) -> Request:
        """A request on this session; nothing runs until its ``ask()`` or ``research()`` is iterated."""
        return Request(self, prompt, kind=kind, origin=origin, variables=variables, runner=runner)

    # -- lazily built parts -------------------------------------------------------------------
    @property
    def provider(self):
        if self._provider is None:
            from kenkyu.core.providers import make_provider

            provider = make_provider(self.settings.provider)
            if self._recording_to:
                from kenkyu.core.providers.replay import RecordingProvider

                provider = RecordingProvider(provider, self._recording_to)
            self._provider = provider
        return self._provider

    def active_provider(self):
        """The provider tools may write prose with (``literature.ask(llm=None)``), or None for 'none'."""
        return None if self.settings.provider.provider == "none" else self.provider

    @property
    def registry(self):
        if self._registry is None:
            from kenkyu.core.registry import ToolRegistry

            self._registry = ToolRegistry.from_modules(self.tool_modules)
        return self._registry

    def registry_with_notebook_tools(self):
        """kenkyu's tools plus any ``@kenkyu.tool`` function the scientist defined in the notebook."""
        from kenkyu.core.registry import is_tool

        # A copy: with the sidebar, the agent thread reads while the notebook's cells write.
        own = [
            v
            for k, v in list(self.namespace.items())
            if not k.startswith("_") and is_tool(v) and getattr(v, "__module__", None) == "__main__"
        ]
        return self.registry.with_functions(own) if own else self.registry

    @property
    def tool_modules(self) -> list[str]:
        """kenkyu's tool modules, the agent's notebook tools, then the scientist's (``KENKYU_TOOL_MODULES``
        or ``%kenkyu tools add``)."""
        if self._tool_modules is None:
            from kenkyu.assistant import AGENT_TOOL_MODULES
            from kenkyu.tools import TOOL_MODULES

            extra = [m.strip() for m in os.environ.get("KENKYU_TOOL_MODULES", "").split(",") if m.strip()]
            self._tool_modules = [*TOOL_MODULES, *AGENT_TOOL_MODULES, *extra]
        return self._tool_modules

    def add_tool_module(self, module: str) -> None:
        """Let the agent call the @tool functions of one of your own modules."""
        import importlib

        importlib.import_module(module)  # fail here, with the real ImportError, not silently later
        if module not in self.tool_modules:
            self._tool_modules.append(module)
        self._registry = None

    @property
    def namespace(self) -> dict:
        return self.in_place_runner.namespace

    # -- configuration ------------------------------------------------------------------------
    def configure_provider(self, **changes) -> None:
        """``%kenkyu provider``: a new provider starts from its own defaults (not the old model name);
        the same provider keeps what is not changed (``None`` changes nothing)."""
        provider = changes.pop("provider", None) or self.settings.provider.provider
        if provider != self.settings.provider.provider:
            base = ProviderConfig(provider=provider)
        else:
            base = self.settings.provider
        self.use_provider(base.updated(**changes), rebuild=True)  # a replay chosen again starts over

    def use_provider(self, config: ProviderConfig, rebuild: bool = False) -> None:
        """The one way the provider changes (``%kenkyu provider``, the sidebar's settings, the CLI's
        ``--provider`` through ``%kenkyu``). The model is built again only when its configuration
        changed (a reconnecting sidebar must not restart a conversation's model), or with ``rebuild``."""
        if config != self.settings.provider or rebuild:
            self.settings = replace(self.settings, provider=config)
            self._provider = None

    def configure(self, **changes) -> None:
        self.settings = replace(self.settings, **{k: v for k, v in changes.items() if v is not None})
        self.settings.__post_init__()

    def record_turns_to(self, path) -> None:
        self._recording_to = path
        self._provider = None

    def reset(self) -> None:
        self.history.clear()
        self.records.clear()
        self._provider = None

    # -- asking -------------------------------------------------------------------------------
    def ask(
        self,
        prompt: str,
        *,
        cells=None,
        approver: Callable | None = None,
        variables: dict | None = None,
        runner=None,
        wait: bool = False,
    ) -> Iterator[ev.Event]:
        """Run one request; yields events and appends a record of the action cells it wrote.

        ``runner`` replaces the in-place runner for this request (the sidebar's runs the action
        cells through the notebook instead). While another request runs this one yields a ``busy``
        error (``wait`` waits instead); see :class:`kenkyu.assistant.request.Request`."""
        request = self.new_request(prompt, variables=variables, runner=runner)
        return request.ask(cells=cells, approver=approver, wait=wait)

    def _taken_names(self) -> set[str]:
        """The kernel's names and those the notebook's action cells bound (a restored notebook's cells
        hold names the fresh kernel has not seen yet). A cell that failed bound nothing: its name stays
        free, so the notebook reads cg_run, cg_run_2 rather than skipping a _2 that never existed."""
        names = set(self.namespace)
        for record in self.records:
            bound = (c["metadata"].get("kenkyu", {}).get("variable") for c in record["cells"] if not _failed(c))
            names |= set(bound) - {None}
        return names

    def conversation(self) -> dict:
        """The conversation as it goes into the notebook's metadata: no keys, ever."""
        return redact_obj(
            {
                "version": RECORD_VERSION,
                "provider": self.settings.provider.to_dict(),
                "messages": [m.to_dict() for m in self.history],
            }
        )

    def restore(self, records: list[dict]) -> None:
        """Bring a conversation back from the records saved in a notebook."""
        self.history = [Message.from_dict(m) for r in records for m in r.get("messages", [])]
        self.records = list(records)


def _failed(cell: dict) -> bool:
    return any(o.get("output_type") == "error" for o in cell.get("outputs") or ())


def records_in_notebook(path) -> list[dict]:
    """The ask records a saved notebook holds: its metadata's, or else those in its cells' outputs."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    stored = nb.metadata.get("kenkyu", {}).get("records")
    if stored:
        return list(stored)
    return [
        output["data"][RECORD_MIME]
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if RECORD_MIME in output.get("data", {})
    ]


class UnknownVariable(NameError):
    """``{name}`` in a question names no kernel variable."""


def interpolate(template: str, namespace: dict) -> tuple[str, dict]:
    """Expand ``{name}`` from the kernel's variables (``{{`` and ``}}`` are literal braces).

    Returns the text and the variables used (the simple ones become the report's parameters).
    A ``{name}`` that is a plain identifier but not defined raises :class:`UnknownVariable`: asking
    with the placeholder left in would send the model a question about nothing.
    """
    missing = [f for _, f, _, _ in _safe_parse(template) if f and f.isidentifier() and f not in namespace]
    if missing:
        raise UnknownVariable(
            f"no kernel variable named {', '.join(repr(m) for m in dict.fromkeys(missing))}: define it first, "
            "or write {{ and }} for literal braces"
        )
    used: dict = {}

    class Lookup(dict):
        def __missing__(self, key):
            return "{" + key + "}"

    values = Lookup()
    for _, field, _, _ in _safe_parse(template):
        base = re.match(r"[A-Za-z_]\w*", field or "")
        if base and base.group(0) in namespace:
            name = base.group(0)
            values[name] = namespace[name]
            if isinstance(namespace[name], (str, int, float, bool)):
                used[name] = namespace[name]
    try:
        return _CappedFormatter().vformat(template, (), values), used
    except (ValueError, IndexError, AttributeError, KeyError):
        return template, {}


class _CappedFormatter(string.Formatter):
    """Each ``{value}`` as it may enter a prompt: a 5 MB string is cut, and the prompt says so."""

    def format_field(self, value, format_spec):
        return cap_value(super().format_field(value, format_spec))


def _safe_parse(template: str):
    try:
        return list(string.Formatter().parse(template))
    except ValueError:
        return []


def get_session(shell) -> AssistantSession:
    """The kernel's assistant. On first use in a reopened notebook, its conversation comes back from
    the records saved in the notebook file (Jupyter tells the kernel the path in JPY_SESSION_NAME)."""
    session = getattr(shell, "_kenkyu_session", None)
    if session is None:
        session = AssistantSession(shell)
        shell._kenkyu_session = session
        set_active_provider(session.active_provider)
        notebook = os.environ.get("JPY_SESSION_NAME", "")
        if notebook.endswith(".ipynb") and os.path.isfile(notebook):
            try:
                session.restore(records_in_notebook(notebook))
            except Exception as exc:  # an unreadable notebook must not block asking
                print(f"kenkyu: could not restore the conversation from {notebook}: {exc}")
    return session
