"""Check: do the results meet the plan's expectations?

Plain Python on the tools' own result objects (an :class:`~kenkyu.tools.md.MDRun`, the analysis
tables, a literature answer), so the research loop's Check cell is an ordinary call that an exported
report re-runs to the same verdicts::

    check = kenkyu.assistant.checks.check_results({step_name: result, ...}, failed={...}, skipped={...})
    check            # a table of pass / warn / fail per expectation, with a figure

where a step is named by its tool's registry name (md_run; analysis_rmsd_2 for a second call).

Each step is checked by what its tool declares (:mod:`kenkyu.core.science`: ``@checked_by`` beside
the tool), then by what the research protocol adds for the question (:mod:`kenkyu.assistant.protocols`;
the stability protocol when none is named). The plan quotes the same expectations, so what was
promised in Plan is what is checked here. The thresholds live beside the checks that use them; the
ones a scientist asks about most are repeated below for reading.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from kenkyu.core.science import Science, declared_tool, science_of, tool_of_step

STATUSES = ("pass", "warn", "fail", "skip")


_THRESHOLDS_IN = ("kenkyu.assistant.protocols.stability", "kenkyu.tools.analysis", "kenkyu.tools.md.checks")


def __getattr__(name):
    # The thresholds as they were first published here (RMSD_FOLDED_NM, RG_PASS, PLATEAU_RISE, ...),
    # read from where they live now: beside the check of the tool or protocol that uses them.
    import importlib

    if name.isupper():
        for module in _THRESHOLDS_IN:
            value = getattr(importlib.import_module(module), name, None)
            if value is not None:
                return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def science_for_step(step: str) -> Science:
    """What the tool behind a step name (``analysis_rmsd_2``) declares; the defaults for an unknown one."""
    name = tool_of_step(step)
    function = declared_tool(name)
    if function is None:
        _import_kenkyu_tools()
        function = declared_tool(tool_of_step(step))
    return science_of(function)


def _import_kenkyu_tools() -> None:
    """A Check cell run by hand, before any tool module was imported: kenkyu's tools declare on import."""
    import importlib

    from kenkyu.assistant import AGENT_TOOL_MODULES
    from kenkyu.tools import TOOL_MODULES

    for module in (*TOOL_MODULES, *AGENT_TOOL_MODULES):
        try:
            importlib.import_module(module)
        except ImportError:
            continue  # an extra that is not installed: its steps have no checks here


def expectations_for(tool_name: str | None, protocol=None) -> list[str]:
    """What a step of this tool should show: the tool's own expectations, then the protocol's."""
    from kenkyu.assistant.protocols import get_protocol

    if not tool_name:
        return []
    own = science_for_step(tool_name).expectations
    return own + get_protocol(protocol).expectations(tool_of_step(tool_name))


@dataclass
class Check:
    step: str
    expectation: str
    status: str  # pass | warn | fail | skip
    detail: str

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"a check's status is one of {STATUSES}, not {self.status!r}")


@dataclass
class CheckReport:
    """The verdicts of one Check section; shows as a table (and figure) in a notebook."""

    checks: list[Check] = field(default_factory=list)
    figure: object = None

    def by_step(self, step: str) -> list[Check]:
        return [c for c in self.checks if c.step == step]

    def status_of(self, step: str) -> str:
        """The worst status among a step's checks ("skip" when it has none)."""
        found = {c.status for c in self.by_step(step)}
        for status in ("fail", "warn", "pass"):
            if status in found:
                return status
        return "skip"

    @property
    def counts(self) -> dict[str, int]:
        return {s: sum(c.status == s for c in self.checks) for s in STATUSES}

    def table(self):
        import pandas as pd

        columns = ["step", "expectation", "status", "detail"]
        return pd.DataFrame([asdict(c) for c in self.checks], columns=columns)

    def summary(self) -> str:
        counts = ", ".join(f"{n} {s}" for s, n in self.counts.items() if n)
        lines = [f"Check: {counts or 'nothing to check'}"]
        lines += [f"- [{c.status}] {c.step}: {c.expectation} — {c.detail}" for c in self.checks]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()

    def _repr_markdown_(self) -> str:
        marks = {"pass": "✅ pass", "warn": "⚠️ warn", "fail": "❌ fail", "skip": "⏭ skip"}
        rows = ["| step | expectation | result | detail |", "|---|---|---|---|"]
        rows += [f"| `{c.step}` | {c.expectation} | {marks[c.status]} | {c.detail} |" for c in self.checks]
        counts = ", ".join(f"{n} {s}" for s, n in self.counts.items() if n)
        return f"**Check:** {counts}\n\n" + "\n".join(rows)

    def _repr_html_(self) -> str:
        import html

        rows = "".join(
            f"<tr><td><code>{html.escape(c.step)}</code></td><td>{html.escape(c.expectation)}</td>"
            f"<td><b>{c.status}</b></td><td>{html.escape(c.detail)}</td></tr>"
            for c in self.checks
        )
        parts = [
            f"<p><b>{html.escape(self.summary().splitlines()[0])}</b></p>",
            f"<table><tr><th>step</th><th>expectation</th><th>result</th><th>detail</th></tr>{rows}</table>",
        ]
        if self.figure is not None:
            from kenkyu.tools._figures import figure_html

            parts.append(figure_html(self.figure))
        return "\n".join(parts)


def check_results(results: dict, failed: dict | None = None, skipped: dict | None = None, protocol=None) -> CheckReport:
    """Check each step's result against its expectations.

    Parameters
    ----------
    results
        Step name (the tool's registry name, e.g. md_run or analysis_rmsd) -> the object the step returned.
        A name may carry a suffix (analysis_rmsd_2) when a plan calls a tool twice.
    failed
        Step name -> the error a step raised; each becomes a failed check.
    skipped
        Step name -> why a step did not run (declined, or an earlier step it needs failed).
    protocol
        The research protocol whose checks and figure are added (its name, or the object); the
        default, ``"stability"``, when None.
    """
    from kenkyu.assistant.protocols import get_protocol

    protocol = get_protocol(protocol)
    report = CheckReport()
    for step, why in (failed or {}).items():
        expectation = expectations_for(step, protocol)
        first = expectation[0] if expectation else "the step runs"
        report.checks.append(Check(step, first, "fail", str(why)[:300]))
    for step, why in (skipped or {}).items():
        report.checks.append(Check(step, "the step runs", "skip", str(why)[:300]))
    for step, value in results.items():
        verdicts = science_for_step(step).check(value)
        verdicts += [v for check in protocol.checks_for(tool_of_step(step)) for v in check(value)]
        report.checks.extend(Check(step, e, s, d) for e, s, d in verdicts)
    report.figure = protocol.figure(results)
    return report
