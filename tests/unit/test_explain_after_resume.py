"""explain_error explains the last error that still stands (issue 13): after a Stop and a Resume that finished, it
explained the stale interrupt. A real IPython shell with kenkyu's cell recorder, a real resumable tool stopped by
the same interrupt the notebook's stop button sends, and resumed with the call the sidebar's Resume writes."""

from __future__ import annotations

import _thread
import sys
import threading
import time

import pytest
from IPython.core.interactiveshell import InteractiveShell
from kenkyu.assistant import cell_errors, notebook_tools

CALL = "n = resumable_tool.count(to=40, out={out!r})"
RESUME = "# resume the stopped call\nn = resumable_tool.count(to=40, out={out!r}, resume=True)"


@pytest.fixture
def shell(monkeypatch):
    for name in ("last_value", "last_exc", "last_type", "last_traceback"):
        monkeypatch.setattr(sys, name, None, raising=False)  # restored afterwards: the shell sets them
    shell = InteractiveShell.instance()
    cell_errors.install(shell)
    shell.run_cell("import resumable_tool", store_history=True)
    yield shell
    InteractiveShell.clear_instance()


def _run(shell, source, **kwargs):
    return shell.run_cell(source, store_history=True, **kwargs)


def _stopped(shell, out):
    """Run the counting call and press Stop once it has counted a few steps."""

    def press_stop():
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            kept = out / "count.txt"
            if kept.exists() and kept.read_text().strip() not in ("", "0", "1", "2"):
                _thread.interrupt_main()
                return
            time.sleep(0.005)

    threading.Thread(target=press_stop, daemon=True).start()
    result = _run(shell, CALL.format(out=str(out)))
    assert isinstance(result.error_in_exec, KeyboardInterrupt)
    return result.execution_count


def test_after_a_stop_and_a_resume_that_finished_no_error_stands(shell, tmp_path):
    stopped = _stopped(shell, tmp_path / "c")
    assert notebook_tools.explain_error().error_type == "CountInterrupted"  # before the resume: it stands
    resumed = _run(shell, RESUME.format(out=str(tmp_path / "c")))
    assert resumed.success and shell.user_ns["n"] == 40
    e = notebook_tools.explain_error()
    assert not e.found
    assert e.summary() == (
        f"No error stands in this kernel: In [{stopped}] was stopped (CountInterrupted) and resumed by "
        f"In [{resumed.execution_count}], which finished."
    )


def test_the_error_before_the_stop_is_the_one_explained(shell, tmp_path):
    failed = _run(shell, "rmsd['rmsd_angstrom']")
    _stopped(shell, tmp_path / "c")
    _run(shell, RESUME.format(out=str(tmp_path / "c")))
    e = notebook_tools.explain_error()
    assert e.error_type == "NameError" and e.failing_line == "rmsd['rmsd_angstrom']"
    assert f"the last error that still stands is In [{failed.execution_count}]'s" in e.summary()


def test_a_stop_not_yet_resumed_is_still_explained(shell, tmp_path):
    _stopped(shell, tmp_path / "c")
    _run(shell, "x = 1")  # another cell: the stopped run is still stopped
    e = notebook_tools.explain_error()
    assert e.error_type == "CountInterrupted" and "note:" not in e.summary()


def test_a_cell_run_again_cleanly_settles_its_own_error(shell):
    _run(shell, "total = undefined_name + 1", cell_id="cell-7")
    assert notebook_tools.explain_error().error_type == "NameError"
    _run(shell, "undefined_name = 1\ntotal = undefined_name + 1", cell_id="cell-7")  # the same cell, fixed
    assert not notebook_tools.explain_error().found
