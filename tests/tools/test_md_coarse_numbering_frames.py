"""newcomer r12: a coarse-grained run of villin named its residues from 1 (MET1, GLU32) while the all-atom run of the
same PDB keeps the file's numbers (MET41 ... PHE76), so a side-by-side RMSF listed "most mobile" residues in two
numberings; and a 2 ps coarse-grained run kept 2 frames, where md.run saves at least 10 for a short run."""

from __future__ import annotations

import mdtraj
from kenkyu.tools import analysis, md

from md_fixtures import villin_pdb  # noqa: F401 (fixture)

QUICK = dict(threads=1, seed=5, progress=False, backend="openmm")


def test_a_short_coarse_grained_run_keeps_the_files_residue_numbers_and_ten_frames(villin_pdb, tmp_path):  # noqa: F811
    run = md.coarse_grained(villin_pdb, ps=2.0, out=tmp_path / "cg", **QUICK)

    assert run.info["parameters"]["report_interval_ps"] == 0.2
    traj = run.trajectory()
    assert traj.n_frames == 10  # was 2 at the fixed 1 ps interval
    given = mdtraj.load_topology(str(villin_pdb))
    residues = [(r.name, r.resSeq) for r in given.residues if r.chain.index == 0 and r.atom("CA") is not None]
    assert [(r.name, r.resSeq) for r in traj.topology.residues] == residues
    assert residues[0] == ("MET", 41) and residues[-1] == ("PHE", 76)
    table = analysis.rmsf(run)  # named as an all-atom run's RMSF names them (was MET1 ... PHE36)
    assert table["residue"].tolist() == [f"{name}{number}" for name, number in residues]


def test_an_earlier_short_run_saved_every_1_ps_still_resumes_without_the_interval(villin_pdb, tmp_path):  # noqa: F811
    out = tmp_path / "cg"
    old = md.coarse_grained(villin_pdb, ps=2.0, out=out, report_interval_ps=1.0, **QUICK)  # as runs were made before
    written = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    again = md.coarse_grained(villin_pdb, ps=2.0, out=out, resume=True, **QUICK)  # the report's cell, no interval
    assert again.table.equals(old.table)
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == written
