"""Each provider adapter against a local server speaking its wire format: streaming, tool calls,
a malformed reply and a timeout. The SDKs and the HTTP are real; only the model is scripted."""

import json

import pytest
from fake_llm_servers import ScriptedServer, anthropic_turn, openai_text, openai_tool_call

from kenkyu.assistant import events as ev
from kenkyu.assistant.agent import Agent
from kenkyu.core.config import ProviderConfig
from kenkyu.core.messages import Message
from kenkyu.core.providers import (
    MalformedReply,
    ProviderTimeout,
    ProviderUnavailable,
    TextDelta,
    ToolCallDone,
    Usage,
    make_provider,
)
from kenkyu.core.registry import ToolRegistry
from kenkyu.assistant.runner import InPlaceRunner

TOOLS = ToolRegistry.from_modules(["toolbox"])


def config(kind, server, **extra):
    base = "/v1" if kind == "openai" else ""
    return ProviderConfig(
        provider=kind,
        model=f"fake-{kind}",
        base_url=server.url + base,
        max_retries=0,
        timeout_s=extra.pop("timeout_s", 10),
        **extra,
    )


def chunks(provider):
    return list(provider.stream([Message("system", "sys"), Message("user", "square 3")], list(TOOLS)))


# -- OpenAI and compatible servers ------------------------------------------------------------------
def test_openai_streams_text_and_assembles_fragmented_tool_calls(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-0123456789abcdefghij")
    with ScriptedServer([openai_tool_call("Let me compute.", "toolbox_square", '{"x": 3.5}')]) as server:
        out = chunks(make_provider(config("openai", server)))
    text = "".join(c.text for c in out if isinstance(c, TextDelta))
    calls = [c.call for c in out if isinstance(c, ToolCallDone)]
    assert text == "Let me compute."
    assert [(c.id, c.name, c.arguments) for c in calls] == [("call_1", "toolbox_square", {"x": 3.5})]
    assert Usage(50, 12) in out
    request = server.requests[0]
    assert request["stream"] is True and request["model"] == "fake-openai"
    functions = {t["function"]["name"]: t["function"] for t in request["tools"]}
    assert functions["toolbox_square"]["parameters"]["properties"]["x"]["type"] == "number"
    headers = {k.lower(): v for k, v in server.headers[0].items()}
    assert headers["authorization"] == "Bearer sk-test-0123456789abcdefghij"


def test_openai_compatible_server_needs_no_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with ScriptedServer([openai_text("hello from a local server")]) as server:
        out = chunks(make_provider(config("openai", server)))
    assert "".join(c.text for c in out if isinstance(c, TextDelta)).strip() == "hello from a local server"


def test_openai_without_key_or_server_says_how_to_fix(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ProviderUnavailable) as info:
        make_provider(ProviderConfig(provider="openai"))
    assert "OPENAI_API_KEY" in str(info.value) and "base-url" in info.value.fix


def test_openai_full_loop_sends_tool_results_back_in_wire_format(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    script = [openai_tool_call("", "toolbox_square", '{"x": 3}'), openai_text("The square is 9.")]
    with ScriptedServer(script) as server:
        agent = Agent(make_provider(config("openai", server)), TOOLS, InPlaceRunner(namespace={}))
        events = list(agent.run("square 3"))
    assert events[-1].reason == "finished"
    second = server.requests[1]["messages"]
    assert second[-2]["tool_calls"][0]["function"] == {"name": "toolbox_square", "arguments": '{"x": 3}'}
    assert second[-1] == {"role": "tool", "tool_call_id": "call_1", "content": second[-1]["content"]}
    assert second[-1]["content"].startswith("9.0")


def test_openai_malformed_stream_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with ScriptedServer([("sse", ["data: {this is not json\n\n"])]) as server:
        with pytest.raises(MalformedReply, match="could not read"):
            chunks(make_provider(config("openai", server)))


def test_openai_timeout_is_a_clear_error_and_the_loop_survives(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with ScriptedServer([("sleep", 3.0)]) as server:
        provider = make_provider(config("openai", server, timeout_s=0.5))
        with pytest.raises(ProviderTimeout, match="within 0.5 s"):
            chunks(provider)
    with ScriptedServer([("sleep", 3.0)]) as server:
        agent = Agent(make_provider(config("openai", server, timeout_s=0.5)), TOOLS, InPlaceRunner(namespace={}))
        events = list(agent.run("square 3"))
    assert isinstance(events[-2], ev.Error) and "did not answer" in events[-2].message
    assert events[-1].reason == "error"


# -- Anthropic ------------------------------------------------------------------------------------
def test_anthropic_streams_text_and_tool_use(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-0123456789abcdef")
    with ScriptedServer([anthropic_turn("I will square it.", ("toolbox_square", '{"x": 3}'))]) as server:
        out = chunks(make_provider(config("anthropic", server)))
    assert "".join(c.text for c in out if isinstance(c, TextDelta)).strip() == "I will square it."
    calls = [c.call for c in out if isinstance(c, ToolCallDone)]
    assert [(c.id, c.name, c.arguments) for c in calls] == [("toolu_1", "toolbox_square", {"x": 3})]
    request = server.requests[0]
    assert request["system"] == "sys" and request["messages"] == [{"role": "user", "content": "square 3"}]
    schemas = {t["name"]: t["input_schema"] for t in request["tools"]}
    assert schemas["toolbox_square"]["required"] == ["x"]
    headers = {k.lower(): v for k, v in server.headers[0].items()}
    # The SDK chooses the header (x-api-key, or a bearer token in recent versions); the key must arrive.
    assert "sk-ant-test-0123456789abcdef" in (
        headers.get("x-api-key", ""),
        headers.get("authorization", "").removeprefix("Bearer "),
    )


def test_anthropic_full_loop_puts_tool_results_in_a_user_turn(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-0123456789abcdef")
    script = [anthropic_turn("Squaring.", ("toolbox_square", '{"x": 3}')), anthropic_turn("It is 9.")]
    with ScriptedServer(script) as server:
        agent = Agent(make_provider(config("anthropic", server)), TOOLS, InPlaceRunner(namespace={}))
        events = list(agent.run("square 3"))
    assert events[-1].reason == "finished"
    messages = server.requests[1]["messages"]
    assert messages[1]["content"][1] == {
        "type": "tool_use",
        "id": "toolu_1",
        "name": "toolbox_square",
        "input": {"x": 3},
    }
    assert messages[2]["role"] == "user" and messages[2]["content"][0]["type"] == "tool_result"
    assert messages[2]["content"][0]["tool_use_id"] == "toolu_1"


def test_anthropic_malformed_and_timeout(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-0123456789abcdef")
    broken = ("sse", ["event: content_block_delta\ndata: {oops\n\n"])
    with ScriptedServer([broken]) as server:
        with pytest.raises(MalformedReply):
            chunks(make_provider(config("anthropic", server)))
    with ScriptedServer([("sleep", 3.0)]) as server:
        with pytest.raises(ProviderTimeout):
            chunks(make_provider(config("anthropic", server, timeout_s=0.5)))


def test_anthropic_stream_cut_inside_a_tool_call(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-0123456789abcdef")
    kind, events = anthropic_turn("x", ("toolbox_square", '{"x": 3}'))
    cut = [e for e in events if '"index": 1' not in e or "content_block_start" in e]
    with ScriptedServer([(kind, cut)]) as server:
        with pytest.raises(MalformedReply, match="inside a tool call"):
            chunks(make_provider(config("anthropic", server)))


def test_replay_file_errors_are_clear(tmp_path):
    with pytest.raises(Exception, match="does not exist"):
        make_provider(ProviderConfig(provider="replay", replay_file=str(tmp_path / "none.json")))
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(Exception, match="not valid JSON"):
        make_provider(ProviderConfig(provider="replay", replay_file=str(bad)))


def test_recording_provider_writes_a_replayable_file(tmp_path, monkeypatch):
    from kenkyu.core.providers.replay import RecordingProvider, load_turns

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    script = [openai_tool_call("Computing.", "toolbox_square", '{"x": 2}'), openai_text("Four.")]
    path = tmp_path / "recorded.json"
    with ScriptedServer(script) as server:
        provider = RecordingProvider(make_provider(config("openai", server)), path)
        list(Agent(provider, TOOLS, InPlaceRunner(namespace={})).run("square 2"))
    turns = load_turns(path)
    assert turns[0] == {"text": "Computing.", "tool_calls": [{"name": "toolbox_square", "arguments": {"x": 2}}]}
    assert turns[1]["text"].strip() == "Four."
    replayed = make_provider(ProviderConfig(provider="replay", replay_file=str(path)))
    events = list(Agent(replayed, TOOLS, InPlaceRunner(namespace={})).run("square 2"))
    assert [e.summary for e in events if isinstance(e, ev.ToolResult)][0].startswith("4.0")
    assert json.loads(path.read_text())  # a complete file, never half-written
