"""md.run's estimate says when the machine is busier than when its speed was measured (h4 r11: "about 6 min here"
for a run that took 14.5 min at load ~10 on 2 cores). The number stays the measured one; the note says why it may
run longer. The load is the machine's own, set here by monkeypatching os.getloadavg."""

from __future__ import annotations

import json
import os

from kenkyu.tools.md import cost


def test_a_busy_machine_is_named_in_the_estimate(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(os, "getloadavg", lambda: (10.0, 9.0, 8.0))
    assert cost.busy_now() == "; the machine is busy now (load 10.0 on 2 cores): expect up to ~5x longer"
    monkeypatch.setattr(os, "getloadavg", lambda: (2.5, 2.0, 2.0))
    assert cost.busy_now() == ""  # a little over one process per core is the usual state of a run


def test_the_note_is_part_of_md_runs_estimate(monkeypatch, tmp_path):
    monkeypatch.setenv("KENKYU_CACHE", str(tmp_path))
    entry = {"n_atoms": 600, "steps_per_s": 500.0, "setup_s": 3.0, "structure": "x.pdb", "source": "measured"}
    (tmp_path / "md_speed.json").write_text(json.dumps({cost.speed_key("implicit", False, None): entry}))
    monkeypatch.setattr(os, "getloadavg", lambda: (12.0, 12.0, 12.0))
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    estimate = cost.estimate_run({"structure": "x.pdb", "ps": 10, "solvent": "implicit"}, measure=False)
    assert estimate.basis.endswith("the machine is busy now (load 12.0 on 2 cores): expect up to ~6x longer")
