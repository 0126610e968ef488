"""Issue 15 in a real Jupyter kernel, where the user meets it: an unphysical setting is a named error in the cell
with nothing created, and the stop button on a running md.run names resume=True (the resume itself is tested in
test_md_resume.py)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from comm_client import running_kernel

pytest.importorskip("openmm")

RUN = (
    "import kenkyu.tools.md as md\n"
    "run_1 = md.run(md.example_structure('villin'), out='runs/villin', solvent='vacuum', nvt_ps=0, ps={ps}, "
    "report_interval_ps=0.01, checkpoint_interval_ps=0.01, minimize_max_iterations=50, platform='CPU', "
    "progress=False, seed=7{extra})\n"
    "print(run_1.status, run_1.n_frames)"
)


def execute(client, code: str, timeout: float = 300) -> dict:
    """Run a cell; return its error (ename, evalue) or its printed text."""
    msg_id = client.execute(code)
    out = {"error": None, "text": ""}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msg = client.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "error":
            out["error"] = (content["ename"], content["evalue"])
        elif kind == "stream":
            out["text"] += content["text"]
        elif kind == "status" and content["execution_state"] == "idle":
            return out
    raise TimeoutError(code)


def test_in_a_kernel_an_unphysical_step_is_named_and_the_stop_button_names_resume(tmp_path):
    with running_kernel(tmp_path) as client:
        refused = execute(client, RUN.format(ps=0.1, extra=", timestep_fs=50"))
        assert refused["error"][0] == "UnphysicalSettingError"
        assert "timestep_fs=50 is outside the allowed range 0.1-10" in refused["error"][1]
        assert not (tmp_path / "runs").exists()

        # A run long enough to be stopped after its first checkpoints (it would take minutes to finish).
        client.execute(RUN.format(ps=100.0, extra=""))
        checkpoint = tmp_path / "runs" / "villin" / "checkpoint.chk"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not (
            checkpoint.exists() and b'"production"' in checkpoint.read_bytes()[:400]
        ):
            time.sleep(0.2)
        time.sleep(1.0)
        client.kernel_manager.interrupt_kernel()
        error = None
        while error is None:
            msg = client.get_iopub_msg(timeout=60)
            if msg["msg_type"] == "error":
                error = (msg["content"]["ename"], msg["content"]["evalue"])
        assert error[0] == "RunInterrupted" and "resume=True" in error[1]
        info = json.loads(Path(tmp_path / "runs" / "villin" / "run.json").read_text())
        assert info["status"] == "interrupted"
