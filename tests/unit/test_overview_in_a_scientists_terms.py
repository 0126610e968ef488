"""The notebook overview ("what have I got in the kernel so far?") in a scientist's terms (newcomer r10 in the
sidebar): a trajectory as atoms and frames, not "mdtraj.core.trajectory.Trajectory, len 10", and the notes/
folder beside the runs, which "what do my notes say?" needs."""

from __future__ import annotations

import mdtraj
import pandas as pd
import pytest
from kenkyu.assistant import notebook_tools
from kenkyu.tools import md


@pytest.mark.filterwarnings("ignore:Unlikely unit cell vectors")
def test_overview_describes_variables_as_the_resolver_does_and_lists_documents(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "villin.md").write_text("# Villin\nThe C-terminal helix frays first.\n")
    (tmp_path / "notes" / "protocol.md").write_text("# Protocol\nSeed 7.\n")
    (tmp_path / "papers").mkdir()
    (tmp_path / "papers" / "refs.bib").write_text("@article{a, title={A}}\n")
    (tmp_path / "literature_index").mkdir()
    (tmp_path / "literature_index" / "kenkyu_index.json").write_text("{}")
    traj = mdtraj.load(str(md.example_structure("villin")))
    namespace = {"traj": traj, "table": pd.DataFrame({"rg_nm": [1.0, 1.1]})}
    monkeypatch.setattr(notebook_tools, "_user_namespace", lambda: namespace)

    summary = notebook_tools.overview("what have I got in the kernel so far?").summary()
    assert (
        "traj (Trajectory, 596 atoms, 1 frames, best match for the question)"
        in notebook_tools.overview("which variable is the trajectory?").summary()
    )
    assert "traj (Trajectory, 596 atoms, 1 frames)" in summary and "frames))" not in summary  # one parenthesis
    assert "mdtraj.core.trajectory" not in summary
    assert "table (DataFrame, shape (2, 1), len 2)" in summary  # other values: the short type and the shape
    assert "notes/ (2 Markdown files)" in summary and "papers/ (1 BibTeX file)" in summary
    assert "literature_index/ (a literature index)" in summary


def test_the_language_model_family_says_when_its_weights_are_not_here(tmp_path, monkeypatch):
    """A newcomer tried the ESM-2 example on a machine without the weights and met the missing-model error first:
    the overview says so beside the example, and says nothing once the checkpoint is where kenkyu looks."""
    import torch

    from kenkyu.assistant.overview import overview
    from kenkyu.core.registry import ToolRegistry
    from kenkyu.tools import TOOL_MODULES

    models = tmp_path / "models"
    models.mkdir()
    monkeypatch.setenv("KENKYU_MODELS", str(models))
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    registry = ToolRegistry.from_modules(TOOL_MODULES)
    line = next(x for x in overview(registry, tmp_path).splitlines() if "Protein language-model" in x)
    assert "not on this machine" in line and "esm2_t33_650M_UR50D" in line
    (models / "esm2_t33_650M_UR50D.pt").write_bytes(b"")
    line = next(x for x in overview(registry, tmp_path).splitlines() if "Protein language-model" in x)
    assert "not on this machine" not in line
