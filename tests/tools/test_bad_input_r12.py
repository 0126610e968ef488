"""Bad input a scientist really gives, by hand from a notebook cell (round 12's audit): each is refused with an
error that names the problem and the fix (with the allowed range for a setting), not a bare exception from deep
inside OpenMM or mdtraj, and not a "finished" result that measures nothing. Each failed on the old code."""

from __future__ import annotations

import pytest
from kenkyu.tools import analysis, md, unfolding
from kenkyu.tools.md import _coarse

from md_fixtures import FAST

MALFORMED = (
    "REMARK   a PDB cut off after the coordinates' first columns (a bad copy-paste)\n"
    "ATOM      1  N   MET A   1       1.177\n"
    "ATOM      2  CA  MET A   1       0.292\n"
    "END\n"
)


@pytest.fixture
def malformed(tmp_path):
    path = tmp_path / "broken.pdb"
    path.write_text(MALFORMED)
    return path


def _made(folder) -> bool:
    return folder.exists() or any(folder.parent.glob(f".{folder.name}*"))


def test_a_malformed_pdb_is_named_by_minimize_and_coarse_grained_as_by_md_run(malformed, tmp_path):
    # Old: OpenMM's bare "IndexError: list index out of range" from both.
    for call in (
        lambda: md.minimize(malformed, out=tmp_path / "min", max_iterations=5),
        lambda: md.coarse_grained(malformed, out=tmp_path / "cg", ps=1, progress=False),
    ):
        with pytest.raises(md.StructureError, match=r"Could not read 'broken.pdb' as a PDB file .*complete"):
            call()
    assert not _made(tmp_path / "min") and not _made(tmp_path / "cg")


def test_an_analysis_of_a_malformed_pdb_names_the_file(malformed):
    # Old: mdtraj's "IndexError: index 0 is out of bounds for axis 0 with size 0".
    with pytest.raises(ValueError, match=r"could not read '.*broken.pdb' .*complete trajectory or structure file"):
        analysis.radius_of_gyration(str(malformed))


@pytest.mark.parametrize(
    "setting, words",
    [
        ({"temperature_k": 5000}, "temperature_k=5000 is outside the coarse-grained model's range 1-1500"),
        ({"timestep_fs": 100}, "timestep_fs=100 is outside the coarse-grained model's range 1-50"),
        ({"ps": -5}, "ps must be positive"),
    ],
)
def test_coarse_grained_refuses_unphysical_settings_with_the_range(villin_pdb, tmp_path, setting, words):
    # Old: 5000 K and a 100 fs step both ran to a "finished" run (Q 0.14; beads 1000 nm apart).
    with pytest.raises(md.UnphysicalSettingError, match=words):
        md.coarse_grained(villin_pdb, out=tmp_path / "cg", **{"ps": 1, **setting}, progress=False)
    assert not _made(tmp_path / "cg")


def test_a_coarse_grained_run_torn_apart_is_not_finished(villin_pdb, tmp_path, monkeypatch):
    """Past the range (widened here to reach it), a step the integration cannot take tears bonds apart with finite
    numbers: it is a SimulationUnstableError, not a finished run whose Rg is 1000 nm. Since round 14 the frames saved
    before it are kept, marked failed (nothing computed is lost), and no analysis reads them as a result."""
    monkeypatch.setitem(_coarse.CG_RANGES, "timestep_fs", (1.0, 1000.0, "widened for the test"))
    with pytest.raises(md.SimulationUnstableError, match="bead bond stretched to .* times its native length") as raised:
        md.coarse_grained(villin_pdb, out=tmp_path / "cg", ps=1, timestep_fs=100, backend="openmm", seed=2,
                          progress=False)  # fmt: skip
    assert "The 3 frames saved before it (to 0.3 ps) are kept" in str(raised.value)  # seed 2 tears at frame 4
    assert md.CoarseGrainedRun(tmp_path / "cg").status == "failed"
    with pytest.raises(md.RunFailedError, match="cannot be trusted"):
        md.CoarseGrainedRun(tmp_path / "cg").trajectory()


def test_minimize_refuses_what_md_run_refuses(villin_pdb, tmp_path):
    # Old: solvent="water" was a bare KeyError 'water'; ph=20 was used.
    with pytest.raises(
        md.UnphysicalSettingError, match=r"not 'water' \(water around the protein is solvent='explicit'"
    ):
        md.minimize(villin_pdb, out=tmp_path / "m", solvent="water")
    with pytest.raises(md.UnphysicalSettingError, match="ph=20 is outside the allowed range 0-14"):
        md.minimize(villin_pdb, out=tmp_path / "m", ph=20, max_iterations=5)
    assert not _made(tmp_path / "m")


def test_a_length_written_with_its_unit_is_refused_with_the_number_to_write(villin_pdb, tmp_path):
    # Old: float()'s "could not convert string to float: '10 ns'", naming neither the setting nor the fix.
    with pytest.raises(md.UnphysicalSettingError, match=r"ps must be a number, got '10 ns' \(str\): .*ps=10000"):
        md.run(villin_pdb, out=tmp_path / "r", ps="10 ns", solvent="implicit", progress=False)
    assert not _made(tmp_path / "r")


@pytest.mark.parametrize(
    "arguments, words",
    [
        ({"cutoff_nm": 0.05}, r"cutoff_nm=0.05 is outside 0.25-2 nm: .*the usual cutoff is 0.45 nm"),
        ({"cutoff_nm": 4.5}, r"cutoff_nm=4.5 is outside .*4.5 Å is 0.45"),
        (
            {"min_frequency": 50},
            r"min_frequency=50 is a fraction of frames, between 0 and 1 \(50% is min_frequency=0.5\)",
        ),
    ],
)
def test_contacts_refuse_a_cutoff_or_fraction_no_contact_can_have(villin_pdb, arguments, words):
    # Old: "0 of 561 pairs ever in contact" (0.05 nm), and an empty table (50), as if they were results.
    with pytest.raises(ValueError, match=words):
        analysis.contacts(str(villin_pdb), **arguments)


def test_a_ladder_past_the_models_range_is_refused_before_any_rung_runs(villin_pdb, tmp_path):
    # Old: t_max=5000 started the ladder and its summary said "1 of 4 runs finished", the rest failing one by one.
    with pytest.raises(md.UnphysicalSettingError, match="temperature_k=5000 is outside the coarse-grained model's"):
        unfolding.ladder(villin_pdb, t_min=300, t_max=5000, n_temperatures=4, replicas=1, ps=2,
                         report_interval_ps=0.2, out=tmp_path / "ladder")  # fmt: skip
    assert not _made(tmp_path / "ladder")


def test_an_extension_written_with_its_unit_is_refused_with_the_number_to_write(villin_pdb, tmp_path):
    run = md.run(villin_pdb, out=tmp_path / "run", **FAST)
    with pytest.raises(md.UnphysicalSettingError, match=r"ps must be a number, got '5 ns' \(str\): .*ps=5000"):
        md.extend(run, ps="5 ns")  # old: "could not convert string to float: '5 ns'"
    assert md.MDRun(tmp_path / "run").info["parameters"]["ps"] == FAST["ps"]  # untouched
