"""The agent benchmark (benchmarks/agent): its checks, its tasks, replay mechanics, and the embedded score.

- The checks are unit-tested on hand-made notebook records (each passes on the right record and
  fails on a wrong one).
- Replay mode: the recorded correct calls pass every task's expectations; deliberately wrong calls fail
  them (so the expectations can fail).
- The value ranges hold for mdtraj's own numbers on the same files (so a right answer can pass).
- Embedded mode (slow): the whole suite against the embedded SmolLM2-135M. Its score table goes to
  test-artifacts/agent-benchmark/local/results.txt and into pytest's terminal summary; the score is
  what it is, the test asserts only that every task ran to a verdict and no request crashed a kernel.
- The everyday sets (everyday_dev.toml for tuning, everyday_heldout.toml never tuned on; issue 13):
  their checks on hand-made records, the files' form, and replay mode: every task with a correct
  recorded call sequence passes with it (the three that run MD are left to the command line), and a
  wrong call -- the unrelated fall-through call issue 13 saw, or the wrong run -- fails. They are not
  measured on the embedded model here (about 15 minutes more than CI allows); run
  `python benchmarks/agent/run.py --set everyday_heldout` (and everyday_dev) for that.
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
from benchmarks.agent.checks import aspects, check_aspect
from benchmarks.agent.fixtures import Fixtures
from benchmarks.agent.harness import (
    REPLAY_DIR,
    SETS,
    ProviderChoice,
    format_table,
    load_set,
    load_tasks,
    run_suite,
)

ARTIFACTS = REPO_ROOT / "test-artifacts" / "agent-benchmark"
# The replayed sets and the embedded model's run take two tasks at a time, each in its own kernel and folder
# (run_suite's workers): a task mostly waits for its kernel, and the embedded model decodes on one thread
# (cpu_count - 1), so on CI's 2 cores this about halves their time with the same verdicts (embedded, load 8-15,
# round 10: 26 of 27 verdicts as round 9's serial run; lit_ingest now passes, with this round's uncommitted router
# and literature edits in the tree; two tasks in flight all along; the longest task 256 s of its 600).
WORKERS = 2
TASKS = load_tasks()


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory):
    """One cache for the module: the shared villin run and the tiny models are made once."""
    return Fixtures(tmp_path_factory.mktemp("agent-benchmark-cache"))


# -- the checks, on hand-made records ------------------------------------------------------------------


def tool_cell(tool, variable, error=None):
    outputs = [{"output_type": "error", "ename": error[0], "evalue": error[1], "traceback": []}] if error else []
    return {
        "cell_type": "code",
        "source": "…",
        "outputs": outputs,
        "metadata": {"kenkyu": {"agent": True, "tool": tool, "variable": variable}},
    }


def made_run(tmp_path, cells=(), calls=(), reason="finished", tool_messages=(), **kw):
    messages = [
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"id": str(i), "name": n, "arguments": a} for i, (n, a) in enumerate(calls)],
        }
    ]
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
    ok, message = check(
        made_run(tmp_path, cells=[tool_cell("md_run", "run", ("StructureError", "bad"))]), {"no_error": True}
    )
    assert not ok and "md_run" in message
    ok, message = check(made_run(tmp_path, tool_messages=["ERROR: invalid arguments: ps"]), {"no_error": True})
    assert not ok and "rejected call" in message
    ok, message = check(made_run(tmp_path, reason="budget:steps"), {"no_error": True})
    assert not ok and "budget:steps" in message
    assert not check(TaskRun(folder=tmp_path), {"no_error": True})[0]  # no record at all


def test_error_checks_want_a_message_that_names_the_problem(tmp_path):
    error = ("StructureError", "Could not read 'broken.pdb' as a PDB file")
    run = made_run(tmp_path, cells=[tool_cell("md_run", "run", error)], kernel_alive=True)
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


@pytest.mark.slow  # builds the shared villin run (~40 s)
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
    summary = run_suite(
        REPLAY_SUBSET, ProviderChoice("replay"), tmp_path, cache=fixtures.cache, progress=False, workers=WORKERS
    )
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
        "rg_villin": [
            {"text": "RMSD.", "tool_calls": [{"name": "analysis_rmsd", "arguments": {"trajectory": "md_runs/villin"}}]},
            {"text": "Done."},
        ],
        # an invented input where none was given
        "missing_input": [
            {
                "text": "Using run1.",
                "tool_calls": [{"name": "analysis_rmsd", "arguments": {"trajectory": "md_runs/run1"}}],
            },
            {"text": "Done."},
        ],
        # claiming success without trying: no error that names the broken file
        "broken_pdb": [{"text": "The simulation ran fine."}],
    }
    for task_id, task_turns in turns.items():
        (wrong / f"{task_id}.json").write_text(json.dumps({"turns": task_turns}))
    tasks = [t for t in TASKS if t.id in turns]
    summary = run_suite(
        tasks,
        ProviderChoice("replay", replay_dir=wrong),
        tmp_path / "out",
        cache=fixtures.cache,
        progress=False,
        workers=WORKERS,
    )
    assert [r["id"] for r in summary["tasks"]] == [t.id for t in tasks]  # side by side, reported in order
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
    summary = run_suite(TASKS, ProviderChoice("local"), out, cache=fixtures.cache, progress=False, workers=WORKERS)
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
    return any(line.startswith(PROBE_MARK) for line in _text(nb.cells[-1].outputs).splitlines())


def test_the_command_line_prints_the_table_and_writes_the_results(tmp_path):
    """As a user runs it: tasks chosen by id, replay provider, results in --out."""
    import subprocess

    out = tmp_path / "bench"
    done = subprocess.run(
        [
            sys.executable,
            str(REPO_ROOT / "benchmarks" / "agent" / "run.py"),
            "--provider",
            "replay",
            "--tasks",
            "missing_input,broken_pdb",
            "--out",
            str(out),
            "--workers",
            "2",
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "broken_pdb" in done.stdout and "score: 2/2 passed (100%)" in done.stdout
    results = json.loads((out / "results.json").read_text())
    assert sorted(t["id"] for t in results["tasks"]) == ["broken_pdb", "missing_input"]  # in the file's order
    assert (out / "broken_pdb" / "notebook.ipynb").exists()
    again = subprocess.run(
        [sys.executable, str(REPO_ROOT / "benchmarks" / "agent" / "run.py"), "--tasks", "nope"],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert again.returncode != 0 and "no task named ['nope']" in again.stderr


def test_a_request_that_never_ran_cannot_pass(tmp_path, fixtures, monkeypatch):
    """missing_input expects little (no tool called); a provider that fails must still be a FAIL."""
    from nbformat import v4

    from benchmarks.agent.harness import setup_failure

    monkeypatch.setenv("OPENAI_API_KEY", "")
    summary = run_suite(
        [t for t in TASKS if t.id == "missing_input"],
        ProviderChoice("openai", model="gpt-4o"),
        tmp_path,
        cache=fixtures.cache,
        progress=False,
    )
    result = summary["tasks"][0]
    assert result["status"] == "FAIL" and "provider failed" in result["reason"]
    assert "OPENAI_API_KEY" in result["reason"]
    broken = v4.new_notebook(
        cells=[
            v4.new_code_cell(
                "%load_ext kenkyu",
                outputs=[
                    v4.new_output("error", ename="ModuleNotFoundError", evalue="No module named 'kenkyu'", traceback=[])
                ],
            )
        ]
    )
    assert "setup cell failed: ModuleNotFoundError" in setup_failure(broken)


# -- the everyday sets (issue 13) -----------------------------------------------------------------------------

DEV = load_set("everyday_dev")
HELDOUT = load_set("everyday_heldout")
EVERYDAY = DEV + HELDOUT
# Written before tuning round 2; it has no replays (its correct calls are kept out of what tuning reads).
HELDOUT2 = load_set("everyday_heldout2")
# Written before tuning round 3, with no replays for the same reason.
HELDOUT3 = load_set("everyday_heldout3")
# Written before tuning round 4 (by someone who never read the router), with no replays either.
HELDOUT4 = load_set("everyday_heldout4")
# Written before tuning round 5 (by someone who never read the router), with no replays either.
HELDOUT5 = load_set("everyday_heldout5")
# Written before tuning round 7 (by someone who never read the router), with no replays either.
HELDOUT6 = load_set("everyday_heldout6")
# Written before tuning round 8 (by someone who never read the router), with no replays either.
HELDOUT7 = load_set("everyday_heldout7")
# Written before tuning round 9 (by someone who never read the router), with no replays either.
HELDOUT8 = load_set("everyday_heldout8")
# Written before tuning round 10 (by someone who never read the router), with no replays either.
HELDOUT9 = load_set("everyday_heldout9")
# Written before tuning round 11 (by someone who never read the router), with no replays either.
HELDOUT10 = load_set("everyday_heldout10")
# Written before tuning round 12 (by someone who never read the router), with no replays either.
HELDOUT11 = load_set("everyday_heldout11")
# Written at the end of round 12, before tuning round 13 (by someone who never read the router), with no replays either.
HELDOUT12 = load_set("everyday_heldout12")
# Written before tuning round 14 (by someone who never read the router), with no replays either.
HELDOUT13 = load_set("everyday_heldout13")
# Written before tuning round 15 (by someone who never read the router), with no replays either.
HELDOUT14 = load_set("everyday_heldout14")
# Written before tuning round 16 (by someone who never read the router), with no replays either.
HELDOUT15 = load_set("everyday_heldout15")
# Written before tuning round 17 (by someone who never read the router), with no replays either.
HELDOUT16 = load_set("everyday_heldout16")
# Written before tuning round 18 (by someone who never read the router), with no replays either.
HELDOUT17 = load_set("everyday_heldout17")
# Written before tuning round 19 (by someone who never read the router), with no replays either.
HELDOUT18 = load_set("everyday_heldout18")
# Written before tuning round 20 (by someone who never read the router), with no replays either.
HELDOUT19 = load_set("everyday_heldout19")
# Tasks whose correct calls run real MD: checked by `run.py --provider replay --set ...`, not in CI.
EVERYDAY_MD = {"dev_md_and_rmsd", "held_md_then_rg", "held_run_replicas_rmsf", "dev_replicas_then_compare"}


def test_new_checks_on_hand_made_records(tmp_path):
    silent = made_run(tmp_path, calls=[])
    silent.record["messages"].append({"role": "assistant", "content": "Which trajectory? None is in this folder."})
    assert check(silent, {"no_tool_called": True})[0]
    assert check(silent, {"tools_only": ["explain"]})[0]  # no call at all is allowed
    assert check(silent, {"reply_mentions": ["trajectory", ["folder", "kernel"]]})[0]
    ok, message = check(silent, {"reply_mentions": ["solvent"]})
    assert not ok and "solvent" in message and "Which trajectory" in message

    # issue 13's generic fall-back text lists tool names and "file, folder or sequence": it names no missing input
    generic = made_run(tmp_path)
    generic.record["messages"].append(
        {
            "role": "assistant",
            "content": (
                "The embedded offline model could not match this request to a tool with the inputs it needs. It works "
                "best with one concrete step at a time that names its file, folder or sequence, e.g. *Compute the RMSD "
                "of md_runs/villin*. Tools: `md_run`, `analysis_rmsd`, `viz_show_trajectory`."
            ),
        }
    )
    assert not check(generic, {"reply_mentions": ["trajector"]})[0]  # only inside a tool name
    assert check(generic, {"reply_mentions": ["sequence"]})[0]
    for wanted in (["trajector"], ["sequence"], [["structure", "pdb", "file"]], [["run", "trajector"]]):
        ok, message = check(generic, {"reply_names_missing": wanted})
        assert not ok and "does not ask for or name the missing" in message, wanted
    asks = made_run(tmp_path)
    asks.record["messages"].append(
        {"role": "assistant", "content": "I can't find a lysozyme structure here. Which PDB file is it?"}
    )
    assert check(asks, {"reply_names_missing": ["lysozyme", ["pdb", "structure"]]})[0]

    fallthrough = made_run(
        tmp_path, cells=[tool_cell("structure_list_models", "models")], calls=[("structure_list_models", {})]
    )
    ok, message = check(fallthrough, {"no_tool_called": True})
    assert not ok and "structure_list_models" in message
    ok, message = check(fallthrough, {"tools_only": ["explain", "error"]})
    assert not ok and "unrelated" in message
    assert check(fallthrough, {"tools_only": "^structure_"})[0]
    rejected = made_run(tmp_path, calls=[("analysis_rmsd", {"trajectory": "run1"})])  # a call that never ran is a call
    assert not check(rejected, {"no_tool_called": True})[0]

    minimised = made_run(tmp_path, cells=[tool_cell("md_minimize", "minimized")])
    assert check(minimised, {"tool_called_matching": "minimi[sz]"})[0]
    ok, message = check(fallthrough, {"tool_called_matching": "minimi[sz]"})
    assert not ok and "no tool matching" in message

    (tmp_path / "old.pdb").write_text("x")
    (tmp_path / "notebook.ipynb").write_text("{}")
    before = made_run(tmp_path, before=frozenset({"old.pdb"}))
    assert not check(before, {"new_file": "**/*.pdb"})[0]  # there before the request: not new
    assert not check(before, {"new_file": "**/*.ipynb"})[0]  # the harness's own notebook does not count
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "min.pdb").write_text("x")
    assert check(before, {"new_file": "**/*.pdb"})[0]


def test_any_of_and_the_two_scores(tmp_path):
    ask_or_run = {
        "any_of": [
            [{"no_tool_called": True}, {"reply_mentions": ["solvent"]}],
            [
                {"tool_called": "md_run"},
                {"arg_equals": {"tool": "md_run", "arg": "solvent", "value": "implicit"}},
                {"file_exists": "md_runs/*/trajectory.dcd"},
            ],
        ]
    }
    assert aspects(ask_or_run) == {"call", "outcome"}
    asked = made_run(tmp_path)
    asked.record["messages"].append({"role": "assistant", "content": "Which solvent, implicit or explicit?"})
    assert check(asked, ask_or_run)[0] and check_aspect(asked, ask_or_run, "call")
    # the right call whose trajectory never appeared: right call, no outcome
    ran = made_run(tmp_path, cells=[tool_cell("md_run", "run")], calls=[("md_run", {"solvent": "implicit"})])
    ok, message = check(ran, ask_or_run)
    assert not ok and "no alternative holds" in message and "trajectory.dcd" in message
    assert check_aspect(ran, ask_or_run, "call") is True
    assert check_aspect(ran, ask_or_run, "outcome") is False
    explicit = made_run(tmp_path, cells=[tool_cell("md_run", "run")], calls=[("md_run", {"solvent": "explicit"})])
    assert check_aspect(explicit, ask_or_run, "call") is False
    assert check_aspect(explicit, {"no_error": True}, "call") is None  # an outcome check says nothing of the call
    # an alternative without outcome checks gives an outcome only when it holds as a whole
    calls_only = {"any_of": [[{"tool_called": "md_run"}], [{"no_tool_called": True}, {"output_contains": "x"}]]}
    nothing = made_run(tmp_path)
    assert check_aspect(nothing, calls_only, "call") is True
    assert check_aspect(nothing, calls_only, "outcome") is False
    assert check_aspect(ran, calls_only, "outcome") is True
    assert check(ran, {"tool_succeeded": "md_run"})[0]
    assert not check(nothing, {"tool_succeeded": "md_run"})[0]  # unlike no_error, nothing ran is no outcome
    assert check(nothing, {"no_error": True})[0]


def test_the_everyday_sets_are_well_formed_and_kept_apart(tmp_path):
    assert set(SETS) == {
        "core",
        "everyday_dev",
        "everyday_heldout",
        "everyday_heldout2",
        "everyday_heldout3",
        "everyday_heldout4",
        "everyday_heldout5",
        "everyday_heldout6",
        "everyday_heldout7",
        "everyday_heldout8",
        "everyday_heldout9",
        "everyday_heldout10",
        "everyday_heldout11",
        "everyday_heldout12",
        "everyday_heldout13",
        "everyday_heldout14",
        "everyday_heldout15",
        "everyday_heldout16",
        "everyday_heldout17",
        "everyday_heldout18",
        "everyday_heldout19",
    }
    assert 10 <= len(DEV) <= 30 and 18 <= len(HELDOUT) <= 26
    core = load_tasks()
    ids = [t.id for t in core + EVERYDAY]
    assert len(ids) == len(set(ids)), "task ids are shared between sets (replay files are named by id)"
    prompts = [t.prompt.strip().lower() for t in core + EVERYDAY]
    assert len(prompts) == len(set(prompts)), "the same request in two sets"
    # the same kinds of request in both sets
    kinds = {"value", "multi", "single", "question", "missing"}
    assert {t.kind for t in DEV} == kinds == {t.kind for t in HELDOUT}
    heldout_text = SETS["everyday_heldout"].read_text()
    assert "BEFORE any tuning" in heldout_text and "NEVER use this set to tune" in heldout_text
    for task in EVERYDAY:
        assert set(task.setup) <= set(Fixtures.known()), task.id
        assert "md_runs/" not in task.prompt or task.id == "dev_compare_replicas", task.id  # everyday: no paths
        has_replay = (REPLAY_DIR / f"{task.id}.json").exists()
        assert has_replay != bool(task.no_replay), f"{task.id}: a replay, or no_replay saying why none exists"
        assert task.seconds and task.seconds <= 420, task.id
        for expectation in task.expect:
            check(TaskRun(folder=tmp_path), expectation)  # a known kind, with an argument it can read
        both = set().union(*(aspects(e) for e in task.expect))
        assert both == {"call", "outcome"}, f"{task.id} checks only {both}"
        if task.kind == "missing":
            assert {"no_tool_called": True} in task.expect, task.id
            assert any("reply_names_missing" in e for e in task.expect), task.id
        if task.kind == "question":
            assert any("reply_mentions" in e for e in task.expect), task.id


def test_the_second_heldout_set_is_well_formed_and_new(tmp_path):
    """everyday_heldout2: the same kinds as the first sets (plus an ESM request whose right outcome is an
    error), no request or id repeated from any other set, and the same rules for every task."""
    assert 20 <= len(HELDOUT2) <= 30
    others = load_tasks() + EVERYDAY
    assert not {t.id for t in HELDOUT2} & {t.id for t in others}
    assert not {t.prompt.strip().lower() for t in HELDOUT2} & {t.prompt.strip().lower() for t in others}
    assert {t.kind for t in HELDOUT2} == {"value", "multi", "single", "question", "missing", "error"}
    assert sum(t.kind == "missing" for t in HELDOUT2) >= 4
    text = SETS["everyday_heldout2"].read_text()
    assert "before tuning round 2; never tune on it" in text and "NEVER use this set to tune" in text
    for task in HELDOUT2:
        assert set(task.setup) <= set(Fixtures.known()), task.id
        assert "md_runs/" not in task.prompt and ".pdb" not in task.prompt, task.id  # everyday: no paths
        assert task.seconds and task.seconds <= 420, task.id
        assert not (REPLAY_DIR / f"{task.id}.json").exists(), f"{task.id}: its correct calls belong outside replay/"
        for expectation in task.expect:
            check(TaskRun(folder=tmp_path), expectation)  # a known kind, with an argument it can read
        both = set().union(*(aspects(e) for e in task.expect))
        assert both == {"call", "outcome"}, f"{task.id} checks only {both}"
        if task.kind == "missing":
            assert {"no_tool_called": True} in task.expect and any("reply_names_missing" in e for e in task.expect)
        if task.kind == "question":
            assert any("reply_mentions" in e for e in task.expect), task.id


def assert_a_heldout_set_is_well_formed_and_new(tmp_path, name, tasks, others, written_before, min_missing):
    """The rules every held-out set keeps: no request or id shared with another set, no paths in a request,
    enough missing inputs (each asked about, no call), both aspects checked, and an unrelated tool that needs
    no input (issue 13's most common failure) fails every task's call checks. Returns that fall-through run."""
    assert not {t.id for t in tasks} & {t.id for t in others}
    assert not {t.prompt.strip().lower() for t in tasks} & {t.prompt.strip().lower() for t in others}
    assert {t.kind for t in tasks} == {"value", "multi", "single", "question", "missing", "error"}
    assert sum(t.kind == "missing" for t in tasks) >= min_missing
    text = SETS[name].read_text()
    assert f"before tuning round {written_before}; never tune on it" in text and "NEVER use this set to tune" in text
    for task in tasks:
        assert set(task.setup) <= set(Fixtures.known()), task.id
        assert "md_runs/" not in task.prompt and ".pdb" not in task.prompt, task.id  # everyday: no paths
        assert task.seconds and task.seconds <= 420, task.id
        assert not (REPLAY_DIR / f"{task.id}.json").exists(), f"{task.id}: its correct calls belong outside replay/"
        for expectation in task.expect:
            check(TaskRun(folder=tmp_path), expectation)  # a known kind, with an argument it can read
        both = set().union(*(aspects(e) for e in task.expect))
        assert both == {"call", "outcome"}, f"{task.id} checks only {both}"
        if task.kind == "missing":
            assert {"no_tool_called": True} in task.expect and any("reply_names_missing" in e for e in task.expect)
        if task.kind == "question":
            assert any("reply_mentions" in e for e in task.expect), task.id
    fallthrough = made_run(
        tmp_path, cells=[tool_cell("structure_list_models", "models")], calls=[("structure_list_models", {})]
    )
    for task in tasks:
        assert False in [check_aspect(fallthrough, e, "call") for e in task.expect], task.id
    return fallthrough


def assert_all_atom_requests_say_their_solvent(tasks):
    """Every request whose right call runs all-atom MD (or minimises, extends or times it) says its solvent."""
    all_atom = {"md_run", "md_minimize", "md_extend", "ensembles_run", "md_compare_backends"}
    for task in tasks:
        wanted = set()
        for e in task.expect:
            wanted |= {e["tool_called"]} if "tool_called" in e else set(e.get("tool_order", []))
        if wanted & all_atom:
            assert any(w in task.prompt.lower() for w in ("implicit", "vacuum", "explicit", "water")), task.id


def assert_an_empty_reply_fails_every_task(tmp_path, tasks):
    """Nothing at all (no call, no reply) fails every task, the ones where calling nothing is right included:
    those also want the missing input named, or a reply that says something."""
    silent = made_run(tmp_path, cells=[], calls=[])
    for task in tasks:
        assert not all(check(silent, e)[0] for e in task.expect), f"{task.id} passes on an empty reply"


def test_the_third_heldout_set_is_well_formed_and_new(tmp_path):
    """everyday_heldout3: 30 tasks of the kinds issue 13 names, in new wording: no request or id repeated from
    any other set, no paths in a request, at least six missing inputs, and the same rules for every task."""
    assert len(HELDOUT3) == 30
    others = load_tasks() + EVERYDAY + HELDOUT2
    assert_a_heldout_set_is_well_formed_and_new(tmp_path, "everyday_heldout3", HELDOUT3, others, 3, 6)


def test_the_fourth_heldout_set_is_well_formed_and_new(tmp_path):
    """everyday_heldout4: 30 tasks of issue 13's kinds, written before tuning round 4: no request or id shared
    with any other set, no paths in a request, at least seven missing inputs (each asked about, no call), an
    ESMFold request with no weights, and the same rules for every task as the earlier held-out sets."""
    assert len(HELDOUT4) == 30
    others = load_tasks() + EVERYDAY + HELDOUT2 + HELDOUT3
    assert_a_heldout_set_is_well_formed_and_new(tmp_path, "everyday_heldout4", HELDOUT4, others, 4, 7)
    assert_an_empty_reply_fails_every_task(tmp_path, HELDOUT4)


def test_the_fifth_heldout_set_is_well_formed_and_new(tmp_path):
    """everyday_heldout5: 30 tasks of issue 13's kinds, written before tuning round 5: no request or id shared
    with any other set (held-out 4 included), no paths in a request, at least eight missing inputs of different
    kinds (each asked about, no call), and the same rules for every task as the earlier held-out sets."""
    assert len(HELDOUT5) == 30
    others = load_tasks() + EVERYDAY + HELDOUT2 + HELDOUT3 + HELDOUT4
    assert_a_heldout_set_is_well_formed_and_new(tmp_path, "everyday_heldout5", HELDOUT5, others, 5, 8)
    assert_an_empty_reply_fails_every_task(tmp_path, HELDOUT5)


def test_the_sixth_heldout_set_is_well_formed_and_new(tmp_path):
    """everyday_heldout6: 30 tasks of issue 13's kinds, written before tuning round 7: no request or id shared
    with any other set (held-out 5 included), no paths in a request, at least eight missing inputs (each asked
    about, no call), and the same rules for every task as the earlier held-out sets."""
    assert len(HELDOUT6) == 30
    others = load_tasks() + EVERYDAY + HELDOUT2 + HELDOUT3 + HELDOUT4 + HELDOUT5
    assert_a_heldout_set_is_well_formed_and_new(tmp_path, "everyday_heldout6", HELDOUT6, others, 7, 8)
    assert_an_empty_reply_fails_every_task(tmp_path, HELDOUT6)
    # the missing inputs are of different kinds: each names something else
    named = [str(e["reply_names_missing"]) for t in HELDOUT6 for e in t.expect if "reply_names_missing" in e]
    assert len(set(named)) == len(named) >= 8


def test_the_seventh_heldout_set_is_well_formed_and_new(tmp_path):
    """everyday_heldout7: 30 tasks of issue 13's kinds, written before tuning round 8: no request or id shared
    with any other set (held-out 6 included), no paths in a request, at least eight missing inputs of different
    kinds (each asked about, no call), and the same rules for every task as the earlier held-out sets."""
    assert len(HELDOUT7) == 30
    others = load_tasks() + EVERYDAY + HELDOUT2 + HELDOUT3 + HELDOUT4 + HELDOUT5 + HELDOUT6
    assert_a_heldout_set_is_well_formed_and_new(tmp_path, "everyday_heldout7", HELDOUT7, others, 8, 8)
    assert_an_empty_reply_fails_every_task(tmp_path, HELDOUT7)
    named = [str(e["reply_names_missing"]) for t in HELDOUT7 for e in t.expect if "reply_names_missing" in e]
    assert len(set(named)) == len(named) >= 8


def test_the_eighth_heldout_set_is_well_formed_and_new(tmp_path):
    """everyday_heldout8: 30 tasks of issue 13's kinds, written before tuning round 9: no request or id shared
    with any other set (held-out 7 included), no paths in a request, at least eight missing inputs of different
    kinds (each asked about, no call), and the same rules for every task as the earlier held-out sets."""
    assert len(HELDOUT8) == 30
    others = load_tasks() + EVERYDAY + HELDOUT2 + HELDOUT3 + HELDOUT4 + HELDOUT5 + HELDOUT6 + HELDOUT7
    assert_a_heldout_set_is_well_formed_and_new(tmp_path, "everyday_heldout8", HELDOUT8, others, 9, 8)
    assert_an_empty_reply_fails_every_task(tmp_path, HELDOUT8)
    named = [str(e["reply_names_missing"]) for t in HELDOUT8 for e in t.expect if "reply_names_missing" in e]
    assert len(set(named)) == len(named) >= 8


def test_the_ninth_heldout_set_is_well_formed_and_new(tmp_path):
    """everyday_heldout9: 30 tasks of issue 13's kinds, written before tuning round 10: no request or id shared
    with any other set (held-out 8 included), no paths in a request, at least eight missing inputs of different
    kinds (each asked about, no call), and the same rules for every task as the earlier held-out sets."""
    assert len(HELDOUT9) == 30
    others = load_tasks() + EVERYDAY + HELDOUT2 + HELDOUT3 + HELDOUT4 + HELDOUT5 + HELDOUT6 + HELDOUT7 + HELDOUT8
    assert_a_heldout_set_is_well_formed_and_new(tmp_path, "everyday_heldout9", HELDOUT9, others, 10, 8)
    assert_an_empty_reply_fails_every_task(tmp_path, HELDOUT9)
    named = [str(e["reply_names_missing"]) for t in HELDOUT9 for e in t.expect if "reply_names_missing" in e]
    assert len(set(named)) == len(named) >= 8


def test_the_tenth_heldout_set_is_well_formed_and_new(tmp_path):
    """everyday_heldout10: 30 tasks of issue 13's kinds, written before tuning round 11: no request or id shared
    with any other set (held-out 9 included), no paths in a request, at least eight missing inputs of different
    kinds (each asked about, no call), and the same rules for every task as the earlier held-out sets."""
    assert len(HELDOUT10) == 30
    others = (
        load_tasks() + EVERYDAY + HELDOUT2 + HELDOUT3 + HELDOUT4 + HELDOUT5 + HELDOUT6 + HELDOUT7 + HELDOUT8 + HELDOUT9
    )
    assert_a_heldout_set_is_well_formed_and_new(tmp_path, "everyday_heldout10", HELDOUT10, others, 11, 8)
    assert_an_empty_reply_fails_every_task(tmp_path, HELDOUT10)
    named = [str(e["reply_names_missing"]) for t in HELDOUT10 for e in t.expect if "reply_names_missing" in e]
    assert len(set(named)) == len(named) >= 8


def test_the_eleventh_heldout_set_is_well_formed_and_new(tmp_path):
    """everyday_heldout11: 30 tasks of issue 13's kinds, written before tuning round 12: no request or id shared
    with any other set (held-out 10 included), no paths in a request, eight missing inputs of different kinds (each
    asked about, no call), and the same rules for every task as the earlier held-out sets."""
    assert len(HELDOUT11) == 30
    others = (
        load_tasks()
        + EVERYDAY
        + HELDOUT2
        + HELDOUT3
        + HELDOUT4
        + HELDOUT5
        + HELDOUT6
        + HELDOUT7
        + HELDOUT8
        + HELDOUT9
        + HELDOUT10
    )
    assert_a_heldout_set_is_well_formed_and_new(tmp_path, "everyday_heldout11", HELDOUT11, others, 12, 8)
    assert_an_empty_reply_fails_every_task(tmp_path, HELDOUT11)
    named = [str(e["reply_names_missing"]) for t in HELDOUT11 for e in t.expect if "reply_names_missing" in e]
    assert len(set(named)) == len(named) >= 8
    assert_all_atom_requests_say_their_solvent(HELDOUT11)


@pytest.mark.parametrize(
    "name, tasks, earlier, written_before",
    [
        ("everyday_heldout12", HELDOUT12, [], 13),
        ("everyday_heldout13", HELDOUT13, HELDOUT12, 14),
        ("everyday_heldout14", HELDOUT14, HELDOUT12 + HELDOUT13, 15),
        ("everyday_heldout15", HELDOUT15, HELDOUT12 + HELDOUT13 + HELDOUT14, 16),
        ("everyday_heldout16", HELDOUT16, HELDOUT12 + HELDOUT13 + HELDOUT14 + HELDOUT15, 17),
        ("everyday_heldout17", HELDOUT17, HELDOUT12 + HELDOUT13 + HELDOUT14 + HELDOUT15 + HELDOUT16, 18),
        (
            "everyday_heldout18",
            HELDOUT18,
            HELDOUT12 + HELDOUT13 + HELDOUT14 + HELDOUT15 + HELDOUT16 + HELDOUT17,
            19,
        ),
        (
            "everyday_heldout19",
            HELDOUT19,
            HELDOUT12 + HELDOUT13 + HELDOUT14 + HELDOUT15 + HELDOUT16 + HELDOUT17 + HELDOUT18,
            20,
        ),
    ],
)
def test_the_newest_heldout_sets_are_well_formed_and_new(tmp_path, name, tasks, earlier, written_before):
    """everyday_heldout12 to 19: 30 tasks of issue 13's kinds each, written before tuning rounds 13, 14, 15, 16, 17,
    18, 19 and 20: no request or id shared with any other set (held-out 11, for 13 held-out 12, for 14 held-out 12 and
    13, for 15 held-out 12 to 14, for 16 held-out 12 to 15, for 17 held-out 12 to 16, for 18 held-out 12 to 17, and for
    19 held-out 12 to 18, included), no paths in a request, eight missing inputs of different kinds (each asked about,
    no call), and the same rules for every task as the earlier held-out sets."""
    assert len(tasks) == 30
    others = (
        load_tasks()
        + EVERYDAY
        + HELDOUT2
        + HELDOUT3
        + HELDOUT4
        + HELDOUT5
        + HELDOUT6
        + HELDOUT7
        + HELDOUT8
        + HELDOUT9
        + HELDOUT10
        + HELDOUT11
        + earlier
    )
    assert_a_heldout_set_is_well_formed_and_new(tmp_path, name, tasks, others, written_before, 8)
    assert_an_empty_reply_fails_every_task(tmp_path, tasks)
    named = [str(e["reply_names_missing"]) for t in tasks for e in t.expect if "reply_names_missing" in e]
    assert len(set(named)) == len(named) == sum(t.kind == "missing" for t in tasks) == 8
    assert_all_atom_requests_say_their_solvent(tasks)


def test_setup_cells_must_run_as_declared():
    """A task's own cells: a clean one that raised, or a failing one that did not, is a setup failure
    (the notebook was not what the task says), never blamed on the model."""
    from nbformat import v4

    from benchmarks.agent.harness import Task, notebook_sources, setup_failure

    task = Task(
        id="t",
        prompt="why did that fail?",
        expect=[],
        cells=["import mdtraj as md", {"source": "md.load('x.dcd')", "raises": "OSError"}],
    )
    sources = notebook_sources(task, ProviderChoice("local"), 60)
    assert sources[2:4] == ["import mdtraj as md", "md.load('x.dcd')"] and sources[4].startswith("%%ask\n")

    def nb(*errors):
        cells = [v4.new_code_cell("x") for _ in range(6)]
        for index, ename in errors:
            cells[index].outputs = [v4.new_output("error", ename=ename, evalue="...", traceback=[])]
        return v4.new_notebook(cells=cells)

    assert setup_failure(nb((3, "OSError")), task) is None
    assert "should raise OSError, got no error" in setup_failure(nb(), task)
    assert "should raise OSError, got ValueError" in setup_failure(nb((3, "ValueError")), task)
    failed = setup_failure(nb((2, "ModuleNotFoundError"), (3, "OSError")), task)
    assert "task cell 1 failed: ModuleNotFoundError" in failed


def test_a_fallthrough_call_fails_every_everyday_task(tmp_path):
    """The failure issue 13 saw most: an unrelated tool that needs no input (structure_list_models) run
    instead of the request. Every everyday task's call checks must catch it."""
    run = made_run(
        tmp_path,
        cells=[tool_cell("structure_list_models", "models")],
        calls=[("structure_list_models", {})],
        kernel_alive=True,
    )
    run.record["messages"].append({"role": "assistant", "content": "Here are the models."})
    for task in EVERYDAY + HELDOUT2:
        verdicts = [check_aspect(run, e, "call") for e in task.expect]
        assert False in verdicts, f"{task.id}: a fall-through call passes its call checks"


@pytest.mark.slow
def test_the_recorded_correct_calls_pass_every_everyday_task(tmp_path, fixtures, request):
    for name, tasks in (("everyday_dev", DEV), ("everyday_heldout", HELDOUT)):
        replayable = [t for t in tasks if not t.no_replay and t.id not in EVERYDAY_MD]
        summary = run_suite(
            replayable,
            ProviderChoice("replay"),
            tmp_path / name,
            cache=fixtures.cache,
            progress=False,
            set_name=name,
            workers=WORKERS,
        )
        table = format_table(summary)
        report(request.config, f"agent benchmark: {name} replay (mechanics)", table)
        assert summary["failed"] == 0 and summary["skipped"] == 0, table
        assert summary["call_ok"] == summary["outcome_ok"] == len(replayable), table
        assert summary["missing_input_calls"] == 0 and f"[{name}] right tool and arguments" in table


@pytest.mark.slow
def test_wrong_calls_fail_everyday_tasks_in_the_kernel(tmp_path, fixtures):
    wrong = tmp_path / "wrong"
    wrong.mkdir()
    fallthrough = [
        {"text": "Here are the models.", "tool_calls": [{"name": "structure_list_models", "arguments": {}}]},
        {"text": "Done."},
    ]
    turns = {
        # an unrelated call where the input cannot be found
        "dev_missing_trajectory": fallthrough,
        # an unrelated call instead of explaining the failed cell
        "dev_explain_error": fallthrough,
        # the older run, not the last one: the right tool, the wrong trajectory (8 frames, not 20)
        "held_last_trajectory_rmsd": [
            {
                "text": "RMSD.",
                "tool_calls": [{"name": "analysis_rmsd", "arguments": {"trajectory": "md_runs/villin_seed2"}}],
            },
            {"text": "Done."},
        ],
        # no call, but a reply that does not say what is missing
        "held_missing_sequence": [{"text": "Done."}],
        # the whole sequence scanned: the position was lost (22 x 19 scores, not 19)
        "held_scan_position": [
            {
                "text": "Scan.",
                "tool_calls": [
                    {"name": "structure_mutational_scan", "arguments": {"sequence": "MKTAYIAKQRQISFVKSHFSRQ"}}
                ],
            },
            {"text": "Done."},
        ],
    }
    for task_id, task_turns in turns.items():
        (wrong / f"{task_id}.json").write_text(json.dumps({"turns": task_turns}))
    tasks = [t for t in EVERYDAY if t.id in turns]
    summary = run_suite(
        tasks,
        ProviderChoice("replay", replay_dir=wrong),
        tmp_path / "out",
        cache=fixtures.cache,
        progress=False,
        set_name="everyday (wrong calls)",
        workers=WORKERS,
    )
    results = {r["id"]: r for r in summary["tasks"]}
    assert {r["status"] for r in results.values()} == {"FAIL"}, format_table(summary)
    assert "structure_list_models" in results["dev_missing_trajectory"]["reason"]
    assert results["dev_missing_trajectory"]["call_ok"] is False
    assert summary["missing_input_calls"] == 1
    assert "unrelated tool calls" in results["dev_explain_error"]["reason"]
    last = results["held_last_trajectory_rmsd"]
    assert last["call_ok"] is True and last["outcome_ok"] is False and "= 8 outside [20, 20]" in last["reason"]
    silent = results["held_missing_sequence"]
    assert silent["call_ok"] is True and silent["outcome_ok"] is False and "sequence" in silent["reason"]
    assert results["held_scan_position"]["call_ok"] is False


def test_the_command_line_runs_a_named_set(tmp_path):
    import subprocess

    out = tmp_path / "bench"
    done = subprocess.run(
        [
            sys.executable,
            str(REPO_ROOT / "benchmarks" / "agent" / "run.py"),
            "--provider",
            "replay",
            "--set",
            "everyday_heldout",
            "--tasks",
            "held_missing_sequence,held_capabilities",
            "--out",
            str(out),
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "agent benchmark [everyday_heldout]" in done.stdout and "score: 2/2 passed (100%)" in done.stdout
    assert "[everyday_heldout] right tool and arguments: 2/2 (100%); useful outcome: 2/2 (100%)" in done.stdout
    assert "requests whose input cannot be found: 0" in done.stdout
    assert json.loads((out / "results.json").read_text())["set"] == "everyday_heldout"
    again = subprocess.run(
        [sys.executable, str(REPO_ROOT / "benchmarks" / "agent" / "run.py"), "--set", "tuned"],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert again.returncode != 0 and "invalid choice: 'tuned'" in again.stderr
