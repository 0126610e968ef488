"""nglview views: per-residue colouring, default representations, and a widget made in a real kernel."""

from __future__ import annotations

import sys
import textwrap

import numpy as np
import pytest
from md_fixtures import FAST

pytest.importorskip("nglview")
mdtraj = pytest.importorskip("mdtraj")
viz = pytest.importorskip("kenkyu.tools.viz")
md_tools = pytest.importorskip("kenkyu.tools.md")

pytestmark = pytest.mark.filterwarnings("ignore:Unlikely unit cell vectors")


def structure_bfactors(widget) -> np.ndarray:
    """The B-factor column of the PDB text nglview was given (what the cartoon is coloured by)."""
    adaptor = widget._trajlist[0]
    pdb = adaptor.get_structure_string()
    return np.array([float(line[60:66]) for line in pdb.splitlines() if line.startswith(("ATOM", "HETATM"))])


def test_bfactor_colouring_uses_the_files_column(villin_pdb):
    widget = viz.show_structure(villin_pdb, color_by="bfactor")
    expected = np.array([float(line[60:66]) for line in villin_pdb.read_text().splitlines() if line.startswith("ATOM")])
    np.testing.assert_allclose(structure_bfactors(widget), expected, atol=0.01)
    cartoon, ligand, ions = widget.representations[:3]
    assert cartoon["type"] == "cartoon" and cartoon["params"]["colorScheme"] == "bfactor"
    assert cartoon["params"]["colorDomain"] == pytest.approx([expected.min(), expected.max()])
    assert ligand["type"] == "ball+stick" and "ligand" in ligand["params"]["sele"]
    assert ions["type"] == "spacefill"
    assert not any("water" in rep["params"]["sele"] for rep in widget.representations)
    assert "coloured by bfactor" in widget.summary()


def test_per_residue_values_colour_every_atom_of_the_residue(villin_pdb):
    traj = mdtraj.load(str(villin_pdb))
    plddt = np.linspace(20, 95, traj.n_residues)
    widget = viz.show_structure(villin_pdb, color_by="plddt", values=list(plddt))
    per_atom = structure_bfactors(widget)
    residue_of_atom = np.array([a.residue.index for a in traj.topology.atoms])
    np.testing.assert_allclose(per_atom, plddt[residue_of_atom], atol=0.01)
    assert widget.representations[0]["params"]["colorDomain"] == [0.0, 100.0]
    # A dict keyed by residue number colours only those residues (the rest get the minimum).
    partial = viz.per_residue_values(traj, {41: 1.5, 76: 2.5})
    assert partial[0] == 1.5 and partial[-1] == 2.5 and np.isnan(partial[1:-1]).all()
    with pytest.raises(ValueError, match="36 residues"):
        viz.show_structure(villin_pdb, values=[1.0, 2.0])


def test_trajectory_view_coloured_by_rmsf(villin_pdb, tmp_path):
    from kenkyu.tools.analysis import rmsf

    run = md_tools.run(villin_pdb, out=tmp_path / "run", **{**FAST, "ps": 0.05, "nvt_ps": 0})
    widget = viz.show_trajectory(run, color_by="rmsf")
    assert widget.max_frame == 4
    table = rmsf(run)
    traj = run.trajectory()
    residue_of_atom = np.array([a.residue.index for a in traj.topology.atoms])
    np.testing.assert_allclose(structure_bfactors(widget), table.rmsf_nm.to_numpy()[residue_of_atom], atol=0.006)
    assert "rmsf" in widget.summary() and "5 frames" in widget.summary()
    with pytest.raises(ValueError, match="several frames"):
        viz.show_structure(villin_pdb, color_by="rmsf")


def test_widget_in_a_real_kernel(villin_pdb):
    pytest.importorskip("jupyter_client")
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(kernel_name="python3", extra_arguments=[], startup_timeout=60)
    try:
        code = textwrap.dedent(f"""
            import sys, kenkyu.tools.viz
            view = kenkyu.tools.viz.show_structure({str(villin_pdb)!r}, color_by="bfactor")
            print(sys.executable)
            print(view.summary())
            view
        """)
        reply = client.execute_interactive(code, timeout=120, output_hook=(outputs := []).append)
        assert reply["content"]["status"] == "ok", reply["content"]
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    stdout = "".join(
        m["content"]["text"] for m in outputs if m["msg_type"] == "stream" and m["content"]["name"] == "stdout"
    )
    assert stdout.splitlines()[0] == sys.executable  # the kernel runs this environment
    assert "coloured by bfactor" in stdout
    bundles = [m["content"]["data"] for m in outputs if m["msg_type"] in ("execute_result", "display_data")]
    views = [
        b["application/vnd.jupyter.widget-view+json"]
        for b in bundles
        if "application/vnd.jupyter.widget-view+json" in b
    ]
    assert views and views[-1]["model_id"]
