"""Frame windows in the analyses: "last 10%", "first half", slices and times pick the right frames."""

from __future__ import annotations

import mdtraj
import numpy as np
import pytest
from kenkyu.tools import analysis
from kenkyu.tools.md import example_structure


@pytest.fixture(scope="module")
def traj():
    """20 frames of villin, each a little more displaced, 5 ps apart (5, 10, ... 100 ps)."""
    one = mdtraj.load(str(example_structure("villin")))
    rng = np.random.default_rng(0)
    xyz = np.stack([one.xyz[0] + rng.normal(scale=0.01 * (i + 1), size=one.xyz[0].shape) for i in range(20)])
    return mdtraj.Trajectory(xyz.astype(np.float32), one.topology, time=5.0 * (1 + np.arange(20)))


@pytest.mark.parametrize(
    "frames, expected",
    [
        ("last 10%", [18, 19]),
        ("first 10%", [0, 1]),
        ("first half", list(range(10))),
        ("second half", list(range(10, 20))),
        ("last third", list(range(13, 20))),
        ("last 3", [17, 18, 19]),
        ("first 10 ps", [0, 1]),
        ("last 10 ps", [18, 19]),
        ("middle 10", list(range(5, 15))),
        ("middle third", list(range(6, 13))),
        ("middle 20 ps", [8, 9, 10, 11]),
        ("5:8", [5, 6, 7]),
        ("::5", [0, 5, 10, 15]),
        ("all", list(range(20))),
        (None, list(range(20))),
    ],
)
def test_frame_window_picks_the_frames(traj, frames, expected):
    indices, _ = analysis.frame_window(traj, frames)
    assert list(indices) == expected


def test_times_narrow_the_window(traj):
    assert list(analysis.frame_window(traj, start_ps=50, end_ps=60)[0]) == [9, 10, 11]
    assert list(analysis.frame_window(traj, "last half", end_ps=60)[0]) == [10, 11]


def test_analyses_say_which_frames_they_used(traj):
    table = analysis.rmsd(traj, frames="last 10%")
    assert list(table.frame) == [18, 19] and list(table.time_ps) == [95.0, 100.0]
    # the reference is still frame 0 of the whole trajectory
    whole = analysis.rmsd(traj)
    np.testing.assert_allclose(table.rmsd_nm, whole.rmsd_nm.iloc[18:], rtol=1e-6)
    assert "frames 18-19 (2 of 20; last 10%" in table.summary() and list(table.frames_used) == [18, 19]
    assert "window" not in whole.summary() and whole.window == "all 20 frames"
    rg = analysis.radius_of_gyration(traj, start_ps=50, end_ps=60)
    assert list(rg.frame) == [9, 10, 11]
    fluctuation = analysis.rmsf(traj, frames="first half")
    assert "over 10 frames" in fluctuation.description and "first half" in fluctuation.window
    early = analysis.rmsf(traj, frames="first half").rmsf_nm.mean()
    late = analysis.rmsf(traj, frames="second half").rmsf_nm.mean()
    assert late > early  # the later frames are displaced more: the window changed the answer


def test_rmsf_of_fewer_than_two_frames_refuses_clearly(traj):
    with pytest.raises(ValueError, match="RMSF needs at least 2 frames and the window .* has 1"):
        analysis.rmsf(traj, frames="last 1")


def test_unreadable_and_empty_windows_say_so(traj):
    with pytest.raises(ValueError, match="not a window I can read"):
        analysis.rmsd(traj, frames="the good part")
    with pytest.raises(ValueError, match="selects no frame"):
        analysis.rmsd(traj, start_ps=500)


def test_every_trajectory_analysis_takes_a_window():
    from kenkyu.core.registry import ToolRegistry

    registry = ToolRegistry.from_modules(["kenkyu.tools.analysis"])
    for tool in registry:
        assert {"frames", "start_ps", "end_ps"} <= set(tool.parameters["properties"]), tool.name


def test_a_window_longer_than_the_trajectory_uses_all_of_it_and_says_so(traj):
    rg = analysis.radius_of_gyration(traj, frames="last 50")
    assert len(rg) == 20
    assert rg.window == "all 20 frames (last 50; the trajectory has only 20 frames: all of them)"
    assert analysis.radius_of_gyration(traj, frames="last 20").window == "all 20 frames"
