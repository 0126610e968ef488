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
        (
            "md_minimize",
            {"structure": "villin.pdb"},
            "`md_minimize` (~",
            "the potential energy goes down and ends finite",
        ),
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


def test_two_runs_of_one_plan_get_two_folders_and_a_later_step_reads_the_later_run(registry, tmp_path, monkeypatch):
    """Both runs had been planned into md_runs/villin_implicit (nothing on disk yet); at run time the second moves
    beside the first, and the RMSD after it would have read the first run."""
    monkeypatch.chdir(tmp_path)
    plan = make_plan(
        "simulate villin for 1 ps, then for 2 ps, then the RMSD of the longer one",
        registry,
        ScriptedModel(
            [
                ("md_run", {"structure": "villin.pdb", "ps": 1, "solvent": "implicit"}),
                ("md_run", {"structure": "villin.pdb", "ps": 2, "solvent": "implicit"}),
                ("analysis_rmsd", {"trajectory": "md_runs/villin_implicit"}),
            ]
        ),
        measure_costs=False,
    )
    first, second, rmsd = plan.steps
    assert "out" not in first.arguments
    assert second.arguments["out"] == "md_runs/villin_implicit_2" and "out='md_runs/villin_implicit_2'" in second.code
    assert rmsd.arguments["trajectory"] == "md_runs/villin_implicit_2" and rmsd.depends_on == [1]
