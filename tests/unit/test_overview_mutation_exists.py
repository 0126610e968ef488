"""The overview's mutant example names a substitution the user's own structure has: "K25A of 5dfr_minimized.pdb"
was refused when tried, since DHFR has Pro at position 25 (newcomer r9). Real registry, real structures read by
pdbfixer as build_mutants reads them."""

from __future__ import annotations

import re
import shutil

import kenkyu.tools
from kenkyu.assistant.overview import overview
from kenkyu.core.registry import ToolRegistry
from kenkyu.tools.md import example_structure
from kenkyu.tools.mutants import parse_mutations


def _mutant_example(text: str) -> str:
    line = next(line for line in text.splitlines() if "mutant" in line.lower() and "Try:" in line)
    return line.split("Try: *", 1)[1]


def test_the_mutant_example_for_dhfr_is_a_mutation_dhfr_has(tmp_path):
    shutil.copy(example_structure("dhfr"), tmp_path / "5dfr_minimized.pdb")
    registry = ToolRegistry.from_modules(kenkyu.tools.TOOL_MODULES)
    example = _mutant_example(overview(registry, here=tmp_path))
    assert "5dfr_minimized.pdb" in example and "K25A" not in example
    (mutation,) = re.findall(r"\b[A-Z]\d+[A-Z]\b", example)
    # The suggested request is one build_mutants accepts on that file: no refusal.
    (located,) = parse_mutations(tmp_path / "5dfr_minimized.pdb", [mutation])
    assert located.name == mutation == "K32A"
    # The sequence example is about a sequence given in the words: it is left alone.
    assert "A4G do to MKTAYIAKQRQISFVK" in overview(registry, here=tmp_path)


def test_a_structure_that_has_the_shipped_mutation_keeps_it(tmp_path):
    shutil.copy(example_structure("villin"), tmp_path / "villin_1vii.pdb")
    example = _mutant_example(overview(ToolRegistry.from_modules(kenkyu.tools.TOOL_MODULES), here=tmp_path))
    assert "K65A of villin_1vii.pdb" in example  # Lys65: the file's own numbering, as build_mutants reads it
