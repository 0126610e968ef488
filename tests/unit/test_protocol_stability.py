"""The stability protocol with replicas (issue 17, protocol 4): it plans an ensemble for a bare stability
question, its checks give means with 95% CIs over real replicas, and a run far shorter than unfolding
cannot support "the fold holds"."""

from __future__ import annotations

import math

import pytest
from kenkyu.assistant import checks
from kenkyu.assistant.protocols import stability, stability_replicas
from kenkyu.assistant.research import judge, make_plan, propose_next_plan
from kenkyu.core.registry import ToolRegistry
from kenkyu.tools import ensembles
from kenkyu.tools import md as md_tools

VILLIN = str(md_tools.example_structure("villin"))


class NoModel:
    model_id = "none"  # a question the protocol claims is planned without asking a model


def registry():
    return ToolRegistry.from_modules(["kenkyu.tools.md", "kenkyu.tools.analysis", "kenkyu.tools.ensembles"])


def plan_for(request):
    return make_plan(request, registry(), NoModel(), measure_costs=False)


def test_a_bare_stability_question_plans_replicas_and_named_steps_are_routed_as_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no structure files around: the shipped villin is the one the question names
    plan = plan_for("Does the villin headpiece keep its fold over 2 ps with 2 replicas? Reproducible, seed 7.")
    assert plan.protocol == "stability" and [s.tool for s in plan.steps] == ["ensembles_run"]
    args = plan.steps[0].arguments
    assert (args["structure"], args["replicas"], args["ps"], args["solvent"], args["seed"]) == (
        VILLIN,
        2,
        2.0,
        "implicit",
        7,
    )
    assert args["md_options"]["reproducible"] and args["md_options"]["report_interval_ps"] == 0.2
    assert plan.steps[0].needs_approval and "95% CI" in plan.hypothesis
    assert any("shorter than unfolding" in s for s in plan.inconclusive)
    assert plan_for("Is villin stable?").steps[0].arguments["replicas"] == stability.DEFAULT_REPLICAS == 3

    # Named steps stay the scientist's (one run, then the analyses); no protein at all: say what to give.
    assert (
        stability.STABILITY.plan_steps("Does villin stay folded?", "Does villin stay folded? Then compute the RMSD", [])
        is None
    )
    missing = plan_for("Does it stay folded?")
    assert [s.tool for s in missing.steps] == [None] and "name its structure file" in missing.steps[0].problem
    # Questions other protocols answer are not claimed.
    assert not stability.STABILITY.claims("Which part of villin unfolds first when heated?")
    assert not stability.STABILITY.claims("Is the L61A mutant of villin less stable?")


def test_an_interval_over_replicas_is_the_t_interval_and_one_replica_has_none():
    two = stability_replicas.interval([0.10, 0.12])
    assert two.mean == pytest.approx(0.11) and two.n == 2
    assert two.high - two.mean == pytest.approx(12.706 * 0.0141421 / math.sqrt(2), rel=1e-3)  # t(0.975, 1) = 12.706
    assert "mean ± sd of 2 replicas; 95% CI" in two.text(" nm")
    one = stability_replicas.interval([0.1])
    assert math.isnan(one.low) and "one replica: no spread, no CI" in one.text(" nm")


@pytest.fixture(scope="module")
def two_replicas(tmp_path_factory):
    """Two real 1 ps replicas of villin in implicit solvent, run through Dask as a plan would."""
    folder = tmp_path_factory.mktemp("replicas")
    return ensembles.run(
        VILLIN,
        replicas=2,
        ps=1,
        solvent="implicit",
        out=folder / "villin_x2",
        md_options={"nvt_ps": 0, "report_interval_ps": 0.1, "minimize_max_iterations": 50},
        seed=11,
        n_workers=2,
        cpu_threads_per_member=1,
    )


def test_replica_checks_report_means_with_cis_and_a_short_run_is_inconclusive_with_the_reason(two_replicas):
    assert len(two_replicas.finished) == 2
    report = checks.check_results({"ensembles_run": two_replicas})
    by = {c.expectation.split(" ")[1]: c for c in report.by_step("ensembles_run")}
    assert by["replica"].status == "pass" and "2 of 2 replicas finished" in by["replica"].detail
    rmsd, rg, rmsf = by["backbone"], by["radius"], by["most"]
    assert "plateau RMSD" in rmsd.detail and "mean ± sd of 2 replicas; 95% CI" in rmsd.detail
    assert "largest Rg change" in rg.detail and "95% CI" in rg.detail
    assert "most mobile over 2 replicas" in rmsf.detail and "95% CI ±" in rmsf.detail
    # What the check says matches the replicas' own numbers.
    series = stability_replicas.series(two_replicas)
    levels = stability_replicas.per_replica(series["rmsd"], "rmsd_nm", lambda t, v: v[-max(2, len(v) // 3) :].mean())
    assert f"{sum(levels) / 2:.3f} ± " in rmsd.detail
    assert report.figure is not None and len(report.figure.axes) == 3

    plan = plan_for("Does the villin headpiece keep its fold over 1 ps with 2 replicas?")
    verdict, why = judge(plan, report, {}, {})
    # 1 ps says nothing about unfolding (µs–s): never "supported"; the reason is given unless the fold was lost.
    assert verdict in ("inconclusive", "refuted")
    if verdict == "inconclusive":
        short = [w for w in why if w.startswith("Only 1 ps simulated; unfolding takes µs–s")]
        assert short and short[0].endswith("inconclusive")
    if rmsd.status == "pass" and rg.status == "pass":
        # The same results judged for a plan that really ran 10 µs would support the hypothesis.
        plan.steps[0].arguments["ps"] = 1e7
        assert judge(plan, report, {}, {})[0] == "supported"
    following = propose_next_plan(plan, report, {}, registry())
    assert following.protocol == "stability" and following.steps[0].tool == "ensembles_run"
    assert following.steps[0].arguments["out"] != plan.steps[0].arguments["out"]  # the first replicas are kept
