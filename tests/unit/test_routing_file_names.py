"""Words inside a file's name name that file; they ask for no tool.

A newcomer answered kenkyu's "which structure? ... use it?" with "yes use 5dfr_minimized.pdb, 2 ps implicit,
seed 3" and got a minimisation of several minutes instead of the 2 ps run: "minimized" in the file's name voted
for md_minimize. What a file's name says was done to it (minimized, relaxed, extended) no longer votes for a tool."""

import pytest

from kenkyu.core.registry import ToolRegistry
from kenkyu.core.routing import Candidate, ToolRouter, without_history_in_file_names
from kenkyu.tools import TOOL_MODULES

TOOLS = list(ToolRegistry.from_modules([*TOOL_MODULES, "kenkyu.assistant.notebook_tools"]))


def _pdb(name: str) -> Candidate:
    stem = name.rsplit(".", 1)[0]
    return Candidate("pdb_file", name, name, names=(name, stem), formats=("pdb",))


def test_what_was_done_to_a_file_leaves_its_name():
    assert without_history_in_file_names("yes use 5dfr_minimized.pdb, 2 ps") == "yes use 5dfr.pdb, 2 ps"
    assert without_history_in_file_names("rg of md_runs/relaxed-villin_extended.pdb") == "rg of md_runs/villin.pdb"
    assert without_history_in_file_names("plot rg_fast_folding.csv") == "plot rg_fast_folding.csv"
    assert (
        without_history_in_file_names("run 2 ps of villin at 300 K in md_runs/heated")
        == "run 2 ps of villin at 300 K in md_runs/heated"
    )


@pytest.fixture(scope="module")
def router():
    return ToolRouter()


@pytest.mark.parametrize(
    "request_, name, wanted",
    [
        ("yes use 5dfr_minimized.pdb, 2 ps implicit, seed 3", "5dfr_minimized.pdb", "md_run"),
        ("simulate relaxed_minimised_villin.pdb for 1 ps, implicit", "relaxed_minimised_villin.pdb", "md_run"),
        (
            "radius of gyration of heated_extended_villin.pdb",
            "heated_extended_villin.pdb",
            "analysis_radius_of_gyration",
        ),
        ("minimise 5dfr_minimized.pdb again in vacuum", "5dfr_minimized.pdb", "md_minimize"),
    ],
)
def test_the_words_of_the_request_not_of_the_file_name_choose_the_tool(router, request_, name, wanted):
    ranked = router.rank(request_, TOOLS, [_pdb(name)])
    assert ranked[0].tool.name == wanted, [(r.tool.name, round(r.score, 3)) for r in ranked[:4]]
