"""Errors raised by the MD tools.

Each message names the problem and the fix, because the first reader is often an LLM agent that has
to decide what to try next, and the second is a scientist looking at a red cell.
"""

from __future__ import annotations


class MDError(RuntimeError):
    """Base class of every error the MD tools raise on purpose."""


class StructureError(MDError, ValueError):
    """The input structure could not be read or makes no sense (malformed PDB/mmCIF, no atoms)."""


class UnknownResidueError(MDError, ValueError):
    """The force field has no template for a residue in the structure."""


class MissingBoxError(MDError, ValueError):
    """Explicit solvent was requested without solvating, but the structure carries no periodic box."""


class RunExistsError(MDError, FileExistsError):
    """The run directory already holds a run; nothing is overwritten without being asked.

    ``new_folder`` is set when the folder holds a run made with other settings: resuming it would refuse the
    call and overwriting would delete it, so the only way on is the same call in that new folder (one not
    made yet). The assistant's card and the md command line read it from here, never from the words.
    """

    def __init__(self, *args, new_folder: str | None = None):
        super().__init__(*args)
        self.new_folder = new_folder

    def __reduce__(self):
        # Rebuilt through __init__ with new_folder as state: tblib's exception pickling (installed by dask's
        # distributed) otherwise calls RuntimeError.__new__ on this FileExistsError and fails.
        return type(self), self.args, {"new_folder": self.new_folder}


class ResumeError(MDError):
    """A run directory cannot be resumed (parameters differ, files missing or inconsistent)."""


class SimulationUnstableError(MDError, FloatingPointError):
    """The simulation blew up (NaN or infinite energy/positions); the last good checkpoint is kept."""


class DiskFullError(MDError, OSError):
    """Writing a run file failed because the disk is full (ENOSPC)."""


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C / the notebook stop button interrupted a run; it can be resumed from its last checkpoint.

    A subclass of KeyboardInterrupt, so the interrupt still stops the cell or script as usual.
    """


class UnphysicalSettingError(MDError, ValueError):
    """A setting outside its physical range (time step, temperature, friction...); the message says the range, why."""


class NonstandardResidueError(MDError, ValueError):
    """A residue inside a chain that no standard residue replaces: deleting it silently would change the molecule."""


class RunFailedError(MDError):
    """A run folder whose run failed (blew up, ran out of disk...) was given to something that needs its results."""


class ForceFieldError(MDError, ValueError):
    """A force-field file name OpenMM cannot find; the message lists the files that exist."""


class ChainGapError(MDError, ValueError):
    """Residues are missing inside a chain with no sequence to rebuild them: the ends would be bonded across the gap."""
