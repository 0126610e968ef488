"""A newcomer's session of round 16 (embedded model, %%ask and the sidebar), each trip-up as a test in other words.

"villin ... in my last run" is the run of villin, not villin.pdb; a run qualified by a kind no run here has ("my
explicit-water run") is missing even when a variable is called `run`; an MDRun variable and the folder it stands for
are one run, not a choice to ask about; a window said in a sentence of its own after a question is that question's;
a tool named by its words beats the embedder's guess a little above it; "how much does the protein move" is an RMSD
and "which simulations do I already have" the notebook's overview."""

import shutil
from pathlib import Path

import pytest

from kenkyu.assistant.resolver import gather
from kenkyu.core.messages import Message
from kenkyu.core.routing import missing_object, resolve_slot

from test_routing_round12 import _turn
import test_routing_bindings_r9

provider = test_routing_bindings_r9.provider  # the fixture, here by its name
DATA = Path(__file__).resolve().parents[2] / "kenkyu" / "data"


@pytest.fixture
def villin_and_its_run(tmp_path, monkeypatch):
    """villin.pdb beside a finished run of it (md_runs/villin_implicit) and an MDRun `run` of that folder."""
    shutil.copy(DATA / "villin_1vii.pdb", tmp_path / "villin.pdb")
    folder = tmp_path / "md_runs" / "villin_implicit"
    folder.mkdir(parents=True)
    shutil.copy(DATA / "villin_1vii.pdb", folder / "prepared.pdb")
    record = '{"status": "finished", "created": "2026-12-02T06:00:00", "structure": "villin.pdb", '
    record += '"parameters": {"ps": 2.0, "temperature_k": 300, "solvent": "implicit", "seed": 7}}'
    (folder / "run.json").write_text(record)
    (folder / "trajectory.dcd").write_bytes(b"")
    monkeypatch.chdir(tmp_path)
    from kenkyu.tools import md

    return gather({"run": md.MDRun("md_runs/villin_implicit")}, tmp_path, error=False)


@pytest.mark.parametrize(
    "step",
    ["did villin unfold by the end of my simulation?", "radius of gyration of villin in my latest run, last third"],
)
def test_the_protein_named_in_my_run_is_the_run_not_its_input_file(villin_and_its_run, step):
    match = resolve_slot(step, "trajectory", villin_and_its_run, {"type": "string"})
    assert match.candidate is not None and match.candidate.kind != "pdb_file", match
    assert "md_runs/villin_implicit" in (match.candidate.path or match.candidate.value)


def test_a_run_of_a_kind_no_run_has_is_missing_even_beside_a_variable_called_run(villin_and_its_run):
    assert missing_object("salt bridges in my vacuum run", villin_and_its_run) is not None
    assert missing_object("salt bridges in my run", villin_and_its_run) is None


def test_a_variable_and_the_folder_it_stands_for_are_one_run(villin_and_its_run):
    match = resolve_slot("rmsf of the run", "trajectory", villin_and_its_run, {"type": "string"})
    assert not match.ambiguous and match.candidate is not None


@pytest.mark.parametrize(
    "request_, tool",
    [
        ("Which bit of villin is most floppy? Only the second half of the run.", "analysis_rmsf"),
        ("how much did the protein move over my simulation?", "analysis_rmsd"),
        ("which simulations do I already have here?", "notebook_tools_overview"),
    ],
)
def test_everyday_words_reach_their_tool(provider, villin_and_its_run, request_, tool):
    provider.use_notebook(villin_and_its_run)
    _, calls = _turn(provider, [Message("user", request_)])
    assert [c.name for c in calls] == [tool]


def test_the_same_for_another_object_replaces_the_words_that_named_the_old_one():
    from kenkyu.core.followup import Previous, follow_up
    from test_routing_bindings_r9 import DHFR_PDB, VILLIN_PDB

    previous = Previous("is villin still folded, and how compact is villin?", (("trajectory", VILLIN_PDB.value),))
    followed = follow_up("now the same for dhfr.pdb", previous, [VILLIN_PDB, DHFR_PDB], lambda _: False)
    assert followed is not None and "villin" not in followed.request.lower()
    assert followed.request == "is dhfr.pdb still folded, and how compact is dhfr.pdb"


def test_a_short_run_says_the_equilibration_that_comes_on_top(provider, villin_and_its_run):
    provider.use_notebook(villin_and_its_run)
    note, calls = _turn(provider, [Message("user", "run a quick 2 ps simulation of villin.pdb")])
    assert [c.name for c in calls] == ["md_run"] and "nvt_ps" not in calls[0].arguments
    assert "on top of the 2 ps of production: 3 ps NVT" in note
