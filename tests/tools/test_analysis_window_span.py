"""A window of the last 1 ps of a 2 ps run holds 1 ps of simulation, and says so (newcomer r11, h3): the RMSF of
frames='last 1 ps' said "only 1 ps simulated; ... simulate at least 1 ps" (DCD's 32-bit times made the span
0.99999994 ps) and its window read "1.2-2 ps", which looks like 0.8 ps. A real villin trajectory written to a DCD
and read back with mdtraj, as a run folder's trajectory is.
"""

from __future__ import annotations

import mdtraj
import numpy as np
import pytest
from kenkyu.core.timescales import time_caveat
from kenkyu.tools import analysis
from kenkyu.tools.md import example_structure

pytestmark = pytest.mark.filterwarnings("ignore:Unlikely unit cell vectors")


@pytest.fixture
def two_ps_run(tmp_path):
    """Villin's 10 frames of a 2 ps run saved every 0.2 ps (t = 0.2 ... 2.0 ps), through a DCD and back."""
    villin = mdtraj.load(str(example_structure("villin")))
    frames = mdtraj.join([villin] * 10)
    frames.xyz += np.random.default_rng(1).normal(0, 0.02, frames.xyz.shape).astype(np.float32)
    frames.time = np.float32(0.2) * np.arange(1, 11, dtype=np.float32)  # as OpenMM's reporter stores them
    frames.save_dcd(str(tmp_path / "trajectory.dcd"))
    villin.save_pdb(str(tmp_path / "prepared.pdb"))
    loaded = mdtraj.load(str(tmp_path / "trajectory.dcd"), top=str(tmp_path / "prepared.pdb"))
    loaded.time = frames.time  # mdtraj numbers a DCD's frames; the run's MDRun gives them their times
    return loaded


def test_the_last_picosecond_is_one_picosecond(two_ps_run):
    result = analysis.rmsf(two_ps_run, frames="last 1 ps")
    assert result.simulated_ps == 1.0  # not 0.99999994
    assert "(5 of 10; last 1 ps; frames at 1.2-2 ps, covering 1-2 ps)" in result.window
    assert "data: 5 frames spanning 1 ps of simulation (one every 0.2 ps)" in result.summary()
    # The caveat for "how much do the residues fluctuate" no longer asks for the 1 ps the window has.
    caveat = time_caveat(result.simulated_ps, "how much do the residues fluctuate?") or ""
    assert "simulate at least 1 ps" not in caveat
