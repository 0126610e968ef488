"""Shared fixtures and settings for the MD tool tests (imported by tests/test_md*.py and friends).

Small and fast on purpose: the whole MD suite runs on 2 CPU cores in a few minutes, so runs are
fractions of a picosecond with few minimisation steps, unless a test is about the physics.
"""

from __future__ import annotations

import os
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


def shared_data_dir() -> Path | None:
    """``$KENKYU_SHARED_DATA`` or ``../shared/data`` relative to the repository root."""
    for candidate in (os.environ.get("KENKYU_SHARED_DATA"), REPO_ROOT.parent / "shared" / "data"):
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return None


@pytest.fixture
def villin_pdb() -> Path:
    from kenkyu.tools.md import example_structure

    return example_structure("villin")


@pytest.fixture
def dhfr_pdb() -> Path:
    data = shared_data_dir()
    path = data / "5dfr_minimized.pdb" if data else None
    if path is None or not path.is_file():
        pytest.skip("DHFR 5dfr_minimized.pdb not found: set $KENKYU_SHARED_DATA or put it in ../shared/data")
    return path


@pytest.fixture
def venv_python() -> str:
    import sys

    return sys.executable
