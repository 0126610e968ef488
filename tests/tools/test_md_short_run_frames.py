"""A short run saves enough frames for its analyses when the call does not say how often (lead r11, held-out 10):
md_run(ps=1.5) saved one frame at the fixed 1 ps interval and ensembles_run(ps=0.5) was refused. Now a run under
10 ps saves a frame at the largest round interval giving at least 10 frames, and says so; a run of 10 ps or more
keeps 1 ps; a run started before (or with an interval given) resumes as it was.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kenkyu.tools import md
from kenkyu.tools.md._frames import default_report_interval

from md_fixtures import villin_pdb  # noqa: F401 (fixture)

pytestmark = pytest.mark.filterwarnings("ignore:Unlikely unit cell vectors")

QUICK = dict(solvent="implicit", nvt_ps=0.02, minimize_max_iterations=50, platform="CPU", progress=False, seed=4)


def test_the_default_interval_is_round_and_gives_ten_frames():
    assert default_report_interval(1.5, 2.0)[0] == 0.1  # 15 frames, not 1
    assert default_report_interval(0.5, 2.0)[0] == 0.05
    assert default_report_interval(2.0, 2.0)[0] == 0.2
    assert default_report_interval(10.0, 2.0) == (1.0, "default: every 1 ps")  # 10 ps and longer: as before
    assert default_report_interval(0.05, 2.0)[0] == 0.002  # 0.005 ps is not a whole number of 2 fs steps


def test_a_short_run_saves_ten_frames_and_says_why(villin_pdb, tmp_path):  # noqa: F811
    run = md.run(villin_pdb, ps=0.2, out=tmp_path / "short", **QUICK)
    assert run.n_frames == 10 and run.frame_interval_ps == pytest.approx(0.02)
    assert "frames: default for a run shorter than 10 ps: every 0.02 ps, 10 frames" in run.summary()
    info = json.loads(Path(run.run_json).read_text())
    assert info["parameters"]["report_interval_ps"] == 0.02 and info["frames"].startswith("default for a run")

    # A run whose interval was given (or chosen by an older default) is the same run to a call that leaves it out.
    given = md.run(villin_pdb, ps=0.2, report_interval_ps=0.05, out=tmp_path / "given", **QUICK)
    assert given.n_frames == 4 and "frames:" not in given.summary()
    again = md.run(villin_pdb, ps=0.2, out=tmp_path / "given", resume=True, **QUICK)
    assert again.n_frames == 4  # reused as it is, not refused for "other settings"


def test_an_ensemble_of_half_picosecond_members_is_no_longer_refused():
    from kenkyu.tools.md._validate import check_call

    # ensembles_run checks every member's md.run call before it starts any: at the old fixed 1 ps interval a
    # 0.5 ps member was refused ("report_interval_ps (1.0) is longer than the run").
    assert check_call({"ps": 0.5, "solvent": "implicit"}) == []
    with pytest.raises(md.UnphysicalSettingError, match="longer than the run"):
        check_call({"ps": 0.5, "solvent": "implicit", "report_interval_ps": 1.0})  # given: still refused
