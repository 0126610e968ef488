"""newcomer R7 O6, end to end: a session runs a coarse-grained run from %%ask, then a cell of the scientist's own
reads its trajectory. The report re-runs: the run folder's files are not copied (the report's own step makes
them again, and a copy stopped it at "already exists"), and the export says so. Real %%ask with the replay
provider, md.coarse_grained (villin, 35 beads, OpenMM backend), mdtraj, nbclient and ipykernel."""

import json

import nbformat
from nbclient import NotebookClient
from notebooks import run_cells, text_of

import kenkyu.tools.md as md
from kenkyu.assistant.export import export_report

RUN = "md_runs/villin_1vii_cg_300K_seed1"


def test_a_report_whose_cell_reads_a_coarse_grained_runs_files_reruns(tmp_path, write_replay):
    arguments = {"structure": str(md.example_structure("villin")), "ps": 20.0, "backend": "openmm", "seed": 1}
    replay = write_replay([{"text": "CG.", "tool_calls": [{"name": "md_coarse_grained", "arguments": arguments}]}])
    mine = f"import mdtraj\nt1 = mdtraj.load('{RUN}/trajectory.dcd', top='{RUN}/native.pdb')\nprint(t1.n_frames)"
    nb, path = run_cells(
        [
            "%load_ext kenkyu",
            f"%kenkyu provider replay {replay}\n%kenkyu approval auto",
            "%%ask\nCG run of villin",
            mine,
        ],
        tmp_path,
        name="session.ipynb",
    )
    frames = text_of(nb.cells[3]).strip().splitlines()[-1]
    assert json.loads((tmp_path / RUN / "cg.json").read_text())["status"] == "finished"

    paths = export_report(path)

    assert paths.executed  # before: RunExistsError at the report's coarse-grained step
    assert paths.remade == (f"{RUN}/trajectory.dcd", f"{RUN}/native.pdb") and not any(RUN in i for i in paths.inputs)
    assert "not copied: the steps make them again" in paths.summary()
    report = nbformat.read(paths.ipynb, as_version=4)
    rerun = next(c for c in report.cells if c.cell_type == "code" and "t1 = mdtraj.load" in c.source)
    assert text_of(rerun).strip().splitlines()[-1] == frames  # the same trajectory, made by the report itself

    # Run All again where it is (a colleague opens it): the coarse-grained step reuses its finished run
    # (newcomer r8 O7: "RunExistsError: md_runs/..._cg_300K already exists" at the report's second run).
    step = next(c for c in report.cells if c.cell_type == "code" and "coarse_grained(" in c.source)
    assert "resume=True" in step.source
    made = (paths.ipynb.parent / RUN / "trajectory.dcd").stat().st_mtime_ns
    again = nbformat.read(paths.ipynb, as_version=4)
    NotebookClient(
        again, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(paths.ipynb.parent)}}
    ).execute()
    rerun = next(c for c in again.cells if c.cell_type == "code" and "t1 = mdtraj.load" in c.source)
    assert text_of(rerun).strip().splitlines()[-1] == frames
    assert (paths.ipynb.parent / RUN / "trajectory.dcd").stat().st_mtime_ns == made  # reused, not simulated again
