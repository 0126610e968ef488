"""The model's notebook context and the notebook overview name the last error that still stands (round 12): they
read ``sys.last_value``, so after a Stop and a Resume that finished, or a failed cell run again cleanly, they still
showed the settled error to the model and to the scientist asking "what have I got?". A real IPython shell with
kenkyu's cell recorder; the stop is the same interrupt the notebook's stop button sends."""

from __future__ import annotations

from kenkyu.assistant import notebook_tools
from kenkyu.assistant.context import last_error, render_context
from test_explain_after_resume import RESUME, _run, _stopped, shell  # noqa: F401  (shell: the fixture)


def test_a_stop_resumed_to_the_end_is_not_shown_as_the_last_error(shell, tmp_path):  # noqa: F811
    failed = _run(shell, "rmsd['rmsd_angstrom']")
    _stopped(shell, tmp_path / "c")
    assert last_error().startswith("CountInterrupted")  # before the resume: it stands
    _run(shell, RESUME.format(out=str(tmp_path / "c")))
    assert failed.execution_count
    context = render_context(shell.user_ns, cells=[])
    assert "Last error in the kernel: NameError: name 'rmsd' is not defined" in context
    assert "Interrupt" not in context
    assert notebook_tools.overview().last_error == "NameError: name 'rmsd' is not defined"


def test_a_failed_cell_run_again_cleanly_leaves_no_error_in_the_context(shell):  # noqa: F811
    _run(shell, "total = undefined_name + 1", cell_id="cell-7")
    assert "Last error in the kernel: NameError" in render_context(shell.user_ns, cells=[])
    _run(shell, "undefined_name = 1\ntotal = undefined_name + 1", cell_id="cell-7")  # the same cell, fixed
    assert "Last error" not in render_context(shell.user_ns, cells=[])
    assert last_error() is None
    assert "no error in this kernel" in notebook_tools.overview().summary()
