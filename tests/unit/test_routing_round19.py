"""Round 19 of the router: held-out 17's failures, each as a mechanism, in wordings of our own.

An entry of a kernel dict (``sims['wt']``) is an input, passed as the expression, and a key the dict does not hold is
named missing; a broken run variable keeps the others usable; "what does the nvt_ps setting do?" is answered from the
parameter's own documentation; "ignore the 1st picosecond" starts at 1 ps; "my four repeats" are replicas; "the shorter
of my two runs" is the shorter run; "For X, I'd like A and B, please" is a step per item; "export this notebook as
NAME" names the export; "the NMR model" is the structure file; "the closed state" of a protein with one structure here
is missing, and a state a run passes through ("the unfolded state") is not.
(The general check of round 19, a word nothing explains, is tests/unit/test_unknown_words.py.)"""

from pathlib import Path

import mdtraj
import pytest

from kenkyu.assistant.cells import action_code
from kenkyu.assistant.resolver import gather
from kenkyu.core.documented import documented_answer
from kenkyu.core.routing import (
    destination,
    missing_message,
    missing_object,
    repeats_as_replicas,
    resolve_slot,
    steps_of,
    time_bounds,
)

from test_routing_bindings_r9 import DHFR_PDB, STRING, TOOLS, VILLIN_PDB
from test_routing_round12 import NEWER, OLDER, _run, _tool

VILLIN = Path(__file__).resolve().parents[2] / "kenkyu" / "data" / "villin_1vii.pdb"


@pytest.fixture(scope="module")
def sims():
    traj = mdtraj.load(str(VILLIN))
    return {"wt": traj, "mut": traj[0]}


def test_an_entry_of_a_kernel_dict_is_an_input_passed_as_the_expression(sims, tmp_path):
    candidates = gather({"sims": sims}, tmp_path, error=False)
    entry = next(c for c in candidates if c.value == "sims['wt']")
    assert entry.variable and entry.kind == "trajectory" and "sims['wt']" in entry.label
    found = resolve_slot("the Rg of sims['wt'], the mean is enough", "trajectory", candidates, STRING)
    assert found.candidate is entry
    code = action_code(_tool("analysis_radius_of_gyration"), {"trajectory": "sims['wt']"}, "rg", {"trajectory": entry})
    assert "trajectory=sims['wt']" in code  # the object itself, not the text "sims['wt']"


def test_a_key_the_dict_does_not_hold_is_named_with_the_keys_it_holds(sims, tmp_path):
    candidates = gather({"sims": sims}, tmp_path, error=False)
    step = "rmsf of sims['heated'] please"
    missing = missing_object(step, candidates)
    assert missing is not None and missing.phrase == "sims['heated']"
    assert "'wt'" in missing.fix and "'mut'" in missing.fix
    assert "called nothing" in missing_message(step, missing)
    assert missing_object('rmsf of sims["mut"] please', candidates) is None


def test_a_broken_run_variable_keeps_the_others_usable(sims, tmp_path):
    from kenkyu.tools.md import MDRun

    gone = MDRun(tmp_path / "md_runs" / "deleted")  # its folder (and run.json) is not there
    candidates = gather({"gone": gone, "traj": sims["wt"]}, tmp_path, error=False)
    assert [c.value for c in candidates if c.variable] == ["traj"]


@pytest.mark.parametrize(
    "question, tool, parameter",
    [
        ("what does the nvt_ps setting actually do?", "md_run", "nvt_ps"),
        ("What does the report interval change?", "md_run", "report_interval_ps"),
    ],
)
def test_a_question_about_an_option_is_answered_from_its_documentation(question, tool, parameter):
    answer = documented_answer(question, TOOLS)
    assert answer is not None and f"`{tool}`'s `{parameter}`" in answer


def test_a_question_about_no_option_of_any_tool_is_not_answered_so():
    assert documented_answer("what does the turbo option do?", TOOLS) is None


@pytest.mark.parametrize("said", ["leave out the 1st ps, it is equilibration", "drop the opening picosecond"])
def test_the_first_picosecond_left_out_said_as_an_ordinal_or_otherwise(said):
    assert time_bounds(f"hbonds of my run, {said}") == {"start_ps": 1.0}


def test_repeats_are_replicas_and_a_timings_repeats_are_not():
    assert repeats_as_replicas("do my 4 repeats agree on the loops?") == "do my 4 replicas agree on the loops?"
    assert repeats_as_replicas("how consistent are the repeat runs") == "how consistent are the replicas"
    timed = "time the backends with 4 repeats of 30 steps"
    assert repeats_as_replicas(timed) == timed


def test_the_shorter_of_two_runs_is_the_shorter_one():
    found = resolve_slot("hbonds in the shorter of my two simulations", "trajectory", [NEWER, OLDER], STRING)
    assert found.candidate is OLDER
    found = resolve_slot("rmsd of the longest of the runs", "trajectory", [OLDER, NEWER], STRING)
    assert found.candidate is NEWER


def test_a_list_after_a_wish_with_a_trailing_please_is_a_step_per_item():
    from kenkyu.core.providers.local_llama import _words_of

    steps = steps_of("For the newest run, I'd want the RMSF and the SASA, please", [_words_of(t) for t in TOOLS])
    assert len(steps) == 2 and "RMSF" in steps[0] and "SASA" in steps[1]


def test_export_this_notebook_as_a_name_names_the_export():
    assert destination("export this notebook as weekly_update for the group") == "weekly_update"
    assert destination("export the report to chapter_2") == "chapter_2"
    assert missing_object("export the report to chapter_2", [VILLIN_PDB]) is None  # what it writes, not reads


def test_the_nmr_model_is_the_structure_file():
    run = _run("md_runs/villin", 10, 4.0, 1)
    found = resolve_slot("Rg of villin, straight from the NMR model", "trajectory", [run, VILLIN_PDB], STRING)
    assert found.candidate is not None and found.candidate.value == "villin.pdb"


def test_a_second_state_of_a_protein_with_one_structure_here_is_missing():
    step = "backbone RMSD between the open conformation and the inhibited conformation of DHFR"
    missing = missing_object(step, [DHFR_PDB, VILLIN_PDB])
    assert missing is not None and "conformation" in missing.phrase  # (either state: neither is here)


def test_a_state_a_run_passes_through_is_no_missing_structure():
    assert missing_object("does the newest run reach the unfolded state?", [NEWER, OLDER, VILLIN_PDB]) is None
