"""One comparison of a call's settings with a stored run's (tools/md/_compare.py), used by md.run's refusal
and resume and by the approval card (assistant/preflight.py): both name the same settings."""

from __future__ import annotations

import json

from kenkyu.assistant.preflight import _other_settings
from kenkyu.tools.md import _differences
from kenkyu.tools.md._compare import differing_settings

STORED = {"temperature_k": 300.0, "ps": 10, "solvent": "implicit", "seed": 7}


def test_numbers_compare_by_value_and_a_seed_left_to_chance_matches():
    assert differing_settings(STORED, {"temperature_k": 300, "ps": 10.0, "seed": None}) == []
    assert differing_settings(STORED, {"temperature_k": 360, "solvent": "explicit", "seed": 8}) == [
        ("temperature_k", 300.0, 360),
        ("solvent", "implicit", "explicit"),
        ("seed", 7, 8),
    ]
    # Only the keys asked about, in their order; a key the run never stored counts as None there.
    assert differing_settings(STORED, {"ps": 20, "backend": "dataflow"}, keys=["backend"]) == [
        ("backend", None, "dataflow")
    ]


def test_the_approval_card_and_md_run_name_the_same_differences(tmp_path):
    (tmp_path / "run.json").write_text(json.dumps({"parameters": STORED}))
    asked = {"temperature_k": 360, "ps": 10.0, "solvent": "implicit", "seed": 9, "out": str(tmp_path)}
    # The card leaves the seed out (a new seed is not another experiment) and the output folder.
    assert _other_settings(tmp_path, asked) == "temperature_k 300 there, 360 asked"
    refused = _differences(STORED, {**STORED, "temperature_k": 360, "seed": 9}, None, {})
    assert refused == ["temperature_k: run has 300.0, call has 360", "seed: run has 7, call has 9"]
