"""kenkyu.tools.mutants: real pdbfixer swaps on villin, the refusal of a mismatched wild type, the bootstrap
over replicas and the verdict rules; one slow test simulates wild type and mutant for real (2 x 1 ps each) and
compares them with a tiny ESM-2 model of the real class in the torch hub cache."""

from __future__ import annotations

import shutil
import warnings

import mdtraj
import numpy as np
import pytest
from kenkyu.tools import md, mutants

VILLIN = md.example_structure("villin")  # 1VII, residues 41-76: MLSDEDFKAVFGMTRSAFANLPLWKQQNLKKEKGLF


def load(path):
    with warnings.catch_warnings():  # the NMR structure's dummy CRYST1 record
        warnings.simplefilter("ignore", UserWarning)
        return mdtraj.load(str(path))


def test_a_wild_type_that_does_not_match_is_refused_naming_both_residues_and_the_fix():
    # K24 in HP35 numbering, counted along the chain (it starts with Met41): position 24 is Trp64.
    with pytest.raises(mutants.MutationError) as caught:
        mutants.parse_mutations(VILLIN, ["K24A"], numbering="sequence")
    message = str(caught.value)
    assert "TRP 64 (W), not LYS (K)" in message
    assert "25 (PDB 65)" in message and "positions count 1-36 along the chain (file residues 41-76)" in message
    # By default a structure's positions are its residue numbers, as structure_variant_effects reads them.
    located = mutants.parse_mutations(VILLIN, "K65A and F76L")
    assert [(m.name, m.along_chain, m.resseq, m.residue) for m in located] == [
        ("K65A", "K25A", "65", "LYS 65 (chain A)"),
        ("F76L", "F36L", "76", "PHE 76 (chain A)"),
    ]
    assert located[0].counted == "PDB numbering; 25 along the chain"
    (along,) = mutants.parse_mutations(VILLIN, ["A:K25A"], numbering="sequence")
    assert (along.name, along.resseq, along.counted) == ("K25A", "65", "counted along the chain; PDB 65")
    with pytest.raises(mutants.MutationError, match="has no residue 25 .*41-76.*pass numbering='sequence'"):
        mutants.parse_mutations(VILLIN, ["K25A"])
    with pytest.raises(mutants.MutationError, match="has no residue 24 .*41-76"):
        mutants.parse_mutations(VILLIN, ["K24A"])
    with pytest.raises(mutants.MutationError, match="outside villin_1vii.pdb chain A \\(1-36"):
        mutants.parse_mutations(VILLIN, ["K99A"], numbering="sequence")
    with pytest.raises(mutants.MutationError, match="not in the form K65A"):
        mutants.parse_mutations(VILLIN, ["Lys25Ala"])
    with pytest.raises(mutants.MutationError, match="'B' is not one of the 20"):
        mutants.parse_mutations(VILLIN, ["K65B"])


def test_the_mutant_is_a_real_residue_swap_and_nothing_else_changes(tmp_path):
    built = mutants.build_mutants(VILLIN, ["K65A", "F76L"], out=tmp_path)
    said = "K65A (PDB numbering; 25 along the chain): LYS 65 (chain A) -> ALA, side chain rebuilt by pdbfixer (22 -> 10"
    assert said in built.summary()
    wild, mutant = load(VILLIN), load(built.paths["K65A"])
    assert mutant.topology.to_fasta() == ["MLSDEDFKAVFGMTRSAFANLPLWAQQNLKKEKGLF"]
    assert mutant.n_atoms == wild.n_atoms - 12  # Lys (22 atoms with H) became Ala (10)
    # Every other residue keeps its atoms where they were; the swapped one keeps its backbone.
    for w, m in zip(wild.topology.residues, mutant.topology.residues):
        heavy_w = {a.name: wild.xyz[0, a.index] for a in w.atoms if a.element.symbol != "H"}
        heavy_m = {a.name: mutant.xyz[0, a.index] for a in m.atoms if a.element.symbol != "H"}
        shared = ["N", "CA", "C", "O"] if w.resSeq == 65 else list(heavy_w)
        assert set(shared) <= set(heavy_m), w
        np.testing.assert_allclose([heavy_m[n] for n in shared], [heavy_w[n] for n in shared], atol=2e-3)
    assert [r.name for r in load(built.paths["F76L"]).topology.residues][-1] == "LEU"
    # Built again: the file is reused, and the summary still names the swap.
    again = mutants.build_mutants(VILLIN, ["K65A"], out=tmp_path)
    assert again.paths["K65A"] == built.paths["K65A"] and "22 -> 10 atoms" in again.summary()


def test_the_bootstrap_resamples_replicas_per_arm_and_is_reproducible():
    wild = np.array([0.10, 0.11, 0.09, 0.10])
    looser = np.array([0.15, 0.16, 0.14, 0.15])
    difference, low, high, above = mutants._bootstrap(looser, wild, seed=1)
    assert difference == pytest.approx(0.05) and 0.03 < low < 0.05 < high < 0.07 and above == 1.0
    assert mutants._bootstrap(looser, wild, seed=1)[1:3] == (low, high)  # the same seed, the same interval
    _, low, high, above = mutants._bootstrap(np.array([0.09, 0.12, 0.10, 0.11]), wild, seed=1)
    assert low < 0 < high and 0.3 < above < 1.0
    # Per residue at once (replicas x residues): one interval per column.
    d, lo, hi, _ = mutants._bootstrap(np.stack([looser, wild]).T, np.stack([wild, wild]).T, seed=2)
    assert d.shape == lo.shape == (2,) and lo[0] > 0 and d[1] == 0 and lo[1] < 0 < hi[1]  # the same arm twice
    # One replica: no spread to resample, no interval.
    assert np.isnan(mutants._bootstrap(looser[:1], wild, seed=1)[1])


@pytest.mark.parametrize(
    ("score", "ci", "ps", "replicas", "agreement", "because"),
    [
        (-2.0, (0.01, 0.03), 2000, 4, "agrees", "in 99% of bootstrap resamples"),
        (-2.0, (-0.03, -0.01), 2000, 4, "disagrees", "in 1% of bootstrap resamples"),
        (+1.0, (-0.03, -0.01), 2000, 4, "agrees", "in 99% of bootstrap resamples"),
        (-2.0, (-0.01, 0.02), 2000, 4, "inconclusive", "CI of the near-site delta RMSF includes zero"),
        (-2.0, (0.01, 0.03), 10, 4, "inconclusive", "10 ps per replica is far shorter than the ~1000 ps"),
        (-2.0, (0.01, 0.03), 2000, 2, "inconclusive", "2 replica(s) per arm is too few"),
    ],
)
def test_the_verdict_says_whether_md_agrees_and_when_the_evidence_is_too_thin(
    score, ci, ps, replicas, agreement, because
):
    above = 0.99 if ci[0] > 0 else 0.01 if ci[1] < 0 else 0.6
    result, _, why = mutants.verdict(score, *ci, above, ps, replicas)
    assert result == agreement and because in why


def test_an_unreachable_scheduler_is_named_with_the_fix(tmp_path):
    from kenkyu.tools.ensembles import EnsembleError

    with pytest.raises(EnsembleError, match="Could not reach the Dask scheduler at tcp://127.0.0.1:9"):
        mutants.simulate_mutants(VILLIN, ["K65A"], out=tmp_path / "runs", ps=1, scheduler="tcp://127.0.0.1:9")
    assert (tmp_path / "runs" / "structures" / "villin_1vii_K65A.pdb").is_file()  # built before any run


@pytest.fixture
def tiny_esm2_in_hub_cache(monkeypatch, tmp_path):
    """A tiny random ESM-2 of the real class under the default name, where fair-esm caches real weights."""
    pytest.importorskip("esm")
    from kenkyu.tools.structure import DEFAULT_ESM2_MODEL
    from kenkyu.tools.structure._models import clear_model_cache
    from tiny_esm import make_tiny_esm2

    checkpoints = tmp_path / "torch_home" / "hub" / "checkpoints"
    model = make_tiny_esm2(tmp_path / "esm2" / f"{DEFAULT_ESM2_MODEL}.pt")
    checkpoints.mkdir(parents=True)
    shutil.copy(model, checkpoints)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("KENKYU_MODELS", raising=False)
    clear_model_cache()
    yield
    clear_model_cache()


@pytest.mark.slow
def test_wild_type_and_mutant_simulated_in_replicas_and_compared_near_the_site(
    tmp_path, monkeypatch, tiny_esm2_in_hub_cache
):
    monkeypatch.chdir(tmp_path)
    options = {"nvt_ps": 0, "report_interval_ps": 0.1, "minimize_max_iterations": 50}
    runs = mutants.simulate_mutants(VILLIN, ["K65A"], replicas=2, ps=1, md_options=options, seed=5, progress=False)
    assert runs.directory.as_posix() == "mutant_runs/villin_1vii"
    assert "K65A (PDB numbering; 25 along the chain): LYS 65 (chain A) -> ALA (pdbfixer): 2 of 2" in runs.summary()
    wild_seeds = [m.info["parameters"]["seed"] for m in runs.ensembles["wild_type"].finished]
    assert wild_seeds == [m.info["parameters"]["seed"] for m in runs.ensembles["K65A"].finished] == [5, 6]

    effect = mutants.compare_to_wild_type("mutant_runs/villin_1vii", progress=False)
    row = effect.verdicts.iloc[0]
    assert (row.mutation, row.site, row.replicas, row.ps_per_replica) == ("K65A", "LYS 65 (chain A)", 2, 1.0)
    assert np.isfinite(row.esm_score) and row.lm_prediction == ("destabilising" if row.esm_score < 0 else "tolerated")
    assert row.ci_low_nm <= row.delta_rmsf_nm <= row.ci_high_nm
    # 1 ps and 2 replicas cannot decide, whatever the numbers: the verdict says why.
    assert row.agreement == "inconclusive" and "far shorter" in row.why and "too few" in row.why
    # The near-site RMSF difference is the mean over those residues of the per-residue differences.
    near = effect.per_residue[effect.per_residue.near_site]
    assert 3 < len(near) == row.near_site < 36 and 24 in near.residue_index.tolist()
    assert near.delta_rmsf_nm.mean() == pytest.approx(row.delta_rmsf_nm, abs=1e-6)
    assert set(effect.table.metric) == {m for m, _ in mutants.METRICS}
    summary = effect.summary()
    assert summary.startswith("K65A: INCONCLUSIVE — ESM-2 score") and "replicas, resampled per arm" in summary
    assert len(effect.figure.axes) == 1 and "<img" in effect._repr_html_()
    # Its checks: too short and too few warn; nothing is claimed.
    from kenkyu.assistant.checks import check_results

    report = check_results({"mutants_compare_to_wild_type": effect}, protocol="mutation-effect")
    resolved = "pass" if row.ci_low_nm > 0 or row.ci_high_nm < 0 else "warn"
    assert [c.status for c in report.checks] == ["warn", "warn", resolved, "warn"]
    # Calling again reuses every finished replica (no new cluster, the same numbers).
    again = mutants.simulate_mutants(VILLIN, ["K65A"], replicas=2, ps=1, md_options=options, seed=5, progress=False)
    assert again.spec == runs.spec
    assert mutants.compare_to_wild_type(again, progress=False).summary() == summary
