"""An md_run cell from %%ask in a real kernel shows no mdtraj warning about a dummy CRYST1 unit cell: for an
implicit-solvent run of a PDB from the RCSB (villin's NMR entry carries a 1 Å CRYST1) it is noise. Nor does an
analysis of that file; a scientist's own mdtraj.load still warns."""

import warnings

from notebooks import run_cells

import kenkyu.tools.md as md
from kenkyu.tools import analysis
from kenkyu.tools.md.cost import estimate_run


def test_md_run_cell_from_ask_shows_no_unit_cell_warning(tmp_path, write_replay):
    villin = str(md.example_structure("villin"))
    assert "CRYST1    1.000    1.000    1.000" in open(villin).read()  # the dummy cell mdtraj warns about
    arguments = {"structure": villin, "ps": 0.1, "solvent": "implicit", "nvt_ps": 0.02, "report_interval_ps": 0.01}
    replay = write_replay([{"text": "A short run.", "tool_calls": [{"name": "md_run", "arguments": arguments}]}])
    nb, _ = run_cells(
        ["%load_ext kenkyu", f"%kenkyu provider replay {replay}\n%kenkyu approval auto", "%%ask\nSimulate villin"],
        tmp_path,
    )
    assert (tmp_path / "md_runs" / "villin_1vii_implicit" / "run.json").exists()
    printed = "\n".join(str(o.get("text", "")) + str(o.get("data", {})) for c in nb.cells for o in c.outputs)
    assert "md_run" in printed
    assert "Unlikely unit cell" not in printed and "CRYST1" not in printed


def test_cost_estimate_of_an_md_run_warns_nothing():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cost = estimate_run({"structure": str(md.example_structure("villin")), "ps": 1.0, "solvent": "implicit"})
    assert cost.seconds > 0
    assert not [str(w.message) for w in caught if "unit cell" in str(w.message)]


def test_an_analysis_of_the_structure_warns_nothing_but_mdtraj_load_by_hand_still_does():
    import mdtraj

    villin = str(md.example_structure("villin"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rg = analysis.radius_of_gyration(villin)
        by_hand = mdtraj.load(villin)
    assert rg.iloc[0]["rg_nm"] > 0.8  # villin's 36 residues: about 0.95 nm
    assert by_hand.unitcell_lengths is None  # the dummy cell is dropped either way
    # (mdtraj.load reads the file twice, and warns each time)
    assert {str(w.message)[:30] for w in caught if "unit cell" in str(w.message)} == {"Unlikely unit cell vectors det"}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        analysis.radius_of_gyration(villin)
    assert not [w for w in caught if "unit cell" in str(w.message)]
