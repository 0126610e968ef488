"""The agent (kenkyu.assistant) names no tool: what it needs, tools declare and protocols state with the
tools' functions. A tool-name string in assistant/ would be a rule the next tool cannot reach."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import kenkyu.assistant
from kenkyu.core.registry import ToolRegistry
from kenkyu.tools import TOOL_MODULES

AGENT = Path(kenkyu.assistant.__file__).parent
FAMILIES = "md|analysis|viz|ensembles|structure|literature"
# A quoted tool name ("md_run", 'analysis_rmsd') or a test of a name's family (startswith("literature")).
# "md_options" is an argument (of ensembles.run), not a tool: protocols that plan replicas fill it.
PATTERNS = [
    re.compile(rf"""(["'])(?!md_options\1)({FAMILIES})_[a-z_0-9]+\1"""),
    re.compile(rf"""startswith\(\s*["']({FAMILIES})"""),
]


def agent_sources():
    files = sorted(AGENT.rglob("*.py"))
    assert len(files) > 10, f"the agent's sources were not found under {AGENT}"
    return files


def test_no_tool_name_literal_or_family_test_in_the_agent():
    found = [
        f"{path.relative_to(AGENT.parent)}:{n}: {line.strip()}"
        for path in agent_sources()
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if any(p.search(line) for p in PATTERNS)
    ]
    assert not found, "tool names in kenkyu.assistant (declare it on the tool or the protocol instead):\n" + "\n".join(
        found
    )


def test_not_even_the_name_of_a_tool_outside_the_usual_families():
    for module in TOOL_MODULES:
        importlib.import_module(module)
    names = ToolRegistry.from_modules(TOOL_MODULES).names()
    assert "md_run" in names and len(names) > 20
    quoted = re.compile("|".join(rf"""(["']){re.escape(name)}(_\d+)?\1""" for name in names))
    found = [
        f"{path.name}:{n}"
        for path in agent_sources()
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if quoted.search(line)
    ]
    assert not found, found
