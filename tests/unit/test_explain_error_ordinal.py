"""explain_error's index advice counts as a person writes it (newcomer r11 read "the 3th residue")."""

from __future__ import annotations

import numpy as np
import pytest
from kenkyu.assistant import notebook_tools


@pytest.mark.parametrize(("index", "size", "words"), [(3, 3, "3rd"), (1, 1, "1st"), (2, 2, "2nd"), (12, 12, "12th")])
def test_one_past_the_end_names_the_position_with_its_english_ordinal(index, size, words):
    with pytest.raises(IndexError) as raised:
        np.zeros(size)[index]
    e = notebook_tools.explain_error(f"IndexError: {raised.value}")
    assert f"for the {words} residue or atom counted from 1, use index {index - 1}" in e.fix
