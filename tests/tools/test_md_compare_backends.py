"""md.compare_backends: ms/step of OpenMM's CPU platform and the dataflow backend on one system.

Timings are results shown to the user, never asserted: these tests check the structure and sanity."""

from __future__ import annotations

import math

import pytest
from kenkyu.core.registry import ToolRegistry
from kenkyu.core.science import science_of
from kenkyu.tools import md

from md_fixtures import FAST, villin_pdb  # noqa: F401 (fixture)


@pytest.mark.slow  # an implicit-solvent run, then the dataflow kernels' first compilation
def test_compare_backends_on_a_run_folder(villin_pdb, tmp_path):  # noqa: F811
    run = md.run(villin_pdb, out=tmp_path / "run", **FAST)
    result = md.compare_backends(run.directory, steps=5, repeats=2, threads=1)
    table = result.table
    assert sorted(table.backend.unique()) == ["dataflow", "openmm-cpu"] and len(table) == 4
    assert (table.ms_per_step > 0).all() and table.finite.all()
    assert len(result.ratios) == 2 and all(math.isfinite(r) and r > 0 for r in result.ratios)
    assert result.n_atoms == 596
    assert any("GBSAOBCForce" in left for left in result.left_to_openmm)  # implicit solvent stays with OpenMM
    assert [s for _, s, _ in science_of(md.compare_backends).check(result)] == ["pass", "pass"]
    text = result.summary()
    assert "ms/step" in text and "ns/day" in text and "interleaved repeats" in text
    page = result._repr_html_()
    assert '<img src="data:image/png' in page and "ms_per_step" in page and "<ul><li>" in page


def test_registered_as_md_compare_backends_with_a_cost():
    tool = ToolRegistry.from_modules(["kenkyu.tools.md"])["md_compare_backends"]
    assert tool.qualified_call == "kenkyu.tools.md.compare_backends"
    assert tool.approval == "ask" and not tool.writes_files and tool.science.produces == "table"
    assert tool.science.cost({"system": "nowhere", "steps": 100, "repeats": 3}).seconds > 0
