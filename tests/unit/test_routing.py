import pytest

from kenkyu.core.registry import ToolRegistry
from kenkyu.core.routing import (
    ToolRouter,
    constrained_arguments_schema,
    number_for,
    number_tokens,
    path_tokens,
    split_steps,
)

TOOLS = ToolRegistry.from_modules(["toolbox"])


def test_steps_are_split_on_sequencing_words():
    assert split_steps("prepare villin.pdb, then run 2 ps; then compute the RMSD") == [
        "prepare villin.pdb",
        "run 2 ps",
        "compute the RMSD",
    ]
    assert split_steps("Square 3, then square 12") == ["Square 3", "square 12"]
    assert split_steps("What is the radius of gyration of villin.pdb?") == [
        "What is the radius of gyration of villin.pdb?"
    ]


def test_paths_and_numbers_are_read_from_the_request():
    text = "Run 2.5 ps of data/villin.pdb at 300 K with seed 7, saving to 'out dir/run1.dcd'"
    assert path_tokens(text) == ["data/villin.pdb", "out dir/run1.dcd"]
    assert number_tokens(text) == [2.5, 300.0, 7.0]
    assert (number_for("ps", text), number_for("temperature_k", text), number_for("seed", text)) == (2.5, 300.0, 7.0)
    assert path_tokens("analyse md_runs/villin_implicit, then plot") == ["md_runs/villin_implicit"]
    assert path_tokens("load notes/today.txt.") == ["notes/today.txt"]


def test_schema_narrows_slots_to_values_in_the_request():
    schema = constrained_arguments_schema(TOOLS["toolbox_write_note"], "Write 'hi' to a/b.txt")
    assert schema["properties"]["path"] == {"type": "string", "enum": ["a/b.txt"]}
    assert schema["properties"]["text"]["enum"][0] == "hi"
    schema = constrained_arguments_schema(TOOLS["toolbox_square"], "square 12 please")
    assert schema["properties"]["x"] == {"enum": [12.0]}


def test_router_ranks_by_similarity_with_a_given_embedder():
    import numpy as np

    vocabulary = ["square", "explode", "note", "interrupt"]

    def bag_of_words(texts):
        rows = np.array([[t.lower().count(w) for w in vocabulary] for t in texts], dtype=float) + 1e-9
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)

    router = ToolRouter(embed=bag_of_words)
    ranked = router.rank("please write a note", list(TOOLS))
    assert ranked[0].tool.name == "toolbox_write_note"
    assert ranked[0].score > ranked[1].score


# -- round 3 of issue 13: mechanisms that carry to new wording (each in wording of our own) -----------------------


def test_concepts_match_by_stem_spelling_and_negation():
    from kenkyu.core.concepts import concept_hits

    assert concept_hits("how much helicity is left?", ["helical"]) == (1, 0)  # helical/helicity share a stem
    assert concept_hits("the helices unwind", ["helical"]) == (1, 0)
    assert concept_hits("please energy-minimise the model", ["energy minimization"]) == (1, 0)  # British -ise
    assert concept_hits("visualised in colour", ["visualize", "color"]) == (2, 0)
    assert concept_hits("relax it but without any dynamics", ["dynamics"]) == (1, 1)  # said only under "without"
    assert concept_hits("the rmsd of the trajectory", ["helical", "radius of gyration"]) == (0, 0)
    # a word said once counts once, as a keyword or as a concept
    covered: set[int] = set()
    assert concept_hits("how flexible is it", ["flexible"], stemmed=False, covered=covered) == (1, 0)
    assert concept_hits("how flexible is it", ["flexibility"], covered=covered) == (0, 0)


def test_tools_declare_what_scientists_call_their_quantity():
    from kenkyu.core.routing import keyword_bonus

    registry = ToolRegistry.from_modules(["kenkyu.tools.analysis", "kenkyu.tools.md", "kenkyu.tools.literature"])

    def best(request):
        return max(registry, key=lambda t: keyword_bonus(request, t)).name

    assert best("is the helicity of the peptide stable?") == "analysis_dssp"
    assert best("does the chain lose compactness when heated?") == "analysis_radius_of_gyration"
    assert best("which loops are the most mobile?") == "analysis_rmsf"
    assert best("relieve the steric clashes in model.pdb first") == "md_minimize"
    assert best("what do the publications in my library report on this?") == "literature_ask"
    # a tool's word said under a negation counts against it
    assert keyword_bonus("energy-minimise lyso.pdb, no molecular dynamics", registry["md_run"]) < 0


@pytest.mark.parametrize(
    ("text", "parameter", "value"),
    [
        ("continue it for a further 3 picoseconds", "ps", 3.0),
        ("give it 4 more picoseconds", "ps", 4.0),
        ("simulate for 0.5 ns", "ps", 500.0),
        ("heat it to 350 kelvin", "temperature_k", 350.0),
        ("at 37 °C", "temperature_k", 310.15),
        ("rmsd from 2 ps onwards of a 10 ps run", "ps", 10.0),  # "from 2 ps" is a window, not the run length
        ("leave out the first 1 ps", "ps", None),
    ],
)
def test_numbers_bind_to_parameters_by_unit(text, parameter, value):
    assert number_for(parameter, text) == value


@pytest.mark.parametrize(
    ("text", "frames", "bounds"),
    [
        ("rg, but discard the first 3 ps as equilibration", [], {"start_ps": 3.0}),
        ("ignore the first half of the frames", ["last half"], {}),
        ("drop the first 10% please", ["last 90%"], {}),
        ("exclude the first 4 frames", ["4:"], {}),
    ],
)
def test_frames_left_out_keep_the_rest(text, frames, bounds):
    from kenkyu.core.routing import time_bounds, window_tokens

    assert (window_tokens(text), time_bounds(text)) == (frames, bounds)


def test_a_named_thing_the_notebook_lacks_is_reported():
    from kenkyu.core.routing import Candidate, unknown_object

    here = [Candidate("pdb_file", "villin.pdb", "villin.pdb", names=("villin.pdb", "villin"))]
    assert unknown_object("what is the rg of barnase?", here) == "barnase"
    assert unknown_object("plot the rmsd of the variant", here) == "variant"
    assert unknown_object("what is the rg of the holo form?", here) == "holo form"
    assert unknown_object("rmsd of the last run", here) is None
    assert unknown_object("what is the rg of villin?", here) is None
    assert unknown_object("plot the rmsd of the trajectory", here) is None  # a kind, not a name
    assert unknown_object("how much surface is exposed?", here) is None


def test_comparing_a_property_of_two_named_things_is_one_step_each():
    from kenkyu.core.routing import split_objects

    names = {"villin", "gb1"}
    assert split_objects("compare how compact villin and gb1 are", names.__contains__) == [
        "how compact villin are",
        "how compact gb1 are",
    ]
    assert split_objects("compare how compact villin and lysozyme are", names.__contains__) == [
        "compare how compact villin and lysozyme are"
    ]


@pytest.mark.parametrize(
    ("text", "capability"),
    [
        ("what can you do with trajectories?", True),
        ("what could you help with?", True),
        ("?? why is this broken", False),
        ("what can the rmsd tell me?", False),
    ],
)
def test_capability_questions_by_their_form(text, capability):
    from kenkyu.assistant.overview import is_capability_question

    assert is_capability_question(text) is capability


def test_a_length_of_simulated_time_says_simulate_even_with_a_shared_verb():
    # "relax" is said of minimisation and of a short MD run; "for 100 ps" only a simulation can honour
    # (the design card's own request: "fold this sequence, relax it in water for 100 ps, ...").
    registry = list(ToolRegistry.from_modules(["kenkyu.tools.md"]))
    router = ToolRouter()
    assert router.rank("relax villin in water for 100 ps", registry)[0].tool.name == "md_run"
    assert router.rank("relax the energy of villin", registry)[0].tool.name == "md_minimize"


def test_a_verb_said_once_goes_with_every_item_of_a_list():
    from kenkyu.core.routing import vocabulary

    registry = ToolRegistry.from_modules(["kenkyu.tools.analysis"])
    words = [tuple(vocabulary(t)) for t in registry]
    assert split_steps("plot the rmsd and rg", words) == ["plot the rmsd", "plot the rg"]
    assert split_steps("compute the rmsd and the rg of my run", words) == [
        "compute the rmsd of my run",
        "compute the rg of my run",
    ]
    assert split_steps("plot rmsd and compute the rg", words) == ["plot rmsd", "compute the rg"]
