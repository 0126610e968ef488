"""The research loop: Plan, Do, Check, Act, written into the notebook as four sections.

Entry points (a stable API; the agent benchmark in ``benchmarks/agent/`` may call them):

``%%research`` (cell magic)
    The cell body is the request: a question (sentences ending in ``?``), an optional
    ``Hypothesis: ...`` sentence, and the steps ("Run ..., then compute ..."). ``{name}`` inserts a
    kernel variable, as in ``%%ask``. ``%research --next`` runs the next plan the last Act proposed.
``run_research(session, request, *, variables=None, approver=None, plan=None) -> Iterator[Event]``
    The loop as a generator of :mod:`kenkyu.assistant.events`; appends one record (``kind:
    "research"``, with ``plan``, ``check``, ``verdict`` and ``next_plan``) to ``session.records``.
``make_plan(request, registry, provider, *, measure_costs=True) -> Plan``
    Plan only (no tool runs); ``Plan.to_markdown()`` / ``Plan.to_dict()``.

Modules: this one (the loop, the Do and Check sections, the magic), :mod:`research_plan` (Plan),
:mod:`research_act` (Act), :mod:`checks` (the expectations and their checks), :mod:`costs` (a step's
expected cost), :mod:`protocols` (the research protocols: hypothesis, verdict and next-plan rules).

How each part is made, so that a 135M-parameter model can drive it honestly:

- **Plan**: the steps come from kenkyu's router (the request is split into steps; the embedded model
  fills each tool's arguments under a schema; a step that names no file uses the output of an
  earlier step: the run folder ``md.run`` will write). A stronger model proposes its own calls and
  hypothesis in one turn; for a question a protocol plans itself, it chooses the protocol and writes
  the hypothesis (:mod:`research_choice`). What each step's tool writes, costs (``md.run``: measured speeds) and is
  checked by, the tool declares beside itself (:mod:`kenkyu.core.science`); the hypothesis comes from
  the request, from a stronger model, or from the research protocol's template filled from the
  question (:mod:`kenkyu.assistant.protocols`; "does the fold hold" by default), and so do the
  protocol's own expectations and the support and refute criteria.
- **Approval**: tools marked ``approval="ask"`` (simulations) wait for the scientist, with the cost in
  the prompt, unless ``%kenkyu approval auto``.
- **Do**: each step is an action cell (the plain public call), run in the kernel.
- **Check**: one cell, ``kenkyu.assistant.checks.check_results({...})``: pass / warn / fail per
  expectation, with a figure; a report re-runs it to the same verdicts.
- **Act**: the verdict on the hypothesis, the tools' own summaries quoted verbatim, the literature
  answer with its [n] citations, revised hypotheses and a next plan (with its cost). A stronger model
  adds an interpretation; the embedded model does not write prose about numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import asdict

from kenkyu.assistant import events as ev
from kenkyu.assistant.approval_answer import NoAnswer
from kenkyu.assistant.costs import format_seconds
from kenkyu.assistant.interrupts import interrupted_summary, resume_code
from kenkyu.assistant.preflight import over_cap, preflight
from kenkyu.assistant.prompt_budget import estimate_tokens, over_budget
from kenkyu.assistant.runner import ToolInterrupted
from kenkyu.core.messages import Message
from kenkyu.assistant.research_act import _model_interpretation, act_markdown, judge, propose_next_plan
from kenkyu.assistant.research_plan import Plan, PlanStep, make_plan, split_request

SECTIONS = ("plan", "do", "check", "act")


ResearchApprover = Callable[[PlanStep, Plan], bool]


def decline_all(step, plan) -> bool:
    return False


def section_cell(section: str, text: str) -> ev.CellAdded:
    return ev.CellAdded("markdown", text, {"kenkyu": {"agent": True, "role": "narrative", "section": section}})


def run_research(
    session,
    request: str,
    *,
    variables: dict | None = None,
    approver: ResearchApprover | None = None,
    plan: Plan | None = None,
    measure_costs: bool = True,
    lifecycle=None,
    wait: bool = False,
) -> Iterator[ev.Event]:
    """Plan, Do, Check and Act on a request in the session's kernel; yields events, records the cells.

    ``lifecycle`` is the :class:`~kenkyu.assistant.request.Request` a front end made for it (the
    sidebar's, so that its Stop and its notebook runner apply); by default one is made here. While
    another request runs this yields a ``busy`` error (``wait`` waits instead)."""
    import time

    if lifecycle is None:
        lifecycle = session.new_request(request, kind="research", origin="%%research", variables=variables)
    refused = lifecycle.open(wait)
    if refused:
        yield from refused
        return
    clock = time.monotonic()
    record = lifecycle.draft
    session.history.append(Message("user", request))
    outcome = {"reason": "error"}
    try:
        loop = _loop(session, request, approver or decline_all, plan, measure_costs, record, outcome)
        for event in lifecycle.follow(loop):
            yield event
            if lifecycle.stop_requested:
                loop.close()
                outcome["reason"] = "stopped"
                break
        done = ev.Done(outcome["reason"], outcome.get("steps", 0), 0, round(time.monotonic() - clock, 3))
        record["done"] = done.to_dict()
        yield done
    except KeyboardInterrupt:
        yield ev.Error("interrupted", where="user", fix="run the cell again to start over", recoverable=True)
        record["done"] = ev.Done("interrupted", 0, 0, round(time.monotonic() - clock, 3)).to_dict()
    finally:
        if session.history[-1].role == "user":
            session.history.append(Message("assistant", outcome.get("act", "(the research loop did not finish)")))
        lifecycle.end()


def _loop(session, request, approver, plan, measure_costs, record, outcome):
    # -- Plan ----------------------------------------------------------------------------------------
    budget = session.settings.max_tokens
    size = estimate_tokens([Message("user", request)])
    too_large = over_budget(size, 0, budget, prompt_tokens=size, history_tokens=0)
    if too_large:  # the planner and the Act section would each send it to the model: nothing is sent
        outcome["reason"] = "budget:tokens"
        yield ev.Error(too_large, where="budget", fix="shorten the question or raise the token budget")
        return
    try:
        provider = session.provider
        registry = session.registry_with_notebook_tools()
        record["model"] = provider.model_id
        if plan is None:
            plan = make_plan(request, registry, provider, measure_costs=measure_costs, taken=session._taken_names)
    except Exception as exc:
        fix = getattr(exc, "fix", "") or "check %kenkyu provider and the installed extras"
        yield ev.Error(f"planning failed: {type(exc).__name__}: {exc}", where="plan", fix=fix, recoverable=False)
        return
    record["plan"] = plan.to_dict()
    text = plan.to_markdown()
    yield ev.Token(text + "\n")
    yield section_cell("plan", text)
    if not any(s.tool for s in plan.steps):
        outcome["reason"] = "no plan"
        yield ev.Error(
            "no step of the request matched a tool",
            where="plan",
            fix="name one concrete step per sentence with its file or folder, e.g. "
            "'Run a 10 ps simulation of villin.pdb in implicit solvent, then compute the RMSD'",
        )
        return

    # -- approval ------------------------------------------------------------------------------------
    declined: dict[int, str] = {}
    auto = session.settings.approval == "auto"
    lines = []
    for i in plan.approval_steps:
        step = plan.steps[i]
        cost = "?" if math.isnan(step.cost_s) else format_seconds(step.cost_s)
        if auto:
            lines.append(f"- step {i + 1} `{step.tool}` (~{cost}): approved automatically (`%kenkyu approval auto`)")
            continue
        # The card shows what is approved: the estimate, every step the tool will run, and collisions.
        checked = preflight(registry[step.tool], step.arguments).as_fields()
        yield ev.ApprovalNeeded(f"research_{i}", step.tool, step.arguments, step.code, True, **checked)
        answer = approver(step, plan)
        if answer:
            lines.append(f"- step {i + 1} `{step.tool}` (~{cost}): approved by you")
        elif isinstance(answer, NoAnswer):  # the prompt timed out: nobody declined it
            declined[i] = answer.summary
            lines.append(f"- step {i + 1} `{step.tool}` (~{cost}): **not run**, {answer.summary}")
        else:
            declined[i] = "declined by you"
            lines.append(
                f"- step {i + 1} `{step.tool}` (~{cost}): **declined**; it and the steps that need it are skipped"
            )

    # -- Do ------------------------------------------------------------------------------------------
    do_text = "## Do\n\nEach step runs as an action cell: the plain call, re-runnable without kenkyu's agent."
    if lines:
        do_text += "\n\nApproval:\n" + "\n".join(lines)
    yield ev.Token(do_text + "\n")
    yield section_cell("do", do_text)
    results: dict[str, str] = {}  # step name -> variable
    failed: dict[str, str] = {}
    skipped: dict[str, str] = {}
    summaries: dict[str, str] = {}
    values: dict[str, object] = {}
    not_run: dict[int, str] = dict(declined)
    names: dict[int, str] = {}
    ran = 0
    cost_started = 0.0  # the estimated seconds of the steps started: the request's cost cap holds here too
    for i, step in enumerate(plan.steps):
        if step.tool is None:
            continue
        name = _unique(step.tool, names.values())
        names[i] = name
        cost = None if math.isnan(step.cost_s) else step.cost_s
        capped = i not in not_run and over_cap(step.tool, cost, cost_started, session.settings.max_request_cost_s)
        if capped:
            not_run[i] = capped.rstrip(".")
            yield ev.Error(capped, where="budget", fix="raise the cost cap or ask for a shorter run")
        blocked = [j for j in step.depends_on if j in not_run]
        if i in not_run or blocked:
            why = (
                not_run.get(i) or f"needs step {blocked[0] + 1} ({plan.steps[blocked[0]].tool}), which did not succeed"
            )
            not_run[i] = why
            skipped[name] = why
            yield section_note(f"*Step {i + 1} `{step.tool}` skipped: {why}.*")
            continue
        cost_started += cost or 0.0
        yield ev.ToolCallStarted(f"research_{i}", step.tool, step.arguments, step.code)
        from kenkyu.assistant.cells import cell_metadata

        metadata = cell_metadata(registry[step.tool], f"research_{i}", step.variable, record["model"])
        metadata["kenkyu"]["section"] = "do"
        try:
            execution = session.runner.run(step.code, metadata)
        except ToolInterrupted as stopped:  # the stop button, in place: what the cell did is kept
            execution = stopped.execution
        if execution.interrupted:
            yield ev.CellAdded("code", step.code, metadata, execution.outputs)
            resume = resume_code(registry[step.tool], step.arguments, step.variable)
            summary = interrupted_summary(execution, resume, budget=False)
            duration = round(execution.duration_s, 3)
            yield ev.ToolResult(
                f"research_{i}", step.tool, False, summary, duration, status="interrupted", resume=resume
            )
            raise KeyboardInterrupt  # the loop ends as Ctrl-C ends it, its record filed
        ran += 1
        yield ev.CellAdded("code", step.code, metadata, execution.outputs)
        summary = execution.summary()
        yield ev.ToolResult(f"research_{i}", step.tool, execution.ok, summary, round(execution.duration_s, 3))
        summaries[name] = summary
        if execution.ok:
            results[name] = step.variable
            values[name] = execution.value
            _after_run(registry[step.tool], execution.value)
        else:
            failed[name] = summary.removeprefix("ERROR: ").splitlines()[0]
            not_run[i] = "it failed"
    outcome["steps"] = ran

    # -- Check ---------------------------------------------------------------------------------------
    check_text = (
        "## Check\n\nThe results against the plan's expectations (thresholds in "
        "`kenkyu.assistant.checks`); the cell below re-computes them from the results above."
    )
    yield ev.Token(check_text + "\n")
    yield section_cell("check", check_text)
    from kenkyu.assistant.cells import fresh_variable

    variable = fresh_variable("check", session._taken_names())
    code = check_code(results, failed, skipped, variable, plan.protocol)
    yield ev.ToolCallStarted("research_check", "check", {}, code)
    metadata = {"kenkyu": {"agent": True, "section": "check", "variable": variable}}
    execution = session.runner.run(code, metadata)
    yield ev.CellAdded("code", code, metadata, execution.outputs)
    yield ev.ToolResult("research_check", "check", execution.ok, execution.summary(), round(execution.duration_s, 3))
    report = execution.value if execution.ok else None
    record["check"] = None if report is None else [asdict(c) for c in report.checks]

    # -- Act -----------------------------------------------------------------------------------------
    verdict, reasons = judge(plan, report, failed, skipped)
    record["verdict"] = verdict
    interpretation = ""
    if not hasattr(provider, "choose_call"):
        interpretation = yield from _model_interpretation(provider, plan, report, summaries, verdict)
    next_plan = propose_next_plan(plan, report, failed, registry, taken=session._taken_names)
    record["next_plan"] = None if next_plan is None else next_plan.to_dict()
    session.research_next_plan = next_plan
    act = act_markdown(plan, report, verdict, reasons, summaries, values, interpretation, next_plan, provider)
    outcome["act"] = act
    yield ev.Token(act + "\n")
    yield section_cell("act", act)
    outcome["reason"] = "finished"


def _after_run(tool, value) -> None:
    """The tool's after-run hook (``md.run`` refines its measured speed); it must not break the loop."""
    hook = tool.science.after_run
    if hook is None:
        return
    try:
        hook(value)
    except Exception as exc:
        import warnings

        warnings.warn(f"kenkyu: {tool.name}'s after-run hook failed: {type(exc).__name__}: {exc}", stacklevel=2)


def section_note(text: str) -> ev.CellAdded:
    return ev.CellAdded("markdown", text, {"kenkyu": {"agent": True, "role": "narrative"}})


def _unique(name: str, taken) -> str:
    taken = set(taken)
    if name not in taken:
        return name
    n = 2
    while f"{name}_{n}" in taken:
        n += 1
    return f"{name}_{n}"


def check_code(
    results: dict[str, str],
    failed: dict[str, str],
    skipped: dict[str, str],
    variable: str = "check",
    protocol: str | None = None,
) -> str:
    """The Check cell: the results by variable, the failures and skips as literals (a report keeps them).

    The default protocol is not named, so the cell reads as it did before protocols existed."""
    from kenkyu.assistant.cells import python_literal
    from kenkyu.assistant.protocols import DEFAULT_PROTOCOL

    entries = "".join(f"\n        {name!r}: {variable}," for name, variable in results.items())
    args = [f"{{{entries}\n    }}" if entries else "{}"]
    if failed:
        args.append(f"failed={python_literal(failed)}")
    if skipped:
        args.append(f"skipped={python_literal(skipped)}")
    if protocol and protocol != DEFAULT_PROTOCOL:
        args.append(f"protocol={protocol!r}")
    return (
        "import kenkyu.assistant.checks\n\n"
        f"{variable} = kenkyu.assistant.checks.check_results(\n    {(',' + chr(10) + '    ').join(args)},\n)\n"
        f"{variable}"
    )


__all__ = [
    "SECTIONS",
    "Plan",
    "PlanStep",
    "check_code",
    "judge",
    "make_plan",
    "propose_next_plan",
    "run_research",
    "split_request",
]
