"""newcomer r7 R8: an index just built is found by the next literature request, wherever it was put. Every ingest
marks its folder (kenkyu_index.json); the notebook's indexes are the default folder, every marked folder and one a
kernel variable holds; the newest is read by a call that names none, and named in its cell. A literature
question's topic words ("PDZ3", "Hsp90") are no kernel objects to find. Real ingest of the shipped notes."""

import json
import os
import shutil

from kenkyu.assistant.cells import action_code
from kenkyu.assistant.resolver import gather
from kenkyu.core.registry import ToolRegistry
from kenkyu.core.routing import missing_object
from kenkyu.tools import literature

TOOLS = ToolRegistry.from_modules(["kenkyu.tools.literature"])
QUESTION = "according to my notes, how fast does villin fold?"


def indexes(candidates):
    return [c for c in candidates if c.kind == "document_index"]


def test_an_index_ingested_into_any_folder_is_found_named_and_read(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(literature.example_notes(), "notes")
    assert missing_object(QUESTION, gather({}, ".")) is not None  # nothing indexed yet: said so

    report = literature.ingest("notes/", index="notes_index", progress=False)
    marker = json.loads((tmp_path / "notes_index" / "kenkyu_index.json").read_text())
    assert marker["passages"] == report.chunks > 0 and marker["documents"] == report.documents

    found = indexes(gather({"ingest": report}, "."))
    assert [c.value for c in found] == ["notes_index"]
    assert found[0].label.startswith(f"notes_index/ ({report.chunks} passages, built ")
    assert missing_object(QUESTION, gather({}, ".")) is None
    # Topic words of a question to the notes are not objects to find in the kernel.
    assert missing_object("what do my notes say about the Met20 loop, PDZ3 and Hsp90?", gather({}, ".")) is None

    code = action_code(TOOLS["literature_ask"], {"question": "How fast does villin fold?"}, "answer")
    assert "index='notes_index'" in code and f"# searching notes_index/ ({report.chunks} passages, built" in code
    namespace = {}
    exec(code.replace("question=", "llm=False, question="), namespace)  # the passages: no LLM here
    assert "villin_folding.md" in namespace["answer"].summary()
    # An ingest is written as called: it makes the default index unless told otherwise.
    assert "index" not in action_code(TOOLS["literature_ingest"], {"paths": "notes/"}, "ingest")


def test_the_newest_of_several_indexes_is_read_and_an_unmarked_folder_is_not_guessed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(literature.example_notes(), "notes")
    literature.ingest("notes/villin_structure.md", index="old_index", progress=False)
    newest = literature.ingest("notes/villin_folding.md", progress=False)  # the default folder, built later
    record = json.loads((tmp_path / "literature_index" / "kenkyu_index.json").read_text())
    old = json.loads((tmp_path / "old_index" / "kenkyu_index.json").read_text())
    old["built"] = "2026-01-01T10:00:00+00:00"  # as if ingested long before
    (tmp_path / "old_index" / "kenkyu_index.json").write_text(json.dumps(old))
    assert [c.value for c in indexes(gather({}, "."))] == ["literature_index", "old_index"]
    assert record["passages"] == newest.chunks
    # The newest is the default: the call stays as the scientist would type it.
    assert "index" not in action_code(TOOLS["literature_search"], {"query": "folding"}, "passages")

    # A Chroma folder kenkyu did not mark is not taken for an index by its looks or its name.
    shutil.copytree("old_index", "papers_index")
    os.remove("papers_index/kenkyu_index.json")
    assert "papers_index" not in [c.value for c in indexes(gather({}, "."))]
    # ...unless a kernel variable holds its path.
    assert "papers_index" in [c.value for c in indexes(gather({"where": "papers_index"}, "."))]
