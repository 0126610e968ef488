"""``%lit``: the literature tools from a notebook line.

``%lit QUESTION`` answers with citations (with the kernel's kenkyu provider; ``%lit --no-llm QUESTION``
lists the passages only), ``%lit search QUERY``, ``%lit ingest PATH...``, ``%lit status``.
Options: ``--index DIR``, ``-k N``, ``--mode hybrid|dense|bm25``, ``--year 2019-2022``, ``--author NAME``,
``--tag TAG``. Only IPython is imported at load time.
"""

from __future__ import annotations

import argparse
import shlex

from IPython.core.magic import Magics, line_magic, magics_class, no_var_expand

USAGE = """\
%lit QUESTION                   answer from your papers, citing passages [n]
%lit search QUERY               ranked passages with citations
%lit ingest PATH [PATH ...]     index PDFs, notes, BibTeX, notebooks (only changes are embedded)
%lit status                     what the index holds
options: --index DIR  -k N  --mode hybrid|dense|bm25  --year 2021|2019-2022  --author NAME  --tag TAG  --no-llm"""


@magics_class
class LiteratureMagics(Magics):
    @no_var_expand
    @line_magic
    def lit(self, line: str):
        """Ask your own papers. ``%lit help`` lists the forms."""
        from kenkyu.tools import literature

        try:
            words = shlex.split(line)
        except ValueError as exc:
            print(f"%lit: {exc}\n{USAGE}")
            return None
        if not words or words[0] in ("help", "-h", "--help"):
            print(USAGE)
            return None
        command = words[0] if words[0] in ("ingest", "search", "status", "ask") else "ask"
        rest = words[1:] if words[0] == command else words
        try:
            args = _parser(command).parse_args(rest)
        except (argparse.ArgumentError, SystemExit) as exc:
            print(f"%lit {command}: {exc if isinstance(exc, argparse.ArgumentError) else 'bad arguments'}\n{USAGE}")
            return None
        index = args.index or literature.default_index()
        try:
            if command == "ingest":
                return literature.ingest(args.paths, index)
            if command == "status":
                return literature.status(index)
            query = " ".join(args.text)
            filters = _filters(args)
            if command == "search":
                return literature.search(query, index, k=args.k, mode=args.mode, filters=filters)
            llm = False if args.no_llm else self._session_provider()
            return literature.ask(query, index, k=args.k, mode=args.mode, filters=filters, llm=llm)
        except ValueError as exc:  # LiteratureError is one; so is a malformed --year
            print(f"%lit: {exc}")
            return None

    def _session_provider(self):
        """The kernel's kenkyu assistant's provider (the one %kenkyu provider chose); none if unset."""
        from kenkyu.assistant.session import get_session

        session = get_session(self.shell)
        if session.settings.provider.provider == "none":
            return False
        return session.provider


def _parser(command: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"%lit {command}", exit_on_error=False, add_help=False)
    parser.add_argument("--index")
    if command == "ingest":
        parser.add_argument("paths", nargs="+")
    elif command in ("ask", "search"):
        parser.add_argument("text", nargs="+")
        parser.add_argument("-k", type=int, default=5)
        parser.add_argument("--mode", choices=("hybrid", "dense", "bm25"), default="hybrid")
        parser.add_argument("--year")
        parser.add_argument("--author", action="append")
        parser.add_argument("--tag", action="append")
        parser.add_argument("--no-llm", action="store_true")
    return parser


def _filters(args) -> dict | None:
    filters = {}
    if args.year:
        low, sep, high = args.year.partition("-")
        filters["year"] = (int(low), int(high)) if sep else int(low)
    if args.author:
        filters["author"] = args.author
    if args.tag:
        filters["tag"] = args.tag
    return filters or None
