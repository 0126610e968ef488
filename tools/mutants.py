"""Point mutants: built with pdbfixer, simulated beside the wild type in replicas, compared near the site.

By hand, as the agent writes it::

    import kenkyu.tools.mutants as mutants
    runs_1 = mutants.simulate_mutants("villin_1vii.pdb", ["K65A"], replicas=3, ps=1000, solvent="implicit")
    effect_1 = mutants.compare_to_wild_type("mutant_runs/villin_1vii")  # ESM-2 scores, deltas with CIs, verdict
    effect_1.figure  # per-residue delta RMSF with its 95% CI band, the site marked

Each mutation is its own single mutant (``["K65A", "F76L"]`` is two mutants, not a double mutant). Positions
are the structure file's residue numbers, as :func:`kenkyu.tools.structure.variant_effects` reads a structure
(villin's 1VII numbers 41-76: its Lys65 is K65A in both tools); ``numbering="sequence"`` counts 1-based along
the chain instead (K25A). Both tools read the chain with the same reader and say which numbering they used. A
mutation whose wild-type letter is not the structure's residue is refused, naming both: a molecule is never
changed silently.

The confidence intervals are bootstraps over replicas: each arm's replicas (independent runs, one value
each) are resampled with replacement, separately for wild type and mutant, and the difference of the
arms' means is taken each time. Frames within a run are not resampled: they are correlated in time.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from kenkyu.core.registry import tool
from kenkyu.core.science import Cost, checked_by, costs, result_check, when_routed, writes
from kenkyu.tools._residue_codes import THREE
from kenkyu.tools.md._routing import implicit_unless_stated
from kenkyu.tools.structure._from_structure import ChainSequence, read_chain
from kenkyu.tools.structure._sequences import InvalidSequenceError

__all__ = [
    "MIN_PS_FOR_VERDICT",
    "MIN_REPLICAS",
    "MutantBuild",
    "MutantRuns",
    "Mutation",
    "MutationEffect",
    "MutationError",
    "build_mutants",
    "chain_sequence",
    "compare_to_wild_type",
    "parse_mutations",
    "simulate_mutants",
]

# Below these the verdict is "inconclusive", whatever the intervals say (the thresholds, in one place):
# the RMSF of a small protein's loops and side chains needs about a nanosecond to converge, and a
# bootstrap over fewer than three replicas per arm has too few distinct resamples to bound a difference.
MIN_PS_FOR_VERDICT = 1000.0
MIN_REPLICAS = 3
DEFAULT_RADIUS_NM = 0.8  # residues with a heavy atom this close to the site's heavy atoms are "near the site"
CONFIDENCE = 0.95
RESAMPLES = 2000
RUNS_JSON = "mutants.json"
WILD_TYPE = "wild_type"

_TOKEN = re.compile(r"^(?:([A-Za-z0-9]):)?([A-Za-z])(-?\d+)([A-Za-z])$")


class MutationError(ValueError):
    """A mutation that cannot be made on this structure; the message names the problem and the fix."""


@dataclass(frozen=True)
class Mutation:
    """One substitution, located in the structure: ``position`` along the chain (1-based, as ESM-2 counts), ``resseq``
    the file's residue number, ``numbering`` how the mutation was written ("pdb": K65A is residue 65 of the file)."""

    chain: str
    position: int
    resseq: str
    wild_type: str
    mutant: str
    numbering: str = "sequence"  # records written before round 11 counted along the chain

    @property
    def name(self) -> str:
        """The mutation as it was written, in its numbering: ``K65A`` (PDB) or ``K25A`` (along the chain)."""
        return f"{self.wild_type}{self.resseq if self.numbering == 'pdb' else self.position}{self.mutant}"

    @property
    def along_chain(self) -> str:
        """The same substitution counted 1-based along the chain, as ESM-2 scores of the chain's sequence count."""
        return f"{self.wild_type}{self.position}{self.mutant}"

    @property
    def residue(self) -> str:
        """How the structure names the site: ``LYS 65 (chain A)``."""
        chain = f" (chain {self.chain})" if self.chain.strip() else ""  # a PDB may leave the chain id blank
        return f"{THREE[self.wild_type]} {self.resseq}{chain}"

    @property
    def counted(self) -> str:
        """Which numbering the name uses, in words: ``PDB numbering; 25 along the chain``."""
        if self.numbering == "pdb":
            return "PDB numbering" + ("" if str(self.position) == self.resseq else f"; {self.position} along the chain")
        return "counted along the chain" + ("" if str(self.position) == self.resseq else f"; PDB {self.resseq}")

    def swap(self) -> str:
        return f"{self.residue} -> {THREE[self.mutant]}"


def chain_sequence(structure, chain: str | None = None) -> str:
    """The one-letter sequence of a protein chain of a structure (its only one, or ``chain``), as ESM-2 reads it:
    the same reader as kenkyu.tools.structure's (a gap in the numbering is X, so positions keep their place)."""
    return _read(structure, chain).sequence


def _read(structure, chain: str | None, example: str = "K25A") -> ChainSequence:
    """The chain as kenkyu.tools.structure reads it (one reader for the mutant and the ESM-2 tools)."""
    if not hasattr(structure, "topology_path"):
        path = Path(structure)
        if not path.is_file():
            raise FileNotFoundError(f"structure {structure} does not exist; give a PDB or mmCIF file")
    try:
        return read_chain(structure, chain)
    except InvalidSequenceError as exc:
        several = "protein chains:" in str(exc) and chain is None
        raise MutationError(
            str(exc) + (f" In a mutation, write the chain before it: 'A:{example}'." if several else "")
        ) from None


def parse_mutations(structure, mutations, numbering: Literal["pdb", "sequence"] = "pdb") -> list[Mutation]:
    """Locate mutations ("K65A", "A:K65A", or one string "K65A and F76L") in a structure, or refuse with why.

    ``numbering="pdb"`` (default): positions are the file's residue numbers, as structure_variant_effects reads a
    structure; ``"sequence"``: 1-based along the chain (a gap in the file's numbering counts as positions)."""
    if numbering not in ("sequence", "pdb"):
        raise MutationError(f"numbering must be 'pdb' or 'sequence', not {numbering!r}")
    if isinstance(mutations, str):
        mutations = [m for m in re.split(r"[\s,;+]+|\band\b", mutations) if m.strip()]
    if not mutations:
        raise MutationError("no mutations given: pass a list like ['K65A', 'F76L'] (wild type, position, mutant)")
    read: dict[str | None, ChainSequence] = {}
    located = []
    for text in mutations:
        match = _TOKEN.match(str(text).strip())
        if not match:
            raise MutationError(
                f"mutation {text!r} is not in the form K65A (wild-type letter, position, mutant letter), "
                "optionally with a chain: A:K65A"
            )
        chain_id, wild, number, mutant = match.group(1), *match.group(2, 3, 4)
        wild, mutant, number = wild.upper(), mutant.upper(), int(number)
        for letter in (wild, mutant):
            if letter not in THREE:
                raise MutationError(f"mutation {text!r}: {letter!r} is not one of the 20 standard amino acids")
        if chain_id not in read:
            read[chain_id] = _read(structure, chain_id, str(text).strip())
        chain = read[chain_id]
        try:
            index = chain.index_of(str(text), number, wild, numbering)
        except InvalidSequenceError as exc:
            raise MutationError(str(exc)) from None
        if wild == mutant:
            raise MutationError(f"mutation {text!r} changes nothing: the mutant residue is the wild type")
        located.append(Mutation(chain.chain, index + 1, chain.numbers[index], wild, mutant, numbering))
    return located


# -- building --------------------------------------------------------------------------------------------


@dataclass
class MutantBuild:
    """The mutant structures written by :func:`build_mutants`, by mutation name, and what was changed in each."""

    structure: Path
    mutations: list[Mutation]
    paths: dict[str, Path]
    atoms: dict[str, tuple[int, int]] = field(default_factory=dict)  # name -> (wild-type atoms, mutant atoms)

    def summary(self) -> str:
        lines = [f"{len(self.paths)} mutant structure(s) of {self.structure.name}, built with pdbfixer:"]
        for m in self.mutations:
            before, after = self.atoms.get(m.name, (0, 0))
            lines.append(
                f"  {m.name} ({m.counted}): {m.swap()}, side chain rebuilt by pdbfixer ({before} -> {after} atoms "
                f"in the residue, hydrogens at pH 7); {self.paths[m.name]}"
            )
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        head, *rest = self.summary().splitlines()
        return f"**{head}**\n\n" + "\n".join(f"- {line.strip()}" for line in rest)


def _build_one(structure: Path, mutation: Mutation, path: Path) -> tuple[int, int]:
    from kenkyu.tools.md import _prepare as prep
    from openmm.app import PDBFile
    from pdbfixer import PDBFixer

    # prep.reproducible_building makes the same mutant every time, so an exported report that rebuilds it
    # re-runs to the same numbers.
    fixer = PDBFixer(filename=str(structure))
    site = next(r for r in fixer.topology.residues() if r.chain.id == mutation.chain and r.id == mutation.resseq)
    before = len(list(site.atoms()))
    fixer.applyMutations([f"{THREE[mutation.wild_type]}-{mutation.resseq}-{THREE[mutation.mutant]}"], mutation.chain)
    fixer.findMissingResidues()
    fixer.missingResidues = {}  # only the swapped side chain is rebuilt: no tails or loops are added
    fixer.findMissingAtoms()
    with prep.reproducible_building(fixer) as seed:
        fixer.addMissingAtoms(seed=seed)
        fixer.addMissingHydrogens(7.0)
    site = next(r for r in fixer.topology.residues() if r.chain.id == mutation.chain and r.id == mutation.resseq)
    if site.name != THREE[mutation.mutant]:
        raise MutationError(f"pdbfixer did not make {mutation.name}: the residue is {site.name} after the swap")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        PDBFile.writeFile(fixer.topology, fixer.positions, handle, keepIds=True)
    return before, len(list(site.atoms()))


def _files_to_build(arguments: dict, *, measure: bool = True) -> Cost:
    """What the approval shows: each mutant file the call writes (or reuses), with the swap it makes."""
    structure = Path(str(arguments.get("structure", "")))
    out = Path(str(arguments.get("out") or "mutants"))
    basis = "pdbfixer on a small protein, typical"
    try:
        located = parse_mutations(structure, arguments.get("mutations") or [], arguments.get("numbering", "pdb"))
    except (MutationError, OSError, ValueError) as exc:  # the call itself refuses it, saying why
        return Cost(1.0, basis, (f"nothing is written: {exc}",))
    steps = []
    for m in located:
        path = out / f"{structure.stem}_{m.name}.pdb"
        if path.exists() and not arguments.get("overwrite"):
            steps.append(f"reuse {path} ({m.swap()}; the file exists, overwrite=True rebuilds it)")
        else:
            steps.append(f"write {path}: {m.swap()}, side chain rebuilt by pdbfixer ({m.name}: {m.counted})")
    return Cost(3.0 * len(located), basis, tuple(steps))


@tool(
    # It writes new structure files into the working folder: asked before, like every tool that writes files.
    approval="ask",
    writes_files=True,
    keywords=("build the mutant", "mutant structure", "swap the residue", "pdbfixer mutation", "make the mutant"),
    produces="structure",
)
@costs(_files_to_build)
def build_mutants(
    structure: str | os.PathLike,
    mutations: list[str],
    out: str | os.PathLike = "mutants",
    *,
    numbering: Literal["pdb", "sequence"] = "pdb",
    overwrite: bool = False,
) -> MutantBuild:
    """Build point-mutant structures with pdbfixer: the residue is swapped and its side chain rebuilt.

    Parameters
    ----------
    structure
        The wild-type PDB or mmCIF file.
    mutations
        Substitutions like ["K65A", "F76L"] (one mutant each), optionally with a chain: "A:K65A".
    out
        Folder for the mutant PDB files (``<structure name>_<mutation>.pdb``).
    numbering
        "pdb" (default): positions are the file's residue numbers, as structure_variant_effects reads a structure;
        "sequence": 1-based along the chain (K25A of villin is its Lys65).
    overwrite
        Rebuild files that exist (by default an existing mutant file is reused).

    Returns
    -------
    MutantBuild
        ``.paths`` by mutation name; ``.summary()`` names each swap (residue, chain, atoms before and after).
    """
    structure = Path(structure)
    located = parse_mutations(structure, mutations, numbering)
    paths, atoms = {}, {}
    for mutation in located:
        path = Path(out) / f"{structure.stem}_{mutation.name}.pdb"
        if overwrite or not path.exists():
            atoms[mutation.name] = _build_one(structure, mutation, path)
        else:
            atoms[mutation.name] = _atoms_at(structure, mutation, path)
        paths[mutation.name] = path
    return MutantBuild(structure, located, paths, atoms)


def _atoms_at(structure: Path, mutation: Mutation, path: Path) -> tuple[int, int]:
    from openmm.app import PDBFile

    def count(file):
        topology = PDBFile(str(file)).topology
        site = next(r for r in topology.residues() if r.chain.id == mutation.chain and r.id == mutation.resseq)
        return site.name, len(list(site.atoms()))

    name, after = count(path)
    if name != THREE[mutation.mutant]:
        raise MutationError(
            f"{path} exists but has {name} at {mutation.resseq}, not {THREE[mutation.mutant]}: pass overwrite=True"
        )
    return count(structure)[1], after


# -- simulating ------------------------------------------------------------------------------------------


@dataclass
class MutantRuns:
    """Wild type and mutants simulated as replica ensembles under one folder (see :func:`simulate_mutants`)."""

    directory: Path
    spec: dict
    ensembles: dict[str, Any]  # arm ("wild_type", "K25A") -> kenkyu.tools.ensembles.Ensemble

    @classmethod
    def load(cls, directory) -> MutantRuns:
        from kenkyu.tools.ensembles import Ensemble

        directory = Path(directory)
        spec_path = directory / RUNS_JSON
        if not spec_path.exists():
            raise FileNotFoundError(
                f"{directory} holds no {RUNS_JSON}: it is not a folder written by kenkyu.tools.mutants.simulate_mutants"
            )
        spec = json.loads(spec_path.read_text())
        arms = [WILD_TYPE, *[m["name"] for m in spec["mutations"]]]
        return cls(directory, spec, {arm: Ensemble.load(directory / arm) for arm in arms})

    @property
    def mutations(self) -> list[Mutation]:
        return [Mutation(**{k: v for k, v in m.items() if k != "name"}) for m in self.spec["mutations"]]

    def summary(self) -> str:
        spec = self.spec
        lines = [
            f"Wild type and {len(spec['mutations'])} mutant(s) of {Path(spec['structure']).name} in {self.directory}: "
            f"{spec['replicas']} replicas x {spec['ps']:g} ps each ({spec['solvent']} solvent)"
        ]
        for arm, ensemble in self.ensembles.items():
            what = (
                "wild type"
                if arm == WILD_TYPE
                else next(f"{m.name} ({m.counted}): {m.swap()} (pdbfixer)" for m in self.mutations if m.name == arm)
            )
            lines.append(f"  {what}: {len(ensemble.finished)} of {len(ensemble.members)} replicas finished")
            lines += [f"    error in {name}: {error}" for name, error in ensemble.errors.items()]
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        head, *rest = self.summary().splitlines()
        return f"**{head}**\n\n" + "\n".join(f"- {line.strip()}" for line in rest)


def runs_directory(structure) -> str:
    return f"mutant_runs/{Path(structure).stem}"


def _folder_of_call(arguments: dict) -> str | None:
    if arguments.get("out"):
        return str(arguments["out"])
    return runs_directory(arguments["structure"]) if arguments.get("structure") else None


def _estimate(arguments: dict, *, measure: bool = True) -> Cost:
    """md.run's measured speed for one replica, times the runs, over the workers that share this machine."""
    from kenkyu.core.science import science_of
    from kenkyu.tools import md

    mutations = arguments.get("mutations") or []
    n_mutants = len(re.split(r"[\s,;+]+|\band\b", mutations)) if isinstance(mutations, str) else len(mutations)
    replicas = int(arguments.get("replicas", 2))
    member = {
        "structure": arguments.get("structure"),
        "ps": float(arguments.get("ps", 10.0)),
        "solvent": arguments.get("solvent", "implicit"),
        **(arguments.get("md_options") or {}),
    }
    one = science_of(md.run).cost(member, measure=measure)
    runs = replicas * (1 + n_mutants)
    workers = max(1, min(runs, os.cpu_count() or 1))
    # The members share the cores: a run on w workers each with its share is about as fast as in a row.
    seconds = one.seconds * runs / workers * max(1.0, workers / (os.cpu_count() or 1))
    basis = f"{runs} runs ({1 + n_mutants} structures x {replicas} replicas) on {workers} workers; one run: {one.basis}"
    return Cost(seconds, basis, (f"{runs} runs of {member['ps']:g} ps",))


def _routed(arguments: dict) -> dict:
    """The embedded model's call, adjusted: implicit solvent unless stated, and the numbering left at its default,
    the file's residue numbers as structure_variant_effects reads them (a small model picks a numbering from words
    that do not say one; the scientist passes numbering="sequence" by hand)."""
    arguments = implicit_unless_stated(arguments)
    arguments.pop("numbering", None)
    if "report_interval_ps" in arguments:  # md.run's option: each replica gets it through md_options
        options = dict(arguments.get("md_options") or {})
        options.setdefault("report_interval_ps", arguments.pop("report_interval_ps"))
        arguments["md_options"] = options
    return arguments


@tool(
    approval="ask",
    writes_files=True,
    keywords=(
        "simulate the mutant",
        "mutant and wild type",
        "wild type and mutant",
        "mutant simulations",
        "simulate mutations",
    ),
    produces="run_folder",
)
@writes(_folder_of_call)
@costs(_estimate)
@when_routed(_routed)
def simulate_mutants(
    structure: str | os.PathLike,
    mutations: list[str],
    replicas: int = 2,
    out: str | os.PathLike | None = None,
    *,
    ps: float = 10.0,
    solvent: Literal["explicit", "implicit", "vacuum"] = "implicit",
    numbering: Literal["pdb", "sequence"] = "pdb",
    md_options: dict[str, Any] | None = None,
    scheduler: str | None = None,
    n_workers: int | None = None,
    seed: int | None = None,
    progress: bool = True,
) -> MutantRuns:
    """Simulate the wild type and each point mutant (built with pdbfixer) as replica ensembles on Dask.

    The mutants are built in ``<out>/structures``; wild type and mutants run with the same settings and
    replicas (``<out>/wild_type``, ``<out>/<mutation>``), each an ensemble of kenkyu.tools.ensembles. Calling
    again with the same arguments resumes: finished replicas are reused.

    Parameters
    ----------
    structure
        The wild-type PDB or mmCIF file.
    mutations
        Substitutions like ["K65A", "F76L"] (one mutant each); positions as ``numbering`` says.
    replicas
        Independent runs per structure (the confidence intervals resample them; 3 or more to decide).
    out
        Folder for everything; default ``mutant_runs/<structure name>``.
    ps
        Production length of each replica in ps.
    solvent
        "explicit", "implicit" or "vacuum", as in md_run.
    numbering
        "pdb" (default: the file's residue numbers, as structure_variant_effects reads a structure) or "sequence"
        (1-based along the chain).
    md_options
        Further md_run arguments for every run, e.g. {"report_interval_ps": 1}.
    scheduler
        Address of a running Dask scheduler, e.g. "tcp://10.0.0.5:8786"; default starts a local cluster.
    n_workers
        Workers of the local cluster (default: one per CPU core).
    seed
        Base seed; each structure's replicas get their own seeds from it. Drawn and recorded when omitted.
    progress
        A progress bar over the structures.

    Returns
    -------
    MutantRuns
        The ensembles by arm; ``.summary()`` names each swap and how many replicas finished.
    """
    import secrets

    from kenkyu.tools import ensembles
    from kenkyu.tools.ensembles import ENSEMBLE_JSON
    from tqdm.auto import tqdm

    if replicas < 1:
        raise ValueError(f"replicas must be at least 1, got {replicas}")
    structure = Path(structure).resolve()
    directory = Path(out) if out is not None else Path(runs_directory(structure))
    spec_path = directory / RUNS_JSON
    stored = json.loads(spec_path.read_text()) if spec_path.exists() else {}
    built = build_mutants(structure, mutations, directory / "structures", numbering=numbering)
    base_seed = seed if seed is not None else stored.get("seed", secrets.randbelow(2**30))
    spec = {
        "structure": str(structure),
        "mutations": [{"name": m.name, **asdict(m)} for m in built.mutations],
        "replicas": replicas,
        "ps": float(ps),
        "solvent": solvent,
        "md_options": md_options or {},
        "seed": base_seed,
    }
    directory.mkdir(parents=True, exist_ok=True)
    spec_path.write_text(json.dumps(spec, indent=2) + "\n")
    arms = [(WILD_TYPE, structure)] + [(m.name, built.paths[m.name].resolve()) for m in built.mutations]
    cluster = None
    if scheduler is None and not all(_done(directory / arm, replicas) for arm, _ in arms):
        # One local cluster for every arm, not one per ensemble; none when every replica is already finished.
        from dask.distributed import LocalCluster

        workers = n_workers or max(1, min(replicas, os.cpu_count() or 1))
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
        scheduler = cluster.scheduler_address
    try:
        for arm, path in tqdm(arms, desc="wild type and mutants", unit="structure", disable=not progress):
            ensembles.run(
                path,
                replicas=replicas,
                out=directory / arm,
                ps=ps,
                solvent=solvent,
                md_options=md_options,
                scheduler=scheduler,
                cpu_threads_per_member=1,
                # The same seeds for every arm: replica r of the mutant starts as replica r of the wild type.
                seed=base_seed,
            )
    finally:
        if cluster is not None:
            cluster.close()
    # Finished replicas are reused whatever seed this call gave: the record says the seed they really ran with.
    ran_with = json.loads((directory / WILD_TYPE / ENSEMBLE_JSON).read_text())["seed"]
    if ran_with != spec["seed"]:
        spec_path.write_text(json.dumps({**spec, "seed": ran_with}, indent=2) + "\n")
    return MutantRuns.load(directory)


def _done(folder: Path, replicas: int) -> bool:
    from kenkyu.tools.ensembles import ENSEMBLE_JSON, Ensemble

    return (folder / ENSEMBLE_JSON).exists() and len(Ensemble.load(folder).finished) == replicas


# -- comparing -------------------------------------------------------------------------------------------


def near_site(structure, mutation: Mutation, radius_nm: float = DEFAULT_RADIUS_NM) -> list[int]:
    """Indices (0-based, among the protein's residues) of the residues with a heavy atom within ``radius_nm`` of
    the site's heavy atoms in the wild-type structure, the site included."""
    import mdtraj

    traj = _load_quietly(structure)
    protein = [r for r in traj.topology.residues if r.is_protein]
    chains = [c for c in traj.topology.chains if any(r.is_protein for r in c.residues)]
    ids = [getattr(c, "chain_id", None) for c in chains]
    chain = chains[ids.index(mutation.chain)] if mutation.chain in ids else chains[0]
    residue = next(r for r in chain.residues if str(r.resSeq) == str(mutation.resseq))
    site = np.array([a.index for a in residue.atoms if a.element.symbol != "H"])
    heavy = traj.topology.select("protein and not element H")
    close = mdtraj.compute_neighbors(traj, radius_nm, site, haystack_indices=heavy, periodic=False)[0]
    found = {residue} | {traj.topology.atom(int(i)).residue for i in close}
    return sorted(protein.index(r) for r in found)


def _load_quietly(path):
    import warnings

    import mdtraj

    with warnings.catch_warnings():  # a dummy CRYST1 record (NMR structures) is not a box
        warnings.simplefilter("ignore", UserWarning)
        return mdtraj.load(str(path))


def _replica_values(member, near: list[int]) -> dict:
    """One replica's numbers: per-residue CA RMSF, mean Rg, and contacts and hydrogen bonds around the site."""
    from kenkyu.tools import analysis

    traj = analysis.load_trajectory(member)
    rmsf = analysis.rmsf(traj)
    rg = analysis.radius_of_gyration(traj)
    contacts = analysis.contacts(traj)
    near_set = set(near)
    around = contacts.residue_i.isin(near_set) | contacts.residue_j.isin(near_set)
    hbonds = analysis.hydrogen_bonds(traj, min_frequency=0.0)
    residue_of = np.array([a.residue.index for a in traj.topology.atoms])
    touching = [
        residue_of[int(d)] in near_set or residue_of[int(a)] in near_set for d, a in zip(hbonds.donor, hbonds.acceptor)
    ]
    return {
        "rmsf": rmsf.rmsf_nm.to_numpy(dtype=float),
        "residues": list(rmsf.residue),
        "rmsf_near_site_nm": float(rmsf.rmsf_nm.to_numpy()[near].mean()),
        "rg_nm": float(rg.rg_nm.mean()),
        "contacts_near_site": float(contacts.frequency[around].sum()),
        "hbonds_near_site": float(hbonds.frequency[touching].sum()) if len(hbonds) else 0.0,
        "frames": traj.n_frames,
    }


def _bootstrap(mutant: np.ndarray, wild: np.ndarray, seed: int, axis: int = 0):
    """(difference of means, CI low, CI high, fraction of resamples above zero): replicas resampled per arm."""
    from scipy.stats import bootstrap

    mutant, wild = np.asarray(mutant, float), np.asarray(wild, float)
    difference = mutant.mean(axis=axis) - wild.mean(axis=axis)
    if len(mutant) < 2 or len(wild) < 2:  # one replica: no spread to resample
        nan = np.full_like(difference, np.nan)
        return difference, nan, nan, nan

    def statistic(a, b, axis):
        return a.mean(axis=axis) - b.mean(axis=axis)

    result = bootstrap(
        (mutant, wild),
        statistic,
        n_resamples=RESAMPLES,
        confidence_level=CONFIDENCE,
        method="percentile",
        axis=axis,
        random_state=np.random.default_rng(seed),
    )
    above = (result.bootstrap_distribution > 0).mean(axis=-1)
    return difference, result.confidence_interval.low, result.confidence_interval.high, above


METRICS = (
    ("rmsf_near_site_nm", "RMSF near the site (C-alpha, nm)"),
    ("rg_nm", "radius of gyration, whole protein (nm)"),
    ("contacts_near_site", "residue contacts around the site (per frame)"),
    ("hbonds_near_site", "hydrogen bonds around the site (per frame)"),
)
DECIDING = "rmsf_near_site_nm"  # the verdict rests on this one; the others are reported beside it


def verdict(score: float, low: float, high: float, above: float, ps: float, replicas: int) -> tuple[str, str, str]:
    """(agreement, MD direction, why) for one mutation.

    ESM-2 predicts "destabilising" for a negative score (the mutant is less likely than the wild type) and
    "tolerated" otherwise; MD says "destabilising" when the near-site RMSF rises (CI above zero), "not
    destabilising" when it falls (CI below zero). agreement: agrees | disagrees | inconclusive."""
    lm = "destabilising" if score < 0 else "tolerated"
    if not np.isfinite(low) or not np.isfinite(high) or low <= 0 <= high:
        md_says = "no resolved change"
    else:
        md_says = "destabilising" if low > 0 else "not destabilising"
    sure = above if lm == "destabilising" else 1 - above
    thin = []
    if ps < MIN_PS_FOR_VERDICT:
        thin.append(
            f"{ps:g} ps per replica is far shorter than the ~{MIN_PS_FOR_VERDICT:g} ps the RMSF near a site needs to "
            "converge"
        )
    if replicas < MIN_REPLICAS:
        thin.append(f"{replicas} replica(s) per arm is too few for a bootstrap over replicas (need {MIN_REPLICAS})")
    if md_says == "no resolved change":
        thin.append(f"the {CONFIDENCE:.0%} CI of the near-site delta RMSF includes zero")
    if thin:
        return "inconclusive", md_says, "; ".join(thin)
    agrees = (md_says == "destabilising") == (lm == "destabilising")
    how = f"in {sure:.0%} of bootstrap resamples the MD points the way ESM-2 does"
    return ("agrees" if agrees else "disagrees"), md_says, how


class MutationEffect:
    """What :func:`compare_to_wild_type` found: ESM-2 scores, MD differences with CIs, and the verdict per mutation.

    ``table``: one row per mutation and metric (wild-type and mutant means, difference, CI);
    ``verdicts``: one row per mutation (score, predictions, agreement, why); ``per_residue``: delta RMSF
    per residue with its CI; ``figure``: delta RMSF along the chain with the CI band, the site marked."""

    def __init__(self, table, verdicts, per_residue, figure, basis: list[str]):
        self.table, self.verdicts, self.per_residue, self.figure, self.basis = (
            table,
            verdicts,
            per_residue,
            figure,
            basis,
        )

    def summary(self) -> str:
        lines = []
        for row in self.verdicts.itertuples():
            lines.append(
                f"{row.mutation}: {row.agreement.upper()} — ESM-2 score {row.esm_score:+.2f} ({row.lm_prediction}); "
                f"MD near the site: delta RMSF {row.delta_rmsf_nm:+.4f} nm "
                f"[{CONFIDENCE:.0%} CI {row.ci_low_nm:+.4f}, {row.ci_high_nm:+.4f}] ({row.md_direction}); {row.why}"
            )
        for row in self.table.itertuples():
            if row.metric != DECIDING:
                lines.append(
                    f"  {row.mutation} {row.label}: {row.wild_type_mean:.4g} -> {row.mutant_mean:.4g}, "
                    f"delta {row.difference:+.4g} [{row.ci_low:+.4g}, {row.ci_high:+.4g}]"
                )
        return "\n".join(lines + [f"Rests on: {b}" for b in self.basis])

    def __repr__(self) -> str:  # the numbers, so a re-run report can be compared with its original as text
        return self.summary()

    def _repr_markdown_(self) -> str:
        return "\n".join(f"- {line.strip()}" for line in self.summary().splitlines())

    def _repr_html_(self) -> str:
        import html

        from kenkyu.tools._figures import figure_html

        text = "".join(f"<li>{html.escape(line.strip())}</li>" for line in self.summary().splitlines())
        return f"<ul>{text}</ul>{figure_html(self.figure)}{self.table._repr_html_()}"


def _figure(per_residue, verdicts, radius_nm: float):
    from kenkyu.tools.analysis import new_figure

    names = list(verdicts.mutation)
    figure, axes = new_figure(6.0, 2.4 * len(names))
    figure.clear()
    panels = figure.subplots(len(names), 1, squeeze=False)[:, 0]
    for ax, name in zip(panels, names):
        rows = per_residue[per_residue.mutation == name]
        x = rows.position.to_numpy()
        ax.axhline(0, color="black", lw=0.8)
        ax.fill_between(
            x, rows.ci_low_nm, rows.ci_high_nm, alpha=0.3, label=f"{CONFIDENCE:.0%} CI (replicas resampled)"
        )
        ax.plot(x, rows.delta_rmsf_nm, marker="o", ms=2.5, lw=1.2, label="mutant - wild type")
        near = rows[rows.near_site]
        ax.scatter(
            near.position, near.delta_rmsf_nm, s=14, color="tab:orange", zorder=3, label=f"within {radius_nm} nm"
        )
        site = int(verdicts[verdicts.mutation == name].position.iloc[0])
        ax.axvline(site, color="tab:red", ls="--", lw=1, label=f"site {name}")
        ax.set(xlabel="position in the chain", ylabel="delta RMSF (nm)", title=f"{name}: per-residue delta RMSF")
        ax.legend(fontsize=6, loc="upper left")
    return figure


@result_check(f"each replica is at least {MIN_PS_FOR_VERDICT:g} ps long, enough for the RMSF near the site to converge")
def long_enough(effect):
    (expectation,) = long_enough.expectations
    ps = float(effect.verdicts.ps_per_replica.min())
    status = "pass" if ps >= MIN_PS_FOR_VERDICT else "warn"
    yield expectation, status, f"{ps:g} ps per replica" + ("" if status == "pass" else ": far too short to decide")


@result_check(f"at least {MIN_REPLICAS} replicas per structure, so the bootstrap over replicas can bound a difference")
def enough_replicas(effect):
    (expectation,) = enough_replicas.expectations
    n = int(effect.verdicts.replicas.min())
    yield expectation, "pass" if n >= MIN_REPLICAS else "warn", f"{n} replicas per structure"


@result_check(f"the {CONFIDENCE:.0%} CI of the delta RMSF near the site excludes zero")
def resolved(effect):
    (expectation,) = resolved.expectations
    for row in effect.verdicts.itertuples():
        ok = np.isfinite(row.ci_low_nm) and (row.ci_low_nm > 0 or row.ci_high_nm < 0)
        yield (
            expectation,
            "pass" if ok else "warn",
            f"{row.mutation}: {row.delta_rmsf_nm:+.4f} nm [{row.ci_low_nm:+.4f}, {row.ci_high_nm:+.4f}]",
        )


@result_check("the MD's direction agrees with ESM-2's prediction")
def agrees_with_language_model(effect):
    (expectation,) = agrees_with_language_model.expectations
    status = {"agrees": "pass", "disagrees": "fail", "inconclusive": "warn"}
    for row in effect.verdicts.itertuples():
        yield expectation, status[row.agreement], f"{row.mutation}: {row.agreement} ({row.why})"


@tool(
    keywords=(
        "compare mutant with wild type",
        "mutant vs wild type",
        "mutant versus wild type",
        "delta rmsf",
        "effect of the mutation",
        "mutation effect",
    ),
    produces="table",
)
@costs(20.0, basis="mdtraj analyses of each replica plus one ESM-2 pass, typical for a small protein")
@checked_by(long_enough, enough_replicas, resolved, agrees_with_language_model)
def compare_to_wild_type(
    runs: str | os.PathLike | MutantRuns,
    *,
    radius_nm: float = DEFAULT_RADIUS_NM,
    model: str | None = None,
    seed: int = 0,
    progress: bool = True,
) -> MutationEffect:
    """Compare each mutant with the wild type near the site, with bootstrap CIs over replicas, and judge
    whether the MD agrees with ESM-2's masked-marginal prediction.

    Per replica: the CA RMSF of each residue (and its mean over the residues near the site), the mean
    radius of gyration of the whole protein, and the contacts and hydrogen bonds that involve a residue near
    the site (per frame). Differences are mutant minus wild type.

    Parameters
    ----------
    runs
        The folder written by mutants_simulate_mutants (or, by hand, its MutantRuns).
    radius_nm
        Residues with a heavy atom within this distance of the site's heavy atoms (in the wild-type
        structure) are "near the site".
    model
        ESM-2 checkpoint for the scores (default: kenkyu's default ESM-2 model).
    seed
        Seed of the bootstrap, so the same runs give the same intervals.
    progress
        A progress bar over the replicas analysed.

    Returns
    -------
    MutationEffect
        ``.verdicts`` (one row per mutation), ``.table`` (each metric with its CI), ``.per_residue``,
        ``.figure`` and ``.summary()`` (verdict first, then what it rests on).
    """
    import pandas as pd
    from kenkyu.tools import structure as structure_tools
    from tqdm.auto import tqdm

    if not isinstance(runs, MutantRuns):
        runs = MutantRuns.load(runs)
    spec = runs.spec
    mutations = runs.mutations
    wild_structure = spec["structure"]
    score_of = {}
    for chain_id in sorted({m.chain for m in mutations}):  # positions count along each mutation's own chain
        sequence = chain_sequence(wild_structure, chain_id)
        on_chain = [m for m in mutations if m.chain == chain_id]
        # Scored on the chain's sequence, so counted along it, whatever numbering the mutation was written in.
        along = [m.along_chain for m in on_chain]
        scores = structure_tools.variant_effects(sequence, along, **({"model": model} if model else {}))
        score_of.update(zip((m.name for m in on_chain), scores.score.astype(float)))
    model_name = scores.description.rsplit(" from ", 1)[-1].removesuffix(" (masked marginals)")
    members = {arm: [m for m in e.finished] for arm, e in runs.ensembles.items()}
    for arm, found in members.items():
        if len(found) == 0:
            raise ValueError(
                f"no finished replica for {arm} in {runs.directory / arm}: "
                "run mutants_simulate_mutants again with the same arguments to resume it"
            )
    nears = {m.name: near_site(wild_structure, m, radius_nm) for m in mutations}
    total = sum(len(v) for v in members.values()) * len(mutations)
    values: dict[tuple[str, str], list[dict]] = {}
    with tqdm(total=total, desc="analysing replicas", unit="replica", disable=not progress) as bar:
        for m in mutations:
            for arm in (WILD_TYPE, m.name):
                values[(m.name, arm)] = []
                for member in members[arm]:
                    values[(m.name, arm)].append(_replica_values(member, nears[m.name]))
                    bar.update(1)
    rows, verdict_rows, residue_rows = [], [], []
    for k, m in enumerate(mutations):
        wild, mutant = values[(m.name, WILD_TYPE)], values[(m.name, m.name)]
        replicas = min(len(wild), len(mutant))
        ps = float(spec["ps"])  # each replica's production length, as simulated
        for j, (metric, label) in enumerate(METRICS):
            a = np.array([v[metric] for v in mutant])
            b = np.array([v[metric] for v in wild])
            difference, low, high, above = _bootstrap(a, b, seed + 101 * k + j)
            rows.append(
                {
                    "mutation": m.name,
                    "metric": metric,
                    "label": label,
                    "wild_type_mean": float(b.mean()),
                    "mutant_mean": float(a.mean()),
                    "difference": float(difference),
                    "ci_low": float(low),
                    "ci_high": float(high),
                    "replicas_wild_type": len(b),
                    "replicas_mutant": len(a),
                }
            )
            if metric == DECIDING:
                score = score_of[m.name]
                agreement, md_says, why = verdict(score, float(low), float(high), float(above), ps, replicas)
                verdict_rows.append(
                    {
                        "mutation": m.name,
                        "position": m.position,
                        "site": m.residue,
                        "esm_score": score,
                        "lm_prediction": "destabilising" if score < 0 else "tolerated",
                        "delta_rmsf_nm": float(difference),
                        "ci_low_nm": float(low),
                        "ci_high_nm": float(high),
                        "md_direction": md_says,
                        "agreement": agreement,
                        "sure": float(above if score < 0 else 1 - above) if np.isfinite(above) else float("nan"),
                        "why": why,
                        "ps_per_replica": ps,
                        "replicas": replicas,
                        "near_site": len(nears[m.name]),
                    }
                )
        per_mut = np.array([v["rmsf"] for v in mutant])
        per_wild = np.array([v["rmsf"] for v in wild])
        difference, low, high, _ = _bootstrap(per_mut, per_wild, seed + 7919 * (k + 1))
        for i, residue in enumerate(wild[0]["residues"]):
            residue_rows.append(
                {
                    "mutation": m.name,
                    "residue_index": i,
                    "position": i + 1,
                    "residue": residue,
                    "delta_rmsf_nm": float(difference[i]),
                    "ci_low_nm": float(low[i]),
                    "ci_high_nm": float(high[i]),
                    "near_site": i in nears[m.name],
                }
            )
    table, verdicts, per_residue = pd.DataFrame(rows), pd.DataFrame(verdict_rows), pd.DataFrame(residue_rows)
    figure = _figure(per_residue, verdicts, radius_nm)
    basis = [
        f"ESM-2 masked-marginal scores from {model_name} (negative: the mutant is less likely than the wild type)",
        f"{spec['replicas']} replicas x {spec['ps']:g} ps per structure ({spec['solvent']} solvent), all frames; "
        f"mutants built with pdbfixer from {Path(wild_structure).name}",
        f"{CONFIDENCE:.0%} CIs: percentile bootstrap ({RESAMPLES} resamples, seed {seed}) over replicas, resampled "
        "per arm; frames are not resampled",
        f"near the site: residues with a heavy atom within {radius_nm:g} nm of the site's heavy atoms in the wild type",
        "the verdict rests on the near-site delta RMSF; Rg, contacts and hydrogen bonds are reported beside it",
    ]
    return MutationEffect(table, verdicts, per_residue, figure, basis)
