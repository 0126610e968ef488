"""md.run's result check: did the run finish, stay finite, and hold its energy and temperature?

Declared on :func:`kenkyu.tools.md.run` (``@checked_by(run_is_sound)``); the research loop's Check
section and an exported report's Check cell run it on the :class:`~kenkyu.tools.md.MDRun` a step returned.
"""

from __future__ import annotations

import math

from kenkyu.core.science import result_check

ENERGY_DRIFT = 0.05  # relative change of the potential energy between the first and last third of production
TEMPERATURE_TOLERANCE = 0.10  # mean temperature within this fraction of the thermostat's target

RUN_EXPECTATIONS = (
    "the run finishes all its production frames (no blow-up)",
    "energies and positions stay finite (no NaN)",
    f"the potential energy is stable: first and last third of production differ by < {ENERGY_DRIFT:.0%}",
    f"the mean temperature is within {TEMPERATURE_TOLERANCE:.0%} of the target",
)


@result_check(*RUN_EXPECTATIONS)
def run_is_sound(run):
    """A run that blew up, stopped early or drifted in energy or temperature."""
    from kenkyu.tools.md import MDRun

    run = run if isinstance(run, MDRun) else MDRun(run)
    info = run.info
    p = info["parameters"]
    expected_frames = round(p["ps"] / p["report_interval_ps"])
    e_finish, e_finite, e_energy, e_temp = RUN_EXPECTATIONS
    frames = run.n_frames
    if info.get("status") == "finished" and frames >= expected_frames:
        yield e_finish, "pass", f"finished: {frames} of {expected_frames} frames"
    else:
        error = info.get("error") or "no error recorded"
        yield e_finish, "fail", (f"status {info.get('status')!r} with {frames} of {expected_frames} frames: {error}")
    data = run.state_data() if run.state_data_path.exists() else None
    if data is None or not len(data):
        yield e_finite, "fail", "no state data was written"
        return
    energy = data["Potential Energy (kJ/mole)"].to_numpy(dtype=float)
    temperature = data["Temperature (K)"].to_numpy(dtype=float)
    error = str(info.get("error", "")).lower()
    blown = any(word in error for word in ("blow", "blew up", "nan"))
    if all(math.isfinite(v) for v in energy) and not blown:
        yield e_finite, "pass", f"{len(energy)} state rows, all finite"
    else:
        yield e_finite, "fail", f"blown up: {info.get('error') or 'NaN in state.csv'}"
        return
    production = energy[-frames:] if frames else energy
    third = max(1, len(production) // 3)
    first, last = production[:third].mean(), production[-third:].mean()
    drift = abs(last - first) / max(abs(first), 1e-9)
    status = "pass" if drift < ENERGY_DRIFT else "warn"
    yield e_energy, status, f"mean {first:.6g} -> {last:.6g} kJ/mol ({drift:.1%})"
    target = p["temperature_k"]
    mean_t = temperature.mean()
    off = abs(mean_t - target) / target
    yield e_temp, "pass" if off < TEMPERATURE_TOLERANCE else "warn", f"mean {mean_t:.1f} K for {target:g} K"
