"""One "K65A" means one residue in every mutation tool (closing r10): build_mutants counted along the chain while
structure_variant_effects read the file's residue numbers, so on villin (1VII, numbered 41-76) the same words
named different residues. Both now read a structure's numbers by default, through one chain reader, and say which
numbering they used. Real pdbfixer swap, real OpenMM reading, the tiny random ESM-2 of tests/tiny_esm.py.
"""

from __future__ import annotations

import mdtraj
import pytest

pytest.importorskip("torch")
pytest.importorskip("esm")

from kenkyu.tools import mutants, structure
from kenkyu.tools.md import example_structure
from tiny_esm import in_torch_hub_cache, make_tiny_esm2

pytestmark = pytest.mark.filterwarnings("ignore:Unlikely unit cell vectors")

MODEL = "esm2_t6_8M_UR50D"


@pytest.fixture(autouse=True)
def tiny_esm2(monkeypatch, tmp_path):
    from kenkyu.tools.structure._models import clear_model_cache

    in_torch_hub_cache(monkeypatch, tmp_path / "torch_home", make_tiny_esm2(tmp_path / "esm2" / f"{MODEL}.pt"))
    clear_model_cache()
    yield
    clear_model_cache()


def test_k65a_is_lys65_in_the_mutant_builder_and_the_esm_scores(tmp_path):
    villin = example_structure("villin")
    scores = structure.variant_effects(villin, ["K65A"], model=MODEL)
    built = mutants.build_mutants(villin, ["K65A"], out=tmp_path)

    # The same residue: the file's Lys65, 25th along the chain, in both results.
    assert list(scores.residue) == ["65"] and list(scores.position) == [25] and list(scores.mutation) == ["K65A"]
    (made,) = built.mutations
    assert (made.resseq, made.position, made.name) == ("65", 25, "K65A")
    swapped = [r for r in mdtraj.load(str(built.paths["K65A"])).topology.residues if r.resSeq == 65]
    assert [r.name for r in swapped] == ["ALA"]
    # Each says which numbering it used.
    assert "positions are the file's residue numbers, 41-76" in scores.summary()
    assert "K65A (PDB numbering; 25 along the chain): LYS 65 (chain A) -> ALA" in built.summary()

    # Counted along the chain on purpose, both tools agree again, and say so.
    along = structure.variant_effects(villin, ["K25A"], model=MODEL, numbering="sequence")
    (counted,) = mutants.parse_mutations(villin, ["K25A"], numbering="sequence")
    assert list(along.residue) == [counted.resseq] == ["65"]
    assert along.score.iloc[0] == pytest.approx(scores.score.iloc[0])
    assert "positions count 1-36 along the chain" in along.summary() and counted.counted.startswith("counted along")

    # One reader: the mutant tools read the chain exactly as the ESM-2 tools do (the same sequence, gaps as X).
    assert mutants.chain_sequence(villin) == structure._from_structure.read_chain(villin).sequence


def test_a_number_only_the_other_numbering_has_is_refused_with_the_fix_in_both(tmp_path):
    villin = example_structure("villin")
    with pytest.raises(mutants.MutationError) as built:
        mutants.build_mutants(villin, ["K25A"], out=tmp_path / "mutants")
    with pytest.raises(structure.InvalidSequenceError) as scored:
        structure.variant_effects(villin, ["K25A"], model=MODEL)
    for refused in (built, scored):
        assert "has no residue 25 (positions are the file's residue numbers, 41-76)" in str(refused.value)
        assert "position 25 is K (file residue 65): pass numbering='sequence'" in str(refused.value)
    assert not (tmp_path / "mutants").exists()  # nothing built
