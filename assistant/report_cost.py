"""What exporting a report costs: the report re-runs every step of the notebook in a fresh kernel, in its own
folder, so each simulation the notebook holds runs again from the start.

A flat "about 60 s" was shown on the approval card for a DHFR notebook whose 1 ps run had taken minutes
(newcomer r11): the simulations are priced here by their own tools' cost models, from the arguments written in
their cells, and the rest by the typical minute.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path

from kenkyu.core.science import Cost, format_seconds

# Loading, analyses, figures and the HTML: what a notebook without simulations takes to re-run, typically.
BASE_SECONDS = 60.0
BASE_BASIS = "re-runs every step of the notebook in a fresh kernel, typical; longer when the steps simulate"


def estimate_export(arguments: dict, *, measure: bool = True) -> Cost:
    """The typical minute plus each simulation step of the saved notebook, priced by its tool's own estimate
    (never measured here: pricing the report starts no calibration run)."""
    notebook = arguments.get("notebook") or os.environ.get("JPY_SESSION_NAME")
    expensive = _expensive_tools()
    steps = simulation_steps(Path(notebook), expensive) if notebook else []
    if not steps:
        return Cost(BASE_SECONDS, BASE_BASIS)
    priced = [(name, _estimate(expensive[name], args)) for name, args in steps]
    known = [(name, cost) for name, cost in priced if cost is not None]
    total = BASE_SECONDS + sum(cost.seconds for _, cost in known)
    listed = ", ".join(f"{name} ~{format_seconds(cost.seconds)}" for name, cost in known)
    unpriced = len(priced) - len(known)
    basis = (
        f"re-runs every step in a fresh kernel, in the report's own folder: {len(known)} step(s) that compute or "
        f"write files run again ({listed}), plus ~{format_seconds(BASE_SECONDS)} for the rest"
        + (f"; {unpriced} more could not be priced" if unpriced else "")
    )
    return Cost(total, basis)


def simulation_steps(notebook: Path, expensive: dict) -> list[tuple[str, dict]]:
    """(tool, literal arguments) of each agent step of the saved notebook that the report runs again and whose
    tool is in ``expensive`` (name -> function); a step whose saved output is an error is left out of the report."""
    import nbformat

    try:
        cells = nbformat.read(notebook, as_version=4).cells
    except (OSError, ValueError):
        return []
    steps = []
    for cell in cells:
        meta = cell.get("metadata", {}).get("kenkyu") or {}
        name = meta.get("tool")
        if cell.cell_type != "code" or name not in expensive:
            continue
        if any(output.get("output_type") == "error" for output in cell.get("outputs", [])):
            continue
        steps.append((name, _literal_keywords(cell.source, expensive[name])))
    return steps


def _expensive_tools() -> dict:
    """Tool name -> function, for the tools that wait for approval (simulations, files written), but not the
    notebook's own (the export itself): the registry the export reads too."""
    from kenkyu.assistant.report_tools import NOTEBOOK_TOOLS, report_registry

    return {t.name: t.function for t in report_registry() if t.approval == "ask" and t.module != NOTEBOOK_TOOLS}


def _literal_keywords(source: str, function) -> dict:
    """The keyword arguments of the cell's call to ``function`` whose values are literals (a kernel variable
    passed by name is not known here and is left out)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == function.__name__:
            found = {}
            for keyword in node.keywords:
                try:
                    found[keyword.arg] = ast.literal_eval(keyword.value)
                except ValueError:
                    continue
            return found
    return {}


def _estimate(function, arguments: dict) -> Cost | None:
    from kenkyu.core.science import science_of

    try:
        return science_of(function).estimate(arguments, measure=False)
    except Exception:  # noqa: BLE001 - an estimate that cannot be made leaves the step unpriced, never the export
        return None
