"""md.coarse_grained(resume=True): a re-run cell reuses the finished run of the same parameters (same
numbers, nothing simulated) and refuses one of other parameters, naming them (newcomer r7 O10)."""

from __future__ import annotations

import shutil

import pytest
from kenkyu.tools import md

from md_fixtures import villin_pdb  # noqa: F401 (fixture)

SHORT = dict(ps=5.0, report_interval_ps=0.5, threads=1, seed=7, progress=False, backend="openmm")


def test_resume_reuses_a_finished_run_of_the_same_parameters(villin_pdb, tmp_path):  # noqa: F811
    out = tmp_path / "cg"
    first = md.coarse_grained(villin_pdb, out=out, resume=True, **SHORT)  # no run yet: it runs
    written = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    again = md.coarse_grained(villin_pdb, out=out, resume=True, **SHORT)
    assert again.table.equals(first.table) and again.info == first.info
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == written  # nothing was simulated again
    # A seed left out matches the run's own; the number of threads only sets the speed.
    unseeded = {k: v for k, v in SHORT.items() if k != "seed"}
    assert md.coarse_grained(villin_pdb, out=out, resume=True, **{**unseeded, "threads": 2}).table.equals(first.table)


def test_resume_refuses_a_run_of_other_parameters_naming_them(villin_pdb, tmp_path):  # noqa: F811
    out = tmp_path / "cg"
    md.coarse_grained(villin_pdb, out=out, **SHORT)
    with pytest.raises(md.RunExistsError) as refused:
        md.coarse_grained(villin_pdb, out=out, resume=True, **{**SHORT, "temperature_k": 350.0, "seed": 8})
    message = str(refused.value)
    assert "temperature_k: run has 300.0, call has 350.0" in message and "seed: run has 7, call has 8" in message
    assert "overwrite=True" in message and "out=" in message
    with pytest.raises(md.RunExistsError, match="resume=True"):  # without resume: the old refusal, with its fixes
        md.coarse_grained(villin_pdb, out=out, **SHORT)


def test_resume_in_a_copied_folder_reuses_the_run_of_the_same_structure(villin_pdb, tmp_path):  # noqa: F811
    session = tmp_path / "session"
    session.mkdir()
    shutil.copy(villin_pdb, session / "villin.pdb")
    first = md.coarse_grained(session / "villin.pdb", out=session / "cg", **SHORT)
    copy = tmp_path / "copy"
    shutil.copytree(session, copy)
    reused = md.coarse_grained(copy / "villin.pdb", out=copy / "cg", resume=True, **SHORT)
    assert reused.table.equals(first.table)
    (copy / "other.pdb").write_text((copy / "villin.pdb").read_text().replace("ATOM      1", "ATOM      1", 1) + "\n")
    with pytest.raises(md.RunExistsError, match="structure: run has"):
        md.coarse_grained(copy / "other.pdb", out=copy / "cg", resume=True, **SHORT)


def test_a_longer_run_without_out_goes_beside_the_shorter_one_and_the_card_names_it(
    villin_pdb,  # noqa: F811
    tmp_path,
    monkeypatch,
    capsys,
):
    """'now a longer one' after a short Gō run: the default folder holds the 5 ps run, so the 10 ps run goes to a
    folder named for what differs, says so, and the approval card's folder is that one (it was refused after the
    user had approved it, as md.run's was in round 10)."""
    from kenkyu.core.science import science_of

    monkeypatch.chdir(tmp_path)
    unseeded = {k: v for k, v in SHORT.items() if k != "seed"}
    short = md.coarse_grained(villin_pdb, **unseeded)
    longer_call = {"structure": str(villin_pdb), **unseeded, "ps": 10.0}
    planned = science_of(md.coarse_grained).output_folder(longer_call)
    capsys.readouterr()
    longer = md.coarse_grained(**longer_call)
    said = capsys.readouterr().out
    assert longer.directory != short.directory and str(longer.directory).endswith("_10ps")
    assert planned == str(longer.directory)
    assert f"this run goes to {longer.directory}" in said and "made with other settings" in said
    assert md.coarse_grained(villin_pdb, resume=True, **unseeded).table.equals(short.table)  # the short one is kept
