"""From a structure to an OpenMM System: read, fix (pdbfixer), pick the force field, solvate.

Force-field defaults (measured on CPU, see ``FORCE_FIELDS``):

* explicit solvent: Amber ff14SB (``amber14-all.xml``) with TIP3P water (``amber14/tip3p.xml``), PME;
* implicit solvent: Amber ff99SB-ILDN with OBC GB (``amber99sbildn.xml`` + ``amber99_obc.xml``). The
  amber14 implicit models (``implicit/obc2.xml`` etc.) are implemented with CustomGBForce and ran
  about 6x slower on the CPU platform than ``GBSAOBCForce``, which amber99_obc uses. Pass
  ``forcefield=("amber14-all.xml", "implicit/obc2.xml")`` to get ff14SB with GB anyway.
"""

from __future__ import annotations

import io
import os
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

from kenkyu.tools.md._errors import ForceFieldError, MissingBoxError, StructureError, UnknownResidueError

FORCE_FIELDS = {
    "explicit": ("amber14-all.xml", "amber14/tip3p.xml"),
    "implicit": ("amber99sbildn.xml", "amber99_obc.xml"),
    "vacuum": ("amber14-all.xml",),
}

WATER_MODELS = {
    # Modeller's name -> amber14 water file
    "tip3p": "amber14/tip3p.xml",
    "tip3pfb": "amber14/tip3pfb.xml",
    "spce": "amber14/spce.xml",
    "tip4pew": "amber14/tip4pew.xml",
    "opc": "amber14/opc.xml",
}

# pdbfixer places the atoms it rebuilds with a short randomised minimisation: one fixed seed makes the same
# input give the same prepared molecule (a run's seed is for its dynamics, not for its chemistry).
BUILD_SEED = 2026

# Names of residues OpenMM's amber files and pdbfixer both know: anything else is a heterogen.
WATER_NAMES = {"HOH", "WAT", "TIP3", "SOL", "H2O"}


def force_field_files(solvent: str, water_model: str, forcefield) -> tuple[str, ...]:
    if forcefield:
        return (forcefield,) if isinstance(forcefield, str) else tuple(forcefield)
    if solvent == "explicit":
        if water_model not in WATER_MODELS:
            raise ValueError(f"water_model must be one of {sorted(WATER_MODELS)}, not {water_model!r}")
        return ("amber14-all.xml", WATER_MODELS[water_model])
    return FORCE_FIELDS[solvent]


def checked_structure_file(structure) -> Path:
    """The path of a structure file that exists and holds atoms, or a StructureError naming what it is instead (a
    folder, a device, nothing, a file with no ATOM/HETATM records) and what to pass."""
    path = Path(structure)
    if path.is_dir():
        raise StructureError(
            f"{str(path)!r} is a folder, not a structure file: pass the path of a PDB or mmCIF file in it."
        )
    if path.exists() and not path.is_file():
        raise StructureError(
            f"{str(path)!r} is a device or special file, not a structure file: pass the path of a PDB or mmCIF file."
        )
    if not path.is_file():
        raise StructureError(f"Structure file {str(path)!r} does not exist; pass the path of a PDB or mmCIF file.")
    if path.suffix.lower() not in (".cif", ".mmcif") and not any(
        line.startswith(("ATOM", "HETATM")) for line in path.read_text(errors="replace").splitlines()
    ):
        raise StructureError(
            f"{path.name} contains no atoms (no ATOM/HETATM records); check that it is a coordinate file."
        )
    return path


def _unreadable(path: Path, exc: Exception) -> StructureError:
    kind = "mmCIF" if path.suffix.lower() in (".cif", ".mmcif") else "PDB"
    return StructureError(
        f"Could not read {path.name!r} as a {kind} file ({type(exc).__name__}: {exc}). Check that it is a complete, "
        "fixed-column PDB or mmCIF file (e.g. re-download it from the PDB, or write it with "
        "openmm.app.PDBFile.writeFile)."
    )


def read_structure_file(structure):
    """OpenMM's reader (PDBFile, or PDBxFile for .cif/.mmcif) of a structure file, with md.run's checks and errors:
    the tools that read a file without pdbfixer (md.minimize's atom count, md.coarse_grained) raised OpenMM's bare
    ``IndexError: list index out of range`` for a malformed PDB."""
    from openmm.app import PDBFile, PDBxFile

    path = checked_structure_file(structure)
    reader = PDBxFile if path.suffix.lower() in (".cif", ".mmcif") else PDBFile
    try:
        return reader(str(path))
    except Exception as exc:  # openmm raises ValueError, IndexError, KeyError... on bad files
        raise _unreadable(path, exc) from exc


def _fixer_from_input(structure):
    """A PDBFixer for a path (PDB/mmCIF), an object with .topology/.positions, an mdtraj Trajectory or a tuple."""
    from pdbfixer import PDBFixer

    if isinstance(structure, (str, os.PathLike)):
        path = checked_structure_file(structure)
        try:
            return PDBFixer(filename=str(path)), path.name
        except Exception as exc:  # pdbfixer/openmm raise ValueError, IndexError, KeyError... on bad files
            raise _unreadable(path, exc) from exc
    topology, positions = _topology_and_positions(structure)
    from openmm.app import PDBFile

    buffer = io.StringIO()
    PDBFile.writeFile(topology, positions, buffer, keepIds=True)
    buffer.seek(0)
    return PDBFixer(pdbfile=buffer), type(structure).__name__


def _topology_and_positions(structure):
    if isinstance(structure, tuple) and len(structure) == 2:
        topology, positions = structure
    elif hasattr(structure, "xyz") and hasattr(structure, "topology") and hasattr(structure.topology, "to_openmm"):
        # mdtraj needs the trajectory only to pass its box on; without a box it fails instead.
        box_source = structure if structure.unitcell_vectors is not None else None
        topology, positions = structure.topology.to_openmm(box_source), structure.openmm_positions(0)
    elif hasattr(structure, "topology") and hasattr(structure, "positions"):
        topology, positions = structure.topology, structure.positions
    else:
        raise StructureError(
            f"Cannot use a {type(structure).__name__} as a structure: pass a PDB/mmCIF path, an object with "
            ".topology and .positions (openmm.app.PDBFile, Modeller), an mdtraj.Trajectory, or a "
            "(topology, positions) tuple."
        )
    if hasattr(topology, "to_openmm"):  # an mdtraj Topology
        topology = topology.to_openmm()
    return topology, positions


def fix_structure(
    structure,
    *,
    ph: float,
    keep_water: bool,
    keep_heterogens: bool,
    add_terminal_residues: bool,
    delete_nonstandard: bool = False,
    replace_residues: dict | None = None,
    allow_chain_breaks: bool = False,
):
    """Run pdbfixer and return (fixer, report). The report says what was changed, for run.json and summary()."""
    from kenkyu.tools.md import _residues

    fixer, source = _fixer_from_input(structure)
    if fixer.topology.getNumAtoms() == 0:
        raise StructureError(f"{source} contains no atoms; check that it is a coordinate file (ATOM/HETATM records).")
    report: dict = {"source": source}

    fixer.findMissingResidues()
    if not add_terminal_residues:
        # Unobserved tails at chain ends would be built as floppy, unrestrained loops: skip them by default.
        chains = list(fixer.topology.chains())
        fixer.missingResidues = {
            key: residues
            for key, residues in fixer.missingResidues.items()
            if 0 < key[1] < len(list(chains[key[0]].residues()))
        }
    report["missing_residues_added"] = sum(len(r) for r in fixer.missingResidues.values())

    fixer.findNonstandardResidues()
    report["nonstandard_replaced"] = [f"{r.name}{r.id}->{new}" for r, new in fixer.nonstandardResidues]
    report["nonstandard_replaced"] += _residues.apply_replacements(fixer, replace_residues)
    fixer.replaceNonstandardResidues()

    if not keep_heterogens:
        # Removing a residue from the middle of a chain changes the molecule: only when asked, and as a real break.
        inside = _residues.inside_chain(fixer.topology)
        if inside and not delete_nonstandard:
            _residues.refuse_hidden_deletion(inside)
        if inside:
            report["deleted_inside_chain"] = _residues.delete_and_split(fixer, inside)
        before = Counter(r.name for r in fixer.topology.residues())
        fixer.removeHeterogens(keepWater=keep_water)
        after = Counter(r.name for r in fixer.topology.residues())
        removed = before - after
        report["heterogens_removed"] = {name: n for name, n in sorted(removed.items())}
        _residues.check_polymer_left(fixer.topology, source, report["heterogens_removed"])
    # Checked on what will be simulated: a removed ligand overlapping the protein does not count.
    _residues.check_coordinates(fixer.topology, fixer.positions, source)
    # Residues missing without SEQRES: pdbfixer cannot build them and OpenMM would bond the ends across the gap.
    gaps = [
        gap
        for gap in _residues.chain_gaps(fixer.topology, fixer.positions)
        if (gap[1].chain.index, _index_in_chain(gap[1])) not in fixer.missingResidues  # those pdbfixer builds
    ]
    if gaps and not allow_chain_breaks:
        _residues.refuse_closed_gaps(gaps)
    if gaps:
        _residues.delete_and_split(fixer, [], split_before=[b for _, b, _ in gaps])
        report["chain_breaks"] = [f"{_residues.label(a)} | {_residues.label(b)} ({d:.2f} nm)" for a, b, d in gaps]

    fixer.findMissingAtoms()
    report["missing_heavy_atoms_added"] = sum(len(a) for a in fixer.missingAtoms.values()) + sum(
        len(a) for a in fixer.missingTerminals.values()
    )
    with reproducible_building(fixer) as seed:
        fixer.addMissingAtoms(seed=seed)
        n_before = fixer.topology.getNumAtoms()
        try:
            fixer.addMissingHydrogens(ph)
        except Exception as exc:
            raise UnknownResidueError(
                f"pdbfixer could not add hydrogens ({exc}). This usually means a residue it does not know "
                "(a ligand or modified residue) is still in the structure: keep_heterogens=False removes them."
            ) from exc
    report["hydrogens_added"] = fixer.topology.getNumAtoms() - n_before
    report["ph"] = ph
    return fixer, report


@contextmanager
def reproducible_building(fixer):
    """Inside, pdbfixer and Modeller.addHydrogens build the same atoms every time; yields the seed to pass to
    ``fixer.addMissingAtoms(seed=...)``.

    Both draw first positions from Python's random (seeded here, restored after), and pdbfixer relaxes rebuilt
    residues with a short Langevin run, which turns the CPU platform's thread-order rounding into different
    atoms: the Reference platform sums in one order, and measured as fast for this step (DHFR without
    hydrogens: 2.0 s either way).
    """
    import random

    from openmm import Platform

    state, platform = random.getstate(), fixer.platform
    try:
        random.seed(BUILD_SEED)
        fixer.platform = Platform.getPlatformByName("Reference")
        yield BUILD_SEED
    finally:
        fixer.platform = platform
        random.setstate(state)  # the caller's random stream is not ours to change


def _index_in_chain(residue) -> int:
    return next(i for i, r in enumerate(residue.chain.residues()) if r is residue)


def build_model(
    fixer,
    *,
    solvent: str,
    solvate: bool,
    ff_files,
    water_model: str,
    padding_nm: float,
    ionic_strength_molar: float,
):
    """Solvate (explicit solvent) and return (forcefield, modeller)."""
    from openmm import unit
    from openmm.app import Modeller

    forcefield = load_force_field(ff_files)
    modeller = Modeller(fixer.topology, fixer.positions)
    if solvent == "explicit":
        if solvate:
            try:
                modeller.addSolvent(
                    forcefield,
                    model=water_model,
                    padding=padding_nm * unit.nanometer,
                    ionicStrength=ionic_strength_molar * unit.molar,
                    neutralize=True,
                )
            except ValueError as exc:
                raise_unknown_residue(exc)
                raise
        elif modeller.topology.getPeriodicBoxVectors() is None:
            raise MissingBoxError(
                "Explicit solvent needs a periodic box, but the structure has no CRYST1 (PDB) or cell (mmCIF) "
                "record and solvate=False. Either let kenkyu solvate it (solvate=True, the default, with "
                "padding_nm), or add the box to the file, or use solvent='implicit'."
            )
    elif solvent in ("implicit", "vacuum"):
        water = [r for r in modeller.topology.residues() if r.name in WATER_NAMES]
        if water:
            modeller.delete(water)  # implicit solvent replaces explicit water
        modeller.topology.setPeriodicBoxVectors(None)
    else:
        raise ValueError(f"solvent must be 'explicit', 'implicit' or 'vacuum', not {solvent!r}")
    return forcefield, modeller


def load_force_field(ff_files):
    """An OpenMM ForceField from these files; a name OpenMM cannot find is refused with the names that exist."""
    from openmm.app import ForceField

    check_force_field(ff_files)
    return ForceField(*ff_files)


def check_force_field(ff_files) -> None:
    missing = [name for name in ff_files if not _force_field_exists(name)]
    if missing:
        available = available_force_fields()
        shown = ", ".join(available[:60]) + (f", ... ({len(available)} in all)" if len(available) > 60 else "")
        raise ForceFieldError(
            f"Unknown force-field file{'s' if len(missing) > 1 else ''} {missing}: OpenMM has no such file and no "
            f"such path exists. Pass names OpenMM ships (e.g. ['amber14-all.xml', 'amber14/tip3p.xml'] or "
            f"['amber99sbildn.xml', 'amber99_obc.xml']) or paths of your own XML files. Available: {shown}"
        )


def _force_field_exists(name) -> bool:
    if Path(name).is_file():
        return True
    return any((Path(folder) / name).is_file() for folder in _force_field_folders())


def _force_field_folders() -> list[str]:
    from openmm.app import forcefield as ff_module

    # OpenMM's own search path: its data folder plus packages registered under 'openmm.forcefielddir'.
    finder = getattr(ff_module, "_getDataDirectories", None)
    if finder is not None:
        return list(finder())
    return [str(Path(ff_module.__file__).parent / "data")]


def available_force_fields() -> list[str]:
    names = set()
    for folder in _force_field_folders():
        root = Path(folder)
        for path in root.rglob("*.xml"):
            if path.name not in ("residues.xml", "hydrogens.xml", "glycam-hydrogens.xml"):
                names.add(path.relative_to(root).as_posix())
    return sorted(names)


def raise_unknown_residue(exc: Exception):
    message = str(exc)
    if "No template found" in message or "template" in message.lower():
        raise UnknownResidueError(
            f"The force field has no template for a residue: {message.splitlines()[0]} "
            "Fix: remove it (keep_heterogens=False, the default, drops ligands and unknown residues), "
            "replace it with a standard residue, or pass forcefield=[...] with XML files that define it "
            "(e.g. from openmmforcefields for small molecules)."
        ) from exc


def create_system(forcefield, modeller, *, solvent: str, constraints: str = "HBonds", cutoff_nm: float = 1.0):
    from openmm import unit
    from openmm.app import PME, CutoffNonPeriodic, HBonds, NoCutoff

    constraint = {"HBonds": HBonds, "None": None, None: None}[constraints]
    try:
        if solvent == "explicit":
            return forcefield.createSystem(
                modeller.topology,
                nonbondedMethod=PME,
                nonbondedCutoff=cutoff_nm * unit.nanometer,
                constraints=constraint,
                rigidWater=True,
                ewaldErrorTolerance=0.0005,
            )
        if solvent == "implicit":
            # 2 nm cutoff, as in OpenMM's own implicit-solvent benchmark: exact enough, far cheaper than NoCutoff.
            return forcefield.createSystem(
                modeller.topology,
                nonbondedMethod=CutoffNonPeriodic,
                nonbondedCutoff=2.0 * unit.nanometer,
                constraints=constraint,
            )
        return forcefield.createSystem(modeller.topology, nonbondedMethod=NoCutoff, constraints=constraint)
    except ValueError as exc:
        raise_unknown_residue(exc)
        raise
