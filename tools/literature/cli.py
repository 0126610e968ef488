"""``kenkyu lit ingest PATH...``, ``kenkyu lit search QUERY``, ``kenkyu lit ask QUESTION``, ``kenkyu lit status``.

Only argparse is imported here; LlamaIndex and Chroma load when a command runs. ``kenkyu lit ask``
answers with the provider named by ``--provider`` (or ``$KENKYU_PROVIDER``); without one it prints the
ranked passages with their citations.
"""

import argparse
import os


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``lit`` command and its subcommands to an argparse subparsers object."""
    lit = subparsers.add_parser(
        "lit",
        help="ask your own papers and notes (literature index)",
        description="Index papers and notes; search them; answer questions with citations.",
    )
    commands = lit.add_subparsers(dest="lit_command", metavar="COMMAND")
    commands.required = True
    default_index = os.environ.get("KENKYU_LITERATURE_INDEX") or "literature_index"

    def common(p):
        p.add_argument(
            "--index", default=default_index, help=f"index folder or server collection (default {default_index})"
        )
        p.add_argument("--chroma-host", help="a Chroma server (chroma run) instead of the index folder")
        p.add_argument("--chroma-port", type=int, help="its port (default 8000)")

    ingest = commands.add_parser("ingest", help="add PDFs, notes, BibTeX and notebooks (only changes are embedded)")
    ingest.add_argument("paths", nargs="+", help="files and folders")
    ingest.add_argument("--embedding", help="minilm (default), hf:MODEL_OR_PATH, openai:MODEL, ollama:MODEL")
    ingest.add_argument("--skip-unreadable", action="store_true", help="list unreadable files instead of stopping")
    common(ingest)
    ingest.set_defaults(func=ingest_command)

    for name, helptext in (("search", "ranked passages with citations"), ("ask", "an answer citing passages [n]")):
        p = commands.add_parser(name, help=helptext)
        p.add_argument("text", help="the query" if name == "search" else "the question")
        p.add_argument("-k", type=int, default=5, help="passages to retrieve (default 5)")
        p.add_argument("--mode", choices=("hybrid", "dense", "bm25"), default="hybrid")
        p.add_argument("--year", help="a year (2021) or a range (2019-2022)")
        p.add_argument("--author", action="append", help="an author's surname (repeat for any of several)")
        p.add_argument("--tag", action="append", help="a tag or keyword (repeat for any of several)")
        if name == "ask":
            p.add_argument(
                "--provider",
                default=os.environ.get("KENKYU_PROVIDER"),
                help="local | openai | anthropic | replay (default $KENKYU_PROVIDER; none: passages only)",
            )
            p.add_argument("--model", help="the provider's model")
            p.add_argument("--base-url", help="an OpenAI-compatible server")
            p.add_argument("--replay", help="replay file, with --provider replay")
        common(p)
        p.set_defaults(func=search_command if name == "search" else ask_command)

    st = commands.add_parser("status", help="what the index holds")
    common(st)
    st.set_defaults(func=status_command)
    return lit


def _store_args(args) -> dict:
    return {"chroma_host": args.chroma_host, "chroma_port": args.chroma_port}


def _filters(args) -> dict | None:
    filters = {}
    if args.year:
        low, sep, high = args.year.partition("-")
        try:
            filters["year"] = (int(low), int(high)) if sep else int(low)
        except ValueError:
            raise SystemExit(f"error: --year takes a year (2021) or a range (2019-2022), not {args.year!r}")
    if args.author:
        filters["author"] = args.author
    if args.tag:
        filters["tag"] = args.tag
    return filters or None


def _run(action) -> int:
    import sys

    from kenkyu.tools.literature import LiteratureError

    try:
        print(action().summary())
    except LiteratureError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def ingest_command(args) -> int:
    from kenkyu.tools import literature

    return _run(
        lambda: literature.ingest(
            args.paths,
            args.index,
            embedding=args.embedding,
            on_error="skip" if args.skip_unreadable else "raise",
            **_store_args(args),
        )
    )


def search_command(args) -> int:
    from kenkyu.tools import literature

    return _run(
        lambda: literature.search(
            args.text, args.index, k=args.k, mode=args.mode, filters=_filters(args), **_store_args(args)
        )
    )


def ask_command(args) -> int:
    from kenkyu.tools import literature

    def answer():
        return literature.ask(
            args.text,
            args.index,
            k=args.k,
            mode=args.mode,
            filters=_filters(args),
            llm=_provider(args),
            **_store_args(args),
        )

    return _run(answer)


def _provider(args):
    if not args.provider or args.provider == "none":
        return False
    from kenkyu.core.config import ProviderConfig
    from kenkyu.core.providers import ProviderError, make_provider
    from kenkyu.tools.literature import LiteratureError

    try:
        config = ProviderConfig(
            provider=args.provider,
            model=args.model,
            base_url=args.base_url,
            replay_file=os.path.abspath(args.replay) if args.replay else None,
        )
        return make_provider(config)
    except (ValueError, ProviderError) as exc:
        fix = getattr(exc, "fix", "")
        raise LiteratureError(f"{exc}{'; ' + fix if fix else ''}") from exc


def status_command(args) -> int:
    from kenkyu.tools import literature

    return _run(lambda: literature.status(args.index, **_store_args(args)))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="kenkyu")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
