"""The capability overview, as a newcomer met it in a notebook (r11): its example names a run that has frames, and
the notebook's own tools are called the user's own.

"What can you do with my villin files?" offered "RMSD, RMSF and radius of gyration of md_runs/long8": the newest run
folder, which the newcomer had stopped during its equilibration (no production frame, nothing to analyse), beside a
finished run. And a ``@kenkyu.tool`` defined in the notebook was listed under IPython's module docstring,
"Automatically created module for IPython interactive environment". A real kernel (nbclient) answers the question;
the finished run is a real short md.run; the stopped one is its copy with what an interrupted run leaves: its
run.json's status "interrupted" and no trajectory.
"""

from __future__ import annotations

import json
import os
import shutil
import time

from notebooks import run_cells

from kenkyu.tools import md

NOTEBOOK_TOOL = '''import kenkyu

@kenkyu.tool()
def locate_models() -> str:
    """Find the model files on this machine."""
    return "none here"'''


def test_the_overview_example_names_a_finished_run_and_the_notebooks_tools_are_the_users(tmp_path, write_replay):
    shutil.copy(md.example_structure("villin"), tmp_path / "villin.pdb")
    md.run(
        str(tmp_path / "villin.pdb"),
        ps=0.2,
        out=tmp_path / "md_runs" / "done",
        solvent="implicit",
        nvt_ps=0,
        report_interval_ps=0.1,
        seed=1,
        progress=False,
    )
    stopped = tmp_path / "md_runs" / "stopped"
    shutil.copytree(tmp_path / "md_runs" / "done", stopped)
    (stopped / "trajectory.dcd").unlink()
    record = json.loads((stopped / "run.json").read_text())
    (stopped / "run.json").write_text(json.dumps({**record, "status": "interrupted"}))
    later = time.time() + 60
    os.utime(stopped / "run.json", (later, later))  # the newest run folder, as the stopped one was

    replay = write_replay([])
    nb, _ = run_cells(
        [f"%load_ext kenkyu\n%kenkyu provider replay {replay}", NOTEBOOK_TOOL, "%ask what can you do with my files?"],
        tmp_path,
    )
    shown = json.dumps(nb.cells[2].outputs)
    assert "RMSD, RMSF and radius of gyration of md_runs/done" in shown, shown
    assert "md_runs/stopped" not in shown
    assert "Your own tools, defined in this notebook" in shown and "locate models" in shown, shown
    assert "Automatically created module" not in shown
