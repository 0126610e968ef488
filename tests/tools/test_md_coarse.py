"""md.coarse_grained: a Cα Gō model run with Q over time, on OpenMM's forces or the dataflow backend."""

from __future__ import annotations

import numpy as np
import pytest
from kenkyu.core.registry import ToolRegistry
from kenkyu.core.science import science_of
from kenkyu.tools import md

from md_fixtures import villin_pdb  # noqa: F401 (fixture)

SHORT = dict(ps=10.0, report_interval_ps=0.5, threads=1, seed=7, progress=False)


def test_the_folded_model_stays_native_at_low_temperature(villin_pdb, tmp_path):  # noqa: F811
    run = md.coarse_grained(villin_pdb, out=tmp_path / "cg", temperature_k=250, backend="openmm", **SHORT)
    table = run.table
    assert list(table.columns) == ["frame", "time_ps", "q", "rg_nm", "potential_kj_mol", "temperature_k"]
    assert len(table) == 20 and np.allclose(np.diff(table.time_ps), 0.5)
    assert table.q.mean() > 0.85 and table.q.between(0, 1).all()  # a folded Gō model at low T: Q near 1
    info = run.info
    assert info["n_beads"] == 36 and info["n_native_contacts"] > 20 and info["parameters"]["temperature_k"] == 250
    assert {p.name for p in run.directory.iterdir()} == {"native.pdb", "trajectory.dcd", "q.csv", "q.png", "cg.json"}
    traj = run.trajectory()
    assert traj.n_frames == 20 and traj.n_atoms == 36
    assert [s for _, s, _ in science_of(md.coarse_grained).check(run)] == ["pass", "pass"]
    assert "Q (fraction of native contacts)" in run.summary() and run.figure is not None
    page = run._repr_html_()  # the notebook's view: the summary's first line in bold, the Q(t) figure inline
    assert page.startswith(f"<p><b>{run.summary().splitlines()[0]}</b></p><ul>") and '<img src="data:image/png' in page
    with pytest.raises(md.RunExistsError):
        md.coarse_grained(villin_pdb, out=tmp_path / "cg", backend="openmm", **SHORT)


def test_a_failed_start_leaves_no_folder(tmp_path):
    with pytest.raises(md.StructureError, match="does not exist; pass the path of a PDB or mmCIF file"):
        md.coarse_grained(tmp_path / "missing.pdb", out=tmp_path / "cg", backend="openmm", **SHORT)
    assert not (tmp_path / "cg").exists() and not list(tmp_path.glob(".*partial"))


def test_registered_as_md_coarse_grained():
    tool = ToolRegistry.from_modules(["kenkyu.tools.md"])["md_coarse_grained"]
    assert tool.qualified_call == "kenkyu.tools.md.coarse_grained" and tool.approval == "ask"
    assert tool.parameters["properties"]["backend"]["enum"] == ["dataflow", "openmm"]
    assert tool.science.output_folder({"structure": "a/villin.pdb", "temperature_k": 350}) == "md_runs/villin_cg_350K"
    # A replica with another seed gets a folder of its own, not the first run's RunExistsError.
    assert tool.science.output_folder({"structure": "villin.pdb", "seed": 2}) == "md_runs/villin_cg_300K_seed2"
    assert tool.science.cost({"ps": 100}).seconds > 0


@pytest.mark.slow  # the dataflow kernels compile on first use (tens of seconds on 2 cores)
def test_the_dataflow_backend_runs_the_same_trajectory_as_openmm(villin_pdb, tmp_path):  # noqa: F811
    reference = md.coarse_grained(villin_pdb, out=tmp_path / "omm", backend="openmm", **SHORT).table
    dataflow = md.coarse_grained(villin_pdb, out=tmp_path / "df", backend="dataflow", **SHORT)
    assert dataflow.info["parameters"]["backend"] == "dataflow"
    np.testing.assert_allclose(dataflow.table.q, reference.q, atol=0.05)
    np.testing.assert_allclose(dataflow.table.rg_nm[:5], reference.rg_nm[:5], rtol=1e-3)


def test_a_stopped_dataflow_run_says_interrupted_and_keeps_its_frames(villin_pdb, tmp_path):  # noqa: F811
    """The notebook's Stop arrives as SIGINT while the dataflow force (Python) runs inside OpenMM's step; it used
    to come out as 'OpenMMException: <NULL>', which read as a crash. The frames so far are kept (newcomer r8 O3)."""
    import _thread
    import threading
    import time

    partial = tmp_path / ".cg.partial" / "trajectory.dcd"
    written = tmp_path / "cg" / "trajectory.dcd"  # a new run writes into its folder as it goes

    def stop_once_frames_are_written():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if written.exists() and written.stat().st_size > 1000:  # past the DCD header: frames are coming
                _thread.interrupt_main()  # what the kernel's interrupt and a time budget send
                return
            time.sleep(0.05)

    threading.Thread(target=stop_once_frames_are_written, daemon=True).start()
    with pytest.raises(md.RunInterrupted, match=r"cg interrupted at [\d.]+ of 100000 ps; its \d+ frames are kept"):
        md.coarse_grained(villin_pdb, out=tmp_path / "cg", backend="dataflow", **{**SHORT, "ps": 100000.0})
    kept = md.CoarseGrainedRun(tmp_path / "cg")
    assert kept.status == "interrupted" and not partial.parent.exists()
    assert kept.info["n_frames"] == len(kept.table) == kept.trajectory().n_frames > 0
