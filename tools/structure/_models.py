"""Finding and loading model weights, offline only.

Resolution order (the first hit wins; nothing is ever downloaded):

1. an explicit path: a model directory (ESMFold, transformers format) or a ``.pt`` file (ESM-2, fair-esm);
2. ``$KENKYU_MODELS``: ``$KENKYU_MODELS/<model id>`` (e.g. ``facebook/esmfold_v1``), or its last part
   (``esmfold_v1``), or for ESM-2 ``$KENKYU_MODELS/<name>.pt``;
3. ESMFold only: the Hugging Face cache (``$HF_HOME``/``$HF_HUB_CACHE``), read with ``local_files_only``;
4. ESM-2 only: the torch hub cache fair-esm itself uses, ``$TORCH_HOME/hub/checkpoints/<name>.pt``.

ESM-2 checkpoints need their ``<name>-contact-regression.pt`` beside them for contact maps (embeddings and
variant scores work without it).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

DEFAULT_FOLD_MODEL = "facebook/esmfold_v1"
DEFAULT_ESM2_MODEL = "esm2_t33_650M_UR50D"

# Official ESM-2 checkpoints (fair-esm names), smallest first, for `kenkyu models` and error messages.
ESM2_MODELS = (
    "esm2_t6_8M_UR50D",
    "esm2_t12_35M_UR50D",
    "esm2_t30_150M_UR50D",
    "esm2_t33_650M_UR50D",
    "esm2_t36_3B_UR50D",
    "esm2_t48_15B_UR50D",
)
_FAIR_ESM_URL = "https://dl.fbaipublicfiles.com/fair-esm"

_CACHE: dict = {}
_CACHE_LOCK = threading.Lock()


class ModelNotFoundError(FileNotFoundError):
    """The weights are not on this machine; the message says how to fetch them and where to put them."""


@dataclass(frozen=True)
class ResolvedModel:
    """Where a model's weights were found."""

    name: str
    path: Path
    source: str  # "path", "KENKYU_MODELS", "huggingface cache", "torch hub cache"
    kind: str  # "esmfold" or "esm2"


def kenkyu_models_dir() -> Path | None:
    value = os.environ.get("KENKYU_MODELS")
    return Path(value).expanduser() if value else None


def torch_hub_checkpoints() -> Path:
    """``$TORCH_HOME/hub/checkpoints``, where fair-esm's own loader caches its downloads."""
    import torch

    return Path(torch.hub.get_dir()) / "checkpoints"


def _is_transformers_dir(path: Path) -> bool:
    return path.is_dir() and (path / "config.json").is_file()


def _hf_cache_snapshot(model_id: str) -> Path | None:
    if "/" not in model_id:
        return None
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import CorruptedCacheException

    try:
        # local_files_only: look in the cache, never on the network.
        folder = Path(snapshot_download(model_id, local_files_only=True))
    except (
        OSError,
        ValueError,
        CorruptedCacheException,
    ):  # not cached (LocalEntryNotFoundError), bad id or cache
        return None
    return folder if _is_transformers_dir(folder) else None


def fold_fetch_instructions(model_id: str) -> str:
    short = model_id.rsplit("/", 1)[-1]
    return (
        "On a machine with internet access run\n"
        f"    hf download {model_id} --local-dir {short}\n"
        "(`hf` comes with `pip install huggingface_hub`), copy the folder here and either pass "
        f"its path as model=, or put it at $KENKYU_MODELS/{model_id} (e.g. export KENKYU_MODELS=~/models). "
        "Copying the whole Hugging Face cache folder (~/.cache/huggingface/hub) also works."
    )


def esm2_fetch_instructions(name: str) -> str:
    return (
        "On a machine with internet access run\n"
        f"    curl -LO {_FAIR_ESM_URL}/models/{name}.pt\n"
        f"    curl -LO {_FAIR_ESM_URL}/regression/{name}-contact-regression.pt\n"
        "and copy both files here into $KENKYU_MODELS (e.g. export KENKYU_MODELS=~/models) or into the torch hub "
        f"cache {torch_hub_checkpoints()} (where fair-esm itself looks), or pass the .pt path as model=. "
        f"Official names: {', '.join(ESM2_MODELS)}."
    )


def resolve_fold_model(model: str | os.PathLike) -> ResolvedModel:
    """Find ESMFold weights (a transformers model directory); ModelNotFoundError if absent."""
    text = os.fspath(model)
    looked: list[str] = []
    path = Path(text).expanduser()
    if _is_transformers_dir(path):
        return ResolvedModel(path.name, path, "path", "esmfold")
    looked.append(f"{path} (as a path)")
    root = kenkyu_models_dir()
    if root is not None:
        for candidate in (root / text, root / text.rsplit("/", 1)[-1]):
            if _is_transformers_dir(candidate):
                return ResolvedModel(text, candidate, "KENKYU_MODELS", "esmfold")
            looked.append(str(candidate))
    else:
        looked.append("$KENKYU_MODELS (not set)")
    snapshot = _hf_cache_snapshot(text)
    if snapshot is not None:
        return ResolvedModel(text, snapshot, "huggingface cache", "esmfold")
    looked.append(f"the Hugging Face cache ({text})")
    raise ModelNotFoundError(
        f"ESMFold model {text!r} is not on this machine (nothing is downloaded automatically). "
        f"Looked in: {'; '.join(looked)}.\n{fold_fetch_instructions(text if '/' in text else DEFAULT_FOLD_MODEL)}"
    )


def resolve_esm2_model(model: str | os.PathLike) -> ResolvedModel:
    """Find an ESM-2 checkpoint (a fair-esm ``.pt`` file); ModelNotFoundError if absent."""
    text = os.fspath(model)
    path = Path(text).expanduser()
    looked: list[str] = []
    if path.is_file():
        return ResolvedModel(path.stem, path, "path", "esm2")
    looked.append(f"{path} (as a path)")
    name = Path(text).name.removesuffix(".pt")
    root = kenkyu_models_dir()
    if root is not None:
        candidate = root / f"{name}.pt"
        if candidate.is_file():
            return ResolvedModel(name, candidate, "KENKYU_MODELS", "esm2")
        looked.append(str(candidate))
    else:
        looked.append("$KENKYU_MODELS (not set)")
    candidate = torch_hub_checkpoints() / f"{name}.pt"
    if candidate.is_file():
        return ResolvedModel(name, candidate, "torch hub cache", "esm2")
    looked.append(str(candidate))
    raise ModelNotFoundError(
        f"ESM-2 model {name!r} is not on this machine (nothing is downloaded automatically). "
        f"Looked in: {'; '.join(looked)}.\n"
        f"{esm2_fetch_instructions(name if name.startswith('esm') else DEFAULT_ESM2_MODEL)}"
    )


def default_device(device: str | None = None) -> str:
    """``device`` if given, else ``"cuda"`` when a GPU is visible, else ``"cpu"``."""
    if device:
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def load_fold_model(model: str | os.PathLike = DEFAULT_FOLD_MODEL, device: str | None = None):
    """``(EsmForProteinFolding in eval mode on device, ResolvedModel)``, cached per (path, device)."""
    resolved = resolve_fold_model(model)
    device = default_device(device)
    key = ("esmfold", str(resolved.path.resolve()), device)
    with _CACHE_LOCK:
        if key in _CACHE:
            return _CACHE[key], resolved
    from transformers import EsmForProteinFolding

    network = EsmForProteinFolding.from_pretrained(str(resolved.path), local_files_only=True)
    if device == "cpu":
        # The released config keeps the language model in fp16 for GPUs; half precision is slow or
        # unsupported for several CPU kernels, so the whole model runs in fp32 there.
        network = network.float()
    network = network.to(device).eval()
    with _CACHE_LOCK:
        _CACHE[key] = network
    return network, resolved


def _torch_load_allows_namespaces():
    # ESM-2 checkpoints pickle their training arguments as argparse.Namespace; torch >= 2.6 loads with
    # weights_only=True and refuses unknown globals unless they are allow-listed.
    import argparse

    import torch

    if hasattr(torch.serialization, "add_safe_globals"):
        torch.serialization.add_safe_globals([argparse.Namespace])


def load_esm2_model(model: str | os.PathLike = DEFAULT_ESM2_MODEL, device: str | None = None):
    """``((ESM2 in eval mode on device, Alphabet), ResolvedModel)``, cached per (path, device)."""
    resolved = resolve_esm2_model(model)
    device = default_device(device)
    key = ("esm2", str(resolved.path.resolve()), device)
    with _CACHE_LOCK:
        if key in _CACHE:
            return _CACHE[key], resolved
    import warnings

    import esm

    _torch_load_allows_namespaces()
    regression = Path(str(resolved.path.with_suffix("")) + "-contact-regression.pt")
    if regression.is_file():
        network, alphabet = esm.pretrained.load_model_and_alphabet_local(str(resolved.path))
    else:
        # fair-esm's local loader insists on the regression file; embeddings and variant scores do not
        # need it, so load the checkpoint without it (contact_map() refuses with fetch instructions).
        import torch

        model_data = torch.load(str(resolved.path), map_location="cpu")
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Regression weights not found")
            network, alphabet = esm.pretrained.load_model_and_alphabet_core(resolved.path.stem, model_data, None)
    network.has_contact_regression = regression.is_file()
    network = network.to(device).eval()
    with _CACHE_LOCK:
        _CACHE[key] = (network, alphabet)
    return (network, alphabet), resolved


def clear_model_cache() -> None:
    """Forget loaded models (frees their memory once nothing else refers to them)."""
    with _CACHE_LOCK:
        _CACHE.clear()


def available_models() -> list[dict]:
    """Every model found in the places of the resolution order, as rows for a table."""
    rows: list[dict] = []
    root = kenkyu_models_dir()
    seen: set[str] = set()

    def add(name, kind, path, source):
        key = str(Path(path).resolve())
        if key not in seen:
            seen.add(key)
            contacts = ""
            if kind == "esm2":
                has = Path(str(Path(path).with_suffix("")) + "-contact-regression.pt").is_file()
                contacts = "yes" if has else "no (contact maps unavailable)"
            rows.append({"model": name, "kind": kind, "source": source, "path": str(path), "contact_head": contacts})

    if root is not None and root.is_dir():
        for config in sorted(root.glob("**/config.json")):
            add(str(config.parent.relative_to(root)), "esmfold", config.parent, "KENKYU_MODELS")
        for checkpoint in sorted(root.glob("*.pt")):
            if not checkpoint.stem.endswith("-contact-regression"):
                add(checkpoint.stem, "esm2", checkpoint, "KENKYU_MODELS")
    from huggingface_hub import constants, scan_cache_dir
    from huggingface_hub.errors import CacheNotFound, CorruptedCacheException

    try:
        # The cache folder is read at call time, as snapshot_download does in resolve_fold_model.
        cached_repos = scan_cache_dir(constants.HF_HUB_CACHE).repos
    except (CacheNotFound, CorruptedCacheException, OSError):  # no cache folder yet
        cached_repos = ()
    for repo in cached_repos:
        if "esmfold" in repo.repo_id.lower() and repo.revisions:
            revision = max(repo.revisions, key=lambda r: r.last_modified)
            add(repo.repo_id, "esmfold", revision.snapshot_path, "huggingface cache")
    hub = torch_hub_checkpoints()
    if hub.is_dir():
        for checkpoint in sorted(hub.glob("esm*.pt")):
            if not checkpoint.stem.endswith("-contact-regression"):
                add(checkpoint.stem, "esm2", checkpoint, "torch hub cache")
    return rows
