"""ESM-2 embeddings, ESMFold and the contact map read the sequence from a structure, as variant_effects does
(round 10): "embed villin_1vii.pdb", "fold the sequence of md_runs/villin_1vii_implicit", or the MDRun itself.

Real OpenMM reading of the shipped villin (1VII chain A, residues 41-76) and of a real short MD run's folder; the
tiny random ESM-2 and ESMFold of tests/tiny_esm.py (their numbers are meaningless, the plumbing real).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("esm")
pytest.importorskip("transformers")

from kenkyu.core.science import science_of
from kenkyu.tools import md, structure
from md_fixtures import FAST
from tiny_esm import in_torch_hub_cache, make_tiny_esm2, make_tiny_esmfold

pytestmark = pytest.mark.filterwarnings("ignore:Unlikely unit cell vectors")

ESM2 = "esm2_t6_8M_UR50D"
VILLIN = "MLSDEDFKAVFGMTRSAFANLPLWKQQNLKKEKGLF"  # 1VII chain A, residues 41-76
FROM_VILLIN = "villin_1vii.pdb, chain A, 36 residues read from the file; positions count 1-36 along the chain"


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    return make_tiny_esm2(root / f"{ESM2}.pt"), make_tiny_esmfold(root / "tiny_esmfold")


@pytest.fixture(autouse=True)
def hub_cache(monkeypatch, tmp_path, models):
    from kenkyu.tools.structure._models import clear_model_cache

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    in_torch_hub_cache(monkeypatch, tmp_path / "torch_home", models[0])
    clear_model_cache()
    yield
    clear_model_cache()


@pytest.fixture(scope="module")
def villin_run(tmp_path_factory):
    return md.run(md.example_structure("villin"), out=tmp_path_factory.mktemp("runs") / "villin", **FAST)


def test_embeddings_of_a_structure_a_run_folder_and_an_mdrun_are_those_of_its_sequence(villin_run):
    villin = md.example_structure("villin")
    typed = structure.embed(VILLIN, model=ESM2, progress=False)
    for source in (villin, str(villin), villin_run.directory, villin_run):
        read = structure.embed(source, model=ESM2, progress=False)
        (name,) = read.names
        assert read.sequences == [VILLIN] and read.per_residue[name].shape[0] == 36
        np.testing.assert_allclose(read.mean, typed.mean, atol=1e-5)
        assert "sequence from" in read.summary() and "36 residues read from the file" in read.summary()
    assert structure.embed(villin, model=ESM2, progress=False).names == ["villin_1vii_A"]
    # A run folder's sequence is named for the run, and said to come from the structure it simulated.
    run_read = structure.embed(villin_run, model=ESM2, progress=False)
    assert run_read.names == ["villin_A"] and "sequence from villin/prepared.pdb, chain A" in run_read.summary()
    assert FROM_VILLIN in structure.embed(villin, model=ESM2, progress=False).summary()
    # A structure beside a typed sequence: both embedded, each under its own name.
    both = structure.embed([villin, "MKTAYIAKQR"], model=ESM2, progress=False)
    assert both.names == ["villin_1vii_A", "seq2"] and both.sequences == [VILLIN, "MKTAYIAKQR"]
    # chain= picks a chain of a structure; given with sequences alone, it is named as the mistake it is.
    assert structure.embed(villin, chain="A", model=ESM2, progress=False).sequences == [VILLIN]
    with pytest.raises(structure.InvalidSequenceError, match="no protein chain 'B'"):
        structure.embed(villin, chain="B", model=ESM2, progress=False)
    with pytest.raises(structure.InvalidSequenceError, match="picks a chain of a structure file"):
        structure.embed("MKTAYIAKQR", chain="A", model=ESM2, progress=False)


def test_a_prediction_of_a_structures_sequence_says_where_it_came_from(models, tmp_path):
    villin = md.example_structure("villin")
    # The approval card names the file the prediction will write, before anything runs.
    steps = science_of(structure.fold).cost({"sequences": str(villin), "out": str(tmp_path)}, measure=False).steps
    assert steps == (
        f"write {tmp_path / 'villin_1vii_A'}.pdb (pLDDT in the B-factor column), villin_1vii_A_pae.npy, "
        "villin_1vii_A.json",
    )
    result = structure.fold(villin, out=tmp_path, model=str(models[1]), progress=False)
    assert result.name == "villin_1vii_A" and result.sequence == VILLIN
    assert f"Sequence from {FROM_VILLIN}" in result.summary()
    assert json.loads(result.pdb_path.with_suffix(".json").read_text())["read_from"].startswith("villin_1vii.pdb")


def test_the_contact_map_of_a_structure_says_how_its_positions_count():
    contacts = structure.contact_map(md.example_structure("villin"), model=ESM2)
    assert contacts.sequence == VILLIN and f"Sequence from {FROM_VILLIN}" in contacts.summary()
