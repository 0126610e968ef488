"""The mutation-effect protocol: planned from the question's words, run from %%research in a real kernel with
the embedded default provider (no LLM writes anything), and its exported report re-run to the same numbers.

No real ESM-2 weights exist here: a tiny random ESM-2 of the real class sits under the default model's name in
the torch hub cache, where the loading code finds real weights. MD is real (villin, implicit solvent, 2 ps).
"""

from __future__ import annotations

import os
import shutil

import nbformat
import pytest
from kenkyu.assistant.protocols import get_protocol
from kenkyu.assistant.research import make_plan
from kenkyu.assistant.session import RECORD_MIME
from kenkyu.core.registry import ToolRegistry
from kenkyu.tools import mutants

pytest.importorskip("esm")

QUESTION = "What does K25A do to villin? Simulate 2 replicas of 2 ps each."


@pytest.fixture
def tiny_esm2(monkeypatch, tmp_path):
    from kenkyu.tools.structure import DEFAULT_ESM2_MODEL
    from kenkyu.tools.structure._models import clear_model_cache
    from tiny_esm import make_tiny_esm2

    checkpoints = tmp_path / "torch_home" / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    shutil.copy(make_tiny_esm2(tmp_path / "esm2" / f"{DEFAULT_ESM2_MODEL}.pt"), checkpoints)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("KENKYU_MODELS", raising=False)
    monkeypatch.setenv("KENKYU_CACHE", str(tmp_path / "kenkyu_cache"))
    clear_model_cache()
    yield
    clear_model_cache()


def registry():
    return ToolRegistry.from_modules(["kenkyu.tools.structure", "kenkyu.tools.mutants"])


class NoModel:
    """The embedded provider's shape; a protocol that claims the question never asks it anything."""

    model_id = "embedded"

    def choose_call(self, *args, **kwargs):
        raise AssertionError("the router was asked, but the protocol plans this question itself")


def test_the_question_is_planned_by_the_protocol_with_esm2s_prediction_as_hypothesis(tiny_esm2, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    plan = make_plan(QUESTION, registry(), NoModel(), measure_costs=False)
    assert plan.protocol == "mutation-effect" and plan.hypothesis_source == "template"
    tools = [s.tool for s in plan.steps]
    assert tools == ["structure_variant_effects", "mutants_simulate_mutants", "mutants_compare_to_wild_type"]
    scores, simulate, compare = plan.steps
    assert scores.arguments == {"sequence": "MLSDEDFKAVFGMTRSAFANLPLWKQQNLKKEKGLF", "mutations": ["K25A"]}
    assert simulate.arguments["replicas"] == 2 and simulate.arguments["ps"] == 2.0
    assert simulate.arguments["solvent"] == "implicit" and simulate.needs_approval
    assert simulate.arguments["md_options"] == {"report_interval_ps": 0.2, "reproducible": True, "nvt_ps": 0}
    assert "LYS 65 (chain A) -> ALA with pdbfixer" in simulate.text
    assert compare.depends_on == [1] and compare.arguments == {"runs": "mutant_runs/villin_1vii"}
    # The hypothesis is the language model's prediction, with its score (the tiny model's, whatever it is).
    score = mutants_score("K25A")
    direction = "destabilises the fold near the site" if score < 0 else "is tolerated"
    assert plan.hypothesis.startswith("ESM-2 (esm2_t33_650M_UR50D) predicts: ")
    assert f"K25A (score {score:+.2f}) {direction}" in plan.hypothesis
    assert any("fewer than 3 replicas" in s for s in plan.inconclusive)
    assert "the MD's direction agrees with ESM-2's prediction" in compare.expectations


def mutants_score(mutation):
    from kenkyu.tools import structure

    return float(structure.variant_effects("MLSDEDFKAVFGMTRSAFANLPLWKQQNLKKEKGLF", [mutation]).score.iloc[0])


def test_a_scan_of_a_region_simulates_the_substitutions_esm2_scores_worst(tiny_esm2, tmp_path, monkeypatch):
    from kenkyu.tools import structure

    monkeypatch.chdir(tmp_path)
    question = "Which mutations in residues 20-25 of villin destabilise it? 2 replicas of 2 ps each."
    plan = make_plan(question, registry(), NoModel(), measure_costs=False)
    assert plan.protocol == "mutation-effect"
    scan, simulate, _ = plan.steps
    assert scan.tool == "structure_mutational_scan" and scan.arguments["positions"] == [20, 21, 22, 23, 24, 25]
    scores = structure.mutational_scan(scan.arguments["sequence"], positions=list(range(20, 26)), progress=False)
    worst = list(scores.nsmallest(2, "score").mutation)
    assert simulate.arguments["mutations"] == worst and all(m in plan.hypothesis for m in worst)
    assert 20 <= int(worst[0][1:-1]) <= 25
    # Outside the chain: named, nothing runs.
    outside = make_plan("Scan residues 30-40 of villin for destabilising mutations?", registry(), NoModel())
    assert [s.tool for s in outside.steps] == [None] and "outside the chain (1-36" in outside.steps[0].problem


def test_a_mismatched_or_missing_input_is_named_and_nothing_would_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    protocol = get_protocol("mutation-effect")
    assert protocol.claims("what does K24A do to villin?") and protocol.claims("Is F35L destabilising?")
    assert not protocol.claims("What does A4G do to MKTAYIAKQRQISFVK?")  # a sequence alone: the router's
    assert not protocol.claims("Does villin stay folded over 2 ps?")
    # HP35 numbering (K24) on a chain that starts at Met41: the plan says what is at 24 and where K25 is.
    plan = make_plan("What does K24A do to villin?", registry(), NoModel(), measure_costs=False)
    assert plan.protocol == "mutation-effect" and [s.tool for s in plan.steps] == [None]
    assert "TRP 64 (W), not LYS (K)" in plan.steps[0].problem and "25 (PDB 65)" in plan.steps[0].problem
    plan = make_plan("Is F36L destabilising?", registry(), NoModel(), measure_costs=False)
    assert [s.tool for s in plan.steps] == [None] and "needs the wild-type structure" in plan.steps[0].problem
    # A structure in the working folder is the notebook's candidate.
    shutil.copy(mutants_structure(), tmp_path / "hp36.pdb")
    plan = make_plan("Is F36L destabilising?", registry(), NoModel(), measure_costs=False)
    assert plan.steps[1].arguments["structure"] == "hp36.pdb" and plan.steps[1].arguments["mutations"] == ["F36L"]


def mutants_structure():
    from kenkyu.tools import md

    return md.example_structure("villin")


def test_an_inconclusive_result_proposes_more_replicas_and_longer_runs(tiny_esm2, tmp_path, monkeypatch):
    from kenkyu.assistant.checks import Check, CheckReport

    monkeypatch.chdir(tmp_path)
    plan = make_plan(QUESTION, registry(), NoModel(), measure_costs=False)
    step = "mutants_compare_to_wild_type"
    report = CheckReport()
    report.checks = [
        Check(step, mutants.long_enough.expectations[0], "warn", "2 ps per replica"),
        Check(step, mutants.enough_replicas.expectations[0], "warn", "2 replicas per structure"),
        Check(step, mutants.resolved.expectations[0], "warn", "K25A: +0.0010 nm [-0.0040, +0.0050]"),
        Check(step, mutants.agrees_with_language_model.expectations[0], "warn", "K25A: inconclusive"),
    ]
    protocol = get_protocol("mutation-effect")
    verdict, why = protocol.judge(plan, report, {}, {})
    assert verdict == "inconclusive" and any("2 ps per replica" in w for w in why)
    following = protocol.next_plan(plan, report, {})
    simulate = following.steps[1].arguments
    assert (simulate["replicas"], simulate["ps"]) == (4, 1000.0)
    assert simulate["md_options"] == {"report_interval_ps": 10.0}
    assert following.steps[2].arguments["runs"] == simulate["out"] == "mutant_runs/villin_1vii_4x1000ps_implicit"
    assert (
        "longer" in protocol.revised_hypotheses(verdict, report)[0]
        or ">= 1000 ps" in protocol.revised_hypotheses(verdict, report)[0]
    )
    # Decided: a disagreement refutes, agreement with enough time and replicas supports.
    decided = [Check(step, c.expectation, "pass", "ok") for c in report.checks[:3]]
    disagree = Check(step, mutants.agrees_with_language_model.expectations[0], "fail", "K25A: disagrees")
    report.checks = [*decided, disagree]
    assert protocol.judge(plan, report, {}, {})[0] == "refuted"
    report.checks = [*decided, Check(step, disagree.expectation, "pass", "K25A: agrees")]
    assert protocol.judge(plan, report, {}, {}) == ("supported", [f"{step}: {disagree.expectation} — K25A: agrees"])


@pytest.mark.slow
def test_research_cell_runs_the_protocol_and_its_report_reruns_to_the_same_numbers(tiny_esm2, tmp_path):
    from kenkyu.assistant.export import export_report
    from notebooks import run_cells

    nb, path = run_cells(
        ["%load_ext kenkyu\n%kenkyu approval auto", f"%%research\n{QUESTION}"],
        tmp_path,
        env={k: os.environ[k] for k in ("TORCH_HOME", "HF_HUB_OFFLINE", "KENKYU_CACHE")},
        timeout=900,
    )
    record = next(o["data"][RECORD_MIME] for o in nb.cells[1].outputs if RECORD_MIME in o.get("data", {}))
    plan = record["plan"]
    assert plan["protocol"] == "mutation-effect" and record["done"]["reason"] == "finished"
    assert [s["tool"] for s in plan["steps"]] == [
        "structure_variant_effects",
        "mutants_simulate_mutants",
        "mutants_compare_to_wild_type",
    ]
    by_step = {(c["step"], c["expectation"]): c for c in record["check"]}
    agreement = by_step[("mutants_compare_to_wild_type", mutants.agrees_with_language_model.expectations[0])]
    assert agreement["status"] == "warn" and "far shorter" in agreement["detail"]
    assert record["verdict"] == "inconclusive"
    act = record["cells"][-1]["source"]
    assert "**Verdict: the hypothesis is inconclusive**" in act and "K25A: INCONCLUSIVE" in act
    assert record["next_plan"]["steps"][1]["arguments"]["replicas"] == 4
    assert (tmp_path / "mutant_runs" / "villin_1vii" / "K25A" / "ensemble.json").is_file()

    report = export_report(path, tmp_path / "report" / "nb.report.ipynb")
    assert report.executed, report
    cells = nbformat.read(report.ipynb, as_version=4).cells

    def outputs_of(cells, tool):
        cell = next(c for c in cells if c["cell_type"] == "code" and f"mutants.{tool}(" in c["source"])
        return "".join(o.get("data", {}).get("text/plain", "") for o in cell["outputs"])

    def check_of(cells):
        cell = next(
            c for c in cells if c["cell_type"] == "code" and c["metadata"].get("kenkyu", {}).get("section") == "check"
        )
        return next(o["data"]["text/plain"] for o in cell["outputs"] if o["output_type"] == "execute_result")

    original = record["cells"]
    # The report simulated again in its own folder (same seeds, bitwise-reproducible runs): the same numbers.
    assert (tmp_path / "report" / "mutant_runs" / "villin_1vii" / "wild_type" / "ensemble.json").is_file()
    assert outputs_of(cells, "compare_to_wild_type") == outputs_of(original, "compare_to_wild_type")
    assert "delta RMSF" in outputs_of(cells, "compare_to_wild_type")
    assert check_of(cells) == check_of(original)


@pytest.mark.slow
def test_the_example_notebook_runs_headless_with_the_tiny_model(tiny_esm2, tmp_path):
    from md_fixtures import REPO_ROOT
    from notebooks import run_cells, text_of

    notebook = nbformat.read(REPO_ROOT / "examples" / "mutation_effect.ipynb", as_version=4)
    sources = [c.source for c in notebook.cells if c.cell_type == "code"]
    nb, _ = run_cells(
        sources,
        tmp_path,
        env={k: os.environ[k] for k in ("TORCH_HOME", "HF_HUB_OFFLINE", "KENKYU_CACHE")},
        timeout=900,
    )
    text = "\n".join(text_of(c) for c in nb.cells)
    assert "K25A (counted along the chain; PDB 65): LYS 65 (chain A) -> ALA, side chain rebuilt by pdbfixer" in text
    assert "TRP 64 (W), not LYS (K)" in text  # the refused K24A
    assert "K25A: INCONCLUSIVE" in text and "Rests on: 95% CIs: percentile bootstrap" in text
    data = [o.get("data", {}) for c in nb.cells for o in c.outputs]
    figures = [d for d in data if "image/png" in d or "<img" in d.get("text/html", "")]
    assert figures, "the delta-RMSF figure was not shown"
