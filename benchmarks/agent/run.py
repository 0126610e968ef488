"""Run kenkyu's agent benchmark against a model and print PASS/FAIL per task and the score.

    python benchmarks/agent/run.py                                  # the embedded offline model
    python benchmarks/agent/run.py --provider replay                # the recorded correct calls (mechanics)
    python benchmarks/agent/run.py --provider openai --model gpt-4o # OPENAI_API_KEY from the environment
    python benchmarks/agent/run.py --provider openai --model qwen2.5:7b --base-url http://localhost:11434/v1
    python benchmarks/agent/run.py --provider anthropic --model claude-sonnet-4-5
    python benchmarks/agent/run.py --tasks rg_villin,md_villin_short --out /tmp/bench
    python benchmarks/agent/run.py --provider replay --workers 2    # two tasks at a time, each in its own kernel
    python benchmarks/agent/run.py --set everyday_heldout          # everyday phrasing, never tuned on
    python benchmarks/agent/run.py --set everyday_dev              # everyday phrasing, for tuning
    python benchmarks/agent/run.py --set everyday_heldout2         # written before tuning round 2, never tuned on
    python benchmarks/agent/run.py --set everyday_heldout3         # written before tuning round 3, never tuned on
    python benchmarks/agent/run.py --set everyday_heldout4         # written before tuning round 4, never tuned on
    python benchmarks/agent/run.py --set everyday_heldout5         # written before tuning round 5, never tuned on
    python benchmarks/agent/run.py --set everyday_heldout6         # written before tuning round 7, never tuned on
    python benchmarks/agent/run.py --set everyday_heldout7         # written before tuning round 8, never tuned on
    python benchmarks/agent/run.py --set everyday_heldout19        # held-out 8-19 likewise; the newest never tuned on

Task sets (--set): ``core`` (tasks.toml, the default: prompts in the project's own style),
``everyday_dev``, ``everyday_heldout``, ``everyday_heldout2``, ``everyday_heldout3``, ``everyday_heldout4``,
``everyday_heldout5`` to ``everyday_heldout19`` (requests as a scientist types them in a
notebook; tune the router and prompts on everyday_dev only, and report the held-out sets beside it;
everyday_heldout2 was written before tuning round 2, after everyday_heldout's failures had been seen,
everyday_heldout3 before tuning round 3, after everyday_heldout2's, everyday_heldout4 before tuning round 4,
after everyday_heldout3's, everyday_heldout5 before tuning round 5, after everyday_heldout4's, everyday_heldout6
before tuning round 7, after everyday_heldout5's, and everyday_heldout7 before tuning round 8, after
everyday_heldout6's; everyday_heldout8 to everyday_heldout19 each at the start of the next round, before its
tuning, the last one tuned on being the set before). A held-out set's correct calls are kept outside the
repository; replay them with
``--provider replay --replay-dir FOLDER``.

Each task runs as a notebook in a fresh kernel and folder (``OUT/<task>/notebook.ipynb``); the results
go to ``OUT/results.json`` and ``OUT/results.txt``. The exit status is 0 whatever the score (a
benchmark measures; use --fail-under to gate on it).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:  # run as a script: make `benchmarks.agent` importable
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks.agent.harness import (  # noqa: E402 (after the sys.path line above)
    REPLAY_DIR,
    SETS,
    ProviderChoice,
    format_table,
    load_tasks,
    run_suite,
    set_file,
)
from kenkyu.core.config import PROVIDERS  # noqa: E402


def make_parser():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--provider",
        default="local",
        choices=[p for p in PROVIDERS if p != "none"],
        help="who answers the %%ask (default: the embedded model)",
    )
    parser.add_argument("--model", help="model name for the provider (e.g. gpt-4o)")
    parser.add_argument("--base-url", help="an OpenAI-compatible server, e.g. http://localhost:11434/v1")
    parser.add_argument("--api-key-env", help="name of the environment variable holding the key")
    parser.add_argument("--replay-dir", type=Path, default=REPLAY_DIR, help="replay files, one <task>.json each")
    parser.add_argument(
        "--set",
        dest="task_set",
        default="core",
        choices=list(SETS),
        help="which task set (default: core; everyday_dev is for tuning, the everyday_heldout sets never are)",
    )
    parser.add_argument("--tasks", help="comma-separated task ids (default: all)")
    parser.add_argument("--tasks-file", type=Path, help="a task file of your own instead of --set's")
    parser.add_argument(
        "--out",
        type=Path,
        help="results folder (default: test-artifacts/agent-benchmark/<provider> "
        "for core, test-artifacts/agent-benchmark/<set>/<provider> otherwise)",
    )
    parser.add_argument(
        "--cache",
        type=Path,
        help="where shared fixtures (the villin run...) are made once and reused across runs (default: OUT/_shared)",
    )
    parser.add_argument("--timeout", type=float, default=600, help="seconds per task (default 600)")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="tasks run at a time, each in its own kernel and folder (default 1; the replayed sets take about "
        "half as long with 2 on 2 cores; a model's timings and timeouts are measured one at a time)",
    )
    parser.add_argument("--fail-under", type=float, help="exit 1 if the pass rate (0-1) is below this")
    return parser


def main(argv=None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    try:
        tasks = load_tasks(args.tasks_file or set_file(args.task_set), args.tasks.split(",") if args.tasks else None)
    except (ValueError, OSError) as exc:
        parser.error(str(exc))  # exits 2 with the message, no traceback
    provider = ProviderChoice(args.provider, args.model, args.base_url, args.api_key_env, args.replay_dir)
    name = args.tasks_file.stem if args.tasks_file else args.task_set
    artifacts = REPO_ROOT / "test-artifacts" / "agent-benchmark"
    out = args.out or (artifacts / args.provider if name == "core" else artifacts / name / args.provider)
    if args.workers < 1:
        parser.error(f"--workers must be 1 or more, not {args.workers}")
    summary = run_suite(
        tasks, provider, out, timeout=args.timeout, cache=args.cache, set_name=name, workers=args.workers
    )
    print(format_table(summary))
    print(f"notebooks and results.json in {out}")
    ran = summary["passed"] + summary["failed"]
    if args.fail_under is not None and ran and summary["passed"] / ran < args.fail_under:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
