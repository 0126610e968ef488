"""Round 17 of the router: held-out 15's failures, each as a mechanism, in wordings of our own.

A run is told apart by the day it was made ("the run I did on new year's day", "Monday's simulation") and by its
frame count said as an adjective ("the 8-frame run"); "the run object I opened above" is the kernel's variable; "the
older of my two villin runs" is one of them; "the deposited structure" is the file; a list after a remark ("For the
8-frame run: rmsd, rg, sasa") is one step per item; "compare Q of A and of B" is a step per object; "its secondary
structure" in a follow-up is the previous request's object; "positions 10 through 12" is a range; a question put to
the scientist's notes is the literature's; a window past the end of every run, and a report never exported, are
named missing, with no call."""

import datetime as dt
import os

import pytest

from kenkyu.core.dates import day_said
from kenkyu.core.followup import Previous, follow_up
from kenkyu.core.routing import (
    Candidate,
    evidence_bonus,
    missing_object,
    position_tokens,
    resolve_slot,
    split_objects,
    split_steps,
    steps_of,
)

from test_routing_bindings_r9 import STRING, TOOLS, VILLIN_PDB, WORDS
from test_routing_round12 import NEWER, OLDER, _run, _tool

TODAY = dt.date(2026, 12, 2)  # a Wednesday


@pytest.mark.parametrize(
    "text, day",
    [
        ("backbone rmsd for the run I did on new year's day", dt.date(2026, 1, 1)),
        ("Monday's simulation", dt.date(2026, 11, 30)),
        ("the rg of the run from yesterday", dt.date(2026, 12, 1)),
        ("the trajectory I ran yesterday afternoon", dt.date(2026, 12, 1)),
        ("my run of 3 March", dt.date(2026, 3, 3)),
        ("the Dec 25th run", dt.date(2025, 12, 25)),  # (this year's is still to come)
        ("the run dated 2026-06-30", dt.date(2026, 6, 30)),
    ],
)
def test_the_day_a_request_names(text, day):
    said = day_said(text, TODAY)
    assert said is not None and said[1] == day


@pytest.mark.parametrize(
    "text", ["can you run it today?", "may I run 3 replicas", "march on with the rmsd", "rmsd of the last 4 frames"]
)
def test_no_day_where_none_is_said_of_a_run(text):
    assert day_said(text, TODAY) is None


def _dated(candidate: Candidate, day: dt.date) -> Candidate:
    from dataclasses import replace

    return replace(candidate, order=dt.datetime(day.year, day.month, day.day, 12).timestamp())


def test_a_run_is_told_apart_by_the_day_it_was_made_or_named_missing():
    newer, older = _dated(NEWER, dt.date.today()), _dated(OLDER, dt.date(2026, 1, 1))
    found = resolve_slot("backbone rmsd for the run I did on new year's day", "trajectory", [newer, older], STRING)
    assert found.candidate is not None and found.candidate.value == OLDER.value
    missing = missing_object("rg of the run I did on christmas eve", [newer, older])
    assert missing is not None and "christmas eve" in missing.phrase.lower()


def test_a_frame_count_said_as_an_adjective_picks_the_run():
    eight = Candidate("run_folder", "md_runs/a", "md_runs/a (villin_1vii.pdb, 8 frames)", names=("md_runs/a", "a"))
    twenty = Candidate(
        "run_folder", "md_runs/b", "md_runs/b (villin_1vii.pdb, 20 frames)", names=("md_runs/b", "b"), order=5
    )
    found = resolve_slot("rg of the 8-frame run", "trajectory", [twenty, eight], STRING)
    assert found.candidate is not None and found.candidate.value == "md_runs/a"


def test_the_run_object_opened_above_is_the_kernel_variable():
    held = Candidate(
        "trajectory", "first_try", "`first_try` (MDRun, md_runs/hp_short)", True, ("first_try",), 20, path=OLDER.value
    )
    step = "per-residue fluctuations for the run object I opened in the cell above"
    found = resolve_slot(step, "trajectory", [held, NEWER, OLDER], STRING)
    assert found.candidate is not None and found.candidate.value == "first_try"
    assert resolve_slot("per-residue fluctuations for my run", "trajectory", [held, NEWER, OLDER], STRING).ambiguous


def test_the_older_of_my_two_runs_is_one_of_them():
    assert steps_of("Rg over time for the older of my two villin runs", WORDS, [NEWER, OLDER]) == [
        "Rg over time for the older of my two villin runs"
    ]
    found = resolve_slot("Rg over time for the older of my two villin runs", "trajectory", [NEWER, OLDER], STRING)
    assert found.candidate is not None and found.candidate.value == OLDER.value


def test_the_deposited_structure_is_the_file():
    run = _run("md_runs/villin", 10, 4.0, 1)
    assert missing_object("what fraction of villin is helix in the deposited structure?", [VILLIN_PDB, run]) is None
    found = resolve_slot("the Rg of the deposited villin structure", "trajectory", [run, VILLIN_PDB], STRING)
    assert found.candidate is not None and found.candidate.value == "villin.pdb"


def test_a_list_after_a_remark_is_a_step_per_item():
    from kenkyu.core.providers.local_llama import _words_of

    steps = split_steps("For the 8-frame run: rmsd, radius of gyration, sasa", [_words_of(t) for t in TOOLS])
    assert steps == [
        "For the 8-frame run: rmsd",
        "For the 8-frame run: radius of gyration",
        "For the 8-frame run: sasa",
    ]


def test_compare_a_quantity_of_one_thing_and_of_another_is_a_step_each():
    request_ = "compare the Rg of the deposited villin structure and of my simulation of it"
    steps = split_objects(request_, lambda _: False)
    assert steps == ["Rg of the deposited villin structure", "Rg of my simulation of it"]
    # (one thing described, with "and" inside it, stays one step)
    assert split_objects("the rmsd of the run with salt and water", lambda _: False) == [
        "the rmsd of the run with salt and water"
    ]


def test_its_quantity_in_a_follow_up_is_the_previous_requests_object():
    previous = Previous("Rg over time for the older of my two villin runs", (("trajectory", OLDER.value),))
    names_a_tool = lambda text: "secondary structure" in text or "helical" in text  # noqa: E731
    followed = follow_up("and what about its secondary structure?", previous, [NEWER, OLDER], names_a_tool)
    assert followed is not None and OLDER.value in followed.request
    # ("fold this sequence and plot its contact map": "its" is the request's own object)
    own = "fold this sequence and plot its secondary structure"
    assert follow_up(own, previous, [NEWER, OLDER], names_a_tool) is None


@pytest.mark.parametrize(
    "text, positions",
    [
        ("positions 10 through 12 only", [10, 11, 12]),
        ("residues from 3 to 5", [3, 4, 5]),
        ("sites 7 thru 8 and 20", [7, 8, 20]),
    ],
)
def test_a_range_of_positions_said_any_way(text, positions):
    assert position_tokens(text) == positions


def test_a_question_put_to_the_notes_is_the_literatures():
    step = "My notes say changes happen faster in implicit solvent than in water. What reason do they give?"
    assert evidence_bonus(step, _tool("literature_ask")) > evidence_bonus(step, _tool("notebook_tools_overview"))
    # (a remark about the notes before an action asks them nothing)
    assert evidence_bonus("My notes say implicit is faster, so run villin", _tool("literature_ask")) == 0


def test_a_window_past_the_end_of_every_run_is_missing():
    missing = missing_object("RMSD for my simulation between 20 and 30 ps, please", [NEWER, OLDER])
    assert missing is not None and "4 ps" in missing.what
    assert missing_object("RMSD for my simulation between 2 and 3 ps", [NEWER, OLDER]) is None
    # (a run of unknown length may reach it)
    held = Candidate("trajectory", "traj", "`traj` (Trajectory, 596 atoms, 50 frames)", True, ("traj",), 30)
    assert missing_object("rmsd of traj after 20 ps", [NEWER, held]) is None


def test_a_report_never_exported_is_missing(tmp_path):
    home = os.getcwd()
    os.chdir(tmp_path)
    try:
        missing = missing_object("rerun the report I exported on Monday, but on dhfr", [VILLIN_PDB])
        assert missing is not None and "report" in missing.what
        assert missing_object("export a report of this notebook", [VILLIN_PDB]) is None
        (tmp_path / "analysis_report").mkdir()
        assert missing_object("rerun the report I exported on Monday, but on dhfr", [VILLIN_PDB]) is None
    finally:
        os.chdir(home)


def test_a_day_ruled_out_or_said_loosely_never_loses_the_run():
    newer, older = _dated(NEWER, dt.date.today()), _dated(OLDER, dt.date(2026, 1, 1))
    # ("the older one, not today's": every run of another day; found in the dry routes of held-out 6 and 9)
    found = resolve_slot("rmsd of the first run i did (not today's)", "trajectory", [newer, older], STRING)
    assert found.candidate is not None and found.candidate.value == OLDER.value
    # ("the run from yesterday, the short one" with no run from yesterday: the length decides, nothing is missing)
    step = "For the run from yesterday, the short one, which hydrogen bonds does it form?"
    assert missing_object(step, [newer, older]) is None
    assert resolve_slot(step, "trajectory", [newer, older], STRING).candidate.value == OLDER.value
