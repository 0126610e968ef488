"""A short routed run saves ~10 frames at an interval that is a whole number of integrator steps, written without
float noise (issue 13: intervals computed as ps/10 came out as 0.30000000000000004 ps, and 0.25 ps gave 0.025 ps,
12.5 steps of 2 fs, which md.run warned about and saved at another interval than the reply said)."""

from __future__ import annotations

import pytest
from kenkyu.core.science import science_of
from kenkyu.tools import ensembles, md
from kenkyu.tools.md._validate import check_parameters


def _routed_interval(arguments: dict) -> float:
    return science_of(md.run).for_router(arguments)["report_interval_ps"]


@pytest.mark.parametrize("ps", [0.05, 0.25, 0.3, 0.7, 1.5, 3.0, 9.9])
def test_the_interval_is_whole_steps_and_prints_as_written(ps):
    interval = _routed_interval({"structure": "villin.pdb", "ps": ps})
    steps = interval / 0.002
    assert steps == pytest.approx(round(steps), abs=1e-9) and round(steps) >= 1
    assert len(repr(interval)) <= 6, repr(interval)  # 0.3, 0.024: no 0.30000000000000004
    assert round(ps / interval) == pytest.approx(10, abs=3)  # still about ten frames
    # md.run takes it without its "not a whole number of steps" warning.
    params = {
        "ps": ps, "nvt_ps": 0.0, "npt_ps": 0.0, "timestep_fs": 2.0, "report_interval_ps": interval,
        "checkpoint_interval_ps": 1.0, "solvent": "implicit", "trajectory_format": "dcd", "backend": "openmm",
        "minimize_max_iterations": 0, "temperature_k": 300.0, "pressure_bar": 1.0, "friction_per_ps": 1.0,
        "padding_nm": 1.0, "ionic_strength_molar": 0.15, "ph": 7.0,
    }  # fmt: skip
    assert not [w for w in check_parameters(params) if "report_interval_ps" in w]


def test_a_call_with_another_time_step_gets_whole_steps_of_it():
    interval = _routed_interval({"structure": "villin.pdb", "ps": 0.25, "timestep_fs": 1.0})
    assert interval == 0.025  # 25 steps of 1 fs, exactly as written


def test_an_ensembles_members_get_the_same_interval():
    arguments = science_of(ensembles.run).for_router({"structure": "villin.pdb", "ps": 0.25, "replicas": 3})
    interval = arguments["md_options"]["report_interval_ps"]
    assert interval in (0.024, 0.026) and len(repr(interval)) <= 6
