"""A plain cell that reads a file a report step makes (the coarse-grained run's trajectory) does not get that file
copied into the report's folder: the copy would make the step stop at "already exists" (newcomer R7, O6)."""

from __future__ import annotations

import nbformat
import nbformat.v4 as v4

from kenkyu.assistant.export import export_report


def test_a_file_a_step_makes_is_not_copied_and_the_report_says_why(tmp_path, monkeypatch):
    run = tmp_path / "md_runs" / "ecoli_dhfr_cg_300K"
    run.mkdir(parents=True)
    (run / "cg.json").write_text("{}")
    (run / "native.pdb").write_text("ATOM\n")
    (tmp_path / "ecoli_dhfr.pdb").write_text("ATOM\n")
    step = v4.new_code_cell(
        "import kenkyu.tools.md\n\n"
        "cg_run = kenkyu.tools.md.coarse_grained(structure='ecoli_dhfr.pdb', ps=20.0)\ncg_run",
        metadata={"kenkyu": {"agent": True, "tool": "md_coarse_grained", "variable": "cg_run"}},
        outputs=[
            v4.new_output(
                "execute_result",
                data={"text/plain": "CoarseGrainedRun(directory=PosixPath('md_runs/ecoli_dhfr_cg_300K'))"},
                execution_count=1,
            )
        ],
        execution_count=1,
    )
    mine = v4.new_code_cell("t1 = open('md_runs/ecoli_dhfr_cg_300K/native.pdb').read()", execution_count=2)
    nb = v4.new_notebook(cells=[step, mine])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "session.ipynb")
    monkeypatch.chdir(tmp_path)

    written = export_report("session.ipynb", execute=False, html=False)

    folder = written.ipynb.parent
    assert written.inputs == ("ecoli_dhfr.pdb",) and (folder / "ecoli_dhfr.pdb").exists()
    assert not (folder / "md_runs").exists()
    intro = nbformat.read(written.ipynb, as_version=4).cells[0].source
    for said in (intro, written.summary()):
        assert "inside run folders that the report's own steps make (md_runs/ecoli_dhfr_cg_300K/native.pdb)" in said
