"""Round 15 of the router: held-out 12 and 13's failures, each as a mechanism, in wordings of our own.

A file the request reads by name that is not here is asked about (its name never reaches a tool as the input);
mutations asked about and not given are asked for however low their tool ranks, and "score a couple of mutations" is
no scan; what the scientist has ("I have two replicas on disk.") is a remark; how far members part ways is the
ensemble's question; "the short one" is the shortest run; what the step's own verb makes ("minimise it, just the
relaxed structure") is no object to find; "A and the B" are two objects; "that mutant" is the earlier step's; "the
same, but ..." and an answer of mutations to "Which mutations?" follow up; a question about ability is matched by
all its words in any order; a name the request gives ("a report called x_1") is made, not found; an ensemble here
answers for the replicas; "I'd like A and B" is two steps; a window said after "of my run"; no list runs across
sentences; "the intramolecular ones" are no runs; a typo of an input's kind ("seqeunce") is corrected."""

import shutil
from pathlib import Path

import pytest

from kenkyu.core.concepts import corrected_spelling
from kenkyu.core.messages import Message
from kenkyu.core.providers.local_llama import _spelling_words
from kenkyu.core.routing import (
    REMARK,
    Candidate,
    ability_answer,
    absent_file,
    averaged_over_ensemble,
    destination,
    missing_object,
    runs_said,
    split_steps,
    steps_of,
)

from test_routing_bindings_r9 import TOOLS, VILLIN_PDB, WORDS
from test_routing_round12 import NEWER, OLDER, _turn
import test_routing_bindings_r9
import test_routing_round14

provider = test_routing_bindings_r9.provider  # the fixtures, here by their names
villin_here = test_routing_round14.villin_here
DATA = Path(__file__).resolve().parents[2] / "kenkyu" / "data"


# -- a file read by name that is not here ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "request_, missing",
    [
        ("embed the sequences in nanobodies_v2.fa with ESM-2", "nanobodies_v2.fa"),
        ("run villin with the parameters in my_protocol.json, implicit solvent", "my_protocol.json"),
        ("what is the RMSD of traj_old.xtc", "traj_old.xtc"),
    ],
)
def test_a_file_read_by_name_that_is_not_here_is_asked_about(villin_here, request_, missing):
    assert villin_here.choose_call(request_, TOOLS) is None
    assert f"`{missing}`" in villin_here.last_problem and "called nothing" in villin_here.last_problem


def test_a_file_the_request_writes_is_not_missing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    here = [VILLIN_PDB]
    assert absent_file("radius of gyration of villin.pdb, saved as rg_table.csv", here) is None
    assert absent_file("export the report to week_49.ipynb", here) is None
    assert absent_file("write the last frame into final_frame.pdb", here) is None
    assert absent_file("rg of villin_relaxed.pdb", here).phrase == "`villin_relaxed.pdb`"


# -- mutations asked about and not given --------------------------------------------------------------------------


def test_mutations_asked_about_and_not_given_are_asked_for_however_low_their_tool_ranks(villin_here):
    call = villin_here.choose_call("rate the mutations my supervisor suggested for villin using ESM-2", TOOLS)
    assert call is None and villin_here.last_problem.startswith("Which mutations?")


def test_a_couple_of_mutations_are_no_scan_but_a_scan_still_is(villin_here):
    assert villin_here.choose_call("could you score a few point mutations of villin with ESM?", TOOLS) is None
    assert villin_here.last_problem.startswith("Which mutations?")
    call = villin_here.choose_call("which substitutions at positions 50 to 52 of villin are tolerated? ESM-2", TOOLS)
    assert call is not None and call.name == "structure_mutational_scan"


def test_mutations_given_in_answer_to_which_mutations_finish_the_request(villin_here):
    messages = [Message("user", "score some substitutions of villin with ESM-2 please")]
    question, calls = _turn(villin_here, messages)
    assert not calls and question.startswith("Which mutations?")
    messages.append(Message("user", "L61A and K70M"))
    note, calls = _turn(villin_here, messages)
    assert [c.name for c in calls] == ["structure_variant_effects"]
    assert calls[0].arguments["mutations"] == ["L61A", "K70M"] and "as you answered" in note


def test_that_mutant_is_the_one_an_earlier_step_wrote():
    steps = steps_of("rate L61A of villin.pdb with ESM-2, then build that variant", WORDS, [VILLIN_PDB])
    assert len(steps) == 2 and steps[1].endswith("(L61A)")


# -- what the scientist has, and what they ask of it ---------------------------------------------------------------


@pytest.mark.parametrize(
    "request_",
    [
        "We have two replicas of dhfr stored on disk. Do they agree on the RMSF?",
        "I've already got a run of villin from Monday. How much does its RMSD drift?",
        "There are three replicas of the headpiece in the ensembles folder. Compare their flexibility",
    ],
)
def test_what_the_scientist_has_is_a_remark_not_a_step(request_):
    steps = split_steps(request_, WORDS)
    assert len(steps) == 1 and REMARK in steps[0]


@pytest.mark.parametrize(
    "step, expected",
    [
        ("how consistent are the replicas on the radius of gyration?", True),
        ("do my replicas disagree about which loop moves?", True),
        ("rmsf of replica 2", False),
    ],
)
def test_how_far_members_part_ways_is_the_ensembles_question(step, expected):
    assert averaged_over_ensemble(step) is expected


def test_with_an_ensemble_here_its_own_tool_answers_for_the_replicas(provider, tmp_path):
    members = tmp_path / "md_runs" / "hp_reps"
    for i in (1, 2):
        (members / f"member_00{i}_r{i}").mkdir(parents=True)
    shutil.copy(DATA / "villin_1vii.pdb", tmp_path / "villin.pdb")
    ensemble = Candidate(
        "ensemble_folder",
        "md_runs/hp_reps",
        "md_runs/hp_reps (2 members)",
        names=("md_runs/hp_reps", "hp_reps"),
        aliases=("villin",),
        members=("md_runs/hp_reps/member_001_r1", "md_runs/hp_reps/member_002_r2"),
    )
    provider.use_notebook([VILLIN_PDB, ensemble])
    request_ = "I have two replicas of villin on disk. How consistent is the per-residue flexibility across them?"
    _, calls = _turn(provider, [Message("user", request_)])
    assert [c.name for c in calls] == ["ensembles_rmsf"] and calls[0].arguments["ensemble"] == "md_runs/hp_reps"


@pytest.mark.parametrize(
    "said, expected",
    [("the short one", OLDER), ("my longer simulation", NEWER), ("the brief run from Monday", OLDER)],
)
def test_a_run_told_apart_by_being_short_or_long(said, expected):
    picked, missing = runs_said(f"hydrogen bonds of {said}", [NEWER, OLDER])
    assert missing is None and picked == [expected]


# -- objects that are not missing ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "request_, missing",
    [
        ("relax villin.pdb in vacuum, 100 iterations; I only want the minimised structure back", False),
        ("fold MKTAYIAKQR with ESMFold and keep the predicted model", False),
        ("simulate the minimised villin structure for 2 ps in implicit solvent", True),
    ],
)
def test_what_the_steps_own_verb_makes_is_no_object_to_find(request_, missing):
    assert (missing_object(request_, [VILLIN_PDB]) is not None) is missing


def test_a_name_the_request_gives_is_made_not_found():
    assert destination("export everything as a report called week_49 please") == "week_49"
    assert missing_object("export everything as a report called week_49 please", [VILLIN_PDB]) is None
    assert missing_object("rmsf of run_b7", [VILLIN_PDB]) is not None


def test_the_ones_of_a_quantity_are_no_runs():
    assert missing_object("how many salt bridges does villin.pdb have? the long-range ones", [VILLIN_PDB]) is None


# -- steps ----------------------------------------------------------------------------------------------------------


def test_two_objects_said_with_their_articles_are_two_steps(tmp_path):
    from kenkyu.assistant.resolver import gather

    shutil.copy(DATA / "villin_1vii.pdb", tmp_path)
    shutil.copy(DATA / "dhfr" / "5dfr_minimized.pdb", tmp_path)
    steps = steps_of("contrast how big dhfr and the headpiece are", WORDS, gather({}, tmp_path, error=False))
    assert len(steps) == 2 and "dhfr" in steps[0] and "headpiece" in steps[1]


def test_a_wish_leads_a_list_of_quantities():
    steps = split_steps("for my newest run I want the RMSF and the radius of gyration", WORDS)
    assert steps == ["for my newest run I want the RMSF", "for my newest run I want the radius of gyration"]


def test_two_windows_of_my_run_keep_the_run():
    steps = steps_of("compare the Rg of the first half of my run with the second half", WORDS, [NEWER])
    assert len(steps) == 2 and all("of my run" in s for s in steps)
    assert "first half" in steps[0] and "second half" in steps[1]


def test_no_list_runs_across_sentences():
    steps = split_steps("How stable was the later, longer run? RMSD over its last 5 frames", WORDS)
    assert len(steps) == 1


def test_the_same_but_with_a_comma_follows_up():
    from kenkyu.core.followup import Previous, follow_up

    previous = Previous(
        "how many residue contacts does md_runs/hp_long have per frame?", (("trajectory", NEWER.value),)
    )
    followed = follow_up("ok now the same, but only between 1 and 2 ps", previous, [NEWER, OLDER], lambda text: False)
    assert followed is not None
    assert followed.request.startswith("how many residue contacts does md_runs/hp_long have per frame")
    assert followed.request.endswith("but only between 1 and 2 ps")


# -- questions and spelling ----------------------------------------------------------------------------------------


def test_an_ability_question_is_matched_by_all_its_words_in_any_order():
    answer = ability_answer("could you make mutants of a protein and run them next to the wild type?", TOOLS)
    assert answer is not None and "mutants_simulate_mutants" in answer and "wild type" in answer


def test_a_typo_of_an_inputs_kind_is_corrected():
    assert (
        corrected_spelling("the peptide seqeunce I typed", _spelling_words(TOOLS, [])) == "the peptide sequence I typed"
    )


def test_a_ligand_asked_about_where_the_structures_hold_only_protein_is_missing(tmp_path, monkeypatch):
    from kenkyu.assistant.resolver import gather

    shutil.copy(DATA / "villin_1vii.pdb", tmp_path)
    monkeypatch.chdir(tmp_path)
    here = gather({}, tmp_path, error=False)
    missing = missing_object("which residues of villin touch the bound inhibitor?", here)
    assert missing is not None and missing.phrase == "inhibitor" and "ligand" in missing.what
    assert missing_object("which residues of villin touch each other?", here) is None
    # a structure with a hetero group other than water holds one
    lines = (tmp_path / "villin_1vii.pdb").read_text().splitlines()
    het = "HETATM 9999  C1  LIG X 101      10.000  10.000  10.000  1.00  0.00           C"
    (tmp_path / "complex.pdb").write_text("\n".join([*lines[:-1], het, "END"]) + "\n")
    assert (
        missing_object("which residues touch the bound inhibitor in complex.pdb?", gather({}, tmp_path, error=False))
        is None
    )
