"""newcomer r12, end to end: a session minimised DHFR's structure from %%ask and exported a report; the report's own
execution made <report>/md_runs/<name>_minimized, so running it again in its folder with the command the export
printed stopped at its minimisation cell with RunExistsError. Now the export writes that cell with resume=True and
md.minimize reuses the finished minimisation: the report runs twice in its folder, the second time computing nothing.
Real %%ask with the replay provider, md.minimize (villin, implicit solvent), papermill, nbclient and ipykernel."""

import shutil
import subprocess

import nbformat
from notebooks import run_cells

import kenkyu.tools.md as md
from kenkyu.assistant.export import export_report

MINIMIZED = "md_runs/villin_1vii_minimized"


def test_a_report_that_minimised_runs_twice_in_its_folder(tmp_path, write_replay, monkeypatch):
    shutil.copy(md.example_structure("villin"), tmp_path / "villin_1vii.pdb")
    arguments = {"structure": "villin_1vii.pdb", "max_iterations": 50}
    replay = write_replay([{"text": "Minimised.", "tool_calls": [{"name": "md_minimize", "arguments": arguments}]}])
    nb, path = run_cells(
        [
            "%load_ext kenkyu",
            f"%kenkyu provider replay {replay}\n%kenkyu approval auto",
            "%%ask\nminimise villin and tell me the energy before and after",
        ],
        tmp_path,
        name="session.ipynb",
    )
    assert (tmp_path / MINIMIZED / "minimization.json").is_file()

    monkeypatch.chdir(tmp_path)  # the export from the notebook's folder, as from its kernel
    paths = export_report(path)

    assert paths.executed
    folder = paths.ipynb.parent
    report = nbformat.read(paths.ipynb, as_version=4)
    step = next(c for c in report.cells if c.cell_type == "code" and "minimize(" in c.source)
    assert "resume=True" in step.source, step.source
    made = {p.name: p.stat().st_mtime_ns for p in (folder / MINIMIZED).iterdir()}  # the export's own execution

    for rerun in ("rerun.ipynb", "rerun2.ipynb"):  # the printed command, twice, where the report is
        command = paths.rerun_command().replace("rerun.ipynb", rerun)
        shell = subprocess.run(command, shell=True, cwd=tmp_path, capture_output=True, text=True)
        assert shell.returncode == 0, (command, shell.stderr[-3000:])  # before: RunExistsError at the minimisation
        again = nbformat.read(folder / rerun, as_version=4)
        said = "".join(
            o.get("text", "")
            for c in again.cells
            if c.cell_type == "code" and "minimize(" in c.source
            for o in c.outputs
        )
        assert "reusing the finished minimisation" in said, said
    assert {p.name: p.stat().st_mtime_ns for p in (folder / MINIMIZED).iterdir()} == made  # nothing computed again
