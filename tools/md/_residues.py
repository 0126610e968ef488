"""What pdbfixer would change about the molecule itself, refused unless asked for.

pdbfixer's ``removeHeterogens`` deletes every residue it does not know, including one in the middle of
a chain (a modified amino acid without a replacement); OpenMM then bonds the residues on either side
across the gap, and the simulated protein silently lacks a residue and has a bond that does not exist.
Here such residues are found first and the run stops, naming them, unless the caller chose a way out:
a replacement by a standard residue (``replace_residues``), a template (``keep_heterogens`` plus a
force field that defines it), or deletion (``delete_nonstandard``), which splits the chain so the gap
is a real break.
"""

from __future__ import annotations

from kenkyu.tools.md._errors import ChainGapError, NonstandardResidueError, StructureError

STANDARD_AMINO_ACIDS = frozenset(
    "ALA ARG ASN ASP CYS GLN GLU GLY HIS ILE LEU LYS MET PHE PRO SER THR TRP TYR VAL".split()
)
_NUCLEIC = frozenset("DA DG DC DT DI A G C U I".split())
POLYMER = STANDARD_AMINO_ACIDS | _NUCLEIC
MAX_PEPTIDE_BOND_NM = 0.25  # C(i)-N(i+1) is 0.133 nm; farther apart, residues are missing between them
MIN_ATOM_DISTANCE_NM = 0.05  # no two atoms of a real structure are closer (a C-H bond is 0.109 nm)
FARTHEST_COORDINATE_NM = 1e4  # 10 um: a coordinate beyond this is a unit or format error, not a protein


def label(residue) -> str:
    return f"{residue.name} {residue.id} (chain {residue.chain.id})"


def apply_replacements(fixer, replacements: dict[str, str] | None) -> list[str]:
    """Queue the caller's name -> standard-residue replacements in pdbfixer's own list; return what was queued."""
    if not replacements:
        return []
    queued = {residue for residue, _ in fixer.nonstandardResidues}
    done = []
    for residue in fixer.topology.residues():
        new = replacements.get(residue.name.upper())
        if new and residue not in queued:
            fixer.nonstandardResidues.append((residue, new))
            done.append(f"{residue.name}{residue.id}->{new}")
    unused = set(replacements) - {r.name.upper() for r in fixer.topology.residues()}
    if unused:
        raise StructureError(
            f"replace_residues names {sorted(unused)}, which the structure does not contain; "
            "give names of residues that are in it."
        )
    return done


def inside_chain(topology) -> list:
    """Residues that are neither standard polymer residues nor water but sit between polymer residues of a chain."""
    found = []
    for chain in topology.chains():
        residues = list(chain.residues())
        polymer = [i for i, r in enumerate(residues) if r.name in POLYMER]
        if len(polymer) < 2:
            continue
        for residue in residues[polymer[0] + 1 : polymer[-1]]:
            if residue.name not in POLYMER:
                found.append(residue)
    return found


def refuse_hidden_deletion(residues) -> None:
    names = ", ".join(label(r) for r in residues)
    first = residues[0]
    raise NonstandardResidueError(
        f"Non-standard residue{'s' if len(residues) > 1 else ''} inside a chain: {names}. No standard residue "
        "replaces it, and removing it would silently make a deletion mutant. Ways out: "
        f"(1) replace it by a standard residue, e.g. replace_residues={{'{first.name}': 'ALA'}} (use its parent "
        "amino acid); (2) keep it with a template: keep_heterogens=True and forcefield=[..., 'its_template.xml']; "
        "(3) delete it on purpose with delete_nonstandard=True, which leaves a real chain break (no bond across "
        "the gap) and is reported as a deletion."
    )


def chain_gaps(topology, positions) -> list[tuple]:
    """``(residue, next residue, C-N distance nm)`` for neighbours in a chain too far apart to be bonded."""
    import numpy as np
    from openmm import unit

    xyz = np.asarray(positions.value_in_unit(unit.nanometer), dtype=float).reshape(-1, 3)
    gaps = []
    for chain in topology.chains():
        residues = list(chain.residues())
        for first, second in zip(residues, residues[1:]):
            if first.name not in STANDARD_AMINO_ACIDS or second.name not in STANDARD_AMINO_ACIDS:
                continue
            c = next((a for a in first.atoms() if a.name == "C"), None)
            n = next((a for a in second.atoms() if a.name == "N"), None)
            if c is not None and n is not None:
                distance = float(np.linalg.norm(xyz[c.index] - xyz[n.index]))
                if distance > MAX_PEPTIDE_BOND_NM:
                    gaps.append((first, second, distance))
    return gaps


def refuse_closed_gaps(gaps) -> None:
    listed = "; ".join(f"{label(a)} to {label(b)}: C-N {d:.2f} nm" for a, b, d in gaps[:5])
    raise ChainGapError(
        f"Chain gap{'s' if len(gaps) > 1 else ''} with residues missing and no sequence to rebuild them ({listed}"
        f"{'; ...' if len(gaps) > 5 else ''}). Simulated as is, the ends would be bonded across the gap (a "
        "peptide bond of that length), which changes the molecule. Ways out: add the SEQRES records (or use the "
        "mmCIF file from the PDB) so the missing residues are built; or pass allow_chain_breaks=True to simulate "
        "the pieces as separate chains with a real break (reported)."
    )


def delete_and_split(fixer, residues, split_before=()) -> list[str]:
    """Delete these residues and start a new chain after each (and before each of ``split_before``), so nothing
    bonds across the gap.

    pdbfixer's missing-residue list is keyed by (chain index, residue index): it is re-keyed to the new chains.
    """
    from openmm.app import Topology

    doomed = set(residues)
    breaks = set(split_before)
    old = fixer.topology
    new = Topology()
    new.setPeriodicBoxVectors(old.getPeriodicBoxVectors())
    used_ids = {c.id for c in old.chains()}
    atom_map, positions, where = {}, [], {}
    for c_index, chain in enumerate(old.chains()):
        target = new.addChain(chain.id)
        count = 0
        for r_index, residue in enumerate(chain.residues()):
            if residue in breaks and count:
                target = new.addChain(_free_chain_id(used_ids))
                count = 0
            if residue in doomed:
                if count:
                    target = new.addChain(_free_chain_id(used_ids))
                    count = 0
                continue
            where[(c_index, r_index)] = (target.index, count)
            copy = new.addResidue(residue.name, target, residue.id, residue.insertionCode)
            for atom in residue.atoms():
                atom_map[atom] = new.addAtom(atom.name, atom.element, copy, atom.id)
                positions.append(fixer.positions[atom.index])
            count += 1
        where[(c_index, len(list(chain.residues())))] = (target.index, count)
    for bond in old.bonds():
        if bond[0] in atom_map and bond[1] in atom_map:
            new.addBond(atom_map[bond[0]], atom_map[bond[1]], bond.type, bond.order)
    missing = {}
    for key, names in fixer.missingResidues.items():
        spot = _next_kept(key, where)
        if spot is not None:
            missing[spot] = names
    from openmm import unit

    fixer.topology = new
    fixer.positions = unit.Quantity([p.value_in_unit(unit.nanometer) for p in positions], unit.nanometer)
    fixer.missingResidues = missing
    return [label(r) for r in residues]


def _next_kept(key, where):
    chain, index = key
    for i in range(index, index + 10_000):
        if (chain, i) in where:
            return where[(chain, i)]
    return None


def _free_chain_id(used: set) -> str:
    for candidate in "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyz":
        if candidate not in used:
            used.add(candidate)
            return candidate
    raise StructureError("the structure has more chains than PDB chain ids; split it into several files")


def check_coordinates(topology, positions, source: str) -> None:
    """Refuse coordinates no real structure has: non-finite, absurdly far, or atoms on top of each other."""
    import numpy as np
    from openmm import unit
    from scipy.spatial import cKDTree

    xyz = np.asarray(positions.value_in_unit(unit.nanometer), dtype=float).reshape(-1, 3)
    atoms = list(topology.atoms())
    bad = np.flatnonzero(~np.isfinite(xyz).all(axis=1) | (np.abs(xyz) > FARTHEST_COORDINATE_NM).any(axis=1))
    if len(bad):
        atom = atoms[bad[0]]
        raise StructureError(
            f"{source}: {len(bad)} atoms have non-finite or absurd coordinates (first: {atom.name} of "
            f"{label(atom.residue)} at {xyz[bad[0]].tolist()} nm). Check the file's coordinates (units are "
            "Angstrom in PDB/mmCIF) or re-download it."
        )
    pairs = cKDTree(xyz).query_pairs(MIN_ATOM_DISTANCE_NM, output_type="ndarray")
    if len(pairs):
        i, j = pairs[0]
        distance = float(np.linalg.norm(xyz[i] - xyz[j]))
        raise StructureError(
            f"{source}: {len(pairs)} pairs of atoms overlap (closer than {MIN_ATOM_DISTANCE_NM} nm; first: "
            f"{atoms[i].name} of {label(atoms[i].residue)} and {atoms[j].name} of {label(atoms[j].residue)}, "
            f"{distance:.3f} nm apart). Minimisation cannot separate atoms on top of each other (the energy "
            "becomes NaN). Check for duplicated chains or alternate locations written twice, or rebuild the "
            "model."
        )


def check_polymer_left(topology, source: str, removed: dict) -> None:
    if not any(r.name in POLYMER for r in topology.residues()):
        what = ", ".join(f"{n}x{name}" for name, n in removed.items()) or "nothing"
        raise StructureError(
            f"{source}: no protein or nucleic acid is left after removing heterogens (removed {what}). "
            "md.run simulates proteins: give a structure with standard residues, or keep_heterogens=True with "
            "a force field that has templates for these molecules (e.g. from openmmforcefields)."
        )
