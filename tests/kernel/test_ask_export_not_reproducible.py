"""The export says which simulations a re-run will not repeat, and how to make them repeat (newcomer r11).

A newcomer's report re-ran the session's 2 ps md.run (same seed, no ``reproducible=True``) and their own cell
printed "mean Rg 0.985" where the session had printed 0.973: OpenMM's multi-threaded CPU platform sums forces in a
varying order, so a run with the same seed drifts apart. The export said only "its outputs are its own". It now names
each simulation step without ``reproducible=True`` and says its numbers will differ; a reproducible one is not named.
A real kernel (nbclient) runs two short md.run calls on villin; the export reads the saved notebook.
"""

from __future__ import annotations

import shutil

import nbformat
import nbformat.v4 as v4
from nbclient import NotebookClient

from kenkyu.assistant.export import export_report
from kenkyu.tools import md

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}
SHORT = "ps=0.2, nvt_ps=0, report_interval_ps=0.1, solvent='implicit', seed=3, progress=False"
DRIFTING = f"import kenkyu.tools.md\n\nrun = kenkyu.tools.md.run(structure='villin.pdb', out='md_runs/a', {SHORT})\nrun"
REPEATING = (
    "import kenkyu.tools.md\n\n"
    f"again = kenkyu.tools.md.run(structure='villin.pdb', out='md_runs/b', {SHORT}, reproducible=True)\nagain"
)


def test_the_export_names_the_simulations_a_rerun_will_not_repeat(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copy(md.example_structure("villin"), tmp_path / "villin.pdb")
    nb = v4.new_notebook(
        cells=[v4.new_code_cell(c) for c in (DRIFTING, REPEATING)], metadata={"kernelspec": KERNELSPEC}
    )
    NotebookClient(nb, timeout=600, resources={"metadata": {"path": str(tmp_path)}}).execute()
    nbformat.write(nb, tmp_path / "session.ipynb")

    written = export_report("session.ipynb", execute=False)
    report = nbformat.read(written.ipynb, as_version=4)
    number = next(i for i, c in enumerate(report.cells, 1) if "out='md_runs/a'" in c.source)
    (named,) = written.not_reproducible  # the reproducible run (`again = ...`) is not named
    assert named.startswith(f"report cell {number} (`run = kenkyu.tools.md.run(structure='villin.pdb'"), named
    for said in (written.summary(), report.cells[0].source):
        assert "1 simulation step(s) ran without reproducible=True" in said, said
        assert "differ from the session's" in said and "run the simulation with reproducible=True" in said, said
