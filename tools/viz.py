"""3D views with nglview: structures and trajectories, coloured by a per-residue value.

The value (RMSF, pLDDT, B-factor, or any number per residue) is written into the B-factor column of
the structure nglview receives, and the cartoon uses NGL's ``bfactor`` colour scheme with an explicit
domain, so the colours mean the same in every view. Default look: protein cartoon, ligands as
ball+stick, ions as spheres, water hidden.

nglview and mdtraj are imported inside the functions (the agent imports this module to list tools).
"""

from __future__ import annotations

import os
import tempfile
import warnings
from typing import Any, Literal, Protocol

import numpy as np
from kenkyu.core.registry import tool
from kenkyu.core.science import costs

__all__ = ["per_residue_values", "show_structure", "show_trajectory"]

ColorBy = Literal["bfactor", "plddt", "rmsf", "chain", "secondary_structure", "residue_index", "element"]

# Colour scales: blue = confident/rigid, red = uncertain/mobile.
_SCALES = {
    "plddt": dict(colorScale="RdYlBu", colorReverse=False),  # 0 red ... 100 blue, as AlphaFold/ESMFold pages
    "bfactor": dict(colorScale="RdYlBu", colorReverse=True),
    "rmsf": dict(colorScale="RdYlBu", colorReverse=True),
    "values": dict(colorScale="RdYlBu", colorReverse=True),
}
_PLAIN_SCHEMES = {
    "chain": "chainindex",
    "secondary_structure": "sstruc",
    "residue_index": "residueindex",
    "element": "element",
}


class StructureObject(Protocol):
    """An ``mdtraj.Trajectory`` or :class:`kenkyu.tools.md.MDRun`, passed by hand (not JSON)."""

    topology: Any


def _trajectory(source, topology=None):
    from kenkyu.tools.analysis import load_trajectory

    return load_trajectory(source, topology)


def file_bfactors(path) -> np.ndarray | None:
    """Per-atom B-factors of a PDB file's first model, in file order (mdtraj drops them on loading)."""
    if not str(path).lower().endswith((".pdb", ".ent")):
        return None
    values = []
    with open(path) as handle:
        for line in handle:
            if line.startswith("ENDMDL"):
                break
            if line.startswith(("ATOM", "HETATM")):
                field = line[60:66].strip()
                values.append(float(field) if field else np.nan)
    return np.array(values)


def per_residue_values(traj, values) -> np.ndarray:
    """Per-residue values as an array over ``traj``'s residues (NaN where missing).

    ``values``: an array with one value per residue; a dict {resSeq: value}; or a DataFrame with a value
    column (``rmsf_nm``, ``plddt``, ``value`` or the last numeric column) and ``residue_index`` or
    ``resSeq`` (e.g. the table kenkyu.tools.analysis.rmsf returns).
    """
    import pandas as pd

    residues = list(traj.topology.residues)
    out = np.full(len(residues), np.nan)
    if isinstance(values, pd.DataFrame):
        candidates = [c for c in ("rmsf_nm", "plddt", "value", "bfactor") if c in values.columns]
        column = candidates[0] if candidates else values.select_dtypes("number").columns[-1]
        if "residue_index" in values.columns:
            for index, value in zip(values.residue_index, values[column]):
                if 0 <= index < len(out):
                    out[int(index)] = value
            return out
        values = dict(zip(values.resSeq, values[column]))
    if isinstance(values, dict):
        for i, residue in enumerate(residues):
            if residue.resSeq in values:
                out[i] = values[residue.resSeq]
        return out
    array = np.asarray(values, dtype=float)
    if array.shape != (len(residues),):
        raise ValueError(f"values has shape {array.shape}; the structure has {len(residues)} residues")
    return array


def _atom_values(traj, residue_values: np.ndarray) -> np.ndarray:
    return np.array([residue_values[atom.residue.index] for atom in traj.topology.atoms])


class _ValuedStructure:
    """An nglview Structure + Trajectory adaptor whose PDB carries per-atom values as B-factors."""

    def __new__(cls, traj, atom_values):
        from kenkyu.tools._nglview import import_nglview

        nglview = import_nglview()

        class Adaptor(nglview.Trajectory, nglview.Structure):
            def __init__(self):
                nglview.Structure.__init__(self)
                nglview.Trajectory.__init__(self)
                self.ext = "pdb"

            def get_structure_string(self):
                with tempfile.TemporaryDirectory() as folder:
                    path = os.path.join(folder, "view.pdb")
                    traj[0].save_pdb(path, bfactors=atom_values)
                    with open(path) as handle:
                        return handle.read()

            def get_coordinates(self, index):
                return 10 * traj.xyz[index]  # NGL works in angstroms

            @property
            def n_frames(self):
                return traj.n_frames

        return Adaptor()


def _pdb_safe(atom_values: np.ndarray) -> tuple[np.ndarray, tuple[float, float], bool]:
    """Values that fit the PDB B-factor field (-10..100); rescaled to 0..100 when they do not."""
    finite = atom_values[np.isfinite(atom_values)]
    if finite.size == 0:
        return np.zeros_like(atom_values), (0.0, 1.0), False
    lo, hi = float(finite.min()), float(finite.max())
    filled = np.where(np.isfinite(atom_values), atom_values, lo)
    if lo >= -10 and hi < 100:
        return filled, (lo, hi if hi > lo else lo + 1e-6), False
    return (filled - lo) / (hi - lo or 1) * 99.9, (0.0, 99.9), True


def _representations(color: dict, show_water: bool) -> list[dict]:
    reps = [
        {"type": "cartoon", "params": {"sele": "protein", **color}},
        {"type": "ball+stick", "params": {"sele": "ligand and not ion", "colorScheme": "element"}},
        {"type": "spacefill", "params": {"sele": "ion", "radiusScale": 0.6, "colorScheme": "element"}},
        {"type": "ball+stick", "params": {"sele": "nucleic", "colorScheme": "element"}},
    ]
    if show_water:
        reps.append({"type": "line", "params": {"sele": "water", "colorScheme": "element"}})
    return reps


def _build_view(traj, color_by, values, bfactors, *, title: str, show_water: bool, trajectory: bool):
    from kenkyu.tools._nglview import import_nglview

    nglview = import_nglview()

    description = f"{title}: {traj.n_atoms} atoms, {traj.n_residues} residues"
    if trajectory:
        description += f", {traj.n_frames} frames"
    if values is not None or color_by in ("bfactor", "plddt", "rmsf"):
        if values is not None:
            residue_values = per_residue_values(traj, values)
            atom_values = _atom_values(traj, residue_values)
            kind = color_by if color_by in ("plddt", "rmsf", "bfactor") else "values"
        elif color_by == "rmsf":
            from kenkyu.tools.analysis import rmsf

            if traj.n_frames < 2:
                raise ValueError("color_by='rmsf' needs a trajectory with several frames, or pass values=")
            table = rmsf(traj)
            residue_values = per_residue_values(traj, table)
            atom_values = _atom_values(traj, residue_values)
            kind = "rmsf"
        else:
            if bfactors is None:
                raise ValueError(
                    f"color_by={color_by!r} reads the B-factor column of a PDB file; this input has none. "
                    "Pass the PDB path, or the values themselves with values="
                )
            atom_values = bfactors
            kind = color_by
        safe, domain, rescaled = _pdb_safe(np.asarray(atom_values, dtype=float))
        if kind == "plddt" and not rescaled:
            # pLDDT is stored as 0-100 (ESMFold, AlphaFold) or 0-1 (some ESMFold exports).
            domain = (0.0, 100.0) if domain[1] > 1.0 else (0.0, 1.0)
        color = {"colorScheme": "bfactor", "colorDomain": list(domain), **_SCALES[kind]}
        finite = np.asarray(atom_values, dtype=float)
        finite = finite[np.isfinite(finite)]
        description += (
            f"; coloured by {kind} ({finite.min():.3g} to {finite.max():.3g}, "
            f"blue {'high' if kind == 'plddt' else 'low'})"
        )
        adaptor = _ValuedStructure(traj, safe)
    else:
        scheme = _PLAIN_SCHEMES.get(color_by or "secondary_structure")
        if scheme is None:
            raise ValueError(f"color_by must be one of {list(ColorBy.__args__)}, not {color_by!r}")
        color = {"colorScheme": scheme}
        description += f"; coloured by {color_by or 'secondary_structure'}"
        adaptor = _ValuedStructure(traj, np.zeros(traj.n_atoms))
    widget = nglview.NGLWidget(adaptor, representations=_representations(color, show_water))
    widget.summary = lambda: description  # what the agent reads about the view
    return widget


TYPICAL_SECONDS = 1.0  # building a widget: quick, whatever the input


@tool(
    keywords=("show the structure", "view", "visualize", "visualise", "3d", "display", "render", "look at"),
    produces="view",
)
@costs(TYPICAL_SECONDS)
def show_structure(
    structure: str | os.PathLike | StructureObject,
    color_by: ColorBy | None = None,
    values: list[float] | dict[int, float] | None = None,
    *,
    frame: int = -1,
    show_water: bool = False,
):
    """Show a protein structure in 3D (nglview), optionally coloured by a per-residue value.

    Cartoon for the protein, ball+stick for ligands, spheres for ions, water hidden by default.

    Parameters
    ----------
    structure
        PDB/mmCIF file, or an MD run directory (shows its final or latest frame); by hand also an
        mdtraj.Trajectory or MDRun.
    color_by
        "plddt" or "bfactor" (from the PDB file's B-factor column; ESMFold/AlphaFold store pLDDT there),
        "rmsf" (needs ``values`` or an MD run), "chain", "secondary_structure" (default), "residue_index", "element".
    values
        One number per residue to colour by (a list in residue order, or {residue number: value}); by hand
        also a table from kenkyu.tools.analysis.rmsf.
    frame
        Which frame of a trajectory or MD run to show (-1 = last).
    show_water
        Also draw water molecules (as lines).

    Returns
    -------
    nglview.NGLWidget
        The view; ``.summary()`` describes it in one line.
    """
    import mdtraj

    bfactors = None
    title = "structure"
    if isinstance(structure, (str, os.PathLike)) and os.path.isfile(structure):
        with warnings.catch_warnings():
            # NMR and predicted structures carry a dummy 1 A CRYST1 box; mdtraj discards it and says so.
            warnings.filterwarnings("ignore", "Unlikely unit cell vectors")
            traj = mdtraj.load(os.fspath(structure))
        bfactors = file_bfactors(structure)
        title = os.path.basename(os.fspath(structure))
    else:
        source = _trajectory(structure)
        title = f"frame {frame} of {_name(structure)}"
        if color_by == "rmsf" and values is None and source.n_frames > 1:
            from kenkyu.tools.analysis import rmsf

            values = rmsf(source)
        traj = source[frame]
    return _build_view(traj, color_by, values, bfactors, title=title, show_water=show_water, trajectory=False)


@tool(keywords=("play", "animate", "movie", "watch the trajectory", "trajectory viewer"), produces="view")
@costs(TYPICAL_SECONDS)
def show_trajectory(
    trajectory: str | os.PathLike | StructureObject,
    topology: str | os.PathLike | None = None,
    color_by: ColorBy | None = None,
    values: list[float] | dict[int, float] | None = None,
    *,
    stride: int = 1,
    remove_solvent: bool = True,
):
    """Play an MD trajectory in 3D (nglview), optionally coloured by a per-residue value such as RMSF.

    Parameters
    ----------
    trajectory
        MD run directory (from md_run) or trajectory file; by hand also an MDRun or mdtraj.Trajectory.
    topology
        Topology PDB for a DCD/XTC file (not needed for a run directory).
    color_by
        "rmsf" (computed from this trajectory unless ``values`` is given), "chain", "secondary_structure"
        (default), "residue_index", "element".
    values
        One number per residue to colour by (list in residue order or {residue number: value}).
    stride
        Show every ``stride``-th frame (long trajectories load faster).
    remove_solvent
        Drop water (ions stay) so the view stays fast.

    Returns
    -------
    nglview.NGLWidget
        The view with a frame player; ``.summary()`` describes it in one line.
    """
    traj = _trajectory(trajectory, topology)[::stride]
    if remove_solvent:
        keep = traj.topology.select("not water")
        if len(keep) < traj.n_atoms:
            traj = traj.atom_slice(keep)
    if traj.unitcell_lengths is not None and traj.n_residues > 1:
        # Molecules wrapped into the box can appear split; put the protein back together for viewing.
        try:
            traj = traj.image_molecules()
        except Exception:
            pass
    alpha_carbons = traj.topology.select("name CA")
    if traj.n_frames > 1:
        traj = traj.superpose(traj, 0, atom_indices=alpha_carbons if alpha_carbons.size else None)
    if color_by == "rmsf" and values is None:
        from kenkyu.tools.analysis import rmsf

        if traj.n_frames < 2:
            raise ValueError("color_by='rmsf' needs several frames")
        values = rmsf(traj)
    return _build_view(
        traj,
        color_by,
        values,
        None,
        title=f"trajectory {_name(trajectory)}",
        show_water=False,
        trajectory=True,
    )


def _name(source) -> str:
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    return str(getattr(source, "directory", type(source).__name__))
