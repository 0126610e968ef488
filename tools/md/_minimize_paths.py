"""Where :func:`kenkyu.tools.md.minimize` writes, as names only: its cost estimate needs them too, and the cost
module must not import the minimiser (which imports the cost module for its ``@costs``)."""

from __future__ import annotations

from kenkyu.tools.md._public import structure_stem

MINIMIZATION_JSON = "minimization.json"


def minimized_name(structure) -> str:
    """The minimised PDB's file name: ``<input stem>_minimized.pdb``."""
    return f"{structure_stem(structure)}_minimized.pdb"


def minimize_directory(structure, solvent: str = "implicit") -> str:
    """The folder :func:`minimize` writes when no ``out=`` is given."""
    suffix = "" if solvent == "implicit" else f"_{solvent}"
    return f"md_runs/{structure_stem(structure)}_minimized{suffix}"
