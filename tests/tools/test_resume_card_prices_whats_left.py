"""A resumed run's approval card prices what is left, not the whole run again (issue 13): a run stopped at 60% of
its production was shown the full run's minutes. Real OpenMM runs: one finished (its speed learnt, as a research
step learns it), one stopped by the stop button's interrupt in production."""

from __future__ import annotations

import _thread
import threading
import time

import pytest
from kenkyu.core.science import science_of
from kenkyu.tools import md
from kenkyu.tools.md import _files as files
from kenkyu.tools.md import cost

from md_fixtures import FAST

pytestmark = pytest.mark.filterwarnings("ignore:Unlikely unit cell vectors")

LONGER = {**FAST, "ps": 1.0, "checkpoint_interval_ps": 0.02}


def _call(structure, out, settings, **more):
    return {
        "structure": str(structure),
        "out": str(out),
        **{k: v for k, v in settings.items() if k != "progress"},
        **more,
    }


def _press_stop_when(out, frames):
    def watch():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                header = files.read_checkpoint(out / "checkpoint.chk")[0]
            except (OSError, ValueError):
                header = None
            if header and header["phase"] == "production" and header["frames"] >= frames:
                _thread.interrupt_main()  # what the notebook's stop button does
                return
            time.sleep(0.005)

    threading.Thread(target=watch, daemon=True).start()


def test_the_card_of_a_resume_prices_the_steps_left(villin_pdb, tmp_path, monkeypatch):
    monkeypatch.setenv("KENKYU_CACHE", str(tmp_path / "cache"))
    finished = md.run(villin_pdb, out=tmp_path / "finished", **FAST)
    cost.learn_from_run(finished)  # this machine's speed, as a research step caches it after each run
    speed = finished.info["performance"]["production_steps_timed"] / finished.info["performance"]["production_wall_s"]

    stopped = tmp_path / "stopped"
    _press_stop_when(stopped, frames=60)
    with pytest.raises(KeyboardInterrupt):
        md.run(villin_pdb, out=stopped, **LONGER)
    header = files.read_checkpoint(stopped / "checkpoint.chk")[0]
    assert header["phase"] == "production"
    total = 10 + 500  # 0.02 ps NVT + 1 ps production, at 2 fs
    left = total - (10 + header["step"])

    whole = science_of(md.run).cost(_call(villin_pdb, stopped, LONGER), measure=False)
    card = science_of(md.run).cost(_call(villin_pdb, stopped, LONGER, resume=True), measure=False)
    # The steps left at this machine's speed, plus a set-up that loads the checkpoint: at most RESUME_SETUP_S, and
    # never more than preparing afresh (a small system's whole set-up can be shorter).
    assert left / speed < card.seconds <= cost.RESUME_SETUP_S + left / speed + 1e-9
    assert card.seconds < whole.seconds
    assert card.basis.startswith(f"the {left:,} of {total:,} steps left after the last checkpoint")
    assert card.steps[0].startswith(f"resume {stopped} from its last checkpoint, production step {header['step']}")
    assert f"({left:,} of {total:,} steps)" in card.steps[-1]

    # A finished run is reused by resume=True: nothing to simulate, said so.
    again = science_of(md.run).cost(_call(villin_pdb, finished.directory, FAST, resume=True), measure=False)
    assert again.seconds <= 1.0 and "finished: resume=True reuses it and simulates nothing" in again.basis
    assert again.steps == (f"reuse the finished run in {finished.directory}",)
