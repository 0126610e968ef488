"""Text shortened for a person to read: whole sentences or words, never a word cut in two.

A reply's "Results:" line and a quoted passage were cut at a fixed character count, mid-word ("the
trajectory's RMSD plat"), which reads as a fault and can change a number ("0.31" cut to "0.3").
"""

from __future__ import annotations

import re

ELLIPSIS = "\u2026"
# The end of a sentence or of a clause a summary joins with "; ": a place a shortened text may stop.
_STOP = re.compile(r"[.!?;](?=\s)")


def shorten(text: str, limit: int) -> str:
    """``text`` on one line in at most ``limit`` characters: whole when it fits; else up to the last sentence (or
    "; " clause) that fits, when that keeps at least half of the room, or else up to the last whole word; then an
    ellipsis. A single word longer than half the room is the only thing ever cut inside."""
    text = " ".join(str(text).split())
    if len(text) <= limit:
        return text
    room = max(1, limit - 2)  # the ellipsis and the space before it
    stops = [m.end() for m in _STOP.finditer(text) if m.end() <= room]
    if stops and stops[-1] >= limit // 2:
        return text[: stops[-1]].rstrip(";") + " " + ELLIPSIS
    cut = text.rfind(" ", 0, room + 1)
    if cut < limit // 2:
        return text[: limit - 1].rstrip() + ELLIPSIS
    return text[:cut].rstrip(" ,;:") + ELLIPSIS
