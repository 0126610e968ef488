"""The stdin approval prompt gives up after its wait (the kernel test drives the %%ask path; this one the
%%research approver and the wait itself, with an input() that never returns)."""

from __future__ import annotations

import builtins
import time
from types import SimpleNamespace

from kenkyu.assistant.approval_answer import NoAnswer
from kenkyu.assistant.magics import _stdin_approver, answer_within


def _never_answered(prompt):
    # A front end that shows no input box, as ipykernel's input() sees it: it polls its stdin socket every
    # 10 ms (so an interrupt gets through), and no reply ever comes.
    for _ in range(3000):
        time.sleep(0.01)
    return "y"


def test_answer_within_returns_none_when_nobody_answers(monkeypatch):
    monkeypatch.setattr(builtins, "input", _never_answered)
    started = time.monotonic()
    assert answer_within("Run it? [y/N] ", 0.3) is None
    assert time.monotonic() - started < 5
    monkeypatch.setattr(builtins, "input", lambda prompt: "y")
    assert answer_within("Run it? [y/N] ", 5) == "y"  # an answer in time is returned, nothing stray follows
    time.sleep(0.3)


def test_research_approvals_after_an_unanswered_one_are_declined_without_asking(monkeypatch, capsys):
    asked = []

    def prompt(text):
        asked.append(text)
        return _never_answered(text)

    monkeypatch.setattr(builtins, "input", prompt)
    steps = [SimpleNamespace(tool=name, cost_s=12.0, cost_basis="measured") for name in ("md_run", "md_extend")]
    plan = SimpleNamespace(steps=steps)
    approve = _stdin_approver(0.3)
    # Not run, and recorded as unanswered (falsy, but not the False of a Deny).
    assert approve(steps[0], plan) == NoAnswer(0.3) and approve(steps[1], plan) == NoAnswer(0.3)
    assert not NoAnswer(0.3) and "no answer to the approval within 0.3 s; not run" in NoAnswer(0.3).summary
    assert len(asked) == 1 and asked[0].startswith("Run step 1, md_run? Expected cost ~12 s (measured)")
    out = capsys.readouterr().out
    assert "No answer to the approval prompt for md_run within 0.3 s" in out
    assert "it and every step still waiting for approval are skipped" in out and "%kenkyu approval auto" in out
