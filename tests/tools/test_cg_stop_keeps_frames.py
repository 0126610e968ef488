"""A stopped Gō run keeps the frames it computed (newcomer r8 O3: "interrupted at 174 of 1000 ps; nothing was
kept"). The frames so far are in the run folder with a cg.json that says where it stopped; resume=True runs it
again from 0 ps with the same seed (a Gō run keeps no checkpoint) and says so; the card says it too."""

from __future__ import annotations

import numpy as np
import pytest
from kenkyu.assistant.interrupts import interrupted_summary, resume_code
from kenkyu.assistant.runner import Execution
from kenkyu.core.registry import ToolRegistry
from kenkyu.tools import md
from kenkyu.tools.md import _coarse

from md_fixtures import villin_pdb  # noqa: F401 (fixture)

SHORT = dict(ps=5.0, report_interval_ps=0.5, threads=1, seed=7, progress=False, backend="openmm")


def stop_after(frames: int, monkeypatch):
    """Stop pressed once ``frames`` frames are written (what interrupt_deferred records from a SIGINT)."""
    real = _coarse.interrupt_deferred

    class Counting:
        def __init__(self, request):
            self.request, self.asked = request, 0

        @property
        def requested(self):
            self.asked += 1
            return self.asked > frames

    from contextlib import contextmanager

    @contextmanager
    def deferred():
        with real() as request:
            yield Counting(request)

    monkeypatch.setattr(_coarse, "interrupt_deferred", deferred)


def test_stop_keeps_the_frames_and_resume_reruns_them_to_the_end(villin_pdb, tmp_path, monkeypatch):  # noqa: F811
    out = tmp_path / "cg"
    stop_after(4, monkeypatch)
    with pytest.raises(md.RunInterrupted) as stopped:
        md.coarse_grained(villin_pdb, out=out, **SHORT)
    message = str(stopped.value)
    assert "interrupted at 2 of 5 ps; its 4 frames are kept" in message and "nothing was kept" not in message
    assert "resume=True runs it again from 0 ps" in message
    kept = md.CoarseGrainedRun(out)
    assert kept.status == "interrupted" and kept.info["interrupted"] == "interrupted at 2 of 5 ps"
    assert list(kept.table.time_ps) == [0.5, 1.0, 1.5, 2.0] and kept.trajectory().n_frames == 4
    assert not (tmp_path / ".cg.partial").exists()
    assert "Q (fraction of native contacts)" in kept.summary()
    first_q = kept.table.q.to_numpy()

    # Without resume=, the folder is refused with what it holds.
    monkeypatch.undo()
    with pytest.raises(
        md.RunExistsError, match=r"holds an interrupted coarse-grained run \(interrupted at 2 of 5 ps, 4"
    ):
        md.coarse_grained(villin_pdb, out=out, **SHORT)

    # A rerun stopped sooner keeps the longer stretch.
    stop_after(2, monkeypatch)
    with pytest.raises(md.RunInterrupted, match="the earlier 4 frames"):
        md.coarse_grained(villin_pdb, out=out, resume=True, **SHORT)
    assert len(md.CoarseGrainedRun(out).table) == 4
    monkeypatch.undo()

    # The card: frames kept, and its button runs it again from 0 ps (not "Resume", which would promise more).
    tool = ToolRegistry.from_modules(["kenkyu.tools.md"])["md_coarse_grained"]
    code = resume_code(tool, {"structure": str(villin_pdb), "out": str(out), **SHORT}, "cg")
    assert "resume=True" in code
    card = interrupted_summary(Execution(code=code, error=stopped.value, interrupted=True), code, budget=False)
    assert card.startswith("interrupted — frames kept, reruns from 0 ps (interrupted by the user)")
    assert f"Run it again from 0 ps with:\n{code}" in card

    # resume=True: the same seed gives the same first frames, then the rest.
    finished = md.coarse_grained(villin_pdb, out=out, resume=True, **{k: v for k, v in SHORT.items() if k != "seed"})
    assert finished.status == "finished" and len(finished.table) == 10
    np.testing.assert_allclose(finished.table.q.to_numpy()[:4], first_q)
