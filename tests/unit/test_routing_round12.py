"""Round 12 of the router: held-out 10's failures and round 11's leftovers, each as a mechanism, in wordings of our own.

A protein called by a common name of it ("the headpiece", "the reductase") is the file of that protein; "not the
newest" is the run before it; an answer or a correction "no, not the newest one - the other run" picks the other run;
units convert (5 Å is 0.5 nm); "at most 100 steps" is a minimiser's max_iterations; "until it's 5 ps in total" is a
total; "another picosecond" is 1 ps; a report "in a folder called X" is written into that folder; a Gō model is the
coarse-grained tool, on the backend said and not the one ruled out; a run to extend must be of the protein named; an
atom pair is read from the words and the residues here, or asked for (never a placeholder); two windows compared are two
steps; a refusal is no step and a request for the step's own result is that step; the length of a held sequence is read
from the notebook; "compare how much they move" after replicas compares the ensemble."""

import shutil
from pathlib import Path

import pytest

from kenkyu.assistant.overview import methods_asked
from kenkyu.assistant.resolver import gather, residues_of
from kenkyu.core.concepts import protein_nicknames
from kenkyu.core.messages import Message, ToolCall
from kenkyu.core.providers.base import TextDelta, ToolCallDone
from kenkyu.core.routing import (
    Candidate,
    ability_answer,
    atom_pairs,
    constrained_arguments_schema,
    steps_of,
)

# The tools, the villin file and run, and the stand-in provider fixture, as round 9's router tests have them (pytest
# puts this folder on the path: the test modules here have no package)
from test_routing_bindings_r9 import DHFR_PDB, TOOLS, VILLIN_PDB, WORDS
import test_routing_bindings_r9

provider = test_routing_bindings_r9.provider  # the fixture, here by its name
DATA = Path(__file__).resolve().parents[2] / "kenkyu" / "data"
VILLIN_RESIDUES = residues_of(DATA / "villin_1vii.pdb")


def _run(path: str, order: float, length: float, seed: int) -> Candidate:
    return Candidate(
        "run_folder",
        path,
        f"{path} (villin_1vii.pdb, implicit, 300 K, {length:g} ps, seed {seed}, finished)",
        names=(path, path.split("/")[-1]),
        order=order,
        aliases=("villin",),
        temperature_k=300.0,
        length_ps=length,
        seeds=(seed,),
        formats=("dcd", "json", "pdb"),
        residues=VILLIN_RESIDUES,
    )


NEWER = _run("md_runs/hp_long", 10, 4.0, 1)
OLDER = _run("md_runs/hp_short", 5, 1.6, 2)


def _tool(name: str):
    return next(t for t in TOOLS if t.name == name)


def _turn(provider, messages: list) -> tuple[str, list]:
    chunks = list(provider.stream(messages, TOOLS))
    text = "".join(c.text for c in chunks if isinstance(c, TextDelta))
    calls = [c.call for c in chunks if isinstance(c, ToolCallDone)]
    messages.append(Message("assistant", text, calls))
    return text, calls


# -- a protein by a common name of it ------------------------------------------------------------------------------


def test_common_names_of_a_protein_are_its_files_names():
    assert "headpiece" in protein_nicknames(("villin_1vii", "villin"))
    assert "dihydrofolate reductase" in protein_nicknames(("5dfr_minimized", "dhfr"))
    assert protein_nicknames(("mystery", "thing")) == ()


@pytest.mark.parametrize(
    "request_, tool, file",
    [
        ("how compact is the headpiece in the file as it is? just the structure, no md", "analysis_radius_of_gyration",
         "villin_1vii.pdb"),
        ("open the villin headpiece in a 3D viewer", "viz_show_structure", "villin_1vii.pdb"),
        ("could you display dihydrofolate reductase in 3d?", "viz_show_structure", "5dfr_minimized.pdb"),
        ("let me look at the reductase's fold in 3D", "viz_show_structure", "5dfr_minimized.pdb"),
    ],
)  # fmt: skip
def test_a_protein_called_by_a_common_name_is_its_file(provider, tmp_path, request_, tool, file):
    shutil.copy(DATA / "villin_1vii.pdb", tmp_path)
    shutil.copy(DATA / "dhfr" / "5dfr_minimized.pdb", tmp_path)
    provider.use_notebook(gather({}, tmp_path, error=False))
    call = provider.choose_call(request_, TOOLS)
    assert call is not None and call.name == tool, (request_, provider.last_problem)
    assert Path(list(call.arguments.values())[0]).name == file


# -- "not the newest": the run before it ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "request_",
    [
        "For my earlier run (the one before, not the newest), which residues fluctuate most over its last half? RMSF",
        "rmsf of the previous simulation, not the latest one - second half only",
    ],
)
def test_the_newest_ruled_out_is_the_run_before_it(provider, request_):
    provider.use_notebook([NEWER, OLDER])
    steps = steps_of(request_, WORDS, [NEWER, OLDER])
    assert len(steps) == 1, steps  # the object said first is no step of its own
    call = provider.choose_call(steps[0], TOOLS)
    assert call is not None and call.name == "analysis_rmsf", provider.last_problem
    assert call.arguments["trajectory"] == "md_runs/hp_short" and call.arguments["frames"] == "last half"


def test_an_answer_ruling_out_the_newest_picks_the_other_run(provider):
    provider.use_notebook([NEWER, OLDER])
    messages = [Message("user", "what's the rg of my simulation?")]
    question, calls = _turn(provider, messages)
    assert not calls and question.startswith("Which "), question
    messages.append(Message("user", "no, not the latest - the other one"))
    calls = _turn(provider, messages)[1]
    assert [c.name for c in calls] == ["analysis_radius_of_gyration"]
    assert calls[0].arguments["trajectory"] == "md_runs/hp_short"


def test_a_correction_after_a_call_repeats_it_on_the_other_run(provider):
    provider.use_notebook([NEWER, OLDER])
    messages = [Message("user", "how compact did my latest simulation stay? radius of gyration")]
    calls = _turn(provider, messages)[1]
    assert calls and calls[0].arguments["trajectory"] == "md_runs/hp_long"
    messages.append(Message("tool", "done", tool_call_id=calls[0].id, name=calls[0].name))
    messages.append(Message("assistant", "Results: ..."))
    messages.append(Message("user", "no, wrong run - I meant the older one"))
    text, calls = _turn(provider, messages)
    assert [c.name for c in calls] == ["analysis_radius_of_gyration"], text
    assert calls[0].arguments["trajectory"] == "md_runs/hp_short" and "instead" in text


# -- numbers in the units and words people use -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "tool, request_, argument, value",
    [
        ("analysis_contacts", "contacts in the latest run with a 4.5 Å cutoff", "cutoff_nm", 0.45),
        ("analysis_contacts", "residue contacts of my run, cutoff 6 angstroms", "cutoff_nm", 0.6),
        ("md_minimize", "relax dhfr in vacuum, at most 250 steps please", "max_iterations", 250),
        ("md_extend", "keep the run going until it is 8 ps long in total", "to_ps", 8.0),
        ("md_extend", "continue my simulation so it's 3 ps in total", "to_ps", 3.0),
        ("md_extend", "add another picosecond to md_runs/hp_long", "ps", 1.0),
        ("md_compare_backends", "time both backends on villin: 20 steps, 3 repetitions", "repeats", 3),
    ],
)
def test_numbers_bind_in_the_units_and_words_people_use(tool, request_, argument, value):
    schema = constrained_arguments_schema(_tool(tool), request_)
    assert schema["properties"][argument] == {"enum": [value]}, schema["properties"]
    if argument == "to_ps":
        assert "ps" not in schema["properties"]  # a total is no amount to add


# -- a report into a folder, a Gō model, a run to extend ------------------------------------------------------------


@pytest.mark.parametrize(
    "request_, folder",
    [
        ("make a report of this notebook and save it in a folder named lab_meeting", "lab_meeting/"),
        ("export the notebook as a report into the directory called for_anna", "for_anna/"),
    ],
)
def test_a_report_in_a_named_folder_is_written_into_that_folder(provider, request_, folder):
    provider.use_notebook([VILLIN_PDB])
    call = provider.choose_call(request_, TOOLS)
    assert call is not None and call.name.endswith("export_report"), provider.last_problem
    assert call.arguments["output"] == folder


@pytest.mark.parametrize(
    "request_, backend",
    [
        ("coarse-grained run of villin at 320 K for 10 ps, on openmm instead of dataflow", "openmm"),
        ("a Go model simulation of villin, 5 ps, not on the openmm backend but the dataflow one", "dataflow"),
    ],
)
def test_a_go_model_run_is_the_coarse_grained_tool_on_the_backend_said(provider, request_, backend):
    provider.use_notebook([VILLIN_PDB, DHFR_PDB])
    call = provider.choose_call(request_, TOOLS)
    assert call is not None and call.name == "md_coarse_grained", provider.last_problem
    assert call.arguments["backend"] == backend and call.arguments["structure"] == "villin.pdb"


@pytest.mark.parametrize(
    "request_", ["extend my dhfr run by 2 ps", "continue the dhfr simulation for another picosecond, implicit solvent"]
)
def test_extending_a_run_of_a_protein_with_no_run_here_names_it_and_calls_nothing(provider, request_):
    provider.use_notebook([NEWER, DHFR_PDB])
    assert provider.choose_call(request_, TOOLS) is None
    assert "dhfr" in provider.last_problem and "run" in provider.last_problem
    provider.use_notebook([NEWER, DHFR_PDB])
    call = provider.choose_call("extend my villin run by 2 ps", TOOLS)
    assert call is not None and call.name == "md_extend" and call.arguments["run"] == "md_runs/hp_long"


# -- atom pairs: read from the words and the residues here, or asked for ------------------------------------------


def test_atom_pairs_are_read_from_the_words_and_the_residues_here():
    assert VILLIN_RESIDUES[0] == "MET41" and VILLIN_RESIDUES[-1] == "PHE76"
    assert atom_pairs("CA-CA distance of the first residue and the last one", VILLIN_RESIDUES) == (
        [["resSeq 41 and name CA", "resSeq 76 and name CA"]],
        None,
    )
    assert atom_pairs("how far apart are Trp64 and Phe47?", VILLIN_RESIDUES) == ([["resSeq 64", "resSeq 47"]], None)
    pairs, why = atom_pairs("distance between Trp64 and Lys99", VILLIN_RESIDUES)
    assert pairs is None and "no residue 99" in why and "41-76" in why
    pairs, why = atom_pairs("distance between Lys64 and Phe47", VILLIN_RESIDUES)
    assert pairs is None and "residue 64 here is TRP" in why
    assert atom_pairs("plot some distances", VILLIN_RESIDUES)[0] is None


def test_a_distance_with_no_pair_or_a_residue_not_here_asks_and_calls_nothing(provider):
    provider.use_notebook([NEWER])
    for request_, said in (
        ("distances over my latest run please", "which two atoms"),
        ("distance between Trp64 and Trp99 in the latest run", "no residue 99"),
    ):
        assert provider.choose_call(request_, TOOLS) is None, request_
        assert said in provider.last_problem
    call = provider.choose_call(
        "end-to-end distance of my latest run: CA of the first residue to CA of the last", TOOLS
    )
    assert call is not None and call.arguments["pairs"] == [["resSeq 41 and name CA", "resSeq 76 and name CA"]]


# -- steps --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "request_, steps",
    [
        ("compare the rg over the first half and the second half of md_runs/hp_long",
         ["rg over the first half of md_runs/hp_long", "rg over the second half of md_runs/hp_long"]),
        ("rmsd of the first 10% vs the last 10%", ["rmsd of the first 10%", "rmsd of the last 10%"]),
        ("minimise dhfr and give the energy before and after", ["minimise dhfr and give the energy before and after"]),
        ("Minimise dhfr in vacuum. No MD afterwards please.", ["Minimise dhfr in vacuum"]),
    ],
)  # fmt: skip
def test_steps_are_what_is_to_be_done(request_, steps):
    assert steps_of(request_, WORDS, []) == steps


# -- the notebook answers; an ensemble made before is compared as one -------------------------------------------------


def test_the_length_of_a_held_sequence_is_read_from_the_notebook(provider):
    seq = Candidate("sequence", "MKVLAAGIVG", "`seq2` (sequence, 10 residues)", False, ("seq2",), 9)
    provider.use_notebook([seq])
    for request_ in ("how long is the sequence in seq2?", "how many residues does seq2 have"):
        call = provider.choose_call(request_, TOOLS)
        assert call is not None and call.name == "notebook_tools_overview", (request_, call)


def test_comparing_them_after_replicas_were_run_compares_the_ensemble(provider):
    provider.use_notebook([VILLIN_PDB])
    made = ToolCall("e1", "ensembles_run", {"structure": "villin.pdb", "replicas": 3, "ps": 1.0, "solvent": "implicit"})
    messages = [
        Message("user", "three replicas of villin, 1 ps each, implicit solvent"),
        Message("assistant", "", [made]),
        Message("tool", "done", tool_call_id="e1", name="ensembles_run"),
        Message("assistant", "Results: ..."),
        Message("user", "now compare how much they move"),
    ]
    calls = _turn(provider, messages)[1]
    assert [c.name for c in calls] == ["ensembles_rmsf"] and calls[0].arguments["ensemble"] == "md_ensembles/villin"


def test_can_you_is_read_one_way_for_methods_and_abilities():
    assert methods_asked("is kenkyu able to run metadynamics?") == ["metadynamics"]
    assert methods_asked("Does kenkyu do umbrella sampling or replica exchange?") == [
        "umbrella sampling",
        "replica exchange",
    ]
    assert ability_answer("will you be able to fold sequences in general?", TOOLS) is not None


def test_what_someone_else_claims_is_read_with_the_request_not_routed_alone(provider):
    request_ = (
        "A colleague told me the dataflow kernels are hopeless next to OpenMM on the CPU. On villin, implicit solvent, "
        "10 steps and three repeats of each: which is quicker here?"
    )
    steps = steps_of(request_, WORDS, [VILLIN_PDB])
    assert len(steps) == 1, steps
    provider.use_notebook([VILLIN_PDB, DHFR_PDB])
    call = provider.choose_call(steps[0], TOOLS)
    assert call is not None and call.name == "md_compare_backends", provider.last_problem
    assert call.arguments["system"] == "villin.pdb" and call.arguments["repeats"] == 3 and call.arguments["steps"] == 10


# -- the newcomer's trips (round 12): runs told apart by resolution, one system, the error that still stands ----------

CG_RUN = Candidate(
    "run_folder",
    "md_runs/villin_cg_350K",
    "md_runs/villin_cg_350K (coarse-grained, villin.pdb, 350 K, 2 ps, 36 beads, finished)",
    names=("md_runs/villin_cg_350K", "villin_cg_350K"),
    order=20,
    aliases=("villin",),
    temperature_k=350.0,
    length_ps=2.0,
)


def test_all_atom_and_coarse_grained_tell_runs_apart_and_point_at_runs_that_exist(provider):
    provider.use_notebook([CG_RUN, NEWER, VILLIN_PDB])
    call = provider.choose_call("extend the all-atom villin simulation by another 2 ps", TOOLS)
    assert call is not None and call.name == "md_extend" and call.arguments == {"run": "md_runs/hp_long", "ps": 1.0 * 2}
    call = provider.choose_call("rmsf of my coarse-grained villin run", TOOLS)
    assert call is not None and call.arguments["trajectory"] == "md_runs/villin_cg_350K"
    request_ = "compare how flexible villin is in the all-atom run versus the coarse-grained one"
    steps = steps_of(request_, WORDS, [CG_RUN, NEWER, VILLIN_PDB])
    assert len(steps) == 2, steps
    calls = [provider.choose_call(step, TOOLS) for step in steps]
    assert [c.name for c in calls] == ["analysis_rmsf", "analysis_rmsf"]  # no new simulation of either kind
    assert [c.arguments["trajectory"] for c in calls] == ["md_runs/hp_long", "md_runs/villin_cg_350K"]


def test_a_protein_whose_runs_and_file_are_here_is_one_system_to_compare_backends_on(provider):
    provider.use_notebook([CG_RUN, NEWER, VILLIN_PDB, DHFR_PDB])
    call = provider.choose_call(
        "on my machine, is the dataflow backend actually faster than plain OpenMM for villin?", TOOLS
    )
    assert call is not None and call.name == "md_compare_backends" and call.arguments["system"] == "villin.pdb"


def test_the_resolver_offers_the_error_that_still_stands_not_one_a_later_cell_settled(monkeypatch):
    import sys

    from kenkyu.assistant.cell_errors import _Raised
    from kenkyu.assistant.resolver import last_error_candidate

    try:
        raise KeyboardInterrupt
    except KeyboardInterrupt as exc:
        stopped = exc
    monkeypatch.setattr(sys, "last_value", stopped, raising=False)
    monkeypatch.setattr(sys, "last_exc", stopped, raising=False)

    class Shell:
        _kenkyu_standing_errors = [_Raised(4, "md.run(...)", None, None, id(stopped), cleared_by=5)]

    assert last_error_candidate(Shell()) is None  # the Stop was resumed: nothing stands
    Shell._kenkyu_standing_errors = [_Raised(4, "md.run(...)", None, stopped, id(stopped))]
    assert "KeyboardInterrupt" in last_error_candidate(Shell()).label


@pytest.mark.parametrize(
    "request_, notebook, said",
    [
        ("how many native contacts are left at the end of my Go-model run?", "all-atom", "coarse-grained"),
        ("rmsf over the all-atom simulation please", "coarse", "all-atom"),
    ],
)
def test_a_run_of_a_resolution_not_here_is_named_and_nothing_is_called(provider, request_, notebook, said):
    provider.use_notebook([NEWER] if notebook == "all-atom" else [CG_RUN])
    assert provider.choose_call(request_, TOOLS) is None, request_
    assert said in provider.last_problem and "called nothing" in provider.last_problem
