"""analysis.dssp names the helices by residue number and how each one's helicity changes from the start of the
run to its end (newcomer r8 O2: "which helix unravels first in run_360?" got only "helix 57%, coil 42%")."""

from __future__ import annotations

import numpy as np
import pytest

from kenkyu.tools._helices import helix_lines
from md_fixtures import FAST, villin_pdb  # noqa: F401 (fixture)

pytestmark = pytest.mark.filterwarnings("ignore:Unlikely unit cell vectors")


def test_the_helix_that_unravels_is_named_with_its_residues():
    # 9 frames, 12 residues numbered from 41: helices 43-46 and 49-52 at the start; the second unravels.
    start = list("CCHHHHCCHHHH")
    end = list("CCHHHHCCCCCC")
    codes = np.array([start] * 3 + [start] * 3 + [end] * 3)
    lines = helix_lines(codes, list(range(41, 53)))
    assert (
        lines[0] == "helices (first vs last third of the frames): residues 43–46 100% → 100%; residues 49–52 100% → 0%"
    )
    assert lines[1] == "most helix lost: residues 49–52 (helix 100% → 0%)"
    steady = helix_lines(np.array([start] * 9), list(range(41, 53)))
    assert steady[1] == "no helix lost 10 points or more between the first and last third"
    assert helix_lines(np.array([list("CCCCHHCCCCCC")] * 3), list(range(12))) == [
        "no helix of 3 or more residues at the start"
    ]


def test_dssp_of_a_real_villin_run_names_its_three_helices(villin_pdb, tmp_path):  # noqa: F811
    from kenkyu.tools import analysis, md

    run = md.run(villin_pdb, out=tmp_path / "run", **FAST)
    summary = analysis.dssp(run).summary()
    assert "helix" in summary and "coil" in summary  # the totals stay
    helices = next(line for line in summary.splitlines() if "helices (first vs last third" in line)
    # HP35's three helices (1VII): 44-48, 55-58 and 63-72 by DSSP of the starting structure, within a residue.
    named = [tuple(int(n) for n in part.split("residues ")[1].split(" ")[0].split("–")) for part in helices.split("; ")]
    assert len(named) == 3, helices
    for (a, b), (a0, b0) in zip(named, [(44, 48), (55, 58), (63, 72)]):
        assert abs(a - a0) <= 1 and abs(b - b0) <= 1, helices
    assert "most helix lost" in summary or "no helix lost" in summary
