"""Silence chatter that compiled code prints straight to file descriptor 1.

mdtraj's DCD reader (VMD's molfile plugin, in C) prints "dcdplugin) detected standard 32-bit DCD
file ..." on every read. In a notebook that lands in every analysis output and every report; it says
nothing a scientist needs. Python-level output and all errors are untouched.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys


def _flush_c_stdio() -> None:
    with contextlib.suppress(Exception):  # no libc symbol (e.g. Windows): nothing buffered to lose
        ctypes.CDLL(None).fflush(None)


@contextlib.contextmanager
def native_stdout_silenced():
    try:
        saved = os.dup(1)
    except OSError:  # no descriptor 1 (an embedded interpreter): nothing to silence
        yield
        return
    sys.stdout.flush()
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        yield
    finally:
        _flush_c_stdio()  # what the C code buffered goes to /dev/null, not to the restored stdout
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


@contextlib.contextmanager
def dummy_unit_cell_warning_silenced():
    """Around kenkyu's own mdtraj loads: mdtraj warns when it drops a PDB's CRYST1 whose box is physically
    impossible (the 1 Å cell of RCSB NMR entries such as villin's 1VII). Dropping it is right and the box is
    never a real one, so in every md_run and analysis cell the warning is noise. Only that warning; a user's
    own mdtraj.load still shows it."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Unlikely unit cell vectors", category=UserWarning)
        yield
