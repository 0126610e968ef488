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


def minimize_interruptibly(simulation, **minimize_kwargs) -> None:
    """``simulation.minimizeEnergy(**minimize_kwargs)``; a SIGINT ends it within one iteration."""
    import openmm

    class InterruptCheckpoint(openmm.MinimizationReporter):
        def report(self, iteration, x, grad, args):
            return False  # the point is that Python code runs here, so a pending interrupt is raised

    simulation.minimizeEnergy(reporter=InterruptCheckpoint(), **minimize_kwargs)
