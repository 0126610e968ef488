"""An example tool that declares its science: what it produces, its cost and its check, in one module.

It is the proof that adding a tool with its check and cost touches nothing in kenkyu: register the
module (``%kenkyu tools add example_tool`` in a notebook, ``ToolRegistry.from_modules`` in a test)
and the research loop prices it in the plan, quotes its expectation and runs its check.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from kenkyu.core.registry import tool
from kenkyu.core.science import checked_by, costs, result_check

STANDARD = set("ACDEFGHIKLMNPQRSTVWY")


@dataclass
class Composition:
    sequence: str
    counts: dict[str, int]

    def summary(self) -> str:
        top = ", ".join(f"{aa} {n}" for aa, n in Counter(self.counts).most_common(3))
        return f"{len(self.sequence)} residues; most common: {top}"


@result_check("the sequence uses only the 20 standard amino acids")
def standard_residues(composition: Composition):
    (expectation,) = standard_residues.expectations
    odd = sorted(set(composition.sequence) - STANDARD)
    if odd:
        yield expectation, "fail", f"non-standard letters: {''.join(odd)}"
    else:
        yield expectation, "pass", f"{len(composition.sequence)} residues, all standard"


@tool(produces="table", keywords=("composition", "amino acid counts"))
@costs(3.0, basis="counting letters, not measured")
@checked_by(standard_residues)
def composition(sequence: str) -> Composition:
    """Count the amino acids of a protein sequence.

    Parameters
    ----------
    sequence
        The protein sequence in one-letter code.
    """
    sequence = sequence.strip().upper()
    return Composition(sequence, dict(Counter(sequence)))
