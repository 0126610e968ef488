"""The expected cost of a plan's step, from the cost model its tool declares.

Each tool says how to price a call beside its own definition (:func:`kenkyu.core.science.costs`):
``md.run`` from speeds measured on this machine (:mod:`kenkyu.tools.md.cost`), quick tools a typical
constant. Here only the rule every plan needs: an estimate never stops a plan.
"""

from __future__ import annotations

from kenkyu.core.science import Cost, format_seconds


def estimate(tool, arguments: dict, *, measure: bool = True) -> Cost:
    """The expected cost of one call of a registered tool (NaN seconds, with the reason, if it fails)."""
    try:
        return tool.science.cost(arguments, measure=measure)
    except Exception as exc:  # an estimate must never stop a plan
        return Cost(float("nan"), f"could not estimate ({type(exc).__name__}: {exc})")


__all__ = ["Cost", "estimate", "format_seconds"]
