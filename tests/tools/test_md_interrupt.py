"""Stop during energy minimisation: the interrupt lands inside the minimiser, not after it.

OpenMM's minimiser is one C++ call; before kenkyu passed it a reporter, a Stop pressed while a solvated
protein was minimising took effect only when the whole minimisation had finished (25 s in the sidebar).
"""

from __future__ import annotations

import _thread
import threading
import time
import traceback

import pytest
from kenkyu.tools import md
from kenkyu.tools.md import _interrupt

from md_fixtures import villin_pdb  # noqa: F401 (fixture)


# A villin run on the dataflow backend with a checkpoint every 0.05 ps (its forces are Python called from C++)
DATAFLOW_IN_VACUUM = dict(
    backend="dataflow",
    solvent="vacuum",
    nvt_ps=0,
    checkpoint_interval_ps=0.05,
    report_interval_ps=0.01,
    progress=False,
    seed=1,
)


def interrupt_once_minimising(monkeypatch, delay_s=0.3):
    """Send the main thread a SIGINT (as the kernel's interrupt does) a moment after minimisation starts."""
    started = threading.Event()
    real = _interrupt.minimize_interruptibly

    def minimise_then_get_interrupted(simulation, **kwargs):
        started.set()
        return real(simulation, **kwargs)

    def interrupt_when_started():
        started.wait(120)
        time.sleep(delay_s)
        _thread.interrupt_main()

    monkeypatch.setattr(md, "minimize_interruptibly", minimise_then_get_interrupted)
    monkeypatch.setattr(md._minimize, "minimize_interruptibly", minimise_then_get_interrupted)
    threading.Thread(target=interrupt_when_started, daemon=True).start()


def raised_inside_the_minimiser(excinfo) -> bool:
    """True when the KeyboardInterrupt (or the one md.run re-raised with its resume hint) came from the
    minimiser's per-iteration callback, i.e. before the minimisation had finished."""
    error = excinfo.value
    while error is not None:
        frames = [frame.name for frame in traceback.extract_tb(error.__traceback__)]
        if frames and frames[-1] == "report" and "minimizeEnergy" in frames:
            return True
        error = error.__cause__ or error.__context__
    return False


def test_stop_while_md_run_minimises_interrupts_the_minimiser_and_keeps_no_half_made_folder(
    villin_pdb,  # noqa: F811
    tmp_path,
    monkeypatch,
):
    interrupt_once_minimising(monkeypatch)
    with pytest.raises(KeyboardInterrupt, match="resume=True") as excinfo:
        md.run(villin_pdb, ps=1, solvent="explicit", out=tmp_path / "run", platform="CPU")
    assert raised_inside_the_minimiser(excinfo)
    assert not (tmp_path / "run").exists()  # nothing was checkpointed, so nothing half-made is left


def test_stop_while_md_minimize_runs_raises_from_inside_the_minimiser(villin_pdb, tmp_path, monkeypatch):  # noqa: F811
    interrupt_once_minimising(monkeypatch)
    with pytest.raises(KeyboardInterrupt) as excinfo:
        md.minimize(villin_pdb, tmp_path / "min", solvent="explicit", platform="CPU")
    assert raised_inside_the_minimiser(excinfo)


def test_stop_during_a_dataflow_backend_run_keeps_its_checkpoint_and_says_how_to_resume(villin_pdb, tmp_path):  # noqa: F811
    """The dataflow backend computes forces in Python inside OpenMM's step: a Stop raised there came out as
    'OpenMMException: <NULL>' and the run was marked failed."""
    out = tmp_path / "df"

    def interrupt_after_the_first_checkpoint():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not (out / "checkpoint.chk").exists():
            time.sleep(0.05)
        time.sleep(0.3)
        _thread.interrupt_main()

    threading.Thread(target=interrupt_after_the_first_checkpoint, daemon=True).start()
    with pytest.raises(md.RunInterrupted, match="last checkpoint is at production step .*resume=True"):
        md.run(villin_pdb, out=out, ps=50, minimize_max_iterations=50, **DATAFLOW_IN_VACUUM)
    assert md.MDRun(out).info["status"] == "interrupted"


def test_stop_while_a_checkpoint_evaluates_dataflow_forces_writes_it_and_stops_cleanly(
    villin_pdb,  # noqa: F811
    tmp_path,
    monkeypatch,
):
    """CI caught a Stop landing while a checkpoint read the energy: the dataflow backend's Python force raised
    the KeyboardInterrupt inside OpenMM's C++, and the run died as 'OpenMMException: <NULL>'. Here the Stop is
    delivered inside that force evaluation every time, not by timing."""
    from kenkyu.kernels_md.backend import DataflowBackend

    armed = {"checkpoints": 0, "now": False}
    real_checkpoint = md._Runner.checkpoint
    real_forces = DataflowBackend.__call__

    def checkpoint_arming_the_stop(self, simulation, phase):
        armed["checkpoints"] += 1
        armed["now"] = phase == "production" and armed["checkpoints"] == 3
        return real_checkpoint(self, simulation, phase)

    def forces_pressing_stop(self, *args, **kwargs):
        if armed["now"]:
            armed["now"] = False
            _thread.interrupt_main()  # pending now: Python raises it inside this force evaluation
        return real_forces(self, *args, **kwargs)

    monkeypatch.setattr(md._Runner, "checkpoint", checkpoint_arming_the_stop)
    monkeypatch.setattr(DataflowBackend, "__call__", forces_pressing_stop)
    out = tmp_path / "df"
    with pytest.raises(md.RunInterrupted, match="last checkpoint is at production step .*resume=True"):
        md.run(villin_pdb, out=out, ps=2, minimize_max_iterations=20, **DATAFLOW_IN_VACUUM)
    info = md.MDRun(out).info
    assert info["status"] == "interrupted"
    assert armed["checkpoints"] == 3  # the interrupted checkpoint was written whole, and nothing ran after it


def test_stop_while_the_minimiser_evaluates_dataflow_forces_is_an_interrupt_not_a_failed_minimisation(
    villin_pdb,  # noqa: F811
    tmp_path,
    monkeypatch,
):
    """Raised inside the dataflow backend's Python force, a Stop during minimisation came out of OpenMM as
    'OpenMMException: <NULL>', which md.run reported as absurd starting coordinates."""
    from kenkyu.kernels_md.backend import DataflowBackend

    calls = {"n": 0}
    real_forces = DataflowBackend.__call__

    def forces_pressing_stop_on_the_fifth(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 5:
            _thread.interrupt_main()
        return real_forces(self, *args, **kwargs)

    monkeypatch.setattr(DataflowBackend, "__call__", forces_pressing_stop_on_the_fifth)
    with pytest.raises(md.RunInterrupted, match="before its first checkpoint") as excinfo:
        md.run(
            villin_pdb,
            out=tmp_path / "df",
            backend="dataflow",
            solvent="vacuum",
            ps=1,
            nvt_ps=0,
            minimize_max_iterations=200,
            progress=False,
            seed=1,
        )
    assert raised_inside_the_minimiser(excinfo)
