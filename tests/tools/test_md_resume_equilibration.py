"""Stop during equilibration, then Resume: it continues from the last equilibration checkpoint and never
prepares or minimises again (a newcomer's 12 ps run checkpointed only at 'equilibration step 0', so Resume
redid minutes of work)."""

from __future__ import annotations

import json

import pytest

md = pytest.importorskip("kenkyu.tools.md")
from md_fixtures import villin_pdb  # noqa: E402,F401 (fixture)

# Equilibration (0.3 ps = 150 steps) far shorter than the checkpoint interval (10 ps, the default).
RUN = dict(
    solvent="implicit",
    ps=0.1,
    nvt_ps=0.3,
    report_interval_ps=0.01,
    minimize_max_iterations=20,
    platform="CPU",
    seed=3,
    progress=False,
)


def test_stop_in_equilibration_resumes_there_without_minimising_again(villin_pdb, tmp_path, monkeypatch):  # noqa: F811
    out = tmp_path / "run"
    # Every report boundary is "overdue" for a wall-clock checkpoint, as it is after 20 s of a real run.
    monkeypatch.setattr(md, "CHECKPOINT_WALL_S", 0.0)
    real_step = md._Runner._step
    calls = []

    def step_then_stop(self, simulation, steps):
        real_step(self, simulation, steps)
        calls.append(steps)
        if len(calls) == 12:  # 12 report intervals (60 steps) into NVT: the user presses Stop
            raise KeyboardInterrupt

    monkeypatch.setattr(md._Runner, "_step", step_then_stop)
    with pytest.raises(md.RunInterrupted) as excinfo:
        md.run(villin_pdb, out=out, **RUN)
    message = str(excinfo.value)
    # The checkpoint before the interrupted chunk: 11 chunks of 5 steps.
    assert "NVT equilibration step 55 (0.11 ps of 0.3 ps)" in message, message
    assert "0.3 ps), where a resume continues (without preparing or minimising again)" in message
    header, _ = md.files.read_checkpoint(out / md.CHECKPOINT)
    assert (header["phase"], header["step"]) == ("equilibration", 55)
    minimized = out / md.MINIMIZED_CHECKPOINT
    assert md.files.read_checkpoint(minimized)[0]["step"] == 0
    stamps = {name: (out / name).stat().st_mtime_ns for name in (md.MINIMIZED_CHECKPOINT, "prepared.pdb", "system.xml")}
    minimization = json.loads((out / "run.json").read_text())["minimization"]

    monkeypatch.setattr(md._Runner, "_step", real_step)

    def no_minimising(*args, **kwargs):
        raise AssertionError("resume minimised again")

    monkeypatch.setattr(md, "minimize_interruptibly", no_minimising)
    done_steps = []
    resumed_step = md._Runner._step

    def counting(self, simulation, steps):
        done_steps.append(steps)
        resumed_step(self, simulation, steps)

    monkeypatch.setattr(md._Runner, "_step", counting)
    result = md.run(villin_pdb, out=out, resume=True, **RUN)
    assert result.status == "finished"
    # Only the 95 remaining NVT steps and the 50 production steps were simulated.
    assert sum(done_steps) == (150 - 55) + 50
    assert {name: (out / name).stat().st_mtime_ns for name in stamps} == stamps
    assert json.loads((out / "run.json").read_text())["minimization"] == minimization
    assert result.n_frames == 10


def test_resume_after_checkpoint_lost_starts_from_the_minimised_state(villin_pdb, tmp_path, monkeypatch):  # noqa: F811
    out = tmp_path / "run"
    real_step = md._Runner._step

    def stop_at_once(self, simulation, steps):
        raise KeyboardInterrupt

    monkeypatch.setattr(md._Runner, "_step", stop_at_once)
    with pytest.raises(md.RunInterrupted, match=r"NVT equilibration step 0 \(0 ps of 0.3 ps\)"):
        md.run(villin_pdb, out=out, **RUN)
    (out / md.CHECKPOINT).unlink()  # e.g. deleted by hand, or a disk that lost it

    monkeypatch.setattr(md._Runner, "_step", real_step)
    monkeypatch.setattr(md, "minimize_interruptibly", lambda *a, **k: pytest.fail("resume minimised again"))
    result = md.run(villin_pdb, out=out, resume=True, **RUN)
    assert result.status == "finished" and result.n_frames == 10
