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


def minimize_interruptibly(simulation, trace: list | None = None, **minimize_kwargs) -> None:
    """``simulation.minimizeEnergy(**minimize_kwargs)``; a SIGINT ends it within one iteration.

    ``trace``, when given, receives ``(iteration, energy kJ/mol, RMS force kJ/mol/nm)`` for every L-BFGS iteration
    OpenMM reports (its iteration count starts again in each round that tightens the constraint restraints): what
    md.minimize needs to say whether it converged or stopped at its iteration cap.
    """
    import numpy as np
    import openmm

    # The SIGINT is recorded, then raised from the reporter: with the dataflow backend the forces are Python
    # called from C++ as well, and an interrupt raised there came out as "OpenMMException: <NULL>", which read
    # as a failed minimisation.
    with interrupt_deferred() as stop:

        class InterruptCheckpoint(openmm.MinimizationReporter):
            def report(self, iteration, x, grad, args):
                if stop.requested:
                    raise KeyboardInterrupt
                if trace is not None:
                    # The RMS of all force components (restraints included): what OpenMM's tolerance is tested on.
                    gradient = np.asarray(grad, dtype=float)
                    rms = float(np.sqrt(np.mean(gradient**2))) if gradient.size else 0.0
                    trace.append((int(iteration), float(dict(args).get("system energy", float("nan"))), rms))
                return False

        simulation.minimizeEnergy(reporter=InterruptCheckpoint(), **minimize_kwargs)
    if stop.requested:  # arrived after the last iteration
        raise KeyboardInterrupt


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


@contextmanager
def interrupt_held():
    """Inside, a SIGINT waits; it is raised as KeyboardInterrupt when the block ends (not if the block raised).

    For work that evaluates forces but must finish whole once started (a checkpoint being written, an energy
    being read): with the dataflow backend those forces are Python code called from OpenMM's C++.
    """
    with interrupt_deferred() as stop:
        yield
    if stop.requested:
        raise KeyboardInterrupt


def potential_energy_kj_mol(simulation) -> float:
    """The context's potential energy in kJ/mol, read with a Stop held until it is read."""
    from openmm import unit

    with interrupt_held():
        state = simulation.context.getState(getEnergy=True)
    return state.getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole)
