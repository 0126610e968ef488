"""Round 14 of the router: held-out 11's failures, each as a mechanism, in wordings of our own.

A substitution said with its wild type in words ("Leu4 to Ala", "K65 for alanine") needs no sequence; a protein is
also called by the kind of protein it is ("the enzyme" when one enzyme's file is here); what the scientist will do
later ("before I simulate anything, ...") is no step; a describing lead clause ("for whichever run is newest, ...")
belongs to the question; a part that only points at a run is the object of the part before it; a setting or a result
said without a verb after a step is more of that step; "it" after a remark about a thing is that thing; a window in
the middle of a run; "residue by residue" is per_residue; a typo of a word read as another ("replciates") is
corrected; "I need 3 replicates" makes them; "beats OpenMM's CPU platform" is the backend timing."""

import shutil
from pathlib import Path

import pytest

from kenkyu.assistant.resolver import gather
from kenkyu.core.concepts import protein_nicknames
from kenkyu.core.messages import Message
from kenkyu.core.routing import constrained_arguments_schema, mutation_tokens, split_steps, steps_of, window_tokens

from test_routing_bindings_r9 import TOOLS, WORDS
from test_routing_round12 import NEWER, OLDER, _tool, _turn
import test_routing_bindings_r9

provider = test_routing_bindings_r9.provider  # the fixture, here by its name
DATA = Path(__file__).resolve().parents[2] / "kenkyu" / "data"


@pytest.fixture
def villin_here(provider, tmp_path):
    """The stand-in provider with villin's file in a folder of its own, gathered as the agent gathers it."""
    shutil.copy(DATA / "villin_1vii.pdb", tmp_path)
    provider.use_notebook(gather({}, tmp_path, error=False))
    return provider


@pytest.mark.parametrize(
    "said, expected",
    [
        ("how tolerated are Trp7 to Phe and Gly12 into Ala?", ["W7F", "G12A"]),
        ("score glutamate 3 to glutamine with ESM-2", ["E3Q"]),
        ("swap K65 for alanine in the headpiece", ["K65A"]),
        ("what about Lys13Glu", ["K13E"]),
        ("R20 -> A please", ["R20A"]),
        ("run 3 replicas at 300 K for 2 ps", []),
        ("keep K65 for a while", []),
        ("frames 5 to 8 of the run", []),
    ],
)
def test_a_substitution_that_names_its_wild_type_needs_no_sequence(said, expected):
    assert mutation_tokens(said) == expected


def test_a_protein_is_also_called_by_its_kind():
    assert "enzyme" in protein_nicknames(("dhfr",)) and "folate enzyme" in protein_nicknames(("5dfr_minimized", "dhfr"))
    assert "enzyme" not in protein_nicknames(("villin",))


@pytest.mark.parametrize(
    "request_, tool",
    [
        ("show me the enzyme in 3D", "viz_show_structure"),
        ("how compact is the folate enzyme? just the file, no md", "analysis_radius_of_gyration"),
    ],
)
def test_the_one_enzyme_here_is_the_enzyme(provider, tmp_path, request_, tool):
    shutil.copy(DATA / "villin_1vii.pdb", tmp_path)
    shutil.copy(DATA / "dhfr" / "5dfr_minimized.pdb", tmp_path)
    provider.use_notebook(gather({}, tmp_path, error=False))
    call = provider.choose_call(request_, TOOLS)
    assert call is not None and call.name == tool, (request_, provider.last_problem)
    assert Path(list(call.arguments.values())[0]).name == "5dfr_minimized.pdb"


def test_an_answer_naming_the_kind_of_protein_finishes_the_request(provider, tmp_path):
    shutil.copy(DATA / "villin_1vii.pdb", tmp_path)
    shutil.copy(DATA / "dhfr" / "5dfr_minimized.pdb", tmp_path)
    provider.use_notebook(gather({}, tmp_path, error=False))
    messages = [Message("user", "put the protein in the 3D viewer")]
    question, calls = _turn(provider, messages)
    assert not calls and "Which" in question, question
    messages.append(Message("user", "the enzyme"))
    calls = _turn(provider, messages)[1]
    assert [c.name for c in calls] == ["viz_show_structure"]
    assert Path(calls[0].arguments["structure"]).name == "5dfr_minimized.pdb"


@pytest.mark.parametrize(
    "request_",
    [
        "Before I run any dynamics, minimise villin in vacuum and give me the energies",
        "before we simulate it: minimise villin in vacuum",
    ],
)
def test_what_the_scientist_does_later_is_no_step(request_):
    steps = split_steps(request_, WORDS)
    assert len(steps) == 1 and steps[0].lower().startswith("minimise villin"), steps


def test_a_setting_or_result_said_without_a_verb_is_more_of_the_step_before():
    steps = split_steps("Minimise villin in implicit water; 500 iterations at most is fine. Energies too.", WORDS)
    assert len(steps) == 1, steps
    schema = constrained_arguments_schema(_tool("md_minimize"), steps[0])
    assert schema["properties"]["max_iterations"] == {"enum": [500]}
    # a step naming another tool stays a step
    assert len(split_steps("simulate villin for 2 ps in vacuum; the rmsd afterwards", WORDS)) == 2


@pytest.mark.parametrize(
    "request_, run",
    [
        ("radius of gyration, the run before the latest one", "md_runs/hp_short"),
        ("For whichever simulation is oldest, what's its radius of gyration?", "md_runs/hp_short"),
        ("For whatever run is the newest: the radius of gyration over its last half", "md_runs/hp_long"),
    ],
)
def test_a_run_pointed_at_in_its_own_clause_is_the_questions_object(provider, request_, run):
    provider.use_notebook([NEWER, OLDER])
    steps = steps_of(request_, WORDS, [NEWER, OLDER])
    assert len(steps) == 1, steps
    call = provider.choose_call(steps[0], TOOLS)
    assert call is not None and call.name == "analysis_radius_of_gyration", provider.last_problem
    assert call.arguments["trajectory"] == run


def test_it_after_a_remark_about_a_thing_is_that_thing(provider):
    provider.use_notebook([NEWER, OLDER])
    request_ = "The report we wrote yesterday is stale now. Redo it and replace the old one"
    steps = steps_of(request_, WORDS, [NEWER, OLDER])
    assert len(steps) == 1, steps
    call = provider.choose_call(steps[0], TOOLS)
    assert call is not None and call.name == "notebook_tools_export_report", provider.last_problem
    assert call.arguments.get("overwrite") is True


@pytest.mark.parametrize(
    "said, window",
    [("the middle ten frames", "middle 10"), ("over the middle third", "middle third"), ("last five frames", "last 5")],
)
def test_windows_in_the_middle_and_in_words(said, window):
    assert window_tokens(said) == [window]


@pytest.mark.parametrize(
    "said, per_residue",
    [
        ("the SASA residue by residue", True),
        ("solvent exposure for each residue of villin", True),
        ("total SASA of the run", None),
        ("the SASA, but don't break it down by residue", False),
    ],
)
def test_per_residue_said_in_other_words(said, per_residue):
    narrowed = constrained_arguments_schema(_tool("analysis_sasa"), said)["properties"].get("per_residue")
    assert narrowed == (None if per_residue is None else {"enum": [per_residue]})


def test_a_typo_of_a_word_read_as_another_is_corrected_and_replicates_needed_are_made(villin_here):
    provider = villin_here
    messages = [Message("user", "We need four replciates of villin in vacuum, 1 ps each")]
    calls = _turn(provider, messages)[1]
    assert [c.name for c in calls] == ["ensembles_run"]
    assert calls[0].arguments["replicas"] == 4


@pytest.mark.parametrize(
    "request_",
    [
        "does your own force backend beat OpenMM's CPU platform on villin in vacuum? 20 steps",
        "I need numbers for a talk: whether the kenkyu backend beats openmm on villin in vacuum",
    ],
)
def test_beating_openmm_is_the_backend_timing(villin_here, request_):
    provider = villin_here
    call = provider.choose_call(request_, TOOLS)
    assert call is not None and call.name == "md_compare_backends", provider.last_problem


# -- every run asked about, a described object, a chain that is not there ------------------------------------------


@pytest.mark.parametrize(
    "request_",
    [
        "how helical are my two runs? does either lose its helices?",
        "the radius of gyration of both simulations side by side",
        "is the rg of each run stable?",
    ],
)
def test_every_run_asked_about_is_a_step_each(request_):
    steps = steps_of(request_, WORDS, [NEWER, OLDER])
    assert len(steps) == 2 and steps[0].endswith("(md_runs/hp_short)") and steps[1].endswith("(md_runs/hp_long)")


def test_a_count_of_runs_that_is_not_here_is_not_split():
    assert len(steps_of("compare the rg of my three runs", WORDS, [NEWER, OLDER])) == 1


def test_a_trajectory_told_apart_by_its_frame_count(provider):
    from kenkyu.core.routing import Candidate

    whole = Candidate("trajectory", "whole", "`whole` (Trajectory, 596 atoms, 20 frames)", True, ("whole",), 3)
    tail = Candidate("trajectory", "tail", "`tail` (Trajectory, 596 atoms, 5 frames)", True, ("tail",), 4)
    provider.use_notebook([whole, tail])
    call = provider.choose_call("for the five snapshots I kept from the end, how compact is it? rg please", TOOLS)
    assert call is not None and call.arguments["trajectory"] == "tail", provider.last_problem
    # a window's count is no count of a thing's frames: "the last 20 frames" is a window, not `whole` by its count
    call = provider.choose_call("rg over the last 20 frames", TOOLS)
    assert call is not None and call.arguments["frames"] == "last 20" and call.arguments["trajectory"] == "tail"


def test_a_chain_the_structure_lacks_is_named_with_the_chains_it_has(provider, tmp_path):
    shutil.copy(DATA / "dhfr" / "5dfr_minimized.pdb", tmp_path / "dhfr.pdb")
    (tmp_path / "complex.pdb").write_text(
        "".join(
            f"ATOM  {i:5d}  CA  ALA {chain}{i:4d}    {i:8.3f}   0.000   0.000  1.00  0.00           C\n"
            for i, chain in enumerate("AAAACCCC", start=1)
        )
    )
    provider.use_notebook(gather({}, tmp_path, error=False))
    assert provider.choose_call("contacts between chain A and chain B of dhfr", TOOLS) is None
    assert "no chain B (dhfr.pdb has one chain, without a chain id (read as chain A))" in provider.last_problem
    assert provider.choose_call("which residues of chain D in complex touch chain A?", TOOLS) is None
    assert "chain D (complex.pdb has chains A, C only)" in provider.last_problem
    call = provider.choose_call("residue contacts between chain A and chain C of complex", TOOLS)
    assert call is not None and call.name == "analysis_contacts", provider.last_problem


@pytest.mark.parametrize(
    "request_",
    [
        "score the mutations from my list for villin with ESM-2",
        "how damaging are the substitutions we picked last week? ESM-2 on the headpiece",
    ],
)
def test_mutations_asked_about_but_not_given_call_nothing_else(villin_here, request_):
    provider = villin_here
    assert provider.choose_call(request_, TOOLS) is None
    assert provider.last_problem.startswith("Which mutations?") and "structure_variant_effects" in provider.last_problem


@pytest.mark.parametrize(
    "request_, tool",
    [
        ("score K65A and L61G of villin with ESM-2", "structure_variant_effects"),
        ("scan every mutation at positions 45 to 48 of villin with ESM-2", "structure_mutational_scan"),
    ],
)
def test_mutations_written_or_positions_scanned_still_run(villin_here, request_, tool):
    provider = villin_here
    call = provider.choose_call(request_, TOOLS)
    assert call is not None and call.name == tool, provider.last_problem


def test_a_count_of_one_said_in_the_singular_binds():
    schema = constrained_arguments_schema(
        _tool("md_compare_backends"), "time both backends on villin in vacuum, 20 steps, one repeat each"
    )
    assert schema["properties"]["repeats"] == {"enum": [1]} and schema["properties"]["steps"] == {"enum": [20]}


def test_a_run_variable_is_not_named_by_a_run_told_apart_by_its_order(tmp_path):
    """kenkyu calls a run it makes `run`: "the newest run" is the newest run, whichever variable holds it; "my run",
    "rmsf of run" or "`run`" still name the variable (newcomer r14: DSSP of "the newest run" read the older `run`)."""
    from kenkyu.core.routing import Candidate, resolve_slot

    older = Candidate(
        "trajectory", "run", "`run` (MDRun, md_runs/a, 2 ps, seed 4)", True, ("run",), 10, path="md_runs/a"
    )
    newer = Candidate(
        "trajectory", "run_2", "`run_2` (MDRun, md_runs/b, 2 ps, seed 9)", True, ("run_2",), 11, path="md_runs/b"
    )
    said = {
        "secondary structure over the middle third of the newest run": "run_2",
        "the run from before the newest one - its rg over the last half": "run",
        "rmsf of run over the last half": "run",
        "rmsf of `run`": "run",
        "rg of my run": "run",
    }
    for step, variable in said.items():
        match = resolve_slot(step, "trajectory", [newer, older], {"type": "string"})
        assert match.candidate is not None and match.candidate.value == variable, (step, match)
