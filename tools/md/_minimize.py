"""Energy minimisation alone: the structure in, the minimised structure and the energies before and after out.

``kenkyu.tools.md.minimize("villin.pdb")`` (the tool ``md_minimize``) fixes the structure as
:func:`kenkyu.tools.md.run` does (and says what pdbfixer changed: nothing is changed silently),
builds the same force field, minimises with OpenMM's L-BFGS and writes a folder like a run's::

    md_runs/villin_minimized/
        prepared.pdb       the fixed structure before minimisation
        villin_minimized.pdb  the minimised structure (same atoms, same order), named after the input
                              so that md.run of it writes md_runs/villin_minimized_<solvent>
        system.xml         the OpenMM System it was minimised with
        minimization.json  energies before and after (kJ/mol), RMSD moved, what pdbfixer changed, versions

The folder is written only after the minimisation succeeded: a failure leaves nothing half-made.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from kenkyu.core.registry import tool
from kenkyu.core.science import checked_by, computes, costs, result_check, writes
from kenkyu.tools.md import _files as files
from kenkyu.tools.md._errors import RunExistsError, SimulationUnstableError
from kenkyu.tools.md._interrupt import minimize_interruptibly
from kenkyu.tools.md._public import public
from kenkyu.tools.md._minimize_paths import MINIMIZATION_JSON, minimize_directory, minimized_name
from kenkyu.tools.md.cost import estimate_minimize


def _folder_of_call(arguments: dict) -> str | None:
    if arguments.get("out"):
        return str(arguments["out"])
    if not arguments.get("structure"):
        return None
    return minimize_directory(arguments["structure"], arguments.get("solvent", "implicit"))


@dataclass
class Minimization:
    """A minimisation folder: energies before and after, and the minimised structure.

    ``os.fspath(result)`` is the minimised PDB, so ``kenkyu.tools.md.run(result, ...)`` simulates it."""

    directory: Path

    def __post_init__(self):
        self.directory = Path(self.directory)

    @property
    def info(self) -> dict:
        return files.read_json(self.directory / MINIMIZATION_JSON)

    @property
    def minimized_pdb(self) -> Path:
        return self.directory / self.info["minimized_pdb"]

    @property
    def prepared_pdb(self) -> Path:
        return self.directory / "prepared.pdb"

    @property
    def energy_before_kj_mol(self) -> float:
        return self.info["energy_before_kj_mol"]

    @property
    def energy_after_kj_mol(self) -> float:
        return self.info["energy_after_kj_mol"]

    def __fspath__(self) -> str:
        return str(self.minimized_pdb)

    def summary(self) -> str:
        i = self.info
        fix = i.get("fix", {})
        changed = [
            f"{fix.get(key, 0)} {what}"
            for key, what in (
                ("missing_residues_added", "missing residues"),
                ("missing_heavy_atoms_added", "heavy atoms"),
                ("hydrogens_added", "hydrogens"),
            )
            if fix.get(key)
        ]
        removed = fix.get("heterogens_removed") or {}
        lines = [
            f"Energy minimisation {self.directory} ({i['solvent']} solvent, {', '.join(i['forcefield_files'])})",
            f"potential energy {i['energy_before_kj_mol']:.6g} -> {i['energy_after_kj_mol']:.6g} kJ/mol "
            f"({i['energy_after_kj_mol'] - i['energy_before_kj_mol']:+.6g} kJ/mol) in {i['wall_s']:.1f} s",
            *([line] if (line := convergence_line(i)) else []),
            f"{i['n_atoms']} atoms ({i['n_atoms_input']} in the input); heavy atoms moved "
            f"{i['heavy_atom_rmsd_nm']:.3f} nm RMSD (largest {i['max_heavy_atom_shift_nm']:.3f} nm)",
            "pdbfixer: "
            + ("added " + ", ".join(changed) if changed else "no atoms added")
            + (f"; removed {', '.join(f'{n}x{name}' for name, n in removed.items())}" if removed else "")
            + (f"; replaced {', '.join(fix['nonstandard_replaced'])}" if fix.get("nonstandard_replaced") else ""),
            f"files: {self.minimized_pdb}, {self.prepared_pdb}, {self.directory / MINIMIZATION_JSON}",
        ]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_markdown_(self) -> str:
        body = self.summary().splitlines()
        return f"**{body[0]}**\n\n" + "\n".join(f"- {line}" for line in body[1:])


MINIMIZE_EXPECTATIONS = (
    "the potential energy goes down and ends finite",
    "the minimised structure keeps the prepared structure's atoms (pdbfixer's additions are listed)",
    "heavy atoms move less than 0.1 nm RMSD (a relaxation, not a different structure)",
    "the minimisation converged (RMS force below the tolerance), not stopped at its iteration cap",
)


@result_check(*MINIMIZE_EXPECTATIONS)
def minimization_is_sound(result):
    """Did the energy go down, and is the structure still the one given?"""
    result = result if isinstance(result, Minimization) else Minimization(result)
    i = result.info
    e_down, e_atoms, e_moved, e_converged = MINIMIZE_EXPECTATIONS
    before, after = i["energy_before_kj_mol"], i["energy_after_kj_mol"]
    ok = math.isfinite(after) and after <= before
    yield e_down, "pass" if ok else "fail", f"{before:.6g} -> {after:.6g} kJ/mol"
    added = i["n_atoms"] - i["n_atoms_input"]
    if i["n_atoms_written"] != i["n_atoms"]:
        yield e_atoms, "fail", f"{i['n_atoms_written']} atoms written for {i['n_atoms']} prepared"
    elif added:
        yield e_atoms, "warn", f"{i['n_atoms']} atoms: pdbfixer changed the input's {i['n_atoms_input']} ({added:+d})"
    else:
        yield e_atoms, "pass", f"{i['n_atoms']} atoms, as in the input"
    rmsd = i["heavy_atom_rmsd_nm"]
    yield (
        e_moved,
        "pass" if rmsd < 0.1 else "warn",
        f"{rmsd:.3f} nm RMSD, largest shift {i['max_heavy_atom_shift_nm']:.3f} nm",
    )
    line = convergence_line(i)
    if line is None:
        yield e_converged, "skip", "not recorded (minimised by an earlier kenkyu)"
    else:
        yield e_converged, "pass" if i["convergence"]["converged"] else "warn", line


@tool(
    approval="ask",
    writes_files=True,
    keywords=("minimise", "minimize", "minimisation", "minimization", "energy minimization", "relax clashes"),
    produces="structure",
    result_name="minimized",
)
@writes(_folder_of_call)
@costs(estimate_minimize)
@checked_by(minimization_is_sound)
@public
@computes(
    "energy minimization",
    "minimization",
    "minimize",
    "relax the energy",
    "relax",
    "energy before and after",
    "clashes",
    "steric clashes",
    "local energy minimum",
    "geometry optimization",
)
def minimize(
    structure: str | os.PathLike,
    out: str | os.PathLike | None = None,
    *,
    solvent: Literal["implicit", "vacuum", "explicit"] = "implicit",
    forcefield: list[str] | str | None = None,
    max_iterations: int = 0,
    tolerance_kj_mol_nm: float = 10.0,
    ph: float = 7.0,
    keep_heterogens: bool = False,
    delete_nonstandard: bool = False,
    replace_residues: dict[str, str] | None = None,
    allow_chain_breaks: bool = False,
    platform: Literal["CUDA", "OpenCL", "CPU", "Reference"] | None = None,
    overwrite: bool = False,
    resume: bool = False,
) -> Minimization:
    """Energy-minimise a protein structure alone (no dynamics) and report the energies before and after.

    The structure is fixed as md_run fixes it (pdbfixer: missing atoms, hydrogens at ``ph``; what it
    changed is reported), the force field is built, OpenMM's L-BFGS minimiser runs, and the folder
    ``out`` receives prepared.pdb, <name>_minimized.pdb (same atoms, same order), system.xml and
    minimization.json with the energies in kJ/mol and how far the heavy atoms moved.

    Parameters
    ----------
    structure
        Path of a PDB or mmCIF file.
    out
        Folder to write; default ``md_runs/<structure name>_minimized``.
    solvent
        ``"implicit"`` (OBC generalized Born, the default), ``"vacuum"``, or ``"explicit"`` (adds a water box).
    forcefield
        OpenMM force-field XML files overriding md_run's default for the solvent.
    max_iterations
        Maximum L-BFGS iterations; 0 runs until converged. OpenMM applies it to each of its rounds (each tightens
        the restraints standing for the H-bond constraints); a minimisation stopped at the cap is reported as not
        converged, with its last RMS force and whether the energy was still falling.
    tolerance_kj_mol_nm
        Convergence: stop when the root-mean-square force is below this, in kJ/mol/nm.
    ph
        pH used to choose protonation states when hydrogens are added.
    keep_heterogens
        Keep ligands and other non-standard molecules (the force field must know them).
    delete_nonstandard
        Delete residues inside a chain that no standard residue replaces (refused by default, naming them);
        the chain is split there, with no bond across the gap.
    replace_residues
        Non-standard residue names to replace by standard ones, e.g. ``{"XYZ": "ALA"}``.
    allow_chain_breaks
        Minimise a chain with residues missing (no SEQRES to rebuild them) as separate pieces.
    platform
        OpenMM platform; default the fastest available.
    overwrite
        Replace an earlier minimisation in ``out``.
    resume
        As md.run's: a finished minimisation in ``out`` of the same input (the same file, or the same content)
        and the same settings is reused, said, with nothing computed (a report re-run in its folder); one of
        other settings is refused, naming each difference. No minimisation there yet: it is computed.

    Returns
    -------
    Minimization
        ``.energy_before_kj_mol``, ``.energy_after_kj_mol``, ``.minimized_pdb``; ``.summary()`` describes it.
    """
    import numpy as np
    import openmm
    from kenkyu.tools.md import _prepare as prep
    from kenkyu.tools.md import _versions
    from openmm import XmlSerializer, unit
    from openmm.app import PDBFile, Simulation

    directory = Path(out) if out is not None else Path(minimize_directory(structure, solvent))
    _check_settings(solvent, max_iterations, tolerance_kj_mol_nm, ph)
    settings = {
        "solvent": solvent,
        "forcefield_files": list(prep.force_field_files(solvent, "tip3p", forcefield)),
        "max_iterations": max_iterations,
        "tolerance_kj_mol_nm": tolerance_kj_mol_nm,
        "ph": ph,
        "keep_heterogens": keep_heterogens,
        "delete_nonstandard": delete_nonstandard,
        "replace_residues": dict(replace_residues or {}),
        "allow_chain_breaks": allow_chain_breaks,
    }
    if (directory / MINIMIZATION_JSON).exists() and not overwrite:
        if not resume:
            raise RunExistsError(
                f"{directory} already holds a minimisation: pass resume=True to reuse it (same input and settings), "
                "overwrite=True to minimise again, or another out="
            )
        return _finished_minimization(directory, structure, settings)
    n_input = _atoms_in(structure)
    from kenkyu.tools.md import _residue_replacements

    fixer, fix = prep.fix_structure(
        structure,
        ph=ph,
        keep_water=False,
        keep_heterogens=keep_heterogens,
        add_terminal_residues=False,
        delete_nonstandard=delete_nonstandard,
        replace_residues=_residue_replacements(replace_residues),
        allow_chain_breaks=allow_chain_breaks,
    )
    ff_files = prep.force_field_files(solvent, "tip3p", forcefield)
    forcefield_object, modeller = prep.build_model(
        fixer,
        solvent=solvent,
        solvate=True,
        ff_files=ff_files,
        water_model="tip3p",
        padding_nm=1.0,
        ionic_strength_molar=0.15,
    )
    system = prep.create_system(forcefield_object, modeller, solvent=solvent)
    integrator = openmm.VerletIntegrator(0.001 * unit.picoseconds)
    if platform:
        simulation = Simulation(modeller.topology, system, integrator, openmm.Platform.getPlatformByName(platform))
    else:
        simulation = Simulation(modeller.topology, system, integrator)
    simulation.context.setPositions(modeller.positions)
    kj = unit.kilojoule_per_mole
    before = simulation.context.getState(getEnergy=True).getPotentialEnergy().value_in_unit(kj)
    started = time.perf_counter()
    trace: list[tuple[int, float, float]] = []
    try:
        minimize_interruptibly(
            simulation,
            trace=trace,
            tolerance=tolerance_kj_mol_nm * kj / unit.nanometer,
            maxIterations=max_iterations,
        )
    except Exception as exc:  # OpenMMException "Particle coordinate is NaN"
        raise SimulationUnstableError(
            f"Minimisation failed ({str(exc).splitlines()[0]}; energy before it {before:.6g} kJ/mol): the coordinates "
            "are absurd or atoms overlap. Look at the input for atoms on top of each other and fix the structure."
        ) from exc
    wall_s = time.perf_counter() - started
    state = simulation.context.getState(getEnergy=True, getPositions=True)
    after = state.getPotentialEnergy().value_in_unit(kj)
    if not math.isfinite(after):
        raise SimulationUnstableError(
            f"Minimisation ended with a non-finite energy ({after}): the structure has severe clashes or a broken "
            "residue. Look at the input near the clash, or try keep_heterogens=False."
        )
    start_xyz = np.asarray(modeller.positions.value_in_unit(unit.nanometer))
    end_xyz = np.asarray(state.getPositions(asNumpy=True).value_in_unit(unit.nanometer))
    heavy = np.array([a.element is not None and a.element.symbol != "H" for a in modeller.topology.atoms()])
    shift = np.linalg.norm(end_xyz[heavy] - start_xyz[heavy], axis=1)

    directory.mkdir(parents=True, exist_ok=True)
    minimized = minimized_name(structure)
    for name, positions in (("prepared.pdb", modeller.positions), (minimized, state.getPositions())):
        import io

        buffer = io.StringIO()
        PDBFile.writeFile(modeller.topology, positions, buffer, keepIds=True)
        files.write_atomic(directory / name, buffer.getvalue().encode())
    files.write_atomic(directory / "system.xml", XmlSerializer.serialize(system).encode())
    written = PDBFile(str(directory / minimized)).topology.getNumAtoms()
    files.write_json_atomic(
        directory / MINIMIZATION_JSON,
        {
            "kenkyu_minimization": 1,
            "structure": str(Path(structure).resolve()) if isinstance(structure, (str, os.PathLike)) else None,
            "minimized_pdb": minimized,
            "structure_sha256": _sha256(structure),
            "solvent": solvent,
            "forcefield_files": list(ff_files),
            # the call's settings (checked again by a resume=True), less the two recorded on their own above
            "parameters": {k: v for k, v in settings.items() if k not in ("solvent", "forcefield_files")},
            "energy_before_kj_mol": before,
            "energy_after_kj_mol": after,
            "convergence": convergence(trace, max_iterations, tolerance_kj_mol_nm),
            "wall_s": wall_s,
            "n_atoms_input": n_input,
            "n_atoms": modeller.topology.getNumAtoms(),
            "n_atoms_written": written,
            "heavy_atom_rmsd_nm": float(np.sqrt((shift**2).mean())) if len(shift) else 0.0,
            "max_heavy_atom_shift_nm": float(shift.max()) if len(shift) else 0.0,
            "fix": fix,
            "platform": simulation.context.getPlatform().getName(),
            "versions": _versions(),
        },
    )
    return Minimization(directory)


LAST_ITERATIONS = 10  # the energy change over this many last iterations says whether it was still falling


def convergence(trace: list[tuple[int, float, float]], max_iterations: int, tolerance: float) -> dict:
    """Whether the minimisation converged or stopped at its cap, from OpenMM's per-iteration reports.

    OpenMM's L-BFGS runs in rounds (each tightens the restraints that stand for the H-bond constraints) and applies
    ``max_iterations`` to each round: a cap of 100 can mean 300 iterations in all, which is said. It converged
    when the last RMS force is below the tolerance; it stopped at the cap when its last round used all of them.
    """
    if not trace:
        return {"iterations": 0, "rounds": 0, "converged": None}
    rounds, last_round = 1, [trace[0]]
    for previous, current in zip(trace, trace[1:]):
        if current[0] <= previous[0]:
            rounds, last_round = rounds + 1, []
        last_round.append(current)
    final_rms = trace[-1][2]
    energies = [energy for _, energy, _ in last_round[-(LAST_ITERATIONS + 1) :]]
    return {
        "iterations": len(trace),
        "rounds": rounds,
        "iterations_last_round": len(last_round),
        "final_rms_force_kj_mol_nm": final_rms,
        "converged": final_rms <= tolerance,
        "capped": bool(max_iterations) and len(last_round) >= max_iterations,
        "energy_change_last_iterations_kj_mol": energies[-1] - energies[0],
        "last_iterations": len(energies) - 1,
    }


def convergence_line(info: dict) -> str | None:
    """The summary's line on convergence: converged, or stopped at the cap with the energy still falling."""
    c = info.get("convergence") or {}
    if c.get("converged") is None:
        return None  # written before kenkyu recorded it
    cap = info["parameters"]["max_iterations"]
    tolerance = info["parameters"]["tolerance_kj_mol_nm"]
    rounds = f" in {c['rounds']} rounds of constraint restraints" if c["rounds"] > 1 else ""
    force = f"RMS force {c['final_rms_force_kj_mol_nm']:.3g} kJ/mol/nm"
    if c["converged"]:
        return (
            f"converged: {force}, below the {tolerance:g} tolerance, after {c['iterations']} L-BFGS iterations{rounds}"
        )
    change, last = c["energy_change_last_iterations_kj_mol"], c["last_iterations"]
    trend = (
        f"energy still falling ({change:+.3g} kJ/mol over its last {last} iterations)"
        if change < -1e-3
        else f"energy no longer falling over its last {last} iterations"
    )
    stopped = (
        f"stopped at the {cap}-iteration cap (max_iterations={cap}, applied to each round; {c['iterations']} "
        f"iterations{rounds})"
        if c["capped"]
        else f"stopped after {c['iterations']} iterations{rounds}: L-BFGS could go no further"
    )
    return (
        f"NOT converged: {stopped}; {force}, above the {tolerance:g} tolerance; {trend}. The structure is not at a "
        "minimum: run it again with max_iterations=0 (until converged) or a larger cap"
    )


def _check_settings(solvent, max_iterations, tolerance_kj_mol_nm, ph) -> None:
    """md.run's rules for the settings a minimisation shares with it, each refused naming the value and the range
    (UnphysicalSettingError): solvent="water" raised a bare KeyError, and ph=20 was used."""
    from kenkyu.tools.md._errors import UnphysicalSettingError
    from kenkyu.tools.md._validate import RANGES, _number

    if solvent not in ("implicit", "vacuum", "explicit"):
        hint = " (water around the protein is solvent='explicit')" if str(solvent).lower() in ("water", "tip3p") else ""
        raise UnphysicalSettingError(f"solvent must be 'implicit', 'vacuum' or 'explicit', not {solvent!r}{hint}")
    if isinstance(max_iterations, bool) or not isinstance(max_iterations, int) or max_iterations < 0:
        raise UnphysicalSettingError(
            f"max_iterations must be a whole number >= 0 (0 runs until converged), got {max_iterations!r}"
        )
    if not _number("tolerance_kj_mol_nm", tolerance_kj_mol_nm) > 0:
        raise UnphysicalSettingError(
            f"tolerance_kj_mol_nm must be positive (10 kJ/mol/nm is the default), got {tolerance_kj_mol_nm:g}"
        )
    low, high, why = RANGES["ph"]
    if not low <= _number("ph", ph) <= high:
        raise UnphysicalSettingError(f"ph={ph:g} is outside the allowed range {low:g}-{high:g}: {why}.")


# What a minimization.json written before a setting was recorded means by its absence: the default then.
_ABSENT_MEANS = {"delete_nonstandard": False, "replace_residues": {}, "allow_chain_breaks": False}


def _finished_minimization(directory: Path, structure, settings: dict) -> Minimization:
    """resume=True: the minimisation in ``directory`` when it was made of the same input with the same
    ``settings``, reused and said so; any difference is refused, each named, with the fix. ``platform``
    only sets the speed and is not compared."""
    info = files.read_json(directory / MINIMIZATION_JSON)
    stored = {
        "solvent": info.get("solvent"),
        "forcefield_files": info.get("forcefield_files"),
        **_ABSENT_MEANS,
        **(info.get("parameters") or {}),
    }
    different = [
        f"{key}: minimisation has {stored.get(key)!r}, call has {value!r}"
        for key, value in settings.items()
        if stored.get(key) != value
    ]
    if not _same_structure(structure, info):
        given = Path(structure).resolve() if isinstance(structure, (str, os.PathLike)) else structure
        different.append(f"structure: minimisation has {info.get('structure')}, call has {given}")
    if different:
        raise RunExistsError(
            f"{directory} holds a minimisation made otherwise (" + "; ".join(different) + "): call again with its "
            f"settings (they are in {MINIMIZATION_JSON}), pass overwrite=True to minimise again there, or give "
            "another out="
        )
    print(
        f"md.minimize: reusing the finished minimisation in {directory} (same input and settings; nothing "
        "computed). overwrite=True minimises again."
    )
    return Minimization(directory)


def _sha256(structure) -> str | None:
    import hashlib

    if not isinstance(structure, (str, os.PathLike)) or not Path(structure).is_file():
        return None
    return hashlib.sha256(Path(structure).read_bytes()).hexdigest()


def _same_structure(structure, info: dict) -> bool:
    """The same content (a report re-run in its own folder reads its copy; a file edited since is not the same);
    a minimisation recorded without its content's hash (an earlier kenkyu) by the same path."""
    if not isinstance(structure, (str, os.PathLike)):
        return False
    if info.get("structure_sha256"):
        return _sha256(structure) == info["structure_sha256"]
    return info.get("structure") == str(Path(structure).resolve())


def _atoms_in(structure) -> int:
    from kenkyu.tools.md._prepare import read_structure_file

    return read_structure_file(structure).topology.getNumAtoms()
