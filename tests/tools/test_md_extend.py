"""md.extend: a finished run continues from its checkpoint into the same folder."""

from __future__ import annotations

import numpy as np
import pytest
from kenkyu.core.files import write_json_atomically
from kenkyu.core.registry import ToolRegistry
from kenkyu.core.science import science_of
from kenkyu.tools import md

from md_fixtures import FAST, villin_pdb  # noqa: F401 (fixture)


@pytest.fixture
def finished_run(villin_pdb, tmp_path):  # noqa: F811
    return md.run(villin_pdb, out=tmp_path / "run", **FAST)


def _interrupt_an_extension(run, from_ps: float, to_ps: float) -> None:
    """run.json as an extension from ``from_ps`` to ``to_ps`` leaves it when interrupted: status "interrupted",
    parameters.ps the target, its record unfinished."""
    info = run.info
    pending = {"from_ps": from_ps, "to_ps": to_ps, "added_ps": round(to_ps - from_ps, 9), "started": "earlier"}
    write_json_atomically(
        run.run_json,
        {
            **info,
            "status": "interrupted",
            "parameters": {**info["parameters"], "ps": to_ps},
            "extensions": [*info["extensions"], pending],
        },
    )


def test_extend_adds_frames_with_continuous_time(finished_run, villin_pdb):  # noqa: F811
    before = finished_run.trajectory()
    first_frames = before.xyz.copy()
    extended = md.extend(finished_run.directory, ps=0.05, progress=False)
    assert extended.directory == finished_run.directory
    traj = extended.trajectory(reload=True)
    assert traj.n_frames == before.n_frames + 5 == 15
    np.testing.assert_allclose(np.diff(traj.time), 0.01, atol=1e-9)  # one report interval apart, no gap
    np.testing.assert_array_equal(traj.xyz[:10], first_frames)  # the first 10 frames are untouched
    data = extended.state_data()
    assert len(data) == 15
    np.testing.assert_allclose(np.diff(data["Time (ps)"]), 0.01, atol=1e-6)
    info = extended.info
    assert info["status"] == "finished" and info["parameters"]["ps"] == pytest.approx(0.15)
    (record,) = info["extensions"]
    assert record["from_ps"] == pytest.approx(0.1) and record["to_ps"] == pytest.approx(0.15)
    assert record["finished"]
    # The call that started the run still finds it (a notebook re-run with resume=True), now longer.
    assert md.run(villin_pdb, out=finished_run.directory, resume=True, **FAST).n_frames == 15
    verdicts = dict((e, s) for e, s, _ in science_of(md.extend).check(extended))
    assert verdicts["the run finishes all its production frames (no blow-up)"] == "pass"

    # An extension interrupted before its end (status "interrupted", its record unfinished) is
    # continued by the same call, and only by the same call.
    _interrupt_an_extension(extended, 0.15, 0.2)
    with pytest.raises(md.ResumeError, match=r"did not finish.*ps=0.05"):
        md.extend(extended.directory, ps=0.1)
    again = md.extend(extended.directory, ps=0.05, progress=False)
    assert again.n_frames == 20 and again.info["parameters"]["ps"] == pytest.approx(0.2)
    assert len(again.info["extensions"]) == 2 and again.info["extensions"][-1]["finished"]


def test_extend_refuses_failed_and_unfinished_runs_with_the_reason(tmp_path):
    run_json = tmp_path / "run" / "run.json"
    run_json.parent.mkdir()
    info = {"status": "finished", "parameters": {"ps": 0.1, "report_interval_ps": 0.01}}
    write_json_atomically(run_json, info)
    with pytest.raises(ValueError, match="whole number of the run's report interval"):
        md.extend(run_json.parent, ps=0.015)
    with pytest.raises(md.ResumeError, match="no production checkpoint"):
        md.extend(run_json.parent, ps=0.05)
    write_json_atomically(run_json, {**info, "status": "failed", "error": "The simulation blew up"})
    with pytest.raises(md.ResumeError, match=r"'failed', not finished: The simulation blew up.*overwrite=True"):
        md.extend(run_json.parent, ps=0.05)
    write_json_atomically(run_json, {**info, "status": "interrupted"})
    with pytest.raises(md.ResumeError, match="resume=True"):
        md.extend(run_json.parent, ps=0.05)
    with pytest.raises(FileNotFoundError, match="not a kenkyu MD run folder"):
        md.extend(tmp_path / "nothing", ps=0.05)


def test_registered_as_md_extend_writing_into_the_run():
    tool = ToolRegistry.from_modules(["kenkyu.tools.md"])["md_extend"]
    assert tool.qualified_call == "kenkyu.tools.md.extend" and tool.approval == "ask"
    assert tool.parameters["required"] == ["run"]
    assert tool.science.output_folder({"run": "md_runs/villin_implicit", "ps": 50}) == "md_runs/villin_implicit"


def test_a_run_held_in_a_variable_sees_its_extension(villin_pdb, tmp_path):  # noqa: F811
    """The newcomer's case: ``run`` lives in the kernel, the run is extended by its folder's name, and the
    earlier cell ``rmsd(trajectory=run)`` is run again. It must analyse the longer run, not the frames the
    object loaded before (it used to return the old 10 frames of a 14-frame run, silently)."""
    from kenkyu.tools import analysis

    # A couple of ps in implicit water, a frame every 0.5 ps (FAST's other settings: quick, CPU, quiet).
    options = {**FAST, "ps": 2.0, "nvt_ps": 0.2, "report_interval_ps": 0.5, "checkpoint_interval_ps": 1.0}
    run = md.run(villin_pdb, out=tmp_path / "villin_implicit", **options)
    before = analysis.rmsd(trajectory=run)
    assert len(before) == 4 and before["time_ps"].max() == pytest.approx(2.0)

    md.extend(str(run.directory), ps=1.0, progress=False)  # by folder: the variable is not touched

    after = analysis.rmsd(trajectory=run)
    by_folder = analysis.rmsd(trajectory=str(run.directory))
    assert len(after) == len(by_folder) == 6
    assert after["time_ps"].max() == pytest.approx(3.0)
    np.testing.assert_allclose(after["rmsd_nm"], by_folder["rmsd_nm"])
    np.testing.assert_allclose(after["rmsd_nm"][:4], before["rmsd_nm"])  # the first frames are the same ones
    assert run.n_frames == 6 and run.info["parameters"]["ps"] == pytest.approx(3.0)
    assert "6 frames = 3 ps of 3 ps" in run.summary()


def test_extend_to_a_total_is_idempotent(finished_run, capsys):
    """``to_ps=`` (what an exported report writes) reaches a length once: called again, as a report re-run
    does, it leaves the run alone and says so, instead of adding ``ps`` on every re-run."""
    folder = finished_run.directory
    extended = md.extend(folder, to_ps=0.15, progress=False)
    assert extended.n_frames == 15 and extended.info["parameters"]["ps"] == pytest.approx(0.15)
    assert f"md.extend: {folder} extended from 0.1 to 0.15 ps of production (to_ps=0.15)" in capsys.readouterr().out
    before = extended.trajectory_path.read_bytes()

    again = md.extend(folder, to_ps=0.15, progress=False)
    assert again.n_frames == 15 and len(again.info["extensions"]) == 1
    assert "already has 0.15 ps of production; left as it is, nothing simulated" in capsys.readouterr().out
    assert again.trajectory_path.read_bytes() == before  # not a frame more
    md.extend(folder, to_ps=0.12, progress=False)  # a longer run is never shortened
    assert "more than to_ps=0.12 (a run is never shortened)" in capsys.readouterr().out
    assert md.extend(folder, to_ps=0.2, progress=False).n_frames == 20  # a larger total extends it to that
    with pytest.raises(ValueError, match="ps .* or to_ps .*not both"):
        md.extend(folder, ps=0.05, to_ps=0.25)

    # An interrupted extension to a total is continued by the same call, and only by it.
    _interrupt_an_extension(again, 0.2, 0.25)
    with pytest.raises(md.ResumeError, match=r"extension to 0.25 ps that did not finish.*to_ps=0.25"):
        md.extend(folder, to_ps=0.3)
    assert md.extend(folder, to_ps=0.25, progress=False).n_frames == 25
