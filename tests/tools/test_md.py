"""Real short OpenMM runs on the CPU platform: fixing, solvating, minimising, MD, run directory, errors."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from md_fixtures import FAST

md_tools = pytest.importorskip("kenkyu.tools.md")

# NMR structures such as 1VII carry a dummy 1 A CRYST1 box, which mdtraj discards with a warning.
pytestmark = pytest.mark.filterwarnings("ignore:Unlikely unit cell vectors")
mdtraj = pytest.importorskip("mdtraj")


def fast(**overrides):
    return {**FAST, **overrides}


def test_villin_implicit_run_writes_a_complete_run_directory(villin_pdb, tmp_path):
    out = tmp_path / "villin"
    result = md_tools.run(
        villin_pdb, out=out, **fast(platform=None, ps=1.0, report_interval_ps=0.1, checkpoint_interval_ps=0.5)
    )

    assert isinstance(result, md_tools.MDRun)
    for name in (
        "run.json",
        "prepared.pdb",
        "system.xml",
        "trajectory.dcd",
        "state.csv",
        "checkpoint.chk",
        "final.pdb",
    ):
        assert (out / name).is_file(), name
    info = json.loads((out / "run.json").read_text())
    assert info["status"] == "finished"
    assert info["parameters"]["seed"] == 1234 and info["parameters"]["ps"] == 1.0
    assert {"openmm", "pdbfixer", "mdtraj", "python"} <= set(info["versions"])
    # Default platform order: CUDA, then OpenCL, then CPU; whatever ran is recorded.
    assert info["platform"]["name"] in ("CUDA", "OpenCL", "CPU")
    assert info["minimization"]["energy_after_kj_mol"] < info["minimization"]["energy_before_kj_mol"]

    # 1 ps at 2 fs with a frame every 0.1 ps = 10 frames and 10 CSV rows, nothing more.
    traj = result.trajectory()
    assert traj.n_frames == 10 == result.n_frames
    assert traj.n_atoms == 596
    np.testing.assert_allclose(traj.time, np.arange(1, 11) * 0.1)
    data = result.state_data()
    assert list(data["Step"]) == list(range(50, 550, 50))
    assert np.isfinite(data["Potential Energy (kJ/mole)"]).all()
    assert 100 < data["Temperature (K)"].mean() < 450
    final = mdtraj.load(str(out / "final.pdb"))
    np.testing.assert_allclose(final.xyz[0], traj.xyz[-1], atol=2e-3)  # PDB keeps 0.001 nm

    summary = result.summary()
    for expected in (
        "finished",
        "10 frames",
        "1 ps",
        "potential energy",
        "temperature mean",
        "ns/day",
        "trajectory.dcd",
    ):
        assert expected in summary, expected
    assert result._repr_markdown_().startswith("**MD run")


def test_explicit_solvent_fixes_solvates_and_runs_npt(villin_pdb, tmp_path):
    result = md_tools.run(
        villin_pdb,
        out=tmp_path / "water",
        **fast(solvent="explicit", padding_nm=0.6, ps=0.04, nvt_ps=0.02, npt_ps=0.02, minimize_max_iterations=100),
    )
    info = result.info
    assert info["forcefield_files"] == ["amber14-all.xml", "amber14/tip3p.xml"]
    assert info["system"]["n_waters"] > 500
    assert all(edge > 3.0 for edge in info["system"]["box_nm"])  # 0.6 nm padding around a ~2.5 nm protein
    traj = result.trajectory()
    assert traj.n_frames == 4 and traj.unitcell_lengths is not None
    residues = {r.name for r in traj.topology.residues}
    assert {"NA", "CL"} <= residues  # 0.15 M NaCl
    data = result.state_data()
    assert "Box Volume (nm^3)" in data.columns
    # Analysis reads the run without its water: same protein, far fewer atoms.
    from kenkyu.tools import analysis

    dry = analysis.load_trajectory(result)
    assert dry.n_atoms < traj.n_atoms / 5 and dry.topology.select("protein").size == 596
    assert len(analysis.rmsd(result)) == 4
    # The barostat is on in production: the box volume moves.
    assert data["Box Volume (nm^3)"].nunique() > 1 or info["steps"]["production"] < 25


def test_pdbfixer_adds_missing_atoms_hydrogens_and_replaces_nonstandard(villin_pdb, tmp_path):
    # Damage villin: drop all hydrogens and one side-chain atom, and turn MET 41 into selenomethionine.
    lines = []
    for line in villin_pdb.read_text().splitlines():
        if line.startswith("ATOM"):
            if line[76:78].strip() == "H" or (
                line[17:20] == "LYS" and line[12:16].strip() == "NZ" and line[22:26].strip() == "65"
            ):
                continue
            if line[17:20] == "MET" and line[22:26].strip() == "41":
                line = line[:17] + "MSE" + line[20:]
                if line[12:16].strip() == "SD":
                    line = line[:12] + " SE " + line[16:76] + "SE" + line[78:]
                line = "HETATM" + line[6:]
        lines.append(line)
    damaged = tmp_path / "damaged.pdb"
    damaged.write_text("\n".join(lines) + "\n")

    result = md_tools.run(damaged, out=tmp_path / "fixed", **fast(solvent="vacuum", ps=0.02, nvt_ps=0))
    fix = result.info["fix"]
    assert fix["missing_heavy_atoms_added"] == 2  # LYS 65 NZ, and MET 41 SD (pdbfixer drops MSE's SE)
    assert fix["hydrogens_added"] > 250
    assert any(entry.startswith("MSE") and entry.endswith("MET") for entry in fix["nonstandard_replaced"])
    top = mdtraj.load_topology(str(result.topology_path))
    assert top.n_atoms == 596  # back to the complete residue set of the original
    assert [r.name for r in top.residues][0] == "MET"
    assert "MSE41->MET" in result.summary()


def test_finished_run_is_never_silently_overwritten(villin_pdb, tmp_path):
    out = tmp_path / "run"
    first = md_tools.run(villin_pdb, out=out, **fast(ps=0.02, nvt_ps=0))
    mtime = first.trajectory_path.stat().st_mtime_ns

    with pytest.raises(md_tools.RunExistsError, match="resume=True.*overwrite=True"):
        md_tools.run(villin_pdb, out=out, **fast(ps=0.02, nvt_ps=0))
    again = md_tools.run(villin_pdb, out=out, resume=True, **fast(ps=0.02, nvt_ps=0))
    assert again.trajectory_path.stat().st_mtime_ns == mtime  # resuming a finished run changes nothing
    with pytest.raises(md_tools.ResumeError, match="temperature_k"):
        md_tools.run(villin_pdb, out=out, resume=True, **fast(ps=0.02, nvt_ps=0, temperature_k=310))

    fresh = md_tools.run(villin_pdb, out=out, overwrite=True, **fast(ps=0.02, nvt_ps=0, seed=99))
    assert fresh.info["parameters"]["seed"] == 99 and fresh.n_frames == 2


def test_xtc_trajectory(villin_pdb, tmp_path):
    result = md_tools.run(villin_pdb, out=tmp_path / "xtc", **fast(ps=0.03, nvt_ps=0, trajectory_format="xtc"))
    assert result.trajectory_path.name == "trajectory.xtc"
    assert result.trajectory().n_frames == 3


@pytest.mark.slow
def test_dhfr_implicit_short_run(dhfr_pdb, tmp_path):
    result = md_tools.run(
        dhfr_pdb,
        out=tmp_path / "dhfr",
        **fast(ps=0.1, nvt_ps=0, report_interval_ps=0.02, minimize_max_iterations=10),
    )
    assert result.info["system"]["n_atoms"] == 2489
    traj = result.trajectory()
    assert traj.n_frames == 5
    # A tenth of a picosecond barely moves a minimised protein: the C-alpha RMSD to the start stays small.
    start = mdtraj.load(str(result.topology_path))
    ca = traj.topology.select("name CA")
    assert mdtraj.rmsd(traj, start, 0, atom_indices=ca).max() < 0.15
    assert "2489 atoms" in result.summary()


# -- bad input ----------------------------------------------------------------------------------------


def test_missing_and_malformed_structure_files(tmp_path):
    with pytest.raises(md_tools.StructureError, match="does not exist"):
        md_tools.run(tmp_path / "nope.pdb", out=tmp_path / "a", **FAST)
    garbage = tmp_path / "garbage.pdb"
    garbage.write_text("ATOM      1  N   MET A   1      xx.xxx  yy.yyy  zz.zzz  1.00  0.00           N\n")
    with pytest.raises(md_tools.StructureError, match="garbage.pdb"):
        md_tools.run(garbage, out=tmp_path / "b", **FAST)
    empty = tmp_path / "empty.pdb"
    empty.write_text("REMARK nothing here\nEND\n")
    with pytest.raises(md_tools.StructureError, match="no atoms"):
        md_tools.run(empty, out=tmp_path / "c", **FAST)
    with pytest.raises(md_tools.StructureError, match="Cannot use a dict"):
        md_tools.run({"not": "a structure"}, out=tmp_path / "d", **FAST)


def test_unknown_residue_is_named_with_the_fix(villin_pdb, tmp_path):
    ligand = [
        # 4 nm from the protein: a ligand on top of it would be refused as overlapping atoms first.
        "HETATM  900  C1  XYZ B 100      45.000  45.000  45.000  1.00  0.00           C",
        "HETATM  901  C2  XYZ B 100      46.500  45.000  45.000  1.00  0.00           C",
        "HETATM  902  O1  XYZ B 100      47.200  46.100  45.000  1.00  0.00           O",
    ]
    kept = [line for line in villin_pdb.read_text().splitlines() if not line.startswith(("END", "MASTER"))]
    text = "\n".join(kept + ligand + ["END"]) + "\n"
    with_ligand = tmp_path / "ligand.pdb"
    with_ligand.write_text(text)
    with pytest.raises(md_tools.UnknownResidueError, match="XYZ") as info:
        md_tools.run(with_ligand, out=tmp_path / "keep", keep_heterogens=True, **fast(solvent="vacuum"))
    assert "keep_heterogens=False" in str(info.value)
    # The default removes it, and says so.
    result = md_tools.run(with_ligand, out=tmp_path / "drop", **fast(solvent="vacuum", ps=0.02, nvt_ps=0))
    assert result.info["fix"]["heterogens_removed"] == {"XYZ": 1}
    assert "1xXYZ" in result.summary()


def test_explicit_solvent_without_box_needs_solvate(villin_pdb, tmp_path):
    no_box = tmp_path / "nobox.pdb"
    no_box.write_text(
        "".join(line + "\n" for line in villin_pdb.read_text().splitlines() if not line.startswith("CRYST1"))
    )
    with pytest.raises(md_tools.MissingBoxError, match="solvate=True"):
        md_tools.run(no_box, out=tmp_path / "x", solvate=False, **fast(solvent="explicit"))


def test_nan_blow_up_stops_keeps_last_good_checkpoint_and_explains(villin_pdb, tmp_path):
    out = tmp_path / "boom"
    with pytest.raises(md_tools.SimulationUnstableError, match="timestep_fs") as info:
        md_tools.run(
            villin_pdb,
            out=out,
            **fast(
                solvent="vacuum",
                nvt_ps=0,
                ps=0.5,
                timestep_fs=8.0,
                report_interval_ps=0.04,
                checkpoint_interval_ps=0.2,
            ),
        )
    assert "last good checkpoint" in str(info.value)
    run_info = json.loads((out / "run.json").read_text())
    assert run_info["status"] == "failed" and "NaN" in run_info["error"]
    from kenkyu.tools.md import _files as _md_files

    header, _ = _md_files.read_checkpoint(out / "checkpoint.chk")
    assert np.isfinite(header["potential_energy_kj_mol"])


def test_full_disk_gives_a_clear_error(villin_pdb, tmp_path):
    if not os.path.exists("/dev/full"):
        pytest.skip("/dev/full (a device that always reports ENOSPC) is not available")
    out = tmp_path / "full"
    out.mkdir()
    # The trajectory file is the kernel's always-full device: every write fails with a real ENOSPC.
    (out / "trajectory.dcd").symlink_to("/dev/full")
    with pytest.raises(md_tools.DiskFullError, match="No space left.*resume=True"):
        md_tools.run(villin_pdb, out=out, **fast(nvt_ps=0))
    assert json.loads((out / "run.json").read_text())["status"] == "failed"


def test_dataflow_backend(villin_pdb, tmp_path):
    result = md_tools.run(
        villin_pdb, out=tmp_path / "df", backend="dataflow", **fast(solvent="vacuum", ps=0.02, nvt_ps=0)
    )
    assert result.info["parameters"]["backend"] == "dataflow"
    assert result.trajectory().n_frames == 2


def test_mmcif_and_in_memory_structures(villin_pdb, tmp_path):
    from openmm.app import PDBFile, PDBxFile

    pdb = PDBFile(str(villin_pdb))
    cif = tmp_path / "villin.cif"
    with open(cif, "w") as handle:
        PDBxFile.writeFile(pdb.topology, pdb.positions, handle, keepIds=True)
    options = fast(solvent="vacuum", ps=0.02, nvt_ps=0)
    from_cif = md_tools.run(cif, out=tmp_path / "cif", **options)
    from_openmm = md_tools.run(pdb, out=tmp_path / "openmm", **options)
    from_mdtraj = md_tools.run(mdtraj.load(str(villin_pdb)), out=tmp_path / "mdtraj", **options)
    for result in (from_cif, from_openmm, from_mdtraj):
        assert result.status == "finished" and result.info["system"]["n_atoms"] == 596
    assert from_openmm.info["fix"]["source"] == "PDBFile"
    assert from_mdtraj.info["structure"].endswith("Trajectory>")
