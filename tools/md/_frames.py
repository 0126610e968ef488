"""How often md.run saves a frame when the call does not say: every 1 ps, or more often for a short run.

A 1.5 ps run saved one frame at the old fixed 1 ps interval, and a 0.5 ps ensemble was refused (the interval was
longer than the run), although nothing in the request asked for so few frames; an RMSD or RMSF of one frame says
nothing. A run shorter than MIN_FRAMES ps now saves a frame at the largest round interval (0.5, 0.2, 0.1 ps, ...)
that gives it at least MIN_FRAMES frames and is a whole number of time steps; round, so that an extension by a
whole picosecond stays a whole number of frames. The choice is recorded and said in the run's summary.
"""

from __future__ import annotations

DEFAULT_INTERVAL_PS = 1.0
MIN_FRAMES = 10
_ROUND_INTERVALS_PS = (0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001, 0.0005)


def default_report_interval(ps: float, timestep_fs: float) -> tuple[float, str]:
    """The report interval (ps) of a call that gives none, and how it was chosen, in words (for run.json)."""
    ps, dt_ps = float(ps), float(timestep_fs) / 1000.0
    if ps / DEFAULT_INTERVAL_PS >= MIN_FRAMES - 1e-9 or dt_ps <= 0:
        return DEFAULT_INTERVAL_PS, f"default: every {DEFAULT_INTERVAL_PS:g} ps"
    for interval in _ROUND_INTERVALS_PS:
        steps = interval / dt_ps
        if interval * MIN_FRAMES <= ps + 1e-9 and steps >= 1 - 1e-9 and abs(steps - round(steps)) < 1e-6:
            break
    else:
        interval = dt_ps  # a run of fewer than MIN_FRAMES steps: every step
    return interval, (
        f"default for a run shorter than {MIN_FRAMES * DEFAULT_INTERVAL_PS:g} ps: every {interval:g} ps, "
        f"{int(round(ps / interval))} frames (at least {MIN_FRAMES}; report_interval_ps= sets it)"
    )
