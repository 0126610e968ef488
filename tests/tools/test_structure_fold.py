"""ESMFold end to end with a tiny random EsmForProteinFolding saved and reloaded by path.

The tiny model's structures are garbage; what is checked is everything around the network: the PDB
(parsed by mdtraj), pLDDT/PAE shapes and ranges, recycling, trunk chunking, the memory check, plots,
the 3D view, batches and the CLI.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
mdtraj = pytest.importorskip("mdtraj")

from kenkyu.tools.structure import _fold as folding
from kenkyu.tools import structure
from tiny_esm import make_tiny_esmfold

SEQUENCE = "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQ"


@pytest.fixture(scope="module")
def tiny_fold(tmp_path_factory):
    return make_tiny_esmfold(tmp_path_factory.mktemp("models") / "tiny_esmfold")


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def test_fold_writes_a_pdb_mdtraj_reads_with_plddt_ptm_and_pae(tiny_fold, tmp_path):
    result = structure.fold(SEQUENCE.lower(), out=tmp_path, model=str(tiny_fold), progress=False)
    length = len(SEQUENCE)
    assert result.sequence == SEQUENCE
    assert result.plddt.shape == (length,) and result.pae.shape == (length, length)
    assert np.all((result.plddt >= 0) & (result.plddt <= 100)) and 0 <= result.ptm <= 1
    assert np.all(result.pae >= 0) and np.isfinite(result.pae).all()

    traj = mdtraj.load(str(result.pdb_path))
    assert traj.n_residues == length
    assert "".join(r.code for r in traj.topology.residues) == SEQUENCE
    assert traj.topology.select("element H").size == 0  # ESMFold writes heavy atoms only
    assert np.isfinite(traj.xyz).all()
    # pLDDT (0-100, C-alpha value per residue) is in the B-factor column.
    ca_bfactors = [
        float(line[60:66])
        for line in result.pdb_path.read_text().splitlines()
        if line.startswith("ATOM") and line[12:16].strip() == "CA"
    ]
    np.testing.assert_allclose(ca_bfactors, result.plddt, atol=0.01)
    np.testing.assert_allclose(np.load(result.pae_path), result.pae)
    record = json.loads(result.pdb_path.with_suffix(".json").read_text())
    assert record["sequence"] == SEQUENCE and record["ptm"] == pytest.approx(result.ptm)

    summary = result.summary()
    assert f"mean pLDDT {result.mean_plddt:.1f}" in summary and f"pTM {result.ptm:.3f}" in summary
    assert str(result.pdb_path) in summary
    html = result._repr_html_()
    assert html.count("<img") == 1 and "mean pLDDT" in html
    assert len(result.figure.axes) == 3  # pLDDT, PAE and its colour bar


def test_default_recycles_give_what_transformers_own_infer_gives(tiny_fold, tmp_path):
    from kenkyu.tools.structure._models import load_fold_model

    two_passes = make_tiny_esmfold(tmp_path / "two_passes", max_recycles=2)
    network, _ = load_fold_model(two_passes, device="cpu")
    result = structure.fold(SEQUENCE, out=tmp_path, model=str(two_passes), progress=False)
    assert result.num_recycles == 1  # max_recycles=2 means two trunk passes: one recycle
    with torch.no_grad():
        reference = network.infer(SEQUENCE)
    np.testing.assert_allclose(result.pae, reference["predicted_aligned_error"][0].numpy(), atol=1e-5)
    assert result.ptm == pytest.approx(float(reference["ptm"]), abs=1e-6)
    np.testing.assert_allclose(result.plddt, 100 * reference["plddt"][0, :, 1].numpy(), atol=1e-4)
    once = structure.fold(SEQUENCE, out=tmp_path / "once", model=str(two_passes), num_recycles=0, progress=False)
    assert not np.allclose(once.pae, result.pae)  # the recycle really ran


def test_recycles_default_to_the_config_and_zero_recycles_work(tmp_path):
    # transformers crashes when max_recycles=0 is left to the config; kenkyu passes it explicitly.
    zero = make_tiny_esmfold(tmp_path / "zero_recycles", max_recycles=0)
    result = structure.fold("MKTAYIAK", out=tmp_path / "out", model=str(zero), progress=False)
    assert result.num_recycles == 0 and np.isfinite(result.pae).all()
    with pytest.raises(ValueError, match="0 or more"):
        structure.fold("MKTAYIAK", out=tmp_path / "out", model=str(zero), num_recycles=-1, progress=False)


def test_memory_plan_chunks_the_trunk_and_refuses_what_cannot_fit(tiny_fold, tmp_path):
    from kenkyu.tools.structure._models import load_fold_model

    network, _ = load_fold_model(tiny_fold, device="cpu")
    trunk = network.config.esmfold_config.trunk
    length = len(SEQUENCE)
    # A budget that fits a chunk of 8 rows but not the unchunked trunk: the plan picks chunk 8.
    budget_gb = folding.estimate_fold_memory(length, trunk, 8, lm_heads=4) / folding.MEMORY_HEADROOM / 1024**3
    assert folding.plan_memory(network, length, "cpu", "auto", budget_gb).chunk_size == 8
    assert folding.plan_memory(network, length, "cpu", "auto", 1.0).chunk_size is None

    chunked = structure.fold(
        SEQUENCE, out=tmp_path / "chunked", model=str(tiny_fold), max_memory_gb=budget_gb, progress=False
    )
    whole = structure.fold(SEQUENCE, out=tmp_path / "whole", model=str(tiny_fold), chunk_size=None, progress=False)
    assert chunked.chunk_size == 8 and whole.chunk_size is None
    # Chunking changes how the trunk is computed, not what: same prediction within float round-off.
    np.testing.assert_allclose(chunked.pae, whole.pae, atol=1e-3)
    np.testing.assert_allclose(mdtraj.load(str(chunked.pdb_path)).xyz, mdtraj.load(str(whole.pdb_path)).xyz, atol=1e-3)

    with pytest.raises(structure.FoldMemoryError, match=f"Folding {length} residues needs about") as info:
        structure.fold(SEQUENCE, out=tmp_path / "none", model=str(tiny_fold), max_memory_gb=1e-6, progress=False)
    assert "smallest trunk chunk" in str(info.value) and "domains separately" in str(info.value)
    assert not (tmp_path / "none").exists()  # refused before anything ran


def test_memory_estimate_for_the_real_model_size():
    from transformers.models.esm.configuration_esm import TrunkConfig

    real_trunk = TrunkConfig()  # esmfold_v1's trunk: c_z=128, 4 pair heads
    gib = 1024**3
    unchunked = folding.estimate_fold_memory(1000, real_trunk, None, lm_heads=40) / gib
    chunked = folding.estimate_fold_memory(1000, real_trunk, 64, lm_heads=40) / gib
    assert 30 < unchunked < 50 and 5 < chunked < 10  # L^3 attention dominates until the trunk is chunked
    assert folding.estimate_fold_memory(2000, real_trunk, 64) > 3.5 * folding.estimate_fold_memory(1000, real_trunk, 64)


def test_a_batch_gives_one_prediction_per_record_and_a_table(tiny_fold, tmp_path):
    fasta = tmp_path / "two.fasta"
    fasta.write_text(">short\nMKTAYIAK\n>long\nMKTAYIAKQRQISFVK\n")
    batch = structure.fold(fasta, out=tmp_path / "out", model=str(tiny_fold), progress=False)
    assert isinstance(batch, structure.FoldBatch) and [r.name for r in batch] == ["short", "long"]
    assert [r.plddt.shape for r in batch] == [(8,), (16,)]
    table = batch.table()
    assert list(table.name) == ["short", "long"] and (tmp_path / "out" / "long.pdb").is_file()
    assert "2 ESMFold predictions" in batch.summary() and "<img" in batch._repr_html_()


def test_invalid_input_is_refused_before_loading_anything(tmp_path):
    with pytest.raises(structure.InvalidSequenceError, match="position 3"):
        structure.fold("MK?TA", out=tmp_path, model=str(tmp_path / "no_model"))
    with pytest.raises(structure.ModelNotFoundError, match="hf download"):
        structure.fold("MKTA", out=tmp_path, model=str(tmp_path / "no_model"))


def test_view_is_coloured_by_plddt_on_the_colabfold_scale(tiny_fold, tmp_path):
    pytest.importorskip("nglview")
    result = structure.fold(SEQUENCE, out=tmp_path, model=str(tiny_fold), progress=False)
    for source in (result, result.pdb_path):  # a fold() result by hand, or the PDB path the agent passes
        box = structure.show_prediction(source)
        cartoon = box.view.representations[0]["params"]
        assert cartoon["colorScheme"] == "bfactor" and cartoon["colorDomain"] == [50.0, 90.0]
        assert "50" in box.children[1].value and "90" in box.children[1].value  # the legend
        assert "ColabFold" in box.summary() and f"{len(SEQUENCE)} residues" in box.summary()


def test_cli_fold_writes_pdbs_and_reports_errors(tiny_fold, tmp_path, capsys):
    from kenkyu.tools.structure import cli as structure_cli

    assert (
        structure_cli.main(
            [
                "fold",
                SEQUENCE,
                "--out",
                str(tmp_path / "cli"),
                "--model",
                str(tiny_fold),
                "--num-recycles",
                "0",
                "--no-progress",
            ]
        )
        == 0
    )
    assert "mean pLDDT" in capsys.readouterr().out and (tmp_path / "cli" / "seq1.pdb").is_file()
    assert structure_cli.main(["fold", "MKXZ", "--out", str(tmp_path / "cli"), "--model", str(tiny_fold)]) == 2
    assert "position 4" in capsys.readouterr().err
