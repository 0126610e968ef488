"""What md.run's and md.extend's progress bars print (tqdm's text on stderr): a bar that starts where the run
stands, an ETA that is never negative, and a last frame at 100% of the total."""

from __future__ import annotations

import re

import tqdm.auto
import tqdm.std
from kenkyu.tools import md

from md_fixtures import FAST, villin_pdb  # noqa: F401 (fixture)

FRAME = re.compile(r"(\d+)%\|.*\| ([\d.]+)/([\d.]+) ps \[([\d:]+)<([^,\]]+)")


def _frames(stderr: str) -> list[tuple[int, float, float, str]]:
    """(percent, n ps, total ps, remaining) of every bar frame tqdm drew."""
    found = [FRAME.search(part) for part in re.split(r"[\r\n]", stderr)]
    return [(int(m[1]), float(m[2]), float(m[3]), m[5]) for m in found if m]


def _assert_sane(frames) -> None:
    for percent, n, total, remaining in frames:
        assert remaining == "?" or re.fullmatch(r"\d+:\d\d(:\d\d)?", remaining), f"bad ETA {remaining!r} in {frames}"
        assert n <= total + 1e-9
    assert frames[-1][0] == 100 and frames[-1][1] == frames[-1][2], f"the bar closed short of its total: {frames}"


class _RecordingBar(tqdm.std.tqdm):
    """tqdm as md uses it, remembering (n, total) when closed: a notebook bar closed short turns red."""

    closed: list = []

    def close(self):
        if not self.disable:
            _RecordingBar.closed.append((self.n, self.total))
        super().close()


def test_run_and_extend_bars_start_where_the_run_stands_and_end_at_the_total(
    villin_pdb,  # noqa: F811
    tmp_path,
    capsys,
    monkeypatch,
):
    monkeypatch.setattr(tqdm.auto, "tqdm", _RecordingBar)
    run = md.run(villin_pdb, out=tmp_path / "run", **{**FAST, "progress": True})
    frames = _frames(capsys.readouterr().err)
    _assert_sane(frames)
    # 0.02 ps NVT + 0.1 ps production, from zero.
    assert frames[0][1] == 0 and frames[-1][2] == 0.12

    md.extend(run.directory, ps=0.05)
    frames = _frames(capsys.readouterr().err)
    _assert_sane(frames)
    # The extension's bar starts at the 0.12 ps already done, not at 0, and reaches the new 0.17 ps.
    assert frames[0][:3] == (71, 0.12, 0.17)
    assert frames[-1][1] == 0.17
    # Closed exactly at the total, not a rounding error short of it.
    assert [(n == total, total) for n, total in _RecordingBar.closed] == [(True, 0.12), (True, 0.17)]
