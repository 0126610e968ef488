"""How much equilibration ``md.run`` adds before production when the caller does not say.

A fixed 10 ps of NVT made "simulate it for 5 ps" run 15 ps. What equilibration must do decides its length:

- NVT brings the minimised structure (at 0 K) to the thermostat's temperature. Under a Langevin
  thermostat velocities forget their start in ~1/friction (1 ps at the default 1/ps), so three of those
  times thermalise it; a longer NVT only relaxes the structure, which production itself records. So the
  default is half the production, at least 3 thermostat times (and never under 2 ps), at most 10 ps (the
  length used before, enough for any production of 20 ps or more).
- NPT (explicit solvent only) lets the water box find its density through the barostat's Monte Carlo volume
  moves; that does not get shorter with a shorter production, so it stays 10 ps.

``nvt_ps=`` / ``npt_ps=`` given by the caller are used as they are (``nvt_ps=0`` skips NVT). The choice, and
why, is written in run.json (``equilibration``) and listed on the approval card.
"""

from __future__ import annotations

NVT_SHARE = 0.5  # of the production
NVT_MIN_PS = 2.0
NVT_THERMOSTAT_TIMES = 3.0  # multiples of 1/friction
NVT_MAX_PS = 10.0
NPT_PS = 10.0


def nvt_floor_ps(friction_per_ps) -> float:
    """The shortest default NVT: three thermostat relaxation times, and never under 2 ps."""
    try:
        friction = float(friction_per_ps)
    except (TypeError, ValueError):
        return NVT_MIN_PS  # check_parameters refuses it next, naming the setting
    return max(NVT_MIN_PS, NVT_THERMOSTAT_TIMES / friction) if friction > 0 else NVT_MIN_PS


def default_nvt_ps(ps, friction_per_ps=1.0) -> float:
    """Half the production, within [3 thermostat times (>= 2 ps), 10 ps]; a floor above 10 ps wins."""
    floor = nvt_floor_ps(friction_per_ps)
    try:
        half = NVT_SHARE * float(ps)
    except (TypeError, ValueError):
        return floor
    return round(min(max(half, floor), max(NVT_MAX_PS, floor)), 6)


def default_npt_ps(solvent: str) -> float:
    return NPT_PS if solvent == "explicit" else 0.0


def equilibration(ps, solvent: str, friction_per_ps, nvt_ps=None, npt_ps=None) -> tuple[float, float, dict]:
    """The (nvt_ps, npt_ps) a call runs and the record of how they were chosen (for run.json)."""
    nvt = default_nvt_ps(ps, friction_per_ps) if nvt_ps is None else nvt_ps
    npt = default_npt_ps(solvent) if npt_ps is None else npt_ps
    record = {
        "nvt_ps": nvt,
        "nvt": "given"
        if nvt_ps is not None
        else f"default: {rule(friction_per_ps)} (at least 3 thermostat times, 3/friction, to reach the temperature)",
    }
    if solvent == "explicit":
        record["npt_ps"] = npt
        record["npt"] = "given" if npt_ps is not None else f"default: {NPT_PS:g} ps for the water box's density"
    return nvt, npt, record


def rule(friction_per_ps=1.0) -> str:
    """The default NVT rule in words, for the approval card and run.json."""
    floor = nvt_floor_ps(friction_per_ps)
    return f"half the production within {floor:g}-{max(NVT_MAX_PS, floor):g} ps"
