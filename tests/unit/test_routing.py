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
