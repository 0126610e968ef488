"""The literature quick-start notebook runs headless in a real kernel (it writes its own small corpus)."""

from __future__ import annotations

import shutil

import nbformat
from md_fixtures import REPO_ROOT
from nbclient import NotebookClient
from notebooks import text_of

NOTEBOOK = REPO_ROOT / "examples" / "literature_quickstart.ipynb"


def test_literature_quickstart_notebook_runs(tmp_path):
    path = tmp_path / NOTEBOOK.name
    shutil.copy(NOTEBOOK, path)
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    outputs = {c.source.splitlines()[0]: text_of(c) for c in code}
    assert "added 4, updated 0, unchanged 0, removed 0" in outputs["from kenkyu.tools import literature"]
    assert "unchanged 4" in outputs["literature.ingest([papers]).summary()  # nothing changed: nothing embedded"]
    assert (
        "enzyme_kinetics.pdf"
        in outputs['passages = literature.search("how does temperature affect the protease?", k=3)']
    )
    filtered = outputs['literature.search("enzyme activity", filters={"author": "Berg", "year": (2019, 2021)})']
    assert "Berg (2019)" in filtered and "2022" not in filtered
    cited = outputs['answer = literature.ask("What happens to the enzyme above 40 degrees?", llm=False)']
    assert "enzyme_kinetics.pdf p. 2" in cited and cited.rstrip().endswith("2)")
    assert "4 documents" in outputs["%lit status"]
    assert "ice_cores.pdf p. 2" in outputs["%lit --no-llm How much did iron in the dust lower CO2?"]
    assert (tmp_path / "literature_index").is_dir()
