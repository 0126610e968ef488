"""Energy minimisation that a Stop, a Ctrl-C or a time budget can interrupt.

OpenMM's minimiser is one long C++ call, and Python runs a SIGINT handler only between bytecodes: an
interrupt arriving during ``minimizeEnergy`` used to raise KeyboardInterrupt only once the call returned,
which for a solvated protein is tens of seconds after the user pressed Stop. OpenMM calls a
``MinimizationReporter`` from C++ after every L-BFGS iteration; running that Python method lets the pending
KeyboardInterrupt be raised there, and OpenMM carries the exception out of ``minimizeEnergy`` (the context
stays usable). (Returning True from ``report`` is not enough: the minimiser then restarts with stronger
constraint restraints, several seconds more.) The kernel's interrupt, the notebook's stop button and
kenkyu's time budget (``_thread.interrupt_main``) all arrive as that SIGINT.
"""

from __future__ import annotations

from contextlib import contextmanager


def minimize_interruptibly(simulation, **minimize_kwargs) -> None:
    """``simulation.minimizeEnergy(**minimize_kwargs)``; a SIGINT ends it within one iteration."""
    import openmm

    class InterruptCheckpoint(openmm.MinimizationReporter):
        def report(self, iteration, x, grad, args):
            return False  # the point is that Python code runs here, so a pending interrupt is raised

    simulation.minimizeEnergy(reporter=InterruptCheckpoint(), **minimize_kwargs)


class InterruptRequest:
    """Set by the SIGINT handler that :func:`interrupt_deferred` installs."""

    requested = False


@contextmanager
def interrupt_deferred():
    """Inside, a SIGINT (Stop, Ctrl-C, a time budget's ``_thread.interrupt_main``) is recorded, not raised.

    A force computed in Python (the dataflow backend's PythonForce) runs inside ``integrator.step``: a
    KeyboardInterrupt raised there crosses OpenMM's C++ and comes out as ``OpenMMException: <NULL>``, which
    read as a crash. The caller checks ``.requested`` between steps and stops in its own words. Outside the
    main thread (no signal handlers there) the interrupt is left as it is.
    """
    import signal
    import threading

    request = InterruptRequest()
    if threading.current_thread() is not threading.main_thread():
        yield request
        return

    def record(signum, frame):
        request.requested = True

    previous = signal.signal(signal.SIGINT, record)
    try:
        yield request
    finally:
        signal.signal(signal.SIGINT, previous)
