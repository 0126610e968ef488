"""Route a benchmark set's requests without running a model or a tool: seconds instead of half an hour.

For each task: its fixtures are copied into a fresh folder, its setup cells run in this process (a cell
that raises leaves its error as the kernel's last error), the notebook is gathered as the agent gathers it,
and the embedded provider routes the request step after step; a stand-in for SmolLM2 answers each step's
narrowed schema with the first value it allows, and every call "succeeds" without running. What it shows
is the router's and the resolver's part only (tool, inputs found, numbers bound, steps, missing inputs):
the embedded run (run.py) is still the measurement.

    python benchmarks/agent/dry_route.py --set everyday_dev [--tasks a,b] [--cache DIR]
"""

from __future__ import annotations

import argparse
import json
import linecache
import os
import shutil
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Sequence

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks.agent.fixtures import Fixtures  # noqa: E402
from benchmarks.agent.harness import load_tasks, set_file  # noqa: E402


class FirstChoice:
    """Stands in for llama.cpp: the first tool of the grammar and the first allowed value of every slot."""

    def create_chat_completion(self, messages, response_format, **kwargs):
        grammar = response_format["schema"]
        grammar = grammar["oneOf"][0] if "oneOf" in grammar else grammar
        slots = grammar["properties"]["arguments"]["properties"]
        arguments = {k: p["enum"][0] if "enum" in p else f"<{p.get('type', 'any')}>" for k, p in slots.items()}
        reply = {"tool": grammar["properties"]["tool"]["const"], "arguments": arguments}
        return {"choices": [{"message": {"content": json.dumps(reply)}}], "usage": {}}


def route(task, tools, provider, fixtures: Fixtures, max_turns: int = 6, then: Sequence[str] = ()) -> list[str]:
    """The lines that show how one task's request is routed (and ``then``'s follow-ups, asked after it in the
    same conversation, as a kernel's later %%ask cells are)."""
    from kenkyu.assistant.overview import is_capability_question, methods_lacking
    from kenkyu.assistant.resolver import gather
    from kenkyu.core.routing import unserved
    from kenkyu.core.messages import Message

    folder = Path(tempfile.mkdtemp(prefix=f"dry_{task.id}_"))
    home = os.getcwd()
    lines = [f"== {task.id} [{task.kind}] {task.prompt!r}"]
    try:
        fixtures.prepare(task.setup, folder)
        os.chdir(folder)
        namespace: dict = {}
        sys.last_value = None
        for number, cell in enumerate(task.setup_cells):
            # (its source kept where a kernel keeps a cell's, so the last error shows its failing line, as in IPython)
            name = f"<cell-{task.id}-{number}>"
            linecache.cache[name] = (len(cell["source"]), None, cell["source"].splitlines(True), name)
            try:
                exec(compile(cell["source"], name, "exec"), namespace)
            except Exception as exc:  # the task's failed cell: the kernel's last error
                sys.last_value, sys.last_traceback = exc, exc.__traceback__
        if not unserved(task.prompt, tools) and methods_lacking(task.prompt, tools):  # as the agent does
            return lines + [f"   capability overview, lacking {methods_lacking(task.prompt, tools)} (no call)"]
        if is_capability_question(task.prompt):
            return lines + ["   capability overview (no call)"]
        provider.use_notebook(gather(namespace))
        messages: list = []
        for number, prompt in enumerate([task.prompt, *then]):
            if number:
                lines.append(f"-- then {prompt!r}")
            messages.append(Message("user", prompt))
            lines += _turns(provider, tools, messages, max_turns)
        return lines
    finally:
        os.chdir(home)
        shutil.rmtree(folder, ignore_errors=True)


def _turns(provider, tools, messages: list, max_turns: int) -> list[str]:
    from kenkyu.core.messages import Message
    from kenkyu.core.providers.base import TextDelta, ToolCallDone

    lines = []
    if os.environ.get("DRY_SHOW_FOLLOWUP"):
        from kenkyu.core.followup import standalone
        from kenkyu.core.routing import names_a_tool

        keywords = [(*t.keywords, t.name) for t in tools]
        shown = standalone(messages, len(messages) - 1, tools, provider.candidates, lambda x: names_a_tool(x, keywords))
        lines.append(f"   (follow-up: {shown.request if shown else None!r})")
    for _ in range(max_turns):
        chunks = list(provider.stream(messages, tools))
        calls = [c.call for c in chunks if isinstance(c, ToolCallDone)]
        text = "".join(c.text for c in chunks if isinstance(c, TextDelta))
        messages.append(Message("assistant", text, calls))
        if not calls:
            return lines + ["   reply: " + text.strip().replace("\n", " | ")[:300]]
        for call in calls:
            lines.append(f"   CALL {call.name} {json.dumps(call.arguments, default=str)[:200]}")
            messages.append(Message("tool", "done", tool_call_id=call.id, name=call.name))
    return lines + ["   (stopped after the turn limit)"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", dest="task_set", default="everyday_dev", help="task set (run.py's names)")
    parser.add_argument("--tasks", help="comma-separated task ids (default: all)")
    parser.add_argument(
        "--prompt", action="append", help="route this wording instead, on each chosen task's setup (repeatable)"
    )
    parser.add_argument(
        "--then", action="append", default=[], help="a follow-up asked after it in the same conversation (repeatable)"
    )
    parser.add_argument("--cache", type=Path, default=REPO_ROOT / "test-artifacts" / "agent-benchmark" / "_shared")
    args = parser.parse_args(argv)

    from kenkyu.assistant import AGENT_TOOL_MODULES
    from kenkyu.core.config import ProviderConfig
    from kenkyu.core.providers.local_llama import LocalLlamaProvider
    from kenkyu.core.registry import ToolRegistry
    from kenkyu.tools import TOOL_MODULES

    class DryProvider(LocalLlamaProvider):
        llama = FirstChoice()

    tools = list(ToolRegistry.from_modules([*TOOL_MODULES, *AGENT_TOOL_MODULES]))
    provider = DryProvider(ProviderConfig(provider="local"))
    tasks = load_tasks(set_file(args.task_set), args.tasks.split(",") if args.tasks else None)
    fixtures = Fixtures(args.cache)
    for task in tasks:
        # Wording of one's own on a task's notebook: does a mechanism carry beyond the set's sentences?
        for prompt in args.prompt or [task.prompt]:
            print("\n".join(route(replace(task, prompt=prompt), tools, provider, fixtures, then=args.then)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
