"""Protein language-model tools: ESMFold structures, ESM-2 embeddings, contact maps, variant effects.

By hand, as the agent writes it::

    import kenkyu.tools.structure as structure
    fold_1 = structure.fold("MKTAYIAKQRQISFVKSHFSRQ", out="predictions")
    print(fold_1.summary())               # mean pLDDT, pTM, PDB path
    fold_1.view()                          # nglview, coloured by pLDDT (ColabFold's 50-90 scale)
    contacts_1 = structure.contact_map("MKTAYIAKQRQISFVKSHFSRQ")
    scan_1 = structure.mutational_scan("MKTAYIAKQRQISFVKSHFSRQ")
    md_1 = structure.simulate_prediction(fold_1, ps=10, out="runs/prediction")   # fixed, then kenkyu.tools.md.run

Folding uses transformers' ``EsmForProteinFolding`` (fair-esm's own ESMFold needs openfold); ESM-2
uses fair-esm. Weights are never downloaded: see :mod:`kenkyu.tools.structure._models` for where
they are looked up (an explicit path, ``$KENKYU_MODELS``, the Hugging Face cache, the torch hub cache)
and :func:`list_models` for what this machine has. torch, transformers and esm load inside the functions.
"""

from __future__ import annotations

import functools
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from kenkyu.core.registry import tool
from kenkyu.core.science import Cost, costs
from kenkyu.tools.structure._fold import FoldMemoryError
from kenkyu.tools.structure._models import (
    DEFAULT_ESM2_MODEL,
    DEFAULT_FOLD_MODEL,
    ModelNotFoundError,
    available_models,
    clear_model_cache,
)
from kenkyu.tools.structure._from_structure import ChainSequence, is_structure_source, read_chain, sequence_items
from kenkyu.tools.structure._sequences import InvalidSequenceError, clean_sequence, single_sequence

__all__ = [
    "DEFAULT_ESM2_MODEL",
    "DEFAULT_FOLD_MODEL",
    "Embeddings",
    "FoldBatch",
    "FoldMemoryError",
    "FoldResult",
    "InvalidSequenceError",
    "ModelNotFoundError",
    "clear_model_cache",
    "contact_map",
    "embed",
    "fold",
    "list_models",
    "mutational_scan",
    "prepare_for_md",
    "show_prediction",
    "simulate_prediction",
    "variant_effects",
]

# Longest sequence accepted at all; ESMFold's practical limit is memory, checked before running.
MAX_FOLD_LENGTH = 4000
# ESM-2 was trained on crops of 1022 residues (+ BOS/EOS = 1024 tokens); longer inputs degrade.
MAX_ESM2_LENGTH = 1022
LONG_RANGE_SEPARATION = 24  # CASP's long-range contact definition: |i - j| >= 24


# ----------------------------------------------------------------------------------------------------
# Results
# ----------------------------------------------------------------------------------------------------


@dataclass
class FoldResult:
    """One ESMFold prediction: the PDB file, per-residue pLDDT (0-100), pTM (0-1) and PAE (L x L, Å)."""

    name: str
    sequence: str
    pdb_path: Path
    plddt: np.ndarray
    ptm: float
    pae: np.ndarray
    max_pae: float
    model: str
    num_recycles: int
    chunk_size: int | None
    seconds: float
    device: str
    _figure: Any = field(default=None, repr=False, compare=False)
    read_from: str = ""  # the structure the sequence was read from ("villin_1vii.pdb, chain A, ..."), if any

    @property
    def mean_plddt(self) -> float:
        return float(np.mean(self.plddt))

    @property
    def pae_path(self) -> Path:
        return self.pdb_path.with_name(f"{self.pdb_path.stem}_pae.npy")

    def summary(self) -> str:
        bands = np.histogram(self.plddt, bins=[0, 50, 70, 90, 100.01])[0] / len(self.plddt) * 100
        return (
            f"ESMFold prediction {self.name} ({len(self.sequence)} residues): mean pLDDT {self.mean_plddt:.1f}, "
            f"pTM {self.ptm:.3f}, mean PAE {float(np.mean(self.pae)):.1f} Å. "
            f"pLDDT >90: {bands[3]:.0f}%, 70-90: {bands[2]:.0f}%, 50-70: {bands[1]:.0f}%, <50: {bands[0]:.0f}%. "
            f"PDB: {self.pdb_path} (pLDDT in the B-factor column); PAE: {self.pae_path}. "
            f"Model {self.model}, {self.num_recycles} recycles, {self.seconds:.1f} s on {self.device}."
            + (f" Sequence from {self.read_from}." if self.read_from else "")
        )

    @property
    def figure(self):
        """pLDDT along the sequence (ColabFold bands) beside the PAE matrix."""
        if self._figure is None:
            from kenkyu.tools.structure._plots import fold_figure

            self._figure = fold_figure(self.plddt, self.pae, self.name, self.ptm)
        return self._figure

    def plddt_figure(self):
        from kenkyu.tools.structure._plots import plddt_figure

        return plddt_figure({self.name: self.plddt})

    def pae_figure(self):
        from kenkyu.tools.structure._plots import pae_figure

        return pae_figure(self.pae, self.name)

    def view(self):
        """nglview of the predicted structure coloured by pLDDT (ColabFold's 50-90 scale, with a legend)."""
        return show_prediction(self)

    def _repr_html_(self) -> str:
        from kenkyu.tools._figures import figure_html

        return f"<p><b>{self.summary()}</b></p>\n{figure_html(self.figure)}"


class FoldBatch(list):
    """Several :class:`FoldResult` in input order, with a table and a combined pLDDT plot."""

    def summary(self) -> str:
        lines = [f"{len(self)} ESMFold predictions in {self[0].pdb_path.parent}:"] if self else ["no predictions"]
        lines += [
            f"  {r.name}: {len(r.sequence)} aa, mean pLDDT {r.mean_plddt:.1f}, pTM {r.ptm:.3f}, {r.pdb_path.name}"
            for r in self
        ]
        return "\n".join(lines)

    def table(self):
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "name": r.name,
                    "length": len(r.sequence),
                    "mean_plddt": r.mean_plddt,
                    "ptm": r.ptm,
                    "mean_pae": float(np.mean(r.pae)),
                    "pdb": str(r.pdb_path),
                    "seconds": r.seconds,
                }
                for r in self
            ]
        )

    @property
    def figure(self):
        from kenkyu.tools.structure._plots import plddt_figure

        return plddt_figure({r.name: r.plddt for r in self})

    def _repr_html_(self) -> str:
        from kenkyu.tools._figures import figure_html

        return f"<p><b>{len(self)} predictions</b></p>\n{figure_html(self.figure)}\n{self.table()._repr_html_()}"


@dataclass
class Embeddings:
    """ESM-2 representations: ``per_residue[name]`` (L x D) and ``mean`` (one row per sequence, N x D)."""

    names: list[str]
    sequences: list[str]
    per_residue: dict[str, np.ndarray]
    mean: np.ndarray
    model: str
    layer: int
    read_from: dict[str, str] = field(default_factory=dict)  # name -> the structure its sequence was read from

    def summary(self) -> str:
        lengths = [len(s) for s in self.sequences]
        return (
            f"ESM-2 embeddings of {len(self.names)} sequence(s) from {self.model}, layer {self.layer}: "
            f"dimension {self.mean.shape[1]}, lengths {min(lengths)}-{max(lengths)}. "
            "Per-residue arrays in .per_residue[name]; mean-pooled matrix in .mean (rows follow .names)."
            + "".join(f" {name}: sequence from {where}." for name, where in self.read_from.items())
        )

    def table(self):
        """The mean embeddings as a DataFrame indexed by sequence name."""
        import pandas as pd

        return pd.DataFrame(self.mean, index=pd.Index(self.names, name="name"))

    def _repr_html_(self) -> str:
        return f"<p><b>{self.summary()}</b></p>" + (self.table().iloc[:, :8]._repr_html_() or "")


@dataclass
class ContactMap:
    """ESM-2 contact probabilities (L x L, symmetric) and the top long-range contacts."""

    name: str
    sequence: str
    probabilities: np.ndarray
    top_contacts: Any  # pandas DataFrame: i, j (1-based), residue_i, residue_j, separation, probability
    model: str
    min_separation: int
    _figure: Any = field(default=None, repr=False, compare=False)
    read_from: str = ""  # the structure the sequence was read from, and how its positions count

    def summary(self) -> str:
        top = self.top_contacts.head(5)
        pairs = ", ".join(f"{r.residue_i}{r.i}-{r.residue_j}{r.j} ({r.probability:.2f})" for r in top.itertuples())
        return (
            f"Contact map of {self.name} ({len(self.sequence)} residues) from {self.model}: "
            f"{int((self.probabilities > 0.5).sum() // 2)} pairs with probability > 0.5; "
            f"top {len(self.top_contacts)} (L/5) contacts with |i-j| >= {self.min_separation}; "
            f"strongest: {pairs or 'none'}." + (f" Sequence from {self.read_from}." if self.read_from else "")
        )

    @property
    def figure(self):
        if self._figure is None:
            from kenkyu.tools.structure._plots import contact_figure

            top = list(zip(self.top_contacts.i, self.top_contacts.j))
            self._figure = contact_figure(self.probabilities, top, self.name)
        return self._figure

    def _repr_html_(self) -> str:
        from kenkyu.tools._figures import figure_html

        return f"<p><b>{self.summary()}</b></p>\n{figure_html(self.figure)}\n{self.top_contacts.head(10)._repr_html_()}"


@functools.cache
def _variant_table_class():
    # Built on first use: AnalysisTable lives in the analysis module, which this module need not import
    # just to be listed as a tool.
    from kenkyu.tools.analysis import AnalysisTable

    class VariantTable(AnalysisTable):
        """Variant scores (one row per mutation) with the figure; ``matrix`` is 20 x L for a full scan."""

        _metadata = [*AnalysisTable._metadata, "matrix", "sequence"]  # noqa: RUF012 (pandas' own protocol)

    return VariantTable


def _scan_table(frame, figure, description, lines, matrix=None, sequence=None):
    table = _variant_table_class()(frame)
    table.figure, table.description, table._summary_lines = figure, description, lines
    table.matrix, table.sequence = matrix, sequence
    return table


# ----------------------------------------------------------------------------------------------------
# Folding
# ----------------------------------------------------------------------------------------------------


def _predictions_to_write(arguments: dict, *, measure: bool = True) -> Cost:
    """What the approval shows: the files each prediction writes."""
    basis = "typical for a small protein on CPU, not measured"
    if not arguments.get("sequences"):  # a plan priced before its arguments are known: one typical prediction
        return Cost(60.0, basis)
    try:
        items, _ = sequence_items(arguments["sequences"], chain=arguments.get("chain"), max_length=MAX_FOLD_LENGTH)
        names = [name for name, _ in items]
    except InvalidSequenceError as exc:  # the call itself refuses it, saying why
        return Cost(1.0, basis, (f"nothing is written: {exc}",))
    out = Path(str(arguments.get("out") or "predictions"))
    steps = tuple(
        f"write {out / name}.pdb (pLDDT in the B-factor column), {name}_pae.npy, {name}.json" for name in names
    )
    return Cost(60.0 * len(names), basis, steps)


@tool(
    keywords=(
        "fold",
        "predict structure",
        "esmfold",
        "alphafold-like",
        "structure prediction",
        "plddt",
        "3d model",
    ),
    # Folding takes minutes and writes files into the working folder: asked before, like every such tool.
    approval="ask",
    writes_files=True,
    produces="structure",
)
@costs(_predictions_to_write)
def fold(
    sequences: str | os.PathLike | list[str] | dict[str, str],
    out: str | os.PathLike = "predictions",
    *,
    chain: str | None = None,
    model: str = DEFAULT_FOLD_MODEL,
    num_recycles: int | None = None,
    chunk_size: int | Literal["auto"] | None = "auto",
    device: str | None = None,
    max_memory_gb: float | None = None,
    progress: bool = True,
) -> FoldResult | FoldBatch:
    """Predict the 3D structure of one or more protein sequences with ESMFold (single-sequence, no MSA).

    Writes one PDB per sequence (pLDDT 0-100 in the B-factor column) and its PAE matrix (.npy) into
    ``out``. Returns the prediction with per-residue pLDDT, pTM and PAE, plots of pLDDT and PAE, and
    ``.view()`` for a 3D view coloured by pLDDT; several sequences give a list of predictions.
    Memory is estimated before running: long sequences get a chunked trunk, and a sequence that cannot
    fit raises FoldMemoryError instead of crashing the kernel.

    Parameters
    ----------
    sequences
        One-letter amino-acid sequence, FASTA text, a FASTA file path, or a list of sequences; or a PDB/mmCIF
        file or MD run folder to read the protein chain's sequence from (a gap in its numbering is X).
        Lowercase and whitespace are fine; non-standard letters are rejected with their position.
    out
        Folder for the PDB and PAE files (created if needed).
    chain
        The chain of a structure with several protein chains (e.g. "A").
    model
        ESMFold model id (default facebook/esmfold_v1) or a local model folder; never downloaded.
    num_recycles
        Extra passes through the trunk after the first; default is the model's own (3 for esmfold_v1,
        i.e. 4 passes). 0 is fastest.
    chunk_size
        Trunk chunk size: "auto" (chosen from free memory), a number (smaller uses less memory, runs
        slower), or None (no chunking).
    device
        "cuda", "cpu", ...; default is the GPU when present, else the CPU.
    max_memory_gb
        Memory budget for the estimate instead of the free memory measured on the device.
    progress
        Show a progress bar over the sequences.

    Returns
    -------
    FoldResult or FoldBatch
        One FoldResult for one sequence; a FoldBatch (list of FoldResult) for several.
    """
    from kenkyu.tools.structure import _fold as folding
    from kenkyu.tools.structure._models import load_fold_model
    from tqdm.auto import tqdm

    items, reads = sequence_items(sequences, chain=chain, max_length=MAX_FOLD_LENGTH, tool="fold")
    read_from = {read.name: read.describe("sequence") for read in reads}
    network, resolved = load_fold_model(model, device)
    device_name = str(next(network.parameters()).device)
    out_dir = Path(out)
    # Every sequence is checked against memory before the first one runs: fail early, not after hours.
    plans = [folding.plan_memory(network, len(seq), device_name, chunk_size, max_memory_gb) for _, seq in items]
    results = []
    for (name, sequence), plan in tqdm(
        list(zip(items, plans)), desc="ESMFold", unit="seq", disable=not progress or len(items) == 1
    ):
        start = time.perf_counter()
        prediction = folding.run_fold(
            network, sequence, device=device_name, num_recycles=num_recycles, chunk_size=plan.chunk_size
        )
        pdb_path = folding.write_prediction(out_dir, name, prediction)
        result = FoldResult(
            name=name,
            sequence=sequence,
            pdb_path=pdb_path,
            plddt=prediction["plddt"],
            ptm=prediction["ptm"],
            pae=prediction["pae"],
            max_pae=prediction["max_pae"],
            model=resolved.name,
            num_recycles=prediction["num_recycles"],
            chunk_size=plan.chunk_size,
            seconds=time.perf_counter() - start,
            device=device_name,
            read_from=read_from.get(name, ""),
        )
        pdb_path.with_suffix(".json").write_text(
            json.dumps(
                {
                    "name": name,
                    "sequence": sequence,
                    **({"read_from": read_from[name]} if name in read_from else {}),
                    "model": resolved.name,
                    "model_path": str(resolved.path),
                    "mean_plddt": result.mean_plddt,
                    "ptm": result.ptm,
                    "plddt": [round(float(v), 2) for v in result.plddt],
                    "num_recycles": result.num_recycles,
                    "chunk_size": plan.chunk_size,
                    "device": device_name,
                },
                indent=1,
            )
        )
        results.append(result)
    return results[0] if len(results) == 1 else FoldBatch(results)


def _prediction_pdb(prediction) -> tuple[Path, np.ndarray | None]:
    if isinstance(prediction, FoldResult):
        return prediction.pdb_path, prediction.plddt
    path = Path(prediction)
    if not path.is_file():
        raise FileNotFoundError(f"predicted structure {str(path)!r} does not exist; pass a PDB path or a fold() result")
    return path, None


@tool(keywords=("show prediction", "view predicted structure", "plddt colours", "confidence view"), produces="view")
def show_prediction(prediction: str | os.PathLike | FoldResult):
    """Show a predicted structure in 3D coloured by pLDDT: red at 50 or below, blue at 90 or above (ColabFold).

    Parameters
    ----------
    prediction
        The PDB file of a prediction (pLDDT in the B-factor column), or by hand a fold() result.

    Returns
    -------
    ipywidgets.VBox
        The nglview widget (``.view``) above a pLDDT colour legend; ``.summary()`` describes it.
    """
    import ipywidgets
    from kenkyu.tools.structure._plots import plddt_legend_html
    from kenkyu.tools.viz import file_bfactors, show_structure

    path, plddt = _prediction_pdb(prediction)
    if plddt is None:
        import mdtraj

        traj = mdtraj.load_pdb(str(path))
        bfactors = file_bfactors(path)
        ca = [atom.residue.index for atom in traj.topology.atoms if atom.name == "CA"]
        plddt = np.full(traj.n_residues, np.nan)
        plddt[ca] = bfactors[[a.index for a in traj.topology.atoms if a.name == "CA"]]
    view = show_structure(path, color_by="plddt", values=np.asarray(plddt, dtype=float).tolist())
    # ColabFold colours pLDDT on a 50-90 scale: below 50 is uniformly "very low", above 90 "very high".
    representations = [dict(r, params=dict(r["params"])) for r in view.representations]
    for representation in representations:
        if representation["params"].get("colorScheme") == "bfactor":
            representation["params"]["colorDomain"] = [50.0, 90.0]
    view.representations = representations
    box = ipywidgets.VBox([view, ipywidgets.HTML(plddt_legend_html())])
    box.view = view
    description = view.summary().split("; coloured by")[0]
    box.summary = lambda: f"{description}; coloured by pLDDT on ColabFold's 50 (red) to 90 (blue) scale"
    return box


def _fixed_path(prediction, out) -> Path:
    path = prediction.pdb_path if isinstance(prediction, FoldResult) else Path(str(prediction))
    return Path(out) if out is not None else path.with_name(f"{path.stem}_fixed.pdb")


@tool(
    keywords=("prepare prediction for md", "fix predicted structure", "hydrogens for the prediction"),
    approval="ask",  # it writes a new structure file: asked before, like every tool that writes files
    writes_files=True,
)
@costs(
    lambda arguments, *, measure=True: Cost(
        2.0,
        "pdbfixer on a small protein, typical",
        (f"write {_fixed_path(arguments.get('prediction', ''), arguments.get('out'))} (hydrogens and OXT added)",),
    )
)
def prepare_for_md(
    prediction: str | os.PathLike | FoldResult, out: str | os.PathLike | None = None, *, ph: float = 7.0
) -> Path:
    """Make a predicted structure ready for simulation: terminal oxygens and hydrogens added with pdbfixer.

    ESMFold writes heavy atoms only and no C-terminal OXT; the MD force field needs both.

    Parameters
    ----------
    prediction
        PDB file of a prediction, or by hand a fold() result.
    out
        Path of the fixed PDB (default: ``<name>_fixed.pdb`` beside the prediction).
    ph
        pH for the protonation states of the added hydrogens.

    Returns
    -------
    pathlib.Path
        The fixed PDB (pLDDT stays available in the prediction's own file).
    """
    from kenkyu.tools.md import _prepare as prep
    from openmm.app import PDBFile
    from pdbfixer import PDBFixer

    path, _ = _prediction_pdb(prediction)
    target = _fixed_path(path, out)
    fixer = PDBFixer(filename=str(path))
    fixer.findMissingResidues()
    fixer.missingResidues = {}  # a prediction has every residue; never invent tails
    fixer.findMissingAtoms()
    with prep.reproducible_building(fixer) as seed:
        fixer.addMissingAtoms(seed=seed)
        fixer.addMissingHydrogens(ph)
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "w") as handle:
        PDBFile.writeFile(fixer.topology, fixer.positions, handle, keepIds=True)
    return target


@tool(
    keywords=(
        "simulate prediction",
        "md of predicted structure",
        "md of the prediction",
        "simulate the predicted structure",
    ),
    approval="ask",
    writes_files=True,
    produces="run_folder",
)
def simulate_prediction(
    prediction: str | os.PathLike | FoldResult,
    ps: float = 10.0,
    out: str | os.PathLike | None = None,
    *,
    solvent: Literal["explicit", "implicit", "vacuum"] = "implicit",
    nvt_ps: float | None = None,
    npt_ps: float | None = None,
    report_interval_ps: float = 1.0,
    minimize_max_iterations: int = 0,
    platform: Literal["CUDA", "OpenCL", "CPU", "Reference"] | None = None,
    seed: int | None = None,
    progress: bool = True,
    **md_options,
):
    """Run molecular dynamics of a predicted structure: fix it (hydrogens, OXT), then kenkyu.tools.md.run.

    Low-confidence regions (pLDDT < 50) are often unstructured in the prediction and move a lot in MD.

    Parameters
    ----------
    prediction
        PDB file of a prediction (from fold), or by hand a fold() result.
    ps
        Production length in picoseconds.
    out
        Run directory (default md_runs/<prediction name>_<solvent>).
    solvent
        "implicit" (GB, fast; default), "explicit" (TIP3P water box), or "vacuum".
    nvt_ps
        NVT equilibration length in ps; default (None) md.run's rule: half the production within 3-10 ps.
    npt_ps
        NPT equilibration length in ps (explicit solvent only); default (None) md.run's 10 ps.
    report_interval_ps
        Picoseconds between saved frames.
    minimize_max_iterations
        Energy-minimisation iterations before MD (0 = until converged).
    platform
        OpenMM platform; default is the fastest available.
    seed
        Random seed for reproducible velocities.
    progress
        Show a progress bar.

    Returns
    -------
    kenkyu.tools.md.MDRun
        The run directory, as kenkyu.tools.md.run returns it.
    """
    from kenkyu.tools import md

    path, _ = _prediction_pdb(prediction)
    fixed = prepare_for_md(prediction)
    if out is None:
        out = md.run_directory(path, solvent)
    return md.run(
        fixed,
        ps=ps,
        out=out,
        solvent=solvent,
        nvt_ps=nvt_ps,
        npt_ps=npt_ps,
        report_interval_ps=report_interval_ps,
        minimize_max_iterations=minimize_max_iterations,
        platform=platform,
        seed=seed,
        progress=progress,
        **md_options,
    )


# ----------------------------------------------------------------------------------------------------
# ESM-2
# ----------------------------------------------------------------------------------------------------


@tool(keywords=("embedding", "embeddings", "esm-2", "esm2", "protein language model"))
def embed(
    sequences: str | os.PathLike | list[str] | dict[str, str],
    *,
    chain: str | None = None,
    model: str = DEFAULT_ESM2_MODEL,
    layer: int = -1,
    batch_size: int = 8,
    device: str | None = None,
    progress: bool = True,
) -> Embeddings:
    """Compute ESM-2 protein language-model embeddings: per residue and mean-pooled per sequence.

    Mean embeddings are common features for clustering or training small predictors.

    Parameters
    ----------
    sequences
        One-letter sequence, FASTA text, FASTA file path, or a list of sequences; or a PDB/mmCIF file or MD
        run folder to read the protein chain's sequence from (per-residue rows then count along the chain as read).
    chain
        The chain of a structure with several protein chains (e.g. "A").
    model
        fair-esm ESM-2 checkpoint name (default esm2_t33_650M_UR50D; esm2_t6_8M_UR50D is the smallest)
        or a .pt path; never downloaded.
    layer
        Which layer's representation (-1 = last; 0 = the token embedding).
    batch_size
        Sequences per forward pass (lower it for long sequences on small GPUs).
    device
        "cuda", "cpu", ...; default is the GPU when present.
    progress
        Show a progress bar over the sequences.

    Returns
    -------
    Embeddings
        ``.per_residue[name]`` (L x D arrays), ``.mean`` (N x D), ``.table()`` as a DataFrame.
    """
    from kenkyu.tools.structure import _esm2 as esm2
    from kenkyu.tools.structure._models import load_esm2_model

    items, reads = sequence_items(sequences, chain=chain, max_length=MAX_ESM2_LENGTH, tool="embed")
    (network, alphabet), resolved = load_esm2_model(model, device)
    device_name = str(next(network.parameters()).device)
    per_residue = esm2.embeddings(
        network,
        alphabet,
        items,
        device=device_name,
        layer=layer,
        batch_size=max(1, batch_size),
        progress=progress,
    )
    layer_index = layer if layer >= 0 else network.num_layers + 1 + layer
    return Embeddings(
        names=[name for name, _ in items],
        sequences=[seq for _, seq in items],
        per_residue={name: values for (name, _), values in zip(items, per_residue)},
        mean=np.stack([values.mean(axis=0) for values in per_residue]),
        model=resolved.name,
        layer=layer_index,
        read_from={read.name: read.describe("sequence") for read in reads},
    )


@tool(keywords=("contact map", "contact prediction", "predicted contacts", "coevolution", "esm contacts"))
def contact_map(
    sequence: str | os.PathLike,
    *,
    chain: str | None = None,
    model: str = DEFAULT_ESM2_MODEL,
    min_separation: int = LONG_RANGE_SEPARATION,
    top: int | None = None,
    device: str | None = None,
) -> ContactMap:
    """Predict residue-residue contacts of one protein from ESM-2's contact head (attention maps).

    Returns the L x L contact probabilities, a plot, and the top L/5 long-range contacts (|i-j| >= 24),
    the standard set for judging contact predictions.

    Parameters
    ----------
    sequence
        One protein sequence (one-letter codes, or a FASTA with one record), or a PDB/mmCIF file or MD run
        folder to read it from (contacts are then numbered 1-based along the chain as read).
    chain
        The chain of a structure with several protein chains (e.g. "A").
    model
        fair-esm ESM-2 checkpoint name or .pt path; its -contact-regression.pt must lie beside it.
    min_separation
        Smallest sequence separation |i-j| counted as long-range.
    top
        How many top contacts to list (default L/5).
    device
        "cuda", "cpu", ...; default is the GPU when present.

    Returns
    -------
    ContactMap
        ``.probabilities`` (L x L), ``.top_contacts`` (DataFrame), ``.figure``.
    """
    import pandas as pd
    from kenkyu.tools.structure import _esm2 as esm2
    from kenkyu.tools.structure._models import esm2_fetch_instructions, load_esm2_model

    name, seq, read = _wild_type(sequence, chain, "contact_map")
    (network, alphabet), resolved = load_esm2_model(model, device)
    if not getattr(network, "has_contact_regression", True):
        raise ModelNotFoundError(
            f"{resolved.path} has no contact head weights ({resolved.path.stem}-contact-regression.pt beside it); "
            f"embeddings and variant scores work without them, contact maps do not.\n"
            f"{esm2_fetch_instructions(resolved.name)}"
        )
    probabilities = esm2.contact_probabilities(network, alphabet, seq, device=str(next(network.parameters()).device))
    count = max(1, len(seq) // 5) if top is None else top
    pairs = esm2.top_long_range_contacts(probabilities, min_separation=min_separation, count=count)
    table = pd.DataFrame(
        [
            {
                "i": i,
                "j": j,
                "residue_i": seq[i - 1],
                "residue_j": seq[j - 1],
                "separation": j - i,
                "probability": p,
            }
            for i, j, p in pairs
        ],
        columns=["i", "j", "residue_i", "residue_j", "separation", "probability"],
    )
    return ContactMap(
        name=name,
        sequence=seq,
        probabilities=probabilities,
        top_contacts=table,
        model=resolved.name,
        min_separation=min_separation,
        read_from=read.describe("sequence") if read is not None else "",
    )


def _wild_type(sequence, chain: str | None, tool: str) -> tuple[str, str, ChainSequence | None]:
    """(name, sequence, where it was read) from a sequence, a FASTA, or a structure file / MD run folder."""
    if is_structure_source(sequence):
        read = read_chain(sequence, chain)
        clean_sequence(read.sequence, read.where, max_length=MAX_ESM2_LENGTH)
        return read.name, read.sequence, read
    if chain is not None:
        raise InvalidSequenceError(
            f"chain={chain!r} picks a chain of a structure file, but {tool} was given a sequence: pass the PDB or "
            "mmCIF file (or run folder) to read chain " + repr(chain) + " from, or leave chain out"
        )
    name, seq = single_sequence(sequence, max_length=MAX_ESM2_LENGTH, tool=tool)
    return name, seq, None


def _read_from(read: ChainSequence | None, numbering: str) -> list[str]:
    """The summary lines that say what was scored: the file, chain and numbering, and each gap in it."""
    return [] if read is None else [f"sequence from {read.describe(numbering)}", *read.notes]


def _parse_mutation(
    text: str, sequence: str, read: ChainSequence | None = None, numbering: str = "pdb"
) -> tuple[int, str, str]:
    """(1-based position along ``sequence``, wild type, mutant); a structure's mutation is numbered as
    ``numbering`` says (the file's residue numbers, or 1-based along the chain)."""
    from kenkyu.tools.structure._esm2 import AMINO_ACIDS

    token = text.strip().upper()
    wild, number, mutant = token[:1], token[1:-1], token[-1:]
    if len(token) < 3 or not number.lstrip("-").isdigit():
        raise InvalidSequenceError(f"mutation {text!r} is not in the form A12G (wild type, 1-based position, mutant)")
    position = int(number)
    if mutant not in AMINO_ACIDS:
        raise InvalidSequenceError(
            f"mutation {text!r}: {mutant!r} is not one of the 20 standard amino acids",
            position=position,
            character=mutant,
        )
    if read is not None:
        return read.index_of(text, position, wild, numbering) + 1, wild, mutant
    if not 1 <= position <= len(sequence):
        raise InvalidSequenceError(
            f"mutation {text!r}: position {position} is outside the sequence (1-{len(sequence)})",
            position=position,
        )
    if sequence[position - 1] != wild:
        raise InvalidSequenceError(
            f"mutation {text!r}: the sequence has {sequence[position - 1]} at position {position}, not {wild} "
            "(positions are 1-based and count from the first residue given)",
            position=position,
            character=wild,
        )
    return position, wild, mutant


@tool(
    keywords=(
        "variant effect",
        "variant effects",
        "mutation",
        "point mutation",
        "masked marginal",
        "zero-shot",
    )
)
def variant_effects(
    sequence: str | os.PathLike,
    mutations: list[str],
    *,
    chain: str | None = None,
    numbering: Literal["pdb", "sequence"] = "pdb",
    model: str = DEFAULT_ESM2_MODEL,
    batch_size: int = 8,
    device: str | None = None,
    progress: bool = False,
):
    """Score single amino-acid substitutions with ESM-2 masked marginals (zero-shot variant effects).

    Score = log p(mutant) - log p(wild type) at the masked position: negative means the language model
    finds the substitution less likely than the wild type (often destabilising or deleterious).

    Parameters
    ----------
    sequence
        The wild-type protein sequence (one record), or a structure to read it from: a PDB or mmCIF file, or an
        MD run folder ("the sequence of 5dfr_minimized.pdb").
    mutations
        Substitutions like ["A12G", "L45P"]: wild-type letter, position, mutant letter. For a sequence the
        position is 1-based; for a structure it is the file's residue number (see numbering).
    chain
        The chain of a structure with several protein chains (e.g. "A"); one chain is read without it.
    numbering
        For a structure: "pdb" (default), positions are the file's residue numbers (G121V is residue 121 as the
        file numbers it); "sequence", 1-based along the chain as read (gaps count as positions).
    model
        fair-esm ESM-2 checkpoint name or .pt path.
    batch_size
        Masked copies of the sequence per forward pass.
    device
        "cuda", "cpu", ...; default is the GPU when present.
    progress
        Show a progress bar over the masked positions.

    Returns
    -------
    AnalysisTable
        One row per mutation (mutation, position, wild_type, mutant, score), sorted as given, with a bar plot.
    """
    import pandas as pd
    from kenkyu.tools.structure import _esm2 as esm2
    from kenkyu.tools.structure._models import load_esm2_model
    from kenkyu.tools.structure._plots import _figure

    if numbering not in ("pdb", "sequence"):
        raise InvalidSequenceError(f"numbering must be 'pdb' or 'sequence', not {numbering!r}")
    name, seq, read = _wild_type(sequence, chain, "variant_effects")
    if isinstance(mutations, str):
        mutations = [m for m in mutations.replace(",", " ").split() if m]
    if not mutations:
        raise InvalidSequenceError("no mutations given: pass a list like ['A12G', 'L45P']")
    parsed = [_parse_mutation(m, seq, read, numbering) for m in mutations]
    (network, alphabet), resolved = load_esm2_model(model, device)
    positions = sorted({position - 1 for position, _, _ in parsed})  # each position is masked only once
    log_probs = esm2.masked_log_probabilities(
        network,
        alphabet,
        seq,
        positions,
        device=str(next(network.parameters()).device),
        batch_size=max(1, batch_size),
        progress=progress,
    )
    rows = []
    for (position, wild, mutant), text in zip(parsed, mutations):
        values = log_probs[position - 1]
        score = float(values[esm2.AMINO_ACIDS.index(mutant)] - values[esm2.AMINO_ACIDS.index(wild)])
        # A structure's mutation keeps the number it was given in (the file's residue number by default).
        named = position if read is None or numbering == "sequence" else read.numbers[position - 1]
        row = {"mutation": f"{wild}{named}{mutant}", "position": position}
        if read is not None:
            row["residue"] = read.numbers[position - 1]
        rows.append({**row, "wild_type": wild, "mutant": mutant, "score": score})
    frame = pd.DataFrame(rows)
    figure = _figure(max(3.0, 0.35 * len(frame) + 1.5), 2.8)
    axes = figure.subplots()
    axes.bar(frame.mutation, frame.score, color=["#b2182b" if s < 0 else "#2166ac" for s in frame.score])
    axes.axhline(0, color="black", linewidth=0.8)
    axes.set(ylabel="log p(mut) - log p(wt)", title=f"ESM-2 masked-marginal scores: {name}")
    axes.tick_params(axis="x", rotation=90)
    worst = frame.nsmallest(3, "score")
    lines = ["most deleterious: " + ", ".join(f"{r.mutation} ({r.score:.2f})" for r in worst.itertuples())]
    lines += _read_from(read, numbering)
    description = f"{len(frame)} variant scores for {name} ({len(seq)} aa) from {resolved.name} (masked marginals)"
    return _scan_table(frame, figure, description, lines, sequence=seq)


@tool(
    keywords=(
        "mutational scan",
        "deep mutational scanning",
        "saturation mutagenesis",
        "all mutations",
        "all substitutions",
    )
)
def mutational_scan(
    sequence: str | os.PathLike,
    *,
    chain: str | None = None,
    model: str = DEFAULT_ESM2_MODEL,
    positions: list[int] | None = None,
    batch_size: int = 8,
    device: str | None = None,
    progress: bool = True,
):
    """Score every single substitution of a protein with ESM-2 masked marginals and draw the heatmap.

    One masked forward pass per position; 19 substitutions per position, scored as
    log p(mutant) - log p(wild type) (negative = less likely than wild type).

    Parameters
    ----------
    sequence
        The wild-type protein sequence (one record), or a PDB/mmCIF file or MD run folder to read it from.
    chain
        The chain of a structure with several protein chains (e.g. "A").
    model
        fair-esm ESM-2 checkpoint name or .pt path.
    positions
        1-based positions along the sequence to scan (default: all); for a structure the table's ``residue``
        column gives the file's residue number of each.
    batch_size
        Masked copies of the sequence per forward pass.
    device
        "cuda", "cpu", ...; default is the GPU when present.
    progress
        Show a progress bar over the positions.

    Returns
    -------
    AnalysisTable
        Tidy table (position, wild_type, mutant, mutation, score) with the heatmap as ``.figure`` and the
        20 x L score matrix as ``.matrix`` (rows ACDEFGHIKLMNPQRSTVWY; NaN where not scanned).
    """
    import pandas as pd
    from kenkyu.tools.structure import _esm2 as esm2
    from kenkyu.tools.structure._models import load_esm2_model
    from kenkyu.tools.structure._plots import scan_figure

    name, seq, read = _wild_type(sequence, chain, "mutational_scan")
    chosen = list(range(1, len(seq) + 1)) if positions is None else sorted({int(p) for p in positions})
    outside = [p for p in chosen if not 1 <= p <= len(seq)]
    if outside or not chosen:
        raise InvalidSequenceError(f"positions {outside or '[]'} are not within 1-{len(seq)}")
    (network, alphabet), resolved = load_esm2_model(model, device)
    log_probs = esm2.masked_log_probabilities(
        network,
        alphabet,
        seq,
        [p - 1 for p in chosen],
        device=str(next(network.parameters()).device),
        batch_size=max(1, batch_size),
        progress=progress,
    )
    matrix = np.full((len(esm2.AMINO_ACIDS), len(seq)), np.nan)
    rows = []
    for position in chosen:
        wild = seq[position - 1]
        values = log_probs[position - 1]
        # X (unknown) has no wild-type probability among the 20: score against the mean instead.
        reference = values[esm2.AMINO_ACIDS.index(wild)] if wild in esm2.AMINO_ACIDS else float(np.mean(values))
        scores = values - reference
        matrix[:, position - 1] = scores
        for mutant, score in zip(esm2.AMINO_ACIDS, scores):
            if mutant != wild:
                rows.append(
                    {
                        "position": position,
                        **({} if read is None else {"residue": read.numbers[position - 1]}),
                        "wild_type": wild,
                        "mutant": mutant,
                        "mutation": f"{wild}{position}{mutant}",
                        "score": float(score),
                    }
                )
    frame = pd.DataFrame(rows)
    figure = scan_figure(matrix, seq, esm2.AMINO_ACIDS, name)
    per_position = frame.groupby("position").score.mean()
    lines = [
        "most deleterious: "
        + ", ".join(f"{r.mutation} ({r.score:.2f})" for r in frame.nsmallest(3, "score").itertuples()),
        "least tolerant positions (mean score): "
        + ", ".join(f"{seq[p - 1]}{p} ({v:.2f})" for p, v in per_position.nsmallest(3).items()),
        *_read_from(read, "sequence"),
    ]
    description = (
        f"Mutational scan of {name} ({len(seq)} aa, {len(chosen)} positions, {len(frame)} substitutions) "
        f"from {resolved.name}"
    )
    return _scan_table(frame, figure, description, lines, matrix=matrix, sequence=seq)


@tool(
    keywords=(
        "which models",
        "esm models",
        "models are installed",
        "available weights",
        "esmfold weights",
        "esm weights",
        "offline models",
    )
)
def list_models():
    """List the protein models available offline on this machine (ESMFold and ESM-2 weights) and where they are.

    Looks, in order, at $KENKYU_MODELS, the Hugging Face cache and the torch hub cache. Nothing is downloaded.

    Returns
    -------
    pandas.DataFrame
        One row per model: model, kind (esmfold/esm2), source, path, contact_head.
    """
    import pandas as pd

    rows = available_models()
    return pd.DataFrame(rows, columns=["model", "kind", "source", "path", "contact_head"])
