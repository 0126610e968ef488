"""ESM-2 tools end to end with a tiny random fair-esm ESM2 loaded from the torch hub cache layout."""

from __future__ import annotations


import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("esm")

from kenkyu.tools import structure
from kenkyu.tools.structure._esm2 import AMINO_ACIDS
from tiny_esm import in_torch_hub_cache, make_tiny_esm2

SEQUENCE = "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRV"
MODEL = "esm2_t6_8M_UR50D"  # the name the files get in the hub cache; the weights are tiny and random


@pytest.fixture(scope="module")
def tiny_esm2(tmp_path_factory):
    return make_tiny_esm2(tmp_path_factory.mktemp("esm2") / f"{MODEL}.pt")


@pytest.fixture(autouse=True)
def hub_cache(monkeypatch, tmp_path, tiny_esm2):
    """$TORCH_HOME/hub/checkpoints holds the checkpoint and its contact regression, as fair-esm caches them."""
    from kenkyu.tools.structure._models import clear_model_cache

    checkpoints = in_torch_hub_cache(monkeypatch, tmp_path / "torch_home", tiny_esm2)
    clear_model_cache()
    yield checkpoints
    clear_model_cache()


def test_embeddings_per_residue_and_mean(tiny_esm2):
    sequences = {"a": SEQUENCE[:12], "b": SEQUENCE}
    result = structure.embed(sequences, model=MODEL, batch_size=1, progress=False)
    assert result.names == ["a", "b"] and result.layer == 2
    assert result.per_residue["a"].shape == (12, 32) and result.per_residue["b"].shape == (len(SEQUENCE), 32)
    np.testing.assert_allclose(result.mean[1], result.per_residue["b"].mean(axis=0), rtol=1e-6)
    # Padding in a batch must not change a sequence's embedding (BOS/EOS and pad tokens are cut off).
    batched = structure.embed(sequences, model=MODEL, batch_size=2, progress=False)
    np.testing.assert_allclose(batched.per_residue["a"], result.per_residue["a"], atol=1e-4)
    first_layer = structure.embed(SEQUENCE, model=MODEL, layer=0, progress=False)
    assert first_layer.layer == 0 and not np.allclose(first_layer.mean, result.mean[1])
    assert list(result.table().index) == ["a", "b"] and "dimension 32" in result.summary()
    with pytest.raises(ValueError, match="layer must be between"):
        structure.embed(SEQUENCE, model=MODEL, layer=5, progress=False)


def test_contact_map_is_symmetric_with_top_long_range_contacts():
    contacts = structure.contact_map(SEQUENCE, model=MODEL)
    p = contacts.probabilities
    length = len(SEQUENCE)
    assert p.shape == (length, length) and np.allclose(p, p.T) and ((p >= 0) & (p <= 1)).all()
    top = contacts.top_contacts
    assert len(top) == length // 5 and (top.separation >= 24).all()
    assert list(top.probability) == sorted(top.probability, reverse=True)
    i, j = np.triu_indices(length, k=24)
    assert top.probability.iloc[0] == pytest.approx(p[i, j].max())  # really the most probable long-range pair
    assert all(SEQUENCE[r.i - 1] == r.residue_i for r in top.itertuples())
    assert f"top {length // 5} (L/5)" in contacts.summary() and "<img" in contacts._repr_html_()


def test_contact_map_without_regression_weights_says_what_is_missing(hub_cache):
    (hub_cache / f"{MODEL}-contact-regression.pt").unlink()
    with pytest.raises(structure.ModelNotFoundError, match="contact-regression.pt"):
        structure.contact_map(SEQUENCE, model=MODEL)
    assert structure.embed(SEQUENCE, model=MODEL, progress=False).mean.shape == (1, 32)


def _log_probability(network, alphabet, sequence, position, residue):
    """Reference masked marginal, computed directly with fair-esm for one position."""
    tokens = alphabet.get_batch_converter()([("x", sequence)])[2]
    tokens[0, position] = alphabet.mask_idx  # BOS at 0, so residue k (1-based) is token k
    with torch.no_grad():
        logits = network(tokens)["logits"][0, position]
    return float(torch.log_softmax(logits, -1)[alphabet.get_idx(residue)])


def test_variant_effects_match_a_direct_masked_marginal_computation():
    from kenkyu.tools.structure._models import load_esm2_model

    scores = structure.variant_effects(SEQUENCE, ["K2A", "t3p", "K8A"], model=MODEL, batch_size=2)
    assert list(scores.mutation) == ["K2A", "T3P", "K8A"] and np.isfinite(scores.score).all()
    (network, alphabet), _ = load_esm2_model(MODEL, device="cpu")
    expected = _log_probability(network, alphabet, SEQUENCE, 3, "P") - _log_probability(
        network, alphabet, SEQUENCE, 3, "T"
    )
    assert scores.score.iloc[1] == pytest.approx(expected, abs=1e-4)
    assert "most deleterious" in scores.summary()

    with pytest.raises(structure.InvalidSequenceError, match="has M at position 1, not A"):
        structure.variant_effects(SEQUENCE, ["A1G"], model=MODEL)
    with pytest.raises(structure.InvalidSequenceError, match="outside the sequence"):
        structure.variant_effects(SEQUENCE, ["M99G"], model=MODEL)
    with pytest.raises(structure.InvalidSequenceError, match="form A12G"):
        structure.variant_effects(SEQUENCE, ["M1"], model=MODEL)


def test_mutational_scan_covers_every_substitution_and_agrees_with_single_scores():
    sequence = SEQUENCE[:15]
    scan = structure.mutational_scan(sequence, model=MODEL, batch_size=4, progress=False)
    assert len(scan) == 19 * len(sequence) and np.isfinite(scan.score).all()
    assert scan.matrix.shape == (20, len(sequence))
    wild_rows = [AMINO_ACIDS.index(residue) for residue in sequence]
    np.testing.assert_allclose(scan.matrix[wild_rows, range(len(sequence))], 0.0)  # wild type scores 0
    single = structure.variant_effects(sequence, ["I6W"], model=MODEL)
    assert scan.set_index("mutation").score["I6W"] == pytest.approx(single.score.iloc[0], abs=1e-4)
    assert scan.figure is not None and "<img" in scan._repr_html_()

    part = structure.mutational_scan(sequence, model=MODEL, positions=[2, 5], progress=False)
    assert sorted(set(part.position)) == [2, 5] and np.isnan(part.matrix[:, 0]).all()
    with pytest.raises(structure.InvalidSequenceError, match="several|2 records"):
        structure.mutational_scan(">a\nMK\n>b\nMK\n", model=MODEL)
