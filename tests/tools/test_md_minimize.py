"""md.minimize: energy minimisation alone, with the energies before and after and the structure intact."""

from __future__ import annotations

import json
import os

import pytest
from kenkyu.core.registry import ToolRegistry
from kenkyu.core.science import science_of
from kenkyu.tools import md

from md_fixtures import villin_pdb  # noqa: F401 (fixture)


def test_minimize_lowers_the_energy_and_keeps_the_atoms(villin_pdb, tmp_path):  # noqa: F811
    from openmm.app import PDBFile

    result = md.minimize(villin_pdb, tmp_path / "min", max_iterations=20, platform="CPU")
    assert result.energy_after_kj_mol < result.energy_before_kj_mol
    given, minimised = PDBFile(str(villin_pdb)), PDBFile(str(result.minimized_pdb))
    assert minimised.topology.getNumAtoms() == given.topology.getNumAtoms() == 596
    names = [(a.residue.name, a.name) for a in minimised.topology.atoms()]
    assert names == [(a.residue.name, a.name) for a in given.topology.atoms()]  # same atoms, same order
    info = json.loads((tmp_path / "min" / "minimization.json").read_text())
    assert info["n_atoms_input"] == info["n_atoms"] == 596 and info["fix"]["hydrogens_added"] == 0
    assert {p.name for p in (tmp_path / "min").iterdir()} >= {"prepared.pdb", "villin_1vii_minimized.pdb", "system.xml"}
    assert os.fspath(result) == str(result.minimized_pdb)  # md.run(result) simulates the minimised structure
    assert md.run_directory(result, "implicit") == "md_runs/villin_1vii_minimized_implicit"
    verdicts = science_of(md.minimize).check(result)
    # 20 iterations do not converge villin: said as a warning, not passed (issue 13).
    assert [status for _, status, _ in verdicts] == ["pass", "pass", "pass", "warn"], verdicts
    assert verdicts[-1][2].startswith("NOT converged: stopped at the 20-iteration cap")
    text = result.summary()
    assert "kJ/mol" in text and "596 atoms (596 in the input)" in text and "no atoms added" in text

    with pytest.raises(md.RunExistsError, match="overwrite=True"):
        md.minimize(villin_pdb, tmp_path / "min", max_iterations=5, platform="CPU")


def test_a_missing_structure_leaves_no_folder(tmp_path):
    with pytest.raises(md.StructureError, match="does not exist"):
        md.minimize(tmp_path / "nope.pdb", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_registered_as_md_minimize_with_its_folder_and_cost():
    tool = ToolRegistry.from_modules(["kenkyu.tools.md"])["md_minimize"]
    assert tool.qualified_call == "kenkyu.tools.md.minimize"
    assert tool.approval == "ask" and tool.writes_files and tool.science.produces == "structure"
    assert tool.science.output_folder({"structure": "data/1abc.pdb"}) == "md_runs/1abc_minimized"
    assert tool.science.output_folder({"structure": "x.pdb", "out": "here"}) == "here"
    assert tool.science.cost({}).seconds > 0 and tool.science.expectations
