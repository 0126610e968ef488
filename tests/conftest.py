import json
import os
import resource
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # test helpers: toolbox, fake servers

# The MD fixtures (villin_pdb, dhfr_pdb, venv_python) for every test module; the agent benchmark's
# score table in the terminal summary (printed whether or not pytest captures output).
pytest_plugins = ["md_fixtures", "agent_benchmark_summary"]


@pytest.fixture
def write_replay(tmp_path):
    """Write a replay file from a list of turns and return its path."""

    def write(turns, name="turns.json"):
        path = tmp_path / name
        path.write_text(json.dumps({"turns": turns}))
        return path

    return write


@pytest.fixture(autouse=True)
def _no_llm_from_environment(monkeypatch):
    # Tests choose their provider explicitly; a developer's own settings must not leak in.
    for name in ("KENKYU_PROVIDER", "KENKYU_MODEL", "KENKYU_BASE_URL", "KENKYU_REPLAY", "KENKYU_APPROVAL"):
        monkeypatch.delenv(name, raising=False)


# -- skips that nobody expected fail the run ---------------------------------------------------------
# Modules skip themselves when an optional extra is missing (pytest.importorskip), which is right for
# someone who installed only part of kenkyu. `make test` installs everything, so there a skip means
# something broke (an extra that no longer imports, a fixture file gone): with --strict-skips (the
# Makefile passes it) any skip whose reason is not listed here fails the session, by name.
EXPECTED_SKIP_REASONS = (
    "cell size is irrelevant without a cutoff",  # a parametrisation that does not apply
)


def pytest_addoption(parser):
    parser.addoption(
        "--strict-skips",
        action="store_true",
        help="fail the run when a test is skipped for a reason not in tests/conftest.py's list",
    )


_unexpected_skips: list[str] = []


def pytest_runtest_logreport(report):
    _note_skip(report)


def pytest_collectreport(report):
    _note_skip(report)


def _note_skip(report):
    if not report.skipped or hasattr(report, "wasxfail"):
        return
    reason = str(report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr)
    if not any(expected in reason for expected in EXPECTED_SKIP_REASONS):
        _unexpected_skips.append(f"{report.nodeid}: {reason.removeprefix('Skipped: ')}")


def pytest_sessionfinish(session, exitstatus):
    if session.config.getoption("--strict-skips") and _unexpected_skips and exitstatus == 0:
        session.exitstatus = 1


# -- how busy the session kept the machine ---------------------------------------------------------------
# CI has 2 cores. A session that keeps about one busy (its tests mostly wait for a kernel, a browser or a
# subprocess) leaves room for a second session beside it (`make test` runs tests/system so); one that keeps
# both busy does not. The line at the end says which, from the CPU time of pytest and the processes it started
# and waited for (kernels, servers, browsers; not ones still running).
_STARTED = time.monotonic()  # pytest loads this file first thing, so CPU and wall time count from about the same start


def _cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if config.getoption("--strict-skips") and _unexpected_skips:
        terminalreporter.section("unexpected skips (--strict-skips): each is a failure", sep="=", red=True)
        for line in _unexpected_skips:
            terminalreporter.line(line, red=True)
    wall, cpu = time.monotonic() - _STARTED, _cpu_seconds()
    terminalreporter.line(
        f"CPU {cpu:.0f} s in {wall:.0f} s: {cpu / max(wall, 1e-9):.2f} of {os.cpu_count()} cores busy on average "
        "(pytest and the processes it started and waited for)"
    )
