"""Which settings of a call differ from those of the run a folder already holds.

One comparison for every place that asks: md.run refusing a folder that holds a run made with other settings,
md.run's resume, and the approval card's warning before anything runs (assistant/preflight.py). Numbers compare
by value (300 and 300.0 are the same temperature) and a seed the call leaves to chance
(None) matches the run's own.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def same_setting(there, asked) -> bool:
    if is_number(there) and is_number(asked):
        return float(there) == float(asked)
    return there == asked


def differing_settings(stored: dict, requested: dict, keys: Iterable[str] | None = None) -> list[tuple[str, Any, Any]]:
    """``(name, the run's value, the call's value)`` for each setting in ``keys`` (default: every one the call
    gives) whose values differ, in that order. A setting missing from ``stored`` counts as None there."""
    different = []
    for key in requested if keys is None else keys:
        there, asked = stored.get(key), requested.get(key)
        if key == "seed" and asked is None:
            continue
        if not same_setting(there, asked):
            different.append((key, there, asked))
    return different
