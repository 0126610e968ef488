"""Ensembles of MD runs on Dask: replicas and parameter sweeps, each member its own resumable run.

By default the members run on a ``dask.distributed.LocalCluster`` on this machine; pass
``scheduler="tcp://host:8786"`` to use any running Dask scheduler, e.g. one started by hand
(``dask scheduler`` + ``dask worker``) or by dask-jobqueue on a SLURM/PBS cluster::

    from dask_jobqueue import SLURMCluster           # pip install dask-jobqueue
    cluster = SLURMCluster(cores=8, memory="16GB", walltime="04:00:00")
    cluster.scale(jobs=4)
    ens = kenkyu.tools.ensembles.run("villin.pdb", replicas=8, ps=100, scheduler=cluster.scheduler_address)

Workers need kenkyu and OpenMM installed and the run directory on a shared filesystem. Calling
``run`` again with the same arguments resumes: finished members are reused and interrupted ones
continue from their checkpoints (the member seeds are kept in ``ensemble.json``).
"""

from __future__ import annotations

import itertools
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
from kenkyu.core.registry import tool
from kenkyu.core.science import Cost, computes, costs, science_of, when_routed, writes
from kenkyu.tools.md._routing import implicit_unless_stated

__all__ = ["Ensemble", "EnsembleError", "rmsf", "run"]

ENSEMBLE_JSON = "ensemble.json"


class EnsembleError(RuntimeError):
    """The ensemble cannot be run or read (spec differs from the one on disk, scheduler unreachable...)."""


class EnsembleObject(Protocol):
    """An :class:`Ensemble` passed by hand (not JSON: the LLM passes the ensemble directory)."""

    members: list


@dataclass
class Ensemble:
    """The members of an MD ensemble (each an :class:`kenkyu.tools.md.MDRun`) and what varied between them."""

    directory: Path
    members: list = field(default_factory=list)
    variations: list[dict] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, directory) -> Ensemble:
        """Open an ensemble directory written by :func:`run`."""
        from kenkyu.tools.md import MDRun

        directory = Path(directory)
        spec = json.loads((directory / ENSEMBLE_JSON).read_text())
        members, variations, errors = [], [], {}
        for member in spec["members"]:
            path = directory / member["name"]
            variations.append(member["variation"])
            members.append(MDRun(path) if (path / "run.json").exists() else None)
            if members[-1] is not None and members[-1].status != "finished":
                errors[member["name"]] = members[-1].info.get("error") or members[-1].status
        return cls(directory, members, variations, errors)

    @property
    def finished(self) -> list:
        return [m for m in self.members if m is not None and m.status == "finished"]

    def map(self, analysis, **options):
        """Apply an analysis function (e.g. ``kenkyu.tools.analysis.rmsd``) to every finished member and
        concatenate the tables, with ``member`` and the varied parameters as extra columns."""
        import pandas as pd

        tables = []
        for member, variation in zip(self.members, self.variations):
            if member is None or member.status != "finished":
                continue
            table = pd.DataFrame(analysis(member, **options))
            table.insert(0, "member", member.directory.name)
            for key, value in variation.items():
                table[key] = value
            tables.append(table)
        if not tables:
            raise EnsembleError(f"no finished member in {self.directory} to analyse")
        return pd.concat(tables, ignore_index=True)

    def rmsf(self, selection: str = "name CA"):
        """Per-residue RMSF of each member, and its mean and spread across members (see :func:`rmsf`)."""
        return rmsf(self, selection=selection)

    def summary(self) -> str:
        lines = [f"MD ensemble {self.directory}: {len(self.finished)} of {len(self.members)} members finished"]
        for member, variation in zip(self.members, self.variations):
            if member is None:
                lines.append("  (member not started)")
                continue
            varied = ", ".join(f"{k}={v}" for k, v in variation.items()) or "replica"
            info = member.info
            perf = info.get("performance", {}).get("ns_per_day")
            lines.append(
                f"  {member.directory.name}: {member.status}, {varied}, seed {info['parameters']['seed']}, "
                f"{member.n_frames} frames" + (f", {perf:.3g} ns/day" if perf else "")
            )
        for name, error in self.errors.items():
            lines.append(f"  error in {name}: {error}")
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        head, *rest = self.summary().splitlines()
        return f"**{head}**\n\n" + "\n".join(f"- {line.strip()}" for line in rest)


def _member_specs(replicas: int, sweep: dict | None, base_seed: int) -> list[dict]:
    keys = sorted(sweep or {})
    combinations = list(itertools.product(*[list(sweep[k]) for k in keys])) if keys else [()]
    members = []
    for combination in combinations:
        variation = dict(zip(keys, combination))
        for replica in range(replicas):
            label = "_".join(f"{k}={v}" for k, v in variation.items())
            index = len(members)
            members.append(
                {
                    "name": f"member_{index:03d}" + (f"_{label}" if label else "") + f"_r{replica}",
                    "variation": {**variation, "replica": replica},
                    "seed": (base_seed + index) % (2**31 - 1),
                }
            )
    return members


def _run_member(structure, directory: str, options: dict, cpu_threads: int | None):
    """Run (or resume) one member on a Dask worker; errors come back as text, not as a lost future."""
    if cpu_threads:
        os.environ["OPENMM_CPU_THREADS"] = str(cpu_threads)  # several members share the worker's cores
    from kenkyu.tools import md

    try:
        md.run(structure, out=directory, resume=True, progress=False, **options)
        return directory, None
    except Exception as exc:  # one member's failure must not lose the others' results
        return directory, f"{type(exc).__name__}: {exc}"


def _client(scheduler: str | None, n_workers: int):
    from dask.distributed import Client, LocalCluster

    if scheduler:

        def unreachable(exc):
            return EnsembleError(
                f"Could not reach the Dask scheduler at {scheduler} ({exc}). Check the address (dask scheduler "
                "prints it), that workers are connected, or leave scheduler=None for a local cluster."
            )

        _check_reachable(scheduler, unreachable)
        try:
            return Client(scheduler, timeout="30s"), None
        except OSError as exc:
            raise unreachable(exc) from exc
    cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None)
    return Client(cluster), cluster


def _check_reachable(address: str, error) -> None:
    """Fail at once on a refused TCP connection instead of waiting for Dask's connect timeout."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    if parts.scheme not in ("tcp", "tls") or parts.hostname is None or parts.port is None:
        return  # other transports (inproc, ucx, ...) are left to Dask
    try:
        socket.create_connection((parts.hostname, parts.port), timeout=10).close()
    except OSError as exc:
        raise error(exc) from exc


DASK_START_S = 10.0  # typical seconds to start a local cluster's worker processes (a rough figure, not measured)


def estimate_run(arguments: dict, *, measure: bool = True) -> Cost:
    """The expected cost of an ensemble: md.run's measured estimate for one member, times the members
    that share this machine's cores, plus starting Dask. A reproducible member uses one thread, so up to
    one member per core runs side by side; otherwise each member's measured speed already used every core."""
    from math import ceil, prod

    from kenkyu.tools import md

    sweep = arguments.get("sweep") or {}
    members = int(arguments.get("replicas", 3)) * prod(len(list(v)) for v in sweep.values())
    one = {
        **(arguments.get("md_options") or {}),
        "structure": arguments.get("structure"),
        "ps": arguments.get("ps", 10.0),
        "solvent": arguments.get("solvent", "explicit"),
    }
    single = science_of(md.run).cost(one, measure=measure)
    if arguments.get("scheduler"):
        waves, where = 1, "on the cluster's workers, all at once"
    else:
        cores = os.cpu_count() or 1
        side_by_side = min(cores, int(arguments.get("n_workers") or cores)) if one.get("reproducible") else 1
        waves, where = ceil(members / max(1, side_by_side)), f"{side_by_side} at a time on {cores} cores"
    seconds = single.seconds * waves + DASK_START_S
    basis = f"{members} members, {where}: {waves} x one member ({single.basis}) + ~{DASK_START_S:.0f} s for Dask"
    return Cost(seconds, basis, (f"{members} x md.run, each:", *single.steps))


@tool(
    approval="ask",
    writes_files=True,
    keywords=(
        "replicas",
        "replica",
        "ensemble of simulations",
        "parameter sweep",
        "dask",
        "many simulations",
        "cluster",
    ),
    produces="run_folder",
)
@when_routed(implicit_unless_stated)
@writes(lambda a: a.get("out") or Path("md_ensembles") / Path(str(a["structure"])).stem)
@costs(estimate_run)
def run(
    structure: str | os.PathLike,
    replicas: int = 3,
    sweep: dict[str, list[Any]] | None = None,
    out: str | os.PathLike | None = None,
    *,
    ps: float = 10.0,
    solvent: Literal["explicit", "implicit", "vacuum"] = "explicit",
    md_options: dict[str, Any] | None = None,
    scheduler: str | None = None,
    n_workers: int | None = None,
    cpu_threads_per_member: int | None = None,
    seed: int | None = None,
    overwrite: bool = False,
) -> Ensemble:
    """Run an ensemble of independent MD simulations (replicas and/or a parameter sweep) on Dask.

    Each member is a full kenkyu md_run with its own run directory and seed under ``out``; calling again
    with the same arguments resumes unfinished members and reuses finished ones. Runs on a local Dask
    cluster by default, or on any Dask scheduler (e.g. a SLURM/PBS cluster through dask-jobqueue).

    Parameters
    ----------
    structure
        PDB or mmCIF file, readable from every worker.
    replicas
        Independent runs (different seeds) per parameter combination.
    sweep
        Parameters of md_run to vary, each with its list of values; every combination is run, e.g.
        {"temperature_k": [300, 330, 360]}.
    out
        Ensemble directory; default ``md_ensembles/<structure name>``.
    ps
        Production length of each member in ps.
    solvent
        "explicit", "implicit" or "vacuum", as in md_run.
    md_options
        Further md_run arguments shared by all members, e.g. {"nvt_ps": 20, "report_interval_ps": 2}.
    scheduler
        Address of a running Dask scheduler, e.g. "tcp://10.0.0.5:8786"; default starts a local cluster.
    n_workers
        Workers of the local cluster (default: one per CPU core, at most one per member).
    cpu_threads_per_member
        CPU threads each member's OpenMM CPU platform may use (avoids oversubscribing shared cores).
    seed
        Base seed; member i gets seed + i. Drawn at random and recorded when omitted.
    overwrite
        Delete the member runs of an existing ensemble in ``out`` and start over.

    Returns
    -------
    Ensemble
        The members (MDRun objects); ``.summary()`` lists them, ``.rmsf()`` aggregates RMSF across them.
    """
    from kenkyu.tools.md import RunExistsError

    if replicas < 1:
        raise ValueError(f"replicas must be at least 1, got {replicas}")
    options = dict(md_options or {})
    for reserved in ("out", "resume", "overwrite", "progress", "seed"):
        if reserved in options:
            raise ValueError(f"md_options may not set {reserved!r}: the ensemble manages it per member")
    for key in sweep or {}:
        if not list(sweep[key]):
            raise ValueError(f"sweep[{key!r}] is empty")
    options.update(ps=float(ps), solvent=solvent)
    directory = Path(out) if out is not None else Path("md_ensembles") / Path(structure).stem
    structure = str(Path(structure).resolve())
    spec_path = directory / ENSEMBLE_JSON
    request = {"structure": structure, "replicas": replicas, "sweep": sweep or {}, "md_options": options}
    if spec_path.exists() and not overwrite:
        stored = json.loads(spec_path.read_text())
        if {k: stored.get(k) for k in request} != json.loads(json.dumps(request)):
            raise RunExistsError(
                f"{directory} holds an ensemble with other settings (see {spec_path}). Use the same arguments "
                "to resume it, overwrite=True to start over, or another out=."
            )
        members = stored["members"]
    else:
        if overwrite and directory.exists():
            import shutil

            for member in json.loads(spec_path.read_text())["members"] if spec_path.exists() else []:
                shutil.rmtree(directory / member["name"], ignore_errors=True)
        base_seed = seed if seed is not None else secrets.randbelow(2**31 - 1)
        members = _member_specs(replicas, sweep, base_seed)
        # Every member's settings are checked before anything is created: one refusal, not N failed members.
        from kenkyu.tools.md._validate import check_call

        for member in members:
            check_call({**options, **{k: v for k, v in member["variation"].items() if k != "replica"}})
        directory.mkdir(parents=True, exist_ok=True)
        spec_path.write_text(json.dumps({**request, "seed": base_seed, "members": members}, indent=2) + "\n")

    pending = [m for m in members if not _finished(directory / m["name"])]
    if pending:
        workers = n_workers or max(1, min(len(pending), os.cpu_count() or 1))
        client, cluster = _client(scheduler, workers)
        try:
            futures = [
                client.submit(
                    _run_member,
                    structure,
                    str((directory / m["name"]).resolve()),
                    {
                        **options,
                        **{k: v for k, v in m["variation"].items() if k != "replica"},
                        "seed": m["seed"],
                    },
                    cpu_threads_per_member,
                    key=f"kenkyu-md-{m['name']}-{secrets.token_hex(4)}",
                    pure=False,
                )
                for m in pending
            ]
            results = client.gather(futures)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
        failures = {Path(path).name: error for path, error in results if error}
    else:
        failures = {}
    ensemble = Ensemble.load(directory)
    ensemble.errors.update(failures)
    return ensemble


def _finished(path: Path) -> bool:
    try:
        return json.loads((path / "run.json").read_text()).get("status") == "finished"
    except (FileNotFoundError, json.JSONDecodeError):
        return False


@tool(
    keywords=(
        "ensemble",
        "across replicas",
        "across the ensemble",
        "mean and spread",
        "compare replicas",
        "between replicas",
    ),
    produces="table",
)
@computes(
    "flexibility across replicas",
    # the per-run RMSF's own words: "across my replicas, do the same residues flex?" is this tool's
    "flexibility",
    "flexible",
    "flex",
    "wobble",
    "fluctuation",
    "floppy",
    "mobility",
    "rigid",
    "moves the most",
    "replica agreement",
    "agree between replicas",
    "outlier replica",
    "outlier",
    "spread between replicas",
)
def rmsf(ensemble: str | os.PathLike | EnsembleObject, selection: str = "name CA"):
    """Per-residue RMSF across the members of an MD ensemble: mean, standard deviation, min and max.

    Parameters
    ----------
    ensemble
        Ensemble directory (from ensembles_run), or by hand an Ensemble.
    selection
        Atoms used for RMSF, as in analysis_rmsf ("name CA" = C-alpha).

    Returns
    -------
    AnalysisTable
        One row per residue: residue_index, resSeq, resname, residue, rmsf_mean_nm, rmsf_std_nm, rmsf_min_nm,
        rmsf_max_nm, n_members; the per-member values are in ``.members``; ``.figure`` shows mean +/- sd and
        each member.
    """
    from kenkyu.tools.analysis import make_table, new_figure
    from kenkyu.tools.analysis import rmsf as member_rmsf

    if not isinstance(ensemble, Ensemble):
        ensemble = Ensemble.load(ensemble)
    per_member = ensemble.map(member_rmsf, selection=selection)
    grouped = per_member.groupby(["residue_index", "resSeq", "resname", "residue"], sort=True)["rmsf_nm"]
    table = grouped.agg(
        rmsf_mean_nm="mean",
        rmsf_std_nm=lambda v: float(np.std(v, ddof=1)) if len(v) > 1 else 0.0,
        rmsf_min_nm="min",
        rmsf_max_nm="max",
        n_members="count",
    ).reset_index()
    figure, axes = new_figure()
    for name, member in per_member.groupby("member"):
        axes.plot(member.resSeq, member.rmsf_nm, lw=0.6, alpha=0.5, color="grey")
    axes.plot(table.resSeq, table.rmsf_mean_nm, lw=1.6, label="mean")
    axes.fill_between(
        table.resSeq,
        table.rmsf_mean_nm - table.rmsf_std_nm,
        table.rmsf_mean_nm + table.rmsf_std_nm,
        alpha=0.3,
        label="± sd",
    )
    axes.set(
        xlabel="residue number",
        ylabel="RMSF (nm)",
        title=f"RMSF across {per_member.member.nunique()} members",
    )
    axes.legend(fontsize=7)
    top = table.nlargest(min(3, len(table)), "rmsf_mean_nm")
    result = make_table(
        table,
        figure,
        f"RMSF ({selection}) across {per_member.member.nunique()} ensemble members",
        [
            f"{len(table)} residues; mean RMSF {table.rmsf_mean_nm.mean():.3f} nm, typical spread between members "
            f"{table.rmsf_std_nm.mean():.3f} nm; most mobile: "
            + ", ".join(f"{r.residue} ({r.rmsf_mean_nm:.3f} ± {r.rmsf_std_nm:.3f} nm)" for r in top.itertuples())
        ],
    )
    result.members = per_member
    return result
