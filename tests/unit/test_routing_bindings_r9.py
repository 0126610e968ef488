"""Round 9 of the router: every object a request refers to must bind to something here, in its role, before a call.

A file named by its format ("an xtc", "the dcd", "my pdb") must be a file of that format here (or a run folder
holding one); the thing after "against"/"relative to" is the reference, never the trajectory; a thing set aside
("ignore the dhfr file") is never the input. Wordings of our own, several per behaviour, not a benchmark's sentence
alone."""

import json

import pytest

from kenkyu.core.registry import ToolRegistry
from kenkyu.core.routing import (
    Candidate,
    constrained_arguments_schema,
    missing_object,
    recall_tool,
    resolve_slot,
    split_steps,
    unserved,
)
from kenkyu.tools import TOOL_MODULES

TOOLS = list(ToolRegistry.from_modules([*TOOL_MODULES, "kenkyu.assistant.notebook_tools"]))
WORDS = [(*t.keywords, t.name) for t in TOOLS]
STRING = {"type": "string"}

VILLIN_PDB = Candidate(
    "pdb_file", "villin.pdb", "villin.pdb", names=("villin.pdb", "villin"), aliases=("villin",), formats=("pdb",)
)
DHFR_PDB = Candidate(
    "pdb_file", "dhfr.pdb", "dhfr.pdb", names=("dhfr.pdb", "dhfr"), aliases=("dhfr",), formats=("pdb",)
)
VILLIN_RUN = Candidate(
    "run_folder",
    "md_runs/villin",
    "md_runs/villin (villin.pdb, implicit, 300 K, 4 ps, finished)",
    names=("md_runs/villin", "villin"),
    order=5,
    aliases=("villin",),
    temperature_k=300.0,
    length_ps=4.0,
    formats=("csv", "dcd", "json", "pdb"),
)


@pytest.mark.parametrize(
    "request_, said",
    [
        ("I copied an xtc over from the cluster this morning - can you compute its RMSD against villin?", "xtc"),
        ("what's the radius of gyration in the xtc I transferred earlier?", "xtc"),
        ("plot the per-residue rmsf for my trr please", "trr"),
        ("there's a netcdf trajectory from amber somewhere, how compact is the protein in it?", "netcdf"),
        ("load the h5 file from yesterday and count its hydrogen bonds", "h5"),
    ],
)
def test_a_trajectory_named_by_its_format_that_is_not_here_is_missing(request_, said):
    missing = missing_object(request_, [VILLIN_PDB])
    assert missing is not None, request_
    assert said in missing.phrase.lower() and f".{said}" in missing.what
    assert missing.options == (VILLIN_PDB,)  # what is here, listed in the reply


def test_a_format_held_by_a_file_or_a_run_folder_binds():
    xtc = Candidate("trajectory_file", "prod.xtc", "prod.xtc", names=("prod.xtc", "prod"), formats=("xtc",))
    assert missing_object("compute the rmsd of the xtc against villin", [VILLIN_PDB, xtc]) is None
    # a run folder holds its trajectory.dcd and prepared.pdb
    assert missing_object("what is the rg over the dcd?", [VILLIN_RUN]) is None
    assert missing_object("simulate my pdb for 2 ps in implicit solvent", [VILLIN_PDB]) is None
    assert missing_object("simulate my pdb for 2 ps in implicit solvent", []) is not None
    # a format the step writes is made by it, not looked for
    assert missing_object("run 2 ps of villin.pdb and save the frames as an xtc", [VILLIN_PDB]) is None
    assert missing_object("convert the run to an xtc", [VILLIN_RUN]) is None


def test_the_thing_after_against_is_the_reference_not_the_trajectory():
    for request in (
        "compute its rmsd against villin",
        "how far does it drift relative to villin.pdb?",
        "backbone rmsd compared with the villin structure",
        "rmsd with respect to villin please",
    ):
        match = resolve_slot(request, "trajectory", [VILLIN_PDB], STRING)
        assert match.candidate is None and not match.options, request
    for request in (
        "rmsd of the run against villin.pdb",
        "how far does my simulation drift relative to the villin crystal structure",
    ):
        match = resolve_slot(request, "trajectory", [VILLIN_PDB, VILLIN_RUN], STRING)
        assert match.candidate is not None and match.candidate.value == "md_runs/villin", request


def test_a_thing_set_aside_is_never_the_input():
    here = [DHFR_PDB, VILLIN_RUN]
    for request in (
        "on the villin MD can u do rmsd, rmsf and rg? (ignore the dhfr file, that's for later)",
        "rg of the simulation please, not the dhfr structure",
        "never mind dhfr, what's the rmsf of the run",
    ):
        for step in split_steps(request, WORDS):
            match = resolve_slot(step, "trajectory", here, STRING)
            assert match.candidate is not None and match.candidate.value == "md_runs/villin", step
    assert resolve_slot("rg of dhfr.pdb", "trajectory", here, STRING).candidate.value == "dhfr.pdb"


def test_an_option_said_to_be_left_out_is_switched_off():
    export = next(t for t in TOOLS if t.name == "notebook_tools_export_report")
    for request in (
        "pls write this notebook up as a report. the notebook version is enough, I don't want the HTML",
        "export a report, no html please",
        "make the report but skip the html copy",
        "report of this notebook; html isn't needed",
    ):
        assert constrained_arguments_schema(export, request)["properties"]["html"] == {"enum": [False]}, request
    for request in ("export the notebook as a report, HTML version included", "a report with html too please"):
        assert constrained_arguments_schema(export, request)["properties"]["html"] == {"enum": [True]}, request


def test_a_step_said_after_the_step_it_needs_comes_second():
    steps = split_steps(
        "Before counting the hydrogen bonds in it, I need a fresh trajectory: 2 ps of villin in implicit solvent pls",
        WORDS,
    )
    assert len(steps) == 2 and "2 ps of villin" in steps[0] and "hydrogen bonds" in steps[1]
    steps = split_steps("before plotting its rmsd, run 1 ps of dhfr.pdb in vacuum", WORDS)
    assert len(steps) == 2 and steps[0].startswith("run 1 ps of dhfr.pdb") and "rmsd" in steps[1]


def _runs(tmp_path):
    from kenkyu.assistant.resolver import gather

    for name, created in (("villin", "2026-11-30T10:00:00"), ("villin_seed2", "2026-11-29T10:00:00")):
        folder = tmp_path / "md_runs" / name
        folder.mkdir(parents=True)
        record = {"created": created, "status": "finished", "parameters": {"ps": 4.0, "temperature_k": 300}}
        (folder / "run.json").write_text(json.dumps(record))
    return gather({}, tmp_path, error=False)


def test_a_run_said_by_its_order_in_other_words(tmp_path):
    here = _runs(tmp_path)
    for request in (
        "For whichever simulation I ran most recently: per-residue RMSF",
        "the rg of the run I did most recently",
    ):
        match = resolve_slot(request, "trajectory", here, STRING)
        assert match.candidate is not None and match.candidate.value == "md_runs/villin", request
    for request in ("what was the mean Rg of my earliest run during its first picosecond?", "rmsd of the earliest sim"):
        match = resolve_slot(request, "trajectory", here, STRING)
        assert match.candidate is not None and match.candidate.value == "md_runs/villin_seed2", request


def test_run_folders_carry_their_facts_as_fields(tmp_path):
    here = _runs(tmp_path)
    run = next(c for c in here if c.value == "md_runs/villin")
    assert run.temperature_k == 300.0 and run.length_ps == 4.0 and "json" in run.formats


def test_a_choice_among_results_already_made_is_read_from_the_notebook():
    for request in (
        "quick q about what I've computed so far: which of my SASA tables covers more frames, and how many?",
        "which of the rg tables has the most rows?",
        "between everything we've calculated already, where is the largest rmsd?",
    ):
        assert recall_tool(request, TOOLS).name == "notebook_tools_overview", request
    assert recall_tool("compute the sasa of md_runs/villin", TOOLS) is None


def test_a_question_about_docking_says_what_kenkyu_simulates_instead():
    for request in (
        "Is ligand docking something kenkyu can do? If not, what kinds of simulation can it run instead?",
        "can you dock my ligand into dhfr? otherwise what would you simulate",
    ):
        reply = unserved(request, TOOLS)
        assert reply is not None and "docking" in reply
        assert "implicit" in reply and "Gō" in reply and "replica" in reply


class FirstAllowed:
    """Stands in for llama.cpp: the first tool of the grammar and the first allowed value of each argument (what
    these tests check is the router's choice of tool and inputs, made before the model is asked)."""

    def create_chat_completion(self, messages, response_format, **kwargs):
        grammar = response_format["schema"]
        grammar = grammar["oneOf"][0] if "oneOf" in grammar else grammar
        slots = grammar["properties"]["arguments"]["properties"]
        arguments = {k: p["enum"][0] for k, p in slots.items() if "enum" in p}
        reply = {"tool": grammar["properties"]["tool"]["const"], "arguments": arguments}
        return {"choices": [{"message": {"content": json.dumps(reply)}}], "usage": {}}


@pytest.fixture
def provider():
    from kenkyu.core.config import ProviderConfig
    from kenkyu.core.providers.local_llama import LocalLlamaProvider

    class Provider(LocalLlamaProvider):
        llama = FirstAllowed()

    return Provider(ProviderConfig(provider="local"))


def _two_temperatures():
    return [
        VILLIN_RUN,
        Candidate(
            "run_folder",
            "md_runs/villin_360K",
            "md_runs/villin_360K (villin.pdb, implicit, 360 K, 4 ps, finished)",
            names=("md_runs/villin_360K", "villin_360K"),
            order=6,
            aliases=("villin",),
            temperature_k=360.0,
            length_ps=4.0,
        ),
    ]


def test_folded_at_the_higher_temperature_is_the_hot_runs_rmsd_not_a_melting_curve(provider):
    provider.use_notebook(_two_temperatures())
    for request in ("does it stay folded at the higher temperature?", "does the 360 K one stay folded?"):
        call = provider.choose_call(request, TOOLS)
        assert call is not None, provider.last_problem
        assert call.name == "analysis_rmsd" and call.arguments["trajectory"] == "md_runs/villin_360K", request


def test_a_name_two_runs_share_is_narrowed_by_the_temperature_said():
    match = resolve_slot("is villin still compact in the hotter run?", "trajectory", _two_temperatures(), STRING)
    assert match.candidate is not None and match.candidate.value == "md_runs/villin_360K"


def test_two_backends_weighed_against_each_other_are_the_comparison_tool(provider):
    provider.use_notebook([VILLIN_PDB])
    for request in (
        "I'm curious whether your dataflow kernels beat OpenMM's CPU platform on villin in vacuum - 40 steps each",
        "openmm vs dataflow: which is quicker on villin.pdb in vacuum, 40 steps?",
    ):
        call = provider.choose_call(request, TOOLS)
        assert call is not None and call.name == "md_compare_backends", (request, provider.last_problem)
        assert call.arguments["system"] == "villin.pdb" and call.arguments["solvent"] == "vacuum"
        assert call.arguments["steps"] == 40
    assert provider.choose_call("run villin.pdb with openmm for 2 ps in vacuum", TOOLS).name == "md_run"


def test_a_list_after_its_object_and_verb_is_a_step_each():
    assert split_steps(
        "on the villin MD can u do rmsd, rmsf and rg? (ignore the dhfr file, that's for later)", WORDS
    ) == [
        "on the villin MD can u do rmsd? (ignore the dhfr file, that's for later)",
        "on the villin MD can u do rmsf? (ignore the dhfr file, that's for later)",
        "on the villin MD can u do rg? (ignore the dhfr file, that's for later)",
    ]
    assert split_steps("with traj could you get rg and sasa", WORDS) == [
        "with traj could you get rg",
        "with traj could you get sasa",
    ]


def test_why_it_is_asked_is_context_and_each_of_them_is_each_replica(tmp_path):
    from kenkyu.assistant.resolver import gather

    ensemble = tmp_path / "md_runs" / "hp_replicas"
    for i in range(3):
        member = ensemble / f"member_{i}"
        member.mkdir(parents=True)
        (member / "run.json").write_text(json.dumps({"parameters": {"ps": 2.0, "seed": i}}))
    (ensemble / "ensemble.json").write_text("{}")
    here = gather({}, tmp_path, error=False)
    for request in (
        "I want to know if one of those replica trajectories wandered off. can you analyse the backbone RMSD of "
        "each of them separately?",
        "I'd like to know whether the replicas agree. give me the rg of each one",
    ):
        (step,) = split_steps(request, WORDS)
        match = resolve_slot(step, "trajectory", here, STRING)
        assert match.spread is not None and len(match.spread.members) == 3, step


def test_a_reference_file_that_is_not_here_is_missing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for request in ("rmsd of my run against ref.pdb", "how far does the run drift relative to crystal_1vii.pdb?"):
        missing = missing_object(request, [VILLIN_RUN, VILLIN_PDB])
        assert missing is not None and missing.phrase.endswith(".pdb") and "reference" in missing.what, request
    assert missing_object("rmsd of my run against villin.pdb", [VILLIN_RUN, VILLIN_PDB]) is None
    (tmp_path / "ref.pdb").write_text("END\n")
    assert missing_object("rmsd of my run against ref.pdb", [VILLIN_RUN, VILLIN_PDB]) is None


def test_notes_in_a_folder_said_but_not_indexed_are_named_with_the_ingest_of_that_folder(tmp_path, monkeypatch):
    from kenkyu.core.routing import folders_said

    (tmp_path / "notes").mkdir()
    monkeypatch.chdir(tmp_path)
    for request in (
        "what do my notes say about the Met20 loop of DHFR? they're in the notes folder",
        "according to my notes in the notes folder, which loop closes over the ligand?",
    ):
        missing = missing_object(folders_said(request, tmp_path), [])
        assert missing is not None and "ingest('notes/')" in missing.fix, request
    assert missing_object(folders_said("index my notes in the notes folder", tmp_path), []) is None


def test_a_run_named_as_the_reference_may_still_be_the_run_and_a_thing_for_later_is_set_aside():
    match = resolve_slot("rmsd of the run against villin", "trajectory", [DHFR_PDB, VILLIN_RUN], STRING)
    assert match.candidate is not None and match.candidate.value == "md_runs/villin"
    for step in split_steps("for the villin run could you get sasa and dssp (dhfr is for next week)", WORDS):
        match = resolve_slot(step, "trajectory", [DHFR_PDB, VILLIN_RUN], STRING)
        assert match.candidate is not None and match.candidate.value == "md_runs/villin", step
