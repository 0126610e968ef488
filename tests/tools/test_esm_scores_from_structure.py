"""ESM-2 tools read the wild-type sequence from a structure: "score G121V on the sequence of 5dfr_minimized.pdb".

The shipped DHFR (5DFR, numbered 1-159, no chain id) and villin (1VII chain A, numbered 41-76) structures, read
with OpenMM; the tiny random fair-esm ESM-2 of tests/tiny_esm.py (its scores are meaningless, the plumbing real).
"""

from __future__ import annotations

import json
import shutil

import pytest

pytest.importorskip("torch")
pytest.importorskip("esm")

from kenkyu.tools import structure
from kenkyu.tools.md import example_structure
from kenkyu.tools.structure._from_structure import read_chain
from tiny_esm import in_torch_hub_cache, make_tiny_esm2

MODEL = "esm2_t6_8M_UR50D"  # the name the files get in the hub cache; the weights are tiny and random
VILLIN = "MLSDEDFKAVFGMTRSAFANLPLWKQQNLKKEKGLF"  # 1VII chain A, residues 41-76


@pytest.fixture(scope="module")
def tiny_esm2(tmp_path_factory):
    return make_tiny_esm2(tmp_path_factory.mktemp("esm2") / f"{MODEL}.pt")


@pytest.fixture(autouse=True)
def hub_cache(monkeypatch, tmp_path, tiny_esm2):
    from kenkyu.tools.structure._models import clear_model_cache

    in_torch_hub_cache(monkeypatch, tmp_path / "torch_home", tiny_esm2)
    clear_model_cache()
    yield
    clear_model_cache()


def _score(table, mutation):
    return float(table.set_index("mutation").score[mutation])


def test_g121v_on_the_sequence_of_the_dhfr_file():
    dhfr = example_structure("dhfr")
    scores = structure.variant_effects(str(dhfr), ["G121V"], model=MODEL)
    read = read_chain(dhfr)
    assert len(read.sequence) == 159 and read.sequence[120] == "G" and not read.notes
    assert list(scores.mutation) == ["G121V"] and list(scores.residue) == ["121"] and list(scores.position) == [121]
    # The same score as the sequence typed out: the file is only where the sequence came from.
    assert _score(scores, "G121V") == pytest.approx(
        _score(structure.variant_effects(read.sequence, ["G121V"], model=MODEL), "G121V"), abs=1e-5
    )
    summary = scores.summary()
    assert "5dfr_minimized.pdb" in summary and "positions are the file's residue numbers, 1-159" in summary

    with pytest.raises(
        structure.InvalidSequenceError, match=r"position 121 of 5dfr_minimized.pdb is GLY 121 \(G\), not ALA \(A\)"
    ):
        structure.variant_effects(str(dhfr), ["A121V"], model=MODEL)


def test_villin_positions_are_the_files_numbers_unless_told_otherwise():
    villin = str(example_structure("villin"))
    by_file = structure.variant_effects(villin, ["K65A"], model=MODEL)
    assert list(by_file.mutation) == ["K65A"] and list(by_file.position) == [25] and list(by_file.residue) == ["65"]
    by_index = structure.variant_effects(villin, ["K25A"], model=MODEL, numbering="sequence")
    typed = structure.variant_effects(VILLIN, ["K25A"], model=MODEL)
    assert _score(by_file, "K65A") == pytest.approx(_score(by_index, "K25A"), abs=1e-5)
    assert _score(by_index, "K25A") == pytest.approx(_score(typed, "K25A"), abs=1e-5)
    assert "positions count 1-36 along the chain (file residues 41-76)" in by_index.summary()
    # K25A in the file's numbering: villin has no residue 25, and the error says where counting from 1 leads.
    with pytest.raises(structure.InvalidSequenceError) as refused:
        structure.variant_effects(villin, ["K25A"], model=MODEL)
    assert "has no residue 25 (positions are the file's residue numbers, 41-76)" in str(refused.value)
    assert "position 25 is K (file residue 65): pass numbering='sequence'" in str(refused.value)


def _two_chains(path):
    lines = [line for line in example_structure("villin").read_text().splitlines() if line.startswith("ATOM")]
    second = [line[:21] + "B" + line[22:] for line in lines]
    path.write_text("\n".join([*lines, "TER", *second, "TER", "END"]) + "\n")
    return path


def test_several_chains_are_named_and_one_is_picked_with_chain(tmp_path):
    pdb = _two_chains(tmp_path / "dimer.pdb")
    with pytest.raises(structure.InvalidSequenceError) as refused:
        structure.variant_effects(str(pdb), ["K65A"], model=MODEL)
    assert "2 protein chains: A (36 residues), B (36 residues)" in str(refused.value)
    assert 'chain="A"' in str(refused.value)
    picked = structure.variant_effects(str(pdb), ["K65A"], chain="B", model=MODEL)
    assert "sequence from dimer.pdb, chain B, 36 residues" in picked.summary() and list(picked.residue) == ["65"]
    with pytest.raises(structure.InvalidSequenceError, match="no protein chain 'C'"):
        structure.variant_effects(str(pdb), ["K65A"], chain="C", model=MODEL)
    with pytest.raises(structure.InvalidSequenceError, match="picks a chain of a structure file"):
        structure.variant_effects(VILLIN, ["K25A"], chain="A", model=MODEL)


def test_a_gap_is_named_and_never_joined_across(tmp_path):
    lines = example_structure("villin").read_text().splitlines()
    gapped = tmp_path / "villin_gap.pdb"
    # Residues 50-52 have no coordinates, as in a structure with a disordered loop.
    gapped.write_text(
        "\n".join(line for line in lines if not (line.startswith("ATOM") and 50 <= int(line[22:26]) <= 52)) + "\n"
    )
    read = read_chain(gapped)
    assert len(read.sequence) == 36 and read.sequence[9:12] == "XXX" and read.numbers[9:12] == [None] * 3
    (gap,) = read.notes
    assert "residues 50-52 are missing from the file between" in gap and "X (unknown)" in gap
    scores = structure.variant_effects(str(gapped), ["K65A"], model=MODEL)
    assert list(scores.position) == [25]  # Lys65 keeps its place along the chain
    assert "residues 50-52 are missing" in scores.summary()
    with pytest.raises(structure.InvalidSequenceError, match="has no residue 51 .*with gaps"):
        structure.variant_effects(str(gapped), ["S51A"], model=MODEL)


def test_a_run_folder_is_read_through_its_prepared_structure(tmp_path):
    run = tmp_path / "md_runs" / "villin_implicit"
    run.mkdir(parents=True)
    shutil.copy(example_structure("villin"), run / "prepared.pdb")  # md.run keeps the input's residue numbers
    (run / "run.json").write_text(json.dumps({"structure": "villin_1vii.pdb"}))
    scores = structure.variant_effects(str(run), ["F76L"], model=MODEL)
    assert list(scores.residue) == ["76"] and "prepared.pdb" in scores.summary()


def test_scan_and_contacts_take_a_structure_too():
    villin = str(example_structure("villin"))
    scan = structure.mutational_scan(villin, model=MODEL, positions=[25], progress=False)
    assert len(scan) == 19 and set(scan.residue) == {"65"} and set(scan.wild_type) == {"K"}
    assert "villin_1vii.pdb" in scan.summary()
    contacts = structure.contact_map(villin, model=MODEL)
    assert contacts.sequence == VILLIN and contacts.name == "villin_1vii_A"
