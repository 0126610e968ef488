"""The predicted structure check (issue 17, protocol 3): pLDDT against MD RMSF, from %%research to a report.

The prediction here is a TEST FIXTURE, not a prediction: the villin headpiece (1VII) with a pLDDT profile we
set in its B-factor column (helices 90, loops 65, termini 40-49), as ESMFold would write a prediction's
confidence. The MD, the RMSF, the statistics and the kernel are real.
"""

from __future__ import annotations

import warnings

import mdtraj
import nbformat
import numpy as np
import pytest
from kenkyu.assistant import checks, protocols
from kenkyu.assistant.research import judge, make_plan
from kenkyu.assistant.session import RECORD_MIME
from kenkyu.core.registry import ToolRegistry
from kenkyu.tools import md as md_tools
from kenkyu.tools import prediction_check

VILLIN = md_tools.example_structure("villin")
HELICES = ((44, 51), (55, 59), (63, 73))  # 1VII's three helices (DSSP of the NMR model)
CHECK = "prediction_check_confidence_vs_dynamics"


def fixture_plddt(res_seq: int) -> float:
    """The pLDDT profile this fixture sets: confident helices, less sure loops, unsure termini."""
    if any(a <= res_seq <= b for a, b in HELICES):
        return 90.0
    if res_seq <= 43 or res_seq >= 74:
        return 40.0 + 3 * min(res_seq - 41, 76 - res_seq)
    return 65.0


def write_fixture(path, profile=fixture_plddt):
    lines = []
    for line in VILLIN.read_text().splitlines(keepends=True):
        if line.startswith(("ATOM", "HETATM")):
            line = f"{line[:60]}{profile(int(line[22:26])):6.2f}{line[66:]}"
        lines.append(line)
    path.write_text("".join(lines))
    return path


def wobbling(frames: int, amplitude_of) -> mdtraj.Trajectory:
    """Villin whose residues jitter around the start structure, each by amplitude_of(resSeq) nm."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # villin's dummy CRYST1 record
        start = mdtraj.load(str(VILLIN))
    scale = np.array([amplitude_of(a.residue.resSeq) for a in start.topology.atoms])[None, :, None]
    rng = np.random.default_rng(0)
    xyz = start.xyz[0][None] + rng.normal(size=(frames, start.n_atoms, 3)) * scale
    traj = mdtraj.Trajectory(xyz.astype(np.float32), start.topology)
    traj.time = np.arange(frames, dtype=float)
    return traj


def registry():
    return ToolRegistry.from_modules(["kenkyu.tools.md", "kenkyu.tools.structure", "kenkyu.tools.prediction_check"])


class NoModel:
    model_id = "none"  # a claimed question is planned by its protocol: no model is asked


def plan_for(request: str):
    return make_plan(request, registry(), NoModel(), measure_costs=False)


def test_residues_that_move_as_the_prediction_doubts_support_it_and_the_reverse_refutes_it(tmp_path):
    prediction = write_fixture(tmp_path / "villin_pred.pdb")
    agreeing = prediction_check.confidence_vs_dynamics(
        prediction, wobbling(30, lambda r: 0.002 + 0.0004 * (100 - fixture_plddt(r)))
    )
    assert agreeing.n_residues == 36 and agreeing.n_frames == 30
    assert agreeing.rho > 0.6 and 0 < agreeing.ci[0] < agreeing.rho < agreeing.ci[1]
    plan = plan_for(f"Can I trust the predicted structure in {prediction}?")
    report = checks.check_results({CHECK: agreeing}, protocol=plan.protocol)
    verdict, why = judge(plan, report, {}, {})
    assert verdict == "supported" and f"{agreeing.ci[0]:+.2f}" in why[0]
    assert report.figure is not None

    reversed_ = prediction_check.confidence_vs_dynamics(
        prediction, wobbling(30, lambda r: 0.002 + 0.0004 * fixture_plddt(r))
    )
    assert reversed_.ci[1] < 0
    report = checks.check_results({CHECK: reversed_}, protocol=plan.protocol)
    verdict, why = judge(plan, report, {}, {})
    assert verdict == "refuted" and "trusts move more" in why[0]
    # The termini the fixture doubts barely move here: a disagreement region, named.
    termini = reversed_.regions[reversed_.regions.kind == "unconfident but rigid"]
    assert {"MET41–SER43", "GLY74–PHE76"} <= set(termini.residues)
    assert "unconfident but rigid GLY74–PHE76" in reversed_.summary()


def test_too_few_frames_is_inconclusive_with_the_reason(tmp_path):
    prediction = write_fixture(tmp_path / "villin_pred.pdb")
    few = prediction_check.confidence_vs_dynamics(
        prediction, wobbling(5, lambda r: 0.002 + 0.0004 * (100 - fixture_plddt(r)))
    )
    plan = plan_for(f"Can I trust the predicted structure in {prediction}?")
    verdict, why = judge(plan, checks.check_results({CHECK: few}, protocol=plan.protocol), {}, {})
    assert verdict == "inconclusive" and "only 5 frames" in why[0] and "inconclusive" in why[0]


def test_an_experimental_structure_is_refused_as_a_prediction():
    # 1VII's own B-factors (0.8-3.4) are not a confidence: the error says what to pass instead.
    with pytest.raises(prediction_check.PredictionInputError, match="not pLDDT.*Pass a predicted structure"):
        prediction_check.plddt_of(VILLIN)


def test_the_protocol_claims_prediction_questions_and_plans_md_then_the_comparison(tmp_path):
    protocol = protocols.get_protocol("predicted-structure-check")
    assert protocol.claims("Can I trust the predicted structure of villin?")
    assert protocol.claims("Does the prediction's confidence match its dynamics?")
    assert not protocol.claims("Does villin stay folded?")
    assert not protocol.claims("Does the predicted effect of the mutation L61A hold in MD?")

    prediction = write_fixture(tmp_path / "villin_pred.pdb")
    plan = make_plan(
        f"Can I trust the predicted structure in {prediction}? Simulate 4 ps, seed 3.",
        registry(),
        NoModel(),
        measure_costs=False,
    )
    assert plan.protocol == "predicted-structure-check"
    assert [s.tool for s in plan.steps] == ["structure_prepare_for_md", "md_run", CHECK]
    run = plan.steps[1].arguments
    assert (run["ps"], run["solvent"], run["seed"], run["report_interval_ps"]) == (4.0, "implicit", 3, 0.2)
    assert plan.steps[2].arguments == {"prediction": str(prediction), "trajectory": run["out"]}
    assert plan.steps[2].depends_on == [1] and plan.steps[1].needs_approval
    assert "100 − pLDDT" in plan.hypothesis and any("CI includes 0" in s for s in plan.inconclusive)

    # No prediction in the words or the notebook: one step naming what to give, nothing runs.
    missing = make_plan("Can I trust the prediction's confidence?", registry(), NoModel(), measure_costs=False)
    assert [s.tool for s in missing.steps] == [None] and "name its PDB file" in missing.steps[0].problem
    # A sequence in the words is folded first.
    folded = make_plan(
        "Can I trust the predicted structure of MKTAYIAKQRQISFVKSHFSRQ?", registry(), NoModel(), measure_costs=False
    )
    assert [s.tool for s in folded.steps][:2] == ["structure_fold", "structure_prepare_for_md"]


@pytest.mark.slow
def test_research_cell_checks_a_prediction_and_the_report_reproduces_the_numbers(tmp_path):
    from kenkyu.assistant.export import export_report
    from notebooks import run_cells

    prediction = write_fixture(tmp_path / "villin_pred.pdb")
    nb, path = run_cells(
        [
            "%load_ext kenkyu\n%kenkyu approval auto",
            f"%%research\nCan I trust the predicted structure in {prediction}? Simulate 2 ps, reproducible, seed 7",
        ],
        tmp_path,
    )
    record = next(o["data"][RECORD_MIME] for o in nb.cells[1].outputs if RECORD_MIME in o.get("data", {}))
    assert record["plan"]["protocol"] == "predicted-structure-check"
    by_step = {(c["step"], c["expectation"][:20]): c for c in record["check"]}
    correlation = by_step[(CHECK, "the residues the pre")]
    assert "ρ = " in correlation["detail"] and "95% CI" in correlation["detail"]
    expected = {"pass": "supported", "fail": "refuted", "warn": "inconclusive"}[correlation["status"]]
    assert record["verdict"] == expected
    act = record["cells"][-1]["source"]
    assert f"**Verdict: the hypothesis is {expected}**" in act and correlation["detail"] in act

    report = export_report(path, tmp_path / "report" / "nb.report.ipynb")
    assert report.executed
    cells = nbformat.read(report.ipynb, as_version=4).cells

    def check_output(cells):
        cell = next(
            c for c in cells if c["cell_type"] == "code" and c["metadata"].get("kenkyu", {}).get("section") == "check"
        )
        return next(o["data"]["text/plain"] for o in cell["outputs"] if o["output_type"] == "execute_result")

    # The same ρ, CI and regions from a re-run with no LLM (same seed, reproducible MD, seeded bootstrap).
    assert check_output(cells) == check_output(record["cells"])
    assert correlation["detail"] in check_output(cells)
