"""What the card and the model read about an interrupted tool: never "resumable" when nothing was kept."""

from __future__ import annotations

from kenkyu.assistant.interrupts import interrupted_summary
from kenkyu.assistant.runner import Execution
from kenkyu.core.science import NOTHING_KEPT


def interrupted(message: str) -> Execution:
    return Execution(code="run = kenkyu.tools.md.run(...)", error=KeyboardInterrupt(message), interrupted=True)


RESUME = "run = kenkyu.tools.md.run(structure='villin.pdb', ps=2, resume=True)"


def test_a_run_stopped_before_its_first_checkpoint_says_nothing_kept_and_start_again():
    message = f"Run in md_runs/x interrupted before its first checkpoint; {NOTHING_KEPT}. Start it again"
    text = interrupted_summary(interrupted(message), RESUME, budget=False)
    assert text.startswith("interrupted — nothing kept (interrupted by the user)")
    assert "resumable" not in text and f"Start it again with:\n{RESUME}" in text


def test_a_run_stopped_after_a_checkpoint_is_resumable():
    message = "Run in md_runs/x interrupted; its last checkpoint is at 1.2 ps, where a resume continues"
    text = interrupted_summary(interrupted(message), RESUME, budget=True)
    assert text.startswith("interrupted — resumable (the request's time budget ran out). Run in md_runs/x")
    assert text.endswith(f"Resume with:\n{RESUME}")


def test_a_tool_that_kept_nothing_and_cannot_resume_gives_its_own_advice_once():
    message = (
        f"Coarse-grained run md_runs/x interrupted at 99 of 2000 ps; {NOTHING_KEPT} (a coarse-grained run keeps its "
        "files when it finishes). Start it again with the same call (a shorter ps finishes sooner)."
    )
    text = interrupted_summary(interrupted(message), "", budget=False)
    assert text == f"interrupted — nothing kept (interrupted by the user). {message}"  # no second "start over", no ".."
