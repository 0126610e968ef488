"""unfolding.ladder / unfolding.melting_curve: a real Gō-model temperature ladder of villin on Dask, its melting
curve per DSSP segment, and the thermal-unfolding protocol's plan, checks and verdicts on it."""

from __future__ import annotations

import json

import numpy as np
import pytest
from kenkyu.assistant import checks, protocols
from kenkyu.assistant.protocols.thermal_unfolding import THERMAL_UNFOLDING, asks_order
from kenkyu.assistant.research import judge, make_plan, propose_next_plan
from kenkyu.core.registry import ToolRegistry
from kenkyu.core.science import science_of
from kenkyu.tools import md, unfolding

from scripted_model import ScriptedModel

VILLIN = str(md.example_structure("villin"))
# Short, but across the transition (Q ~0.9 at 300 K, ~0.3 at 600 K): two replicas at four temperatures.
SHORT = dict(t_min=300, t_max=600, n_temperatures=4, replicas=2, ps=60, seed=11, n_workers=2, progress=False)


@pytest.fixture(scope="module")
def melted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("melt") / "villin_ladder"
    ladder = unfolding.ladder(VILLIN, out=folder, **SHORT)
    return ladder, unfolding.melting_curve(ladder.directory, n_bootstrap=100)


@pytest.mark.slow  # real ladders on a Dask LocalCluster: minutes on the loaded 2-core machine
def test_heating_villin_gives_a_midpoint_inside_the_ladder_with_a_ci_and_per_segment_curves(melted):
    ladder, melt = melted
    assert len(ladder.finished) == 8 and not ladder.errors
    assert [c[1] for c in science_of(unfolding.ladder).check(ladder)] == ["pass", "pass"]
    protein = melt.table[melt.table.segment == "protein"].sort_values("temperature_k")
    assert list(protein.temperature_k) == [300.0, 400.0, 500.0, 600.0]
    assert protein.q.iloc[0] > 0.8 and protein.q.iloc[-1] < 0.45  # folded when cold, unfolded when hot
    assert (protein.q_lo <= protein.q).all() and (protein.q <= protein.q_hi).all()
    lo, hi = melt.tm_ci_k
    assert 300 < lo < melt.tm_k < hi < 600
    # The segments are villin's by DSSP: its three helices, the loops between them and the two ends.
    names = list(melt.segments.name)
    assert names == ["N-terminus", "helix 1", "loop 1", "helix 2", "loop 2", "helix 3", "C-terminus"]
    assert melt.segments.set_index("name").loc["helix 3", "residues"] == "63–72"
    assert set(melt.table.segment) == {"protein", *names}
    assert melt.order and set(melt.order) <= set(names)
    assert [s for _, s, _ in science_of(unfolding.melting_curve).check(melt)] == ["pass", "pass", "pass"]
    summary = melt.summary()
    assert "rests on 8 runs at 4 temperatures" in summary and "block-bootstrap" in summary
    assert "not laboratory melting points" in summary
    saved = json.loads((ladder.directory / "melting.json").read_text())
    assert saved["protein"]["tm_k"] == melt.tm_k and (ladder.directory / "melting.png").stat().st_size > 1000
    assert len(melt.figure.axes[0].lines) >= 8  # one fitted or joined curve per segment and the protein


@pytest.mark.slow  # real ladders on a Dask LocalCluster: minutes on the loaded 2-core machine
def test_the_same_bootstrap_seed_gives_the_same_numbers(melted):
    ladder, melt = melted
    again = unfolding.melting_curve(ladder.directory, n_bootstrap=100)
    assert again.tm_ci_k == melt.tm_ci_k and again.data["order"] == melt.data["order"]


@pytest.mark.slow  # real ladders on a Dask LocalCluster: minutes on the loaded 2-core machine
def test_calling_again_reuses_the_finished_temperatures(tmp_path):
    small = dict(SHORT, n_temperatures=4, replicas=1, ps=20, report_interval_ps=1.0)
    ladder = unfolding.ladder(VILLIN, out=tmp_path / "l", **small)
    runs = {run.directory.name: run.info["finished"] for run in ladder.finished}
    assert sorted(runs) == ["T300K_r0", "T400K_r0", "T500K_r0", "T600K_r0"]
    # An interrupted ladder: one temperature never finished.
    import shutil

    shutil.rmtree(tmp_path / "l" / "T400K_r0")
    again = unfolding.ladder(VILLIN, out=tmp_path / "l", **small)
    rerun = {run.directory.name: run.info["finished"] for run in again.finished}
    assert rerun["T300K_r0"] == runs["T300K_r0"] and rerun["T600K_r0"] == runs["T600K_r0"]
    assert rerun["T400K_r0"] != runs["T400K_r0"]
    seeds = {m["name"]: m["seed"] for m in json.loads((tmp_path / "l" / "ladder.json").read_text())["members"]}
    assert json.loads((tmp_path / "l" / "T400K_r0" / "cg.json").read_text())["parameters"]["seed"] == seeds["T400K_r0"]
    with pytest.raises(md.RunExistsError, match="other settings"):
        unfolding.ladder(VILLIN, out=tmp_path / "l", **dict(small, t_max=700))


@pytest.mark.slow  # real ladders on a Dask LocalCluster: minutes on the loaded 2-core machine
def test_a_ladder_that_never_unfolds_is_inconclusive_and_the_next_plan_heats_further(tmp_path):
    cold = dict(SHORT, t_min=150, t_max=270, n_temperatures=4, replicas=1, ps=40)
    ladder = unfolding.ladder(VILLIN, out=tmp_path / "cold", **cold)
    melt = unfolding.melting_curve(ladder.directory, n_bootstrap=60)
    assert melt.tm_k is None and "never crosses 0.5" in melt.data["protein"]["why"]
    verdicts = {e: (s, d) for e, s, d in science_of(unfolding.melting_curve).check(melt)}
    crossing = next(v for e, v in verdicts.items() if "crosses 0.5" in e)
    assert crossing[0] == "fail" and "never unfolds in the ladder" in crossing[1]

    registry = ToolRegistry.from_modules(["kenkyu.tools.unfolding"])
    question = "What is the melting temperature of villin? Use 4 temperatures from 150 to 270 K."
    plan = make_plan(question, registry, ScriptedModel([]), measure_costs=False)
    report = checks.check_results(
        {"unfolding_ladder": ladder, "unfolding_melting_curve": melt}, protocol="thermal-unfolding"
    )
    verdict, why = judge(plan, report, {}, {})
    assert verdict == "inconclusive" and any("never unfolds" in w for w in why)
    following = propose_next_plan(plan, report, {}, registry)
    heated = following.steps[0].arguments
    assert heated["t_min"] > 150 and heated["t_max"] > 270 and "heat further" in following.steps[0].text
    assert following.steps[1].arguments == {"ladder": heated["out"]} and heated["out"] != plan.steps[0].arguments["out"]


def test_the_protocol_claims_heating_questions_and_plans_the_ladder_and_its_analysis():
    for question in (
        "Which part of villin unfolds first when heated?",
        "What is the melting temperature of villin?",
        "At what temperature does villin's Tm lie?",
    ):
        assert protocols.claiming_protocol(question) is THERMAL_UNFOLDING, question
    for question in ("Does villin stay folded?", "What is the RMSD of the run?"):
        assert not THERMAL_UNFOLDING.claims(question), question
    assert asks_order("Which part of villin unfolds first when heated?")
    assert not asks_order("What is the melting temperature of villin?")

    registry = ToolRegistry.from_modules(["kenkyu.tools.unfolding"])
    request = "Which part of villin unfolds first when heated? 3 replicas of 100 ps."
    plan = make_plan(request, registry, ScriptedModel([]), measure_costs=False)
    assert plan.protocol == "thermal-unfolding" and plan.hypothesis_source == "template"
    ladder, analysis = plan.steps
    assert (ladder.tool, analysis.tool) == ("unfolding_ladder", "unfolding_melting_curve")
    assert ladder.arguments["structure"] == VILLIN and ladder.arguments["replicas"] == 3
    assert ladder.arguments["ps"] == 100 and analysis.arguments == {"ladder": ladder.arguments["out"]}
    assert analysis.depends_on == [0] and ladder.needs_approval and ladder.cost_s > 0
    # The template is filled from the question and the structure: it names villin's two ends.
    assert "N-terminus (residues 41–43)" in plan.hypothesis and "C-terminus (residues 73–76)" in plan.hypothesis
    assert "not a laboratory melting point" in plan.hypothesis
    assert any("crosses 0.5" in e for e in analysis.expectations)
    assert any("one segment unfolds first" in e for e in analysis.expectations)

    missing = make_plan("Which part of my protein unfolds first when heated?", registry, ScriptedModel([]))
    assert [s.tool for s in missing.steps] == [None] and "needs the protein's structure" in missing.steps[0].problem


@pytest.mark.slow  # real ladders on a Dask LocalCluster: minutes on the loaded 2-core machine
def test_the_order_verdict_follows_the_resolved_first_segment(melted):
    ladder, melt = melted
    registry = ToolRegistry.from_modules(["kenkyu.tools.unfolding"])
    plan = make_plan(
        "Which part of villin unfolds first when heated?", registry, ScriptedModel([]), measure_costs=False
    )
    report = checks.check_results(
        {"unfolding_ladder": ladder, "unfolding_melting_curve": melt}, protocol="thermal-unfolding"
    )
    order = next(c for c in report.checks if c.expectation.startswith("one segment unfolds first"))
    verdict, why = judge(plan, report, {}, {})
    if melt.first is None:
        assert order.status == "warn" and "not resolved" in order.detail and verdict == "inconclusive"
    else:
        assert order.status == "pass" and order.detail.startswith(f"first: {melt.first}")
        named_end = "terminus" in melt.first
        assert verdict == ("supported" if named_end else "refuted")
    following = propose_next_plan(plan, report, {}, registry)
    refined = following.steps[0].arguments
    assert refined["replicas"] == 4 and refined["t_min"] < melt.tm_k < refined["t_max"]
    assert report.figure is not None


def test_the_midpoint_fit_recovers_a_known_curve_and_overlapping_cis_are_not_resolved():
    temps = np.linspace(250, 600, 8)
    rng = np.random.default_rng(0)
    q = unfolding.sigmoid(temps, 0.95, 0.2, 410.0, 30.0) + rng.normal(0, 0.01, len(temps))
    high, low, tm, width = unfolding.fit_midpoint(temps, q)
    assert abs(tm - 410) < 8 and abs(width - 30) < 10
    assert unfolding.fit_midpoint(temps, q[::-1]) is None  # Q rising with T is no melting curve
    order = unfolding.unfolding_order(
        [
            {"name": "helix 1", "residues": "1–8", "tm_k": 380.0, "tm_lo_k": 370.0, "tm_hi_k": 395.0},
            {"name": "helix 2", "residues": "10–20", "tm_k": 390.0, "tm_lo_k": 380.0, "tm_hi_k": 400.0},
            {"name": "helix 3", "residues": "22–30", "tm_k": 450.0, "tm_lo_k": 440.0, "tm_hi_k": 460.0},
        ]
    )
    assert order["first"] is None and order["resolved"] == [False, True]
    assert "not resolved" in order["text"] and order["segments"] == ["helix 1", "helix 2", "helix 3"]


def test_bad_input_is_refused_with_the_fix(tmp_path):
    with pytest.raises(ValueError, match="t_min < t_max"):
        unfolding.ladder(VILLIN, t_min=500, t_max=300, out=tmp_path / "x")
    with pytest.raises(ValueError, match="at least 4"):
        unfolding.ladder(VILLIN, n_temperatures=3, out=tmp_path / "x")
    with pytest.raises(ValueError, match="fewer than 8 frames"):
        unfolding.ladder(VILLIN, ps=10, report_interval_ps=2, out=tmp_path / "x")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        unfolding.ladder(tmp_path / "missing.pdb", out=tmp_path / "x")
    with pytest.raises(FileNotFoundError, match="pass the folder unfolding.ladder wrote"):
        unfolding.melting_curve(tmp_path)
    assert not (tmp_path / "x").exists()


def test_registered_with_a_measured_cost(tmp_path, monkeypatch):
    monkeypatch.setenv("KENKYU_CACHE", str(tmp_path))
    registry = ToolRegistry.from_modules(["kenkyu.tools.unfolding"])
    tool = registry["unfolding_ladder"]
    assert tool.approval == "ask" and tool.qualified_call == "kenkyu.tools.unfolding.ladder"
    assert tool.science.output_folder({"structure": "a/villin.pdb"}) == "md_ensembles/villin_melt_250-600K"
    guess = tool.science.cost({"structure": VILLIN, "ps": 100}, measure=False)
    assert "not measured" in guess.basis
    measured = tool.science.cost({"structure": VILLIN, "ps": 100, "replicas": 2, "n_temperatures": 8})
    assert "measured on this machine (36 beads, dataflow)" in measured.basis and measured.seconds > 8
    assert json.loads((tmp_path / "cg_speed.json").read_text())["dataflow:36"] > 0
    assert registry["unfolding_melting_curve"].science.produces == "table"
