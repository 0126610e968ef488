"""Kill (SIGKILL, Ctrl-C) and resume: no frame lost or duplicated, no corrupt file."""

from __future__ import annotations

import _thread
import json
import os
import signal
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from md_fixtures import REPO_ROOT

pytestmark = pytest.mark.filterwarnings("ignore:Unlikely unit cell vectors")

md_tools = pytest.importorskip("kenkyu.tools.md")
mdtraj = pytest.importorskip("mdtraj")
from kenkyu.tools.md import _files as _md_files

# 0.6 ps of production with a frame every 5 steps and a checkpoint every 25 steps.
RUN = dict(
    solvent="implicit",
    ps=0.6,
    nvt_ps=0.1,
    report_interval_ps=0.01,
    checkpoint_interval_ps=0.05,
    minimize_max_iterations=20,
    platform="CPU",
    seed=7,
)


def cli_command(structure, out, resume=False):
    command = [
        sys.executable,
        "-m",
        "kenkyu.tools.md.cli",
        "md",
        "run",
        str(structure),
        "--out",
        str(out),
        "--solvent",
        RUN["solvent"],
        "--ps",
        str(RUN["ps"]),
        "--nvt-ps",
        str(RUN["nvt_ps"]),
        "--report-interval-ps",
        str(RUN["report_interval_ps"]),
        "--checkpoint-interval-ps",
        str(RUN["checkpoint_interval_ps"]),
        "--minimize-max-iterations",
        str(RUN["minimize_max_iterations"]),
        "--platform",
        RUN["platform"],
        "--seed",
        str(RUN["seed"]),
        "--no-progress",
    ]
    return command + (["--resume"] if resume else [])


def checkpoint_header(out: Path) -> dict | None:
    try:
        return _md_files.read_checkpoint(out / "checkpoint.chk")[0]
    except (FileNotFoundError, ValueError):
        return None


def csv_rows(out: Path) -> int:
    try:
        return max(len((out / "state.csv").read_bytes().split(b"\n")) - 2, 0)
    except FileNotFoundError:
        return 0


def ahead_of_checkpoint(out: Path, header: dict) -> bool:
    """Frames were written after the last checkpoint: the case resume must cut back."""
    return header["phase"] == "production" and csv_rows(out) > header["frames"]


def kill_when(process, condition, timeout=120.0) -> dict:
    """SIGKILL ``process`` as soon as ``condition(out, checkpoint header)`` holds; return that header."""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(
                    f"the run ended (rc {process.returncode}) before it could be killed: {process.stderr.read()}"
                )
            header = checkpoint_header(process.out)
            if header and condition(process.out, header):
                process.send_signal(signal.SIGKILL)
                process.wait(timeout=30)
                return header
            time.sleep(0.01)
        pytest.fail("the run never reached the point where the test kills it")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def start(structure, out, resume=False):
    process = subprocess.Popen(
        cli_command(structure, out, resume),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    process.out = out
    return process


def assert_complete_and_continuous(result):
    frames = round(RUN["ps"] / RUN["report_interval_ps"])
    assert result.status == "finished"
    data = result.state_data()
    # Exactly one CSV row per 5-step report: nothing lost, nothing twice.
    assert list(data["Step"]) == list(range(5, 5 * frames + 1, 5))
    traj = result.trajectory(reload=True)
    assert traj.n_frames == frames == result.n_frames
    if result.trajectory_path.suffix == ".dcd":
        with open(result.trajectory_path, "rb") as handle:
            handle.seek(8)
            assert struct.unpack("<i", handle.read(4))[0] == frames  # DCD header agrees with the file
    # A duplicated frame would show as a zero step, a lost or foreign one as a jump.
    steps = np.sqrt(((traj.xyz[1:] - traj.xyz[:-1]) ** 2).sum(axis=2)).max(axis=1)
    assert steps.min() > 0
    assert steps.max() < 0.2  # nm moved by any atom in 10 fs
    assert not list(result.directory.glob(".*.tmp"))


@pytest.mark.slow
def test_sigkill_in_equilibration_and_production_then_resume(villin_pdb, tmp_path):
    out = tmp_path / "killed"
    header = kill_when(start(villin_pdb, out), lambda out, h: h["phase"] == "equilibration" and h["step"] > 0)
    assert json.loads((out / "run.json").read_text())["status"] == "running"

    header = kill_when(
        start(villin_pdb, out, resume=True), lambda out, h: h["frames"] >= 10 and ahead_of_checkpoint(out, h)
    )
    # The kill left frames after the checkpoint (a checkpoint may have landed in the instant before the
    # signal, hence >=): resume must cut them back.
    assert csv_rows(out) >= checkpoint_header(out)["frames"] >= header["frames"]

    result = md_tools.run(villin_pdb, out=out, resume=True, progress=False, **RUN)
    assert_complete_and_continuous(result)


@pytest.mark.parametrize("trajectory_format", ["dcd", "xtc"])
def test_keyboard_interrupt_leaves_a_resumable_run(villin_pdb, tmp_path, trajectory_format):
    out = tmp_path / "interrupted"

    def press_stop_button():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            header = checkpoint_header(out)
            if header and header["frames"] >= 20 and ahead_of_checkpoint(out, header):
                _thread.interrupt_main()  # what Ctrl-C or the notebook's stop button does
                return
            time.sleep(0.005)

    threading.Thread(target=press_stop_button, daemon=True).start()
    with pytest.raises(md_tools.RunInterrupted, match="resume=True"):
        md_tools.run(villin_pdb, out=out, progress=False, trajectory_format=trajectory_format, **RUN)
    assert json.loads((out / "run.json").read_text())["status"] == "interrupted"
    assert isinstance(md_tools.RunInterrupted("x"), KeyboardInterrupt)

    result = md_tools.run(villin_pdb, out=out, resume=True, progress=False, trajectory_format=trajectory_format, **RUN)
    assert result.trajectory_path.suffix == f".{trajectory_format}"
    assert_complete_and_continuous(result)


# -- the file mechanics, exactly ------------------------------------------------------------------------


def _write_dcd(path: Path, n_frames: int, n_atoms: int = 4):
    from openmm import Vec3, unit
    from openmm.app import DCDFile, Element, Topology

    topology = Topology()
    residue = topology.addResidue("ALA", topology.addChain())
    for i in range(n_atoms):
        topology.addAtom(f"C{i}", Element.getBySymbol("C"), residue)
    topology.setPeriodicBoxVectors([Vec3(3, 0, 0), Vec3(0, 3, 0), Vec3(0, 0, 3)] * unit.nanometer)
    rng = np.random.default_rng(0)
    frames = rng.uniform(0, 2, size=(n_frames, n_atoms, 3))
    with open(path, "wb") as handle:
        dcd = DCDFile(handle, topology, 0.002 * unit.picoseconds, 5, 5)
        for xyz in frames:
            dcd.writeModel([Vec3(*row) for row in xyz] * unit.nanometer)
    return topology, frames


def test_truncate_dcd_cuts_torn_frames_and_fixes_header(tmp_path):
    path = tmp_path / "t.dcd"
    _, frames = _write_dcd(path, 5)
    with open(path, "ab") as handle:
        handle.write(b"\x00" * 37)  # half a frame, as a SIGKILL mid-write leaves it
    _md_files.truncate_dcd(path, 3)
    with mdtraj.formats.DCDTrajectoryFile(str(path)) as dcd:
        xyz, lengths, _ = dcd.read()
    assert xyz.shape == (3, 4, 3)
    np.testing.assert_allclose(xyz / 10, frames[:3], atol=1e-5)  # DCD stores angstroms
    np.testing.assert_allclose(lengths, 30.0)
    with open(path, "rb") as handle:
        handle.seek(8)
        assert struct.unpack("<i", handle.read(4))[0] == 3
    with pytest.raises(md_tools.ResumeError, match="3 complete frames"):
        _md_files.truncate_dcd(path, 4)


def test_truncate_csv_and_xtc(tmp_path):
    csv = tmp_path / "state.csv"
    csv.write_text('#"Step","Time (ps)"\n5,0.01\n10,0.02\n15,0.03\n20,0.0')  # torn last row
    _md_files.truncate_csv(csv, 2)
    assert csv.read_text() == '#"Step","Time (ps)"\n5,0.01\n10,0.02\n'

    xtc = tmp_path / "t.xtc"
    rng = np.random.default_rng(1)
    xyz = rng.uniform(0, 2, size=(5, 4, 3)).astype(np.float32)
    with mdtraj.formats.XTCTrajectoryFile(str(xtc), "w") as handle:
        handle.write(
            xyz,
            time=np.arange(5, dtype=np.float32),
            step=np.arange(5, dtype=np.int32),
            box=np.repeat(np.eye(3, dtype=np.float32)[None] * 3, 5, axis=0),
        )
    _md_files.truncate_xtc(xtc, 2)
    with mdtraj.formats.XTCTrajectoryFile(str(xtc)) as handle:
        read, time_, _, _ = handle.read()
    assert read.shape == (2, 4, 3)
    np.testing.assert_allclose(read, xyz[:2], atol=2e-3)  # XTC keeps 0.001 nm
    np.testing.assert_allclose(time_, [0, 1])


def test_checkpoint_write_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "checkpoint.chk"
    _md_files.write_checkpoint(path, {"phase": "production", "step": 10}, b"old-state")

    def killed_before_rename(src, dst):
        raise KeyboardInterrupt  # the process dies between writing the temp file and os.replace

    monkeypatch.setattr(_md_files.os, "replace", killed_before_rename)
    with pytest.raises(KeyboardInterrupt):
        _md_files.write_checkpoint(path, {"phase": "production", "step": 20}, b"new-state")
    monkeypatch.undo()
    header, state = _md_files.read_checkpoint(path)
    assert header["step"] == 10 and state == b"old-state"
    assert not list(tmp_path.glob(".*.tmp"))
