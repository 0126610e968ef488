"""The MD tools are found by the agent's registry with schemas an LLM can use."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from kenkyu.core.registry import ToolRegistry

MODULES = ["kenkyu.tools.md", "kenkyu.tools.analysis", "kenkyu.tools.viz", "kenkyu.tools.ensembles"]
EXPECTED = {
    "md_run",
    "analysis_rmsd",
    "analysis_rmsf",
    "analysis_radius_of_gyration",
    "analysis_dssp",
    "analysis_contacts",
    "analysis_hydrogen_bonds",
    "analysis_sasa",
    "analysis_distances",
    "viz_show_structure",
    "viz_show_trajectory",
    "ensembles_run",
    "ensembles_rmsf",
}


@pytest.fixture(scope="module")
def registry():
    return ToolRegistry.from_modules(MODULES)


def test_all_md_tools_are_registered(registry):
    assert registry.unavailable == {}
    assert EXPECTED <= set(registry.names())


def test_schemas_are_plain_json_with_described_parameters(registry):
    for name in EXPECTED:
        t = registry[name]
        schema = t.parameters
        text = json.dumps(schema)
        assert "$defs" not in text and "$ref" not in text, name  # no Python objects leak into the schema
        assert t.summary and len(t.summary) < 200, name
        for parameter, spec in schema["properties"].items():
            assert spec.get("description"), f"{name}.{parameter} has no description"


def test_run_tool_is_an_approved_writer_with_sane_arguments(registry):
    run = registry["md_run"]
    assert run.approval == "ask" and run.writes_files and "molecular dynamics" in run.keywords
    assert run.qualified_call == "kenkyu.tools.md.run"
    properties = run.parameters["properties"]
    assert run.parameters["required"] == ["structure"]
    assert properties["structure"]["type"] == "string"
    assert properties["solvent"]["enum"] == ["explicit", "implicit", "vacuum"]
    assert properties["ps"]["type"] == "number" and properties["ps"]["default"] == 10.0
    assert run.validate({"structure": "1vii.pdb", "ps": "50", "solvent": "implicit"}) == {
        "structure": "1vii.pdb",
        "ps": 50.0,
        "solvent": "implicit",
    }
    with pytest.raises(ValueError, match="solvent"):
        run.validate({"structure": "x.pdb", "solvent": "water"})
    assert registry["ensembles_run"].approval == "ask"
    assert registry["analysis_rmsd"].approval == "auto"
    assert registry["analysis_distances"].parameters["required"] == ["trajectory", "pairs"]


def test_importing_the_tool_modules_stays_light():
    code = (
        "import sys, kenkyu.tools.md, kenkyu.tools.analysis, kenkyu.tools.viz, kenkyu.tools.ensembles\n"
        "import kenkyu.tools.md.cli\n"
        "heavy = [m for m in ('openmm', 'mdtraj', 'nglview', 'pdbfixer', 'dask', 'distributed', 'matplotlib')"
        " if m in sys.modules]\n"
        "print(heavy)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
