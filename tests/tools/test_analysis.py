"""Analysis tools checked against independent numpy calculations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from md_fixtures import FAST

mdtraj = pytest.importorskip("mdtraj")
analysis = pytest.importorskip("kenkyu.tools.analysis")
md_tools = pytest.importorskip("kenkyu.tools.md")

# NMR structures such as 1VII carry a dummy 1 A CRYST1 box, which mdtraj discards with a warning.
pytestmark = pytest.mark.filterwarnings("ignore:Unlikely unit cell vectors")


# -- independent references ----------------------------------------------------------------------------


def kabsch_aligned(mobile: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``mobile`` rotated and translated onto ``reference`` (least squares, no weights)."""
    mobile_centred = mobile - mobile.mean(axis=0)
    reference_centred = reference - reference.mean(axis=0)
    u, _, vt = np.linalg.svd(mobile_centred.T @ reference_centred)
    d = np.sign(np.linalg.det(u @ vt))
    rotation = u @ np.diag([1, 1, d]) @ vt
    return mobile_centred @ rotation + reference.mean(axis=0)


def random_rotation(rng) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q *= np.sign(np.diag(r))
    return q if np.linalg.det(q) > 0 else -q


@pytest.fixture(scope="module")
def wobbly_villin():
    """Villin with per-atom noise that grows along the chain, each frame randomly rotated and moved.

    The rigid motion must vanish after alignment; the noise is what RMSD and RMSF should see.
    """
    from kenkyu.tools.md import example_structure

    start = mdtraj.load(str(example_structure("villin")))
    rng = np.random.default_rng(42)
    n_frames = 12
    scale = np.array([0.01 + 0.05 * atom.residue.index / 35 for atom in start.topology.atoms])
    frames = []
    for _ in range(n_frames):
        noisy = start.xyz[0] + rng.normal(size=start.xyz[0].shape) * scale[:, None]
        frames.append(noisy @ random_rotation(rng).T + rng.normal(size=3))
    traj = mdtraj.Trajectory(np.array(frames, dtype=np.float32), start.topology, time=np.arange(n_frames) * 2.0)
    return traj


@pytest.fixture(scope="module")
def short_run(tmp_path_factory):
    from kenkyu.tools.md import example_structure

    out = tmp_path_factory.mktemp("analysis") / "villin"
    return md_tools.run(example_structure("villin"), out=out, **{**FAST, "ps": 0.1, "nvt_ps": 0})


# -- the checks ------------------------------------------------------------------------------------------


def test_rmsd_matches_kabsch(wobbly_villin):
    table = analysis.rmsd(wobbly_villin, selection="name CA", reference_frame=3)
    assert isinstance(table, pd.DataFrame) and list(table.columns) == ["frame", "time_ps", "rmsd_nm"]
    ca = wobbly_villin.topology.select("name CA")
    reference = wobbly_villin.xyz[3, ca].astype(float)
    expected = [
        np.sqrt(((kabsch_aligned(frame[ca].astype(float), reference) - reference) ** 2).sum(axis=1).mean())
        for frame in wobbly_villin.xyz
    ]
    np.testing.assert_allclose(table.rmsd_nm, expected, atol=2e-4)
    assert table.rmsd_nm[3] == pytest.approx(0, abs=1e-3)
    np.testing.assert_allclose(table.time_ps, np.arange(12) * 2.0)
    assert table.figure.axes[0].get_ylabel() == "RMSD (nm)"
    assert "mean" in table.summary()
    # Without alignment the random rigid motion dominates.
    raw = analysis.rmsd(wobbly_villin, selection="name CA", reference_frame=3, align=False)
    assert (raw.rmsd_nm.drop(3) > table.rmsd_nm.drop(3) * 3).all()


def test_rmsf_per_residue_matches_numpy(wobbly_villin):
    table = analysis.rmsf(wobbly_villin, selection="name CA")
    ca = wobbly_villin.topology.select("name CA")
    xyz = wobbly_villin.xyz[:, ca].astype(float)
    aligned = np.array([kabsch_aligned(frame, xyz[0]) for frame in xyz])
    expected = np.sqrt(((aligned - aligned.mean(axis=0)) ** 2).sum(axis=2).mean(axis=0))
    assert len(table) == 36 and (table.n_atoms == 1).all()
    np.testing.assert_allclose(table.rmsf_nm, expected, atol=1e-3)
    # Noise grows along the chain: the C-terminal residues must come out more mobile than the N-terminal ones.
    assert table.rmsf_nm.iloc[-5:].mean() > 2 * table.rmsf_nm.iloc[:5].mean()
    assert list(table.resSeq[:2]) == [41, 42] and table.residue[0] == "MET41"
    assert "most mobile" in table.summary()


def test_radius_of_gyration_matches_numpy(wobbly_villin):
    table = analysis.radius_of_gyration(wobbly_villin)
    masses = np.array([a.element.mass for a in wobbly_villin.topology.atoms])
    xyz = wobbly_villin.xyz.astype(float)
    centre = (xyz * masses[None, :, None]).sum(axis=1) / masses.sum()
    expected = np.sqrt((masses * ((xyz - centre[:, None]) ** 2).sum(axis=2)).sum(axis=1) / masses.sum())
    np.testing.assert_allclose(table.rg_nm, expected, rtol=1e-5)
    unweighted = analysis.radius_of_gyration(wobbly_villin, mass_weighted=False)
    np.testing.assert_allclose(unweighted.rg_nm, mdtraj.compute_rg(wobbly_villin), rtol=1e-5)


def test_distances_between_selections_and_indices(wobbly_villin):
    table = analysis.distances(wobbly_villin, [("resSeq 44 and name CA", "resSeq 72 and name CA"), (0, 10)])
    top = wobbly_villin.topology
    a, b = top.select("resSeq 44 and name CA")[0], top.select("resSeq 72 and name CA")[0]
    xyz = wobbly_villin.xyz.astype(float)
    first = table[table.pair == table.pair.unique()[0]]
    np.testing.assert_allclose(first.distance_nm, np.linalg.norm(xyz[:, a] - xyz[:, b], axis=1), rtol=1e-5)
    second = table[table.pair == "0 -- 10"]
    np.testing.assert_allclose(second.distance_nm, np.linalg.norm(xyz[:, 0] - xyz[:, 10], axis=1), rtol=1e-5)
    with pytest.raises(ValueError, match="matches no atoms"):
        analysis.distances(wobbly_villin, [("resSeq 999", "name CA")])


def test_contacts_match_brute_force_closest_heavy_atoms(wobbly_villin):
    table = analysis.contacts(wobbly_villin, cutoff_nm=0.45)
    traj = wobbly_villin
    heavy = {r.index: [a.index for a in r.atoms if a.element.symbol != "H"] for r in traj.topology.residues}
    for i, j in [(0, 3), (4, 8), (10, 30)]:
        d = np.array(
            [np.min(np.linalg.norm(frame[heavy[i]][:, None] - frame[heavy[j]][None], axis=2)) for frame in traj.xyz]
        )
        row = table[(table.residue_i == i) & (table.residue_j == j)].iloc[0]
        assert row.mean_distance_nm == pytest.approx(d.mean(), rel=1e-4)
        assert row.frequency == pytest.approx((d < 0.45).mean())
    assert (table.residue_j - table.residue_i >= 3).all()
    assert table.figure is not None


def test_hydrogen_bonds_frequencies_match_numpy_geometry(wobbly_villin):
    table = analysis.hydrogen_bonds(wobbly_villin, min_frequency=0.1)
    assert len(table) > 3  # villin's three helices
    xyz = wobbly_villin.xyz.astype(float)
    for row in table.head(5).itertuples():
        d, h, a = xyz[:, row.donor], xyz[:, row.hydrogen], xyz[:, row.acceptor]
        ha = np.linalg.norm(a - h, axis=1)
        v1, v2 = d - h, a - h
        angle = np.arccos((v1 * v2).sum(axis=1) / np.linalg.norm(v1, axis=1) / np.linalg.norm(v2, axis=1))
        assert row.frequency == pytest.approx(((ha < 0.25) & (angle > 2 * np.pi / 3)).mean())
        assert row.frequency >= 0.1
    assert table.frequency.is_monotonic_decreasing


def test_sasa_of_isolated_atoms_is_the_sphere_area():
    from mdtraj.core.element import carbon

    topology = mdtraj.Topology()
    residue = topology.add_residue("ALA", topology.add_chain())
    for name in ("C1", "C2"):
        topology.add_atom(name, carbon, residue)
    xyz = np.array([[[0, 0, 0], [5, 0, 0]], [[0, 0, 0], [0.3, 0, 0]]], dtype=np.float32)
    traj = mdtraj.Trajectory(xyz, topology)
    table = analysis.sasa(traj, selection="all")
    radius = 0.17 + 0.14  # carbon's van der Waals radius in mdtraj + water probe
    assert table.sasa_nm2[0] == pytest.approx(2 * 4 * np.pi * radius**2, rel=5e-3)
    assert table.sasa_nm2[1] < table.sasa_nm2[0]  # overlapping spheres bury area
    per_residue = analysis.sasa(traj, selection="all", per_residue=True)
    np.testing.assert_allclose(per_residue.sasa_nm2, table.sasa_nm2, rtol=1e-5)


def test_dssp_finds_villins_helices_from_the_pdb_header(villin_pdb):
    helices = set()
    for line in villin_pdb.read_text().splitlines():
        if line.startswith("HELIX"):
            helices.update(range(int(line[21:25]), int(line[33:37]) + 1))
    table = analysis.dssp(mdtraj.load(str(villin_pdb)))
    assert len(table) == 36 and set(table.code) <= {"H", "E", "C"}
    in_helix = table[table.resSeq.isin(helices)]
    assert (in_helix.code == "H").mean() > 0.8
    assert "helix" in table.summary()


def test_accepts_run_directory_mdrun_and_files(short_run, tmp_path):
    from_run = analysis.rmsd(short_run)
    from_dir = analysis.rmsd(str(short_run.directory))
    from_files = analysis.rmsd(short_run.trajectory_path, topology=short_run.topology_path)
    assert len(from_run) == 10
    np.testing.assert_allclose(from_run.rmsd_nm, from_dir.rmsd_nm)
    np.testing.assert_allclose(from_run.rmsd_nm, from_files.rmsd_nm)
    # The run's trajectory file alone: its folder's prepared.pdb is the topology, said in the summary (issue 13).
    alone = analysis.rmsd(short_run.trajectory_path)
    np.testing.assert_allclose(from_run.rmsd_nm, alone.rmsd_nm)
    assert f"topology: {short_run.topology_path} (from the run's folder)" in alone.summary()
    copy = tmp_path / "elsewhere.dcd"
    copy.write_bytes(short_run.trajectory_path.read_bytes())
    with pytest.raises(ValueError, match="topology="):
        analysis.rmsd(copy)
    html = from_run._repr_html_()
    assert html.count("<img") == 1 and "rmsd_nm" in html
    # Derived tables are plain DataFrames: the figure belongs to the whole table only.
    assert type(from_run[from_run.frame > 2]) is pd.DataFrame
