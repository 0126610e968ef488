"""A "did you mean X?" fix never suggests the very name that failed (a newcomer's report export read
"did you mean villin_1vii.pdb? (villin_1vii.pdb exist here; 'villin_1vii.pdb' does not)")."""

from __future__ import annotations

from kenkyu.assistant.summaries import near_paths, with_fix

FAILED = "ERROR: StructureError: Structure file 'villin_1vii.pdb' does not exist; pass the path of a PDB or mmCIF file."


def test_a_name_that_exists_here_is_not_suggested_for_itself(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "villin_1vii.pdb").write_text("END\n")
    (tmp_path / "villin_1vii_minimized.pdb").write_text("END\n")
    assert "villin_1vii.pdb" not in near_paths("villin_1vii.pdb")
    assert near_paths("villin_1vii.pdb") == ["villin_1vii_minimized.pdb"]
    fix = with_fix(FAILED).splitlines()[1]
    assert "did you mean" not in fix
    assert fix.startswith("fix: 'villin_1vii.pdb' exists in the working folder ")
    assert "ran in another folder" in fix


def test_a_missing_name_still_gets_the_closest_real_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "villin_1vii.pdb").write_text("END\n")
    fix = with_fix(FAILED.replace("villin_1vii.pdb", "vilin_1vii.pdb")).splitlines()[1]
    assert fix.startswith("fix: did you mean villin_1vii.pdb? ")
