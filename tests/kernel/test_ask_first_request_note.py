"""The first %%ask of a kernel on the embedded model says why it waits: it loads torch, the MiniLM tool router
and the model before anything else shows (45 s under a bare header for a newcomer on 2 busy cores). The note
stands only while it waits: once the first event arrives the header is updated in place (its display_id), so
the saved notebook does not say "loading…" over an answer (newcomer r12). The next request, with all of it
loaded, does not say it at all. A real kernel and the real embedded model."""

import os

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat import v4
from notebooks import TESTS

pytestmark = [pytest.mark.slow, pytest.mark.embedded_llm]
pytest.importorskip("mdtraj")
pytest.importorskip("llama_cpp")

NOTE = "first request in this kernel: loading the tool router and the model"
HEADER = "<sub>研究 kenkyu · embedded"


class Watching(NotebookClient):
    """nbclient as the notebook runs it, keeping every iopub message of each cell in order."""

    def __init__(self, nb, **kwargs):
        super().__init__(nb, **kwargs)
        self.messages: dict[int, list[dict]] = {}

    def process_message(self, msg, cell, cell_index):
        self.messages.setdefault(cell_index, []).append(msg)
        return super().process_message(msg, cell, cell_index)


def markdown(message) -> str:
    return message["content"].get("data", {}).get("text/markdown", "")


def saved_header(cell) -> str:
    return next(o["data"]["text/markdown"] for o in cell.outputs if "text/markdown" in o.get("data", {}))


def test_the_first_request_says_it_is_loading_only_while_it_waits(tmp_path):
    sources = [
        "%load_ext kenkyu",
        "%kenkyu provider local\n%kenkyu approval auto",
        "import mdtraj\nimport kenkyu.tools.md as kmd\ntraj = mdtraj.load(str(kmd.example_structure('villin')))",
        "%%ask\nwhat is the radius of gyration of traj?",
        "%%ask\nand the sasa of traj",
    ]
    nb = v4.new_notebook(cells=[v4.new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    env = {**os.environ, "PYTHONPATH": f"{TESTS}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    client = Watching(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.execute(env=env)
    nbformat.write(nb, tmp_path / "notebook.ipynb")

    # While it waits: the first thing the cell shows is the header with the note, under a display_id.
    shown = [m for m in client.messages[3] if m["msg_type"] in ("display_data", "update_display_data")]
    first = shown[0]
    assert first["msg_type"] == "display_data" and markdown(first).startswith(HEADER), markdown(first)
    assert NOTE in markdown(first)
    display_id = first["content"]["transient"]["display_id"]
    # The first event takes it off, before anything else is shown.
    update = shown[1]
    assert update["msg_type"] == "update_display_data", [markdown(m)[:80] for m in shown[:3]]
    assert update["content"]["transient"]["display_id"] == display_id
    assert markdown(update).startswith(HEADER) and NOTE not in markdown(update) and "loading" not in markdown(update)

    # The saved notebook: the answered request's header no longer says it is loading; the next never did.
    saved = nbformat.read(tmp_path / "notebook.ipynb", as_version=4)
    answered, second = saved_header(saved.cells[3]), saved_header(saved.cells[4])
    assert answered.startswith(HEADER) and NOTE not in answered, answered
    assert second.startswith(HEADER) and NOTE not in second, second
    assert not any(m["msg_type"] == "update_display_data" and NOTE in markdown(m) for m in client.messages[4])
