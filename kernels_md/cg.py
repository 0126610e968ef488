"""Coarse-grained model builder: a one-bead-per-residue C-alpha Go-like model with Debye-Hueckel
electrostatics, written as standard OpenMM forces plus two named Custom*Forces.

The same ``openmm.System`` runs on any OpenMM platform as is (the reference for validation), and
:func:`kenkyu.kernels_md.dataflow_system` recognises the two custom forces, by name *and* by their
exact energy expressions, and moves them to its native kernels.

Energy (Clementi-style Go model)::

    bonds     k_b/2 (r - r_nat)^2                                  HarmonicBondForce
    angles    k_a/2 (theta - theta_nat)^2                          HarmonicAngleForce
    dihedrals eps_d [1 - cos(phi - phi_nat)] + eps_d/2 [1 - cos(3(phi - phi_nat))]
                                                                   PeriodicTorsionForce
    contacts  eps (5 (r_nat/r)^12 - 6 (r_nat/r)^10)                CustomBondForce "kenkyu_cg_contacts"
    others    sqrt(e1 e2) ((s1+s2)/(2r))^12 + kdh q1 q2 exp(-kappa r)/r
                                                                   CustomNonbondedForce "kenkyu_cg_nonbonded"
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

CG_NONBONDED_NAME = "kenkyu_cg_nonbonded"
CG_CONTACT_NAME = "kenkyu_cg_contacts"
CG_NONBONDED_EXPR = "sqrt(e1*e2)*(0.5*(s1+s2)/r)^12 + kdh*q1*q2*exp(-kappa*r)/r"
CG_CONTACT_EXPR = "eps*(5*(r0/r)^12 - 6*(r0/r)^10)"
ONE_4PI_EPS0 = 138.93545764438198

CHARGE = {"LYS": 1.0, "ARG": 1.0, "ASP": -1.0, "GLU": -1.0}


@dataclass
class CGModel:
    system: object  # openmm.System with the Custom*Forces (the reference form)
    topology: object  # openmm.app.Topology with one CA atom per residue
    positions: np.ndarray  # (n, 3) nm, native structure
    contacts: np.ndarray  # (m, 2) native contact pairs
    contact_r0: np.ndarray  # (m,) native distances, nm
    sequence: str

    def fraction_native(self, positions, tolerance: float = 1.2) -> float:
        """Q: fraction of native contacts within tolerance * native distance."""
        x = np.asarray(positions)
        d = np.linalg.norm(x[self.contacts[:, 0]] - x[self.contacts[:, 1]], axis=1)
        return float(np.mean(d < tolerance * self.contact_r0))


def _dihedral(p0, p1, p2, p3):
    b1, b2, b3 = p1 - p0, p2 - p1, p3 - p2
    n1, n2 = np.cross(b1, b2), np.cross(b2, b3)
    return math.atan2(np.linalg.norm(b2) * np.dot(b1, n2), np.dot(n1, n2))


def _angle(p0, p1, p2):
    a, b = p0 - p1, p2 - p1
    return math.acos(np.clip(np.dot(a, b) / np.linalg.norm(a) / np.linalg.norm(b), -1, 1))


def build_go_model(
    pdb,
    *,
    eps_contact: float = 4.0,
    contact_cutoff: float = 0.45,
    min_separation: int = 4,
    k_bond: float = 20000.0,
    k_angle: float = 80.0,
    eps_dihedral: float = 1.0,
    sigma_rep: float = 0.4,
    eps_rep: float = 1.0,
    debye_length: float = 1.0,
    dielectric: float = 80.0,
    cutoff: float = 3.0,
    mass: float = 110.0,
) -> CGModel:
    """Build the Go model from a PDB (path or ``openmm.app.PDBFile``); units nm, kJ/mol.

    Native contacts: residue pairs at least ``min_separation`` apart in sequence with any two
    heavy atoms closer than ``contact_cutoff`` (C-alpha only structures: CA-CA < 0.8 nm)."""
    import openmm as mm
    from openmm import app

    pdbf = app.PDBFile(str(pdb)) if not hasattr(pdb, "topology") else pdb
    allpos = np.asarray(pdbf.getPositions(asNumpy=True)._value)
    top = app.Topology()
    chain_ids, ca, heavy, names = [], [], [], []
    for chain in pdbf.topology.chains():
        newchain = None
        for res in chain.residues():
            atoms = {a.name: a for a in res.atoms()}
            if "CA" not in atoms:
                continue
            if newchain is None:
                newchain = top.addChain(chain.id)
            r = top.addResidue(res.name, newchain, res.id, res.insertionCode)
            top.addAtom("CA", app.element.carbon, r)
            chain_ids.append(chain.index)
            ca.append(atoms["CA"].index)
            heavy.append([a.index for a in res.atoms() if a.element is not None and a.element.symbol != "H"])
            names.append(res.name)
    n = len(ca)
    if n < 5:
        raise ValueError("need at least 5 residues with a CA atom")
    pos = allpos[ca]
    atoms = list(top.atoms())
    for i in range(n - 1):
        if chain_ids[i] == chain_ids[i + 1]:
            top.addBond(atoms[i], atoms[i + 1])

    def same(*ix):
        return len({chain_ids[i] for i in ix}) == 1

    # native contacts
    all_ca_only = all(len(h) <= 1 for h in heavy)
    contacts, r0s = [], []
    for i in range(n):
        for j in range(i + min_separation, n):
            if all_ca_only:
                close = np.linalg.norm(pos[i] - pos[j]) < 0.8
            else:
                d = allpos[heavy[i]][:, None, :] - allpos[heavy[j]][None, :, :]
                close = np.min(np.einsum("ijk,ijk->ij", d, d)) < contact_cutoff**2
            if close:
                contacts.append((i, j))
                r0s.append(float(np.linalg.norm(pos[i] - pos[j])))
    contacts = np.array(contacts, np.int64).reshape(-1, 2)
    r0s = np.array(r0s)

    system = mm.System()
    for _ in range(n):
        system.addParticle(mass)
    bonds = mm.HarmonicBondForce()
    angles = mm.HarmonicAngleForce()
    dihedrals = mm.PeriodicTorsionForce()
    for i in range(n - 1):
        if same(i, i + 1):
            bonds.addBond(i, i + 1, float(np.linalg.norm(pos[i + 1] - pos[i])), k_bond)
    for i in range(n - 2):
        if same(i, i + 1, i + 2):
            angles.addAngle(i, i + 1, i + 2, _angle(pos[i], pos[i + 1], pos[i + 2]), k_angle * eps_contact)
    for i in range(n - 3):
        if same(i, i + 1, i + 2, i + 3):
            phi = _dihedral(pos[i], pos[i + 1], pos[i + 2], pos[i + 3])
            # k (1 + cos(n phi - (n phi0 + pi))) = k (1 - cos(n (phi - phi0)))
            dihedrals.addTorsion(i, i + 1, i + 2, i + 3, 1, phi + math.pi, eps_dihedral * eps_contact)
            dihedrals.addTorsion(i, i + 1, i + 2, i + 3, 3, 3 * phi + math.pi, 0.5 * eps_dihedral * eps_contact)
    cont = mm.CustomBondForce(CG_CONTACT_EXPR)
    cont.setName(CG_CONTACT_NAME)
    cont.addPerBondParameter("eps")
    cont.addPerBondParameter("r0")
    for (i, j), r0 in zip(contacts, r0s):
        cont.addBond(int(i), int(j), [eps_contact, r0])
    nbf = mm.CustomNonbondedForce(CG_NONBONDED_EXPR)
    nbf.setName(CG_NONBONDED_NAME)
    nbf.addGlobalParameter("kdh", ONE_4PI_EPS0 / dielectric)
    nbf.addGlobalParameter("kappa", 1.0 / debye_length)
    for p in ("q", "s", "e"):
        nbf.addPerParticleParameter(p)
    for name in names:
        nbf.addParticle([CHARGE.get(name, 0.0), sigma_rep, eps_rep])
    nbf.setNonbondedMethod(mm.CustomNonbondedForce.CutoffNonPeriodic)
    nbf.setCutoffDistance(cutoff)
    excl = set()
    for i in range(n):
        for j in range(i + 1, min(i + min_separation, n)):
            excl.add((i, j))
    excl.update((int(i), int(j)) for i, j in contacts)
    for i, j in sorted(excl):
        nbf.addExclusion(i, j)
    for f in (bonds, angles, dihedrals, cont, nbf):
        system.addForce(f)
    three = {
        "ALA": "A",
        "ARG": "R",
        "ASN": "N",
        "ASP": "D",
        "CYS": "C",
        "GLN": "Q",
        "GLU": "E",
        "GLY": "G",
        "HIS": "H",
        "ILE": "I",
        "LEU": "L",
        "LYS": "K",
        "MET": "M",
        "PHE": "F",
        "PRO": "P",
        "SER": "S",
        "THR": "T",
        "TRP": "W",
        "TYR": "Y",
        "VAL": "V",
    }
    seq = "".join(three.get(r, "X") for r in names)
    return CGModel(system, top, pos, contacts, r0s, seq)


def cg_terms_from_forces(forces: dict, n: int, refuse):
    """Translate the model's named custom forces into backend terms.

    Returns (NonbondedParams or None, [BondedTerms], [indices of forces taken])."""
    import openmm as mm

    from .backend import BondedTerms, NonbondedParams, _exclusion_csr
    from .kernels_nb import MODE_CG

    nb, bonded, taken = None, [], []
    for k, f in forces.items():
        if f.getName() == CG_CONTACT_NAME:
            if not isinstance(f, mm.CustomBondForce) or f.getEnergyFunction() != CG_CONTACT_EXPR:
                refuse(f, f"named {CG_CONTACT_NAME} but not the builder's energy expression")
                continue
            if [f.getPerBondParameterName(i) for i in range(f.getNumPerBondParameters())] != ["eps", "r0"]:
                refuse(f, "unexpected per-bond parameters")
                continue
            m = f.getNumBonds()
            idx = np.zeros((m, 2), np.int32)
            prm = np.zeros((m, 2))
            for b in range(m):
                i, j, p = f.getBondParameters(b)
                idx[b] = (i, j)
                prm[b] = p
            bonded.append(BondedTerms("contacts", idx, prm, f.usesPeriodicBoundaryConditions(), source=CG_CONTACT_NAME))
            taken.append(k)
        elif f.getName() == CG_NONBONDED_NAME:
            ok = (
                isinstance(f, mm.CustomNonbondedForce)
                and f.getEnergyFunction() == CG_NONBONDED_EXPR
                and [f.getPerParticleParameterName(i) for i in range(f.getNumPerParticleParameters())]
                == ["q", "s", "e"]
                and sorted(f.getGlobalParameterName(i) for i in range(f.getNumGlobalParameters())) == ["kappa", "kdh"]
                and f.getNumInteractionGroups() == 0
                and f.getNumTabulatedFunctions() == 0
                and not f.getUseSwitchingFunction()
                and not f.getUseLongRangeCorrection()
                and f.getNonbondedMethod() != mm.CustomNonbondedForce.CutoffPeriodic
            )
            if not ok:
                refuse(f, f"named {CG_NONBONDED_NAME} but not the builder's form (expression/parameters/options)")
                continue
            g = {
                f.getGlobalParameterName(i): f.getGlobalParameterDefaultValue(i)
                for i in range(f.getNumGlobalParameters())
            }
            prm = np.array([f.getParticleParameters(i) for i in range(n)], np.float64)
            excl = [f.getExclusionParticles(e) for e in range(f.getNumExclusions())]
            ptr, idx = _exclusion_csr(n, excl)
            cutoff = (
                None if f.getNonbondedMethod() == mm.CustomNonbondedForce.NoCutoff else f.getCutoffDistance()._value
            )
            nb = NonbondedParams(
                mode=MODE_CG,
                qs=prm[:, 0].copy(),  # kdh multiplies q_i q_j in the kernel (crf), so setParameter can change it
                sh=0.5 * prm[:, 1],
                se=np.sqrt(prm[:, 2]),
                excl_ptr=ptr,
                excl_idx=idx,
                cutoff=cutoff,
                periodic=False,
                krf=g["kappa"],
                crf=g["kdh"],
            )
            taken.append(k)
    return nb, bonded, taken
