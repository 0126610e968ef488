"""``%%ask``, ``%ask`` and ``%kenkyu``.

Without the JupyterLab sidebar (plain IPython, nbclient, VS Code) the magic runs the tools in place,
shows each step in its output, records the action cells in the output (so the notebook file keeps
them and ``export_report`` can turn them into ordinary cells), and offers them for insertion with
``%kenkyu cells``.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex

from IPython.core.magic import Magics, line_cell_magic, line_magic, magics_class, no_var_expand

from kenkyu.assistant.approval_answer import NoAnswer
from kenkyu.assistant.session import RECORD_MIME, UnknownVariable, get_session, interpolate
from kenkyu.core.config import PROVIDER_KINDS, PROVIDERS


@magics_class
class KenkyuMagics(Magics):
    @no_var_expand
    @line_cell_magic
    def ask(self, line: str, cell: str | None = None):
        """Ask the research assistant. ``%ask question`` or ``%%ask`` with the question in the cell.

        ``{name}`` in the question is replaced by the kernel variable ``name``.
        """
        text = line if cell is None else (cell if not line.strip() else f"{line.strip()}\n{cell}")
        if not text.strip():
            print("Usage: %ask <question>   or   %%ask followed by the question in the cell body")
            return
        session = get_session(self.shell)
        try:
            prompt, variables = interpolate(text.strip(), session.namespace)
        except UnknownVariable as exc:
            print(f"kenkyu: {exc}")
            return
        _say_what_was_cut(prompt)
        self._run(session, prompt, variables)

    @no_var_expand
    @line_cell_magic
    def research(self, line: str, cell: str | None = None):
        """Plan, Do, Check, Act on a research question; ``%research --next`` runs the proposed next plan.

        See :mod:`kenkyu.assistant.research`.
        """
        from IPython.display import display
        from kenkyu.assistant.render import NotebookRenderer, rich_frontend
        from kenkyu.assistant.session import RECORD_MIME, UnknownVariable, get_session, interpolate

        session = get_session(self.shell)
        plan = None
        if line.strip() == "--next" and not (cell or "").strip():
            plan = getattr(session, "research_next_plan", None)
            if plan is None:
                print("No next plan yet: run a %%research cell first; its Act section proposes one.")
                return
            text, variables = f"(the next plan) {plan.question}", {}
        else:
            text = line if cell is None else (cell if not line.strip() else f"{line.strip()}\n{cell}")
            if not text.strip():
                print(
                    "Usage: %%research, then the question and the steps in the cell, e.g.\n"
                    "  Does {structure} stay folded? Run a 10 ps simulation of {structure} in implicit solvent, "
                    "then compute the RMSD of the trajectory"
                )
                return
            try:
                text, variables = interpolate(text.strip(), session.namespace)
            except UnknownVariable as exc:
                print(f"kenkyu: {exc}")
                return
            _say_what_was_cut(text)
        rich = rich_frontend(self.shell)
        renderer = NotebookRenderer(rich=rich)
        renderer.header(session.settings.provider.describe() + " · research loop")
        request = session.new_request(text, kind="research", origin="%%research", variables=variables)
        for event in request.research(approver=_stdin_approver(session.settings.approval_wait_s), plan=plan):
            renderer(event)
        if rich and request.record is not None:  # None: it never started (another request was running)
            display(
                {
                    RECORD_MIME: request.record,
                    "text/markdown": "<sub>kenkyu recorded the Plan, Do, Check and Act cells in this output; "
                    "`%kenkyu export` writes the report.</sub>",
                },
                raw=True,
            )

    def _run(self, session, prompt, variables):
        from IPython.display import display

        from kenkyu.assistant import events as ev
        from kenkyu.assistant.render import NotebookRenderer, cold_start_note, rich_frontend

        renderer = NotebookRenderer(rich=rich_frontend(self.shell))
        renderer.header(session.settings.provider.describe(), cold_start_note(session.settings.provider.provider))
        request = session.new_request(prompt, variables=variables, origin="%%ask")
        before = len(session.history)
        try:
            for event in request.ask(approver=self._approve):
                if isinstance(event, ev.ApprovalNeeded):  # shown in full above the question; its cost in it
                    self._pending_estimate = _short_estimate(event.estimate_s)
                    self._pending_warnings = list(event.warnings)
                renderer(event)
        finally:
            renderer.settle_header()  # no event came (the kernel was busy, a stop): no "loading…" left behind
        record = request.record
        if record is None:  # it never started: another request (the sidebar's) holds the kernel
            return
        from kenkyu.assistant.comm import announce_asked

        announce_asked(session, session.history[before:] if len(session.history) >= before else [], record)
        code_cells = sum(1 for c in record["cells"] if c["cell_type"] == "code")
        summary = recorded_note(code_cells)
        if rich_frontend(self.shell):
            display({RECORD_MIME: record, "text/markdown": summary}, raw=True)

    def _approve(self, call, tool, code) -> bool:
        """Ask on the kernel's stdin when the front end allows it; otherwise decline, saying how to allow.

        The prompt waits ``approval_wait_s`` (``%kenkyu approval ask --wait S``, default 300 s): a front end
        that shows no input box would otherwise hold the kernel forever. With no answer by then the request
        is cancelled (nothing was run for it, so nothing is left half-made) and the message says how to
        approve next time."""
        from IPython.core.error import StdinNotImplementedError

        session = get_session(self.shell)
        agent = session.agent
        if agent is not None and agent.stop_event.is_set():
            return False  # cancelled: an earlier prompt of this request got no answer; ask nothing more
        estimate = getattr(self, "_pending_estimate", "")
        cost = f" Expected {estimate}." if estimate else ""
        wait = session.settings.approval_wait_s
        # The warnings are repeated where the answer is typed: above the prompt they were read past, and a
        # newcomer approved a replica that "will be refused as it stands" (its folder existed) and got an error.
        warned = "".join(f" ⚠ {w}" for w in getattr(self, "_pending_warnings", []))
        prompt = f"Run {tool.name}? It {'writes files' if tool.writes_files else 'computes'}.{cost}{warned} [y/N] "
        try:
            answer = answer_within(prompt, wait)
        except (StdinNotImplementedError, EOFError, OSError):
            print(
                f"{tool.name} needs approval, and this front end cannot ask. "
                "Approve in the kenkyu sidebar, or allow tools with `%kenkyu approval auto`."
            )
            return False
        if answer is None:
            print(no_answer_message(tool.name, wait, "the request is cancelled"))
            if agent is not None:
                agent.stop()
            return NoAnswer(wait)  # falsy: not run; recorded as unanswered, not as declined
        return answer.strip().lower() in ("y", "yes")

    @no_var_expand
    @line_magic
    def kenkyu(self, line: str):
        """Configure and inspect the assistant. ``%kenkyu help`` lists the subcommands."""
        parser = _parser()
        try:
            args = parser.parse_args(shlex.split(line))
        except SystemExit:
            return
        except argparse.ArgumentError as exc:
            print(f"{exc}\n\n{parser.format_usage()}")
            return
        session = get_session(self.shell)
        command = args.command or "status"
        return getattr(self, f"_cmd_{command.replace('-', '_')}")(session, args)

    # -- %kenkyu subcommands ------------------------------------------------------------------------
    def _cmd_status(self, session, args):
        s = session.settings
        print(f"provider : {s.provider.describe()}")
        waits = f" (a prompt waits {s.approval_wait_s:g} s)" if s.approval == "ask" else ""
        print(f"approval : {s.approval}{waits}")
        print(f"budget   : {s.max_steps} steps, {s.max_tokens:,} tokens, {s.max_seconds:g} s")
        print(f"cost cap : {s.max_request_cost_s:g} s of estimated tool runs per request (even under approval auto)")
        print(f"history  : {len(session.history)} messages, {len(session.records)} asks")

    def _cmd_help(self, session, args):
        _parser().print_help()

    def _cmd_provider(self, session, args):
        changes = dict(
            provider=args.name,
            model=args.model,
            base_url=args.base_url,
            api_key_env=args.api_key_env,
            timeout_s=args.timeout,
        )
        if args.name == "replay":
            if not args.file:
                print("usage: %kenkyu provider replay FILE")
                return
            if not os.path.isfile(args.file):
                print(f"no replay file at {args.file}: check the path (record one with %kenkyu record FILE)")
                return
            changes["replay_file"] = os.path.abspath(args.file)
        try:
            session.configure_provider(**changes)
        except ValueError as exc:
            print(exc)
            return
        print(f"provider: {session.settings.provider.describe()}")

    def _cmd_approval(self, session, args):
        if args.wait is not None and not args.wait > 0:
            print(f"--wait must be a positive number of seconds, not {args.wait:g}")
            return
        session.configure(approval=args.mode, approval_wait_s=args.wait)
        wait = f" (a prompt waits {session.settings.approval_wait_s:g} s for an answer)" if args.mode == "ask" else ""
        print(f"approval: {args.mode}{wait}")

    def _cmd_budget(self, session, args):
        given = {"steps": args.steps, "tokens": args.tokens, "seconds": args.seconds, "cost-seconds": args.cost_seconds}
        bad = [f"--{k} {v}" for k, v in given.items() if v is not None and v <= 0]
        if bad:
            print(f"budgets must be positive: {', '.join(bad)}")
            return
        session.configure(
            max_steps=args.steps,
            max_tokens=args.tokens,
            max_seconds=args.seconds,
            max_request_cost_s=args.cost_seconds,
        )
        self._cmd_status(session, args)

    def _cmd_tools(self, session, args):
        from IPython.display import display

        if args.action == "add" and args.modules[:1] == ["mcp"]:
            from kenkyu.assistant.mcp.client import add_from_magic  # %kenkyu tools add mcp "COMMAND or URL"

            if not add_from_magic(session, args.modules[1:]):
                return
        elif args.action == "add":
            for module in args.modules:
                try:
                    session.add_tool_module(module)
                except ImportError as exc:
                    print(f"cannot add tools from {module!r}: {exc}")
                    return
        table = session.registry_with_notebook_tools().table()
        display({"text/markdown": table, "text/plain": table}, raw=True)

    def _cmd_history(self, session, args):
        if not session.history:
            print("(no conversation yet)")
        for m in session.history:
            if m.role == "tool":
                print(f"[tool {m.name}] {m.content[:300]}")
            elif m.role == "assistant" and m.tool_calls:
                calls = ", ".join(f"{c.name}({c.arguments})" for c in m.tool_calls)
                print(f"[assistant] {m.content.strip()[:300]} -> {calls}")
            else:
                print(f"[{m.role}] {m.content[:300]}")

    def _cmd_cells(self, session, args):
        if not session.records:
            print("Nothing to insert yet: ask something first.")
            return
        from kenkyu.assistant.export import record_as_code
        from kenkyu.core.text import shorten

        record = session.records[-1]
        self.shell.set_next_input(record_as_code(record), replace=False)
        calls = sum(1 for c in record["cells"] if c["cell_type"] == "code")
        # The inserted cell has not run. A newcomer left one there (a simulation they had stopped) and exported:
        # the report ran it, a 20 ps simulation nobody had asked the export for (r11).
        print(
            f"Inserted below, not run: {calls} step(s) of your last request ({shorten(record['prompt'], 80)!r}). "
            "Run it with Shift+Enter, or delete it before `%kenkyu export`: a report runs every code cell it holds."
        )

    def _cmd_export(self, session, args):
        from kenkyu.assistant.export import ReportExecutionError, ReportExistsError, ReportInputError, export_report

        notebook = args.notebook or os.environ.get("JPY_SESSION_NAME")
        if notebook and not os.path.exists(notebook):
            print(f"No notebook at {notebook}: save it first, or check the path.")
            return
        try:
            if notebook:
                result = export_report(
                    notebook, args.output, execute=not args.no_execute, html=not args.no_html, overwrite=args.overwrite
                )
            else:
                # A kernel that does not know its file (a console, a kernel driven by a script): the cells it
                # ran, as `%%ask export the report` does, instead of "Which notebook?" for the same session.
                from kenkyu.assistant.notebook_tools import export_report as export_this_kernel

                result = export_this_kernel(
                    None,
                    args.output,
                    execute=False if args.no_execute else None,
                    html=not args.no_html,
                    overwrite=args.overwrite,
                )
        except (ReportExecutionError, ReportExistsError, ReportInputError, FileNotFoundError) as exc:
            print(f"kenkyu export: {exc}")
            return
        print(result)

    def _cmd_reset(self, session, args):
        session.reset()
        print("conversation cleared")

    def _cmd_record(self, session, args):
        session.record_turns_to(os.path.abspath(args.file))
        print(f"recording model turns to {args.file} (a replay file)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="%kenkyu", exit_on_error=False, description="kenkyu assistant settings")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("status", help="show the provider, approval mode, budget and history size")
    sub.add_parser("help", help="this help")
    p = sub.add_parser(
        "provider",
        help="choose the LLM: "
        + " | ".join(f"{kind.name}{' FILE' if kind.name == 'replay' else ''}" for kind in PROVIDER_KINDS),
    )
    p.add_argument("name", choices=PROVIDERS, help="; ".join(f"{kind.name}: {kind.summary}" for kind in PROVIDER_KINDS))
    p.add_argument("file", nargs="?", help="the replay file (replay only)")
    p.add_argument("--model")
    p.add_argument("--base-url", dest="base_url", help="an OpenAI-compatible server, e.g. http://localhost:11434/v1")
    p.add_argument("--api-key-env", dest="api_key_env", help="name of the environment variable holding the key")
    p.add_argument("--timeout", type=float)
    p = sub.add_parser("approval", help="ask: tools that need approval wait for you; auto: run everything")
    p.add_argument("mode", choices=["ask", "auto"])
    p.add_argument(
        "--wait", type=float, help="seconds an approval prompt waits for an answer before the request is cancelled"
    )
    p = sub.add_parser("budget", help="limits per request")
    p.add_argument("--steps", type=int)
    p.add_argument("--tokens", type=int)
    p.add_argument("--seconds", type=float, help="wall time per request; a tool still running then is interrupted")
    p.add_argument(
        "--cost-seconds",
        dest="cost_seconds",
        type=float,
        help="cap on the estimated seconds of tool runs per request, checked before each call even under approval auto",
    )
    p = sub.add_parser("tools", help="list the tools the agent can call; 'tools add MODULE' adds your own")
    p.add_argument("action", nargs="?", choices=["list", "add"], default="list")
    p.add_argument("modules", nargs="*", help="modules whose @kenkyu.assistant.tool functions the agent may call")
    sub.add_parser("history", help="show the conversation")
    sub.add_parser("cells", help="insert the last answer's action cells below")
    p = sub.add_parser("export", help="write an executable report notebook (and HTML)")
    p.add_argument("notebook", nargs="?")
    p.add_argument("-o", "--output")
    p.add_argument("--no-execute", action="store_true")
    p.add_argument("--no-html", action="store_true")
    p.add_argument("--overwrite", action="store_true", help="replace an earlier report in the default folder")
    sub.add_parser("reset", help="forget the conversation")
    p = sub.add_parser("record", help="record the model's turns to a replay file")
    p.add_argument("file")
    return parser


CUT_NOTE = re.compile(r"\[\.\.\. [^\]]* cut; the first [\d,]+ characters shown\]")


def _say_what_was_cut(prompt: str) -> None:
    """Say it in the cell too, not only in the prompt the model reads."""
    for cut in CUT_NOTE.findall(prompt):
        print(f"kenkyu: a {{value}} in the request was too long for the model: {cut}")


_ASK_LINE = re.compile(r"^(\s*)%(ask|lit|research)\s+(.*?)\s*$")


def protect_questions(lines: list[str]) -> list[str]:
    """Let ``%ask ... ?`` (and ``%lit ... ?``) be a question.

    IPython reads a trailing ``?`` as a help request and would turn ``%ask what is x?`` into
    ``%pinfo x``; scientists end questions with question marks, so such lines become the magic
    call before IPython's help syntax sees them.
    """
    out = []
    for line in lines:
        match = _ASK_LINE.match(line)
        if match and match.group(3).endswith("?"):
            line = f"{match.group(1)}get_ipython().run_line_magic({match.group(2)!r}, {match.group(3)!r})\n"
        out.append(line)
    return out


def register(ipython) -> None:
    from kenkyu.assistant import cell_errors, cell_log
    from kenkyu.assistant.literature_magic import LiteratureMagics  # %lit; imports only IPython

    cell_errors.install(ipython)  # a report of this kernel's cells leaves out those that raised
    cell_log.install(ipython)  # explain_error names the cell and age of what it explains, shell failures too
    ipython.register_magics(KenkyuMagics)
    ipython.register_magics(LiteratureMagics)
    if protect_questions not in ipython.input_transformers_cleanup:
        ipython.input_transformers_cleanup.append(protect_questions)


def unregister(ipython) -> None:
    if protect_questions in ipython.input_transformers_cleanup:
        ipython.input_transformers_cleanup.remove(protect_questions)
    magics = ipython.magics_manager.registry.get("KenkyuMagics")
    if magics is not None:
        for kind in ("line", "cell"):
            for name in ("ask", "kenkyu", "research", "lit"):
                ipython.magics_manager.magics[kind].pop(name, None)


def recorded_note(code_cells: int) -> str:
    """The line under a %%ask cell's output: what it recorded and what to do with it."""
    if not code_cells:
        # "recorded 0 action cell(s) ... `%kenkyu cells` inserts them" sent a newcomer looking for cells.
        return "<sub>kenkyu ran no step for this request: nothing to insert as cells or to export.</sub>"
    return (
        f"<sub>kenkyu recorded {code_cells} action cell(s) in this output. "
        "`%kenkyu cells` inserts them as cells; `%kenkyu export` writes a report.</sub>"
    )


def _short_estimate(seconds: float | None) -> str:
    from kenkyu.core.science import format_seconds

    return "an unknown time (no measurement yet)" if seconds is None else f"~{format_seconds(seconds)}"


def _stdin_approver(wait_s: float):
    """Approve research steps on the kernel's stdin (the notebook's input box); decline where none exists.

    Each prompt waits ``wait_s``; once one gets no answer, the plan's remaining approvals are declined
    without asking (the steps that need them are skipped, as a decline skips them)."""
    import math

    from IPython.core.error import StdinNotImplementedError
    from kenkyu.core.science import format_seconds

    unanswered = []

    def approve(step, plan) -> bool:
        if unanswered:
            return NoAnswer(wait_s)  # the request was left unattended: not run, and not declined either
        cost = "unknown" if math.isnan(step.cost_s) else f"~{format_seconds(step.cost_s)} ({step.cost_basis})"
        try:
            answer = answer_within(
                f"Run step {plan.steps.index(step) + 1}, {step.tool}? Expected cost {cost}. [y/N] ", wait_s
            )
        except (StdinNotImplementedError, EOFError, OSError):
            print(f"{step.tool} needs approval and this front end cannot ask: allow it with `%kenkyu approval auto`.")
            return False
        if answer is None:
            unanswered.append(step.tool)
            print(no_answer_message(step.tool, wait_s, "it and every step still waiting for approval are skipped"))
            return NoAnswer(wait_s)
        return answer.strip().lower() in ("y", "yes")

    return approve


def answer_within(prompt: str, seconds: float) -> str | None:
    """``input(prompt)``, or None when no answer came within ``seconds``.

    The wait is ended the way the stop button ends it, by a KeyboardInterrupt in the main thread (the
    request's time budget interrupts a tool the same way), so it works in ipykernel, whose input() polls
    its stdin socket every 10 ms. (A terminal's input() blocks in C and sees it at the next key; a person
    is at a terminal anyway.) A stop pressed by the user still propagates as before. Off the main thread
    the interrupt could not reach the prompt, so there it waits as input() does."""
    import threading

    from kenkyu.assistant.interrupts import BudgetTimer

    timer = BudgetTimer(seconds, armed=threading.current_thread() is threading.main_thread())
    answer = None
    with timer:  # swallows its own interrupt; re-raises any other
        answer = input(prompt)
    return None if timer.fired and answer is None else answer


def no_answer_message(tool: str, seconds: float, outcome: str) -> str:
    # JupyterLab leaves the unanswered box under the cell (below this message), and echoes what is typed into it
    # later: a newcomer typed y there after the wait and believed the kernel had it. It also keeps its guard against
    # a second prompt: it refuses to run any other cell ("Cell not executed due to pending input") until that box is
    # answered or the kernel interrupted (a newcomer met that refusal next, round 11). kenkyu's JupyterLab extension
    # lifts the guard; a front end without it (another JupyterLab, VS Code) may not, and the stop button clears it.
    return (
        f"No answer to the approval prompt for {tool} within {seconds:g} s: {outcome}; nothing was run or written "
        "for it. The [y/N] box no longer asks: an answer typed there now is not read. If the notebook then refuses "
        'to run another cell ("pending input"), press its stop button (■, interrupt the kernel) once and run the '
        "cell again. To run it, ask again and answer the prompt, give it longer with "
        "`%kenkyu approval ask --wait 900`, or let tools run without asking with `%kenkyu approval auto`."
    )
