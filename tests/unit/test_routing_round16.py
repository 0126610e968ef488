"""Round 16 of the router: held-out 14's failures, each as a mechanism, in wordings of our own.

A lead that only announces a question ("Quick question before I start:") or names the means ("Using ESM-2, ...") is
no step; a phrase of a tool said with words between its own ("predicted to be in contact") speaks for it; the object
said between two quantities ("the RMSF of the run and its SASA too") is both's; "my two villin runs" are each run;
"the peptide I defined above" is the variable; "same for the other one" is the other input of that kind; a crash
question is answered with checkpoints and resume; measured data the request compares with is asked for when no data
file is here; a quote from the notes starts at the bullet that answers, not at the heading above it."""

import pytest

from kenkyu.core.followup import Previous, follow_up
from kenkyu.core.routing import (
    Candidate,
    keyword_bonus,
    missing_object,
    split_steps,
    steps_of,
    unserved,
)
from kenkyu.tools.literature._excerpt import excerpt

from test_routing_bindings_r9 import TOOLS, VILLIN_PDB, WORDS
from test_routing_round12 import NEWER, OLDER, _tool

SEQUENCE = Candidate("sequence", "MKTAYIAKQRQISFVKSHFSRQ", "`pep` (sequence, 22 residues)", True, ("pep",))


@pytest.mark.parametrize(
    "request_, first",
    [
        ("Quick question before I run anything: can a checkpoint be resumed?", "can a checkpoint be resumed?"),
        ("One question - how compact is villin.pdb?", "how compact is villin.pdb?"),
        ("Using ESM-2, which mutations of pep are tolerated?", "Which mutations of pep are tolerated (with ESM-2)?"),
    ],
)
def test_a_lead_that_announces_the_question_or_its_means_is_no_step(request_, first):
    assert steps_of(request_, WORDS, [VILLIN_PDB, SEQUENCE]) == [first]


def test_a_phrase_said_with_words_between_its_own_speaks_for_its_tool():
    step = "which residues of pep are predicted to be in contact?"
    assert keyword_bonus(step, _tool("structure_contact_map")) > 0
    assert keyword_bonus("which residues of pep are in contact?", _tool("structure_contact_map")) == 0


@pytest.mark.parametrize(
    "step, expected",
    [
        (
            "radius of gyration of the newest run and its solvent accessible surface as well",
            ["radius of gyration of the newest run", "solvent accessible surface of the newest run"],
        ),
        (
            "helix content of my run plus the per-residue flexibility",
            ["helix content of my run", "per-residue flexibility of my run"],
        ),
    ],
)
def test_the_object_between_two_quantities_is_boths(step, expected):
    from kenkyu.core.providers.local_llama import _words_of

    assert split_steps(step, [_words_of(t) for t in TOOLS]) == expected


def test_my_two_runs_of_a_protein_are_each_run():
    steps = steps_of("compare how compact my two villin runs are", WORDS, [NEWER, OLDER])
    assert len(steps) == 2 and {NEWER.value, OLDER.value} == {s.rsplit("(", 1)[-1].rstrip(")") for s in steps}


def test_the_variable_i_defined_above_is_no_missing_object():
    assert missing_object("fold the peptide I defined above with ESMFold", [SEQUENCE]) is None
    assert missing_object("fold the sequence I typed in earlier", [SEQUENCE]) is None


def test_same_for_the_other_one_is_the_other_input_of_that_kind():
    previous = Previous("rmsd of the newer villin run", (("trajectory", NEWER.value),))
    followed = follow_up("ok, same for the other one please", previous, [NEWER, OLDER], lambda _: False)
    assert followed is not None and OLDER.value in followed.request and NEWER.value not in followed.request


def test_a_crash_question_is_answered_with_checkpoints_and_resume():
    answer = unserved("what happens if my laptop dies in the middle of a long simulation?", TOOLS, [VILLIN_PDB])
    assert answer is not None and "resume=True" in answer and "checkpoint" in answer


@pytest.mark.parametrize(
    "request_", ["my notebook fails to load the trajectory, why?", "the kernel restarted; which runs do I have?"]
)
def test_a_crash_mentioned_without_asking_what_it_costs_is_another_question(request_):
    answer = unserved(request_, TOOLS, [VILLIN_PDB])
    assert answer is None or "resume=True" not in answer


def test_measured_data_the_request_compares_with_is_asked_for(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    missing = missing_object("does the RMSF agree with our NMR order parameters?", [NEWER])
    assert missing is not None and missing.phrase == "NMR"
    data = Candidate("data_file", "nmr_s2.csv", "nmr_s2.csv", names=("nmr_s2.csv",))
    assert missing_object("does the RMSF agree with our NMR order parameters?", [NEWER, data]) is None
    assert missing_object("what is the RMSF of the newest run?", [NEWER]) is None


def test_a_quote_from_the_notes_starts_at_the_bullet_that_answers():
    text = (
        "## The pocket: a ring of aromatic residues\n\n- Two loops close over it; the entrance is narrow.\n"
        "- The floor is lined by three tryptophans, Trp12, Trp30 and Trp77, stacked against the substrate.\n"
    )
    quote = excerpt(text, "which tryptophans line the floor of the pocket?", 200)
    assert quote.startswith("… - The floor is lined by three tryptophans, Trp12")
