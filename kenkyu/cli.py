"""The ``kenkyu`` command: ``kenkyu demo``, ``kenkyu report NOTEBOOK``, ``kenkyu md run ...``.

Each subcommand module imports only argparse at the top, so ``kenkyu --help`` is instant.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from kenkyu._version import __version__
from kenkyu.core.config import PROVIDERS  # the one list of providers (a light module: --help stays fast)

# Modules that add their own subcommands through add_parser(subparsers); missing ones are skipped
# so a partial install still has a working CLI.
_PLUGIN_MODULES = ("kenkyu.tools.md.cli", "kenkyu.tools.structure.cli", "kenkyu.tools.literature.cli")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kenkyu", description="研究 kenkyu: a research assistant inside Jupyter")
    parser.add_argument("--version", action="version", version=f"kenkyu {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = sub.add_parser("demo", help="run the offline demo: a research loop on villin, and its report")
    demo.add_argument("--out", default="demo_out", help="folder for the demo notebook and report (default: demo_out)")
    demo.add_argument(
        "--provider", default="local", choices=PROVIDERS, help="LLM provider (default: the embedded offline model)"
    )
    demo.add_argument("--replay", help="replay file, with --provider replay")
    demo.set_defaults(handler=_run_demo)

    report = sub.add_parser("report", help="export a notebook as a clean, executable report (.ipynb + HTML)")
    report.add_argument("notebook")
    report.add_argument(
        "-o", "--output", help="report path (default: NAME_report/NAME.report.ipynb beside the notebook)"
    )
    report.add_argument("--no-execute", action="store_true", help="do not re-run the report in a fresh kernel")
    report.add_argument("--no-html", action="store_true", help="skip the HTML rendering")
    report.add_argument("--timeout", type=int, default=1800, help="seconds allowed per cell when re-running")
    report.add_argument("--overwrite", action="store_true", help="replace an earlier report in the default folder")
    report.set_defaults(handler=_run_report)

    mcp = sub.add_parser("mcp", help="serve kenkyu's tools over MCP (stdio or --http), each call a notebook cell")
    _add_mcp_arguments(mcp)
    mcp.set_defaults(handler=_run_mcp)

    for module_name in _PLUGIN_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        module.add_parser(sub)
    return parser


def _run_demo(args) -> int:
    from kenkyu.demo import run_demo

    try:
        run_demo(args.out, provider=args.provider, replay=args.replay)
    except FileExistsError as exc:
        print(f"kenkyu demo: {exc}", file=sys.stderr)
        return 1
    return 0


def _run_report(args) -> int:
    from kenkyu.assistant.export import ReportExecutionError, ReportExistsError, ReportInputError, export_report

    try:
        paths = export_report(
            args.notebook,
            args.output,
            execute=not args.no_execute,
            html=not args.no_html,
            timeout=args.timeout,
            overwrite=args.overwrite,
        )
    except (FileNotFoundError, ReportExecutionError, ReportExistsError, ReportInputError) as exc:
        print(f"kenkyu report: {exc}", file=sys.stderr)
        return 1
    print(paths)
    return 0


def _add_mcp_arguments(parser) -> None:
    # Here rather than in the server module: importing the SDK and the registry would slow down --help.
    parser.add_argument(
        "--notebook", default="kenkyu_mcp_session.ipynb", help="the session notebook (created if missing)"
    )
    parser.add_argument("--http", action="store_true", help="serve streamable HTTP instead of stdio")
    parser.add_argument("--host", default="127.0.0.1", help="with --http: the address to bind (default: loopback)")
    parser.add_argument("--port", type=int, default=8765, help="with --http: the port (default 8765)")
    parser.add_argument("--token", help="with --http: the bearer token clients must send (or $KENKYU_MCP_TOKEN)")
    parser.add_argument("--read-only", action="store_true", help="offer only tools that neither simulate nor write")


def _run_mcp(args) -> int:
    from kenkyu.assistant.mcp.server import run

    return run(args)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # Plugin subcommands set `func`, ours set `handler`.
    handler = getattr(args, "handler", None) or getattr(args, "func", None)
    if handler is None:
        parser.print_help()
        return 0
    return int(handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
