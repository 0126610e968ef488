"""Which helices a DSSP result holds, and how each one's helicity changes from the start of a run to its end.

"Which helix unravels first in run_360?" got "helix 57%, coil 42%" (newcomer r8 O2): the totals hide the part
asked. The helices are taken from the first third of the frames (the structure the run started from): stretches
of at least 3 residues helical in at least half of those frames; each is named by its residue numbers, with
its helix fraction in the first and in the last third of the frames.
"""

from __future__ import annotations

import numpy as np

HELIX_CODES = ("H", "G", "I")  # simplified DSSP has only H; full DSSP's 3-10 and pi helices count too
MIN_LENGTH = 3


def helix_segments(helical: np.ndarray, min_length: int = MIN_LENGTH) -> list[tuple[int, int]]:
    """(first, last) residue indices of each run of ``True`` at least ``min_length`` long."""
    segments, start = [], None
    for i, flag in enumerate([*helical, False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            if i - start >= min_length:
                segments.append((start, i - 1))
            start = None
    return segments


def helix_lines(codes: np.ndarray, res_seq: list[int]) -> list[str]:
    """Summary lines naming the helices of ``codes`` (frames x residues) by residue number, with their helix
    fraction in the first vs the last third of the frames and the one that lost the most."""
    helix = np.isin(codes, HELIX_CODES)
    n_frames = helix.shape[0]
    third = max(1, n_frames // 3)
    first, last = helix[:third].mean(axis=0), helix[-third:].mean(axis=0)
    segments = helix_segments(first >= 0.5)
    if not segments:
        return ["no helix of 3 or more residues at the start"]

    def label(a: int, b: int) -> str:
        return f"residues {res_seq[a]}–{res_seq[b]}"

    if n_frames < 3:
        return [
            "helices: " + ", ".join(label(a, b) for a, b in segments) + " (too few frames to compare start and end)"
        ]
    change = [(first[a : b + 1].mean(), last[a : b + 1].mean()) for a, b in segments]
    lines = [
        "helices (first vs last third of the frames): "
        + "; ".join(f"{label(a, b)} {s:.0%} → {e:.0%}" for (a, b), (s, e) in zip(segments, change))
    ]
    losses = [s - e for s, e in change]
    worst = int(np.argmax(losses))
    if losses[worst] >= 0.1:
        start, end = change[worst]
        lines.append(f"most helix lost: {label(*segments[worst])} (helix {start:.0%} → {end:.0%})")
    else:
        lines.append("no helix lost 10 points or more between the first and last third")
    return lines
