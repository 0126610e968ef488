"""Round 10 of the router: the kinds held-out 8 failed on, each as a mechanism, in wordings of our own.

Missing inputs call nothing and name what is missing: a coordinates-only trajectory (.dcd, .xtc) with no topology,
the scientist's papers under another name ("my bibliography", "my library") with no index, a reference said by its
PDB id or a protein's name with no file of it. A folder of notes that is here is indexed, then asked. And the
arguments and tools of the other failures: a NameError asked about in words, replicates launched, a minimisation's
energy, every n-th frame, a remark before the question, the ESM-2 tools on a structure file, "the dhfr" by what its
file's header says."""

from pathlib import Path

import pytest

from kenkyu.assistant.resolver import files, header_names
from kenkyu.core.routing import (
    REMARK,
    Candidate,
    missing_object,
    split_steps,
    steps_of,
    unserved,
    window_tokens,
)

# The tools, the villin file and run, and the stand-in provider fixture, as round 9's router tests have them (pytest
# puts this folder on the path: the test modules here have no package)
from test_routing_bindings_r9 import TOOLS, VILLIN_PDB, VILLIN_RUN, WORDS
import test_routing_bindings_r9

provider = test_routing_bindings_r9.provider  # the fixture, here by its name
DHFR_SOURCE = Path(__file__).resolve().parents[2] / "kenkyu" / "data" / "dhfr" / "5dfr_minimized.pdb"
INDEX = Candidate("document_index", "literature_index", "literature_index (literature index)", names=("papers",))


def _dcd(name: str) -> Candidate:
    return Candidate("trajectory_file", name, name, names=(name, name.split(".")[0]), formats=(name.split(".")[1],))


# -- missing inputs: no call, the reply names what is missing -------------------------------------------------------


@pytest.mark.parametrize(
    "request_, path",
    [
        ("could you analyze scratch.dcd and give me its Rg over time?", "scratch.dcd"),
        ("rmsd of prod.xtc please", "prod.xtc"),
        ("how many hydrogen bonds hold in cluster_copy.dcd?", "cluster_copy.dcd"),
    ],
)
def test_a_coordinates_only_trajectory_without_a_topology_is_missing_its_topology(
    request_, path, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    missing = missing_object(request_, [_dcd(path), VILLIN_PDB])
    assert missing is not None, request_
    assert "topology" in missing.what and path in missing.what
    assert missing.options == (VILLIN_PDB,)  # the structures here, offered as the topology to name
    assert f"{path} with topology villin.pdb" in missing.fix


def test_a_topology_named_or_a_run_folder_supplies_the_atoms(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    scratch = _dcd("scratch.dcd")
    assert missing_object("rg of scratch.dcd using villin.pdb as topology", [scratch, VILLIN_PDB]) is None
    (tmp_path / "md_runs" / "villin").mkdir(parents=True)
    (tmp_path / "md_runs" / "villin" / "run.json").write_text("{}")
    assert missing_object("rg of md_runs/villin/trajectory.dcd", [VILLIN_RUN]) is None
    assert missing_object("write the frames of md_runs/villin as out.dcd", [VILLIN_RUN]) is None


@pytest.mark.parametrize(
    "request_",
    [
        "search my bibliography for anything on laser temperature-jump experiments",
        "anything in my library about villin folding kinetics?",
        "what does my zotero say about the OBC model?",
        "check my reading list for papers on helix capping",
    ],
)
def test_the_papers_under_another_name_with_no_index_are_missing_with_the_ingest_fix(request_):
    missing = missing_object(request_, [VILLIN_RUN])
    assert missing is not None and "literature index" in missing.what, request_
    assert "ingest(" in missing.fix
    assert missing_object(request_, [VILLIN_RUN, INDEX]) is None  # with an index they are asked


def test_software_called_a_library_is_no_papers():
    assert missing_object("which openmm library version is the run using?", [VILLIN_RUN]) is None or (
        "literature" not in missing_object("which openmm library version is the run using?", [VILLIN_RUN]).what
    )


@pytest.mark.parametrize(
    "request_, named",
    [
        ("What's the RMSD of the villin trajectory relative to the 2F4K crystal structure?", "2F4K"),
        ("backbone rmsd of my run against 1L2Y", "1L2Y"),
        ("how far is the run from ubiquitin? rmsd against ubiquitin", "ubiquitin"),
        ("rmsd compared with the 2f4k structure please", "2F4K"),
    ],
)
def test_a_reference_named_by_pdb_id_or_protein_that_is_not_here_is_missing(request_, named):
    missing = missing_object(request_, [VILLIN_RUN])
    assert missing is not None, request_
    assert named in missing.what and "reference" in missing.what
    assert "downloaded" in missing.fix and "first frame" in missing.fix


def test_a_reference_that_is_here_or_only_says_what_kind_of_reference_binds():
    hp35 = Candidate("pdb_file", "2f4k.pdb", "2f4k.pdb", names=("2f4k.pdb", "2f4k"), formats=("pdb",))
    for request in (
        "rmsd of my run against the 2F4K crystal structure",  # 2f4k.pdb is here
        "rmsd of the villin run against the first frame",
        "rmsd of the villin run relative to the starting structure",
        "plot the rmsd against time",
        "rmsd of the villin run against villin",
        "does dataflow beat OpenMM? compare dataflow against openmm's own CPU code on villin",
    ):
        assert missing_object(request, [VILLIN_RUN, VILLIN_PDB, hp35], known={"openmm", "dataflow"}) is None, request


# -- a folder of notes here: indexed, then asked -----------------------------------------------------------------


def test_a_question_to_notes_in_a_folder_here_without_an_index_indexes_them_first(tmp_path, monkeypatch):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "villin.md").write_text("# villin\nThe C-terminal helix frays first.\n")
    monkeypatch.chdir(tmp_path)
    for request in ("what do my notes say about the C-terminal helix?", "search my bibliography for helix capping"):
        steps = steps_of(request, WORDS, [VILLIN_RUN])
        assert steps[0] == "ingest notes/" and len(steps) == 2, steps
        assert missing_object(steps[1], [VILLIN_RUN]) is None  # the index the first step makes is no gap
    # an index already built is asked directly; an empty folder is no source (the reply names the ingest)
    assert steps_of("what do my notes say about the C-terminal helix?", WORDS, [VILLIN_RUN, INDEX])[0] != (
        "ingest notes/"
    )
    (tmp_path / "notes" / "villin.md").unlink()
    assert len(steps_of("what do my notes say about the C-terminal helix?", WORDS, [VILLIN_RUN])) == 1


def test_they_who_say_something_after_an_index_step_are_the_notes():
    for request, phrase in (
        ("index the notes in my papers folder, then pull up whatever they say about the OBC model", "the notes"),
        ("ok, index my notes folder and then tell me what they say about the C-terminal helix", "my notes"),
    ):
        steps = split_steps(request, WORDS)
        assert len(steps) == 2 and phrase in steps[1] and "they" not in steps[1].split(), steps


def test_an_index_step_is_the_ingest_not_a_question_to_the_papers(provider, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    provider.use_notebook([])
    call = provider.choose_call("index the notes in my papers/ folder", TOOLS)
    assert call is not None and call.name == "literature_ingest", provider.last_problem


def test_the_papers_under_another_name_are_asked_when_an_index_exists(provider):
    provider.use_notebook([INDEX])
    for request in (
        "anything in my library about villin folding kinetics?",
        "what does my bibliography say about the norleucine variant?",
    ):
        call = provider.choose_call(request, TOOLS)
        assert call is not None and call.name.startswith("literature_"), (request, provider.last_problem)


# -- the other failures' tools and arguments ------------------------------------------------------------------------


def test_a_name_error_asked_about_in_words_is_explained_not_analysed(provider):
    error = Candidate(
        "error",
        "NameError: name 'helixrun' is not defined\nin the line: ss = ka.dssp(helixrun)",
        "the last error (NameError: name 'helixrun' is not defined)",
        names=("error", "that", "it"),
        order=1e9,
    )
    helix_run = Candidate("trajectory", "helix_run", "`helix_run` (Trajectory)", True, ("helix_run",), 3)
    provider.use_notebook([error, helix_run, VILLIN_RUN])
    for request in (
        "the dssp line says something isn't defined?? I loaded it one cell up, what's going on",
        "why is helixrun undefined? I made it above",
        "my rmsd cell says the name is not defined, but the trajectory loaded fine",
    ):
        call = provider.choose_call(request, TOOLS)
        assert call is not None and call.name == "notebook_tools_explain_error", (request, provider.last_problem)
    call = provider.choose_call("the dssp of helix_run please", TOOLS)
    assert call.name == "analysis_dssp"  # an analysis asked for is still that analysis


@pytest.mark.parametrize(
    "request_, replicas",
    [
        ("spin up 2 independent replicates of villin, 1 ps each in implicit solvent (different seeds obviously)", 2),
        ("launch two replicates of villin, 1 ps each", 2),
        ("kick off 3 replicas of villin.pdb for 2 ps", 3),
    ],
)
def test_replicates_launched_are_an_ensemble_run(provider, request_, replicas):
    provider.use_notebook([VILLIN_PDB])
    call = provider.choose_call(request_, TOOLS)
    assert call is not None and call.name == "ensembles_run", (request_, provider.last_problem)
    assert call.arguments["replicas"] == replicas and call.arguments["structure"] == "villin.pdb"


@pytest.mark.parametrize(
    "request_",
    [
        "Minimise villin in vacuum (gas phase, no solvent model at all). What potential energy does it end up at?",
        "minimize villin in the gas phase and give me the final potential energy",
        "relax villin in vacuo, what's the total energy after?",
    ],
)
def test_a_minimisations_energy_is_the_minimisation_in_vacuum(provider, request_):
    provider.use_notebook([VILLIN_PDB])
    assert unserved(request_, TOOLS, [VILLIN_PDB]) is None
    call = provider.choose_call(request_, TOOLS)
    assert call is not None and call.name == "md_minimize", (request_, provider.last_problem)
    assert call.arguments["solvent"] == "vacuum"


def test_a_runs_energy_is_still_read_from_its_state_csv():
    reply = unserved("what was the potential energy during my run?", TOOLS, [VILLIN_RUN])
    assert reply is not None and "state.csv" in reply


@pytest.mark.parametrize(
    "words, frames",
    [
        ("residue contacts for the villin run - use only every 4th frame", "::4"),
        ("sasa of md_runs/villin using every fourth frame", "::4"),
        ("rg of the villin run, every other frame", "::2"),
        ("rmsd of the villin run with a stride of 5", "::5"),
        ("hydrogen bonds over every 10 frames of the run", "::10"),
    ],
)
def test_every_nth_frame_is_a_stride(words, frames):
    assert window_tokens(words) == [frames]


def test_a_stride_a_thing_already_has_is_no_thinning_asked_for():
    assert window_tokens("thinned is every 2nd frame of my villin traj") == []
    assert window_tokens("the last half of the run") == ["last half"]  # windows as before


def test_a_sentence_saying_what_something_is_is_context_for_the_question():
    for request, question in (
        ("thinned is every 2nd frame of my villin traj. how much does each residue jiggle in it? RMSF", "RMSF"),
        ("my notes mention G121V. what does that mutation do to dhfr according to ESM?", "ESM"),
        ("the run in md_runs/villin was at 350 K. how compact is it?", "compact"),
    ):
        steps = split_steps(request, WORDS)
        assert len(steps) == 1 and REMARK in steps[0] and question in steps[0].split(REMARK)[-1], steps


def _dhfr_folder(tmp_path: Path) -> None:
    (tmp_path / "mutants").mkdir()
    (tmp_path / "5dfr_minimized.pdb").write_bytes(DHFR_SOURCE.read_bytes())
    (tmp_path / "mutants" / "5dfr_minimized_G121V.pdb").write_bytes(DHFR_SOURCE.read_bytes())


def test_a_structure_files_header_names_its_protein(tmp_path):
    _dhfr_folder(tmp_path)
    assert "dhfr" in header_names(tmp_path / "5dfr_minimized.pdb")
    assert header_names(tmp_path / "5dfr_minimized.pdb") == ("dhfr",)  # no English word, no participle
    (tmp_path / "plain.pdb").write_text("HEADER    ACTIN BINDING\nTITLE     MINIMIZED AVERAGE STRUCTURE\nEND\n")
    assert header_names(tmp_path / "plain.pdb") == ()  # the class and a participle name no protein
    assert "dhfr" in next(c for c in files(tmp_path) if c.value == "5dfr_minimized.pdb").aliases


def test_the_dhfr_is_the_file_whose_header_says_dhfr_and_esm_reads_its_sequence(provider, tmp_path, monkeypatch):
    _dhfr_folder(tmp_path)
    monkeypatch.chdir(tmp_path)
    provider.use_notebook(files(tmp_path))
    call = provider.choose_call("ok lets simulate the dhfr for 2 ps in implicit solvent, seed 3", TOOLS)
    assert call is not None and call.name == "md_run", provider.last_problem
    assert call.arguments["structure"] == "5dfr_minimized.pdb" and call.arguments["seed"] == 3
    for request in (
        "score G121V on the sequence of 5dfr_minimized.pdb with ESM-2",
        "what does G121V do to dhfr according to ESM?",
    ):
        call = provider.choose_call(request, TOOLS)
        assert call is not None and call.name == "structure_variant_effects", (request, provider.last_problem)
        assert call.arguments["sequence"] == "5dfr_minimized.pdb" and call.arguments["mutations"] == ["G121V"]


@pytest.mark.parametrize(
    "request_",
    [
        "Can you turn this notebook into a report without re-running anything? the outputs as they are now are fine",
        "export a report but don't rerun the cells",
        "write up a report, no need to re-run it",
    ],
)
def test_a_report_without_re_running_is_not_executed(provider, request_):
    provider.use_notebook([])
    call = provider.choose_call(request_, TOOLS)
    assert call is not None and call.name == "notebook_tools_export_report", provider.last_problem
    assert call.arguments.get("execute") is False


def test_a_report_said_plainly_keeps_its_default_execution(provider):
    provider.use_notebook([])
    call = provider.choose_call("turn this notebook into a report for my supervisor", TOOLS)
    assert call.name == "notebook_tools_export_report" and "execute" not in call.arguments


@pytest.mark.parametrize(
    "request_, family, member",
    [
        ("new here - once I've got a trajectory, what sorts of analysis can you actually do on it?", "analys", "rmsd"),
        ("which analyses can kenkyu do on a run?", "analys", "radius_of_gyration"),
        ("ok and what kinds of simulation could you do for me with villin.pdb?", "simulat", "md_coarse_grained"),
    ],
)
def test_a_question_about_what_kenkyu_can_do_names_its_tools_and_calls_nothing(request_, family, member):
    reply = unserved(request_, TOOLS, [VILLIN_RUN])
    assert reply is not None and member in reply, request_
    assert "literature" not in reply
    assert unserved("what analysis did the paper use?", TOOLS) is None or "What kenkyu can do" not in unserved(
        "what analysis did the paper use?", TOOLS
    )


@pytest.mark.parametrize(
    "step, tool", [("get the Rg", "analysis_radius_of_gyration"), ("then the dssp", "analysis_dssp")]
)
def test_a_step_of_a_few_words_goes_to_the_one_tool_its_keyword_names(step, tool):
    from kenkyu.core.routing import ToolRouter

    ranked = ToolRouter().rank(step, TOOLS, candidates=[VILLIN_RUN])
    assert ranked[0].tool.name == tool and ranked[0].score > ranked[1].score + 0.2


def test_the_protein_is_its_trajectory_when_one_is_here_not_its_single_frame_file():
    from kenkyu.core.routing import resolve_slot

    pdb = Candidate("pdb_file", "villin_1vii.pdb", "villin_1vii.pdb", names=("villin_1vii.pdb",), order=1)
    run = Candidate("trajectory", "run", "`run` (MDRun)", True, ("run",), 9, path="md_runs/villin_1vii_implicit")
    string = {"type": "string"}
    for request in (
        "how mobile are the ends of the protein? I'd like the per-residue fluctuations",
        "rg of the protein",
    ):
        assert resolve_slot(request, "trajectory", [pdb, run], string).candidate == run, request
    # the file is meant when the words say a structure or file
    assert resolve_slot("how compact is the protein structure?", "trajectory", [pdb, run], string).candidate == pdb
    assert resolve_slot("rg of the protein", "trajectory", [pdb], string).candidate == pdb  # nothing else here


def test_what_the_notes_just_indexed_say_is_asked_of_them_not_analysed(provider, tmp_path, monkeypatch):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "villin.md").write_text("# villin\nThe C-terminal helix frays first.\n")
    monkeypatch.chdir(tmp_path)
    provider.use_notebook([])
    steps = steps_of("ok, index my notes folder and then tell me what they say about the C-terminal helix", WORDS)
    assert len(steps) == 2
    call = provider.choose_call(steps[1], TOOLS, fallback_paths=["notes/"])
    assert call is not None and call.name == "literature_ask", provider.last_problem  # never a DSSP of notes/
