"""newcomer r7 R8 in a real kernel: notes ingested into their own index folder are what the next %%ask about
"my notes" reads, on the embedded model; the reply names the index, and a topic word ("Met20") is not looked
for in the kernel. Real ingest of the shipped notes, %%ask, ipykernel."""

import shutil

from notebooks import run_cells, text_of

from kenkyu.assistant.session import RECORD_MIME
from kenkyu.tools import literature


def test_ask_about_my_notes_reads_the_index_just_built_and_names_it(tmp_path):
    shutil.copytree(literature.example_notes(), tmp_path / "notes")
    nb, _ = run_cells(
        [
            "%load_ext kenkyu",
            "from kenkyu.tools import literature\n"
            "ingest = literature.ingest('notes/', index='notes_index', progress=False)",
            "%%ask\naccording to my notes, how fast does villin fold?",  # the source said first: no step of its own
            "%%ask\nwhat do my notes say about the Met20 loop and Hsp90?",
        ],
        tmp_path,
    )
    for cell in nb.cells[2:]:
        shown = text_of(cell) + "\n".join(str(o.get("data", {}).get("text/markdown", "")) for o in cell.outputs)
        assert "is in the kernel or this folder" not in shown and "Index them first" not in shown, shown
        record = next(o["data"][RECORD_MIME] for o in cell.outputs if RECORD_MIME in o.get("data", {}))
        code = [c for c in record["cells"] if c["cell_type"] == "code"]
        assert len(code) == 1 and code[0]["metadata"]["kenkyu"]["tool"].startswith("literature_"), record
        assert "index='notes_index'" in code[0]["source"] and "# searching notes_index/ (" in code[0]["source"]
        assert not any(o["output_type"] == "error" for o in code[0]["outputs"]), code[0]["outputs"]
    first = next(o["data"][RECORD_MIME] for o in nb.cells[2].outputs if RECORD_MIME in o.get("data", {}))
    assert "fast does villin fold" in first["cells"][-1]["source"] or any(
        "fast does villin fold" in c["source"] for c in first["cells"]
    )  # the question itself, not "according to my notes" as a step of its own
    assert "villin_folding.md" in text_of(next(c for c in first["cells"] if c["cell_type"] == "code"))
