"""Tools declare their science beside themselves, and the research loop reads only that.

An example tool (tests/example_tool.py: one module with its output, cost and check) is priced in the
plan and checked in the Check section with no edit to kenkyu; md.run's declarations (the folder it
writes, its measured cost model, its after-run hook, its checks) are the ones the planner used to
hard-code; the other tools keep their typical costs.
"""

from __future__ import annotations

import json
import math

import pytest
from kenkyu.assistant import checks
from kenkyu.assistant.research import make_plan, run_research
from kenkyu.assistant.session import AssistantSession
from kenkyu.core.config import ProviderConfig, Settings
from kenkyu.core.registry import ToolRegistry, name_of, tool
from kenkyu.core.science import (
    Cost,
    ResultCheck,
    checked_by,
    costs,
    declare,
    folder_written_by,
    format_seconds,
    result_check,
    science_of,
    tool_of_step,
)

import example_tool
from scripted_model import ScriptedModel


# -- (a) adding a tool with its cost and check is one module --------------------------------------------


def test_an_example_tool_module_is_priced_and_checked_by_what_it_declares():
    registry = ToolRegistry.from_modules(["example_tool"])
    name = name_of(example_tool.composition)
    assert name == "example_tool_composition" and registry[name].science.produces == "table"

    plan = make_plan(
        "What is villin made of?",
        registry,
        ScriptedModel([(name, {"sequence": "LSDEDFKAVFGMTRSAFANLPLWKQQNLKKEKGLF"})]),
    )
    text = plan.to_markdown()
    assert "~3 s<br><sub>counting letters, not measured</sub>" in text
    assert f"- step 1 `{name}`: the sequence uses only the 20 standard amino acids" in text

    good = checks.check_results({name: example_tool.composition("MKTAYIAK")})
    assert [(c.step, c.status) for c in good.checks] == [(name, "pass")]
    bad = checks.check_results({f"{name}_2": example_tool.composition("MKXB")})
    assert bad.checks[0].status == "fail" and "BX" in bad.checks[0].detail
    failed = checks.check_results({}, failed={name: "ValueError: empty"})
    assert failed.checks[0].expectation == "the sequence uses only the 20 standard amino acids"


def test_the_research_loop_runs_the_example_tools_check_in_its_check_cell(write_replay):
    name = name_of(example_tool.composition)
    replay = write_replay(
        [
            {
                "text": "Hypothesis: villin is made of standard residues.",
                "tool_calls": [{"name": name, "arguments": {"sequence": "MKTAYIAKQR"}}],
            },
            {"text": "All ten residues are standard."},
        ]
    )
    settings = Settings(provider=ProviderConfig("replay", replay_file=str(replay)), approval="auto")
    session = AssistantSession(settings=settings, namespace={}, tool_modules=["example_tool"])
    list(run_research(session, "Is the sequence standard?"))
    record = session.records[-1]
    assert record["check"] == [
        {
            "step": name,
            "status": "pass",
            "detail": "10 residues, all standard",
            "expectation": "the sequence uses only the 20 standard amino acids",
        }
    ]
    check_cell = next(
        c for c in record["cells"] if c["metadata"]["kenkyu"].get("section") == "check" and c["cell_type"] == "code"
    )
    assert f"{name!r}: composition" in check_cell["source"] and "protocol=" not in check_cell["source"]
    act = record["cells"][-1]["source"]
    assert f"- `{name}`: 10 residues; most common" in act


# -- (d) the declarations of kenkyu's own tools ---------------------------------------------------------


def test_md_run_declares_the_folder_it_will_write_through_its_public_rule():
    from kenkyu.tools import md

    science = science_of(md.run)
    assert science.produces == "run_folder"
    assert md.run_directory("data/villin_1vii.pdb", "implicit") == "md_runs/villin_1vii_implicit"
    assert md.run_directory("1vii.pdb", "vacuum", "1ps_4fs") == "md_runs/1vii_vacuum_1ps_4fs"
    assert science.output_folder({"structure": "data/villin_1vii.pdb"}) == "md_runs/villin_1vii_explicit"
    assert science.output_folder({"structure": "x.pdb", "solvent": "implicit"}) == "md_runs/x_implicit"
    assert science.output_folder({"structure": "x.pdb", "out": "runs/a"}) == "runs/a"
    assert science.output_folder({"ps": 2}) is None
    registry = ToolRegistry.from_modules(["kenkyu.tools.md", "kenkyu.tools.analysis"])
    assert folder_written_by(registry[name_of(md.run)], {"structure": "y.pdb"}) == "md_runs/y_explicit"
    assert folder_written_by(registry["analysis_rmsd"], {"trajectory": "md_runs/y"}) is None
    assert folder_written_by(None, {}) is None


def test_each_tool_declares_the_cost_the_planner_used_to_look_up_by_name():
    from kenkyu.tools import analysis, ensembles, literature, md, structure, viz
    from kenkyu.tools.md.cost import estimate_run

    assert science_of(md.run).estimate.__wrapped__ is estimate_run  # with the folder it writes as its first step
    expected = {
        analysis.rmsd: 2.0,
        analysis.sasa: 2.0,
        literature.ask: 15.0,
        literature.ingest: 15.0,
        viz.show_structure: 1.0,
        structure.fold: 60.0,
        structure.embed: 5.0,
    }
    for function, seconds in expected.items():
        assert science_of(function).cost({}).seconds == seconds, function.__qualname__
    assert science_of(structure.fold).cost({}).basis == "typical for a small protein on CPU, not measured"
    assert science_of(analysis.rmsd).cost({}).basis == "typical for this tool, not measured"
    # An ensemble costs its members' md.run estimates, one at a time when they share the cores, plus Dask.
    assert science_of(ensembles.run).estimate is ensembles.estimate_run
    two = science_of(ensembles.run).cost({"replicas": 2}, measure=False)
    assert two.basis.startswith("2 members, 1 at a time") and "2 x one member (" in two.basis
    assert two.basis.endswith("+ ~10 s for Dask") and two.steps[0] == "2 x md.run, each:"


def test_md_cost_comes_from_the_speed_cache_and_the_after_run_hook_refines_it(tmp_path, monkeypatch):
    pytest.importorskip("openmm")
    from kenkyu.tools import md
    from kenkyu.tools.md import cost

    monkeypatch.setenv("KENKYU_CACHE", str(tmp_path))
    science = science_of(md.run)
    arguments = {"structure": "nowhere.pdb", "ps": 10.0, "solvent": "implicit"}
    assert math.isnan(science.cost(arguments, measure=False).seconds)
    assert science.after_run is cost.learn_from_run

    class FinishedRun:
        info = {
            "status": "finished",
            "parameters": {"solvent": "implicit", "reproducible": False, "platform": None},
            "performance": {"production_steps_timed": 5000, "production_wall_s": 10.0},
            "system": {"n_atoms": 582},
            "minimization": {"wall_s": 2.0},
            "structure": "nowhere.pdb",
            "platform": {"name": "CPU"},
            "updated": "now",
        }

    science.after_run(FinishedRun())
    cached = json.loads((tmp_path / "md_speed.json").read_text())
    (entry,) = cached.values()
    assert entry["steps_per_s"] == 500.0 and entry["source"] == "measured by the last run on this machine"
    estimate = science.cost(arguments, measure=False)
    # 10 ps production + 5 ps NVT (the default: half the production) at 2 fs = 7,500 steps at 500 steps/s,
    # plus 3 s of set-up.
    assert estimate.seconds == pytest.approx(18.0) and "7,500 steps" in estimate.basis
    assert format_seconds(estimate.seconds) == "18 s" and str(estimate).startswith("~18 s (")
    odd = type("OddRun", (), {"info": {"status": "finished"}})()
    science.after_run(odd)  # an odd run.json is ignored, never raised
    assert json.loads((tmp_path / "md_speed.json").read_text()) == cached


def test_checks_are_declared_by_the_tools_and_thresholds_still_read_from_checks():
    from kenkyu.tools import analysis, literature, md

    assert science_of(md.run).expectations[0] == "the run finishes all its production frames (no blow-up)"
    assert science_of(analysis.rmsd).expectations == [
        "the RMSD plateaus: its mean over the last third differs by < 10% from the third before"
    ]
    assert science_of(analysis.radius_of_gyration).checks == ()  # the stability protocol adds its check
    assert science_of(literature.ask).expectations == ["the literature returns cited evidence for the question"]
    assert checks.RMSD_FOLDED_NM == 0.3 and checks.RG_PASS == 0.05 and checks.PLATEAU_RISE == 0.10
    assert checks.ENERGY_DRIFT == 0.05
    assert checks.expectations_for("analysis_rmsd_2") == [
        "the RMSD plateaus: its mean over the last third differs by < 10% from the third before",
        "the backbone RMSD stays below 0.3 nm (the fold is kept)",
    ]


def test_literature_declares_how_a_small_model_s_arguments_are_adjusted():
    from kenkyu.tools import literature

    ask = science_of(literature.ask).for_router({"question": "ask the literature how villin folds"})
    assert ask == {"question": "How villin folds?", "llm": False}
    search = science_of(literature.search).for_router({"query": "search my papers for villin folding"})
    assert search == {"query": "Villin folding?"}
    assert science_of(literature.ingest).for_router({"paths": "papers/"}) == {"paths": "papers/"}
    assert science_of(literature.ask).produces == "answer" and science_of(literature.ask).quote is not None


def test_a_notebook_tool_with_no_declarations_gets_sensible_defaults():
    namespace = {"__name__": "__main__"}  # as in a notebook
    source = "import kenkyu\n@kenkyu.tool\ndef double(x: int) -> int:\n    '''Double a number.'''\n    return 2 * x\n"
    exec(source, namespace)
    science = science_of(namespace["double"])
    assert (science.produces, science.output_folder({"x": 1}), science.checks) == ("value", None, ())
    assert science.cost({"x": 1}) == Cost(5.0, "typical, not measured")
    assert tool_of_step("double") == "double" and tool_of_step("double_2") == "double"
    registry = ToolRegistry().with_functions([namespace["double"]])
    assert registry["double"].science.produces == "value"


def test_declarations_stack_in_any_order_and_refuse_what_is_not_a_declaration():
    @result_check("it is positive")
    def positive(value):
        yield "it is positive", "pass" if value > 0 else "fail", str(value)

    @checked_by(positive)
    @tool(produces="figure")
    @costs(1.5)
    def plot(x: float) -> float:
        """Plot x."""
        return x

    science = science_of(plot)
    assert (science.produces, science.cost({}).seconds, science.check(2.0)) == (
        "figure",
        1.5,
        [("it is positive", "pass", "2.0")],
    )
    assert isinstance(positive, ResultCheck) and positive.__name__ == "positive"
    with pytest.raises(TypeError, match="result check"):
        checked_by(lambda value: [])
    with pytest.raises(TypeError, match="unknown declaration"):
        declare(plot, colour="red")
    with pytest.raises(ValueError, match="produces must be one of"):
        tool(produces="spreadsheet")(lambda: None)
