"""A run that failed before computing anything can be retried in place."""

import pytest

import kenkyu.tools.md as md


def test_a_run_that_failed_while_preparing_can_be_retried_without_overwrite(tmp_path):
    broken = tmp_path / "broken.pdb"
    broken.write_text("HEADER    NOT A STRUCTURE\nEND\n")
    out = tmp_path / "run"
    with pytest.raises(md.MDError):
        md.run(broken, ps=0.02, out=out, solvent="implicit", nvt_ps=0.01, report_interval_ps=0.01, progress=False)
    run = md.run(
        md.example_structure("villin"),
        ps=0.02,
        out=out,
        solvent="implicit",
        nvt_ps=0.01,
        report_interval_ps=0.01,
        progress=False,
    )
    assert run.status == "finished" and run.n_frames == 2
    with pytest.raises(md.RunExistsError):  # a finished run is still never replaced silently
        md.run(
            md.example_structure("villin"),
            ps=0.02,
            out=out,
            solvent="implicit",
            report_interval_ps=0.01,
            progress=False,
        )
