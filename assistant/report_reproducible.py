"""Which of a report's simulations will not give the session's numbers again, and the sentence that says so.

A newcomer's report re-ran its 2 ps md.run (same seed, no ``reproducible=True``) and a cell of theirs printed
"mean Rg 0.985" where the session had printed 0.973 (r11): OpenMM's multi-threaded CPU platform sums forces in a
varying order, so a run with the same seed drifts apart, and everything computed from it differs. The report said
only that its outputs are its own. Now it names those steps and the argument that makes them repeat.
"""

from __future__ import annotations

import re

# The calls that start a new all-atom simulation from a seed (an extension continues one: it follows its run).
_SIMULATION_CALL = re.compile(r"\b(?:md|ensembles)\.run\(")
_REPRODUCIBLE = re.compile(r"\breproducible\s*=\s*True\b")


def unreproducible_steps(cells, first_line) -> list[str]:
    """Each code cell that starts a simulation without ``reproducible=True``, as "report cell N (`run = ...`)";
    ``first_line(source)`` gives the line that names the cell."""
    return [
        f"report cell {number} (`{first_line(cell.source)}`)"
        for number, cell in enumerate(cells, 1)
        if cell.cell_type == "code" and _SIMULATION_CALL.search(cell.source) and not _REPRODUCIBLE.search(cell.source)
    ]


def not_reproducible_sentence(steps) -> str:
    return (
        f"{len(steps)} simulation step(s) ran without reproducible=True: {'; '.join(steps)}. Even with the same "
        "seed a re-run drifts apart from the session's run (OpenMM's multi-threaded CPU platform sums forces in a "
        "varying order), so the report's trajectories, and every number computed from them, differ from the "
        "session's. Where the numbers must match, run the simulation with reproducible=True and export again."
    )
