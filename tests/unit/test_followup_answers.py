"""The answer to the assistant's own question: after "Which trajectory? ... the most recent is md_runs/villin; also
..." the next request ("yes, use that one - the newest", "the older one", "the pdb file") is the earlier request on
the input it picks among those offered, not a request of its own. And round 11's other conversation-level kinds: a
general question whether kenkyu does something is answered with its tools, what was run last is asked of the notebook,
a request only to index documents indexes them."""

import pytest

from kenkyu.core.messages import Message
from kenkyu.core.providers.base import TextDelta, ToolCallDone
from kenkyu.core.routing import Candidate, ability_answer, recall_tool, steps_of, unserved

# The tools, the villin file and run, and the stand-in provider fixture, as round 9's router tests have them (pytest
# puts this folder on the path: the test modules here have no package)
from test_routing_bindings_r9 import TOOLS, VILLIN_PDB, VILLIN_RUN, WORDS
import test_routing_bindings_r9

provider = test_routing_bindings_r9.provider  # the fixture, here by its name
OLDER_RUN = Candidate(
    "run_folder",
    "md_runs/villin_seed2",
    "md_runs/villin_seed2 (villin.pdb, implicit, 300 K, 2 ps, seed 2, finished)",
    names=("md_runs/villin_seed2", "villin_seed2"),
    order=2,
    aliases=("villin",),
    length_ps=2.0,
    seeds=(2,),
)


def _turn(provider, messages: list) -> tuple[str, list]:
    """One reply of the embedded provider to the conversation: its text and its calls (appended to ``messages``)."""
    chunks = list(provider.stream(messages, TOOLS))
    text = "".join(c.text for c in chunks if isinstance(c, TextDelta))
    calls = [c.call for c in chunks if isinstance(c, ToolCallDone)]
    messages.append(Message("assistant", text, calls))
    return text, calls


def _asked_then_answered(provider, notebook, request: str, answer: str) -> list:
    provider.use_notebook(notebook)
    messages = [Message("user", request)]
    question, calls = _turn(provider, messages)
    assert not calls and question.startswith("Which "), question  # the input was asked about, nothing called
    messages.append(Message("user", answer))
    return _turn(provider, messages)[1]


@pytest.mark.parametrize(
    "answer, chosen",
    [
        ("yes, use that one - the newest", "md_runs/villin"),
        ("sure, the latest", "md_runs/villin"),
        ("the older one please", "md_runs/villin_seed2"),
        ("villin_seed2", "md_runs/villin_seed2"),
    ],
)
def test_an_answer_to_which_run_is_the_earlier_request_on_the_run_it_picks(provider, answer, chosen):
    calls = _asked_then_answered(provider, [VILLIN_RUN, OLDER_RUN], "can I get the backbone rmsd of my run", answer)
    assert [c.name for c in calls] == ["analysis_rmsd"] and calls[0].arguments["trajectory"] == chosen, answer


def test_the_pdb_file_answers_which_trajectory_with_the_offered_pdb(provider):
    # newcomer r10 T4: "the pdb file" after "Which trajectory? ..." was read as a request of its own (build_mutants)
    calls = _asked_then_answered(
        provider, [VILLIN_RUN, OLDER_RUN, VILLIN_PDB], "which residues are in a helix?", "the pdb file"
    )
    assert [c.name for c in calls] == ["analysis_dssp"] and calls[0].arguments["trajectory"] == "villin.pdb"


def test_a_request_of_its_own_after_a_question_is_routed_as_itself(provider):
    provider.use_notebook([VILLIN_RUN, OLDER_RUN])
    messages = [Message("user", "can I get the backbone rmsd of my run")]
    _turn(provider, messages)
    messages.append(Message("user", "the radius of gyration of md_runs/villin_seed2 please"))
    calls = _turn(provider, messages)[1]
    assert [c.name for c in calls] == ["analysis_radius_of_gyration"]
    assert calls[0].arguments["trajectory"] == "md_runs/villin_seed2"


# -- a question whether kenkyu does something, in general ------------------------------------------------------------


@pytest.mark.parametrize(
    "question, tool",
    [
        (
            "Quick question before I start: can you predict a protein's structure from its sequence, or is it only "
            "simulations?",
            "structure_fold",
        ),
        ("do you fold sequences?", "structure_fold"),
        ("is kenkyu able to score mutations at all?", "structure_variant_effects"),
    ],
)
def test_whether_kenkyu_does_something_is_answered_with_its_tools_no_call(provider, question, tool):
    assert len(steps_of(question, WORDS, [VILLIN_PDB])) == 1  # one question, not split at its colon
    answer = unserved(question, TOOLS, [VILLIN_PDB])
    assert answer is not None and f"`{tool}`" in answer, answer
    provider.use_notebook([VILLIN_PDB])
    assert provider.choose_call(question, TOOLS) is None and f"`{tool}`" in provider.last_problem


def test_only_simulations_asked_about_names_the_simulation_tools_too():
    answer = ability_answer("can you predict a protein's structure, or is it only simulations?", TOOLS)
    assert "`structure_fold`" in answer and "`md_run`" in answer


@pytest.mark.parametrize(
    "request_",
    ["can you fold MKTAYIAKQISFVKSHFSRQ?", "can you compute the rmsd of md_runs/villin?", "can you simulate my pdb?"],
)
def test_a_request_put_as_a_question_is_no_question_whether_kenkyu_can(request_):
    assert ability_answer(request_, TOOLS, [VILLIN_PDB, VILLIN_RUN]) is None


# -- what was done, asked of the notebook; an index made, not asked --------------------------------------------------


@pytest.mark.parametrize(
    "question",
    ["what analysis did I run last?", "which plots have we made so far?", "what did I compute most recently?"],
)
def test_what_was_done_last_is_asked_of_the_notebook(question):
    tool = recall_tool(question, TOOLS)
    assert tool is not None and tool.name == "notebook_tools_overview", question


@pytest.mark.parametrize(
    "request_",
    ["index my notes in papers/", "please ingest my notes from papers/", "add the PDFs in refs/ to the index"],
)
def test_a_request_only_to_index_documents_is_the_ingest(provider, request_):
    provider.use_notebook([])
    call = provider.choose_call(request_, TOOLS)
    assert call is not None and call.name == "literature_ingest", (request_, provider.last_problem)


# -- newcomer r11 (h4): one run under two names, a 1-frame Trajectory, and an answer told by its record ------------

RUN_VARIABLE = Candidate(
    "trajectory",
    "run",
    "`run` (MDRun, md_runs/villin, 300 K, 4 ps, seed 1)",
    True,
    ("run",),
    9,
    ("villin",),
    path="md_runs/villin",
    seeds=(1,),
    length_ps=4.0,
)
ONE_FRAME = Candidate("trajectory", "pdb", "`pdb` (Trajectory, 596 atoms, 1 frames)", True, ("pdb",), 8)


def test_an_unnamed_trajectory_is_the_one_run_here_not_its_folder_again_nor_a_one_frame_trajectory(provider):
    provider.use_notebook([RUN_VARIABLE, ONE_FRAME, VILLIN_RUN, VILLIN_PDB])
    call = provider.choose_call("plot the radius of gyration over time", TOOLS)
    assert call is not None and call.name == "analysis_radius_of_gyration", provider.last_problem
    assert call.arguments["trajectory"] == "run"


def test_two_real_runs_are_still_asked_about(provider):
    provider.use_notebook([VILLIN_RUN, OLDER_RUN, ONE_FRAME])
    assert provider.choose_call("plot the radius of gyration over time", TOOLS) is None
    assert provider.last_problem.startswith("Which trajectory?") and "`pdb`" not in provider.last_problem.split(";")[0]


@pytest.mark.parametrize("answer", ["the seed 2 one", "the 2 ps one please"])
def test_an_answer_telling_the_run_by_its_record_picks_it(provider, answer):
    calls = _asked_then_answered(provider, [VILLIN_RUN, OLDER_RUN], "can I get the backbone rmsd of my run", answer)
    assert [c.name for c in calls] == ["analysis_rmsd"] and calls[0].arguments["trajectory"] == "md_runs/villin_seed2"


INDEX = Candidate("document_index", "literature_index", "literature_index (literature index)", names=("papers",))


@pytest.mark.parametrize(
    "request_", ["ok and what do they say about the Met20 loop?", "what do they mention about helix capping?"]
)
def test_what_they_say_with_an_index_here_asks_the_notes(provider, request_):
    provider.use_notebook([INDEX, VILLIN_RUN])
    (step,) = steps_of(request_, WORDS, [INDEX, VILLIN_RUN])
    call = provider.choose_call(step, TOOLS)
    assert call is not None and call.name == "literature_ask", (step, provider.last_problem)
    # with no index, "they" are not the notes
    assert steps_of(request_, WORDS, [VILLIN_RUN]) == [request_]


def test_notes_indexed_in_the_first_turn_are_asked_in_the_second(provider, tmp_path, monkeypatch):
    """Newcomers r11 (%%ask and sidebar): 'according to my notes, ...?' indexed notes/ and stopped: the request was
    split again once the index existed, its ingest step was gone, and the one step left counted as done."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "villin.md").write_text("# villin\nThe C-terminal helix frays first.\n")
    provider.use_notebook([VILLIN_RUN])
    messages = [Message("user", "according to my notes, which helix comes apart first?")]
    _, calls = _turn(provider, messages)
    assert [c.name for c in calls] == ["literature_ingest"]
    # What the ingest wrote: the notebook now holds an index (as the resolver lists one)
    index = Candidate(
        "document_index",
        "literature_index",
        "literature_index (literature index)",
        names=("literature_index", "literature_index/", "papers", "notes"),
    )
    provider.use_notebook([VILLIN_RUN, index])
    messages.append(Message("tool", "Indexed 1 document from notes/ into literature_index", tool_call_id=calls[0].id))
    _, calls = _turn(provider, messages)
    assert [c.name for c in calls] == ["literature_ask"], calls
    assert "helix" in calls[0].arguments["question"]
