"""The research loop (Plan, Do, Check, Act) with real tools; only the LLM's replies are scripted (replay)."""

from __future__ import annotations

import math
import os
import warnings
from pathlib import Path

import mdtraj
import nbformat
import numpy as np
import pytest
from kenkyu.assistant import checks
from kenkyu.core.config import ProviderConfig, Settings
from kenkyu.assistant.research import Plan, make_plan, run_research, split_request
from kenkyu.assistant.session import RECORD_MIME, AssistantSession
from kenkyu.tools import analysis
from kenkyu.tools import md as md_tools

VILLIN = str(md_tools.example_structure("villin"))
# Short and cheap, but with 10 frames: enough for the plateau check to judge.
QUICK_MD = dict(
    structure=VILLIN,
    ps=2,
    nvt_ps=0,
    solvent="implicit",
    seed=7,
    reproducible=True,
    report_interval_ps=0.2,
    checkpoint_interval_ps=1,
    minimize_max_iterations=50,
)


@pytest.fixture(scope="module", autouse=True)
def speed_cache(tmp_path_factory):
    """One MD speed cache for the module: the calibration runs once, as on a scientist's machine."""
    before = os.environ.get("KENKYU_CACHE")
    os.environ["KENKYU_CACHE"] = str(tmp_path_factory.mktemp("kenkyu_cache"))
    yield Path(os.environ["KENKYU_CACHE"])
    if before is None:
        os.environ.pop("KENKYU_CACHE", None)
    else:
        os.environ["KENKYU_CACHE"] = before


def session_for(replay, approval="auto"):
    settings = Settings(provider=ProviderConfig("replay", replay_file=str(replay)), approval=approval)
    return AssistantSession(settings=settings, namespace={})


def plan_turn(md_args, hypothesis="Hypothesis: villin keeps its fold for 2 ps.", analyses=("rmsd",)):
    folder = md_args.get("out", "md_runs/villin_1vii_implicit")
    calls = [{"name": "md_run", "arguments": md_args}]
    calls += [{"name": f"analysis_{name}", "arguments": {"trajectory": folder}} for name in analyses]
    return {"text": hypothesis, "tool_calls": calls}


def sections(cells) -> list[str]:
    return [
        c["metadata"]["kenkyu"]["section"]
        for c in cells
        if c["cell_type"] == "markdown" and c.get("metadata", {}).get("kenkyu", {}).get("section")
    ]


def test_a_declined_simulation_is_skipped_with_what_needs_it_and_the_cost_was_shown(
    tmp_path, write_replay, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    replay = write_replay([plan_turn(QUICK_MD), {"text": "Nothing ran, so nothing can be concluded."}])
    session = session_for(replay, approval="ask")
    asked = []

    def approver(step, plan):
        asked.append((step.tool, step.cost_s, step.cost_basis, plan.total_cost_s))
        return False

    # The request names its steps, so the model's single run is the plan (a bare question plans replicas).
    events = list(
        run_research(session, "Does villin stay folded? Simulate it, then compute the RMSD.", approver=approver)
    )
    # The approval prompt had a measured cost to show (the calibration ran on this machine).
    assert [a[0] for a in asked] == ["md_run"]
    _, cost, basis, total = asked[0]
    assert 1 < cost < 3600 and "ns/day" in basis and "calibrated on this machine" in basis and total >= cost
    assert not (tmp_path / "md_runs").exists()  # declined means nothing was simulated
    record = session.records[-1]
    assert record["kind"] == "research" and sections(record["cells"]) == ["plan", "do", "check", "act"]
    statuses = {c["step"]: c["status"] for c in record["check"]}
    assert statuses == {"md_run": "skip", "analysis_rmsd": "skip"}
    assert record["verdict"] == "inconclusive"
    do = next(c["source"] for c in record["cells"] if c["metadata"].get("kenkyu", {}).get("section") == "do")
    assert "**declined**" in do
    assert [e.kind for e in events].count("approval_needed") == 1
    assert events[-1].kind == "done" and events[-1].reason == "finished"


def test_a_blown_up_run_fails_its_check_and_the_next_plan_halves_the_time_step(tmp_path, write_replay, monkeypatch):
    monkeypatch.chdir(tmp_path)
    # An 8 fs time step in vacuum blows up within a few dozen steps: a real NaN, cheaply.
    unstable = dict(
        structure=VILLIN,
        ps=1,
        nvt_ps=0,
        solvent="vacuum",
        timestep_fs=8,
        seed=1,
        reproducible=True,
        report_interval_ps=0.1,
        checkpoint_interval_ps=0.1,
        out="md_runs/unstable",
    )
    replay = write_replay(
        [
            plan_turn(unstable, analyses=("rmsd", "radius_of_gyration")),
            {"text": "The run failed; nothing about the fold can be said."},
            {"text": "With 4 fs the run finished."},
        ]
    )
    session = session_for(replay)
    list(run_research(session, "Does villin stay folded in vacuum? Simulate it, then compute the RMSD and Rg."))
    record = session.records[-1]
    by_step = {c["step"]: c for c in record["check"]}
    assert by_step["md_run"]["status"] == "fail" and "blew up" in by_step["md_run"]["detail"]
    assert by_step["analysis_rmsd"]["status"] == "skip" and "md_run" in by_step["analysis_rmsd"]["detail"]
    assert record["verdict"] == "inconclusive"
    assert record["next_plan"]["steps"][0]["arguments"]["timestep_fs"] == 4.0
    act = record["cells"][-1]["source"]
    assert act.startswith("## Act") and "numerical" in act and "%research --next" in act
    # Acting on it: the proposed next plan (what `%research --next` runs) now finishes, in a new folder.
    list(run_research(session, "(the next plan)", plan=session.research_next_plan))
    follow = session.records[-1]
    assert follow["plan"]["steps"][0]["arguments"]["out"] == "md_runs/villin_1vii_vacuum_1ps_4fs"
    assert next(c for c in follow["check"] if c["step"] == "md_run")["status"] == "pass"
    # The failed run's own directory tells the same story when checked by hand.
    report = checks.check_results({"md_run": md_tools.MDRun(tmp_path / "md_runs" / "unstable")})
    assert [c.status for c in report.by_step("md_run")][:2] == ["fail", "fail"]


def drifting_trajectory(rise_nm_per_frame: float, frames: int = 12) -> mdtraj.Trajectory:
    """A villin trajectory whose atoms move apart steadily (rise > 0) or stay put (rise == 0)."""
    with warnings.catch_warnings():  # villin's dummy CRYST1 record
        warnings.simplefilter("ignore", UserWarning)
        start = mdtraj.load(VILLIN)
    rng = np.random.default_rng(0)
    direction = rng.normal(size=start.xyz.shape[1:])
    xyz = np.stack([start.xyz[0] + rise_nm_per_frame * i * direction for i in range(frames)])
    xyz += rng.normal(scale=0.01, size=xyz.shape)  # thermal jitter, the same size in every frame
    traj = mdtraj.Trajectory(xyz.astype(np.float32), start.topology)
    traj.time = np.arange(1, frames + 1, dtype=float)
    return traj


def test_rmsd_that_never_plateaus_is_flagged_and_a_flat_one_passes():
    rising = checks.check_results({"analysis_rmsd": analysis.rmsd(drifting_trajectory(0.004))})
    plateau = next(c for c in rising.checks if "plateaus" in c.expectation)
    assert plateau.status == "warn" and "still rising" in plateau.detail
    flat = checks.check_results({"analysis_rmsd": analysis.rmsd(drifting_trajectory(0.0))})
    assert [c.status for c in flat.checks] == ["pass", "pass"]
    # A protein that swells by ~40% fails the compactness check.
    swollen = drifting_trajectory(0.0)
    swollen.xyz = swollen.xyz * np.linspace(1.0, 1.4, swollen.n_frames)[:, None, None].astype(np.float32)
    rg = checks.check_results({"analysis_radius_of_gyration": analysis.radius_of_gyration(swollen)})
    assert rg.status_of("analysis_radius_of_gyration") == "fail"
    assert rising.figure is not None and "<img" in rising._repr_html_()


def test_split_request_separates_question_hypothesis_and_steps():
    question, hypothesis, steps = split_request(
        "Is villin stable? Hypothesis: it stays folded. Run 2 ps of villin.pdb, then compute the RMSD"
    )
    assert question == "Is villin stable?"
    assert hypothesis == "it stays folded."
    assert steps == "Run 2 ps of villin.pdb, then compute the RMSD"


def test_embedded_model_plans_from_kenkyus_routing_with_a_template_hypothesis():
    """The 135M model only fills arguments; steps, outputs, costs and the hypothesis come from kenkyu."""
    pytest.importorskip("llama_cpp")
    from kenkyu.core.providers.local_llama import LocalLlamaProvider
    from kenkyu.core.registry import ToolRegistry

    registry = ToolRegistry.from_modules(["kenkyu.tools.md", "kenkyu.tools.analysis"])
    provider = LocalLlamaProvider(ProviderConfig("local"))
    plan = make_plan(
        f"Does villin stay folded? Run a reproducible 2 ps simulation of {VILLIN} in implicit solvent "
        "with seed 3, then compute the RMSD of the trajectory, then its radius of gyration",
        registry,
        provider,
        measure_costs=False,
    )
    assert [s.tool for s in plan.steps] == ["md_run", "analysis_rmsd", "analysis_radius_of_gyration"]
    # "the trajectory" is the folder the simulation will write: kenkyu knows it before anything runs.
    assert plan.steps[1].arguments == {"trajectory": "md_runs/villin_1vii_implicit"}
    assert plan.steps[1].depends_on == [0] and plan.steps[0].needs_approval
    assert plan.hypothesis_source == "template" and "villin_1vii.pdb" in plan.hypothesis
    assert any("0.3 nm" in s for s in plan.refute)
    assert Plan.from_dict(plan.to_dict()).to_markdown() == plan.to_markdown()
    assert math.isnan(plan.steps[0].cost_s) or plan.steps[0].cost_s > 0


@pytest.mark.slow
def test_research_cell_writes_four_sections_and_the_report_keeps_them_and_reproduces_the_checks(tmp_path, write_replay):
    from kenkyu.assistant.export import export_report
    from notebooks import run_cells

    replay = write_replay(
        [
            plan_turn(QUICK_MD, analyses=("rmsd", "radius_of_gyration")),
            {"text": "The backbone stays close to 1VII over 2 ps; a longer run is needed."},
        ]
    )
    nb, path = run_cells(
        [
            f"%load_ext kenkyu\n%kenkyu provider replay {replay}\n%kenkyu approval auto",
            "%%research\nDoes the villin headpiece keep its fold over 2 ps? Simulate it, then compute the RMSD and Rg.",
        ],
        tmp_path,
    )
    record = next(o["data"][RECORD_MIME] for o in nb.cells[1].outputs if RECORD_MIME in o.get("data", {}))
    assert sections(record["cells"]) == ["plan", "do", "check", "act"]
    plan = record["plan"]
    assert plan["hypothesis"] == "villin keeps its fold for 2 ps." and plan["hypothesis_source"].startswith(
        "proposed by"
    )
    assert [s["tool"] for s in plan["steps"]] == ["md_run", "analysis_rmsd", "analysis_radius_of_gyration"]
    act = record["cells"][-1]["source"]
    assert "The backbone stays close to 1VII" in act and "**Verdict:" in act

    report = export_report(path, tmp_path / "report" / "nb.report.ipynb")
    assert report.executed
    cells = nbformat.read(report.ipynb, as_version=4).cells
    headings = [
        c.source.splitlines()[0]
        for c in cells
        if c.cell_type == "markdown" and c.metadata.get("kenkyu", {}).get("section")
    ]
    assert headings == ["## Plan", "## Do", "## Check", "## Act"]

    def check_cell(cells):
        return next(
            c for c in cells if c["cell_type"] == "code" and c["metadata"].get("kenkyu", {}).get("section") == "check"
        )

    original_check, rerun_check = check_cell(record["cells"]), check_cell(cells)

    def plain(outputs):
        return next(o["data"]["text/plain"] for o in outputs if o["output_type"] == "execute_result")

    assert plain(rerun_check.outputs) == plain(original_check["outputs"])  # same numbers, same verdicts
    assert "[pass] md_run: the run finishes" in plain(rerun_check.outputs)
    html = report.html.read_text()
    assert all(h in html for h in ("Plan", "Do", "Check", "Act"))


@pytest.mark.slow
def test_a_bare_stability_question_runs_replicas_reports_cis_and_a_2_ps_run_is_inconclusive(tmp_path, write_replay):
    """Issue 17, protocol 4: replicas instead of one run, means with CIs, and 2 ps is no evidence about unfolding."""
    from kenkyu.assistant.export import export_report
    from notebooks import run_cells

    choice = (  # the stronger model's first turn: it chooses the protocol and writes the hypothesis
        "Protocol: stability\nHypothesis: Over 2 ps both replicas of the villin headpiece keep their fold: the "
        "backbone RMSD levels off below 0.3 nm and the radius of gyration stays within 5% of the start."
    )
    replay = write_replay(
        [{"text": choice}, {"text": "Both replicas stay near 1VII for 2 ps; that says nothing about unfolding."}]
    )
    nb, path = run_cells(
        [
            f"%load_ext kenkyu\n%kenkyu provider replay {replay}\n%kenkyu approval auto",
            "%%research\nDoes the villin headpiece keep its fold over 2 ps with 2 replicas? Reproducible, seed 7.",
        ],
        tmp_path,
    )
    record = next(o["data"][RECORD_MIME] for o in nb.cells[1].outputs if RECORD_MIME in o.get("data", {}))
    plan = record["plan"]
    assert plan["protocol"] == "stability" and [s["tool"] for s in plan["steps"]] == ["ensembles_run"]
    assert plan["steps"][0]["arguments"]["replicas"] == 2 and plan["chosen_by"] == "replay:turns.json"
    assert plan["hypothesis"].startswith("Over 2 ps both replicas of the villin headpiece keep their fold")
    plan_cell = next(c["source"] for c in record["cells"] if c["metadata"].get("kenkyu", {}).get("section") == "plan")
    assert "**Hypothesis** (hypothesis and protocol: written by replay:turns.json)" in plan_cell
    details = {c["expectation"].split(" ")[1]: c for c in record["check"]}
    assert details["replica"]["detail"] == "2 of 2 replicas finished"
    assert "mean ± sd of 2 replicas; 95% CI" in details["backbone"]["detail"]
    assert "95% CI" in details["radius"]["detail"]
    act = record["cells"][-1]["source"]
    # 2 ps says nothing about unfolding (µs–s): never "supported", and the Act says why.
    assert record["verdict"] in ("inconclusive", "refuted")
    if record["verdict"] == "inconclusive":
        assert "Only 2 ps simulated; unfolding takes µs–s" in act
    assert "Both replicas stay near 1VII" in act

    report = export_report(path, tmp_path / "report" / "nb.report.ipynb")
    assert report.executed
    cells = nbformat.read(report.ipynb, as_version=4).cells

    def check_output(cells):
        cell = next(
            c for c in cells if c["cell_type"] == "code" and c["metadata"].get("kenkyu", {}).get("section") == "check"
        )
        return next(o["data"]["text/plain"] for o in cell["outputs"] if o["output_type"] == "execute_result")

    # Reproducible replicas with recorded seeds: the report's re-run gives the same means and CIs.
    assert check_output(cells) == check_output(record["cells"])


def test_a_research_line_ending_in_a_question_mark_stays_a_question():
    from kenkyu.assistant.magics import protect_questions

    assert protect_questions(["%research Does villin stay folded?"]) == [
        "get_ipython().run_line_magic('research', 'Does villin stay folded?')\n"
    ]
