"""What a research protocol is: the science of one kind of question, as a plug-in to the loop.

The loop (:mod:`kenkyu.assistant.research`) plans, runs, checks and acts; what a hypothesis looks
like, which results support or refute it, which extra checks the question needs, how the verdict
follows from the checks and what to try next is the protocol's. A protocol names the tools it cares
about by their public functions (``kenkyu.tools.analysis.rmsd``), never by name strings:
:func:`name_of` turns a function into the name plan steps and checks use.

To add one, subclass :class:`Protocol`, override what differs from the defaults, and register an
instance: ``kenkyu.assistant.protocols.register_protocol(MyProtocol())`` or, from a package, the
``kenkyu.protocols`` entry-point group.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from kenkyu.core.registry import name_of
from kenkyu.core.science import ResultCheck, declared_tool, science_of, tool_of_step


def produces(tool: str | None) -> str:
    """What a tool (by registry name, or step name) declares it produces; "value" when unknown."""
    return science_of(declared_tool(tool_of_step(tool))).produces if tool else "value"


def tools_in(steps) -> set[str]:
    return {s.tool for s in steps if s.tool}


class MissingInput(ValueError):
    """What a protocol needs to plan a question and could not find; the message names it and the fix."""


@dataclass
class ProposedStep:
    text: str  # what the step does, as the plan's table shows it
    tool: str  # registry name (from name_of(function), or a step of the plan being revised)
    arguments: dict


@dataclass
class NextPlan:
    """What a protocol proposes after a verdict: the steps (tools and arguments) and the new hypothesis.
    The loop fills in costs, expectations and code, as for any plan."""

    steps: list[ProposedStep]
    hypothesis: str


class Protocol:
    """A research protocol. The defaults make a neutral protocol: a generic hypothesis, no criteria
    beyond the tools' own checks, a verdict from whether every check passed, and no next plan."""

    name: str = ""
    title: str = ""  # the question it answers, in a few words (``%kenkyu`` listings, docs)
    outline: str = ""  # the steps it plans, in a line: what a stronger model choosing a protocol is shown
    # The claim its verdict rules decide, in a line: a model's hypothesis must state this claim (made specific),
    # not its opposite, since the verdict follows the protocol's rules, not the hypothesis' wording.
    verdict_tests: str = ""

    # -- choosing --------------------------------------------------------------------------------------
    def matches(self, question: str, tools: set[str]) -> bool:
        """Whether this protocol is the one for a question whose plan uses these tools."""
        return False

    def claims(self, question: str) -> bool:
        """Whether this protocol is the one for a question from its words alone, before any step is
        routed ("which part unfolds first when heated?" needs a temperature ladder no router would
        build). A protocol that claims a question plans it with :meth:`plan_steps`."""
        return False

    def plan_steps(self, question: str, request: str, candidates: Sequence) -> list[ProposedStep] | None:
        """The protocol's own steps for a question it claims: tools (by :func:`name_of`) and arguments,
        filled from the request and the notebook's ``candidates`` (:class:`kenkyu.core.routing.Candidate`).
        None: route the request's words as usual. Raise :class:`MissingInput` when what the protocol
        needs (a structure, a sequence, a mutation) is neither in the words nor in the notebook."""
        return None

    # -- Plan ------------------------------------------------------------------------------------------
    def hypothesis(self, question: str, steps: Sequence) -> str:
        """The hypothesis kenkyu writes when neither the scientist nor a model stated one."""
        answer = f"Working answer to “{question}”: yes. " if question.endswith("?") else ""
        return answer + "The steps below will show it."

    def criteria(self, steps: Sequence) -> tuple[list[str], list[str], list[str]]:
        """Which results would support, refute, or leave the hypothesis open."""
        return [], [], []

    def tool_checks(self) -> Mapping[Callable, Sequence[ResultCheck]]:
        """The checks this protocol adds to a tool's own, by tool function."""
        return {}

    def checks_for(self, tool: str | None) -> tuple[ResultCheck, ...]:
        if not tool:
            return ()
        return tuple(
            check for function, checks in self.tool_checks().items() if name_of(function) == tool for check in checks
        )

    def expectations(self, tool: str | None) -> list[str]:
        return [e for check in self.checks_for(tool) for e in check.expectations]

    # -- Check -----------------------------------------------------------------------------------------
    def figure(self, results: Mapping[str, object]):
        """A figure for the Check section from the results by step name, or None."""
        return None

    # -- Act -------------------------------------------------------------------------------------------
    def judge(self, plan, report, failed: dict, skipped: dict) -> tuple[str, list[str]]:
        """supported / refuted / inconclusive with the checks that decided it (``report`` is never None)."""
        failing = [c for c in report.checks if c.status in ("fail", "skip", "warn")]
        if failing:
            return "inconclusive", [_reason(c) for c in failing]
        if not report.checks:
            return "inconclusive", ["no result bears on the hypothesis"]
        return "supported", [_reason(c) for c in report.checks]

    def revised_hypotheses(self, verdict: str, report) -> list[str]:
        return []

    def next_plan(self, plan, report, failed: dict) -> NextPlan | None:
        return None


def _reason(check) -> str:
    return f"{check.step}: {check.expectation} — {check.detail}"


def reasons(checks: Iterable) -> list[str]:
    """Checks as the verdict's reasons: ``step: expectation — detail``."""
    return [_reason(c) for c in checks]
