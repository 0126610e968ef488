"""Physical ranges for md.run's settings, checked before anything is created on disk.

A setting outside its range is refused with :class:`UnphysicalSettingError`, naming the value, the
allowed range and why, because a wrong number here does not fail loudly: a 1e-9 fs step plans 3e11
steps and runs for ever, a 50 fs step explodes far from its cause. A few settings have a zone that
is allowed but risky (a step above 4 fs): those return a warning that is shown and kept in run.json.
"""

from __future__ import annotations

import math

from kenkyu.tools.md._errors import UnphysicalSettingError

# (low, high, why): the hard limits. Values are inclusive.
RANGES = {
    "timestep_fs": (
        0.1,
        10.0,
        "with bonds to hydrogen constrained the fastest remaining motions (C=O stretch, ~20 fs period) need "
        "steps of a few fs; 2 fs is standard, 4 fs the usual maximum, and below 0.1 fs nothing is gained "
        "while the step count explodes",
    ),
    "temperature_k": (
        1.0,
        1000.0,
        "the force fields are parametrised near 300 K; above ~1000 K covalent geometry is meaningless and "
        "the integrator unstable (thermal unfolding is usually studied at 350-600 K)",
    ),
    "friction_per_ps": (
        0.0,
        100.0,
        "Langevin friction of 0.1-10 /ps is usual (1 /ps is the default); above 100 /ps the motion is "
        "overdamped and dynamics is lost (0 runs without a thermostat)",
    ),
    "pressure_bar": (
        1e-3,
        10000.0,
        "the barostat's target; 1 bar is ambient, high-pressure studies go to a few kbar",
    ),
    "padding_nm": (
        0.0,
        5.0,
        "the water layer around the protein; 1 nm is standard and wider boxes only cost time",
    ),
    "ionic_strength_molar": (0.0, 3.0, "salt concentration in mol/L; physiological is 0.15 M"),
    "ph": (0.0, 14.0, "the pH that picks protonation states"),
}
MIN_EXPLICIT_PADDING_NM = 0.5  # two images 2 x padding apart must not see each other through the 1 nm cutoff
RISKY_TIMESTEP_FS = 4.0  # above this, without hydrogen-mass repartitioning (which kenkyu does not do), runs blow up
MAX_STEPS = 1_000_000_000  # 2 us at 2 fs: far beyond what kenkyu's tools are meant for on one machine


_UNIT_OF = {"ps": "ps", "fs": "fs", "k": "K", "nm": "nm", "bar": "bar", "molar": "M"}
_PS_PER = {"fs": 1e-3, "ps": 1.0, "ns": 1e3, "us": 1e6, "µs": 1e6}


def _number(key: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UnphysicalSettingError(
            f"{key} must be a number, got {value!r} ({type(value).__name__}){_written_as(key, value)}"
        )
    value = float(value)
    if not math.isfinite(value):
        raise UnphysicalSettingError(f"{key} must be a finite number, got {value}")
    return value


def _written_as(key: str, value) -> str:
    """How to write a setting given as text: its unit is the end of its name ("10 ns" for ps is ps=10000)."""
    unit = _UNIT_OF.get(key.rsplit("_", 1)[-1].lower(), "ps" if key == "ps" else None)
    if not isinstance(value, str) or unit is None:
        return ""
    import re

    match = re.fullmatch(r"\s*([-+]?\d+(?:\.\d*)?(?:e[-+]?\d+)?)\s*([a-zµ]*)\s*", value, re.IGNORECASE)
    if match and unit in ("ps", "fs") and match.group(2).lower() in _PS_PER:
        number = float(match.group(1)) * _PS_PER[match.group(2).lower()] / _PS_PER[unit]
        return f": give the number in {unit}, {key}={number:g}"
    if match and not match.group(2):
        return f": give it without quotes, {key}={float(match.group(1)):g}"
    if match and match.group(2).lower() == unit.lower():
        return f": give the number in {unit}, {key}={float(match.group(1)):g}"
    return f": give the number in {unit}"


def check_parameters(p: dict) -> list[str]:
    """Refuse unphysical or inconsistent settings; return warnings for allowed but risky ones."""
    warnings: list[str] = []
    for key in ("ps", "nvt_ps", "npt_ps", "report_interval_ps", "checkpoint_interval_ps", *RANGES):
        _number(key, p[key])
    for key in ("ps", "report_interval_ps", "checkpoint_interval_ps"):
        if not p[key] > 0:
            raise UnphysicalSettingError(f"{key} must be positive, got {p[key]}")
    for key in ("nvt_ps", "npt_ps"):
        if p[key] < 0:
            raise UnphysicalSettingError(f"{key} must not be negative, got {p[key]} (0 skips that phase)")
    for key, (low, high, why) in RANGES.items():
        if not low <= p[key] <= high:
            raise UnphysicalSettingError(f"{key}={p[key]:g} is outside the allowed range {low:g}-{high:g}: {why}.")
    if p["solvent"] not in ("explicit", "implicit", "vacuum"):
        water = str(p["solvent"]).lower() in ("water", "tip3p", "solvated")
        raise ValueError(
            f"solvent must be 'explicit', 'implicit' or 'vacuum', not {p['solvent']!r}"
            + (" (a water box around the protein is solvent='explicit')" if water else "")
        )
    if p["solvent"] == "explicit" and p["solvate"] and p["padding_nm"] < MIN_EXPLICIT_PADDING_NM:
        raise UnphysicalSettingError(
            f"padding_nm={p['padding_nm']:g} is too thin for explicit solvent: with the 1 nm cutoff the protein "
            f"would feel its own periodic image. Use padding_nm >= {MIN_EXPLICIT_PADDING_NM} (1.0 is standard)."
        )
    if p["trajectory_format"] not in ("dcd", "xtc"):
        raise ValueError(f"trajectory_format must be 'dcd' or 'xtc', not {p['trajectory_format']!r}")
    if p["backend"] not in ("openmm", "dataflow"):
        raise ValueError(f"backend must be 'openmm' or 'dataflow', not {p['backend']!r}")
    if p["minimize_max_iterations"] < 0:
        raise UnphysicalSettingError(
            f"minimize_max_iterations must be >= 0 (0 means until converged), got {p['minimize_max_iterations']}"
        )
    dt_ps = p["timestep_fs"] / 1000.0
    if p["report_interval_ps"] > p["ps"]:
        raise UnphysicalSettingError(
            f"report_interval_ps ({p['report_interval_ps']}) is longer than the run (ps={p['ps']}): "
            "no frame would be saved. Use a report interval of at most ps."
        )
    steps_per_frame = p["report_interval_ps"] / dt_ps
    if steps_per_frame < 1 - 1e-9:
        raise UnphysicalSettingError(
            f"report_interval_ps={p['report_interval_ps']:g} is shorter than one {p['timestep_fs']:g} fs step: "
            f"frames can only be saved between steps. Use at least {dt_ps:g} ps (a multiple of the time step)."
        )
    if abs(steps_per_frame - round(steps_per_frame)) > 1e-6 * steps_per_frame:
        # Saved every whole number of steps; the run's time axis uses that real interval (MDRun.frame_interval_ps).
        warnings.append(
            f"report_interval_ps={p['report_interval_ps']:g} is {steps_per_frame:.4g} steps of {p['timestep_fs']:g} "
            f"fs: frames are saved every {round(steps_per_frame)} steps = {round(steps_per_frame) * dt_ps:g} ps, "
            "and their times say so. Use a multiple of the time step to get the interval you asked for."
        )
    total_steps = (p["ps"] + p["nvt_ps"] + p["npt_ps"]) / dt_ps
    if total_steps > MAX_STEPS:
        raise UnphysicalSettingError(
            f"{p['ps'] + p['nvt_ps'] + p['npt_ps']:g} ps at {p['timestep_fs']:g} fs is {total_steps:.3g} steps, more "
            f"than the {MAX_STEPS:.0e} kenkyu allows in one run (2 us at 2 fs). Use a shorter ps, or "
            "md.extend in pieces."
        )
    if p["timestep_fs"] > RISKY_TIMESTEP_FS:
        warnings.append(
            f"timestep_fs={p['timestep_fs']:g} is above {RISKY_TIMESTEP_FS:g} fs: without hydrogen-mass "
            "repartitioning such runs usually blow up (2 fs is standard). A blow-up is stopped and reported."
        )
    seed = p.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**31 - 1):
        raise ValueError(f"seed must be an integer from 0 to {2**31 - 2}, got {seed!r}")
    return warnings


def check_call(options: dict) -> list[str]:
    """``check_parameters`` for md.run keyword arguments, md.run's defaults filled in (for tools that call md.run
    later, e.g. an ensemble's members, so a bad setting is refused before any of them creates a folder). The
    parameters are md.run's own: equilibration and frame interval left to its default rules are what they pick."""
    from kenkyu.tools.md import _parameters_of_call, _run_defaults

    params, _, _ = _parameters_of_call({**_run_defaults(), **options})
    return check_parameters(params)
