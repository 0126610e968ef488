"""A small resumable tool for the budget and interrupt tests: it counts slowly into a folder, keeps its
count on an interrupt (as md.run keeps a checkpoint) and continues from it with ``resume=True``."""

from __future__ import annotations

import os
import time
from pathlib import Path

from kenkyu.core.registry import tool
from kenkyu.core.science import Cost, costs, writes

STEP_S = 0.05


class CountInterrupted(KeyboardInterrupt):
    """Interrupted; the count so far is kept (like md.run's RunInterrupted)."""


def estimate_count(arguments: dict, *, measure: bool = True) -> Cost:
    to = int(arguments.get("to", 0))
    return Cost(to * STEP_S, f"{to} steps of {STEP_S} s", (f"count to {to}", "write the count"))


@tool(approval="ask", writes_files=True)
@writes(lambda arguments: arguments.get("out"))
@costs(estimate_count)
def count(to: int, out: str, resume: bool = False, overwrite: bool = False) -> int:
    """Count slowly to ``to``, keeping the count in ``out``/count.txt.

    Parameters
    ----------
    to
        Where to stop counting.
    out
        The folder that keeps the count.
    resume
        Continue the count kept in ``out``.
    overwrite
        Start over even if ``out`` holds a count.
    """
    folder = Path(out)
    kept = folder / "count.txt"
    if kept.exists() and not (resume or overwrite):
        raise FileExistsError(f"{folder} already holds a count: pass resume=True or overwrite=True")
    folder.mkdir(parents=True, exist_ok=True)
    n = int(kept.read_text()) if kept.exists() and resume else 0
    try:
        while n < to:
            time.sleep(STEP_S)
            n += 1
            # Atomically, as md.run writes its checkpoints: an interrupt mid-write must not lose the count.
            partial = kept.with_suffix(".tmp")
            partial.write_text(str(n))
            os.replace(partial, kept)
    except KeyboardInterrupt:
        raise CountInterrupted(f"counted to {n} of {to} in {folder}; continue with resume=True") from None
    return n
