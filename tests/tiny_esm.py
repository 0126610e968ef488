"""Tiny, randomly initialised models of the real classes, for tests, examples and benchmarks offline.

They are saved exactly as real weights are shipped (a transformers folder for ESMFold; a fair-esm
``.pt`` with its ``-contact-regression.pt`` for ESM-2) so the normal loading code reads them back.
Their predictions are meaningless; only shapes, plumbing and speed are real.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def tiny_esmfold_config(*, max_recycles: int = 1, hidden_size: int = 32, num_blocks: int = 1):
    """An EsmConfig for a folding model a few hundred kB large (real: 48 trunk blocks, 36 LM layers)."""
    from transformers import EsmConfig
    from transformers.models.esm.configuration_esm import get_default_vocab_list

    return EsmConfig(
        vocab_size=33,
        hidden_size=hidden_size,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=2 * hidden_size,
        max_position_embeddings=1026,
        pad_token_id=1,
        mask_token_id=32,
        token_dropout=True,
        position_embedding_type="rotary",
        emb_layer_norm_before=False,
        is_folding_model=True,
        vocab_list=get_default_vocab_list(),
        esmfold_config={
            "fp16_esm": False,
            "lddt_head_hid_dim": 16,
            "trunk": {
                "num_blocks": num_blocks,
                "sequence_state_dim": 32,
                "pairwise_state_dim": 16,
                "sequence_head_width": 16,
                "pairwise_head_width": 8,
                "max_recycles": max_recycles,
                "chunk_size": None,
                "structure_module": {
                    "sequence_dim": 32,
                    "pairwise_dim": 16,
                    "ipa_dim": 8,
                    "resnet_dim": 16,
                    "num_heads_ipa": 2,
                    "num_qk_points": 2,
                    "num_v_points": 2,
                    "num_blocks": 2,
                },
            },
        },
    )


def make_tiny_esmfold(directory: str | Path, *, seed: int = 0, **config_options) -> Path:
    """Save a random tiny EsmForProteinFolding with save_pretrained; returns the folder."""
    import torch
    from transformers import EsmForProteinFolding

    torch.manual_seed(seed)
    network = EsmForProteinFolding(tiny_esmfold_config(**config_options))
    directory = Path(directory)
    network.save_pretrained(str(directory))
    return directory


def make_tiny_esm2(
    path: str | Path,
    *,
    num_layers: int = 2,
    embed_dim: int = 32,
    attention_heads: int = 4,
    seed: int = 0,
    contact_regression: bool = True,
) -> Path:
    """Save a random tiny fair-esm ESM2 as ``<name>.pt`` (+ ``-contact-regression.pt``); returns the .pt path.

    The checkpoint layout is the one fair-esm publishes: ``{"cfg": {"model": Namespace(...)}, "model": state}``
    with the state's ``encoder.sentence_encoder.`` prefix, and the regression weights in a separate file.
    The file name must start with ``esm2`` for fair-esm to read it as an ESM-2 checkpoint.
    """
    import esm
    import torch

    path = Path(path)
    if not path.name.startswith("esm2") or path.suffix != ".pt":
        raise ValueError(f"fair-esm reads ESM-2 checkpoints only from files named esm2*.pt, not {path.name}")
    torch.manual_seed(seed)
    alphabet = esm.data.Alphabet.from_architecture("ESM-1b")
    network = esm.model.esm2.ESM2(
        num_layers=num_layers,
        embed_dim=embed_dim,
        attention_heads=attention_heads,
        alphabet=alphabet,
        token_dropout=True,
    )
    state = network.state_dict()
    regression = {k: v for k, v in state.items() if k.startswith("contact_head.regression")}
    body = {f"encoder.sentence_encoder.{k}": v for k, v in state.items() if k not in regression}
    config = argparse.Namespace(
        encoder_layers=num_layers,
        encoder_embed_dim=embed_dim,
        encoder_attention_heads=attention_heads,
        token_dropout=True,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"cfg": {"model": config}, "model": body}, path)
    if contact_regression:
        torch.save({"model": regression}, Path(str(path.with_suffix("")) + "-contact-regression.pt"))
    return path


def make_tiny_models(
    root: str | Path, *, fold_model: str = "facebook/esmfold_v1", esm2_model: str = "esm2_t33_650M_UR50D"
) -> Path:
    """A ``KENKYU_MODELS`` folder with tiny models under the default names (for examples run offline)."""
    root = Path(root)
    make_tiny_esmfold(root / fold_model)
    make_tiny_esm2(root / f"{esm2_model}.pt")
    return root


def in_torch_hub_cache(monkeypatch, home: str | Path, checkpoint: str | Path) -> Path:
    """Put an ESM-2 checkpoint (and its contact regression) in ``$TORCH_HOME/hub/checkpoints``, as fair-esm caches
    downloads, with every other place a model could come from switched off; returns the checkpoints folder.
    Clear kenkyu's model cache around its use (``kenkyu.tools.structure._models.clear_model_cache``)."""
    import shutil

    checkpoint = Path(checkpoint)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("KENKYU_MODELS", raising=False)
    monkeypatch.setenv("TORCH_HOME", str(home))
    checkpoints = Path(home) / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    shutil.copy(checkpoint, checkpoints)
    shutil.copy(str(checkpoint.with_suffix("")) + "-contact-regression.pt", checkpoints)
    return checkpoints
