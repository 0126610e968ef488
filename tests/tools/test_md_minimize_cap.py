"""md.minimize honours max_iterations and says when it stopped there (issue 13): a capped minimisation was reported
like a converged one, energies before and after only. Real OpenMM minimisations of villin (596 atoms)."""

from __future__ import annotations

import json

import pytest
from kenkyu.core.science import science_of
from kenkyu.tools import md

from md_fixtures import villin_pdb  # noqa: F401 (fixture)

pytestmark = pytest.mark.filterwarnings("ignore:Unlikely unit cell vectors")


def test_a_capped_minimisation_says_it_stopped_at_the_cap_with_the_energy_still_falling(villin_pdb, tmp_path):  # noqa: F811
    result = md.minimize(villin_pdb, tmp_path / "capped", max_iterations=30, platform="CPU")
    c = json.loads((tmp_path / "capped" / "minimization.json").read_text())["convergence"]
    # Honoured: no round of OpenMM's L-BFGS went past 30 iterations (each round tightens the constraint restraints).
    assert c["capped"] and not c["converged"] and c["iterations_last_round"] == 30
    assert c["iterations"] <= 30 * c["rounds"] and c["final_rms_force_kj_mol_nm"] > 10.0
    line = next(line for line in result.summary().splitlines() if "converged" in line)
    assert line.startswith("NOT converged: stopped at the 30-iteration cap (max_iterations=30")
    assert "energy still falling (" in line and "kJ/mol over its last 10 iterations" in line
    assert "max_iterations=0 (until converged)" in line
    verdict = science_of(md.minimize).check(result)[-1]
    assert verdict[1] == "warn" and verdict[2] == line


def test_a_minimisation_to_convergence_says_so(villin_pdb, tmp_path):  # noqa: F811
    result = md.minimize(villin_pdb, tmp_path / "full", platform="CPU")
    c = result.info["convergence"]
    assert c["converged"] and not c["capped"] and c["final_rms_force_kj_mol_nm"] <= 10.0
    assert "converged: RMS force " in result.summary() and "below the 10 tolerance" in result.summary()
    assert science_of(md.minimize).check(result)[-1][1] == "pass"
