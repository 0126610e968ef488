"""Round 11 of the router: held-out 9's failures and round 10's leftovers, each as a mechanism, in wordings of our own.

A quantity measured across frames (an RMSD, a fluctuation, anything over time) with only single structures here calls
nothing and names the missing trajectory; a variable defined in words ("settled = ...") is context; a later step's
pronoun is the object of the step before; how often something must hold ("at least half the time") is a frequency;
numbers bind to their own unit ("three replicas, a single ps each"); a window "between 1 and 3 ps" is start and end;
a report's switches ("no HTML", "and re-run it"); a failed call complained about by its function's name is the error
to explain."""

import pytest

from kenkyu.core.routing import (
    REMARK,
    Candidate,
    constrained_arguments_schema,
    frequency_said,
    missing_object,
    steps_of,
    time_bounds,
)

# The tools, the villin file and run, and the stand-in provider fixture, as round 9's router tests have them (pytest
# puts this folder on the path: the test modules here have no package)
from test_routing_bindings_r9 import TOOLS, VILLIN_PDB, VILLIN_RUN, WORDS
import test_routing_bindings_r9

provider = test_routing_bindings_r9.provider  # the fixture, here by its name
SETTLED = Candidate("trajectory", "settled", "`settled` (Trajectory, 8 frames)", True, ("settled",), 7)
FULL = Candidate("trajectory", "full", "`full` (Trajectory, 20 frames)", True, ("full",), 6)


def _tool(name: str):
    return next(t for t in TOOLS if t.name == name)


# -- a quantity across frames, with only a single structure here ----------------------------------------------------


@pytest.mark.parametrize(
    "request_, why",
    [
        ("plot the RMSD against time for my villin trajectory", "0 by definition"),
        ("how far does villin drift from where it started? backbone rmsd", "0 by definition"),
        ("which residues of villin fluctuate the most?", "across frames"),
        ("per-residue RMSF of villin.pdb please", "across frames"),
        ("how does the radius of gyration of villin change over time?", "more than one frame"),
    ],
)
def test_a_quantity_across_frames_of_a_single_structure_names_the_missing_trajectory(provider, request_, why):
    provider.use_notebook([VILLIN_PDB])
    assert provider.choose_call(request_, TOOLS) is None, request_
    problem = provider.last_problem
    assert "no trajectory" in problem and "villin.pdb is a single structure (one frame)" in problem, problem
    assert why in problem and "simulate villin.pdb" in problem


def test_a_single_structure_still_answers_what_one_frame_holds_and_a_run_is_still_analysed(provider):
    provider.use_notebook([VILLIN_PDB])
    for request, tool in (
        ("what's the radius of gyration of villin.pdb?", "analysis_radius_of_gyration"),
        ("secondary structure of villin, just the static structure", "analysis_dssp"),
    ):
        call = provider.choose_call(request, TOOLS)
        assert call is not None and call.name == tool, (request, provider.last_problem)
    provider.use_notebook([VILLIN_PDB, VILLIN_RUN])
    call = provider.choose_call("plot the RMSD against time for my villin trajectory", TOOLS)
    assert call is not None and call.name == "analysis_rmsd" and call.arguments["trajectory"] == "md_runs/villin"
    # a request that simulates first has its trajectory made by that step
    assert missing_object("simulate villin.pdb for 2 ps, then plot the RMSD over time", [VILLIN_PDB]) is None


def test_a_view_then_an_rmsd_of_nothing_asks_for_the_trajectory_not_an_rmsd_of_the_pdb(provider):
    provider.use_notebook([VILLIN_PDB])
    steps = steps_of("show me villin. then the RMSD", WORDS, [VILLIN_PDB])
    assert len(steps) == 2
    assert provider.choose_call(steps[1], TOOLS) is None and "no trajectory" in provider.last_problem


# -- context and pronouns across sentences --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "request_",
    [
        "ok so settled = what's left once I dropped equilibration. how far does its backbone wander? RMSD",
        "settled = the last 8 frames of full. backbone rmsd of it please",
        "fyi settled means the frames after equilibration. how much does it drift?",
    ],
)
def test_a_variable_defined_in_words_is_context_and_names_the_object(provider, request_):
    steps = steps_of(request_, WORDS, [SETTLED, FULL])
    assert len(steps) == 1 and REMARK in steps[0], steps
    provider.use_notebook([SETTLED, FULL])
    call = provider.choose_call(steps[0], TOOLS)
    assert call is not None and call.name == "analysis_rmsd" and call.arguments["trajectory"] == "settled", (
        provider.last_problem
    )


@pytest.mark.parametrize(
    "request_",
    [
        "view settled. then compute its RMSD",
        "show me settled. how far does its backbone wander from its first frame? RMSD",
        "open settled in the viewer, then the rmsd of it",
    ],
)
def test_a_later_steps_pronoun_is_the_object_the_step_before_named(provider, request_):
    steps = steps_of(request_, WORDS, [SETTLED, FULL])
    assert len(steps) == 2 and steps[1].endswith("(settled)"), steps
    provider.use_notebook([SETTLED, FULL])
    call = provider.choose_call(steps[1], TOOLS)
    assert call is not None and call.name == "analysis_rmsd" and call.arguments["trajectory"] == "settled"


def test_a_pronoun_after_a_step_that_makes_something_is_left_to_what_it_made():
    steps = steps_of("simulate villin.pdb for 2 ps in implicit solvent, then compute its RMSD", WORDS, [VILLIN_PDB])
    assert len(steps) == 2 and "villin.pdb" not in steps[1], steps


# -- numbers bound to what they count or measure --------------------------------------------------------------------


@pytest.mark.parametrize(
    "words, value",
    [
        ("only the pairs touching at least half the time", 0.5),
        ("hydrogen bonds present in more than half of the frames", 0.5),
        ("contacts that hold in 70% of frames", 0.7),
        ("bonds there 30 percent of the time", 0.3),
        ("contacts formed three quarters of the time", 0.75),
    ],
)
def test_how_often_something_must_hold_is_its_frequency(words, value):
    assert frequency_said(words) == pytest.approx(value)
    for tool in ("analysis_contacts", "analysis_hydrogen_bonds"):
        schema = constrained_arguments_schema(_tool(tool), words)
        assert schema["properties"]["min_frequency"] == {"enum": [pytest.approx(value)]}, (tool, words)


@pytest.mark.parametrize("words", ["contacts over the first half of the run", "rmsd of the last 10% of the trajectory"])
def test_a_windows_share_is_no_frequency(words):
    assert frequency_said(words) is None


@pytest.mark.parametrize(
    "request_, replicas, ps",
    [
        ("kick off three replica sims of villin in implicit solvent, a single ps each", 3, 1.0),
        ("launch 3 replicas of 1 ps each of villin.pdb in implicit solvent", 3, 1.0),
        ("run four replicas of villin, 2 ps apiece, implicit solvent", 4, 2.0),
    ],
)
def test_replicas_and_their_length_each_bind_to_their_own_unit(provider, request_, replicas, ps):
    provider.use_notebook([VILLIN_PDB])
    call = provider.choose_call(request_, TOOLS)
    assert call is not None and call.name == "ensembles_run", provider.last_problem
    assert call.arguments["replicas"] == replicas and call.arguments["ps"] == ps, call.arguments


@pytest.mark.parametrize(
    "words, bounds",
    [
        ("h-bonds in the villin sim, but only betwen t = 1 ps and t = 3 ps", {"start_ps": 1.0, "end_ps": 3.0}),
        ("the rmsd from 1 to 3 ps", {"start_ps": 1.0, "end_ps": 3.0}),
        ("contacts from t=2 ps till 4 ps", {"start_ps": 2.0, "end_ps": 4.0}),
        ("sasa after the first ps", {"start_ps": 1.0}),
    ],
)
def test_a_window_between_two_times_is_its_start_and_end(words, bounds):
    assert time_bounds(words) == bounds
    schema = constrained_arguments_schema(_tool("analysis_hydrogen_bonds"), words)
    for name, value in bounds.items():
        assert schema["properties"][name] == {"enum": [value]}


def test_a_window_is_no_length_of_a_run():
    schema = constrained_arguments_schema(_tool("md_run"), "simulate villin.pdb for 5 ps, then the rmsd from 1 to 3 ps")
    assert schema["properties"]["ps"] == {"enum": [5.0]}


# -- the report's switches -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "request_",
    [
        "export what I've done so far as a report notebook - skip the HTML version, I only need the .ipynb",
        "write up the notebook as a report, no HTML please, just the notebook",
        "make me a report of this session - I don't need the html copy",
    ],
)
def test_a_report_without_html_is_the_export_with_html_off(provider, request_):
    provider.use_notebook([VILLIN_RUN])
    call = provider.choose_call(request_, TOOLS)
    assert call is not None and call.name == "notebook_tools_export_report", provider.last_problem
    assert call.arguments == {"html": False}  # no notebook path made of a bare ".ipynb"


@pytest.mark.parametrize(
    "request_",
    ["write the report and re-run it", "export the report, then run it again", "export a report and rerun it"],
)
def test_re_running_the_report_just_written_is_one_export_that_executes(provider, request_):
    steps = steps_of(request_, WORDS, [VILLIN_RUN])
    assert len(steps) == 1, steps
    provider.use_notebook([VILLIN_RUN])
    call = provider.choose_call(steps[0], TOOLS)
    assert call is not None and call.name == "notebook_tools_export_report"
    assert call.arguments.get("execute") is True, call.arguments
    call = provider.choose_call("export the report without re-running it", TOOLS)
    assert call.arguments.get("execute") is False


# -- a failed call, complained about ------------------------------------------------------------------------------


def test_a_failed_call_complained_about_by_its_functions_name_is_explained(provider):
    error = Candidate(
        "error",
        "TypeError: rmsd() got an unexpected keyword argument 'selction'\nin the line: r = ka.rmsd('md_runs/villin', "
        "selction='name CA')",
        "the last error (TypeError: rmsd() got an unexpected keyword argument 'selction')",
        names=("error", "that", "it"),
        order=1e9,
    )
    provider.use_notebook([error, VILLIN_RUN])
    for request in (
        "Why does rmsd throw at me here? All I changed was asking for the C-alpha atoms",
        "my rmsd call blew up, why?",
        "rmsd raises a TypeError now, what did I do wrong",
    ):
        call = provider.choose_call(request, TOOLS)
        assert call is not None and call.name == "notebook_tools_explain_error", (request, provider.last_problem)
    call = provider.choose_call("compute the rmsd of md_runs/villin", TOOLS)
    assert call.name == "analysis_rmsd"  # an analysis asked for is still that analysis


# -- round 11's newcomer trips (h3, h4) ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "request_, tool",
    [
        ("relax villin for 2 ps in implicit solvent so I can see if the loop moves", "md_run"),
        ("let villin relax in implicit solvent for 5 ps", "md_run"),
        ("relax villin in implicit solvent, just a minimisation", "md_minimize"),
        ("minimise villin, 200 iterations max", "md_minimize"),
    ],
)
def test_a_length_of_simulated_time_says_simulate_not_minimise(provider, request_, tool):
    provider.use_notebook([VILLIN_PDB])
    call = provider.choose_call(request_, TOOLS)
    assert call is not None and call.name == tool, (request_, provider.last_problem)


@pytest.mark.parametrize(
    "request_",
    [
        "start two replicas of villin, 2 ps each in implicit solvent",
        "spin up 2 replicates of villin, 2 ps each, implicit solvent",
        "three replicas of villin in explicit water, 1 ps each, please run them",
    ],
)
def test_replicas_in_a_solvent_are_an_all_atom_ensemble_not_a_go_model_ladder(provider, request_):
    provider.use_notebook([VILLIN_PDB])
    step = steps_of(request_, WORDS, [VILLIN_PDB])[0]
    call = provider.choose_call(step, TOOLS)
    assert call is not None and call.name == "ensembles_run", (request_, provider.last_problem)


@pytest.mark.parametrize(
    "request_",
    [
        "how far did the protein drift from where it started, in settled?",
        "did settled drift much from where it began?",
    ],
)
def test_drifting_from_where_it_started_is_the_rmsd(provider, request_):
    provider.use_notebook([SETTLED, FULL])
    call = provider.choose_call(request_, TOOLS)
    assert call is not None and call.name == "analysis_rmsd" and call.arguments["trajectory"] == "settled", (
        provider.last_problem
    )
