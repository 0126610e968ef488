"""Finding and loading weights offline: explicit paths, $KENKYU_MODELS, the HF cache, the torch hub cache.

The models are tiny random instances of the real classes (EsmForProteinFolding, fair-esm ESM2), saved in
the real formats, so the loading code under test is the code a real checkpoint goes through.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("esm")

from kenkyu.tools.structure import _models as models
from tiny_esm import make_tiny_esm2, make_tiny_esmfold


@pytest.fixture(autouse=True)
def offline_and_isolated(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))  # torch.hub.get_dir() reads it per call
    monkeypatch.delenv("KENKYU_MODELS", raising=False)
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hf_cache"))
    models.clear_model_cache()
    yield
    models.clear_model_cache()


@pytest.fixture(scope="module")
def tiny_fold_dir(tmp_path_factory):
    return make_tiny_esmfold(tmp_path_factory.mktemp("fold") / "tiny_esmfold")


@pytest.fixture(scope="module")
def tiny_esm2_file(tmp_path_factory):
    return make_tiny_esm2(tmp_path_factory.mktemp("esm2") / "esm2_t2_tiny.pt")


def test_missing_fold_model_says_how_to_fetch_it_and_downloads_nothing(tmp_path):
    with pytest.raises(models.ModelNotFoundError) as info:
        models.load_fold_model("facebook/esmfold_v1", device="cpu")
    message = str(info.value)
    assert "hf download facebook/esmfold_v1 --local-dir esmfold_v1" in message
    assert "$KENKYU_MODELS/facebook/esmfold_v1" in message and "nothing is downloaded" in message
    assert not (tmp_path / "hf_cache").exists()  # no download was attempted into the cache


def test_missing_esm2_model_names_both_files_and_the_hub_cache(tmp_path):
    with pytest.raises(models.ModelNotFoundError) as info:
        models.load_esm2_model("esm2_t6_8M_UR50D", device="cpu")
    message = str(info.value)
    assert "curl -LO https://dl.fbaipublicfiles.com/fair-esm/models/esm2_t6_8M_UR50D.pt" in message
    assert "regression/esm2_t6_8M_UR50D-contact-regression.pt" in message
    assert str(tmp_path / "torch_home" / "hub" / "checkpoints") in message
    assert not (tmp_path / "torch_home" / "hub" / "checkpoints" / "esm2_t6_8M_UR50D.pt").exists()


def test_fold_model_by_explicit_path_and_by_kenkyu_models(tiny_fold_dir, tmp_path, monkeypatch):
    network, resolved = models.load_fold_model(tiny_fold_dir, device="cpu")
    assert type(network).__name__ == "EsmForProteinFolding" and not network.training
    assert resolved.source == "path"
    assert models.load_fold_model(tiny_fold_dir, device="cpu")[0] is network  # cached, not reloaded

    root = tmp_path / "models"
    shutil.copytree(tiny_fold_dir, root / "facebook" / "esmfold_v1")
    monkeypatch.setenv("KENKYU_MODELS", str(root))
    resolved = models.resolve_fold_model("facebook/esmfold_v1")
    assert resolved.source == "KENKYU_MODELS" and resolved.path == root / "facebook" / "esmfold_v1"


def test_fold_model_from_the_hugging_face_cache(tiny_fold_dir, tmp_path):
    # The cache layout huggingface_hub writes: refs/main -> snapshots/<commit>/files.
    repo = tmp_path / "hf_cache" / "models--facebook--esmfold_v1"
    commit = "0" * 40
    shutil.copytree(tiny_fold_dir, repo / "snapshots" / commit)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    resolved = models.resolve_fold_model("facebook/esmfold_v1")
    assert resolved.source == "huggingface cache" and resolved.path.name == commit
    network, _ = models.load_fold_model("facebook/esmfold_v1", device="cpu")
    assert network.config.esmfold_config.trunk.num_blocks == 1
    assert any(row["source"] == "huggingface cache" for row in models.available_models())


def test_esm2_through_fair_esms_local_loader(tiny_esm2_file):
    (network, alphabet), resolved = models.load_esm2_model(tiny_esm2_file, device="cpu")
    assert type(network).__name__ == "ESM2" and network.num_layers == 2 and network.has_contact_regression
    assert resolved.source == "path" and len(alphabet) == 33
    # Same weights as saved: the regression head came from the separate file.
    saved = torch.load(str(tiny_esm2_file.with_suffix("")) + "-contact-regression.pt", weights_only=False)
    assert torch.equal(network.contact_head.regression.weight, saved["model"]["contact_head.regression.weight"])


def test_esm2_from_the_torch_hub_cache_and_from_kenkyu_models(tiny_esm2_file, tmp_path, monkeypatch):
    checkpoints = tmp_path / "torch_home" / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    shutil.copy(tiny_esm2_file, checkpoints / "esm2_t6_8M_UR50D.pt")
    shutil.copy(
        str(tiny_esm2_file.with_suffix("")) + "-contact-regression.pt",
        checkpoints / "esm2_t6_8M_UR50D-contact-regression.pt",
    )
    (network, _), resolved = models.load_esm2_model("esm2_t6_8M_UR50D", device="cpu")
    assert resolved.source == "torch hub cache" and resolved.path == checkpoints / "esm2_t6_8M_UR50D.pt"
    assert network.has_contact_regression

    # $KENKYU_MODELS comes before the hub cache; without the regression file contacts are flagged off.
    root = tmp_path / "models"
    root.mkdir()
    shutil.copy(tiny_esm2_file, root / "esm2_t6_8M_UR50D.pt")
    monkeypatch.setenv("KENKYU_MODELS", str(root))
    (network, _), resolved = models.load_esm2_model("esm2_t6_8M_UR50D", device="cpu")
    assert resolved.source == "KENKYU_MODELS" and not network.has_contact_regression
    rows = {(r["model"], r["source"]): r for r in models.available_models()}
    assert rows[("esm2_t6_8M_UR50D", "KENKYU_MODELS")]["contact_head"].startswith("no")
    assert rows[("esm2_t6_8M_UR50D", "torch hub cache")]["contact_head"] == "yes"


def test_kenkyu_models_command_lists_models_and_fetch_commands(tiny_fold_dir, tmp_path, monkeypatch, capsys):
    from kenkyu.tools.structure import cli as structure_cli

    root = tmp_path / "models"
    shutil.copytree(tiny_fold_dir, root / "facebook" / "esmfold_v1")
    monkeypatch.setenv("KENKYU_MODELS", str(root))
    assert structure_cli.main(["models"]) == 0
    out = capsys.readouterr().out
    assert "facebook/esmfold_v1" in out and "KENKYU_MODELS" in out
    assert "esm2_t33_650M_UR50D.pt" in out  # the default ESM-2 is missing: its fetch command is shown


def test_structure_tools_are_registered_with_described_parameters():
    from kenkyu.core.registry import ToolRegistry

    registry = ToolRegistry.from_modules(["kenkyu.tools.structure"])
    assert registry.unavailable == {}
    expected = {
        "structure_fold",
        "structure_embed",
        "structure_contact_map",
        "structure_variant_effects",
        "structure_mutational_scan",
        "structure_simulate_prediction",
        "structure_prepare_for_md",
        "structure_show_prediction",
        "structure_list_models",
    }
    assert expected == set(registry.names())
    for t in registry:
        text = json.dumps(t.parameters)
        assert "$ref" not in text and "$defs" not in text, t.name
        for name, spec in t.parameters.get("properties", {}).items():
            assert spec.get("description"), f"{t.name}.{name}"
    fold = registry["structure_fold"]
    assert "alphafold-like" in fold.keywords and fold.qualified_call == "kenkyu.tools.structure.fold"
    assert fold.validate({"sequences": "MKT", "num_recycles": "0"}) == {"sequences": "MKT", "num_recycles": 0}
    assert registry["structure_simulate_prediction"].approval == "ask"
    assert registry["structure_simulate_prediction"].parameters["properties"]["prediction"]["type"] == "string"


def test_structure_keywords_do_not_pull_md_and_analysis_requests():
    # Once the module joins TOOL_MODULES the router adds keyword bonuses; MD and trajectory requests must
    # not get one for a structure tool, and structure requests must get one for the right tool.
    from kenkyu.core.registry import ToolRegistry
    from kenkyu.core.routing import keyword_bonus

    registry = ToolRegistry.from_modules(["kenkyu.tools.structure"])
    for request in (
        "run molecular dynamics of villin.pdb for 10 ps",
        "simulate 1vii.pdb in implicit solvent",
        "compute the contacts in the trajectory runs/villin",
        "add hydrogens and fix 1vii.pdb",
        "show the structure of 1vii.pdb",
    ):
        assert all(keyword_bonus(request, t) == 0 for t in registry), request
    for request, name in (
        ("predict the structure of MKTAYIAK with ESMFold", "structure_fold"),
        ("contact map of MKTAYIAK", "structure_contact_map"),
        ("score the mutation K2A in MKTAYIAK", "structure_variant_effects"),
        ("deep mutational scanning of MKTAYIAK", "structure_mutational_scan"),
        ("simulate the predicted structure predictions/seq1.pdb", "structure_simulate_prediction"),
    ):
        best = max(registry, key=lambda t: keyword_bonus(request, t))
        assert best.name == name and keyword_bonus(request, best) > 0, request


def test_importing_the_structure_modules_stays_light():
    code = (
        "import sys, kenkyu.tools.structure, kenkyu.tools.structure.cli\n"
        "print([m for m in ('torch', 'transformers', 'esm', 'mdtraj', 'matplotlib', 'openmm') if m in sys.modules])"
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert result.stdout.strip() == "[]"
