"""explain_error's fix for an index past the end never names an index that fails the same way (a newcomer's
``ca[200]`` on DHFR's 159 CA atoms was told "use index 199")."""

from __future__ import annotations

import re

import numpy as np
import pytest
from kenkyu.assistant import notebook_tools


def _message(index: int, size: int) -> str:
    with pytest.raises(IndexError) as raised:
        np.zeros(size)[index]
    return f"IndexError: {raised.value}"


def _suggested_indices(fix: str) -> list[int]:
    return [int(n) for n in re.findall(r"use index (-?\d+)", fix)]


def test_one_past_the_end_suggests_the_one_based_index_that_exists():
    e = notebook_tools.explain_error(_message(159, 159))
    assert _suggested_indices(e.fix) == [158]
    assert "one past the last entry" in e.cause


def test_far_past_the_end_says_the_object_is_shorter_and_suggests_no_failing_index():
    e = notebook_tools.explain_error(_message(200, 159))
    assert all(i < 159 for i in _suggested_indices(e.fix)), e.fix
    assert "only 159 entries" in e.fix and "resSeq 200" in e.fix
