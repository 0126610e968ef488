"""A Gō run whose process is killed outright (SIGKILL: the OOM killer, "Restart kernel" mid-run) keeps the frames
it made (newcomer r8: only a clean stop kept them). The run goes in a subprocess, as in a kernel; after kill -9 its
folder holds a trajectory mdtraj loads, the table beside it and a progress record; the run reads as killed, a
call without resume= says what is there, and resume=True says what it will do before it does it (and a rerun
killed in turn leaves the kept frames as they were)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import mdtraj
import pandas as pd
import pytest
from kenkyu.tools import md

from md_fixtures import villin_pdb  # noqa: F401 (fixture)

# Long enough that it is always killed part-way; the OpenMM backend and one thread keep the process light.
RUN = dict(ps=20000.0, report_interval_ps=1.0, seed=11, threads=1, progress=False, backend="openmm")


def start_run(structure, out, **extra):
    arguments = dict(RUN, **extra)
    call = f"from kenkyu.tools import md; md.coarse_grained({str(structure)!r}, out={str(out)!r}, **{arguments!r})"
    return subprocess.Popen(
        [sys.executable, "-u", "-c", call], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def kill(process) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.wait(30)  # reaped: the record's process is gone, as a killed kernel's is


def recorded(out) -> dict:
    path = out / "cg.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def frames_on_disk(out) -> int:
    return mdtraj.load(str(out / "trajectory.dcd"), top=str(out / "native.pdb")).n_frames


def test_a_killed_go_run_keeps_its_frames_and_resume_says_what_it_does(villin_pdb, tmp_path):  # noqa: F811
    out = tmp_path / "md_runs" / "villin_cg"
    process = start_run(villin_pdb, out)
    deadline = time.monotonic() + 300
    while recorded(out).get("n_frames", 0) < 5:
        assert process.poll() is None, process.stderr.read()
        assert time.monotonic() < deadline, "the Gō run wrote no 5 frames in 300 s"
        time.sleep(0.2)
    kill(process)

    # The folder holds what the run had made: the progress record, a trajectory mdtraj reads, the table.
    record = recorded(out)
    kept = record["n_frames"]
    assert record["status"] == "running" and record["parameters"]["seed"] == 11
    on_disk = frames_on_disk(out)
    assert kept <= on_disk < RUN["ps"] and len(pd.read_csv(out / "q.csv")) == on_disk  # at most a frame ahead
    run = md.CoarseGrainedRun(out)
    assert run.status == "killed"
    assert f"killed at {kept:g} of 20000 ps" in run.summary() and "resume=True runs it again from 0 ps" in run.summary()

    # A call without resume= is refused, naming what the folder holds; the files now agree with the record.
    with pytest.raises(md.RunExistsError, match=rf"killed at {kept:g} of 20000 ps .*{kept} frames kept"):
        md.coarse_grained(villin_pdb, out=out, **RUN)
    assert recorded(out)["status"] == "interrupted"
    assert frames_on_disk(out) == kept == len(md.CoarseGrainedRun(out).table)

    # resume=True says what it will do first; killed in turn, the rerun (made beside it) leaves the kept frames.
    again = start_run(villin_pdb, out, resume=True)
    said = again.stdout.readline()
    kill(again)
    assert f"holds {kept} frames of a run killed at {kept:g} of 20000 ps" in said, said + again.stderr.read()
    assert "running it again from 0 ps with its seed 11" in said
    assert frames_on_disk(out) == kept and recorded(out)["status"] == "interrupted"
