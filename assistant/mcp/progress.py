"""How far a simulation is, read from its run folder while the call runs in the kernel.

The run folder is the simulation's own record (``run.json`` has the production steps, ``state.csv``
a row per report with the step and the speed in ns/day), so the server reads progress there instead
of parsing a progress bar meant for people.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Progress:
    step: int
    total: int
    ns_per_day: float | None

    def message(self, ps_total: float | None) -> str:
        parts = [f"production step {self.step}/{self.total}"]
        if self.ns_per_day:
            parts.append(f"{self.ns_per_day:.3g} ns/day")
            if ps_total and self.total:
                remaining_ns = (self.total - self.step) / self.total * ps_total / 1000
                parts.append(f"ETA {remaining_ns / self.ns_per_day * 86400:.0f} s")
        return ", ".join(parts)


def read_progress(folder: str | Path) -> tuple[Progress, float | None] | None:
    """The run's production progress and its length in ps, or None before production starts."""
    folder = Path(folder)
    try:
        info = json.loads((folder / "run.json").read_text())
        total = int(info["steps"]["production"])
        ps = info.get("parameters", {}).get("ps")
        with open(folder / "state.csv", newline="") as handle:
            rows = [row for row in csv.reader(handle) if row and not row[0].startswith("#")]
    except (OSError, ValueError, KeyError, TypeError):
        return None  # not written yet, or mid-write: the next poll reads it
    if not rows:
        return None
    last = rows[-1]
    try:
        speed = float(last[-1]) or None
        step = int(float(last[0]))
    except ValueError:
        return None
    return Progress(step, total, speed), ps
