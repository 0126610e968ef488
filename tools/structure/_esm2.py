"""ESM-2 computations through fair-esm: embeddings, contact maps, masked-marginal scores.

fair-esm's alphabet adds a BOS token before and an EOS token after each sequence, so residue ``i``
(0-based) sits at token ``i + 1``.
"""

from __future__ import annotations

import numpy as np

AMINO_ACIDS = "ACDEFGHIKLMNPQRSTVWY"


def _tokens(alphabet, items: list[tuple[str, str]], device: str):
    converter = alphabet.get_batch_converter()
    _labels, _strings, tokens = converter(items)
    return tokens.to(device)


def _layer_index(network, layer: int) -> int:
    index = layer if layer >= 0 else network.num_layers + 1 + layer
    if not 0 <= index <= network.num_layers:
        raise ValueError(f"layer must be between -{network.num_layers + 1} and {network.num_layers}, not {layer}")
    return index


def embeddings(
    network,
    alphabet,
    items: list[tuple[str, str]],
    *,
    device: str,
    layer: int,
    batch_size: int,
    progress: bool,
) -> list[np.ndarray]:
    """Per-residue representations (L x D, float32) of ``layer`` for each sequence, in input order."""
    import torch
    from tqdm.auto import tqdm

    index = _layer_index(network, layer)
    out: list[np.ndarray] = []
    with tqdm(total=len(items), desc="ESM-2 embeddings", unit="seq", disable=not progress) as bar:
        for start in range(0, len(items), batch_size):
            batch = items[start : start + batch_size]
            tokens = _tokens(alphabet, batch, device)
            with torch.no_grad():
                result = network(tokens, repr_layers=[index])
            representations = result["representations"][index].float().cpu().numpy()
            for row, (_name, sequence) in enumerate(batch):
                out.append(representations[row, 1 : len(sequence) + 1].copy())
            bar.update(len(batch))
    return out


def contact_probabilities(network, alphabet, sequence: str, *, device: str) -> np.ndarray:
    """L x L contact probabilities from the contact head (logistic regression on attention maps)."""
    import torch

    tokens = _tokens(alphabet, [("query", sequence)], device)
    with torch.no_grad():
        result = network(tokens, return_contacts=True)
    contacts = result["contacts"][0].float().cpu().numpy()
    return (contacts + contacts.T) / 2  # symmetric by definition; averaging removes float round-off


def masked_log_probabilities(
    network, alphabet, sequence: str, positions: list[int], *, device: str, batch_size: int, progress: bool
) -> dict[int, np.ndarray]:
    """``{position: log-probabilities over AMINO_ACIDS}`` with that position masked (0-based positions)."""
    import torch
    from tqdm.auto import tqdm

    base = _tokens(alphabet, [("query", sequence)], device)
    amino_token_ids = torch.tensor([alphabet.get_idx(a) for a in AMINO_ACIDS], device=device)
    out: dict[int, np.ndarray] = {}
    with tqdm(total=len(positions), desc="masked marginals", unit="pos", disable=not progress) as bar:
        for start in range(0, len(positions), batch_size):
            chunk = positions[start : start + batch_size]
            tokens = base.repeat(len(chunk), 1)
            rows = torch.arange(len(chunk), device=device)
            columns = torch.tensor(chunk, device=device) + 1  # BOS shifts residues by one token
            tokens[rows, columns] = alphabet.mask_idx
            with torch.no_grad():
                logits = network(tokens)["logits"]
            log_probs = torch.log_softmax(logits[rows, columns].float(), dim=-1)[:, amino_token_ids]
            for position, values in zip(chunk, log_probs.cpu().numpy()):
                out[position] = values
            bar.update(len(chunk))
    return out


def top_long_range_contacts(
    probabilities: np.ndarray, *, min_separation: int, count: int
) -> list[tuple[int, int, float]]:
    """The ``count`` most probable pairs with ``j - i >= min_separation``: ``(i, j, p)`` with 1-based i < j."""
    length = probabilities.shape[0]
    i, j = np.triu_indices(length, k=min_separation)
    if i.size == 0 or count <= 0:
        return []
    values = probabilities[i, j]
    order = np.argsort(-values, kind="stable")[:count]
    return [(int(i[k]) + 1, int(j[k]) + 1, float(values[k])) for k in order]
