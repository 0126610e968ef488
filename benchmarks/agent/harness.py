"""Run benchmark tasks: each a notebook in a fresh real kernel and a fresh folder, then checked.

The notebook a task runs is what a scientist would write::

    %load_ext kenkyu
    %kenkyu provider <provider> ...
    %kenkyu approval auto
    <the task's own cells, if any: the notebook as the scientist left it, e.g. traj = md.load(...)>
    %%ask
    <the task's prompt>
    <probe cell: reads the ask record and computes the task's values in the kernel>

nbclient executes it (errors allowed, so a failing step is a result, not a crash); the executed
notebook is saved in the task's folder and the checks of ``checks.py`` read it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path

from benchmarks.agent.checks import TaskRun, check, check_aspect, value_label
from benchmarks.agent.fixtures import REPO_ROOT, Fixtures, FixtureUnavailable

HERE = Path(__file__).resolve().parent
TASKS_FILE = HERE / "tasks.toml"
# The task sets: core (the project's own phrasing; the default), and two sets in a scientist's everyday
# phrasing: everyday_dev (for tuning the router and prompts) and everyday_heldout (never tuned on);
# everyday_heldout2 was written before tuning round 2, once the first held-out set's failures had been seen,
# everyday_heldout3 before tuning round 3, once the second's had, everyday_heldout4 before tuning round 4,
# once the third's had, everyday_heldout5 before tuning round 5, once the fourth's had, everyday_heldout6
# before tuning round 7, once the fifth's had, everyday_heldout7 before tuning round 8, once the sixth's had,
# everyday_heldout8 before tuning round 9, once the seventh's had, everyday_heldout9 before tuning round 10, once
# the eighth's had, everyday_heldout10 before tuning round 11, once the ninth's had, everyday_heldout11 before
# tuning round 12, once the tenth's had, everyday_heldout12 at the end of round 12, before tuning round 13 (which
# tunes on held-out 11), everyday_heldout13 before tuning round 14, everyday_heldout14 before tuning round 15,
# everyday_heldout15 before tuning round 16, everyday_heldout16 before tuning round 17, everyday_heldout17 before
# tuning round 18, everyday_heldout18 before tuning round 19, and everyday_heldout19 before tuning round 20.
SETS = {
    "core": TASKS_FILE,
    "everyday_dev": HERE / "everyday_dev.toml",
    "everyday_heldout": HERE / "everyday_heldout.toml",
    "everyday_heldout2": HERE / "everyday_heldout2.toml",
    "everyday_heldout3": HERE / "everyday_heldout3.toml",
    "everyday_heldout4": HERE / "everyday_heldout4.toml",
    "everyday_heldout5": HERE / "everyday_heldout5.toml",
    "everyday_heldout6": HERE / "everyday_heldout6.toml",
    "everyday_heldout7": HERE / "everyday_heldout7.toml",
    "everyday_heldout8": HERE / "everyday_heldout8.toml",
    "everyday_heldout9": HERE / "everyday_heldout9.toml",
    "everyday_heldout10": HERE / "everyday_heldout10.toml",
    "everyday_heldout11": HERE / "everyday_heldout11.toml",
    "everyday_heldout12": HERE / "everyday_heldout12.toml",
    "everyday_heldout13": HERE / "everyday_heldout13.toml",
    "everyday_heldout14": HERE / "everyday_heldout14.toml",
    "everyday_heldout15": HERE / "everyday_heldout15.toml",
    "everyday_heldout16": HERE / "everyday_heldout16.toml",
    "everyday_heldout17": HERE / "everyday_heldout17.toml",
    "everyday_heldout18": HERE / "everyday_heldout18.toml",
    "everyday_heldout19": HERE / "everyday_heldout19.toml",
}
REPLAY_DIR = HERE / "replay"
RECORD_MIME = "application/vnd.kenkyu.record+json"
PROBE_MARK = "KENKYU_BENCH_PROBE "
FOLDER_MARK = ".kenkyu-agent-benchmark"


@dataclass(frozen=True)
class Task:
    id: str
    prompt: str
    expect: list[dict]
    setup: list[str] = field(default_factory=list)
    kind: str = "single"  # single | multi | value | error | missing (the input cannot be found) | question
    note: str = ""
    # Cells the scientist ran before the %%ask, in order: a string (must run cleanly) or a table
    # {source = "...", raises = "OSError"} for a cell that failed (its error must be the named one).
    cells: list = field(default_factory=list)
    seconds: float | None = None  # how long the scientist waits for this request (caps --timeout)
    no_replay: str = ""  # why no correct recorded call exists yet (a tool kenkyu lacks), if none does

    @property
    def value_specs(self) -> list[dict]:
        return _value_specs(self.expect)

    @property
    def setup_cells(self) -> list[dict]:
        return [{"source": c, "raises": None} if isinstance(c, str) else {"raises": None, **c} for c in self.cells]


def _value_specs(expectations: list[dict]) -> list[dict]:
    specs = []
    for e in expectations:
        if "value_in_range" in e:
            specs.append(e["value_in_range"])
        elif "any_of" in e:
            for alternative in e["any_of"]:
                specs += _value_specs(alternative)
    return specs


def set_file(name: str) -> Path:
    if name not in SETS:
        raise ValueError(f"no task set {name!r}; the sets are: {', '.join(SETS)}")
    return SETS[name]


def load_set(name: str = "core", only: list[str] | None = None) -> list[Task]:
    """The tasks of a named set (core, everyday_dev, everyday_heldout)."""
    return load_tasks(set_file(name), only)


def load_tasks(path: Path = TASKS_FILE, only: list[str] | None = None) -> list[Task]:
    data = tomllib.loads(Path(path).read_text())
    defaults = data.get("defaults", {})  # e.g. [defaults] seconds = 150, for every task that does not say
    unknown = set(defaults) - {"seconds", "setup", "kind"}
    if unknown:
        raise ValueError(f"{path}: [defaults] may set seconds, setup or kind, not {sorted(unknown)}")
    tasks = [Task(**{**defaults, **entry}) for entry in data["task"]]
    for task in tasks:
        for cell in task.setup_cells:
            if not isinstance(cell.get("source"), str) or set(cell) - {"source", "raises"}:
                raise ValueError(f"task {task.id}: a cell is a string or {{source = ..., raises = ...}}, got {cell!r}")
    ids = [t.id for t in tasks]
    if len(set(ids)) != len(ids):
        raise ValueError(f"task ids repeat in {path}: {sorted({i for i in ids if ids.count(i) > 1})}")
    if only:
        unknown = sorted(set(only) - set(ids))
        if unknown:
            raise ValueError(f"no task named {unknown} in {path}; the tasks are: {', '.join(ids)}")
        tasks = [t for t in tasks if t.id in only]
    return tasks


@dataclass(frozen=True)
class ProviderChoice:
    """Which model answers: ``local`` (embedded), ``openai``, ``anthropic`` or ``replay``."""

    provider: str = "local"
    model: str | None = None
    base_url: str | None = None
    api_key_env: str | None = None
    replay_dir: Path = REPLAY_DIR

    def magic(self, task: Task) -> str:
        if self.provider == "replay":
            replay = Path(self.replay_dir) / f"{task.id}.json"
            if not replay.exists():
                raise FileNotFoundError(
                    f"no replay for task {task.id}: {replay} is missing; "
                    f"write one (see {REPLAY_DIR}) or pass --replay-dir"
                )
            return f"%kenkyu provider replay {replay.resolve()}"
        line = f"%kenkyu provider {self.provider}"
        flags = (("--model", self.model), ("--base-url", self.base_url), ("--api-key-env", self.api_key_env))
        for flag, value in flags:
            if value:
                line += f" {flag} {value}"
        return line

    def describe(self) -> str:
        from kenkyu.core.config import DEFAULT_MODELS

        if self.provider == "replay":
            return f"replay ({self.replay_dir})"
        model = self.model or DEFAULT_MODELS.get(self.provider)
        return " ".join(str(p) for p in (self.provider, model, self.base_url) if p)


@dataclass
class TaskResult:
    id: str
    kind: str
    status: str  # PASS | FAIL | SKIP
    checks: list[dict]
    seconds: float
    notebook: str | None = None
    reason: str = ""  # the first failed check, or why it was skipped
    call_ok: bool | None = None  # the call checks held (right tool and arguments, or rightly none)
    outcome_ok: bool | None = None  # the outcome checks held (value, file, reply) and the request ran
    tool_calls: list[str] = field(default_factory=list)  # every tool the model called, executed or not

    def to_dict(self) -> dict:
        return asdict(self)


# Runs in the task's kernel after %%ask: which tools ran into which variables, and the task's values.
PROBE = """\
import json as _bench_json
def _bench_probe(specs):
    session = getattr(get_ipython(), "_kenkyu_session", None)
    record = session.records[-1] if session is not None and session.records else None
    variables = {}
    for cell in (record or {}).get("cells", []):
        meta = cell.get("metadata", {}).get("kenkyu", {})
        if meta.get("tool") and not any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            variables[meta["tool"]] = meta.get("variable")  # the last successful call of each tool
    values = {}
    for label, tool, expr in specs:
        scope = dict(globals())
        if tool:
            if tool not in variables or variables[tool] not in scope:
                values[label] = {"error": f"no result of {tool} in the kernel"}
                continue
            scope["result"] = scope[variables[tool]]
        try:
            values[label] = float(eval(expr, scope))
        except Exception as exc:
            values[label] = {"error": f"{type(exc).__name__}: {exc}"[:200]}
    print("%s" + _bench_json.dumps({"alive": True, "values": values}))
_bench_probe(%s)
del _bench_probe, _bench_json
"""


def probe_source(task: Task) -> str:
    # a spec without a tool reads the kernel as a whole; "" (not None: JSON null is no Python name)
    specs = [(value_label(s), s.get("tool") or "", s["expr"]) for s in task.value_specs]
    return PROBE % (PROBE_MARK, json.dumps(specs))


def notebook_sources(task: Task, provider: ProviderChoice, seconds: float) -> list[str]:
    """The notebook: kenkyu loaded and configured, the scientist's own cells, the %%ask, the probe."""
    return [
        "%load_ext kenkyu",
        f"{provider.magic(task)}\n%kenkyu approval auto\n%kenkyu budget --seconds {int(seconds)}",
        *[c["source"] for c in task.setup_cells],
        f"%%ask\n{task.prompt.strip()}",
        probe_source(task),
    ]


def fresh_folder(folder: Path) -> Path:
    """The task's folder, emptied if an earlier benchmark run made it (and only then)."""
    if folder.exists() and any(folder.iterdir()):
        if not (folder / FOLDER_MARK).exists():
            raise FileExistsError(f"{folder} exists and was not made by the agent benchmark; choose another --out")
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / FOLDER_MARK).write_text("made by benchmarks/agent/run.py; the next run replaces this folder\n")
    return folder


def execute(sources: list[str], folder: Path, env: dict[str, str], timeout: float):
    """Run the cells in a fresh python3 kernel in ``folder``; returns the executed notebook."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from nbformat import v4

    nb = v4.new_notebook(cells=[v4.new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    client = NotebookClient(
        nb,
        timeout=int(timeout),
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(folder)}},
    )
    try:
        client.execute(env={**os.environ, **env})
    except (CellTimeoutError, DeadKernelError) as exc:
        # the kernel died or a cell timed out: the notebook so far is the result
        nb.metadata["kenkyu_benchmark_error"] = f"{type(exc).__name__}: {exc}"[:500]
    nbformat.write(nb, folder / "notebook.ipynb")
    return nb


def _text(outputs) -> str:
    parts = []
    for output in outputs:
        if output.get("output_type") == "stream":
            parts.append(output.get("text", ""))
        elif output.get("output_type") == "error":
            parts.append(f"{output.get('ename')}: {output.get('evalue')}")
        else:
            data = output.get("data", {})
            parts.append(data.get("text/markdown") or data.get("text/plain") or "")
    return "\n".join(parts)


def read_run(nb, folder: Path, before: frozenset[str] = frozenset()) -> TaskRun:
    """What the executed notebook shows, for the checks (the %%ask cell is the one before the probe)."""
    ask, probe = nb.cells[-2], nb.cells[-1]
    record = next((o["data"][RECORD_MIME] for o in ask.get("outputs", []) if RECORD_MIME in o.get("data", {})), None)
    raised = next(
        (f"{o['ename']}: {o['evalue']}" for o in ask.get("outputs", []) if o.get("output_type") == "error"), None
    )
    run = TaskRun(
        folder=folder, record=record, ask_text=_text(ask.get("outputs", [])), ask_raised=raised, before=before
    )
    for line in _text(probe.get("outputs", [])).splitlines():
        at = line.find(PROBE_MARK)
        if at >= 0:
            # A C library's own print (mdtraj's dcdplugin) may land on the same line, before the mark (a
            # right md_extend scored "no number" so) or after the JSON (raw_decode stops at its end).
            found = json.JSONDecoder().raw_decode(line[at + len(PROBE_MARK) :])[0]
            run.kernel_alive, run.values = found["alive"], found["values"]
    return run


def _first_error_line(text: str) -> str:
    lines = [re.sub(r"\*\*|`", "", line).strip() for line in text.splitlines() if "rror" in line]
    return (lines[0] if lines else "see the task's notebook")[:200]


def setup_failure(nb, task: Task | None = None) -> str | None:
    """Why kenkyu could not be loaded or configured in the task's kernel, or a cell of the task's own
    did not run as declared (a clean cell raised, or a failing cell did not raise its error)."""
    for cell in nb.cells[:2]:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                return f"setup cell failed: {output.get('ename')}: {output.get('evalue')}"[:300]
            if output.get("output_type") == "stream" and "UsageError" in output.get("text", ""):
                return f"setup cell failed: {output['text'].strip()}"[:300]
    declared_cells = task.setup_cells if task else []
    for index, (declared, cell) in enumerate(zip(declared_cells, nb.cells[2 : 2 + len(declared_cells)]), 1):
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if declared["raises"] is None and errors:
            return f"task cell {index} failed: {errors[0].get('ename')}: {errors[0].get('evalue')}"[:300]
        if declared["raises"] is not None and not any(o.get("ename") == declared["raises"] for o in errors):
            got = f"{errors[0].get('ename')}" if errors else "no error"
            return f"task cell {index} should raise {declared['raises']}, got {got}"[:300]
    return None


def _files(folder: Path) -> frozenset[str]:
    return frozenset(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def _aspect(run: TaskRun, task: Task, aspect: str, crashed: bool) -> bool | None:
    verdicts = [check_aspect(run, e, aspect) for e in task.expect]
    verdicts = [v for v in verdicts if v is not None]
    if not verdicts:
        return None
    return all(verdicts) and not (aspect == "outcome" and crashed)


def run_task(task: Task, provider: ProviderChoice, out: Path, fixtures: Fixtures, timeout: float = 600) -> TaskResult:
    started = time.perf_counter()
    folder = fresh_folder(Path(out) / task.id)
    try:
        env = fixtures.prepare(task.setup, folder)
    except FixtureUnavailable as exc:
        return TaskResult(task.id, task.kind, "SKIP", [], 0.0, reason=str(exc))
    # Tool modules the scientist added elsewhere, or a developer's own defaults, stay out of the benchmark.
    env.setdefault("KENKYU_TOOL_MODULES", "")
    timeout = min(timeout, task.seconds or timeout)
    before = _files(folder)
    nb = execute(notebook_sources(task, provider, timeout), folder, env, timeout)
    run = read_run(nb, folder, before)
    results = []
    for expectation in task.expect:
        ok, message = check(run, expectation)
        results.append({"expect": expectation, "ok": ok, "message": message})
    failed = [r for r in results if not r["ok"]]
    # A task whose request never ran cannot pass, however little it expects (e.g. "no tool called").
    crash = nb.metadata.get("kenkyu_benchmark_error") or setup_failure(nb, task)
    if crash is None and run.record is None:
        crash = "the %%ask cell left no record (the request did not run)"
    elif crash is None and (run.record.get("done") or {}).get("reason") == "error":
        crash = "the provider failed, so the model never answered: " + _first_error_line(run.ask_text)
    if crash:
        results.append({"expect": {"request_ran": True}, "ok": False, "message": crash})
    return TaskResult(
        task.id,
        task.kind,
        "FAIL" if failed or crash else "PASS",
        results,
        round(time.perf_counter() - started, 1),
        str(folder / "notebook.ipynb"),
        reason=crash or (failed[0]["message"] if failed else ""),
        call_ok=_aspect(run, task, "call", bool(crash)),
        outcome_ok=_aspect(run, task, "outcome", bool(crash)),
        tool_calls=[c["name"] for c in run.tool_calls] or [c["tool"] for c in run.tool_cells],
    )


def run_suite(
    tasks: list[Task],
    provider: ProviderChoice,
    out: Path,
    *,
    timeout: float = 600,
    cache: Path | None = None,
    progress: bool = True,
    set_name: str = "core",
    workers: int = 1,
) -> dict:
    """Run ``tasks`` and write results.json and results.txt into ``out``.

    ``workers`` tasks run at a time, each in its own kernel and folder, as they do one at a time: a task
    mostly waits for its kernel (starting it, importing kenkyu, running a cell), so on a 2-core machine two
    at a time take about half as long, with the same verdicts. The shared fixtures are built first, once,
    in this thread, so no two tasks build one together. The results keep the tasks' order.
    """
    from concurrent.futures import ThreadPoolExecutor, as_completed

    from tqdm import tqdm

    if workers < 1:
        raise ValueError(f"workers must be 1 or more, not {workers}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fixtures = Fixtures(cache or out / "_shared")
    started = time.perf_counter()
    if workers > 1:
        fixtures.build_shared({name for task in tasks for name in task.setup})
    bar = tqdm(total=len(tasks), desc="agent benchmark", unit="task", disable=not progress)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="agent-benchmark") as pool:
        running = {pool.submit(run_task, task, provider, out, fixtures, timeout): task for task in tasks}
        for done in as_completed(running):
            bar.set_postfix_str(running[done].id)
            bar.update()
        results = [future.result() for future in running]  # dicts keep insertion order: the tasks' order
    bar.close()
    ran = [r for r in results if r.status != "SKIP"]
    missing = [r for r in ran if r.kind == "missing"]
    summary = {
        "set": set_name,
        "provider": provider.describe(),
        "tasks": [r.to_dict() for r in results],
        "passed": sum(r.status == "PASS" for r in results),
        "failed": sum(r.status == "FAIL" for r in results),
        "skipped": sum(r.status == "SKIP" for r in results),
        # the two scores issue 13 asks for: right tool and arguments, and a useful outcome
        "call_ok": sum(bool(r.call_ok) for r in ran),
        "outcome_ok": sum(bool(r.outcome_ok) for r in ran),
        # requests whose input cannot be found: every call the model made there is an unrelated one
        "missing_input_tasks": len(missing),
        "missing_input_calls": sum(len(r.tool_calls) for r in missing),
        "seconds": round(time.perf_counter() - started, 1),
    }
    (out / "results.json").write_text(json.dumps(summary, indent=2, default=str))
    (out / "results.txt").write_text(format_table(summary))
    return summary


def format_table(summary: dict) -> str:
    """The per-task PASS/FAIL table with the first failed expectation, and the totals."""
    rows = summary["tasks"]
    width = max([len(r["id"]) for r in rows] + [4])
    set_name = summary.get("set", "core")
    mark = {True: "ok", False: "-", None: ""}
    lines = [
        f"agent benchmark [{set_name}] — {summary['provider']}",
        "",
        f"{'task':<{width}}  {'kind':<8}  {'result':<6}  {'call':<4}  {'outc':<4}  {'s':>6}  first failed expectation",
    ]
    for r in rows:
        lines.append(
            f"{r['id']:<{width}}  {r['kind']:<8}  {r['status']:<6}  {mark[r.get('call_ok')]:<4}  "
            f"{mark[r.get('outcome_ok')]:<4}  {r['seconds']:>6.1f}  {r['reason']}"
        )
    ran = summary["passed"] + summary["failed"]
    score = f"{summary['passed']}/{ran} passed ({summary['passed'] / ran:.0%})" if ran else "no task ran"
    skipped = f", {summary['skipped']} skipped" if summary["skipped"] else ""
    lines += ["", f"score: {score}{skipped}; {summary['seconds']:.0f} s in all"]
    if ran and "call_ok" in summary:
        call, outcome = summary["call_ok"], summary["outcome_ok"]
        lines.append(
            f"[{set_name}] right tool and arguments: {call}/{ran} ({call / ran:.0%}); "
            f"useful outcome: {outcome}/{ran} ({outcome / ran:.0%})"
        )
        if summary.get("missing_input_tasks"):
            lines.append(
                f"[{set_name}] tool calls on the {summary['missing_input_tasks']} requests whose input "
                f"cannot be found: {summary['missing_input_calls']} (each one unrelated; the goal is 0)"
            )
    return "\n".join(lines) + "\n"


__all__ = [
    "REPLAY_DIR",
    "REPO_ROOT",
    "SETS",
    "TASKS_FILE",
    "ProviderChoice",
    "Task",
    "TaskResult",
    "format_table",
    "load_set",
    "load_tasks",
    "run_suite",
    "run_task",
]
