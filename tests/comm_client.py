"""A small Python stand-in for the chat sidebar, speaking ``labext/PROTOCOL.md`` to a real kernel.

It does what the TypeScript sidebar does, with jupyter_client instead of a browser: registers the
comm target, opens a ``kenkyu.chat`` comm with ``hello``, sends ``ask``/``approve``/``stop``/
``settings``, and answers each ``run_cell`` by executing the code with a real ``execute_request``
(the notebook's normal execution), turning the iopub messages into nbformat outputs and replying
with ``cell_result``.

    with running_kernel(cwd, env) as kc:
        sidebar = FakeSidebar(kc)
        ready = sidebar.open(settings={...})
        messages = sidebar.ask("square 3")       # every message up to and including the record
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import jsonschema
from jupyter_client.manager import KernelManager
from nbformat.v4 import output_from_msg

TESTS = Path(__file__).resolve().parent
REGISTER = "import kenkyu.assistant.comm as _kk; _kk.register_target()"
# The protocol's contract, shared with the front end's jest tests (labext/PROTOCOL.md explains it).
PROTOCOL_SCHEMA = json.loads((TESTS.parent / "labext" / "src" / "protocol.schema.json").read_text())


def check_message(data: dict, direction: str) -> None:
    """Fail unless ``data`` is a ``kernelMessage`` or ``sidebarMessage`` of the protocol's schema."""
    schema = {"$ref": f"#/definitions/{direction}", "definitions": PROTOCOL_SCHEMA["definitions"]}
    error = jsonschema.exceptions.best_match(jsonschema.Draft7Validator(schema).iter_errors(data))
    if error is not None:
        raise AssertionError(
            f"{direction} breaks labext/src/protocol.schema.json at {list(error.absolute_path)}: "
            f"{error.message}\n{json.dumps(data)[:1500]}"
        )


@contextlib.contextmanager
def running_kernel(cwd, env: dict | None = None):
    """A real ipykernel (python3) with the test toolbox importable; yields its BlockingKernelClient."""
    # The developer's own KENKYU_* settings stay out: the sidebar's settings choose the provider.
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("KENKYU_")}
    kernel_env = {
        **inherited,
        "PYTHONPATH": f"{TESTS}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
        **(env or {}),
    }
    manager = KernelManager(kernel_name="python3")
    manager.start_kernel(cwd=str(cwd), env=kernel_env)
    client = manager.blocking_client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        client.kernel_manager = manager  # so a test can restart it
        yield client
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def printed(client, code: str, timeout: int = 120) -> str:
    """Run ``code`` in the kernel and return the text it printed (stream outputs), as a console shows it."""
    shown = []
    client.execute_interactive(code, timeout=timeout, output_hook=lambda m: shown.append(m["content"].get("text", "")))
    return "".join(shown)


def answering(client, code: str, answer: str | None = None, *, timeout: int = 120, on_prompt=None):
    """Run ``code`` with stdin allowed, as the notebook's input box does: each prompt is kept, handed to
    ``on_prompt`` (e.g. to press stop) and answered with ``answer`` (None: left unanswered). Returns the
    execute reply, the prompts and the text shown."""
    prompts, shown = [], []

    def on_input(message):
        prompts.append(message["content"]["prompt"])
        if on_prompt is not None:
            on_prompt(message)
        if answer is not None:
            client.input(answer)

    def on_output(message):
        content = message["content"]
        shown.append(content.get("text") or content.get("data", {}).get("text/plain", ""))

    reply = client.execute_interactive(
        code, timeout=timeout, allow_stdin=True, stdin_hook=on_input, output_hook=on_output
    )
    return reply, prompts, "".join(shown)


def another_client(client):
    """A second connection to the same kernel (another browser tab, or the reloaded page)."""
    second = client.kernel_manager.blocking_client()
    second.start_channels()
    second.wait_for_ready(timeout=60)
    return second


class FakeSidebar:
    """One sidebar comm. ``on_run_cell(message) -> "run" | "cancel" | "ignore"`` decides what the
    notebook does with each code cell the kernel asks for (default: run it)."""

    def __init__(self, client, on_run_cell: Callable[[dict], str] | None = None):
        self.client = client
        self.comm_id = uuid.uuid4().hex
        self.on_run_cell = on_run_cell or (lambda message: "run")
        self.received: list[dict] = []  # every comm message from the kernel, in order
        self.parents: list[dict] = []  # the parent header of each of them (the message it answers)
        # JupyterLab sends a comm's messages over a kernel subshell of its comm target once that
        # subshell exists (comm_open still goes to the main shell); None: the main shell.
        self.subshell_id: str | None = None
        self.executed: list[dict] = []  # the cells this "notebook" ran: source, outputs, status
        self._running: dict[str, dict] = {}  # execute_request msg_id -> the cell being run

    # -- sending ---------------------------------------------------------------------------------
    def open(self, settings: dict | None = None, records: list | None = None, timeout: float = 60) -> dict:
        """Register the target, open the comm with ``hello``; returns the ``ready`` message."""
        self.execute_quietly(REGISTER)
        hello = {"type": "hello", "settings": settings or {}, "records": records or []}
        check_message(hello, "sidebarMessage")
        self._shell("comm_open", {"comm_id": self.comm_id, "target_name": "kenkyu.chat", "data": hello})
        return self.wait_for(lambda m: m["type"] == "ready", timeout)

    def send(self, data: dict, check: bool = True) -> str:
        """Send a comm message; returns its msg_id (the parent the kernel's answers name).
        ``check=False`` sends one that breaks the protocol on purpose (the kernel must cope)."""
        if check:
            check_message(data, "sidebarMessage")
        return self._shell("comm_msg", {"comm_id": self.comm_id, "data": data})

    def close(self) -> None:
        self._shell("comm_close", {"comm_id": self.comm_id, "data": {}})

    def settings(self, settings: dict, timeout: float = 60, check: bool = True) -> dict:
        start = len(self.received)
        self.send({"type": "settings", "settings": settings}, check=check)
        return self.wait_for(lambda m: m["type"] == "ready", timeout, since=start)

    def start_ask(self, prompt: str, cells: list | None = None, kind: str = "ask") -> str:
        """Send an ``ask`` (or, with ``kind="research"``, a ``research``); returns its request_id."""
        request_id = uuid.uuid4().hex
        self.send({"type": kind, "request_id": request_id, "prompt": prompt, "cells": cells or []})
        return request_id

    def ask(self, prompt: str, timeout: float = 120, **kwargs) -> list[dict]:
        """Ask and wait for the request's ``record``; returns the request's messages in order."""
        request_id = self.start_ask(prompt, **kwargs)
        return self.finish(request_id, timeout)

    def finish(self, request_id: str, timeout: float = 120) -> list[dict]:
        self.wait_for(lambda m: m["type"] == "record" and m["request_id"] == request_id, timeout)
        return self.messages(request_id)

    def messages(self, request_id: str) -> list[dict]:
        return [m for m in self.received if m.get("request_id") == request_id]

    def execute_quietly(self, code: str, timeout: float = 60) -> dict:
        """Run code the way the sidebar runs its bootstrap: silent, no history; returns the reply."""
        msg_id = self.client.execute(code, silent=True, store_history=False)
        return self._reply_to(msg_id, timeout)

    def evaluate(self, expression: str, timeout: float = 60):
        """A value from the kernel's namespace (through user_expressions), as its text/plain."""
        msg_id = self.client.execute("", silent=True, store_history=False, user_expressions={"v": expression})
        reply = self._reply_to(msg_id, timeout)
        result = reply["content"]["user_expressions"]["v"]
        if result["status"] != "ok":
            raise AssertionError(f"{expression}: {result.get('ename')}: {result.get('evalue')}")
        return result["data"]["text/plain"]

    # -- receiving -------------------------------------------------------------------------------
    def wait_for(self, predicate, timeout: float = 60, since: int = 0) -> dict:
        """Pump iopub (answering run_cell on the way) until a comm message matches ``predicate``."""
        deadline = time.monotonic() + timeout
        checked = since
        while True:
            for message in self.received[checked:]:
                if predicate(message):
                    return message
            checked = len(self.received)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                kinds = [m["type"] + (f":{m['event']['kind']}" if m["type"] == "event" else "") for m in self.received]
                raise TimeoutError(f"no matching message from the kernel in {timeout} s; received {kinds}")
            self.pump(min(remaining, 1.0))

    def pump(self, timeout: float = 1.0) -> None:
        """Handle the iopub messages that arrive within ``timeout`` seconds."""
        try:
            message = self.client.get_iopub_msg(timeout=timeout)
        except queue.Empty:
            return
        while True:
            self._handle(message)
            try:
                message = self.client.get_iopub_msg(timeout=0.01)
            except queue.Empty:
                return

    def _handle(self, message: dict) -> None:
        kind = message["header"]["msg_type"]
        content = message["content"]
        parent = message.get("parent_header", {}).get("msg_id")
        if kind == "comm_msg" and content.get("comm_id") == self.comm_id:
            data = content["data"]
            check_message(data, "kernelMessage")  # every message the kernel sends keeps the contract
            self.received.append(data)
            self.parents.append(message.get("parent_header") or {})
            if data.get("type") == "run_cell":
                self._run_cell(data)
        elif parent in self._running:
            cell = self._running[parent]
            if kind == "execute_input":
                cell["execution_count"] = content.get("execution_count")
            elif kind in ("stream", "display_data", "execute_result", "error"):
                output = output_from_msg(message)
                last = cell["outputs"][-1] if cell["outputs"] else None
                if kind == "stream" and last and last["output_type"] == "stream" and last["name"] == output["name"]:
                    last["text"] += output["text"]  # as JupyterLab merges consecutive stream chunks
                else:
                    cell["outputs"].append(output)
                if kind == "error":
                    cell["status"] = "error"
            elif kind == "clear_output":
                cell["outputs"].clear()
            elif kind == "status" and content.get("execution_state") == "idle":
                del self._running[parent]
                self._answer(cell)

    def _run_cell(self, data: dict) -> None:
        if data["cell_type"] == "markdown":
            self.executed.append({"cell_type": "markdown", "source": data["source"], "metadata": data["metadata"]})
            self._answer({"data": data, "status": "ok", "outputs": [], "execution_count": None})
            return
        action = self.on_run_cell(data)
        if action == "ignore":
            return
        if action == "cancel":
            self._answer({"data": data, "status": "cancelled", "outputs": [], "execution_count": None})
            return
        msg_id = self.client.execute(data["source"], store_history=True)
        self._running[msg_id] = {"data": data, "status": "ok", "outputs": [], "execution_count": None}

    def _answer(self, cell: dict) -> None:
        data = cell["data"]
        if data["cell_type"] == "code":
            self.executed.append(
                {
                    "cell_type": "code",
                    "source": data["source"],
                    "metadata": data["metadata"],
                    "outputs": cell["outputs"],
                    "status": cell["status"],
                }
            )
        self.send(
            {
                "type": "cell_result",
                "request_id": data["request_id"],
                "cell_request_id": data["cell_request_id"],
                "status": cell["status"],
                "outputs": [dict(o) for o in cell["outputs"]],
                "execution_count": cell["execution_count"],
            }
        )

    # -- kernel subshells (JEP 91), as JupyterLab uses them for comms --------------------------------
    def create_subshell(self, timeout: float = 30) -> str:
        return self._control("create_subshell_request", {}, timeout)["content"]["subshell_id"]

    def delete_subshell(self, subshell_id: str, timeout: float = 30) -> None:
        reply = self._control("delete_subshell_request", {"subshell_id": subshell_id}, timeout)
        assert reply["content"]["status"] == "ok", reply["content"]

    def kernel_info_on(self, subshell_id: str, timeout: float = 30) -> dict:
        """A kernel_info_request handled by ``subshell_id`` (what another comm's traffic does there)."""
        message = self.client.session.msg("kernel_info_request", {})
        message["header"]["subshell_id"] = subshell_id
        self.client.shell_channel.send(message)
        return self._reply_to(message["header"]["msg_id"], timeout)

    # -- plumbing --------------------------------------------------------------------------------
    def _shell(self, msg_type: str, content: dict) -> str:
        message = self.client.session.msg(msg_type, content)
        if self.subshell_id is not None and msg_type != "comm_open":
            message["header"]["subshell_id"] = self.subshell_id
        self.client.shell_channel.send(message)
        return message["header"]["msg_id"]

    def _control(self, msg_type: str, content: dict, timeout: float) -> dict:
        message = self.client.session.msg(msg_type, content)
        self.client.control_channel.send(message)
        deadline = time.monotonic() + timeout
        while True:
            reply = self.client.get_control_msg(timeout=max(0.1, deadline - time.monotonic()))
            if reply["parent_header"].get("msg_id") == message["header"]["msg_id"]:
                return reply

    def _reply_to(self, msg_id: str, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            reply = self.client.get_shell_msg(timeout=max(0.1, deadline - time.monotonic()))
            if reply["parent_header"].get("msg_id") == msg_id:
                return reply


def events(messages: list[dict], kind: str | None = None) -> list[dict]:
    """The agent events among a request's messages (of one kind, if given)."""
    found = [m["event"] for m in messages if m["type"] == "event"]
    return [e for e in found if kind is None or e["kind"] == kind]
