"""Prints the agent benchmark's score table at the end of the pytest run, whatever ``-s`` says.

tests/system/test_agent_benchmark.py stores the table with :func:`report`; the terminal summary hook shows it
(and where the results and notebooks are) after the usual pytest summary.
"""

from __future__ import annotations

import pytest

TABLES = pytest.StashKey[list]()


def report(config, title: str, table: str) -> None:
    config.stash.setdefault(TABLES, []).append((title, table))


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    for title, table in config.stash.get(TABLES, []):
        terminalreporter.write_sep("=", title)
        terminalreporter.write(table)
