"""md.minimize(resume=True), with md.run's meaning (newcomer r12: an exported report's second run in its folder stopped
at its minimisation with RunExistsError): a finished minimisation of the same input and settings is reused and said,
with nothing computed; one of other settings, or of an input edited since, is refused naming the difference."""

from __future__ import annotations

import shutil

import pytest
from kenkyu.tools import md

from md_fixtures import villin_pdb  # noqa: F401 (fixture)


def test_resume_reuses_a_finished_minimisation_and_refuses_other_settings(villin_pdb, tmp_path, capsys):  # noqa: F811
    structure = tmp_path / "villin_1vii.pdb"
    shutil.copy(villin_pdb, structure)
    out = tmp_path / "min"
    first = md.minimize(structure, out, max_iterations=10, platform="CPU", resume=True)  # nothing there: computed
    files = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    capsys.readouterr()

    again = md.minimize(structure, out, max_iterations=10, platform="CPU", resume=True)

    assert again.energy_after_kj_mol == first.energy_after_kj_mol
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == files  # nothing written again
    assert "reusing the finished minimisation" in capsys.readouterr().out

    # The same content elsewhere (a report's copy of its input) is the same input.
    moved = tmp_path / "copy" / "villin_1vii.pdb"
    moved.parent.mkdir()
    shutil.copy(structure, moved)
    assert md.minimize(moved, out, max_iterations=10, resume=True).energy_after_kj_mol == first.energy_after_kj_mol

    with pytest.raises(md.RunExistsError, match=r"max_iterations: minimisation has 10, call has 20.*overwrite=True"):
        md.minimize(structure, out, max_iterations=20, resume=True)
    with pytest.raises(md.RunExistsError, match=r"ph: minimisation has 7.0, call has 5.0"):
        md.minimize(structure, out, max_iterations=10, ph=5.0, resume=True)
    structure.write_text(structure.read_text().replace("ATOM      1 ", "ATOM      1 ", 1) + "\n")
    with pytest.raises(md.RunExistsError, match=r"structure: minimisation has"):
        md.minimize(structure, out, max_iterations=10, resume=True)  # the file was edited since: not the same
    with pytest.raises(md.RunExistsError, match="resume=True to reuse it"):
        md.minimize(moved, out, max_iterations=10)  # without resume=, the fix is named
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == files


def test_the_approval_prices_a_resumed_finished_minimisation_as_its_reuse(villin_pdb, tmp_path):  # noqa: F811
    from kenkyu.core.registry import ToolRegistry

    tool = ToolRegistry.from_modules(["kenkyu.tools.md"])["md_minimize"]
    out = tmp_path / "min"
    arguments = {"structure": str(villin_pdb), "out": str(out), "max_iterations": 10, "resume": True}
    fresh = tool.science.cost(arguments)
    assert fresh.seconds > 5 and "reuse" not in fresh.basis  # nothing there yet: a whole minimisation
    md.minimize(villin_pdb, out, max_iterations=10, platform="CPU")
    reused = tool.science.cost(arguments)
    assert reused.seconds <= 1.0 and f"{out} holds a finished minimisation: resume=True reuses it" in reused.basis
    assert tool.science.cost({**arguments, "resume": False}).seconds == fresh.seconds
