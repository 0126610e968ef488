"""``kenkyu fold SEQUENCE_OR_FASTA --out DIR`` and ``kenkyu models`` on the command line.

The main CLI calls :func:`add_parser` with its subparsers. Only argparse is imported here: torch and
transformers load when a command runs, so ``kenkyu --help`` stays fast. The module also runs on its own:
``python -m kenkyu.tools.structure.cli fold MKTAYIAK --out predictions``.
"""

import argparse


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``fold`` and ``models`` commands to an argparse subparsers object; returns the fold parser."""
    fold = subparsers.add_parser(
        "fold",
        help="predict protein structures with ESMFold (offline weights)",
        description="Predict structures with ESMFold. Writes NAME.pdb (pLDDT in the B-factor column), NAME_pae.npy "
        "and NAME.json per sequence. Weights are looked up in --model (a folder), $KENKYU_MODELS and the Hugging "
        "Face cache; nothing is downloaded (see `kenkyu models`).",
    )
    fold.add_argument("sequences", metavar="SEQUENCE_OR_FASTA", help="a one-letter sequence or a FASTA file")
    fold.add_argument("--out", default="predictions", help="output folder (default: predictions)")
    fold.add_argument("--model", default=None, help="model id or local folder (default: facebook/esmfold_v1)")
    fold.add_argument("--num-recycles", type=int, default=None, help="trunk recycles (default: the model's own)")
    fold.add_argument(
        "--chunk-size",
        default="auto",
        help="trunk chunk size: auto (from free memory), none, or a number such as 64",
    )
    fold.add_argument("--device", default=None, help="cuda, cpu, ... (default: GPU when present)")
    fold.add_argument("--max-memory-gb", type=float, default=None, help="memory budget for the estimate")
    fold.add_argument("--no-progress", dest="progress", action="store_false", help="hide the progress bar")
    fold.set_defaults(func=fold_command)

    models = subparsers.add_parser(
        "models",
        help="list ESMFold / ESM-2 weights available offline",
        description="List the protein models this machine has ($KENKYU_MODELS, Hugging Face cache, torch hub "
        "cache) and how to fetch the defaults.",
    )
    models.set_defaults(func=models_command)
    return fold


def _chunk_size(text: str):
    if text.lower() == "auto":
        return "auto"
    if text.lower() in ("none", "off", "0"):
        return None
    return int(text)


def fold_command(args: argparse.Namespace) -> int:
    """Run ``kenkyu fold``; print one summary per prediction; return the exit status."""
    import sys

    from kenkyu.tools import structure

    try:
        result = structure.fold(
            args.sequences,
            out=args.out,
            model=args.model or structure.DEFAULT_FOLD_MODEL,
            num_recycles=args.num_recycles,
            chunk_size=_chunk_size(args.chunk_size),
            device=args.device,
            max_memory_gb=args.max_memory_gb,
            progress=args.progress,
        )
    except (structure.InvalidSequenceError, structure.ModelNotFoundError, structure.FoldMemoryError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(result.summary())
    return 0


def models_command(args: argparse.Namespace) -> int:
    """Run ``kenkyu models``: a table of the models found, and where the defaults would go."""
    from kenkyu.tools.structure import _models as found

    table = found.available_models()
    if table:
        width = max(len(row["model"]) for row in table)
        for row in table:
            extra = f"  contact head: {row['contact_head']}" if row["kind"] == "esm2" else ""
            print(f"{row['model']:<{width}}  {row['kind']:<7}  {row['source']:<17}  {row['path']}{extra}")
    else:
        print("No ESMFold or ESM-2 weights found on this machine.")
    root = found.kenkyu_models_dir()
    print(f"\nLooked in: $KENKYU_MODELS ({root or 'not set'}), the Hugging Face cache, {found.torch_hub_checkpoints()}")
    names = {row["model"] for row in table}
    if found.DEFAULT_FOLD_MODEL not in names:
        print(f"\nTo fold ({found.DEFAULT_FOLD_MODEL}): {found.fold_fetch_instructions(found.DEFAULT_FOLD_MODEL)}")
    if found.DEFAULT_ESM2_MODEL not in names:
        print(f"\nFor ESM-2 ({found.DEFAULT_ESM2_MODEL}): {found.esm2_fetch_instructions(found.DEFAULT_ESM2_MODEL)}")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="kenkyu")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
