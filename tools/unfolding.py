"""Thermal unfolding of a Gō model: a temperature ladder on Dask, Q(T) per segment, a melting midpoint with a CI.

Two tools, each a plain call::

    ladder = kenkyu.tools.unfolding.ladder("villin.pdb", t_min=250, t_max=600, n_temperatures=8, replicas=2)
    melt = kenkyu.tools.unfolding.melting_curve(ladder.directory)
    melt.tm_k, melt.tm_ci_k, melt.order        # midpoint, its 95% CI, which segment unfolds first

``ladder`` (the tool ``unfolding_ladder``) runs :func:`kenkyu.tools.md.coarse_grained` (a Cα Gō model on
kenkyu's dataflow backend) once per temperature and replica, as members of a Dask ensemble: a
``LocalCluster`` here, any running scheduler with ``scheduler="tcp://host:8786"`` (the machinery of
:mod:`kenkyu.tools.ensembles`). Each member is a finished run folder or nothing (the run renames its
folder when done), so calling again with the same arguments reuses the finished temperatures::

    md_ensembles/villin_1vii_melt_250-600K/
        ladder.json          the request, the member seeds, their temperatures
        T250K_r0/ ...        one coarse-grained run folder per member (q.csv, trajectory.dcd, cg.json)
        melting.json         the analysis: Tm with CI, each segment's midpoint, the order (melting_curve)
        melting_q.csv        Q(T) for the protein and each segment, with bootstrap CIs
        melting.png          the figure

``melting_curve`` (``unfolding_melting_curve``) splits the native structure into segments by DSSP
(helices, strands, the loops between them and the termini), follows the fraction of native contacts Q
of the whole protein and of each segment (contacts with a residue in it) in every frame after the
first quarter of each run, fits a two-state sigmoid to Q(T) and takes the 95% CI of its midpoint from
a block bootstrap over frames and replicas (frames in a run are correlated: whole blocks are
resampled). Temperatures are the model's: a Gō model's Tm is relative (which segment first, how
cooperative), not a laboratory melting point.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

from kenkyu.core.registry import tool
from kenkyu.core.science import Cost, checked_by, costs, result_check, writes
from kenkyu.tools._melting import (
    HALF,
    MELTING_JSON,
    MIN_DROP,
    MIN_SEGMENT_CONTACTS,
    UNITS_NOTE,
    MeltingCurve,
    Segment,
    _contact_states,
    _save,
    fit_midpoint,
    predicted_first,
    segments_of,
    sigmoid,
    unfolding_order,
)

__all__ = [  # the analysis lives in kenkyu.tools._melting; its public names are re-exported here
    "HALF",
    "MELTING_JSON",
    "MIN_DROP",
    "MIN_SEGMENT_CONTACTS",
    "UNITS_NOTE",
    "MeltingCurve",
    "Segment",
    "TemperatureLadder",
    "fit_midpoint",
    "ladder",
    "ladder_directory",
    "melting_curve",
    "predicted_first",
    "segments_of",
    "sigmoid",
    "unfolding_order",
]

LADDER_JSON = "ladder.json"
SPEED_CACHE = "cg_speed.json"
TYPICAL_MS_PER_STEP = 0.3  # Gō villin (36 beads) on one dataflow thread, used until this machine is measured
CLUSTER_START_S = 8.0  # a LocalCluster of two worker processes, importing kenkyu and OpenMM


def ladder_directory(structure, t_min: float = 250.0, t_max: float = 600.0) -> str:
    """The folder :func:`ladder` writes when no ``out=`` is given."""
    from kenkyu.tools.md._public import structure_stem

    return f"md_ensembles/{structure_stem(structure)}_melt_{float(t_min):g}-{float(t_max):g}K"


def temperatures_of(t_min: float, t_max: float, n_temperatures: int) -> list[float]:
    import numpy as np

    return [round(float(t), 1) for t in np.linspace(float(t_min), float(t_max), int(n_temperatures))]


# -- the ladder ------------------------------------------------------------------------------------------


@dataclass
class TemperatureLadder:
    """A temperature ladder's folder: one coarse-grained run per temperature and replica."""

    directory: Path
    errors: dict[str, str] = field(default_factory=dict)

    def __post_init__(self):
        self.directory = Path(self.directory)
        if not (self.directory / LADDER_JSON).is_file():
            raise FileNotFoundError(
                f"{self.directory} holds no {LADDER_JSON}: pass the folder unfolding.ladder wrote "
                "(e.g. md_ensembles/villin_1vii_melt_250-600K)."
            )

    @property
    def info(self) -> dict:
        return json.loads((self.directory / LADDER_JSON).read_text())

    @property
    def temperatures(self) -> list[float]:
        return list(self.info["temperatures"])

    def members(self) -> list[tuple[dict, object]]:
        """(member spec, CoarseGrainedRun or None when it has not finished), in ladder order."""
        from kenkyu.tools.md import CoarseGrainedRun

        out = []
        for member in self.info["members"]:
            path = self.directory / member["name"]
            out.append((member, CoarseGrainedRun(path) if _finished(path) else None))
        return out

    @property
    def finished(self) -> list:
        return [run for _, run in self.members() if run is not None]

    def summary(self) -> str:
        info = self.info
        members = self.members()
        done = sum(run is not None for _, run in members)
        temps = info["temperatures"]
        lines = [
            f"Temperature ladder {self.directory}: {done} of {len(members)} runs finished",
            f"{len(temps)} temperatures {temps[0]:g}–{temps[-1]:g} K (model units) × {info['replicas']} "
            f"replicas, {info['ps']:g} ps each on the {info['backend']} backend; structure {info['structure']}",
        ]
        walls = [run.info.get("wall_s", 0.0) for _, run in members if run is not None]
        if walls:
            lines.append(f"compute: {sum(walls):.0f} s of member wall time in all ({max(walls):.1f} s the longest)")
        missing = [m["name"] for m, run in members if run is None]
        if missing:
            lines.append(f"not finished: {', '.join(missing)} (call again with the same arguments to resume)")
        lines += [f"error in {name}: {error}" for name, error in self.errors.items()]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_markdown_(self) -> str:
        head, *rest = self.summary().splitlines()
        return f"**{head}**\n\n" + "\n".join(f"- {line}" for line in rest)


def _finished(path: Path) -> bool:
    try:
        return json.loads((path / "cg.json").read_text()).get("status") == "finished"
    except (FileNotFoundError, json.JSONDecodeError):
        return False


def _run_member(structure: str, directory: str, options: dict):
    """One member on a Dask worker; an error comes back as text, so the other temperatures are kept."""
    from kenkyu.tools import md

    try:
        md.coarse_grained(structure, out=directory, progress=False, overwrite=True, **options)
        return directory, None
    except Exception as exc:
        return directory, f"{type(exc).__name__}: {exc}"


def _ladder_folder(arguments: dict) -> str | None:
    if arguments.get("out"):
        return str(arguments["out"])
    if not arguments.get("structure"):
        return None
    return ladder_directory(arguments["structure"], arguments.get("t_min", 250.0), arguments.get("t_max", 600.0))


# -- measured cost ---------------------------------------------------------------------------------------


def _speed_path() -> Path:
    root = os.environ.get("KENKYU_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "kenkyu")
    return Path(root) / SPEED_CACHE


def _speeds() -> dict:
    try:
        return json.loads(_speed_path().read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def _remember_speed(backend: str, n_beads: int, ms_per_step: float) -> None:
    from kenkyu.tools.md._files import write_json_atomic

    speeds = _speeds()
    speeds[f"{backend}:{n_beads}"] = float(ms_per_step)
    _speed_path().parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(_speed_path(), speeds)


def _n_beads(structure) -> int:
    from openmm.app import PDBFile, PDBxFile

    path = Path(structure)
    pdb = (PDBxFile if path.suffix.lower() in (".cif", ".mmcif") else PDBFile)(str(path))
    return sum(1 for atom in pdb.topology.atoms() if atom.name == "CA")


def calibrate(structure, backend: str = "dataflow", steps: int = 500) -> float:
    """Time ``steps`` Langevin steps of the structure's Gō model on one thread; cache and return ms/step."""
    import openmm
    from kenkyu.kernels_md import build_go_model
    from openmm import unit

    model = build_go_model(str(structure))
    system = model.system
    if backend == "dataflow":
        from kenkyu.kernels_md import dataflow_system

        system = dataflow_system(model.system, threads=1)
    integrator = openmm.LangevinMiddleIntegrator(300 * unit.kelvin, 1 / unit.picosecond, 0.01 * unit.picoseconds)
    context = openmm.Context(system, integrator, openmm.Platform.getPlatformByName("Reference"))
    context.setPositions(model.positions)
    integrator.step(20)  # first calls compile or load the kernels: not part of the speed
    started = time.perf_counter()
    integrator.step(steps)
    ms = 1000 * (time.perf_counter() - started) / steps
    _remember_speed(backend, len(model.positions), ms)
    return ms


def estimate_ladder(arguments: dict, *, measure: bool = True) -> Cost:
    """Members × steps × this machine's measured ms/step, spread over the workers, plus the cluster start."""
    structure = arguments.get("structure")
    backend = arguments.get("backend", "dataflow")
    n_temperatures = len(arguments.get("temperatures") or []) or int(arguments.get("n_temperatures", 8))
    members = n_temperatures * int(arguments.get("replicas", 2))
    steps = float(arguments.get("ps", 400.0)) * 1000 / float(arguments.get("timestep_fs", 10.0))
    workers = max(1, min(members, int(arguments.get("n_workers") or os.cpu_count() or 1)))
    ms, basis = TYPICAL_MS_PER_STEP, f"~{TYPICAL_MS_PER_STEP} ms/step typical for ~40 beads, not measured"
    try:
        n = _n_beads(structure) if structure else None
    except Exception:  # a missing file is the tool's error to raise, with its fix
        n = None
    if n:
        known = _speeds().get(f"{backend}:{n}")
        if known is None and measure and structure:
            known = calibrate(structure, backend)
        if known is not None:
            ms, basis = known, f"{known:.2g} ms/step measured on this machine ({n} beads, {backend})"
    seconds = CLUSTER_START_S + members * steps * ms / 1000 / workers
    steps_text = (f"{members} runs ({n_temperatures} temperatures × {arguments.get('replicas', 2)} replicas)",)
    return Cost(seconds, f"{members} runs × {steps:,.0f} steps on {workers} workers, {basis}", steps_text)


def learn_from_ladder(result) -> None:
    """After a ladder: its members' own ms/step (median) refine the cached speed."""
    import statistics

    runs = result.finished if isinstance(result, TemperatureLadder) else []
    speeds = [run.info["ms_per_step"] for run in runs if run.info.get("ms_per_step")]
    if speeds:
        first = runs[0].info
        _remember_speed(first["parameters"]["backend"], first["n_beads"], statistics.median(speeds))


LADDER_EXPECTATIONS = (
    "every run of the ladder finishes all its frames with finite energies",
    "each run holds its temperature (mean kinetic temperature within 15% of the target)",
)


@result_check(*LADDER_EXPECTATIONS)
def ladder_is_sound(result):
    from kenkyu.tools.md._coarse import cg_is_sound

    result = result if isinstance(result, TemperatureLadder) else TemperatureLadder(result)
    members = result.members()
    done = [run for _, run in members if run is not None]
    missing = [m["name"] for m, run in members if run is None]
    e_done, e_temp = LADDER_EXPECTATIONS
    detail = f"{len(done)} of {len(members)} runs finished" + (f"; missing {', '.join(missing[:4])}" if missing else "")
    yield e_done, "pass" if not missing else "fail", detail
    off = [run.directory.name for run in done if any(s != "pass" for _, s, _ in cg_is_sound(run))]
    yield e_temp, "pass" if not off else "warn", (f"off target: {', '.join(off)}" if off else f"all {len(done)} runs")


@tool(
    approval="ask",
    writes_files=True,
    keywords=(
        "temperature ladder",
        "thermal unfolding",
        "heat the protein",
        "heated",
        "unfolding simulation",
        "melting simulation",
    ),
    produces="run_folder",
    result_name="ladder",
)
@writes(_ladder_folder)
@costs(estimate_ladder, after_run=learn_from_ladder)
@checked_by(ladder_is_sound)
def ladder(
    structure: str | os.PathLike,
    t_min: float = 250.0,
    t_max: float = 600.0,
    n_temperatures: int = 8,
    replicas: int = 2,
    ps: float = 400.0,
    out: str | os.PathLike | None = None,
    *,
    temperatures: list[float] | None = None,
    timestep_fs: float = 10.0,
    report_interval_ps: float = 2.0,
    backend: str = "dataflow",
    scheduler: str | None = None,
    n_workers: int | None = None,
    seed: int | None = None,
    overwrite: bool = False,
    progress: bool = True,
) -> TemperatureLadder:
    """Heat a protein's Gō model over a temperature ladder: one coarse-grained run per temperature and replica, on Dask.

    Each member is a ``md_coarse_grained`` run (Cα Gō model on the dataflow backend) in its own folder under
    ``out``; calling again with the same arguments reuses the finished temperatures. Analyse the folder with
    ``unfolding_melting_curve``. Temperatures are in the model's units (relative, not a lab melting point).

    Parameters
    ----------
    structure
        Path of an all-atom PDB or mmCIF file, readable from every worker.
    t_min
        Lowest temperature of the ladder in K (model units).
    t_max
        Highest temperature in K (model units).
    n_temperatures
        Number of evenly spaced temperatures from t_min to t_max.
    replicas
        Independent runs (different seeds) per temperature.
    ps
        Length of each run in ps (model time).
    out
        Ladder folder; default ``md_ensembles/<structure name>_melt_<t_min>-<t_max>K``.
    temperatures
        Explicit temperatures instead of the even ladder (e.g. denser around a midpoint).
    timestep_fs
        Integration time step in fs.
    report_interval_ps
        Interval between saved frames in ps.
    backend
        "dataflow" (kenkyu.kernels_md) or "openmm".
    scheduler
        Address of a running Dask scheduler, e.g. "tcp://10.0.0.5:8786"; default starts a local cluster.
    n_workers
        Workers of the local cluster (default one per CPU core, at most one per run).
    seed
        Base seed; run i gets seed + i. Drawn and recorded when omitted.
    overwrite
        Delete the runs of an existing ladder in ``out`` and start over.
    progress
        Show a progress bar over the runs.

    Returns
    -------
    TemperatureLadder
        The folder and its runs; ``.summary()`` says how many finished.
    """
    from kenkyu.tools.md import RunExistsError

    temps = [round(float(t), 1) for t in temperatures] if temperatures else None
    if temps is None:
        if not (0 < float(t_min) < float(t_max)):
            raise ValueError(f"need 0 < t_min < t_max, got t_min={t_min}, t_max={t_max}")
        if int(n_temperatures) < 4:
            raise ValueError(f"n_temperatures must be at least 4 to fit a melting curve, got {n_temperatures}")
        temps = temperatures_of(t_min, t_max, n_temperatures)
    elif len(set(temps)) < 4 or min(temps) <= 0:
        raise ValueError(f"temperatures must hold at least 4 distinct positive values, got {temperatures}")
    temps = sorted(set(temps))
    if int(replicas) < 1:
        raise ValueError(f"replicas must be at least 1, got {replicas}")
    for name, value in (("ps", ps), ("timestep_fs", timestep_fs), ("report_interval_ps", report_interval_ps)):
        if not float(value) > 0:
            raise ValueError(f"{name} must be positive, got {value}")
    if float(ps) / float(report_interval_ps) < 8:
        raise ValueError(
            f"ps={ps} with report_interval_ps={report_interval_ps} saves fewer than 8 frames per run: "
            "lower report_interval_ps or run longer"
        )
    if backend not in ("dataflow", "openmm"):
        raise ValueError(f"backend must be 'dataflow' or 'openmm', not {backend!r}")
    from kenkyu.tools.md._coarse import check_cg_settings

    for temperature in (temps[0], temps[-1]):  # before any member starts: t_max=5000 ran the rungs that could
        check_cg_settings(float(ps), temperature, float(timestep_fs), 1.0, float(report_interval_ps))
    path = Path(structure)
    if not path.is_file():
        raise FileNotFoundError(f"Structure file {str(path)!r} does not exist; pass the path of a PDB or mmCIF file.")
    directory = Path(out) if out is not None else Path(ladder_directory(structure, temps[0], temps[-1]))
    options = {
        "ps": float(ps),
        "timestep_fs": float(timestep_fs),
        "report_interval_ps": float(report_interval_ps),
        "backend": backend,
    }
    request = {"structure": str(path.resolve()), "temperatures": temps, "replicas": int(replicas), **options}
    spec_path = directory / LADDER_JSON
    if spec_path.exists() and not overwrite:
        stored = json.loads(spec_path.read_text())
        if {k: stored.get(k) for k in request} != request:
            raise RunExistsError(
                f"{directory} holds a ladder with other settings (see {spec_path}). Use the same arguments to "
                "resume it, overwrite=True to start over, or another out=."
            )
        members = stored["members"]
    else:
        if overwrite and spec_path.exists():
            import shutil

            for member in json.loads(spec_path.read_text())["members"]:
                shutil.rmtree(directory / member["name"], ignore_errors=True)
        base = int(seed) if seed is not None else secrets.randbelow(2**31 - 1)
        members = [
            {"name": f"T{t:g}K_r{r}", "temperature_k": t, "replica": r, "seed": (base + i) % (2**31 - 1)}
            for i, (t, r) in enumerate((t, r) for t in temps for r in range(int(replicas)))
        ]
        directory.mkdir(parents=True, exist_ok=True)
        spec_path.write_text(json.dumps({**request, "seed": base, "members": members}, indent=2) + "\n")

    pending = [m for m in members if not _finished(directory / m["name"])]
    errors: dict[str, str] = {}
    if pending:
        errors = _run_pending(str(path.resolve()), directory, pending, options, scheduler, n_workers, progress)
    return TemperatureLadder(directory, errors)


def _run_pending(structure, directory, pending, options, scheduler, n_workers, progress) -> dict[str, str]:
    """Submit the unfinished members to Dask (the ensembles tool's client: local cluster or a scheduler)."""
    from dask.distributed import as_completed
    from kenkyu.tools.ensembles import _client
    from tqdm.auto import tqdm

    workers = n_workers or max(1, min(len(pending), os.cpu_count() or 1))
    client, cluster = _client(scheduler, workers)
    errors = {}
    try:
        futures = [
            client.submit(
                _run_member,
                structure,
                str((directory / m["name"]).resolve()),
                # One dataflow thread per run: the workers already fill the cores.
                {**options, "temperature_k": m["temperature_k"], "seed": m["seed"], "threads": 1},
                key=f"kenkyu-melt-{m['name']}-{secrets.token_hex(4)}",
                pure=False,
            )
            for m in pending
        ]
        bar = tqdm(total=len(futures), disable=not progress, desc=f"ladder {directory.name}", unit="run")
        for future in as_completed(futures):
            where, error = future.result()
            if error:
                errors[Path(where).name] = error
            bar.update(1)
        bar.close()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return errors


MELTING_EXPECTATIONS = (
    "Q (fraction of native contacts) falls as the temperature rises",
    f"the whole protein's Q crosses {HALF} inside the ladder (folded at its bottom, unfolded at its top)",
    "the fitted midpoint Tm and its 95% CI lie inside the ladder",
)


@result_check(*MELTING_EXPECTATIONS)
def melting_is_resolved(curve):
    e_falls, e_cross, e_tm = MELTING_EXPECTATIONS
    d = curve.data if isinstance(curve, MeltingCurve) else curve
    p, b = d["protein"], d["basis"]
    rho = p["spearman_rho"]
    yield e_falls, "pass" if rho is not None and rho < -0.5 else "fail", f"Spearman ρ(T, Q) = {rho:.2f}"
    q_low, q_high = p["q_at_bottom"], p["q_at_top"]
    ends = f"Q {q_low:.2f} at {b['t_min']:g} K, {q_high:.2f} at {b['t_max']:g} K"
    if p["crosses_half"]:
        yield e_cross, "pass", ends
    elif min(q_low, q_high) > HALF:
        yield e_cross, "fail", f"never unfolds in the ladder: {ends}; heat further"
    else:
        yield e_cross, "fail", f"never folded in the ladder: {ends}; start colder"
    if p["tm_k"] is None:
        yield e_tm, "fail", p["why"]
    else:
        lo, hi = p["tm_ci_k"]
        inside = b["t_min"] <= lo and hi <= b["t_max"]
        yield (
            e_tm,
            "pass" if inside else "warn",
            f"Tm {p['tm_k']:.0f} K (95% CI {lo:.0f}–{hi:.0f} K) in {b['t_min']:g}–{b['t_max']:g} K",
        )


@tool(
    writes_files=True,
    keywords=(
        "melting curve",
        "melting temperature",
        "melting midpoint",
        "unfolds first",
        "unfolding order",
        "native contacts per segment",
    ),
    produces="table",
    result_name="melt",
)
@costs(15.0, basis="typical for a ladder of ~16 runs of a small protein (loading, DSSP, bootstrap fits)")
@checked_by(melting_is_resolved)
def melting_curve(
    ladder: str | os.PathLike | TemperatureLadder,
    discard_fraction: float = 0.25,
    n_bootstrap: int = 200,
    blocks_per_run: int = 5,
    seed: int = 0,
) -> MeltingCurve:
    """Melting curve of a temperature ladder: Q(T) per DSSP segment, midpoints with 95% CIs, the unfolding order.

    Fits a two-state sigmoid to the fraction of native contacts Q at each temperature, for the whole protein
    and for each helix, strand, loop and terminus of the native structure; the midpoint's 95% CI comes from a
    block bootstrap over frames and replicas. The order lists segments by midpoint and says "not resolved"
    where CIs overlap. Writes melting.json, melting_q.csv and melting.png into the ladder folder.

    Parameters
    ----------
    ladder
        Ladder folder (from unfolding_ladder), or by hand a TemperatureLadder.
    discard_fraction
        Fraction of each run discarded at its start (equilibration at the new temperature).
    n_bootstrap
        Bootstrap resamples for the confidence intervals.
    blocks_per_run
        Contiguous blocks each run's frames are cut into for the bootstrap (frames within a block are correlated).
    seed
        Seed of the bootstrap (the same seed gives the same intervals).

    Returns
    -------
    MeltingCurve
        ``.tm_k`` and ``.tm_ci_k`` (the protein's midpoint), ``.segments``, ``.order``, ``.first``, ``.table``,
        ``.figure``, ``.summary()``.
    """
    import numpy as np
    from kenkyu.kernels_md import build_go_model
    from scipy.stats import spearmanr

    if not 0 <= float(discard_fraction) < 0.9:
        raise ValueError(f"discard_fraction must be in [0, 0.9), got {discard_fraction}")
    if int(n_bootstrap) < 50:
        raise ValueError(f"n_bootstrap must be at least 50 for a 95% interval, got {n_bootstrap}")
    if int(blocks_per_run) < 2:
        raise ValueError(f"blocks_per_run must be at least 2, got {blocks_per_run}")
    ladder = ladder if isinstance(ladder, TemperatureLadder) else TemperatureLadder(ladder)
    info = ladder.info
    model = build_go_model(info["structure"])
    segments = segments_of(info["structure"])
    contacts = model.contacts
    masks = {"protein": np.ones(len(contacts), bool)}
    too_few = {}
    for s in segments:
        inside = ((contacts >= s.first) & (contacts <= s.last)).any(axis=1)
        if inside.sum() >= MIN_SEGMENT_CONTACTS:
            masks[s.name] = inside
        else:
            too_few[s.name] = int(inside.sum())

    # Per temperature: the block means of every finished run (blocks × curves).
    blocks: dict[float, list] = {}
    frames_used, ps_used, runs = 0, 0.0, 0
    for member, run in ladder.members():
        if run is None:
            continue
        formed = _contact_states(run, model)
        start = int(len(formed) * float(discard_fraction))
        kept = formed[start:]
        if len(kept) < int(blocks_per_run):
            continue
        runs += 1
        frames_used += len(kept)
        ps_used += len(kept) * run.info["parameters"]["report_interval_ps"]
        per_frame = np.stack([kept[:, m].mean(axis=1) for m in masks.values()], axis=1)  # frames × curves
        for chunk in np.array_split(per_frame, int(blocks_per_run)):
            blocks.setdefault(float(member["temperature_k"]), []).append(chunk.mean(axis=0))
    temps = sorted(blocks)
    if len(temps) < 4:
        raise ValueError(
            f"{ladder.directory} has finished runs at {len(temps)} temperatures; a melting curve needs at least 4 "
            "(run unfolding.ladder again with the same arguments to finish it)"
        )
    names = list(masks)
    means = np.array([np.mean(blocks[t], axis=0) for t in temps])  # temperatures × curves
    rng = np.random.default_rng(int(seed))
    boot = np.empty((int(n_bootstrap), len(temps), len(names)))
    for b in range(int(n_bootstrap)):
        for i, t in enumerate(temps):
            sample = np.asarray(blocks[t])
            boot[b, i] = sample[rng.integers(0, len(sample), len(sample))].mean(axis=0)
    q_lo, q_hi = np.percentile(boot, [2.5, 97.5], axis=0)

    def describe(k: int, name: str) -> dict:
        q = means[:, k]
        crosses = bool(q.max() >= HALF >= q.min())
        fit = fit_midpoint(temps, q)
        out = {"crosses_half": crosses, "fit": None, "tm_k": None, "tm_ci_k": None, "width_k": None}
        if fit is None:
            out["why"] = f"Q falls by less than {MIN_DROP} across the ladder (no melting transition to fit)"
            return out
        samples = [fit_midpoint(temps, boot[b, :, k]) for b in range(len(boot))]
        tms = np.array([s[2] for s in samples if s is not None])
        if len(tms) < 0.8 * len(boot):
            out["why"] = f"the fit failed on {len(boot) - len(tms)} of {len(boot)} bootstrap samples"
            return out
        lo, hi = np.percentile(tms, [2.5, 97.5])
        out.update(fit=list(fit), tm_k=fit[2], tm_ci_k=[float(lo), float(hi)], width_k=fit[3], why="")
        if not crosses:
            out["why"] = f"its Q never crosses {HALF} in the ladder: the midpoint is of a partial transition"
        return out

    protein = describe(0, "protein")
    rho = spearmanr(temps, means[:, 0]).statistic if len(set(means[:, 0])) > 1 else 0.0
    protein.update(
        spearman_rho=float(rho),
        q_at_bottom=float(means[0, 0]),
        q_at_top=float(means[-1, 0]),
    )
    if not protein["crosses_half"]:
        bottom, top = means[0, 0], means[-1, 0]
        protein.update(tm_k=None, tm_ci_k=None, width_k=None)
        protein["why"] = (
            f"Q never crosses {HALF} in {temps[0]:g}–{temps[-1]:g} K (Q {bottom:.2f} at the bottom, {top:.2f} at "
            "the top): the midpoint lies outside the ladder"
        )
    rows_segments = []
    for s in segments:
        row = {"name": s.name, "kind": s.kind, "residues": s.residues, "first": s.first, "last": s.last}
        if s.name in too_few:
            row.update(n_contacts=too_few[s.name], tm_k=None, tm_lo_k=None, tm_hi_k=None, crosses_half=False)
            row.update(fit=None, why=f"too few native contacts ({too_few[s.name]}) to follow")
        else:
            k = names.index(s.name)
            d = describe(k, s.name)
            row.update(n_contacts=int(masks[s.name].sum()), crosses_half=d["crosses_half"], fit=d["fit"])
            row.update(tm_k=d["tm_k"], why=d.get("why", ""))
            row.update(tm_lo_k=d["tm_ci_k"][0] if d["tm_ci_k"] else None)
            row.update(tm_hi_k=d["tm_ci_k"][1] if d["tm_ci_k"] else None)
            if d["tm_k"] is not None and not d["crosses_half"]:
                row.update(tm_k=None, tm_lo_k=None, tm_hi_k=None)
        rows_segments.append(row)
    curve_rows = [
        {
            "temperature_k": t,
            "segment": name,
            "q": float(means[i, k]),
            "q_lo": float(q_lo[i, k]),
            "q_hi": float(q_hi[i, k]),
            "n_blocks": len(blocks[t]),
        }
        for k, name in enumerate(names)
        for i, t in enumerate(temps)
    ]
    data = {
        "kenkyu_melting_curve": 1,
        "ladder": str(ladder.directory),
        "structure": info["structure"],
        "units": UNITS_NOTE,
        "basis": {
            "n_runs": runs,
            "n_temperatures": len(temps),
            "t_min": temps[0],
            "t_max": temps[-1],
            "replicas": info["replicas"],
            "frames_used": frames_used,
            "ps_used": round(ps_used, 6),
            "discard_fraction": float(discard_fraction),
            "n_bootstrap": int(n_bootstrap),
            "blocks_per_run": int(blocks_per_run),
            "seed": int(seed),
            "ci": f"2.5–97.5 percentiles of the sigmoid midpoint over {int(n_bootstrap)} block-bootstrap "
            f"resamples ({int(blocks_per_run)} blocks per run, over frames and replicas)",
        },
        "protein": protein,
        "segments": rows_segments,
        "curve": curve_rows,
        "order": unfolding_order(rows_segments),
    }
    _save(ladder.directory, data)
    return MeltingCurve(ladder.directory, data)
