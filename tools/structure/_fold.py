"""ESMFold internals: memory estimate and trunk chunking, one forward pass, PDB writing.

Sequences are folded one at a time: pTM and PAE from transformers' heads are computed over the whole
(padded) tensor, so batching sequences of different lengths would mix padding into them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Trunk chunk sizes tried from the fastest (no chunking) down; smaller chunks trade speed for memory.
CHUNK_SIZES = (None, 128, 64, 32, 16, 8, 4)
# Fraction of the free memory a prediction may plan to use (the estimate is approximate).
MEMORY_HEADROOM = 0.8
# Live copies of the pair representation during a trunk block (inputs, updates, layer norms, gates).
_PAIR_COPIES = 12
CA_INDEX = 1  # atom37 index of C-alpha: per-residue pLDDT is the C-alpha value, as ColabFold reports it


class FoldMemoryError(MemoryError):
    """The prediction would not fit in memory; the message gives the numbers and what to do."""


@dataclass
class MemoryPlan:
    length: int
    chunk_size: int | None
    estimated_bytes: int
    available_bytes: int | None
    device: str


def available_memory_bytes(device: str) -> int | None:
    """Free memory on ``device``: CUDA's free memory, or MemAvailable from /proc/meminfo on the CPU."""
    if device.startswith("cuda"):
        import torch

        free, _total = torch.cuda.mem_get_info(torch.device(device))
        return int(free)
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def estimate_fold_memory(
    length: int, trunk_config, chunk_size: int | None, *, lm_heads: int = 20, bytes_per_value: int = 4
) -> int:
    """Approximate peak activation memory (bytes) of one ESMFold prediction of ``length`` residues.

    Dominant terms: the L x L x c_z pair representation (several live copies per trunk block), the
    triangular attention logits (heads x rows x L x L, where rows = L unchunked or ``chunk_size``),
    and the language model's attention maps (heads x L x L). Model weights are counted separately.
    """
    pair_dim = trunk_config.pairwise_state_dim
    pair_heads = max(1, pair_dim // trunk_config.pairwise_head_width)
    rows = length if chunk_size is None else min(chunk_size, length)
    pair = _PAIR_COPIES * length * length * pair_dim
    triangular_attention = 2 * pair_heads * rows * length * length  # logits and softmax
    language_model = 2 * lm_heads * length * length
    return int((pair + triangular_attention + language_model) * bytes_per_value)


def plan_memory(
    network,
    length: int,
    device: str,
    chunk_size: int | str | None = "auto",
    max_memory_gb: float | None = None,
) -> MemoryPlan:
    """Choose the trunk chunk size for ``length`` residues, or raise FoldMemoryError before running."""
    trunk_config = network.config.esmfold_config.trunk
    lm_heads = network.config.num_attention_heads
    if max_memory_gb is not None:
        available = int(max_memory_gb * 1024**3)
    else:
        available = available_memory_bytes(device)
    if chunk_size != "auto":
        estimate = estimate_fold_memory(length, trunk_config, chunk_size, lm_heads=lm_heads)
        plan = MemoryPlan(length, chunk_size, estimate, available, device)
        if available is not None and estimate > available:
            raise FoldMemoryError(_memory_message(plan, "with the chunk_size you chose"))
        return plan
    plan = None
    for candidate in CHUNK_SIZES:
        estimate = estimate_fold_memory(length, trunk_config, candidate, lm_heads=lm_heads)
        plan = MemoryPlan(length, candidate, estimate, available, device)
        if available is None or estimate <= MEMORY_HEADROOM * available:
            return plan
    raise FoldMemoryError(_memory_message(plan, f"even with the smallest trunk chunk ({CHUNK_SIZES[-1]})"))


def _memory_message(plan: MemoryPlan, how: str) -> str:
    gib = 1024**3
    available = "unknown" if plan.available_bytes is None else f"{plan.available_bytes / gib:.1f} GiB"
    return (
        f"Folding {plan.length} residues needs about {plan.estimated_bytes / gib:.1f} GiB of activations on "
        f"{plan.device} {how}, but {available} is free. Options: fold on a GPU with more memory, fold the "
        "domains separately (split the sequence at domain boundaries), or close other models/kernels "
        "(kenkyu.tools.structure.clear_model_cache() frees the ones kenkyu loaded)."
    )


def sequence_to_aatype(sequence: str):
    """AlphaFold residue indices (what EsmForProteinFolding.forward takes); X maps to the unknown index."""
    import torch
    from transformers.models.esm.openfold_utils import residue_constants

    order = residue_constants.restype_order_with_x
    unknown = order["X"]
    return torch.tensor([[order.get(residue, unknown) for residue in sequence]], dtype=torch.long)


def run_fold(network, sequence: str, *, device: str, num_recycles: int | None, chunk_size: int | None) -> dict:
    """One forward pass; returns numpy arrays: atom37 positions and mask, pLDDT (0-100), pTM, PAE."""
    import torch

    if num_recycles is None:
        # transformers runs config.max_recycles trunk passes when num_recycles is None, but n + 1 passes for
        # an explicit n, and no pass at all (a crash) when max_recycles is 0 and left to default. So the
        # model's default is reproduced explicitly, with at least one pass.
        num_recycles = max(0, int(network.config.esmfold_config.trunk.max_recycles) - 1)
    if num_recycles < 0:
        raise ValueError(f"num_recycles must be 0 or more, not {num_recycles}")
    network.trunk.set_chunk_size(chunk_size)
    aatype = sequence_to_aatype(sequence).to(device)
    mask = torch.ones_like(aatype)
    positions = torch.arange(aatype.shape[1], device=device).unsqueeze(0)
    try:
        with torch.no_grad():
            output = network(aatype, attention_mask=mask, position_ids=positions, num_recycles=num_recycles)
    except torch.cuda.OutOfMemoryError as exc:
        torch.cuda.empty_cache()
        raise FoldMemoryError(
            f"Ran out of GPU memory folding {len(sequence)} residues (chunk size {chunk_size}). Pass a smaller "
            "chunk_size (e.g. 32 or 16), fold domains separately, or use a GPU with more memory."
        ) from exc
    from transformers.models.esm.openfold_utils.feats import atom14_to_atom37

    arrays = {
        key: output[key].detach().float().cpu().numpy()
        if output[key].is_floating_point()
        else output[key].cpu().numpy()
        for key in (
            "positions",
            "atom37_atom_exists",
            "residx_atom37_to_atom14",
            "atom14_atom_exists",
            "aatype",
            "plddt",
            "predicted_aligned_error",
        )
    }
    atom37 = atom14_to_atom37(arrays["positions"][-1], arrays)[0]
    plddt_atoms = 100.0 * arrays["plddt"][0]  # transformers reports 0-1; PDB files and ColabFold use 0-100
    return {
        "aatype": arrays["aatype"][0],
        "atom_positions": atom37,
        "atom_mask": arrays["atom37_atom_exists"][0],
        "plddt_atoms": plddt_atoms,
        "plddt": plddt_atoms[:, CA_INDEX],
        "ptm": float(output["ptm"].reshape(-1)[0]),
        "pae": arrays["predicted_aligned_error"][0],
        "max_pae": float(output["max_predicted_aligned_error"].reshape(-1)[0]),
        "num_recycles": num_recycles,
    }


def prediction_pdb_text(
    aatype: np.ndarray, atom_positions: np.ndarray, atom_mask: np.ndarray, plddt_atoms: np.ndarray
) -> str:
    """PDB text of a prediction (heavy atoms, pLDDT 0-100 in the B-factor column), via openfold's writer.

    The writer's non-standard ``PARENT`` record is dropped so every PDB reader takes the file.
    """
    from transformers.models.esm.openfold_utils.protein import Protein, to_pdb

    protein = Protein(
        aatype=aatype,
        atom_positions=atom_positions,
        atom_mask=atom_mask,
        residue_index=np.arange(1, len(aatype) + 1),
        b_factors=plddt_atoms,
    )
    lines = [line for line in to_pdb(protein).splitlines() if not line.startswith("PARENT")]
    return "\n".join(lines) + "\n"


def write_prediction(out_dir: Path, name: str, prediction: dict) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "prediction"
    path = out_dir / f"{safe}.pdb"
    text = prediction_pdb_text(
        prediction["aatype"], prediction["atom_positions"], prediction["atom_mask"], prediction["plddt_atoms"]
    )
    tmp = path.with_suffix(".pdb.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)  # never leave a half-written PDB behind
    np.save(out_dir / f"{safe}_pae.npy", prediction["pae"])
    return path
