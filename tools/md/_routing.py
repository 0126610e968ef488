"""How md calls planned by kenkyu's router are adjusted (declared with ``@when_routed``).

An unstated solvent must not launch explicit water: villin in a water box is ~8,600 atoms, minutes per
picosecond on a laptop, where implicit solvent (OBC2 generalised Born) is ~600 atoms and seconds. So a
routed ``md_run`` or ``ensembles_run`` without a solvent gets implicit solvent, and the reply says why and
how to ask for water. A coarse-grained run without a length gets a short one (its default, 100 ps, is a
study, not a quick look).
"""

from __future__ import annotations

from kenkyu.tools.md._equilibration import default_npt_ps, default_nvt_ps

IMPLICIT_REASON = "implicit solvent (OBC2) because you did not say; say 'in water' for explicit"
CG_ROUTED_PS = 20.0  # ~2,000 steps of the bead model: seconds, enough to see Q settle


ROUTED_FRAMES = 10  # frames a short routed run saves, so that an RMSD or RMSF of it has something to measure


def frame_interval(ps: float, timestep_fs: float = 2.0, frames: int = ROUTED_FRAMES) -> float:
    """The interval (ps) that saves about ``frames`` frames of a ``ps`` run: a whole number of integrator steps
    (at least one), written as that many steps are, to a billionth of a ps.

    ``ps / 10`` is not: 3 ps gave 0.30000000000000004 ps in the call and run.json, and 0.25 ps gave 0.025 ps,
    12.5 steps of 2 fs, which md.run warned about and saved at another interval than the reply said."""
    dt_ps = float(timestep_fs) / 1000.0
    steps = max(1, round(float(ps) / frames / dt_ps))
    return round(steps * dt_ps, 9)


def implicit_unless_stated(arguments: dict) -> dict:
    """``solvent="implicit"`` when the request did not name one; a short run ("1 ps each") saves
    ``ROUTED_FRAMES`` frames instead of one per picosecond (an RMSF of one frame is no fluctuation)."""
    if not arguments.get("solvent"):
        arguments["solvent"] = "implicit"
    ps = float(arguments.get("ps") or 10.0)
    if ps < ROUTED_FRAMES:
        if "replicas" in arguments:  # an ensemble passes it on to each member's md.run
            options = dict(arguments.get("md_options") or {})
            interval = frame_interval(ps, options.get("timestep_fs") or 2.0)
            options.setdefault("report_interval_ps", interval)
            arguments["md_options"] = options
        else:
            arguments.setdefault("report_interval_ps", frame_interval(ps, arguments.get("timestep_fs") or 2.0))
    return arguments


def _said_solvent(added: dict, call: dict) -> str | None:
    lines = []
    if added.get("solvent") == "implicit":
        lines.append(f"Using {IMPLICIT_REASON}.")
    if "replicas" not in call and call.get("nvt_ps") is None and call.get("ps"):
        # "a quick 2 ps simulation" runs 3 ps of NVT first: said, so the 5 ps on the progress bar is no surprise
        nvt = default_nvt_ps(call["ps"], call.get("friction_per_ps") or 1.0)
        npt = call.get("npt_ps") if call.get("npt_ps") is not None else default_npt_ps(call.get("solvent") or "")
        phases = f"{nvt:g} ps NVT" + (f" + {npt:g} ps NPT" if npt else "")
        lines.append(
            f"Equilibration runs first, on top of the {float(call['ps']):g} ps of production: {phases} "
            "(say *no equilibration* to skip it)."
        )
    interval = added.get("report_interval_ps") or (added.get("md_options") or {}).get("report_interval_ps")
    if interval:
        lines.append(
            f"Saving a frame every {interval:g} ps (about {ROUTED_FRAMES} frames) so the analyses have frames."
        )
    return "\n".join(lines) + "\n" if lines else None


implicit_unless_stated.said = _said_solvent


def short_cg_unless_stated(arguments: dict) -> dict:
    """A coarse-grained run the request gave no length: ``CG_ROUTED_PS``, not the 100 ps default."""
    if not arguments.get("ps"):
        arguments["ps"] = CG_ROUTED_PS
    return arguments


def _said_cg(added: dict, call: dict) -> str | None:
    if "ps" in added:
        return f"Using ps={added['ps']:g} (a quick coarse-grained run) because you did not give a length.\n"
    return None


short_cg_unless_stated.said = _said_cg
