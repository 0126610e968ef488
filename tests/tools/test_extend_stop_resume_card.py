"""Stop pressed while md.extend runs: what the card says and what its Resume button runs.

A newcomer (r8) stopped `extend run by 6 ps` and read "interrupted — not resumable", "Continue it with the same
call plus resume=True" (md.extend has no resume=) and "Run the cell again to start over", with no button. The
same extend call continues the unfinished extension: that is the Resume the card offers.
"""

from __future__ import annotations

import pytest
from kenkyu.assistant.interrupts import interrupted_summary, resume_code
from kenkyu.assistant.runner import Execution
from kenkyu.core.registry import ToolRegistry
from kenkyu.tools import md

from md_fixtures import FAST, villin_pdb  # noqa: F401 (fixture)


def test_a_stopped_extension_is_resumable_by_the_same_call_and_resume_finishes_it(villin_pdb, tmp_path, monkeypatch):  # noqa: F811
    run = md.run(villin_pdb, out=tmp_path / "run", **FAST)
    frames_before = run.n_frames
    real_simulate = md._Runner.simulate

    def stopped(self, simulation, header):  # the Stop lands as the extension starts simulating
        raise KeyboardInterrupt

    monkeypatch.setattr(md._Runner, "simulate", stopped)
    with pytest.raises(KeyboardInterrupt) as stop:
        md.extend(run.directory, ps=0.05, progress=False)
    message = str(stop.value)
    assert "resume=True" not in message and "the same md.extend call" in message

    tool = ToolRegistry.from_modules(["kenkyu.tools.md"])["md_extend"]
    arguments = {"run": str(run.directory), "ps": 0.05}
    resume = resume_code(tool, arguments, "extended_run")
    assert "kenkyu.tools.md.extend(" in resume and "resume" not in resume
    execution = Execution(code=resume, error=stop.value, interrupted=True)
    card = interrupted_summary(execution, resume, budget=False)
    assert card.startswith("interrupted — resumable (interrupted by the user)")
    assert "not resumable" not in card and "start over" not in card
    assert card.endswith(f"Resume with:\n{resume}")

    # The Resume button's cell: the same call finishes the extension from the kept checkpoint.
    monkeypatch.setattr(md._Runner, "simulate", real_simulate)
    namespace = {}
    exec(resume, namespace)
    extended = namespace["extended_run"]
    assert extended.info["status"] == "finished"
    assert extended.n_frames == frames_before + 5
