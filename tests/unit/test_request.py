"""The request lifecycle (kenkyu.assistant.request): one request at a time per session, its record,
and a Stop that reaches only its own agent, whichever front door started it."""

import json
import threading

from kenkyu.assistant.agent import Agent
from kenkyu.assistant.session import AssistantSession
from kenkyu.core.config import ProviderConfig, Settings

TURNS = [
    {"text": "Squaring.", "tool_calls": [{"name": "toolbox_square", "arguments": {"x": 3}}]},
    {"text": "3 squared is 9."},
]


def session_with(replay, approval="auto"):
    settings = Settings(provider=ProviderConfig("replay", replay_file=str(replay)), approval=approval)
    return AssistantSession(settings=settings, tool_modules=["toolbox"], namespace={})


def kinds(events):
    return [e.kind for e in events]


def test_a_request_records_its_cells_with_the_metadata_its_runner_got(write_replay):
    session = session_with(write_replay(TURNS))
    seen = []
    runner = session.in_place_runner
    original = runner.run
    runner.run = lambda code, metadata=None: seen.append(metadata) or original(code, metadata)
    request = session.new_request("square 3", variables={"n": 3})
    events = list(request.ask())
    assert kinds(events)[-1] == "done" and events[-1].reason == "finished"
    assert request.record is session.records[-1] and request.record["variables"] == {"n": 3}
    code = [c for c in request.record["cells"] if c["cell_type"] == "code"]
    # One metadata, built once: what the runner wrote on the cell is what the record keeps.
    assert seen == [code[0]["metadata"]]
    assert code[0]["metadata"]["kenkyu"] == {
        "agent": True,
        "tool": "toolbox_square",
        "call_id": code[0]["metadata"]["kenkyu"]["call_id"],
        "variable": "square",
        "model": session.provider.model_id,
    }
    assert session.namespace["square"] == 9.0 and session.request is None


def test_a_second_request_while_one_runs_is_busy_and_stop_reaches_only_the_first(write_replay):
    session = session_with(write_replay(TURNS + [{"text": "unused"}]))
    first = session.new_request("square 3", origin="the sidebar")
    running = first.ask()
    while next(running).kind != "tool_call":  # the first request now holds the session
        pass
    assert session.request is first and isinstance(session.agent, Agent)

    second = session.new_request("square 4")  # a %%ask meanwhile
    busy = list(second.ask())
    assert kinds(busy) == ["error", "done"] and busy[0].where == "busy" and busy[1].reason == "busy"
    assert "the sidebar" in busy[0].message and "'square 3'" in busy[0].message and busy[0].fix
    assert second.record is None and len(session.records) == 0  # nothing recorded for it
    assert session.agent is first.agent  # the sidebar's Stop still targets the sidebar's agent

    first.stop()
    rest = list(running)
    assert rest[-1].kind == "done" and rest[-1].reason == "stopped"
    assert session.records == [first.record] and first.record["done"]["reason"] == "stopped"
    assert session.request is None  # free again
    assert kinds(session.ask("square 5"))[-1] == "done"


def test_a_stop_before_the_request_starts_ends_it_at_once(write_replay):
    session = session_with(write_replay(TURNS))
    request = session.new_request("square 3")
    request.stop()
    events = list(request.ask())
    assert kinds(events) == ["done"] and events[0].reason == "stopped" and "square" not in session.namespace


def test_a_waiting_request_starts_when_the_running_one_ends(write_replay):
    session = session_with(write_replay(TURNS + TURNS))
    first = session.ask("square 3")
    next(first)
    results = []
    waiter = threading.Thread(target=lambda: results.extend(session.ask("again", wait=True)))
    waiter.start()
    waiter.join(0.3)
    assert waiter.is_alive() and not results  # waiting, not busy
    list(first)
    waiter.join(10)
    assert results[-1].reason == "finished"
    assert [r["prompt"] for r in session.records] == ["square 3", "again"]


def test_the_record_is_redacted_and_filed_even_when_setup_fails(monkeypatch, tmp_path):
    secret = "sk-live-0123456789abcdefghijklmnop"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    session = session_with(tmp_path / "missing.json")
    events = list(session.ask(f"use {secret}"))
    assert kinds(events) == ["error", "done"] and events[0].where == "setup"
    record = session.records[-1]
    assert record["done"]["reason"] == "error" and record["model"] is None and record["messages"] == []
    assert secret not in json.dumps(record)
