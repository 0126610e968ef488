"""What a tool declares about its science, next to the tool: the research loop plans and checks from it.

The agent (:mod:`kenkyu.assistant`) knows no tool by name. What it needs to plan a step, price it and
check its result, the tool says beside its own definition::

    from kenkyu.core.registry import tool
    from kenkyu.core.science import checked_by, costs, result_check, writes

    @result_check("the run finishes all its frames")
    def run_finished(run):
        yield "the run finishes all its frames", "pass" if run.done else "fail", f"{run.frames} frames"

    @tool(approval="ask", writes_files=True, produces="run_folder")
    @writes(lambda arguments: arguments.get("out"))        # the folder, known before the call runs
    @costs(estimate_run, after_run=learn_from_run)         # or @costs(2.0): a typical constant
    @checked_by(run_finished)
    def run(structure, out=None): ...

A tool with no declarations (``@kenkyu.tool`` in a notebook) produces a plain ``"value"``, writes no
folder known in advance, costs a typical 5 s and has no checks. The decorators may come in any order,
above or below ``@tool``: each only fills in the function's :class:`Science`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any, Literal

# What a tool's result is, for the planner and the Act section: "answer" results (cited evidence for a
# question) are quoted under the literature heading; the others by their own summaries.
Produces = Literal["value", "run_folder", "table", "figure", "answer", "view", "structure", "index"]
PRODUCES: tuple[str, ...] = Produces.__args__

_SCIENCE = "__kenkyu_science__"


@dataclass(frozen=True)
class Cost:
    seconds: float
    basis: str  # how the number was obtained, shown in the plan
    # What the call will really run, each with its length ("10 ps NVT equilibration (added by default)"),
    # shown before approval: the steps the estimate is made of, defaults the user never typed included.
    steps: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"~{format_seconds(self.seconds)} ({self.basis})"


def format_seconds(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


# (expectation, status, detail); status is one of pass | warn | fail | skip.
Verdict = tuple[str, str, str]


@dataclass(eq=False)  # not frozen: it takes the judge's name and docstring (functools.update_wrapper)
class ResultCheck:
    """A check of a tool's result: the expectations it tests (the plan quotes them) and the function
    that yields one :data:`Verdict` per expectation it could judge."""

    expectations: tuple[str, ...]
    judge: Callable[[Any], Iterable[Verdict]]

    def __call__(self, result) -> Iterable[Verdict]:
        return self.judge(result)


def result_check(*expectations: str) -> Callable[[Callable], ResultCheck]:
    """Turn ``judge(result) -> yields (expectation, status, detail)`` into a :class:`ResultCheck`."""
    if not expectations:
        raise ValueError("a result check states at least one expectation")

    def make(judge: Callable) -> ResultCheck:
        check = ResultCheck(tuple(expectations), judge)
        functools.update_wrapper(check, judge, updated=())
        return check

    return make


Estimator = Callable[..., Cost]  # estimate(arguments: dict, *, measure: bool) -> Cost


def typical_cost(seconds: float, basis: str = "typical for this tool, not measured") -> Estimator:
    """A cost that hardly depends on the input: a rough constant, labelled as such in the plan."""

    def estimate(arguments: dict, *, measure: bool = True) -> Cost:
        return Cost(float(seconds), basis)

    estimate.seconds = float(seconds)  # for tests and tables
    return estimate


DEFAULT_COST = typical_cost(5.0, "typical, not measured")

# What a tool interrupted before it saved anything says (md.run before its first checkpoint): the agent then
# reports "nothing kept" and "start it again", never "resumable" over a message saying nothing was kept.
NOTHING_KEPT = "nothing was kept"


@dataclass(frozen=True)
class Science:
    """Everything a tool declares for the planner, the checks and the Act section."""

    produces: str = "value"
    output: Callable[[dict], Any] | None = None  # arguments -> the folder the call will write (or None)
    in_place: str | None = None  # the argument whose folder the call continues on purpose (md.extend's run)
    estimate: Estimator = DEFAULT_COST
    after_run: Callable[[Any], None] | None = None  # sees each result a research step produced (learn speeds)
    checks: tuple[ResultCheck, ...] = ()
    routed: Callable[[dict], dict] | None = None  # arguments the embedded model filled -> the ones to run
    quote: Callable[[Any], list[str]] | None = None  # result -> Markdown lines for the Act section
    # What scientists call what the tool computes or does ("compactness" for a radius of gyration, "helicity"
    # for DSSP): the router matches a request's words to these by word stem and by sentence embedding.
    concepts: tuple[str, ...] = ()

    @property
    def expectations(self) -> list[str]:
        return [e for check in self.checks for e in check.expectations]

    def output_folder(self, arguments: dict) -> str | None:
        """The folder the call writes, when known before it runs."""
        found = self.output(arguments) if self.output is not None else None
        return None if found is None else str(found)

    def cost(self, arguments: dict, *, measure: bool = True) -> Cost:
        return self.estimate(arguments, measure=measure)

    def check(self, result) -> list[Verdict]:
        return [verdict for check in self.checks for verdict in check(result)]

    def for_router(self, arguments: dict) -> dict:
        """The arguments as kenkyu's router should run them (the embedded model filled them)."""
        return self.routed(dict(arguments)) if self.routed is not None else dict(arguments)


def science_of(function: Callable | None) -> Science:
    """What ``function`` declares; the defaults for a function that declares nothing (or None)."""
    return getattr(function, _SCIENCE, None) or Science()


def declare(function: Callable, **changes) -> Callable:
    """Add to what ``function`` declares (the decorators below call this); returns the function."""
    unknown = set(changes) - set(Science.__dataclass_fields__)
    if unknown:
        raise TypeError(
            f"unknown declaration(s) {sorted(unknown)}; a tool declares {sorted(Science.__dataclass_fields__)}"
        )
    if "produces" in changes and changes["produces"] not in PRODUCES:
        raise ValueError(f"produces must be one of {PRODUCES}, not {changes['produces']!r}")
    setattr(function, _SCIENCE, replace(science_of(function), **changes))
    return function


def writes(output: Callable[[dict], Any], *, in_place: str | None = None) -> Callable[[Callable], Callable]:
    """Declare the folder a call writes, from its arguments, before it runs.

    "Simulate X, then compute the RMSD of the trajectory": the planner gives the later step this folder.
    ``in_place`` names the argument whose folder the call adds to on purpose (extending a run writes into
    the run it extends), so that writing there is not flagged as overwriting its input."""
    return lambda function: declare(function, output=output, in_place=in_place)


def costs(
    estimate: Estimator | float,
    *,
    basis: str = "typical for this tool, not measured",
    after_run: Callable[[Any], None] | None = None,
) -> Callable[[Callable], Callable]:
    """Declare the expected cost: a cost model ``estimate(arguments, *, measure) -> Cost``, or a typical
    number of seconds; ``after_run(result)`` sees each result a research step produced (to learn from it)."""
    if isinstance(estimate, (int, float)):
        estimate = typical_cost(estimate, basis)
    changes: dict = {"estimate": estimate}
    if after_run is not None:
        changes["after_run"] = after_run
    return lambda function: declare(function, **changes)


def checked_by(*checks: ResultCheck) -> Callable[[Callable], Callable]:
    """Declare the checks that apply to the tool's results, in the order the Check section shows them."""
    for check in checks:
        if not isinstance(check, ResultCheck):
            raise TypeError(f"{check!r} is not a result check: decorate it with @result_check(...)")
    return lambda function: declare(function, checks=science_of(function).checks + tuple(checks))


def when_routed(adjust: Callable[[dict], dict]) -> Callable[[Callable], Callable]:
    """Declare how arguments the embedded model filled are adjusted before the call is planned."""
    return lambda function: declare(function, routed=adjust)


def quoted_by(quote: Callable[[Any], list[str]]) -> Callable[[Callable], Callable]:
    """Declare how the Act section quotes a result (Markdown lines), instead of the result's summary."""
    return lambda function: declare(function, quote=quote)


def computes(*concepts: str) -> Callable[[Callable], Callable]:
    """Declare the scientific concepts a tool computes or carries out, in the words scientists use for them
    (the quantity, its synonyms, what it shows): ``@computes("radius of gyration", "compactness")``.
    Written from the science, not from any one request; the router matches inflections and spellings."""
    if not concepts or not all(isinstance(c, str) and c.strip() for c in concepts):
        raise ValueError("@computes takes one or more non-empty phrases, e.g. @computes('radius of gyration')")
    return lambda function: declare(function, concepts=science_of(function).concepts + tuple(concepts))


# -- tools by name -----------------------------------------------------------------------------------
# Every @tool function, by the name the agent knows it by, as it is defined: a Check cell in an
# exported report names its steps ("md_run", "analysis_rmsd_2") and finds their declarations here.
_DECLARED: dict[str, Callable] = {}


def tool_name(function: Callable, name: str | None = None) -> str:
    """The name the agent knows a tool by: ``<module>_<function>`` (``md_run``), a notebook
    function's own name, or the name its ``@tool(name=...)`` gave."""
    if name:
        return name
    module = getattr(function, "__module__", None) or "__main__"  # None: code run by exec() without a module
    if module == "__main__":
        return function.__name__
    return f"{module.rsplit('.', 1)[-1]}_{function.__name__}"


def remember(function: Callable, name: str) -> None:
    _DECLARED[name] = function


def declared_tool(name: str) -> Callable | None:
    """The tool function named ``name`` among those defined so far in this process, or None."""
    return _DECLARED.get(name)


def tool_of_step(step: str) -> str:
    """A step's tool: ``analysis_rmsd_2`` (the second call in a plan) -> ``analysis_rmsd``."""
    if step in _DECLARED:
        return step
    base = step.rsplit("_", 1)
    return base[0] if len(base) == 2 and base[1].isdigit() else step


def folder_written_by(tool, arguments: dict) -> str | None:
    """The folder a registered tool's call writes, when known before it runs (None for no tool)."""
    return None if tool is None else tool.science.output_folder(arguments)


__all__ = [
    "DEFAULT_COST",
    "PRODUCES",
    "Cost",
    "Estimator",
    "Produces",
    "ResultCheck",
    "Science",
    "Verdict",
    "checked_by",
    "computes",
    "costs",
    "declare",
    "declared_tool",
    "folder_written_by",
    "format_seconds",
    "quoted_by",
    "result_check",
    "science_of",
    "tool_name",
    "tool_of_step",
    "typical_cost",
    "when_routed",
    "writes",
]
