"""The agent benchmark (benchmarks/agent): its checks, its tasks, replay mechanics, and the embedded score.

- The checks are unit-tested on hand-made notebook records (each passes on the right record and
  fails on a wrong one).
- Replay mode: the recorded correct calls pass every task's expectations; deliberately wrong calls fail
  them (so the expectations can fail).
- The value ranges hold for mdtraj's own numbers on the same files (so a right answer can pass).
- Embedded mode (slow): the whole suite against the embedded SmolLM2-135M. Its score table goes to
  test-artifacts/agent-benchmark/local/results.txt and into pytest's terminal summary; the score is
  what it is, the test asserts only that every task ran to a verdict and no request crashed a kernel.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

from agent_benchmark_summary import report

from benchmarks.agent import checks
from benchmarks.agent.checks import TaskRun, check
from benchmarks.agent.fixtures import Fixtures
from benchmarks.agent.harness import (
    REPLAY_DIR,
    ProviderChoice,
    format_table,
    load_tasks,
    run_suite,
)

ARTIFACTS = REPO_ROOT / "test-artifacts" / "agent-benchmark"
TASKS = load_tasks()


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory):
    """One cache for the module: the shared villin run and the tiny models are made once."""
    return Fixtures(tmp_path_factory.mktemp("agent-benchmark-cache"))


# -- the checks, on hand-made records ------------------------------------------------------------------

def tool_cell(tool, variable, error=None):
    outputs = [{"output_type": "error", "ename": error[0], "evalue": error[1], "traceback": []}] if error else []
    return {"cell_type": "code", "source": "…", "outputs": outputs,
            "metadata": {"kenkyu": {"agent": True, "tool": tool, "variable": variable}}}


def made_run(tmp_path, cells=(), calls=(), reason="finished", tool_messages=(), **kw):
    messages = [{"role": "assistant", "content": "", "tool_calls": [
        {"id": str(i), "name": n, "arguments": a} for i, (n, a) in enumerate(calls)]}]
    messages += [{"role": "tool", "content": c} for c in tool_messages]
    record = {"cells": list(cells), "messages": messages, "done": {"reason": reason}}
    return TaskRun(folder=tmp_path, record=record, **kw)


def test_tool_checks_read_the_action_cells(tmp_path):
    run = made_run(tmp_path, cells=[tool_cell("md_run", "run"), tool_cell("analysis_rmsd", "rmsd")])
    assert check(run, {"tool_called": "md_run"})[0]
    ok, message = check(run, {"tool_called": "analysis_rmsf"})
    assert not ok and "analysis_rmsf not called" in message and "md_run" in message
    assert check(run, {"tool_not_called": "analysis_rmsf"})[0]
    assert not check(run, {"tool_not_called": "md_run"})[0]
    assert check(run, {"tool_order": ["md_run", "analysis_rmsd"]})[0]
    assert not check(run, {"tool_order": ["analysis_rmsd", "md_run"]})[0]
    assert check(run, {"cells_at_least": 2})[0] and not check(run, {"cells_at_least": 3})[0]


def test_arguments_compare_numbers_by_value_and_everything_else_exactly(tmp_path):
    run = made_run(tmp_path, calls=[("md_run", {"ps": 2.0, "seed": 7, "solvent": "implicit", "reproducible": True})])
    assert check(run, {"arg_equals": {"tool": "md_run", "arg": "ps", "value": 2}})[0]
    assert not check(run, {"arg_equals": {"tool": "md_run", "arg": "seed", "value": 8}})[0]
    assert not check(run, {"arg_equals": {"tool": "md_run", "arg": "solvent", "value": "explicit"}})[0]
    assert not check(run, {"arg_equals": {"tool": "md_run", "arg": "reproducible", "value": 1}})[0]  # True is not 1
    ok, message = check(run, {"arg_equals": {"tool": "analysis_rmsd", "arg": "trajectory", "value": "x"}})
    assert not ok and "no call" in message


def test_no_error_catches_raised_cells_rejected_calls_and_unfinished_requests(tmp_path):
    assert check(made_run(tmp_path, cells=[tool_cell("md_run", "run")]), {"no_error": True})[0]
    ok, message = check(made_run(tmp_path, cells=[tool_cell("md_run", "run", ("StructureError", "bad"))]),
                        {"no_error": True})
    assert not ok and "md_run" in message
    ok, message = check(made_run(tmp_path, tool_messages=["ERROR: invalid arguments: ps"]), {"no_error": True})
    assert not ok and "rejected call" in message
    ok, message = check(made_run(tmp_path, reason="budget:steps"), {"no_error": True})
    assert not ok and "budget:steps" in message
    assert not check(TaskRun(folder=tmp_path), {"no_error": True})[0]  # no record at all


def test_error_checks_want_a_message_that_names_the_problem(tmp_path):
    run = made_run(tmp_path, cells=[tool_cell("md_run", "run", ("StructureError", "Could not read 'broken.pdb' as a PDB file"))],
                   kernel_alive=True)
    assert check(run, {"tool_failed": "md_run"})[0]
    assert check(run, {"error_mentions": {"tool": "md_run", "text": ["broken.pdb", "pdb file"]}})[0]
    ok, message = check(run, {"error_mentions": {"tool": "md_run", "text": ["other.pdb"]}})
    assert not ok and "does not name" in message
    assert check(run, {"kernel_alive": True})[0]
    assert not check(TaskRun(folder=tmp_path, kernel_alive=True, ask_raised="KeyError: x"), {"kernel_alive": True})[0]
    assert not check(TaskRun(folder=tmp_path), {"kernel_alive": True})[0]


def test_file_and_output_checks(tmp_path):
    (tmp_path / "md_runs" / "a").mkdir(parents=True)
    (tmp_path / "md_runs" / "a" / "trajectory.dcd").write_bytes(b"x")
    run = TaskRun(folder=tmp_path, ask_text="The RMSD stays below 0.1 NM")
    assert check(run, {"file_exists": "md_runs/*/trajectory.dcd"})[0]
    assert not check(run, {"file_exists": "md_runs/*/run.json"})[0]
    assert not check(run, {"file_absent": "md_runs/*/trajectory.dcd"})[0]
    assert check(run, {"output_contains": ["rmsd", "0.1 nm"]})[0]
    assert not check(run, {"output_contains": "radius"})[0]


def test_values_are_checked_against_their_range(tmp_path):
    spec = {"tool": "analysis_radius_of_gyration", "expr": "result['rg_nm'].mean()", "min": 0.9, "max": 1.1}
    label = checks.value_label(spec)
    assert check(TaskRun(folder=tmp_path, values={label: 0.99}), {"value_in_range": spec})[0]
    ok, message = check(TaskRun(folder=tmp_path, values={label: 1.5}), {"value_in_range": spec})
    assert not ok and "outside [0.9, 1.1]" in message
    ok, message = check(TaskRun(folder=tmp_path, values={label: {"error": "no result of x"}}), {"value_in_range": spec})
    assert not ok and "no result" in message
    assert not check(TaskRun(folder=tmp_path), {"value_in_range": spec})[0]


def test_malformed_expectations_are_errors_that_say_how_to_write_them(tmp_path):
    with pytest.raises(ValueError, match="unknown expectation 'tool_used'"):
        check(TaskRun(folder=tmp_path), {"tool_used": "md_run"})
    with pytest.raises(ValueError, match="exactly one kind"):
        check(TaskRun(folder=tmp_path), {"tool_called": "md_run", "no_error": True})


# -- the task file ----------------------------------------------------------------------------------------

def test_the_tasks_are_well_formed_and_each_has_a_replay(tmp_path):
    assert 20 <= len(TASKS) <= 30
    assert {t.kind for t in TASKS} == {"single", "multi", "value", "error"}
    for task in TASKS:
        assert set(task.setup) <= set(Fixtures.known()), task.id
        assert (REPLAY_DIR / f"{task.id}.json").exists(), f"no replay for {task.id}"
        for expectation in task.expect:
            check(TaskRun(folder=tmp_path), expectation)  # a known kind, with an argument it can read
    with pytest.raises(ValueError, match="no task named"):
        load_tasks(only=["no_such_task"])


def test_value_ranges_hold_for_mdtrajs_own_numbers(fixtures):
    """Computed with mdtraj directly (not kenkyu's analysis tools) on the files the tasks use."""
    import mdtraj
    import numpy as np

    run = fixtures.villin_run_dir()
    traj = mdtraj.load(str(run / "trajectory.dcd"), top=str(run / "prepared.pdb"))
    protein = traj.atom_slice(traj.top.select("protein"))
    masses = np.array([a.element.mass for a in protein.top.atoms])
    backbone = traj.top.select("backbone")
    truth = {
        "rg_villin": mdtraj.compute_rg(protein, masses=masses).mean(),
        "rmsd_villin": mdtraj.rmsd(traj, traj, 0, atom_indices=backbone).max(),
        "dssp_villin": (mdtraj.compute_dssp(protein, simplified=True) == "H").mean(),
        "sasa_villin": mdtraj.shrake_rupley(protein).sum(axis=1).mean(),
    }
    from kenkyu.tools.md import example_structure

    dhfr = mdtraj.load(str(example_structure("dhfr")))
    dhfr = dhfr.atom_slice(dhfr.top.select("protein"))
    truth["dhfr_rg"] = mdtraj.compute_rg(dhfr, masses=np.array([a.element.mass for a in dhfr.top.atoms]))[0]
    truth["dhfr_strands"] = (mdtraj.compute_dssp(dhfr, simplified=True) == "E").mean()
    by_id = {t.id: t for t in TASKS}
    for task_id, value in truth.items():
        spec = by_id[task_id].value_specs[-1]
        assert spec["min"] <= value <= spec["max"], (task_id, value, spec)


# -- replay mode: the mechanics ---------------------------------------------------------------------------

# The two slowest MD tasks are left out here (each runs a real simulation; the embedded run below
# covers them); `python benchmarks/agent/run.py --provider replay` runs all of them.
REPLAY_SUBSET = [t for t in TASKS if t.id not in ("md_villin_short", "md_then_rg_rmsf")]


@pytest.mark.slow
def test_the_recorded_correct_calls_pass_every_task(tmp_path, fixtures, request):
    summary = run_suite(REPLAY_SUBSET, ProviderChoice("replay"), tmp_path, cache=fixtures.cache, progress=False)
    table = format_table(summary)
    report(request.config, "agent benchmark: replay (mechanics)", table)
    assert summary["failed"] == 0, table
    assert summary["passed"] + summary["skipped"] == len(REPLAY_SUBSET)
    notebook = json.loads((tmp_path / "analysis_chain" / "notebook.ipynb").read_text())
    assert "%%ask" in "".join(notebook["cells"][2]["source"])  # the task really ran as a notebook


def test_deliberately_wrong_calls_fail_their_checks(tmp_path, fixtures):
    wrong = tmp_path / "wrong"
    wrong.mkdir()
    turns = {
        # the wrong analysis: RMSD where the radius of gyration was asked
        "rg_villin": [{"text": "RMSD.", "tool_calls": [{"name": "analysis_rmsd", "arguments": {"trajectory": "md_runs/villin"}}]},
                      {"text": "Done."}],
        # an invented input where none was given
        "missing_input": [{"text": "Using run1.", "tool_calls": [{"name": "analysis_rmsd", "arguments": {"trajectory": "md_runs/run1"}}]},
                          {"text": "Done."}],
        # claiming success without trying: no error that names the broken file
        "broken_pdb": [{"text": "The simulation ran fine."}],
    }
    for task_id, task_turns in turns.items():
        (wrong / f"{task_id}.json").write_text(json.dumps({"turns": task_turns}))
    tasks = [t for t in TASKS if t.id in turns]
    summary = run_suite(tasks, ProviderChoice("replay", replay_dir=wrong), tmp_path / "out", cache=fixtures.cache,
                        progress=False)
    results = {r["id"]: r for r in summary["tasks"]}
    assert {r["status"] for r in results.values()} == {"FAIL"}, format_table(summary)
    rg_failures = [c["message"] for c in results["rg_villin"]["checks"] if not c["ok"]]
    assert any("analysis_radius_of_gyration not called" in m for m in rg_failures)
    assert any("no result of analysis_radius_of_gyration" in m for m in rg_failures)
    assert "analysis_rmsd was called" in results["missing_input"]["reason"]
    assert "no error from md_run" in results["broken_pdb"]["reason"]


# -- embedded mode: the honest offline score ----------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.embedded_llm
@pytest.mark.timeout(1500)
def test_embedded_model_benchmark_score(fixtures, request):
    out = ARTIFACTS / "local"
    summary = run_suite(TASKS, ProviderChoice("local"), out, cache=fixtures.cache, progress=False)
    table = format_table(summary)
    report(request.config, "agent benchmark: embedded SmolLM2-135M (offline)", table + f"results: {out}/results.json\n")
    print(table)
    assert summary["passed"] + summary["failed"] + summary["skipped"] == len(TASKS)
    skipped = {r["id"] for r in summary["tasks"] if r["status"] == "SKIP"}
    assert skipped <= {"dhfr_rg", "dhfr_strands"}, skipped  # only for want of the DHFR file
    for result in summary["tasks"]:
        if result["status"] != "SKIP":
            assert Path(result["notebook"]).exists()
            alive = check_alive(Path(result["notebook"]))
            assert alive, f"{result['id']}: the embedded model's request crashed the kernel or %%ask"


def check_alive(notebook: Path) -> bool:
    """The probe cell after %%ask ran (the kernel survived whatever the model asked for)."""
    import nbformat

    from benchmarks.agent.harness import PROBE_MARK, _text

    nb = nbformat.read(notebook, as_version=4)
    return any(line.startswith(PROBE_MARK) for line in _text(nb.cells[3].outputs).splitlines())


def test_the_command_line_prints_the_table_and_writes_the_results(tmp_path):
    """As a user runs it: tasks chosen by id, replay provider, results in --out."""
    import subprocess

    out = tmp_path / "bench"
    done = subprocess.run(
        [sys.executable, str(REPO_ROOT / "benchmarks" / "agent" / "run.py"), "--provider", "replay",
         "--tasks", "missing_input,broken_pdb", "--out", str(out)],
        check=False, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "broken_pdb" in done.stdout and "score: 2/2 passed (100%)" in done.stdout
    results = json.loads((out / "results.json").read_text())
    assert sorted(t["id"] for t in results["tasks"]) == ["broken_pdb", "missing_input"]  # in the file's order
    assert (out / "broken_pdb" / "notebook.ipynb").exists()
    again = subprocess.run([sys.executable, str(REPO_ROOT / "benchmarks" / "agent" / "run.py"), "--tasks", "nope"],
                           check=False, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert again.returncode != 0 and "no task named ['nope']" in again.stderr


def test_a_request_that_never_ran_cannot_pass(tmp_path, fixtures, monkeypatch):
    """missing_input expects little (no tool called); a provider that fails must still be a FAIL."""
    from nbformat import v4

    from benchmarks.agent.harness import setup_failure

    monkeypatch.setenv("OPENAI_API_KEY", "")
    summary = run_suite([t for t in TASKS if t.id == "missing_input"], ProviderChoice("openai", model="gpt-4o"),
                        tmp_path, cache=fixtures.cache, progress=False)
    result = summary["tasks"][0]
    assert result["status"] == "FAIL" and "provider failed" in result["reason"]
    assert "OPENAI_API_KEY" in result["reason"]
    broken = v4.new_notebook(cells=[v4.new_code_cell("%load_ext kenkyu", outputs=[
        v4.new_output("error", ename="ModuleNotFoundError", evalue="No module named 'kenkyu'", traceback=[])])])
    assert "setup cell failed: ModuleNotFoundError" in setup_failure(broken)
