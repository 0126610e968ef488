"""MD ensembles on Dask: real scheduler and worker processes, resumable members, aggregate RMSF."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("dask.distributed")
ensembles = pytest.importorskip("kenkyu.tools.ensembles")
analysis = pytest.importorskip("kenkyu.tools.analysis")

MEMBER_OPTIONS = dict(
    nvt_ps=0, report_interval_ps=0.01, checkpoint_interval_ps=0.05, minimize_max_iterations=20, platform="CPU"
)


def dask_executable() -> str:
    candidate = Path(sys.executable).with_name("dask")
    return str(candidate) if candidate.exists() else shutil.which("dask")


@pytest.fixture
def dask_processes(tmp_path):
    """A real `dask scheduler` and one `dask worker` on 127.0.0.1, stopped after the test."""
    executable = dask_executable()
    if not executable:
        pytest.skip("the dask command-line tool is not installed")
    scheduler_file = tmp_path / "scheduler.json"
    env = {**os.environ, "OPENMM_CPU_THREADS": "1"}
    processes = [
        subprocess.Popen(
            [
                executable,
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
                "--scheduler-file",
                str(scheduler_file),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
        )
    ]
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.exists() or not scheduler_file.read_text().strip():
            if time.monotonic() > deadline or processes[0].poll() is not None:
                pytest.fail("dask scheduler did not start")
            time.sleep(0.1)
        address = json.loads(scheduler_file.read_text())["address"]
        processes.append(
            subprocess.Popen(
                [
                    executable,
                    "worker",
                    address,
                    "--nworkers",
                    "1",
                    "--nthreads",
                    "1",
                    "--no-dashboard",
                    "--no-nanny",
                    "--local-directory",
                    str(tmp_path / "worker"),
                    "--name",
                    "kenkyu-test-worker",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                env=env,
            )
        )
        from dask.distributed import Client

        with Client(address, timeout="30s") as client:
            client.wait_for_workers(1, timeout=60)
        yield address
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in reversed(processes):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_replicas_on_a_real_dask_scheduler_and_worker(villin_pdb, tmp_path, dask_processes):
    out = tmp_path / "replicas"
    settings = dict(
        replicas=2, out=out, ps=0.05, solvent="implicit", md_options=MEMBER_OPTIONS, scheduler=dask_processes, seed=11
    )
    ensemble = ensembles.run(villin_pdb, **settings)
    assert len(ensemble.finished) == 2 and not ensemble.errors
    seeds = [m.info["parameters"]["seed"] for m in ensemble.members]
    assert seeds == [11, 12]
    for member in ensemble.members:
        assert member.trajectory().n_frames == 5
        assert (member.directory / "run.json").is_file()
    # Different seeds, different trajectories.
    first, second = (m.trajectory().xyz for m in ensemble.members)
    assert not np.allclose(first, second)

    # Aggregate RMSF equals the mean and spread of the members' own RMSF.
    aggregate = ensemble.rmsf()
    per_member = np.array([analysis.rmsf(m).rmsf_nm.to_numpy() for m in ensemble.members])
    np.testing.assert_allclose(aggregate.rmsf_mean_nm, per_member.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(aggregate.rmsf_std_nm, per_member.std(axis=0, ddof=1), rtol=1e-6)
    assert (aggregate.n_members == 2).all() and len(aggregate) == 36
    assert "across 2 ensemble members" in aggregate.summary()
    assert "2 of 2 members finished" in ensemble.summary()

    # Calling again resumes: finished members are reused, not run again.
    stamps = [m.trajectory_path.stat().st_mtime_ns for m in ensemble.members]
    again = ensembles.run(villin_pdb, **settings)
    assert [m.trajectory_path.stat().st_mtime_ns for m in again.members] == stamps
    with pytest.raises(Exception, match="other settings"):
        ensembles.run(
            villin_pdb,
            replicas=3,
            out=out,
            ps=0.05,
            solvent="implicit",
            md_options=MEMBER_OPTIONS,
            scheduler=dask_processes,
        )


@pytest.mark.slow
def test_parameter_sweep_on_a_local_cluster(villin_pdb, tmp_path):
    out = tmp_path / "sweep"
    ensemble = ensembles.run(
        villin_pdb,
        replicas=1,
        sweep={"temperature_k": [280.0, 400.0]},
        out=out,
        ps=0.05,
        solvent="vacuum",
        md_options=MEMBER_OPTIONS,
        n_workers=1,
        cpu_threads_per_member=1,
        seed=5,
    )
    assert [v["temperature_k"] for v in ensemble.variations] == [280.0, 400.0]
    temperatures = [m.info["parameters"]["temperature_k"] for m in ensemble.members]
    assert temperatures == [280.0, 400.0]
    assert all(m.status == "finished" for m in ensemble.members)
    table = ensemble.map(analysis.rmsd)
    assert set(table.temperature_k) == {280.0, 400.0} and len(table) == 10
    # The same ensemble directory opens without Dask, for analysis later.
    reopened = ensembles.Ensemble.load(out)
    assert [m.directory for m in reopened.members] == [m.directory for m in ensemble.members]


def test_bad_scheduler_address_is_explained(villin_pdb, tmp_path):
    with pytest.raises(ensembles.EnsembleError, match="Dask scheduler at tcp://127.0.0.1:9"):
        ensembles.run(
            villin_pdb,
            replicas=1,
            out=tmp_path / "x",
            ps=0.02,
            solvent="vacuum",
            md_options=MEMBER_OPTIONS,
            scheduler="tcp://127.0.0.1:9",
        )
