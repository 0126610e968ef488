"""A coarse-grained run is offered by its real kind: on disk (cg.json) and in the kernel (CoarseGrainedRun), never
labelled an all-atom MDRun (newcomer R9)."""

import json

from kenkyu.assistant.resolver import gather
from kenkyu.core.routing import missing_object, resolve_slot
from kenkyu.tools.md import CoarseGrainedRun


def _cg_folder(root):
    folder = root / "md_runs" / "villin_cg_650K"
    folder.mkdir(parents=True)
    record = {
        "status": "finished",
        "finished": "2026-11-30T10:00:00+00:00",
        "parameters": {"structure": str(root / "villin.pdb"), "ps": 20.0, "temperature_k": 650.0},
        "n_beads": 36,
    }
    (folder / "cg.json").write_text(json.dumps(record))
    return folder


def test_a_coarse_grained_run_folder_is_a_run_labelled_coarse_grained(tmp_path):
    _cg_folder(tmp_path)
    (run,) = [c for c in gather({}, tmp_path, error=False) if c.kind == "run_folder"]
    assert run.value == "md_runs/villin_cg_650K"
    assert "coarse-grained" in run.label and "650 K" in run.label and "20 ps" in run.label and "36 beads" in run.label
    found = resolve_slot("rg of my coarse-grained run", "trajectory", [run], {"type": "string"})
    assert found.candidate is run
    assert missing_object("rg of the 650 K run", [run]) is None
    assert missing_object("rg of the 300 K run", [run]) is not None


def test_a_coarse_grained_run_in_the_kernel_is_labelled_by_its_kind(tmp_path):
    folder = _cg_folder(tmp_path)
    (candidate,) = [c for c in gather({"cg": CoarseGrainedRun(folder)}, tmp_path, error=False) if c.variable]
    assert "CoarseGrainedRun" in candidate.label and "MDRun" not in candidate.label
    assert candidate.kind == "trajectory" and candidate.path.endswith("villin_cg_650K")


def test_the_go_model_run_is_the_coarse_grained_one_and_its_quantity_is_no_object(tmp_path):
    _cg_folder(tmp_path)
    atoms = tmp_path / "md_runs" / "villin"
    atoms.mkdir()
    (atoms / "run.json").write_text(json.dumps({"status": "finished", "parameters": {"ps": 2.0, "temperature_k": 300}}))
    here = gather({}, tmp_path, error=False)
    request = "how folded is the Go model run at the end? fraction of native contacts please"
    assert missing_object(request, here) is None
    found = resolve_slot(request, "trajectory", here, {"type": "string"})
    assert found.candidate is not None and found.candidate.value == "md_runs/villin_cg_650K"
