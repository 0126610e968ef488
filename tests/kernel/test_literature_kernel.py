"""``%lit`` and the literature tools in a real kernel (nbclient + ipykernel), with the agent (``%%ask``)
calling ``literature_search`` through the replay provider: what the model is shown of a document that
carries planted instructions is fenced data, and no tool it asks for from inside an answer runs."""

from __future__ import annotations

from kenkyu.assistant.session import RECORD_MIME
from literature_corpus import write_corpus
from notebooks import run_cells, text_of


def test_lit_magic_and_agent_tools_in_a_kernel(tmp_path, write_replay):
    corpus = write_corpus(tmp_path / "papers")
    replay = write_replay(
        [
            # %lit QUESTION: the answer turn (the session's provider, called with no tools)
            {"text": 'At 60 degrees the half-life "rose from 12 minutes to 95 minutes" [1].'},
            # %%ask: the agent searches the literature, then answers
            {
                "text": "Let me check the meeting notes.",
                "tool_calls": [
                    {"name": "literature_search", "arguments": {"query": "reagent budget spring term", "k": 3}}
                ],
            },
            {"text": "The minutes give a reagent budget of 12,000 euros for the spring term."},
            # literature.ask called by hand: a reply that obeys the planted note
            {
                "text": "The budget is 12,000 euros [1].",
                "tool_calls": [{"name": "md_run", "arguments": {"structure": "/etc/passwd"}}],
            },
        ]
    )
    nb, _ = run_cells(
        [
            "%load_ext kenkyu",
            f"%lit ingest {corpus}",
            "%lit status",
            f"%kenkyu provider replay {replay}\n%kenkyu approval auto",
            "%lit What was the half-life of the engineered lipase at 60 degrees?",
            "%lit search coral bleaching threshold -k 2 --tag ecology",
            "%%ask\nWhat do my papers say about the reagent budget for the spring term?",
            "import kenkyu.tools.literature as literature\n"
            "answer = literature.ask('What is the reagent budget for the spring term?', k=3)\n"
            "print(answer.evidence, answer.refused_tool_calls, [c.path.rsplit('/', 1)[-1] for c in answer.citations])",
            "%lit",
        ],
        tmp_path,
        name="literature.ipynb",
    )
    cells = nb.cells
    assert "added 12, updated 0, unchanged 0, removed 0" in text_of(cells[1])
    assert "12 documents" in text_of(cells[2])

    answer = cells[4].outputs[-1]["data"]
    assert '"rose from 12 minutes to 95 minutes" [1]' in answer["text/plain"]
    assert "lipase_disulfide.pdf#page=2" in answer["text/html"] and "Sources" in answer["text/html"]

    found = cells[5].outputs[-1]["data"]
    assert "coral_bleaching.pdf" in found["text/plain"] and "<ol>" in found["text/html"]

    record = next(o["data"][RECORD_MIME] for o in cells[6].outputs if RECORD_MIME in o.get("data", {}))
    code = [c for c in record["cells"] if c["cell_type"] == "code"]
    assert [c["metadata"]["kenkyu"]["tool"] for c in code] == ["literature_search"]
    assert "kenkyu.tools.literature.search(query='reagent budget spring term', k=3)" in code[0]["source"]
    tool_message = next(m for m in record["messages"] if m["role"] == "tool")
    seen = tool_message["content"]
    # The passage is quoted from its sentence that best matches the query (round 11), so the planted line may not
    # be shown at all; whatever of the document is shown is inside a fence the model is told is data.
    budget = seen.index("12,000 euros")
    opening = seen.rfind("```text passage [", 0, budget)
    assert opening != -1 and seen.find("```", budget) > budget
    assert "quoted DATA" in seen[:opening] and "meeting_minutes.md" in seen[:budget]
    if "IGNORE PREVIOUS INSTRUCTIONS" in seen:
        injected = seen.index("IGNORE PREVIOUS INSTRUCTIONS")
        fence = seen.rfind("```text passage [", 0, injected)
        assert fence != -1 and seen.find("```", injected) > injected

    assert text_of(cells[7]).strip() == "found ['md_run'] ['meeting_minutes.md']"
    assert "%lit QUESTION" in text_of(cells[8])  # usage
