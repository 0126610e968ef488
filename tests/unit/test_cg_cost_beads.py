"""A coarse-grained run's price counts the structure's own beads (h4 r11: DHFR's card said "~100 beads" for its
159). The shipped DHFR and villin structures, read by mdtraj."""

from __future__ import annotations

import pytest
from kenkyu.core.science import science_of
from kenkyu.tools import md

pytestmark = pytest.mark.filterwarnings("ignore:Unlikely unit cell vectors")


def test_the_card_counts_the_beads_of_the_structure():
    cost = science_of(md.coarse_grained).cost
    dhfr = cost({"structure": str(md.example_structure("dhfr")), "ps": 20})
    villin = cost({"structure": str(md.example_structure("villin")), "ps": 20})
    assert "159 beads (one per Cα)" in dhfr.basis and "36 beads (one per Cα)" in villin.basis
    assert dhfr.seconds > villin.seconds  # more beads, more time per step
    assert "~100 beads" in cost({"structure": "not_here.pdb", "ps": 20}).basis  # no file yet: typical, and said so
