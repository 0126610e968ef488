"""Round 8 of the router: a thing told apart by a compound qualifier, a length or a seed that the notebook does not
hold gets no call and is named; one it does hold is the one used. Wordings of our own, not the benchmark sets'."""

import json

from kenkyu.assistant.resolver import run_folders
from kenkyu.core.routing import Candidate, missing_object, resolve_slot

DHFR = [Candidate("pdb_file", "dhfr.pdb", "dhfr.pdb", names=("dhfr.pdb", "dhfr"), aliases=("dhfr",))]
RUNS = [
    Candidate(
        "run_folder",
        "md_runs/villin",
        "md_runs/villin (villin_1vii.pdb, implicit, 300 K, 4 ps, seed 1, finished, 2026-11-30 04:25)",
        names=("md_runs/villin", "villin"),
        order=2,
        temperature_k=300.0,
        length_ps=4.0,
        seeds=(1,),
    ),
    Candidate(
        "run_folder",
        "md_runs/villin_seed2",
        "md_runs/villin_seed2 (villin_1vii.pdb, implicit, 300 K, 1.6 ps, seed 2, finished, 2026-01-01 09:05)",
        names=("md_runs/villin_seed2", "villin_seed2"),
        order=1,
        temperature_k=300.0,
        length_ps=1.6,
        seeds=(2,),
    ),
]


def test_a_compound_qualifier_names_a_structure_that_is_not_here():
    for request in (
        "take the energy-minimized DHFR and do 1 ps of implicit md from it",
        "simulate my energy minimised dhfr for 2 ps",
        "grab the freshly equilibrated dhfr and run 1 ps",
        "simulate the mutant dhfr for 1 ps",
    ):
        missing = missing_object(request, DHFR)
        assert missing is not None, request
        assert "dhfr" in missing.phrase.lower() and missing.options == tuple(DHFR)
    assert missing_object("simulate dhfr for 1 ps in implicit solvent", DHFR) is None
    held = [*DHFR, Candidate("pdb_file", "dhfr_minimized.pdb", "dhfr_minimized.pdb", names=("dhfr_minimized.pdb",))]
    assert missing_object("simulate the energy-minimized dhfr for 1 ps", held) is None


def test_a_run_named_by_a_length_or_seed_no_run_has_is_missing_and_the_runs_are_listed():
    for request, said in (
        ("how stable was the 10 ns simulation? rmsd over all of it", "10 ns"),
        ("plot the rmsd of my 10ns trajectory", "10ns"),
        ("contacts in the run that lasted 7 ps", "7 ps"),
        ("rmsf of the seed 3 run", "seed 3"),
        ("radius of gyration of the run with seed 5", "seed 5"),
    ):
        missing = missing_object(request, RUNS)
        assert missing is not None, request
        assert said in missing.phrase and missing.options == tuple(RUNS)
    assert missing_object("rg of the seed-2 simulation", RUNS) is None
    assert missing_object("rmsd of the 1.6 ps run", RUNS) is None
    villin = Candidate("pdb_file", "villin.pdb", "villin.pdb", names=("villin.pdb", "villin"))
    assert missing_object("simulate villin.pdb for 10 ns with seed 3", [*RUNS, villin]) is None  # makes one
    # (the file it starts from must be here: round 15 asks about one that is not)
    assert missing_object("simulate villin.pdb for 10 ns with seed 3", RUNS).phrase == "`villin.pdb`"


def test_the_run_said_by_its_length_or_seed_is_the_one_used():
    extend = resolve_slot("the 4 ps run was too short, add 2 more ps to it", "run", RUNS, {"type": "string"})
    assert extend.candidate is not None and extend.candidate.value == "md_runs/villin"
    older = resolve_slot("the rmsd of the seed-2 one", "trajectory", RUNS, {"type": "string"})
    assert older.candidate is not None and older.candidate.value == "md_runs/villin_seed2"


def test_run_folders_are_labelled_with_their_length_and_seed(tmp_path):
    run = tmp_path / "md_runs" / "hot"
    run.mkdir(parents=True)
    record = {
        "status": "finished",
        "structure": "villin.pdb",
        "parameters": {"ps": 12.5, "seed": 7, "temperature_k": 350},
    }
    (run / "run.json").write_text(json.dumps(record))
    (label,) = [c.label for c in run_folders(tmp_path)]
    assert "12.5 ps" in label and "seed 7" in label and "350 K" in label


def _run(root, name, ps, seed):
    folder = root / "md_runs" / name
    folder.mkdir(parents=True)
    record = {"status": "finished", "structure": "villin.pdb", "parameters": {"ps": ps, "seed": seed}}
    (folder / "run.json").write_text(json.dumps(record))


def test_which_result_came_from_a_run_said_by_its_seed_is_read_from_the_kernels_cells(tmp_path):
    from kenkyu.assistant.notebook_tools import _made_from
    from kenkyu.core.registry import ToolRegistry
    from kenkyu.core.routing import recall_tool
    from kenkyu.tools import TOOL_MODULES

    _run(tmp_path, "alpha", 4.0, 1)
    _run(tmp_path, "beta", 1.6, 2)
    cells = ["import kenkyu.tools.analysis as ka", "first = ka.rmsd('md_runs/alpha')\nsecond = ka.rmsd('md_runs/beta')"]
    namespace = {"In": ["", *cells], "first": object(), "second": object()}
    question = "which of the rmsd tables is from the seed 2 simulation?"
    answer = _made_from(question, namespace, tmp_path)
    assert answer.startswith("`second` came from md_runs/beta") and "first" not in answer
    assert "no run here is the seed 5 run" in _made_from("which result came from the seed 5 run?", namespace, tmp_path)
    assert _made_from("which variables do I have?", namespace, tmp_path) is None
    tools = list(ToolRegistry.from_modules([*TOOL_MODULES, "kenkyu.assistant.notebook_tools"]))
    assert recall_tool(question, tools).name == "notebook_tools_overview"


def test_a_run_said_by_its_length_sets_no_setting_and_a_total_is_to_ps():
    from kenkyu.core.registry import ToolRegistry
    from kenkyu.core.routing import constrained_arguments_schema
    from kenkyu.tools import TOOL_MODULES

    extend = next(t for t in ToolRegistry.from_modules(TOOL_MODULES) if t.name == "md_extend")
    by = constrained_arguments_schema(extend, "the 4 ps run is too short, add 2 more ps")["properties"]
    assert by["ps"] == {"enum": [2.0]} and "to_ps" not in by
    to = constrained_arguments_schema(extend, "continue the 1.6 ps simulation until 5 ps")["properties"]
    assert to["to_ps"] == {"enum": [5.0]} and "ps" not in to


def test_a_unit_ratio_is_no_path():
    from kenkyu.core.routing import path_tokens

    assert path_tokens("how many ns/day does dataflow get on villin.pdb vs openmm?") == ["villin.pdb"]
    assert path_tokens("energies in kJ/mol and/or kcal/mol for md_runs/a") == ["md_runs/a"]


def test_frame_windows_said_in_time_reach_each_step():
    from kenkyu.core.registry import ToolRegistry
    from kenkyu.core.routing import split_steps, time_bounds
    from kenkyu.tools import TOOL_MODULES

    words = [(*t.keywords, t.name) for t in ToolRegistry.from_modules(TOOL_MODULES)]
    assert time_bounds("leave out the first picosecond, it is equilibration") == {"start_ps": 1.0}
    assert split_steps("rg of my newest run over its final 3 ps, and then the sasa over that same stretch", words) == [
        "rg of my newest run over its final 3 ps",
        "the sasa over the last 3 ps",
    ]
    (step,) = split_steps("discard the first ps of the newest run and then give me its rmsd", words)
    assert time_bounds(step) == {"start_ps": 1.0} and step.endswith("give me its rmsd")


def test_an_output_folder_said_in_words_is_written_not_missing():
    from kenkyu.core.registry import ToolRegistry
    from kenkyu.core.routing import constrained_arguments_schema
    from kenkyu.tools import TOOL_MODULES

    run = next(t for t in ToolRegistry.from_modules(TOOL_MODULES) if t.name == "md_run")
    here = [Candidate("pdb_file", "hp35.pdb", "hp35.pdb", names=("hp35.pdb", "hp35"))]
    for request, folder in (
        ("2 ps of hp35.pdb at 360 K in implicit solvent, kept in the folder hot_360K", "hot_360K"),
        ("simulate hp35.pdb at 360 K for 2 ps into md_runs/hot_360K", "md_runs/hot_360K"),
        ("simulate hp35.pdb for 2 ps, out=md_runs/hot2", "md_runs/hot2"),
    ):
        assert missing_object(request, here) is None, request
        properties = constrained_arguments_schema(run, request)["properties"]
        assert properties["out"] == {"type": "string", "enum": [folder]}, request
        assert properties["structure"]["enum"] == ["hp35.pdb"], request


def test_a_temperature_said_picks_the_run_at_it(tmp_path):
    from kenkyu.assistant.resolver import gather

    for name, kelvin in (("hp35_300K", 300.0), ("hp35_360K", 360.0)):
        folder = tmp_path / "md_runs" / name
        folder.mkdir(parents=True)
        record = {"status": "finished", "structure": "hp35.pdb", "parameters": {"ps": 2.0, "temperature_k": kelvin}}
        (folder / "run.json").write_text(json.dumps(record))
    here = gather({}, tmp_path, error=False)
    hot = resolve_slot("which helix comes apart first at 360 K?", "trajectory", here, {"type": "string"})
    assert hot.candidate is not None and hot.candidate.value == "md_runs/hp35_360K"
    cold = resolve_slot("how compact is it at 300 kelvin", "trajectory", here, {"type": "string"})
    assert cold.candidate is not None and cold.candidate.value == "md_runs/hp35_300K"
    assert missing_object("rg of the 400 K run", here) is not None


def test_the_same_at_another_temperature_keeps_the_other_settings():
    from kenkyu.core.followup import Previous, follow_up

    before = Previous(
        "simulate hp35.pdb in implicit solvent at 300 K for 2 ps, no equilibration", (("structure", "hp35.pdb"),)
    )
    for request in ("now the same at 360 K", "same again at 360 kelvin"):
        again = follow_up(request, before, [], lambda text: False)
        assert again is not None, request
        assert "2 ps" in again.request and "no equilibration" in again.request and "hp35.pdb" in again.request
        assert "360" in again.request and "300" not in again.request


def test_two_runs_said_are_one_step_each():
    from kenkyu.core.routing import steps_of

    here = [
        Candidate(
            "trajectory",
            "cold",
            "`cold` (MDRun, md_runs/a, 300 K)",
            True,
            ("cold",),
            5,
            path="md_runs/a",
            temperature_k=300.0,
        ),
        Candidate(
            "trajectory",
            "hot_2",
            "`hot_2` (MDRun, md_runs/b, 360 K)",
            True,
            ("hot_2",),
            6,
            path="md_runs/b",
            temperature_k=360,
        ),
    ]
    assert steps_of("sasa of cold and of hot_2", (), here) == ["sasa of cold", "sasa of hot_2"]
    assert steps_of("contrast the 300 K run with the 360 K run: how compact are they", (), here) == [
        "the 300 K run: how compact are they",
        "the 360 K run: how compact are they",
    ]
    assert steps_of("the rg of the 2 ps and 4 ps runs", (), here) == [
        "the rg of the 2 ps run",
        "the rg of the 4 ps run",
    ]


def test_for_both_after_two_objects_means_each_of_them():
    from kenkyu.core.followup import Previous, follow_up
    from kenkyu.core.routing import steps_of

    before = Previous("rmsd of cold and of hot_2", (("trajectory", "cold"), ("trajectory", "hot_2")))
    here = [
        Candidate("trajectory", "cold", "`cold` (Trajectory)", True, ("cold",), 5),
        Candidate("trajectory", "hot_2", "`hot_2` (Trajectory)", True, ("hot_2",), 6),
    ]
    again = follow_up("ok, the sasa for both of them", before, here, lambda text: False)
    assert again is not None and "cold" in again.note and "hot_2" in again.note
    assert steps_of(again.request, (), here) == ["ok, the sasa of cold", "ok, the sasa of hot_2"]


def test_a_folder_said_in_words_is_a_path_and_a_later_purpose_is_no_step(tmp_path):
    from kenkyu.core.registry import ToolRegistry
    from kenkyu.core.routing import folders_said, without_later_purpose
    from kenkyu.tools import TOOL_MODULES

    (tmp_path / "reading").mkdir()
    assert folders_said("index what is in the reading folder", tmp_path) == "index what is in the reading/ folder"
    assert folders_said("ingest the folder reading", tmp_path) == "ingest the folder reading/"
    assert folders_said("index the drafts folder", tmp_path) == "index the drafts folder"  # not here: unchanged
    words = [(*t.keywords, t.name) for t in ToolRegistry.from_modules(TOOL_MODULES)]
    assert without_later_purpose("index my notes in reading/ so I can ask about them", words) == (
        "index my notes in reading/"
    )
    assert without_later_purpose("so I can ask about them", words) == "so I can ask about them"


def test_a_question_put_to_the_notes_is_the_literature_tools():
    from kenkyu.core.registry import ToolRegistry
    from kenkyu.core.routing import documents_tool
    from kenkyu.tools import TOOL_MODULES

    tools = list(ToolRegistry.from_modules(TOOL_MODULES))
    assert documents_tool("according to my notes, which loop melts first on heating?", tools).name == "literature_ask"
    assert documents_tool("which loop melts first on heating?", tools) is None


def test_the_hotter_run_is_the_one_at_the_highest_temperature(tmp_path):
    from kenkyu.assistant.resolver import gather

    for name, kelvin in (("a", 300.0), ("b", 360.0)):
        folder = tmp_path / "md_runs" / name
        folder.mkdir(parents=True)
        (folder / "run.json").write_text(json.dumps({"parameters": {"ps": 2.0, "temperature_k": kelvin}}))
    here = gather({}, tmp_path, error=False)
    hot = resolve_slot("how compact is it in the hotter run?", "trajectory", here, {"type": "string"})
    assert hot.candidate is not None and hot.candidate.value == "md_runs/b"
    cold = resolve_slot("rmsd at the lower temperature", "trajectory", here, {"type": "string"})
    assert cold.candidate is not None and cold.candidate.value == "md_runs/a"
