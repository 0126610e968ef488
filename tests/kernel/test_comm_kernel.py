"""The sidebar's comm (``kenkyu.chat``) against a real ipykernel, driven by a Python fake sidebar.

The fake sidebar (tests/comm_client.py) does what the JupyterLab extension does: it opens the comm
with ``hello`` and answers each ``run_cell`` by executing the code through a real ``execute_request``,
so the action cells run in the kernel the way a notebook runs them. Only the LLM is scripted (replay).
"""

import json
import time

import pytest
from comm_client import FakeSidebar, another_client, events, running_kernel
from kenkyu.assistant.notebook_runner import CellError, NotebookExecution

import kenkyu

SECRET = "sk-kenkyutest-0123456789abcdefXYZ"  # the value of an API-key variable in the kernel's environment
KERNEL_ENV = {"KENKYU_TOOL_MODULES": "toolbox", "LAB_SERVICE_API_KEY": SECRET}
VILLIN = str(kenkyu.tools.md.example_structure("villin"))


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("comm_kernel")
    with running_kernel(cwd, KERNEL_ENV) as client:
        yield client, cwd


def replay_settings(cwd, name, turns, **extra):
    (cwd / name).write_text(json.dumps({"turns": turns}))
    return {
        "provider": "replay",
        "replay_file": str(cwd / name),
        "model": "",
        "base_url": "",
        "api_key_env": "",
        "approval": "ask",
        **extra,
    }


def kinds(messages):
    return [m["type"] if m["type"] != "event" else m["event"]["kind"] for m in messages]


def test_ask_streams_runs_cells_in_the_notebook_and_records(kernel):
    client, cwd = kernel
    sidebar = FakeSidebar(client)
    turns = [
        {
            "text": f"I will square 3 and measure the compactness. (Your key {SECRET} is safe.)",
            "tool_calls": [
                {"name": "toolbox_square", "arguments": {"x": 3}},
                {"name": "analysis_radius_of_gyration", "arguments": {"trajectory": VILLIN}},
            ],
        },
        {"text": "3 squared is 9; the radius of gyration is 0.945 nm."},
    ]
    ready = sidebar.open(settings=replay_settings(cwd, "stream.json", turns, approval="auto"))
    assert ready["model"]["label"] == "replay · stream.json"
    assert {"toolbox_square", "analysis_radius_of_gyration", "md_run"} <= set(ready["tools"])

    messages = sidebar.ask(f"Square 3 and compute the radius of gyration (key {SECRET})")
    order = kinds(messages)
    assert order[0] == "token" and order[-2:] == ["done", "record"]
    first_code_cell = next(i for i, m in enumerate(messages) if m["type"] == "run_cell" and m["cell_type"] == "code")
    assert order.index("tool_call") < first_code_cell < order.index("tool_result")
    assert events(messages, "done")[0]["reason"] == "finished"

    # Each tool call became a cell that the notebook executed: the results are kernel variables.
    run_cells = [m for m in messages if m["type"] == "run_cell"]
    code_cells = [m for m in run_cells if m["cell_type"] == "code"]
    calls = events(messages, "tool_call")
    assert [c["source"] for c in code_cells] == [c["code"] for c in calls]
    assert code_cells[0]["metadata"]["kenkyu"] == {
        "agent": True,
        "tool": "toolbox_square",
        "call_id": calls[0]["call_id"],
        "variable": "square",
        "model": "replay:stream.json",
    }
    assert sidebar.evaluate("square") == "9.0"
    assert sidebar.evaluate("type(radius_of_gyration).__name__") == "'AnalysisTable'"
    assert [c["status"] for c in sidebar.executed if c["cell_type"] == "code"] == ["ok", "ok"]

    # The agent read each cell's outputs: the value's summary and what it printed.
    square, rg = events(messages, "tool_result")
    assert square["ok"] and square["summary"].startswith("9.0") and "squaring 3.0" in square["summary"]
    assert rg["ok"] and "Radius of gyration" in rg["summary"] and "0.945 nm" in rg["summary"]

    # Narrative cells are inserted as markdown, before the cells of the same turn.
    assert run_cells[0]["cell_type"] == "markdown" and run_cells[0]["source"].startswith("I will square 3")
    assert run_cells[0]["metadata"]["kenkyu"]["role"] == "narrative"
    cell_events = [
        m
        for m in messages
        if m["type"] == "event" and m["event"]["kind"] == "cell" and m["event"]["cell_type"] == "code"
    ]
    assert [m["cell_request_id"] for m in cell_events] == [c["cell_request_id"] for c in code_cells]

    record = messages[-1]["record"]
    assert [c["cell_type"] for c in record["cells"]] == ["markdown", "code", "code", "markdown"]
    assert any("squaring 3.0" in o.get("text", "") for o in record["cells"][1]["outputs"])
    assert "[redacted]" in record["prompt"] and record["done"]["reason"] == "finished"
    # The key was in the question and in the model's text; it crossed the comm in no message.
    assert SECRET not in json.dumps(sidebar.received)
    assert any("[redacted]" in e["text"] for e in events(messages, "token"))


def test_approval_is_asked_in_the_sidebar_and_respected(kernel):
    client, cwd = kernel
    sidebar = FakeSidebar(client)
    turns = [
        {
            "text": "Writing the first note.",
            "tool_calls": [{"name": "toolbox_write_note", "arguments": {"path": "yes.txt", "text": "approved"}}],
        },
        {
            "text": "Writing the second note.",
            "tool_calls": [{"name": "toolbox_write_note", "arguments": {"path": "no.txt", "text": "declined"}}],
        },
        {"text": "One note written, one declined."},
    ]
    sidebar.open(settings=replay_settings(cwd, "approve.json", turns))
    request_id = sidebar.start_ask("write two notes")

    first = sidebar.wait_for(lambda m: m["type"] == "event" and m["event"]["kind"] == "approval_needed")
    assert first["event"]["writes_files"] and "yes.txt" in first["event"]["code"]
    assert not [m for m in sidebar.messages(request_id) if m["type"] == "run_cell" and m["cell_type"] == "code"]
    assert not (cwd / "yes.txt").exists()  # nothing runs before the answer
    sidebar.send({"type": "approve", "request_id": request_id, "call_id": first["event"]["call_id"], "approved": True})

    second = sidebar.wait_for(
        lambda m: m["type"] == "event" and m["event"]["kind"] == "approval_needed" and m is not first
    )
    assert (cwd / "yes.txt").read_text() == "approved"
    sidebar.send(
        {
            "type": "approve",
            "request_id": request_id,
            "call_id": second["event"]["call_id"],
            "approved": False,
        }
    )

    messages = sidebar.finish(request_id)
    results = events(messages, "tool_result")
    assert [r["ok"] for r in results] == [True, False] and results[1]["summary"] == "declined by the user"
    assert not (cwd / "no.txt").exists()
    assert [c["metadata"]["kenkyu"]["tool"] for c in sidebar.executed if c["cell_type"] == "code"] == [
        "toolbox_write_note"
    ]


def test_stop_ends_the_request_and_the_kernel_keeps_answering(kernel):
    client, cwd = kernel
    sidebar = FakeSidebar(client)
    turns = [
        {
            "text": "Writing a note.",
            "tool_calls": [{"name": "toolbox_write_note", "arguments": {"path": "stopped.txt", "text": "x"}}],
        },
        {"text": "Next question answered."},
    ]
    sidebar.open(settings=replay_settings(cwd, "stop.json", turns))
    request_id = sidebar.start_ask("write a note")
    sidebar.wait_for(lambda m: m["type"] == "event" and m["event"]["kind"] == "approval_needed")
    sidebar.send({"type": "stop", "request_id": request_id})
    messages = sidebar.finish(request_id, timeout=30)
    assert events(messages, "done")[0]["reason"] == "stopped"
    assert messages[-1]["record"]["done"]["reason"] == "stopped"
    assert not (cwd / "stopped.txt").exists()

    follow_up = sidebar.ask("and now?", timeout=30)
    assert "".join(e["text"] for e in events(follow_up, "token")) == "Next question answered."


def test_failed_and_cancelled_cells_reach_the_agent_as_errors(kernel):
    client, cwd = kernel
    cancelled_once = []

    def notebook(run_cell):  # the scientist deletes the first cell before it runs
        if not cancelled_once:
            cancelled_once.append(run_cell["cell_request_id"])
            return "cancel"
        return "run"

    sidebar = FakeSidebar(client, on_run_cell=notebook)
    turns = [
        {"text": "", "tool_calls": [{"name": "toolbox_square", "arguments": {"x": 5}}]},
        {"text": "", "tool_calls": [{"name": "toolbox_explode", "arguments": {"reason": "disk full"}}]},
        {"text": "Both steps failed."},
    ]
    sidebar.open(settings=replay_settings(cwd, "fail.json", turns, approval="auto"))
    messages = sidebar.ask("fail twice", timeout=60)
    cancelled, exploded = events(messages, "tool_result")
    assert not cancelled["ok"] and "did not run the cell" in cancelled["summary"]
    assert not exploded["ok"] and exploded["summary"].startswith("ERROR: RuntimeError: disk full")
    record = messages[-1]["record"]
    errors = [o for c in record["cells"] for o in c["outputs"] if o["output_type"] == "error"]
    assert [e["ename"] for e in errors] == ["CellNotRun", "RuntimeError"]
    assert events(messages, "done")[0]["reason"] == "finished"
    assert sidebar.evaluate("1 + 1") == "2"


def test_interrupting_the_kernel_during_a_cell_stops_the_request(kernel):
    client, cwd = kernel
    sidebar = FakeSidebar(client)
    turns = [
        {"text": "", "tool_calls": [{"name": "toolbox_interrupt", "arguments": {}}]},
        {"text": "This turn must not be played."},
    ]
    sidebar.open(settings=replay_settings(cwd, "interrupt.json", turns, approval="auto"))
    messages = sidebar.ask("run something long", timeout=30)
    result = events(messages, "tool_result")[0]
    # Reported as interrupted (not failed, not done); this tool cannot resume, so no resume code.
    assert not result["ok"] and result["status"] == "interrupted" and result["resume"] == ""
    assert result["summary"].startswith("interrupted — not resumable (interrupted by the user)")
    assert events(messages, "done")[0]["reason"] == "stopped" and not events(messages, "token")


def test_closing_the_comm_ends_a_waiting_request(kernel):
    client, cwd = kernel
    first = FakeSidebar(client)
    turns = [
        {
            "text": "",
            "tool_calls": [{"name": "toolbox_write_note", "arguments": {"path": "closed.txt", "text": "x"}}],
        },
        {"text": "Answered after the close."},
    ]
    settings = replay_settings(cwd, "close.json", turns)
    first.open(settings=settings)
    first.start_ask("write a note")
    first.wait_for(lambda m: m["type"] == "event" and m["event"]["kind"] == "approval_needed")
    first.close()  # the notebook was closed while the approval was pending

    # Without any other sidebar, the request ends: declined, stopped, and kept in the kernel's records.
    last = "[(r['prompt'], r.get('done', {}).get('reason')) for r in get_ipython()._kenkyu_session.records[-1:]]"
    deadline = time.monotonic() + 20
    while first.evaluate(last) != "[('write a note', 'stopped')]":
        assert time.monotonic() < deadline, "the request did not end after the comm closed"
        time.sleep(0.2)

    # The kernel's conversation is free again: the next sidebar's question is answered at once.
    second = FakeSidebar(client)
    second.open(settings=settings)
    answer = second.ask("and now?", timeout=30)
    assert "".join(e["text"] for e in events(answer, "token")) == "Answered after the close."
    assert not (cwd / "closed.txt").exists()


def test_settings_change_the_model_and_provider_failures_are_errors(kernel):
    client, cwd = kernel
    sidebar = FakeSidebar(client)
    ready = sidebar.open(settings={"provider": "replay", "replay_file": str(cwd / "missing.json")})
    assert ready["model"]["label"] == "replay · missing.json"

    messages = sidebar.ask("anything", timeout=30)
    error = events(messages, "error")[0]
    assert "missing.json does not exist" in error["message"] and error["fix"]
    assert events(messages, "done")[0]["reason"] == "error" and messages[-1]["type"] == "record"

    ready = sidebar.settings(
        {
            "provider": "openai",
            "model": "gpt-test",
            "base_url": "http://localhost:9/v1",
            "api_key_env": "LAB_SERVICE_API_KEY",
            "approval": "auto",
        }
    )
    assert ready["model"] == {
        "provider": "openai",
        "model": "gpt-test",
        "label": "openai · gpt-test at localhost:9",
        "loads_first": False,  # only the embedded model loads a router on its first request
    }
    assert ready["approval"] == "auto"

    start = len(sidebar.received)
    # A key pasted in the wrong field (the front end refuses it; the kernel must too, without echoing it).
    ready = sidebar.settings({"provider": "openai", "api_key_env": SECRET}, check=False)
    complaint = next(m["event"] for m in sidebar.received[start:] if m["type"] == "event")
    assert complaint["where"] == "settings" and "NAME of an environment variable" in complaint["message"]
    assert ready["model"]["model"] == "gpt-test" and SECRET not in json.dumps(sidebar.received)

    ready = sidebar.settings({"provider": "", "model": "", "base_url": "", "api_key_env": "", "approval": ""})
    assert ready["model"]["label"].startswith("local · SmolLM2") and ready["approval"] == "ask"
    # Nothing has loaded the router in this kernel yet: the sidebar's footer will say the first request loads it.
    assert ready["model"]["loads_first"] is True
    assert sidebar.evaluate("'kernel alive'") == "'kernel alive'"


def test_conversation_comes_back_on_a_second_hello_and_after_a_restart(tmp_path):
    turns = [
        {"text": "", "tool_calls": [{"name": "toolbox_square", "arguments": {"x": 4}}]},
        {"text": "4 squared is 16."},
    ]
    (tmp_path / "restore.json").write_text(json.dumps({"turns": turns}))
    settings = {"provider": "replay", "replay_file": str(tmp_path / "restore.json"), "approval": "auto"}
    expected = [{"role": "user", "text": "square 4"}, {"role": "assistant", "text": "4 squared is 16."}]
    with running_kernel(tmp_path, KERNEL_ENV) as client:
        first = FakeSidebar(client)
        assert first.open(settings=settings)["history"] == []
        record = first.ask("square 4")[-1]["record"]

        # The page is reloaded: a new comm whose notebook holds the record.
        reloaded = another_client(client)
        try:
            again = FakeSidebar(reloaded)
            assert again.open(settings=settings, records=[record])["history"] == expected
        finally:
            reloaded.stop_channels()

        # The kernel restarts: its memory is gone, the notebook's records bring the conversation back.
        client.kernel_manager.restart_kernel(now=True)
        client.wait_for_ready(timeout=60)
        restarted = FakeSidebar(client)
        assert restarted.open(settings=settings, records=[record])["history"] == expected
        assert restarted.evaluate("len(get_ipython()._kenkyu_session.history)") == "4"


def test_a_reload_keeps_the_kernels_newer_answers_when_the_notebook_saved_only_earlier_ones(tmp_path):
    # The notebook was saved after the first request, with the sidebar's note on its record; the second
    # answer is in the kernel only. The reloaded page must not roll the kernel back to the saved record.
    turns = [
        {"text": "", "tool_calls": [{"name": "toolbox_square", "arguments": {"x": 4}}]},
        {"text": "4 squared is 16."},
        {"text": "", "tool_calls": [{"name": "toolbox_square", "arguments": {"x": 5}}]},
        {"text": "5 squared is 25."},
    ]
    (tmp_path / "newer.json").write_text(json.dumps({"turns": turns}))
    settings = {"provider": "replay", "replay_file": str(tmp_path / "newer.json"), "approval": "auto"}
    with running_kernel(tmp_path, KERNEL_ENV) as client:
        first = FakeSidebar(client)
        first.open(settings=settings)
        saved = first.ask("square 4")[-1]["record"]
        first.ask("square 5")
        noted = {**saved, "sidebar": {"request_id": "r1", "tools": [{"call_id": "x", "status": "ok"}]}}
        reloaded = another_client(client)
        try:
            history = FakeSidebar(reloaded).open(settings=settings, records=[noted])["history"]
        finally:
            reloaded.stop_channels()
        assert [h["text"] for h in history] == ["square 4", "4 squared is 16.", "square 5", "5 squared is 25."]


def test_a_reload_during_a_slow_estimate_gets_the_conversation_at_once(tmp_path):
    # The old page's request is inside a cost estimate (kernel-side, seconds to minutes): the reloaded page
    # must not sit at "connecting…" until it ends. It gets the conversation now and is told what is finishing.
    turns = [
        {"text": "", "tool_calls": [{"name": "toolbox_square", "arguments": {"x": 3}}]},
        {"text": "9."},
        {"text": "", "tool_calls": [{"name": "slow_estimate_tool_calibrated", "arguments": {"x": 1}}]},
        {"text": "Done."},
    ]
    (tmp_path / "slow.json").write_text(json.dumps({"turns": turns}))
    settings = {"provider": "replay", "replay_file": str(tmp_path / "slow.json"), "approval": "ask"}
    env = {**KERNEL_ENV, "KENKYU_TOOL_MODULES": "toolbox,slow_estimate_tool"}
    with running_kernel(tmp_path, env) as client:
        old = FakeSidebar(client)
        old.open(settings={**settings, "approval": "auto"})
        old.ask("square 3")
        old.start_ask("calibrate 1")
        old.wait_for(lambda m: m["type"] == "event" and m["event"].get("name") == "slow_estimate_tool_calibrated")
        reloaded = another_client(client)
        try:
            fresh = FakeSidebar(reloaded)
            started = time.monotonic()
            ready = fresh.open(settings=settings, timeout=30)
            waited = time.monotonic() - started
            assert waited < 4, f"the reloaded page waited {waited:.1f} s for the earlier request"
            assert [h["text"] for h in ready["history"]][:3] == ["square 3", "9.", "calibrate 1"]
            notice = fresh.wait_for(lambda m: m["type"] == "event" and m["event"]["kind"] == "error", timeout=10)
            assert "earlier request is still finishing" in notice["event"]["message"]
            assert "'calibrate 1'" in notice["event"]["message"] and notice["event"]["fix"]
            # Once it has ended, the page's settings apply (approval back to "ask") and the chat goes on.
            again = fresh.wait_for(lambda m: m["type"] == "ready", timeout=60, since=fresh.received.index(ready) + 1)
            assert again["approval"] == "ask"
        finally:
            reloaded.stop_channels()


def test_a_reloaded_page_ends_the_request_a_dead_one_left_waiting(tmp_path):
    turns = [
        {"text": "", "tool_calls": [{"name": "toolbox_square", "arguments": {"x": 6}}]},
        {"text": "Stopped."},
    ]
    (tmp_path / "dead.json").write_text(json.dumps({"turns": turns}))
    settings = {"provider": "replay", "replay_file": str(tmp_path / "dead.json"), "approval": "auto"}
    with running_kernel(tmp_path, KERNEL_ENV) as client:
        dead = FakeSidebar(client, on_run_cell=lambda m: "ignore")  # the page died before running the cell
        dead.open(settings=settings)
        request_id = dead.start_ask("square 6")
        dead.wait_for(lambda m: m["type"] == "run_cell" and m["cell_type"] == "code")

        reloaded = another_client(client)
        try:
            fresh = FakeSidebar(reloaded)
            fresh.open(settings={})
            result = dead.wait_for(lambda m: m["type"] == "event" and m["event"]["kind"] == "tool_result")
            assert not result["event"]["ok"] and "newer sidebar" in result["event"]["summary"]
            dead.finish(request_id, timeout=30)
        finally:
            reloaded.stop_channels()


def test_answers_go_back_on_the_sidebars_subshell_after_another_subshell_is_gone(tmp_path):
    """JupyterLab sends a comm's messages over a kernel subshell of its comm target, and ipykernel
    routes them to the subshell that the comm's last outgoing message was sent under (its parent).
    Other comms use subshells of their own and delete them when done: on every page load ipywidgets
    opens its control comm, asks for the widget states and closes it. The kernel answers the sidebar
    from a worker thread; an answer sent under whatever message the kernel handled last (the widgets'
    one) routed the sidebar's next question to that deleted subshell, where it was dropped: after a
    reload the sidebar said "Working..." forever. Each answer must name the sidebar's own message."""
    turns = [
        {"text": "", "tool_calls": [{"name": "toolbox_write_note", "arguments": {"path": "late.txt", "text": "x"}}]},
        {"text": "Still listening."},
        {"text": "Still listening."},
    ]
    settings = replay_settings(tmp_path, "subshells.json", turns)  # approval: ask
    with running_kernel(tmp_path, KERNEL_ENV) as client:
        sidebar = FakeSidebar(client)
        sidebar.open(settings=settings)
        sidebar.subshell_id = sidebar.create_subshell()  # the sidebar's comm target's subshell
        # A short time budget ends the approval wait with no message from the sidebar: the rest of
        # the request is sent with nothing from the sidebar in between (as after a page reload).
        budget = "from kenkyu.assistant.session import get_session as _g; _g(get_ipython()).configure(max_seconds={})"
        assert sidebar.execute_quietly(budget.format(5))["content"]["status"] == "ok"
        ask_msg_id = sidebar.send({"type": "ask", "request_id": "first", "prompt": "write a note", "cells": []})
        sidebar.wait_for(lambda m: m["type"] == "event" and m["event"]["kind"] == "approval_needed")

        widgets = sidebar.create_subshell()  # another comm target's subshell, used and deleted
        sidebar.kernel_info_on(widgets)
        sidebar.delete_subshell(widgets)

        sidebar.finish("first", timeout=60)  # unanswered: the approval ends with the budget
        answered = [p for m, p in zip(sidebar.received, sidebar.parents) if m.get("request_id") == "first"]
        assert {p.get("msg_id") for p in answered} == {ask_msg_id}
        assert {p.get("subshell_id") for p in answered} == {sidebar.subshell_id}

        assert sidebar.execute_quietly(budget.format(1800))["content"]["status"] == "ok"
        messages = sidebar.ask("are you still there?", timeout=60)  # lost before: sent to the deleted subshell
        assert events(messages, "done")[-1]["reason"] == "finished"
        assert "Still listening." in "".join(e["text"] for e in events(messages, "token"))


def test_what_the_agent_reads_of_notebook_outputs():
    outputs = [
        {"output_type": "stream", "name": "stdout", "text": "step 1\rstep 2\rdone\n"},
        {
            "output_type": "display_data",
            "data": {"image/png": "iVBORw0KGgo=", "text/plain": "<Figure size 640x480>"},
            "metadata": {},
        },
        {
            "output_type": "display_data",
            "metadata": {},
            "data": {
                "application/vnd.jupyter.widget-view+json": {"model_id": "abc", "version_major": 2},
                "text/plain": "NGLWidget()",
            },
        },
        {"output_type": "execute_result", "data": {"text/plain": "42"}, "metadata": {}, "execution_count": 3},
    ]
    execution = NotebookExecution("answer", outputs=outputs)
    text = execution.summary()
    assert text.startswith("42") and "Printed:\ndone" in text and "step 1" not in text
    assert "[image/png] <Figure size 640x480>" in text and "NGLWidget()" in text and "iVBOR" not in text

    failed = NotebookExecution("boom()", outputs=outputs[:1], error=CellError("ValueError", "bad input"))
    assert failed.summary().startswith("ERROR: ValueError: bad input\nOutput before the error:")


def test_research_from_the_sidebar_shows_the_plan_asks_approval_and_writes_the_four_sections(kernel):
    client, cwd = kernel
    sidebar = FakeSidebar(client)
    turns = [
        {
            "text": "Hypothesis: 3 squared is 9, and the note keeps it.",
            "tool_calls": [
                {"name": "toolbox_square", "arguments": {"x": 3}},
                {"name": "toolbox_write_note", "arguments": {"path": "research_note.txt", "text": "9"}},
            ],
        },
        {"text": "The square is 9, as the hypothesis said."},
    ]
    sidebar.open(settings=replay_settings(cwd, "research.json", turns))
    request_id = sidebar.start_ask("Is 3 squared 9? Square 3, then write it to a note", kind="research")

    # The plan comes first, as text in the chat and as the Plan section in the notebook.
    approval = sidebar.wait_for(lambda m: m["type"] == "event" and m["event"]["kind"] == "approval_needed")
    so_far = sidebar.messages(request_id)
    plan_text = "".join(e["text"] for e in events(so_far, "token"))
    assert plan_text.startswith("## Plan") and "3 squared is 9" in plan_text
    assert [m["metadata"]["kenkyu"].get("section") for m in so_far if m["type"] == "run_cell"] == ["plan"]
    assert approval["event"]["name"] == "toolbox_write_note" and approval["event"]["writes_files"]
    assert not (cwd / "research_note.txt").exists()  # nothing runs before the answer
    sidebar.send(
        {"type": "approve", "request_id": request_id, "call_id": approval["event"]["call_id"], "approved": True}
    )

    messages = sidebar.finish(request_id, timeout=120)
    assert events(messages, "done")[-1]["reason"] == "finished" and messages[-1]["type"] == "record"
    assert (cwd / "research_note.txt").read_text() == "9"
    # The sections, in order, became notebook cells through run_cell; the steps ran in the notebook.
    cells = [m for m in messages if m["type"] == "run_cell"]
    sections = [m["metadata"]["kenkyu"].get("section") for m in cells if m["cell_type"] == "markdown"]
    sections = [s for s in sections if s]
    assert sections == ["plan", "do", "check", "act"]
    code = [m for m in messages if m["type"] == "run_cell" and m["cell_type"] == "code"]
    tools = [m["metadata"]["kenkyu"].get("tool") for m in code]
    assert tools == ["toolbox_square", "toolbox_write_note", None]
    assert [m["metadata"]["kenkyu"]["section"] for m in code] == ["do", "do", "check"]
    variable = code[0]["metadata"]["kenkyu"]["variable"]
    assert sidebar.evaluate(variable) == "9.0"  # the Do cell's result is a kernel variable
    record = messages[-1]["record"]
    assert record["kind"] == "research" and record["verdict"] and record["plan"]["steps"]
    assert [c["source"] for c in record["cells"] if c["cell_type"] == "code"] == [m["source"] for m in code]


def test_an_ask_cell_during_a_sidebar_request_is_busy_and_stop_still_stops_the_sidebars(kernel):
    client, cwd = kernel
    sidebar = FakeSidebar(client)
    turns = [
        {"text": "", "tool_calls": [{"name": "toolbox_write_note", "arguments": {"path": "busy.txt", "text": "x"}}]},
        {"text": "Not played: the sidebar's request was stopped."},
    ]
    sidebar.open(settings=replay_settings(cwd, "busy.json", turns))
    request_id = sidebar.start_ask("write a note")
    sidebar.wait_for(lambda m: m["type"] == "event" and m["event"]["kind"] == "approval_needed")

    # A %%ask cell runs meanwhile (in the notebook, on the kernel's shell thread): it is refused, clearly.
    sidebar.execute_quietly("%load_ext kenkyu")
    records = "len(get_ipython()._kenkyu_session.records)"
    before = sidebar.evaluate(records)
    attempt = (
        "' | '.join(f\"{e.kind}:{getattr(e, 'where', '')}:{getattr(e, 'message', '')}\" "
        "for e in get_ipython()._kenkyu_session.new_request('square 2').ask())"
    )
    answer = sidebar.evaluate(attempt)
    assert answer[1:].startswith("error:busy:") and answer[:-1].endswith(" | done::")  # [1:-1]: the quotes
    assert "the sidebar" in answer and "write a note" in answer
    assert sidebar.evaluate("get_ipython().run_cell_magic('ask', '', 'square 2')") == "None"
    assert sidebar.evaluate(records) == before  # neither was recorded

    # The sidebar's Stop still reaches the sidebar's own request.
    sidebar.send({"type": "stop", "request_id": request_id})
    messages = sidebar.finish(request_id, timeout=30)
    assert events(messages, "done")[-1]["reason"] == "stopped" and not (cwd / "busy.txt").exists()


def test_stop_ends_a_research_request_from_the_sidebar_at_its_approval(kernel):
    client, cwd = kernel
    sidebar = FakeSidebar(client)
    turns = [
        {
            "text": "Hypothesis: the note can be written.",
            "tool_calls": [{"name": "toolbox_write_note", "arguments": {"path": "stopped_research.txt", "text": "x"}}],
        },
        {"text": "Answered after the stop."},
    ]
    sidebar.open(settings=replay_settings(cwd, "research_stop.json", turns))
    request_id = sidebar.start_ask("Can a note be written? Write a note", kind="research")
    sidebar.wait_for(lambda m: m["type"] == "event" and m["event"]["kind"] == "approval_needed")
    sidebar.send({"type": "stop", "request_id": request_id})
    messages = sidebar.finish(request_id, timeout=60)
    assert events(messages, "done")[-1]["reason"] == "stopped"
    record = messages[-1]["record"]
    assert record["kind"] == "research" and record["done"]["reason"] == "stopped"
    assert not (cwd / "stopped_research.txt").exists()
    follow_up = sidebar.ask("and now?", timeout=30)  # the kernel's conversation is free again
    assert "".join(e["text"] for e in events(follow_up, "token")) == "Answered after the stop."
