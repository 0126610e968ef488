"""The issue-13 tools are priced, approved and checked in a research plan from their own declarations."""

from __future__ import annotations

import pytest
from kenkyu.assistant import AGENT_TOOL_MODULES
from kenkyu.assistant.research import make_plan
from kenkyu.core.registry import ToolRegistry
from kenkyu.tools import TOOL_MODULES

from scripted_model import ScriptedModel


@pytest.fixture(scope="module")
def registry():
    return ToolRegistry.from_modules(["kenkyu.tools.md", "kenkyu.tools.analysis", *AGENT_TOOL_MODULES])


@pytest.mark.parametrize(
    "name, arguments, cost, expectation",
    [
        ("md_minimize", {"structure": "villin.pdb"}, "~15 s", "the potential energy goes down and ends finite"),
        (
            "md_coarse_grained",
            {"structure": "villin.pdb", "ps": 100, "temperature_k": 350},
            "~20 s",
            "the mean kinetic temperature is within 15% of the target",
        ),
        (
            "notebook_tools_explain_error",
            {"error": "KeyError: 'rmsd'"},
            "~0 s",
            "the explanation quotes the error, the failing line and a likely fix",
        ),
    ],
)
def test_each_new_tool_is_priced_and_its_check_quoted(registry, name, arguments, cost, expectation):
    plan = make_plan("do it", registry, ScriptedModel([(name, arguments)]), measure_costs=False)
    (step,) = plan.steps
    assert step.tool == name and step.problem is None
    text = plan.to_markdown()
    assert cost in text and expectation in text
    assert step.needs_approval == (registry[name].approval == "ask")


def test_an_extension_depends_on_the_run_it_extends(registry):
    plan = make_plan(
        "simulate villin, then extend it by 10 ps",
        registry,
        ScriptedModel(
            [
                ("md_run", {"structure": "villin.pdb", "out": "md_runs/villin", "solvent": "implicit"}),
                ("md_extend", {"run": "md_runs/villin", "ps": 10}),
            ]
        ),
        measure_costs=False,
    )
    assert plan.steps[1].depends_on == [0] and plan.steps[1].needs_approval


def test_the_tool_modules_still_load_together():
    names = ToolRegistry.from_modules([*TOOL_MODULES, *AGENT_TOOL_MODULES]).names()
    for name in ("md_minimize", "md_extend", "md_coarse_grained", "md_compare_backends"):
        assert name in names
    assert {"notebook_tools_explain_error", "notebook_tools_export_report", "notebook_tools_overview"} <= set(names)
