"""Shared fixtures and settings for the MD tool tests (imported by tests/test_md*.py and friends).

Small and fast on purpose: the whole MD suite runs on 2 CPU cores in a few minutes, so runs are
fractions of a picosecond with few minimisation steps, unless a test is about the physics.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]

# Settings for runs whose point is the mechanics (files, resume, errors), not the physics.
FAST = dict(
    solvent="implicit",
    ps=0.1,
    nvt_ps=0.02,
    report_interval_ps=0.01,
    checkpoint_interval_ps=0.05,
    minimize_max_iterations=50,
    platform="CPU",
    progress=False,
    seed=1234,
)


@pytest.fixture
def villin_pdb() -> Path:
    from kenkyu.tools.md import example_structure

    return example_structure("villin")


@pytest.fixture
def dhfr_pdb() -> Path:
    from kenkyu.tools.md import example_structure

    return example_structure("dhfr")


@pytest.fixture
def venv_python() -> str:
    import sys

    return sys.executable
