"""Round 18 of the router: held-out 16's failures, each as a mechanism, in wordings of our own.

A window said any way ("the back half", "the opening three picoseconds"); "my most recnet run" read through its typo;
"call it for_the_pi" names what the step makes; a name the failed cell's own code says is no missing object; runs
told apart by their order in a list ("older run, newer run"); a list with what is said of each item after it ("Rg and
SASA, each averaged over frames"); a yes-no question about replicas here launches no new run; "C-alphas within 7 Å of
one another" are contacts by the CA scheme; "the same number for dhfr" repeats the previous request on dhfr; a
question that goes on asking the notes ("... and did it reach the native fold?") stays one question; "which force
field goes into an implicit-solvent simulation here?" is answered from md.run's documentation, with no call; the
overview lists ensembles; "the sequence from my latest run" is read from the run; a dict of sequences in the kernel is
passed as FASTA; a fine-tuned checkpoint of the scientist's own that is not here is named missing."""

import os

import pytest

from kenkyu.core.documented import documented_answer
from kenkyu.core.followup import Previous, follow_up
from kenkyu.core.routing import (
    Candidate,
    ToolRouter,
    missing_object,
    resolve_slot,
    split_objects,
    split_steps,
    steps_of,
    window_tokens,
)

from test_routing_bindings_r9 import DHFR_PDB, STRING, TOOLS, VILLIN_PDB, WORDS
from test_routing_round12 import NEWER, OLDER, _tool


@pytest.mark.parametrize(
    "text, window",
    [
        ("hydrogen bonds over the back half of it", "last half"),
        ("rmsd for the opening three picoseconds only", "first 3 ps"),
        ("rg over the tail 10% of the run", "last 10%"),
        ("the front quarter of the trajectory", "first quarter"),
    ],
)
def test_a_window_said_any_way(text, window):
    assert window_tokens(text) == [window]


def test_an_earlier_run_is_no_window():
    assert window_tokens("rmsd of the earlier 4 ps run") == []


def test_call_it_names_what_the_step_makes():
    assert missing_object("turn this notebook into a rerunnable report and call it for_the_pi", [VILLIN_PDB]) is None


def test_a_name_the_failed_cells_code_says_is_no_missing_object():
    error = Candidate(
        "error",
        "IndexError: index 20 is out of bounds for axis 0 with size 20\nin the line: final_snapshot = run_traj[20]",
        "the last error (IndexError)",
        names=("error",),
    )
    assert missing_object("why is python yelling at me about the final_snapshot line??", [VILLIN_PDB, error]) is None
    assert missing_object("why is python yelling at me about the final_frame line??", [VILLIN_PDB, error]) is not None


def test_runs_listed_by_their_order_are_a_step_each():
    steps = split_objects("0.6 nm contacts: older run, newer run, side by side please", lambda _: False)
    assert len(steps) == 2 and "the older run" in steps[0] and "the newer run" in steps[1]
    found = resolve_slot(steps[1], "trajectory", [NEWER, OLDER], STRING)
    assert found.candidate is not None and found.candidate.value == NEWER.value


def test_what_is_said_of_each_item_stays_with_each():
    from kenkyu.core.providers.local_llama import _words_of

    steps = split_steps(
        "for the villin trajectory: radius of gyration and total SASA, each averaged over frames",
        [_words_of(t) for t in TOOLS],
    )
    assert len(steps) == 2 and all(s.endswith("each averaged over frames") for s in steps)


def test_a_yes_no_question_about_replicas_here_launches_no_run():
    ensemble = Candidate(
        "ensemble_folder", "md_runs/villin_replicas", "md_runs/villin_replicas (ensemble, 3 runs)", names=("villin",)
    )
    ranked = ToolRouter().rank(
        "Do the three replica sims tell the same story about per-residue CA wobble?",
        TOOLS,
        candidates=[ensemble, NEWER],
    )
    assert ranked[0].tool.name == "ensembles_rmsf"


def test_c_alphas_near_one_another_are_ca_contacts():
    from kenkyu.core.routing import constrained_arguments_schema, keyword_bonus

    step = "For villin, which C-alphas sit within 7 Å of one another?"
    assert keyword_bonus(step, _tool("analysis_contacts")) > 0
    schema = constrained_arguments_schema(_tool("analysis_contacts"), step)
    assert schema["properties"]["scheme"].get("enum") == ["ca"]


def test_the_same_number_for_another_thing_repeats_the_previous_request():
    previous = Previous(
        "solvent accessible surface area of the villin crystal structure?", (("trajectory", "villin.pdb"),)
    )
    followed = follow_up("cool - and the same number for dhfr?", previous, [VILLIN_PDB, DHFR_PDB], lambda _: False)
    assert followed is not None and "dhfr" in followed.request and "solvent accessible" in followed.request


def test_a_question_that_goes_on_asking_the_notes_stays_one_question():
    request_ = (
        "According to my reading notes, who ran the first microsecond-long simulation of the headpiece, "
        "and did it reach the native fold?"
    )
    assert len(steps_of(request_, WORDS, [VILLIN_PDB])) == 1


def test_how_kenkyu_sets_a_method_up_is_answered_from_its_documentation():
    answer = documented_answer(
        "Before I trust any of this: which force field and which solvent model go into an implicit-solvent "
        "simulation here?",
        TOOLS,
    )
    assert answer is not None and "ff99SB-ILDN" in answer and "OBC" in answer and "`solvent`" in answer
    assert "2.0" in documented_answer("what's the default time step?", TOOLS)
    # (a question about a run of the scientist's is the notebook's, and a quantity is no setting)
    assert documented_answer("which force field did my run use?", TOOLS) is None
    assert documented_answer("what rmsd does villin reach here?", TOOLS) is None


def test_the_overview_lists_ensembles(tmp_path):
    from kenkyu.assistant import notebook_tools

    (tmp_path / "md_runs" / "villin_replicas").mkdir(parents=True)
    (tmp_path / "md_runs" / "villin_replicas" / "ensemble.json").write_text("{}")
    home = os.getcwd()
    os.chdir(tmp_path)
    try:
        shown = str(notebook_tools.overview("which simulations have I got lying around?"))
    finally:
        os.chdir(home)
    assert "md_runs/villin_replicas" in shown and "ensemble" in shown


def test_the_sequence_from_a_run_is_read_from_the_run():
    found = resolve_slot("fold the sequence from my latest run with ESMFold", "sequences", [NEWER, OLDER], STRING)
    assert found.candidate is not None and found.candidate.value == NEWER.value
    # (a sequence unsaid is asked about, never a run's)
    assert resolve_slot("fold it with ESMFold", "sequences", [NEWER, OLDER], STRING).candidate is None


def test_a_dict_of_sequences_is_passed_as_fasta():
    from kenkyu.assistant.resolver import variables

    seqs = {"hp36": "MLSDEDFKAVFGMTRSAFANLPLWKQQNLKKEKGLF", "hp36_K25A": "MLSDEDFKAVFGMTRSAFANLPLWAQQNLKKEKGLF"}
    (found,) = [c for c in variables({"seqs": seqs, "notes": {"a": "not a protein!"}}) if c.kind == "sequence"]
    assert found.names == ("seqs",) and found.value.count(">") == 2 and ">hp36_K25A\n" in found.value


def test_a_checkpoint_of_ones_own_that_is_not_here_is_missing(tmp_path):
    home = os.getcwd()
    os.chdir(tmp_path)
    try:
        step = "Score K65A on villin with my stability fine-tuned ESM checkpoint, not the stock one."
        missing = missing_object(step, [VILLIN_PDB])
        assert missing is not None and "checkpoint" in missing.what
        assert missing_object("score K65A on villin with ESM-2", [VILLIN_PDB]) is None
        (tmp_path / "esm2_stability.pt").write_bytes(b"")
        assert missing_object(step, [VILLIN_PDB]) is None
    finally:
        os.chdir(home)


def test_a_restated_step_and_what_the_scientist_keeps_for_themselves_are_no_steps():
    request_ = (
        "Energy-minimize dhfr in vacuum, 300 iterations tops. Only the minimization; I'll set up the dynamics myself."
    )
    steps = steps_of(request_, WORDS, [DHFR_PDB])
    assert len(steps) == 1 and steps[0].startswith("Energy-minimize dhfr")
    assert len(steps_of("minimise dhfr. I'll run the md myself later.", WORDS, [DHFR_PDB])) == 1
    # (a second step of another tool stays one: "minimise dhfr, then only the rmsd of the run")
    assert len(steps_of("minimise dhfr, then simulate it for 2 ps", WORDS, [DHFR_PDB])) == 2


@pytest.mark.parametrize(
    "text, window",
    [
        ("is villin still helical at the end of my simulation?", ["last 10%"]),
        ("how much helix is left by the end?", ["last 10%"]),
        ("rg at the start of the run", ["first 10%"]),
        ("at the end, export a report", []),
    ],
)
def test_the_end_of_a_run_is_its_last_tenth(text, window):
    assert window_tokens(text) == window
