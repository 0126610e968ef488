"""A tool whose cost estimate takes a while, as md.run's first explicit-solvent calibration does: the agent is
busy in the kernel (not in a notebook cell) before it asks for approval, and a stop cannot cut that short."""

from __future__ import annotations

import time

from kenkyu.core.registry import tool
from kenkyu.core.science import Cost, costs

ESTIMATE_S = 6.0


def slow_estimate(arguments: dict, *, measure: bool = True) -> Cost:
    time.sleep(ESTIMATE_S)  # a calibration run
    return Cost(1.0, "calibrated (slowly)")


@tool(approval="ask")
@costs(slow_estimate)
def calibrated(x: float) -> float:
    """Return ``x``, after a slow cost estimate.

    Parameters
    ----------
    x
        Any number.
    """
    return x
