"""A run's trajectory file given alone (``rmsd("md_runs/x/trajectory.dcd")``, no topology=): the analyses take the
topology from the run's folder and say so; outside a run folder the error names the missing topology and the fix
(issue 13: a newcomer's "RMSD of md_runs/.../trajectory.dcd" was refused with "pass topology=" although the run's
prepared.pdb lay beside it). A real short OpenMM run."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from kenkyu.tools import analysis, md

from md_fixtures import FAST

pytestmark = pytest.mark.filterwarnings("ignore:Unlikely unit cell vectors")

ANALYSES = (
    analysis.rmsd,
    analysis.rmsf,
    analysis.radius_of_gyration,
    analysis.dssp,
    analysis.hydrogen_bonds,
    analysis.contacts,
    analysis.sasa,
)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    here = tmp_path_factory.mktemp("topology_from_run")
    md.run(md.example_structure("villin"), out=here / "md_runs" / "villin", **FAST)
    return here


@pytest.mark.parametrize("analyse", ANALYSES, ids=lambda f: f.__name__)
def test_a_runs_trajectory_alone_takes_the_runs_topology_and_says_so(workdir, monkeypatch, analyse):
    monkeypatch.chdir(workdir)
    table = analyse("md_runs/villin/trajectory.dcd")
    assert "topology: md_runs/villin/prepared.pdb (from the run's folder)" in table.summary().splitlines()
    # The same numbers as with the topology given by hand, and the run's real times.
    given = analyse("md_runs/villin/trajectory.dcd", topology="md_runs/villin/prepared.pdb")
    numbers = table.select_dtypes("number").columns
    np.testing.assert_allclose(table[numbers].to_numpy(float), given[numbers].to_numpy(float))
    assert "topology:" not in given.summary()


def test_a_window_still_says_where_the_topology_came_from(workdir, monkeypatch):
    monkeypatch.chdir(workdir)
    table = analysis.rmsd("md_runs/villin/trajectory.dcd", frames="last half")
    lines = table.summary().splitlines()
    assert "topology: md_runs/villin/prepared.pdb (from the run's folder)" in lines
    assert any(line.startswith("window: frames 5-9") for line in lines)
    assert table.time_ps.iloc[-1] == pytest.approx(0.1)  # the run's times, from its run.json


def test_outside_a_run_folder_the_error_names_the_missing_topology_and_the_fix(workdir, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    shutil.copy(workdir / "md_runs" / "villin" / "trajectory.dcd", tmp_path / "data" / "t.dcd")
    shutil.copy(workdir / "md_runs" / "villin" / "prepared.pdb", tmp_path / "data" / "villin_solvated.pdb")
    with pytest.raises(ValueError) as raised:
        analysis.rmsd("data/t.dcd")
    message = str(raised.value)
    assert "no topology was given" in message and "no run.json, no prepared.pdb" in message
    # The PDB found there is named as a fix, not taken silently (it may be another system).
    assert "topology='data/villin_solvated.pdb'" in message
    from kenkyu.assistant import notebook_tools

    explained = notebook_tools.explain_error(f"ValueError: {message}", cell="rmsd = analysis.rmsd('data/t.dcd')")
    assert explained.kind == "trajectory without topology"
    assert explained.fix.startswith("Pass topology=") and "data/villin_solvated.pdb" in explained.fix
