"""The mutation-effect plan saves its frames at a whole number of integrator steps, written without float noise,
at most one every 10 ps (round 12: it wrote ``ps / 10``: 0.06999999999999999 ps for a 0.7 ps run, and 0.025 ps,
12.5 steps of 2 fs, for 0.25 ps, which md.run warned about and saved at another interval than the plan said)."""

from __future__ import annotations

import pytest
from kenkyu.assistant.protocols.mutation_effect import MUTATION_EFFECT
from kenkyu.tools import mutants
from kenkyu.tools.md._validate import check_parameters


def _simulate_options(request: str) -> dict:
    steps = MUTATION_EFFECT.plan_steps(request, request, [])
    simulate = next(s for s in steps if s.tool.endswith(mutants.simulate_mutants.__name__))
    return simulate.arguments["md_options"]


@pytest.mark.parametrize("length", ["0.25 ps", "0.7 ps", "3 ps", "50 ps"])
def test_the_planned_interval_is_whole_steps_and_prints_as_written(length):
    options = _simulate_options(f"what does K25A do to villin? 2 replicas of {length}")
    interval = options["report_interval_ps"]
    steps = interval / 0.002
    assert steps == pytest.approx(round(steps), abs=1e-9) and round(steps) >= 1
    assert len(repr(interval)) <= 6, repr(interval)  # 0.07, 0.024: no 0.06999999999999999
    ps = float(length.split()[0])
    assert round(ps / interval) == pytest.approx(10, abs=3)  # still about ten frames
    params = {
        "ps": ps, "nvt_ps": 0.0, "npt_ps": 0.0, "timestep_fs": 2.0, "report_interval_ps": interval,
        "checkpoint_interval_ps": 1.0, "solvent": "implicit", "trajectory_format": "dcd", "backend": "openmm",
        "minimize_max_iterations": 0, "temperature_k": 300.0, "pressure_bar": 1.0, "friction_per_ps": 1.0,
        "padding_nm": 1.0, "ionic_strength_molar": 0.15, "ph": 7.0,
    }  # fmt: skip
    assert not [w for w in check_parameters(params) if "report_interval_ps" in w]


def test_a_long_run_still_saves_at_most_one_frame_every_10_ps():
    assert _simulate_options("what does K25A do to villin? 2 replicas of 5 ns")["report_interval_ps"] == 10.0
