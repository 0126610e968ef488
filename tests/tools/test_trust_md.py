"""Issue 15, the science half: md.run never changes the molecule silently, refuses unphysical settings before
creating anything, names a blow-up, and leaves no half-made run folder after a refused or failed start.

Real OpenMM and pdbfixer on villin (vacuum, fractions of a picosecond)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from md_fixtures import FAST

md = pytest.importorskip("kenkyu.tools.md")
pytestmark = pytest.mark.filterwarnings("ignore:Unlikely unit cell vectors")

TINY = {**FAST, "solvent": "vacuum", "ps": 0.02, "nvt_ps": 0.0}


def _edit_villin(tmp_path, name, edit) -> Path:
    """villin with each ATOM/HETATM line passed through ``edit(line) -> line or None``."""
    lines = []
    for line in md.example_structure("villin").read_text().splitlines():
        if line.startswith(("ATOM", "HETATM")):
            line = edit(line)
        if line is not None:
            lines.append(line)
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def _modified_lys65(tmp_path) -> Path:
    """Lys 65 renamed to XYZ (a modified residue no standard one replaces), as a HETATM inside chain A."""

    def edit(line):
        if line[17:20] == "LYS" and line[22:26].strip() == "65":
            return "HETATM" + line[6:17] + "XYZ" + line[20:]
        return line

    return _edit_villin(tmp_path, "modified.pdb", edit)


def test_a_nonstandard_residue_inside_a_chain_stops_the_run_naming_it_and_the_ways_out(tmp_path):
    out = tmp_path / "runs" / "modified"
    with pytest.raises(md.NonstandardResidueError) as info:
        md.run(_modified_lys65(tmp_path), out=out, **TINY)
    message = str(info.value)
    assert "XYZ 65 (chain A)" in message
    for way_out in ("replace_residues=", "keep_heterogens=True", "forcefield=", "delete_nonstandard=True"):
        assert way_out in message, way_out
    assert not (tmp_path / "runs").exists(), "a refused start leaves no half-made run folder"


def test_deleting_it_on_purpose_leaves_a_real_chain_break_and_says_so(tmp_path):
    from openmm.app import PDBFile

    with pytest.warns(UserWarning, match="deletion mutant"):
        result = md.run(_modified_lys65(tmp_path), out=tmp_path / "deleted", delete_nonstandard=True, **TINY)
    prepared = PDBFile(str(result.topology_path)).topology
    residues = list(prepared.residues())
    assert len(residues) == 35 and not any(r.id == "65" for r in residues)
    chains = {r.id: r.chain.index for r in residues}
    assert chains["64"] != chains["66"], "the residues either side of the gap are in different chains"
    across = [(a.residue.id, b.residue.id) for a, b in prepared.bonds() if {a.residue.id, b.residue.id} == {"64", "66"}]
    assert across == [], "no bond across the gap"
    # The residue before the gap ends its chain like a real C terminus.
    assert "OXT" in {a.name for r in residues if r.id == "64" for a in r.atoms()}
    assert "DELETION MUTANT" in result.summary() and "XYZ 65" in result.summary()
    assert result.info["fix"]["deleted_inside_chain"] == ["XYZ 65 (chain A)"]


def test_replacing_it_by_a_standard_residue_keeps_the_chain_whole(tmp_path):
    result = md.run(_modified_lys65(tmp_path), out=tmp_path / "mutated", replace_residues={"XYZ": "LYS"}, **TINY)
    assert result.info["fix"]["nonstandard_replaced"] == ["XYZ65->LYS"]
    assert result.info["system"]["n_residues"] == 36
    assert "DELETION" not in result.summary()


@pytest.mark.parametrize(
    ("setting", "words"),
    [
        ({"timestep_fs": 1e-9}, "timestep_fs=1e-09 is outside the allowed range 0.1-10"),
        ({"timestep_fs": 50.0}, "timestep_fs=50 is outside the allowed range 0.1-10"),
        ({"temperature_k": 5000.0}, "temperature_k=5000 is outside"),
        ({"temperature_k": -10.0}, "temperature_k=-10 is outside"),
        ({"friction_per_ps": 1e4}, "friction_per_ps=10000 is outside"),
        ({"pressure_bar": 0.0, "solvent": "explicit"}, "pressure_bar=0 is outside"),
        ({"padding_nm": 0.2, "solvent": "explicit"}, "padding_nm >= 0.5"),
        ({"ph": 20.0}, "ph=20 is outside"),
        ({"report_interval_ps": 0.001}, "shorter than one 2 fs step"),
        ({"ps": 1e7}, "more than the 1e+09"),
        ({"ps": float("nan")}, "finite"),
    ],
)
def test_unphysical_settings_are_refused_before_anything_is_created(tmp_path, setting, words):
    out = tmp_path / "md_runs" / "bad"
    with pytest.raises(md.UnphysicalSettingError) as info:
        md.run(md.example_structure("villin"), out=out, **{**TINY, **setting})
    assert words in str(info.value)
    assert not (tmp_path / "md_runs").exists()


def test_a_blow_up_is_the_named_instability_error_and_analysis_refuses_the_failed_run(tmp_path):
    from kenkyu.tools import analysis

    out = tmp_path / "boom"
    # 8 fs is allowed with a warning, and in vacuum it blows up within a few dozen steps: a real NaN.
    with pytest.warns(UserWarning, match="timestep_fs=8 is above 4 fs"):
        with pytest.raises(md.SimulationUnstableError, match="blew up") as info:
            md.run(
                md.example_structure("villin"),
                out=out,
                **{**TINY, "ps": 1.0, "timestep_fs": 8.0, "report_interval_ps": 0.04, "checkpoint_interval_ps": 0.04},
            )
    run_info = json.loads((out / "run.json").read_text())
    assert run_info["status"] == "failed" and run_info["error"] == str(info.value)
    assert "above 4 fs" in run_info["warnings"][0]
    with pytest.raises(md.RunFailedError, match="failed.*blew up"):
        analysis.rmsd(out)
    with pytest.raises(md.RunFailedError, match="blew up"):
        analysis.rmsd(str(out / "trajectory.dcd"), topology=str(out / "prepared.pdb"))


def test_overlapping_atoms_are_named_before_minimisation_and_no_folder_is_left(tmp_path):
    # Every atom of residue 50 moved onto the CA of residue 49: absurd coordinates, as from a bad model.
    ca49 = next(
        line
        for line in md.example_structure("villin").read_text().splitlines()
        if line.startswith("ATOM") and line[22:26].strip() == "49" and line[12:16].strip() == "CA"
    )

    def edit(line):
        return line[:30] + ca49[30:54] + line[54:] if line[22:26].strip() == "50" else line

    out = tmp_path / "overlap"
    with pytest.raises(md.StructureError, match=r"overlap.*VAL 50 \(chain A\).*Minimisation cannot"):
        md.run(_edit_villin(tmp_path, "overlap.pdb", edit), out=out, **TINY)
    assert not out.exists()


def test_a_structure_with_no_protein_left_after_removing_heterogens_says_so(tmp_path):
    ligand = tmp_path / "ligand_only.pdb"
    ligand.write_text(
        "HETATM    1  C1  LIG A   1       0.000   0.000   0.000  1.00  0.00           C\n"
        "HETATM    2  O1  LIG A   1       1.200   0.000   0.000  1.00  0.00           O\n"
        "END\n"
    )
    with pytest.raises(md.StructureError, match=r"no protein .* left after removing heterogens \(removed 1xLIG\)"):
        md.run(ligand, out=tmp_path / "x", **TINY)
    assert not (tmp_path / "x").exists()


def test_a_folder_or_a_device_where_a_file_is_expected(tmp_path):
    with pytest.raises(md.StructureError, match="is a folder, not a structure file"):
        md.run(tmp_path, out=tmp_path / "a", **TINY)
    if os.path.exists("/dev/null"):
        with pytest.raises(md.StructureError, match="device or special file"):
            md.run("/dev/null", out=tmp_path / "b", **TINY)
    a_file = tmp_path / "notes.txt"
    a_file.write_text("x")
    with pytest.raises(NotADirectoryError, match="is a file.*not a folder"):
        md.run(md.example_structure("villin"), out=a_file, **TINY)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_an_unknown_force_field_lists_what_exists_and_a_single_name_is_accepted(tmp_path):
    with pytest.raises(md.ForceFieldError) as info:
        md.run(md.example_structure("villin"), out=tmp_path / "ff", forcefield=["amber99.xml"], **TINY)
    assert "['amber99.xml']" in str(info.value) and "amber14-all.xml" in str(info.value)
    assert "amber99sbildn.xml" in str(info.value)
    assert not (tmp_path / "ff").exists()

    # The agent's argument check lets a single name through too (the LLM often sends a string).
    from kenkyu.core.registry import build_tool

    assert build_tool(md.run).validate({"structure": "x.pdb", "forcefield": "amber14-all.xml"})["forcefield"]
    result = md.run(md.example_structure("villin"), out=tmp_path / "one", forcefield="amber14-all.xml", **TINY)
    assert result.info["forcefield_files"] == ["amber14-all.xml"]
    assert result.status == "finished"


def test_a_report_interval_between_steps_is_saved_at_its_real_times(tmp_path):
    with pytest.warns(UserWarning, match=r"is 2.5 steps of 2 fs: frames are saved every 2 steps = 0.004 ps"):
        result = md.run(md.example_structure("villin"), out=tmp_path / "odd", **{**TINY, "report_interval_ps": 0.005})
    # 0.02 ps = 10 steps, a frame every 2 steps: 5 frames at their real times, not at multiples of 0.005 ps.
    np.testing.assert_allclose(result.trajectory().time, [0.004, 0.008, 0.012, 0.016, 0.02])
    np.testing.assert_allclose(result.state_data()["Time (ps)"], [0.004, 0.008, 0.012, 0.016, 0.02])


def test_a_failed_start_removes_only_what_it_made(tmp_path):
    # A folder that already held the user's file keeps it (and itself); kenkyu's files are gone.
    out = tmp_path / "mine"
    out.mkdir()
    (out / "keep.txt").write_text("user data")
    with pytest.raises(md.NonstandardResidueError):
        md.run(_modified_lys65(tmp_path), out=out, **TINY)
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]
    # A run with a completed step keeps its folder when a later resume fails on a parameter.
    done = md.run(md.example_structure("villin"), out=tmp_path / "done", **TINY)
    with pytest.raises(md.ResumeError):
        md.run(md.example_structure("villin"), out=done.directory, resume=True, **{**TINY, "temperature_k": 310.0})
    assert done.status == "finished" and done.trajectory_path.exists()
    np.testing.assert_equal(done.trajectory().n_frames, 2)


def test_minimize_refuses_the_hidden_deletion_too_and_takes_the_same_ways_out(tmp_path):
    modified = _modified_lys65(tmp_path)
    with pytest.raises(md.NonstandardResidueError, match="XYZ 65"):
        md.minimize(modified, out=tmp_path / "min", solvent="vacuum", max_iterations=20)
    assert not (tmp_path / "min").exists()
    result = md.minimize(
        modified, out=tmp_path / "min", solvent="vacuum", max_iterations=20, replace_residues={"XYZ": "LYS"}
    )
    assert result.info["fix"]["nonstandard_replaced"] == ["XYZ65->LYS"]
    assert result.energy_after_kj_mol < result.energy_before_kj_mol


def _villin_without_55_56(tmp_path, keep_seqres: bool) -> Path:
    def edit(line):
        return None if line[22:26].strip() in ("55", "56") else line

    path = _edit_villin(tmp_path, f"gap_{keep_seqres}.pdb", edit)
    if not keep_seqres:
        path.write_text("".join(line + "\n" for line in path.read_text().splitlines() if not line.startswith("SEQRES")))
    return path


def test_missing_residues_without_a_sequence_are_not_bonded_across_the_gap(tmp_path):
    from openmm.app import PDBFile

    gapped = _villin_without_55_56(tmp_path, keep_seqres=False)
    with pytest.raises(md.ChainGapError, match=r"THR 54 \(chain A\) to ALA 57 \(chain A\).*allow_chain_breaks=True"):
        md.run(gapped, out=tmp_path / "refused", **TINY)
    assert not (tmp_path / "refused").exists()

    result = md.run(gapped, out=tmp_path / "pieces", allow_chain_breaks=True, **TINY)
    topology = PDBFile(str(result.topology_path)).topology
    chain_of = {r.id: r.chain.index for r in topology.residues()}
    assert chain_of["54"] != chain_of["57"]
    assert not [b for b in topology.bonds() if {b[0].residue.id, b[1].residue.id} == {"54", "57"}]
    assert "CHAIN BREAKS" in result.summary()

    # With its SEQRES records the same file has its two residues rebuilt by pdbfixer: no break, no error.
    rebuilt = md.run(_villin_without_55_56(tmp_path, keep_seqres=True), out=tmp_path / "rebuilt", **TINY)
    assert rebuilt.info["fix"]["missing_residues_added"] == 2 and rebuilt.info["system"]["n_residues"] == 36


def test_the_same_input_is_prepared_into_the_same_molecule_every_time(tmp_path):
    """pdbfixer and Modeller place rebuilt atoms and hydrogens at random first: a report re-run must not get
    another molecule (CI once drew a hydrogen placement that 50 minimisation steps could not relax)."""
    import random

    import numpy as np
    from kenkyu.tools.md import _prepare

    gapped = _villin_without_55_56(tmp_path, keep_seqres=True)  # two residues and their hydrogens to build
    random.seed(7)
    expected_next = random.random()
    random.seed(7)
    prepared = []
    for _ in range(2):
        fixer, report = _prepare.fix_structure(
            str(gapped), ph=7.0, keep_water=False, keep_heterogens=False, add_terminal_residues=False
        )
        prepared.append(np.array(fixer.positions.value_in_unit(fixer.positions.unit)))
    assert report["missing_residues_added"] == 2 and report["hydrogens_added"] > 0
    assert np.array_equal(prepared[0], prepared[1])
    assert random.random() == expected_next  # the caller's random stream is left as it was


def test_an_ensemble_refuses_a_members_unphysical_setting_before_creating_anything(tmp_path):
    from kenkyu.tools import ensembles

    with pytest.raises(md.UnphysicalSettingError, match="temperature_k=5000 is outside"):
        ensembles.run(
            str(md.example_structure("villin")),
            replicas=1,
            out=tmp_path / "ensemble",
            ps=1.0,
            solvent="vacuum",
            sweep={"temperature_k": [300, 5000]},
        )
    assert not (tmp_path / "ensemble").exists()
