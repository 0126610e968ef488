"""The resolver: what in the notebook a request may mean when it does not give a path.

"how much does traj drift?", "rg over my last run", "how compact is villin?", "why did that fail?": the
words point at things the notebook holds, and this module lists them as
:class:`~kenkyu.core.routing.Candidate` s (plain data the router and the embedded model's provider match
to a tool's required inputs, see :func:`kenkyu.core.routing.resolve_slot`):

- kernel variables by type: an ``mdtraj.Trajectory`` or an ``MDRun`` (a trajectory), an ensemble, a
  folding result, a string that is a path (by what the file holds) or a protein sequence;
- run folders on disk (``*/<name>/run.json``: structure, solvent, status, when) and ensemble folders;
- files in the working folder by stem and type (``villin.pdb`` for "villin", a ``.dcd`` for "the trajectory");
- the last error in the kernel, with the line of the cell that raised it.

Each candidate carries a label the action cell and the reply show ("`traj` (Trajectory, 596 atoms, 20
frames)"); stronger models get the same list in their context (:func:`render_candidates`). Nothing here
names a tool: the kinds are those of the tools' parameters (``trajectory``, ``structure``, ``sequence``...).
"""

from __future__ import annotations

import datetime as _dt
import json
import linecache
import os
import re
import sys
import traceback
from dataclasses import replace
from pathlib import Path

from kenkyu.core.routing import Candidate, object_slots, protein_tokens, sliced_variable

STRUCTURE_FILES = (".pdb", ".cif", ".mmcif", ".pdbx", ".gro")
TRAJECTORY_FILES = (".dcd", ".xtc", ".trr", ".nc", ".h5", ".binpos")
SEQUENCE_FILES = (".fasta", ".fa", ".faa")
RUN_RECORD = "run.json"
ENSEMBLE_RECORD = "ensemble.json"
CG_RECORD = "cg.json"  # a coarse-grained run folder (kenkyu.tools.md.coarse_grained)
LADDER_RECORD = "ladder.json"  # a temperature ladder (kenkyu.tools.unfolding.ladder): what a melting curve reads
_MAX_FILES = 200  # a working folder with more files than this is only partly listed


def gather(namespace: dict | None, folder: str | os.PathLike = ".", *, error: bool = True) -> list[Candidate]:
    """Everything in the kernel and the working folder that may be a tool's input, newest first."""
    found: list[Candidate] = []
    found += variables(namespace or {})
    found += run_folders(folder)
    found += files(folder)
    found += literature_indexes(folder, namespace or {})
    if error:
        last = last_error_candidate()
        if last is not None:
            found.append(last)
    # A path held in a variable and found on disk is one thing: keep the variable's (it carries both names).
    seen: dict[tuple[str, str], Candidate] = {}
    for c in found:
        key = (c.kind, _norm(c.value) if not c.variable else f"var:{c.value}")
        if key in seen:
            kept = seen[key]
            seen[key] = replace(
                kept,
                names=tuple(dict.fromkeys(kept.names + c.names)),
                order=max(kept.order, c.order),
                aliases=tuple(dict.fromkeys(kept.aliases + c.aliases)),
                members=kept.members or c.members,
                path=kept.path or c.path,
                formats=tuple(dict.fromkeys(kept.formats + c.formats)),
            )
        else:
            seen[key] = c
    return sorted(seen.values(), key=lambda c: -c.order)


def _norm(path: str) -> str:
    return os.path.normpath(path)


# -- the kernel --------------------------------------------------------------------------------------------------


def variables(namespace: dict) -> list[Candidate]:
    """Kernel variables that can be a tool's input; the most recently defined has the highest order."""
    found = []
    items = [(k, v) for k, v in list(namespace.items()) if not k.startswith("_") and k not in ("In", "Out")]
    base = _now_order()
    for index, (name, value) in enumerate(items):
        order = base + index  # variables are newer than anything on disk, later ones newer still
        candidate = _described(name, value, order)
        if candidate is not None:
            found.append(candidate)
        found += _entries(name, value, order)
    return found


def _described(name: str, value, order: float) -> Candidate | None:
    """The candidate of one kernel value, or None when describing it fails (an MDRun whose folder was deleted raises
    on reading its run.json): one broken variable must not keep the others from the request."""
    try:
        return _variable_candidate(name, value, order)
    except (OSError, ValueError, KeyError, AttributeError, TypeError):
        return None


def _entries(name: str, value, order: float) -> list[Candidate]:
    """The runs, trajectories and ensembles a dict in the kernel holds (``runs = {'new': MDRun(...), 'old':
    MDRun(...)}``), each as the expression that reaches it, ``runs['old']``: "the Rg of runs['old']" is that entry
    (held-out 17), passed to the tool as the expression, not as text. Up to 20 entries under string keys."""
    if not isinstance(value, dict) or not 1 <= len(value) <= 20 or not all(isinstance(k, str) for k in value):
        return []
    found = []
    for key, entry in list(value.items()):
        expression = f"{name}[{key!r}]"
        candidate = _described(expression, entry, order)
        if candidate is not None and candidate.variable:
            said = (expression, f'{name}["{key}"]')
            found.append(replace(candidate, names=tuple(dict.fromkeys((*said, *candidate.names)))))
    return found


def _variable_candidate(name: str, value, order: float) -> Candidate | None:
    kind_name = type(value).__name__
    module = type(value).__module__ or ""
    if module.split(".")[0] == "mdtraj" and kind_name == "Trajectory":
        label = f"`{name}` (Trajectory, {value.n_atoms} atoms, {value.n_frames} frames)"
        # Which file it was read from is not kept by mdtraj: "the xtc I loaded" may be it, whatever the format.
        formats = tuple(s.lstrip(".") for s in TRAJECTORY_FILES)
        try:
            residues = tuple(f"{r.name}{r.resSeq}" for r in value.topology.residues if r.name in _STANDARD_RESIDUES)[
                :5000
            ]
        except Exception:  # a topology of another make: its residues are not known
            residues = ()
        return Candidate("trajectory", name, label, True, (name,), order, formats=formats, residues=residues)
    if hasattr(value, "trajectory") and hasattr(value, "directory") and hasattr(value, "info"):  # an MDRun
        folder = str(getattr(value, "directory", ""))
        parameters = _run_parameters(Path(folder))
        # Labelled by its real kind: a CoarseGrainedRun is no all-atom MDRun (its analyses go bead by bead, and
        # DSSP, hydrogen bonds and SASA refuse it).
        label = (
            f"`{name}` (CoarseGrainedRun, one bead per residue, {folder})"
            if kind_name == "CoarseGrainedRun"
            else f"`{name}` (MDRun, {folder}{_run_facts(parameters)})"
        )
        return Candidate(
            "trajectory",
            name,
            label,
            True,
            (name,),
            order,
            _stem_names(folder),
            path=_norm(folder),
            **_run_fields(Path(folder), parameters),
        )
    if hasattr(value, "members") and hasattr(value, "directory") and isinstance(getattr(value, "members"), list):
        label = f"`{name}` (ensemble of {len(value.members)} runs, {value.directory})"
        members = tuple(
            str(getattr(m, "directory", m))
            for m in value.members
            if isinstance(getattr(m, "directory", m), (str, os.PathLike))
        )
        return Candidate("ensemble_folder", name, label, True, (name,), order, (), members)
    if kind_name == "FoldResult":
        return Candidate("prediction", name, f"`{name}` (FoldResult)", True, (name,), order)
    if isinstance(value, (str, os.PathLike)):
        text = os.fspath(value)
        if len(text) < 500 and "\n" not in text and text and os.path.exists(text):
            kind = _path_kind(Path(text))
            if kind is not None:
                label = f"`{name}` = {text!r}"
                return Candidate(
                    kind,
                    text,
                    label,
                    False,
                    (name, text, Path(text).name),
                    order,
                    _stem_names(text),
                    formats=_formats_of(Path(text)),
                )
        if isinstance(value, str) and protein_tokens(value) == [value.strip()]:
            label = f"`{name}` (sequence, {len(value.strip())} residues)"
            return Candidate("sequence", value.strip(), label, False, (name,), order)
    return _sequences_candidate(name, value, order)


def _sequences_candidate(name: str, value, order: float) -> Candidate | None:
    """A dict or list of protein sequences in the kernel (``seqs = {'wt': 'MLSD...', 'K25A': 'MLSD...'}``): passed as
    FASTA text, one record per entry under its key, which the sequence tools read as several sequences ("ESM-2
    embeddings for both entries in seqs", held-out 16). Up to 50 entries, each a sequence of one-letter codes."""
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, (list, tuple)):
        items = [(f"{name}_{i + 1}", v) for i, v in enumerate(value)]
    else:
        return None
    if not 1 <= len(items) <= 50 or not all(isinstance(k, str) and isinstance(v, str) for k, v in items):
        return None
    if not all(protein_tokens(v) == [v.strip()] and not re.search(r"\s", k) for k, v in items):
        return None
    fasta = "".join(f">{k}\n{v.strip()}\n" for k, v in items)
    shown = ", ".join(k for k, _ in items[:4]) + (", ..." if len(items) > 4 else "")
    label = f"`{name}` ({len(items)} sequences: {shown})"
    return Candidate("sequence", fasta, label, False, (name,), order)


# -- the disk ---------------------------------------------------------------------------------------------------


def run_folders(folder: str | os.PathLike = ".") -> list[Candidate]:
    """MD run folders (a ``run.json``) and ensemble folders one or two levels down, by when they were made."""
    root = Path(folder)
    found = []
    for record in sorted(root.glob(f"*/*/{RUN_RECORD}")) + sorted(root.glob(f"*/{RUN_RECORD}")):
        run = record.parent
        if (run.parent / ENSEMBLE_RECORD).exists() or (run.parent.parent / ENSEMBLE_RECORD).exists():
            continue  # an ensemble member: the ensemble is listed instead
        info = _read_json(record)
        structure = Path(str(info.get("structure", ""))).name
        parameters = info.get("parameters") or {}
        solvent = parameters.get("solvent", "")
        # The temperature is how a scientist tells runs apart ("the 350 K run"): the label carries it, so a
        # request naming a temperature no run has is asked about (kenkyu.core.routing.missing_object).
        temperature = _kelvin(parameters.get("temperature_k"))
        status = info.get("status", "unknown")
        when = info.get("updated") or info.get("created")
        # "the extended run": a run md.extend continued says so (run.json's extensions), in its label too.
        extended = f"extended {len(info['extensions'])}x" if info.get("extensions") else ""
        # Its length and seed too: "the 4 ps run", "the seed-2 simulation" tell runs apart, and a request naming a
        # length or seed no run has is asked about, listing the runs with theirs.
        length = _length(parameters.get("ps"))
        seed = f"seed {parameters['seed']}" if isinstance(parameters.get("seed"), int) else ""
        frames = _frames_held(run)
        details = ", ".join(
            x for x in (structure, solvent, temperature, length, seed, frames, status, extended, _short_time(when)) if x
        )
        path = _relative(run, root)
        aliases = _with_nicknames((*_stem_names(run.name), *_stem_names(structure)))
        label = f"{path} ({details})"
        found.append(
            Candidate(
                "run_folder",
                path,
                label,
                False,
                (path, run.name),
                _order(when, record),
                aliases,
                **_run_fields(run, parameters),
            )
        )
    for record in sorted(root.glob(f"*/*/{LADDER_RECORD}")) + sorted(root.glob(f"*/{LADDER_RECORD}")):
        path = _relative(record.parent, root)
        names = (path, record.parent.name)
        label = f"{path} (temperature ladder)"
        found.append(Candidate("ladder_folder", path, label, False, names, _order(None, record)))
    for record in sorted(root.glob(f"*/*/{CG_RECORD}")) + sorted(root.glob(f"*/{CG_RECORD}")):
        # A coarse-grained run (md.coarse_grained): analysed bead by bead like any run folder, labelled as such.
        info = _read_json(record)
        parameters = info.get("parameters") or {}
        structure = Path(str(parameters.get("structure", ""))).name
        when = info.get("finished") or info.get("started")
        details = ", ".join(
            x
            for x in (
                "coarse-grained",
                structure,
                _kelvin(parameters.get("temperature_k")),
                _length(parameters.get("ps")),
                f"{info['n_beads']} beads" if isinstance(info.get("n_beads"), int) else "",
                info.get("status", "unknown"),
                _short_time(when),
            )
            if x
        )
        path = _relative(record.parent, root)
        aliases = _with_nicknames((*_stem_names(record.parent.name), *_stem_names(structure)))
        label = f"{path} ({details})"
        found.append(
            Candidate(
                "run_folder",
                path,
                label,
                False,
                (path, record.parent.name),
                _order(when, record),
                aliases,
                temperature_k=_number(parameters.get("temperature_k")),
                length_ps=_number(parameters.get("ps")),
                formats=_formats_of(record.parent),
            )
        )
    for record in sorted(root.glob(f"*/*/{ENSEMBLE_RECORD}")) + sorted(root.glob(f"*/{ENSEMBLE_RECORD}")):
        ensemble = record.parent
        # Each member run, so that an analysis of one run ("how compact did the replicas stay?") is made of each.
        members = tuple(_relative(r.parent, root) for r in sorted(ensemble.glob(f"**/{RUN_RECORD}")))
        path = _relative(ensemble, root)
        seeds = [(_read_json(root / m / RUN_RECORD).get("parameters") or {}).get("seed") for m in members]
        seeds_said = (
            f", seeds {', '.join(str(x) for x in seeds)}" if seeds and all(isinstance(x, int) for x in seeds) else ""
        )
        label = f"{path} (ensemble, {len(members)} runs{seeds_said})"
        names = (path, ensemble.name)
        found.append(
            Candidate(
                "ensemble_folder",
                path,
                label,
                False,
                names,
                _order(None, record),
                _stem_names(ensemble.name),
                members,
                seeds=tuple(x for x in seeds if isinstance(x, int)),
                formats=tuple(dict.fromkeys(f for m in members for f in _formats_of(root / m))),
            )
        )
    return found


def _run_fields(run: Path, parameters: dict) -> dict:
    """A run folder's structured facts (temperature, length, seed, the formats of its files), from its run.json's
    ``parameters``."""
    seed = parameters.get("seed")
    return {
        "temperature_k": _number(parameters.get("temperature_k")),
        "length_ps": _number(parameters.get("ps")),
        "seeds": (seed,) if isinstance(seed, int) and not isinstance(seed, bool) else (),
        "formats": _formats_of(run),
        "residues": _run_residues(run),
    }


def _run_residues(run: Path) -> tuple[str, ...]:
    """The residues of what a run simulated, from the structure it wrote (prepared.pdb) or any PDB in its folder."""
    try:
        structures = [run / "prepared.pdb"] if (run / "prepared.pdb").exists() else sorted(run.glob("*.pdb"))[:1]
    except OSError:
        return ()
    return residues_of(structures[0]) if structures else ()


_STANDARD_RESIDUES = {
    *("ALA ARG ASN ASP CYS GLN GLU GLY HIS ILE LEU LYS MET PHE PRO SER THR TRP TYR VAL".split()),
    *("HID HIE HIP HSD HSE HSP CYX ASH GLH LYN NLE ACE NME".split()),
}


def residues_of(path: Path, limit: int = 5000) -> tuple[str, ...]:
    """The protein residues of a PDB file, in order, as "TRP64" (its name and number in the file); () when unread."""
    return protein_of(path, limit)[0]


def protein_of(path: Path, limit: int = 5000) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A PDB file's protein, read once: its residues (:func:`residues_of`) and its chain ids in order (" " for
    residues written without one). Both () when unread; the chains () too when the file has more than ``limit``
    residues (a chain past the limit would otherwise be called missing)."""
    found: dict[tuple[str, str, str], None] = {}
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.startswith("ENDMDL"):
                    break  # one model is the protein
                if line.startswith(("ATOM", "HETATM")) and len(line) >= 26:
                    name, chain, number = line[17:20].strip(), line[21], line[22:27].strip()
                    if name in _STANDARD_RESIDUES and name not in ("ACE", "NME"):
                        found.setdefault((chain, number, name), None)
                        if len(found) >= limit:
                            return tuple(f"{name}{number}" for _, number, name in found), ()
    except OSError:
        return (), ()
    residues = tuple(f"{name}{number}" for _, number, name in found)
    return residues, tuple(dict.fromkeys(chain for chain, _, _ in found))


def _number(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _formats_of(path: Path) -> tuple[str, ...]:
    """The file formats a path stands for: its extension, or for a folder those of the files in it."""
    try:
        if path.is_dir():
            return tuple(sorted({p.suffix.lower().lstrip(".") for p in path.iterdir() if p.is_file() and p.suffix}))
    except OSError:
        return ()
    return (path.suffix.lower().lstrip("."),) if path.suffix else ()


def _frames_held(run: Path) -> str:
    """ "20 frames": how many frames a run folder's DCD holds ("the 8-frame run" tells runs apart), read from its
    header; empty when it has none or it cannot be read (a run still writing, another format)."""
    trajectory = run / "trajectory.dcd"
    if not trajectory.is_file():
        return ""
    try:
        from mdtraj.formats import DCDTrajectoryFile

        with DCDTrajectoryFile(str(trajectory)) as handle:
            count = len(handle)
    except Exception:  # (a half-written or foreign file: the run is still listed, without its count)
        return ""
    return f"{count} frame{'s' if count != 1 else ''}"


def _run_parameters(folder: Path) -> dict:
    record = folder / RUN_RECORD
    return _read_json(record).get("parameters") or {} if record.exists() else {}


def _run_facts(parameters: dict) -> str:
    """ ", 360 K, 2 ps, seed 1": what tells an MDRun in the kernel apart ("the 360 K one"), from its run.json's
    ``parameters``."""
    seed = f"seed {parameters['seed']}" if isinstance(parameters.get("seed"), int) else ""
    facts = [x for x in (_kelvin(parameters.get("temperature_k")), _length(parameters.get("ps")), seed) if x]
    return "".join(f", {x}" for x in facts)


def _length(value) -> str:
    try:
        return f"{float(value):g} ps"
    except (TypeError, ValueError):
        return ""


def _kelvin(value) -> str:
    try:
        return f"{float(value):g} K"
    except (TypeError, ValueError):
        return ""


def files(folder: str | os.PathLike = ".") -> list[Candidate]:
    """Structure, trajectory and sequence files in the working folder (not in run folders), by stem."""
    root = Path(folder)
    found = []
    try:
        entries = sorted(root.iterdir())[:_MAX_FILES]
    except OSError:
        return []
    for path in entries:
        kind = _path_kind(path) if path.is_file() else None
        if kind is None:
            continue
        rel = _relative(path, root)
        names = (rel, path.name, path.name.split(".")[0])
        aliases = _with_nicknames(_stem_names(path.name) + (header_names(path) if kind == "pdb_file" else ()))
        residues, chains = protein_of(path) if kind == "pdb_file" else ((), ())
        found.append(
            Candidate(
                kind,
                rel,
                rel,
                False,
                names,
                _order(None, path),
                aliases,
                formats=_formats_of(path),
                residues=residues,
                chains=chains,
            )
        )
    return found


_HEADER_RECORDS = ("TITLE", "COMPND", "REMARK")  # (HEADER is the class: "ACTIN BINDING" names no protein here)


def header_names(path: Path, lines: int = 40) -> tuple[str, ...]:
    """What a structure file's header calls its protein, in words no dictionary holds ("DHFR" in 5dfr_minimized.pdb's
    REMARK, "VILLIN" in 1VII's TITLE): "the dhfr" names that file although its name says 5dfr (newcomer r9 N4).
    English words ("chicken", "benchmark", "solvent") are left out: they would name the file in any request."""
    from kenkyu.core.routing import dictionary_words

    english = dictionary_words()
    if not english:
        return ()  # without the vocabulary every header word would pass: none is taken
    words: list[str] = []
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for _, line in zip(range(lines), handle):
                if line.startswith(("ATOM", "HETATM", "MODEL")):
                    break
                if line.startswith(_HEADER_RECORDS) and not line[6:10].strip().isdigit():  # (REMARK 2: AUTH, JRNL)
                    words += re.findall(r"(?<![\w/.:-])[A-Za-z]{4,12}(?![\w/.:-])", line[6:])
    except OSError:
        return ()
    kept = [w.lower() for w in words if w.lower() not in english and w.lower() not in _NOT_PROTEIN_NAMES]
    # (a participle says what was done to it, "MINIMIZED": that is for the qualifiers to read, not a name)
    return tuple(dict.fromkeys(w for w in kept if not w.endswith(("ed", "ing", "ly", "able"))))


# Header words that are no protein's name although no dictionary holds them
_NOT_PROTEIN_NAMES = {"benchmark", "benchmarks", "subdomain", "headpiece", "crystal", "structure", "solution"}


def literature_indexes(folder: str | os.PathLike = ".", namespace: dict | None = None) -> list[Candidate]:
    """Every literature index the notebook holds, newest first: the default folder (``$KENKYU_LITERATURE_INDEX``
    or ``literature_index/``), any folder an ingest marked as its index (kenkyu_index.json), and an index a
    kernel variable holds (an ingest's report, a path). "my papers" and "the notes" point at them; the newest is
    the one a literature call with no index of its own reads (newcomer r7 R8: the notes just indexed into
    another folder were "not found"), and a request about them with none is told so."""
    from kenkyu.tools.literature._indexes import find_indexes  # one place says what an index folder is

    held = [_index_path(value) for value in (namespace or {}).values()]
    found = find_indexes(folder, also=[p for p in held if p])
    return [
        Candidate("document_index", index.path, f"{index.label} (literature index)", False, names, index.built)
        for index in found
        for names in [(index.path, index.path.rstrip("/") + "/", "papers", "notes")]
    ]


def _index_path(value) -> str | None:
    """The index folder a kernel variable holds: an ingest's report (its ``index``) or a path string."""
    if type(value).__name__ == "IngestReport" and isinstance(getattr(value, "index", None), str):
        return value.index
    if isinstance(value, (str, os.PathLike)) and len(os.fspath(value)) < 500 and "\n" not in os.fspath(value):
        return os.fspath(value) if os.path.isdir(value) else None
    return None


def _path_kind(path: Path) -> str | None:
    suffix = path.suffix.lower()
    if path.is_dir():
        if (path / RUN_RECORD).exists():
            return "run_folder"
        if (path / ENSEMBLE_RECORD).exists():
            return "ensemble_folder"
        if (path / LADDER_RECORD).exists():
            return "ladder_folder"
        return None
    if suffix in STRUCTURE_FILES:
        return "pdb_file"
    if suffix in TRAJECTORY_FILES:
        return "trajectory_file"
    if suffix in SEQUENCE_FILES:
        return "sequence_file"
    return None


def _stem_names(path: str) -> tuple[str, ...]:
    """ "md_runs/villin_1vii_implicit" -> the folder name and its first word; "villin.pdb" -> "villin"."""
    name = Path(str(path)).name
    stem = name.split(".")[0] if name else ""
    parts = [p for p in re.split(r"[_\-.\s]+", stem) if len(p) >= 3 and not p.isdigit()]
    return tuple(dict.fromkeys([stem, *parts[:1]])) if stem else ()


def _with_nicknames(aliases: tuple[str, ...]) -> tuple[str, ...]:
    """A file's or run's names and the other names of the common protein they name: "the headpiece" for villin.pdb,
    "the reductase" for dhfr.pdb (:data:`kenkyu.core.concepts.PROTEIN_NAMES`)."""
    from kenkyu.core.concepts import protein_nicknames

    return tuple(dict.fromkeys((*aliases, *protein_nicknames(aliases))))


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root)) if root != Path(".") else str(path)
    except ValueError:
        return str(path)


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _order(when, path: Path) -> float:
    """Recency: the run's own record of when it was made, else the file's modification time."""
    if when:
        try:
            return _dt.datetime.fromisoformat(str(when)).timestamp()
        except ValueError:
            pass
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _now_order() -> float:
    return _dt.datetime.now(_dt.timezone.utc).timestamp() + 1.0


def _short_time(when) -> str:
    if not when:
        return ""
    try:
        moment = _dt.datetime.fromisoformat(str(when))
    except ValueError:
        return str(when)
    return moment.strftime("%Y-%m-%d %H:%M")


# -- the last error ------------------------------------------------------------------------------------------------


def last_error_candidate(shell=None) -> Candidate | None:
    """The kernel's last error that still stands (:func:`kenkyu.assistant.cell_errors.standing_error`: a Stop
    resumed or a failed cell run again cleanly settles it) with the line of the notebook cell that raised it."""
    from kenkyu.assistant.cell_errors import standing_error

    value, _ = standing_error(shell)
    if value is None:
        return None
    text = f"{type(value).__name__}: {value}"
    last = getattr(sys, "last_value", None)
    tb = getattr(sys, "last_traceback", None) if value is last else None
    line = failing_line(tb or value.__traceback__)
    if line:
        text += f"\nin the line: {line}"
    label = f"the last error ({type(value).__name__}: {str(value)[:80]})"
    return Candidate("error", text[:1500], label, False, ("error", "that", "it"), _now_order() + 1e6)


def failing_line(tb) -> str | None:
    """The last line of the scientist's own code (a notebook cell) in a traceback."""
    found = None
    for frame in traceback.extract_tb(tb) if tb is not None else []:
        name = frame.filename or ""
        if "ipykernel_" in name or name.startswith("<ipython-input") or name.startswith("<cell"):
            found = frame.line or linecache.getline(name, frame.lineno or 0).strip() or found
    return found


# -- what the call and the reply show --------------------------------------------------------------------------------


def used_candidates(tool, arguments: dict, candidates, prompt: str = "") -> dict[str, Candidate]:
    """The notebook candidates a call's arguments came from (argument name -> candidate), for those the
    prompt did not spell out itself; a kernel variable counts only where the tool takes an object."""
    slots = object_slots(tool)
    used = {}
    for name, value in arguments.items():
        if not isinstance(value, str):
            continue
        base = sliced_variable(value)
        for c in candidates:
            if base is not None and c.variable and c.value == base and name in slots:
                # "traj[:5]": a slice of a kernel variable, passed as that expression
                used[name] = Candidate(c.kind, value, f"`{value}` (a slice of {c.label})", True, (value,), c.order)
                break
            if c.value != value:
                continue
            if c.variable and name not in slots:
                continue
            if not c.variable and re.search(rf"(?<![\w/]){re.escape(value)}(?![\w/])", prompt):
                continue  # the prompt gave it: nothing to explain
            if not c.variable and c.names and c.label.startswith(f"`{c.names[0]}`"):
                # A string held in a kernel variable (a sequence, a path): passed by its name, `sequence=dhfr_seq`,
                # so the cell (and a report re-run with other parameters) reads the variable, not a copy of it.
                c = replace(c, value=c.names[0], variable=True)
            used[name] = c
            break
    return used


def render_candidates(candidates, limit: int = 12) -> str:
    """The context section stronger models get: what "the trajectory", "my last run", "villin" may mean."""
    if not candidates:
        return ""
    lines = ["Inputs found in the notebook (pass a kernel variable by name where a tool takes an object):"]
    for c in list(candidates)[:limit]:
        how = "kernel variable" if c.variable else "path" if c.kind.endswith(("file", "folder")) else "value"
        first_line = c.value.splitlines()[0] if c.value else ""
        lines.append(f"- {c.kind}: {c.label} [{how}: {first_line[:120]}]")
    return "\n".join(lines)
