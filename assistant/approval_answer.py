"""What an approval prompt that nobody answered returns: not run, yet not declined.

An approver answers True (run it) or False (the scientist pressed Deny). A prompt that waited its time out
(``approval_wait_s``, the sidebar's request budget) got no answer at all, and the record must say that: a
scientist reading "declined by the user" the next morning would think they had refused it. ``NoAnswer`` is
falsy, so every caller that only asks "approved?" still does not run the tool, and the record reads its
``summary`` instead of the decline text.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NoAnswer:
    """An approval that timed out after ``waited_s`` seconds with no answer."""

    waited_s: float

    def __bool__(self) -> bool:
        return False

    @property
    def summary(self) -> str:
        return (
            f"no answer to the approval within {self.waited_s:g} s; not run — ask again when you are here, "
            "or set approval to auto for this kind of tool (`%kenkyu approval auto`)"
        )
