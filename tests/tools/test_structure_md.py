"""A prediction feeds the MD tools: predicted PDB -> pdbfixer (hydrogens, OXT) -> kenkyu.tools.md.run.

What this checks, honestly: a tiny random ESMFold gives garbage geometry (atoms kilometres apart after
minimisation), which no force field can simulate. So the MD run starts from villin's real heavy-atom
coordinates written by the *same* PDB writer fold() uses (openfold's atom37 layout, pLDDT in the
B-factor column, no hydrogens), and the tiny model's own output is only checked to go through the
fixing step. The network's geometry is not tested here; the file format and the hand-over are.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("openmm")
mdtraj = pytest.importorskip("mdtraj")

from kenkyu.tools import structure
from kenkyu.tools.structure._fold import write_prediction

# villin_1vii.pdb carries a dummy 1 Å CRYST1 record; mdtraj drops it and says so.
pytestmark = pytest.mark.filterwarnings("ignore:Unlikely unit cell vectors")


def _villin_as_a_prediction(villin_pdb, out_dir):
    """Villin's heavy atoms in ESMFold's atom37 arrays, written by fold()'s own writer."""
    from transformers.models.esm.openfold_utils import residue_constants as rc

    traj = mdtraj.load(str(villin_pdb))
    protein = traj.atom_slice(traj.topology.select("protein and not element H"))
    length = protein.n_residues
    aatype = np.array([rc.restype_order[rc.restype_3to1[r.name]] for r in protein.topology.residues])
    positions = np.zeros((length, 37, 3))
    mask = np.zeros((length, 37))
    for atom in protein.topology.atoms:
        slot = rc.atom_order[atom.name]
        positions[atom.residue.index, slot] = 10 * protein.xyz[0, atom.index]  # nm -> Å, as the model outputs
        mask[atom.residue.index, slot] = 1
    # ESMFold never predicts OXT; drop it so pdbfixer has to add it, as for a real prediction.
    mask[:, rc.atom_order["OXT"]] = 0
    plddt = np.tile(np.linspace(40, 95, length)[:, None], (1, 37))
    prediction = {
        "aatype": aatype,
        "atom_positions": positions,
        "atom_mask": mask,
        "plddt_atoms": plddt,
        "pae": np.zeros((length, length)),
    }
    return write_prediction(out_dir, "villin_prediction", prediction), protein


def test_predicted_pdb_is_fixed_and_simulated_with_kenkyu_md(villin_pdb, tmp_path):
    pdb_path, heavy = _villin_as_a_prediction(villin_pdb, tmp_path / "predictions")
    predicted = mdtraj.load(str(pdb_path))
    assert predicted.topology.select("element H").size == 0
    assert predicted.n_atoms == heavy.n_atoms - 1  # all heavy atoms but the C-terminal OXT

    fixed = structure.prepare_for_md(pdb_path)
    fixed_traj = mdtraj.load(str(fixed))
    assert fixed_traj.topology.select("element H").size > 250 and fixed_traj.topology.select("name OXT").size == 1

    run = structure.simulate_prediction(
        pdb_path,
        ps=0.04,
        out=tmp_path / "md",
        nvt_ps=0.02,
        report_interval_ps=0.01,
        minimize_max_iterations=50,
        platform="CPU",
        seed=7,
        progress=False,
    )
    assert run.status == "finished" and run.n_frames == 4
    assert run.info["parameters"]["nvt_ps"] == 0.02 and run.info["equilibration"]["nvt"] == "given"
    trajectory = run.trajectory()
    assert trajectory.n_residues == heavy.n_residues and np.isfinite(trajectory.xyz).all()
    # It is still villin: the C-alpha RMSD to the input after a few femtoseconds is small.
    ca = trajectory.topology.select("name CA")
    start = mdtraj.load(str(villin_pdb))
    rmsd = mdtraj.rmsd(trajectory, start, atom_indices=ca, ref_atom_indices=start.topology.select("name CA"))
    assert rmsd.max() < 0.1


def test_the_tiny_models_own_prediction_goes_through_fixing(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from tiny_esm import make_tiny_esmfold

    model = make_tiny_esmfold(tmp_path / "tiny")
    result = structure.fold("MKTAYIAKQRQISFVK", out=tmp_path / "out", model=str(model), progress=False)
    fixed = mdtraj.load(str(structure.prepare_for_md(result)))
    assert fixed.n_residues == 16 and fixed.topology.select("element H").size > 100


def test_a_prediction_run_equilibrates_by_md_runs_rule_unless_told(villin_pdb, tmp_path):  # noqa: F811
    """It used to pass nvt_ps=10 to md.run: a 4 ps run of a prediction simulated 14 ps. With no nvt_ps it
    follows md.run's default rule (half the production, at least 3 thermostat times: 3 ps here)."""
    from kenkyu.tools.md import _equilibration

    pdb_path, _ = _villin_as_a_prediction(villin_pdb, tmp_path / "predictions")
    run = structure.simulate_prediction(
        pdb_path, ps=4.0, out=tmp_path / "md", minimize_max_iterations=50, platform="CPU", seed=7, progress=False
    )
    info = run.info
    assert run.status == "finished" and run.n_frames == 4
    assert info["parameters"]["nvt_ps"] == 3.0 == _equilibration.default_nvt_ps(4.0)
    assert info["equilibration"]["nvt"].startswith("default: half the production within 3-10 ps")
    assert "after 3 ps NVT; NVT by default: half the production within 3-10 ps" in run.summary()
