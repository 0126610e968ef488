"""Asking about "my papers" before anything is ingested: the reply says how to ingest (the call and the folder)
and offers the reading notes shipped with kenkyu to try it on; the tool's own error says the same."""

import os

import pytest
from notebooks import run_cells

from kenkyu.tools import literature


def test_ask_about_my_papers_with_no_index_says_how_to_ingest_and_offers_the_shipped_notes(tmp_path):
    nb, _ = run_cells(["%load_ext kenkyu", "%%ask\nwhat do my papers say about implicit solvent for villin?"], tmp_path)
    reply = "\n".join(str(o.get("data", {}).get("text/markdown", "")) for o in nb.cells[1].outputs)
    assert "kenkyu.tools.literature.ingest('papers/')" in reply and "the folder that holds them" in reply
    assert "kenkyu.tools.literature.ingest(kenkyu.tools.literature.example_notes())" in reply
    assert "kenkyu/data/literature" in reply
    assert not (tmp_path / "literature_index").exists()  # nothing was called


def test_the_tools_error_without_an_index_names_the_call_the_folder_and_the_shipped_notes(tmp_path):
    with pytest.raises(literature.IndexNotFoundError) as raised:
        literature.search("implicit solvent", index=tmp_path / "literature_index")
    message = str(raised.value)
    assert "ingest(['papers/']" in message and "folder that holds your papers" in message
    assert "ingest(kenkyu.tools.literature.example_notes())" in message
    # The advice is real: the shipped folder holds the notes and the BibTeX.
    assert {"villin_folding.md", "villin_structure.md", "villin.bib"} <= set(os.listdir(literature.example_notes()))
