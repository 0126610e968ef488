"""A question whether kenkyu has a method no tool offers is answered with what exists and what does not, with no call;
a method a tool offers, or a request naming its object, is left to the router. Wordings of our own."""

import pytest

from kenkyu.assistant import AGENT_TOOL_MODULES
from kenkyu.assistant.overview import lacking_answer, methods_lacking
from kenkyu.core.registry import ToolRegistry
from kenkyu.tools import TOOL_MODULES


@pytest.fixture(scope="module")
def registry():
    return ToolRegistry.from_modules([*TOOL_MODULES, *AGENT_TOOL_MODULES])


def test_methods_no_tool_offers_are_named(registry):
    tools = list(registry)
    assert methods_lacking("can you do replica exchange?", tools) == ["replica exchange"]
    assert methods_lacking("is kenkyu able to run free energy perturbation or steered MD?", tools) == [
        "free energy perturbation",
        "steered MD",
    ]
    answer = lacking_answer(["accelerated MD", "umbrella sampling"], registry)
    assert "No kenkyu tool does accelerated MD or umbrella sampling" in answer
    assert "RMSD" in answer and "called nothing" in answer  # what exists: the analyses among the families


def test_methods_a_tool_offers_and_requests_with_objects_are_left_to_the_router(registry):
    tools = list(registry)
    assert methods_lacking("can you do coarse-grained simulations?", tools) == []
    assert methods_lacking("can you do rmsd and dssp?", tools) == []
    assert methods_lacking("can you compute the rmsd of traj?", tools) == []
    assert methods_lacking("can you run md on villin.pdb?", tools) == []
    assert methods_lacking("could you run a 10 ps simulation of villin", tools) == []


def test_the_agent_answers_a_method_question_without_a_call(registry):
    from kenkyu.assistant import events as ev
    from kenkyu.assistant.agent import Agent
    from kenkyu.assistant.runner import InPlaceRunner
    from kenkyu.core.config import ProviderConfig
    from kenkyu.core.providers.local_llama import LocalLlamaProvider

    # The embedded provider is never asked: the answer comes before any routing.
    agent = Agent(LocalLlamaProvider(ProviderConfig(provider="local")), registry, InPlaceRunner(namespace={}))
    events = list(agent.run("does kenkyu support accelerated md or replica exchange, and if not what can it do?"))
    assert not any(isinstance(e, ev.ToolCallStarted) for e in events)
    text = "".join(e.text for e in events if isinstance(e, ev.Token))
    assert events[-1].reason == "finished"
    assert "accelerated md or replica exchange" in text and "RMSD" in text
