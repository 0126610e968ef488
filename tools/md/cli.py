"""``kenkyu md run STRUCTURE --ps N --out DIR [--resume]`` on the command line.

The main CLI calls :func:`add_parser` with its subparsers; nothing else is needed. Only argparse is
imported here: OpenMM loads when the command runs, so ``kenkyu --help`` stays fast. The module also
runs on its own: ``python -m kenkyu.tools.md.cli md run villin.pdb --ps 10 --out runs/villin``.
"""

import argparse


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``md`` command (with its ``run`` subcommand) to an argparse subparsers object."""
    md_parser = subparsers.add_parser(
        "md", help="molecular dynamics with OpenMM", description="Molecular dynamics with OpenMM."
    )
    md_commands = md_parser.add_subparsers(dest="md_command", metavar="COMMAND")
    md_commands.required = True

    run = md_commands.add_parser(
        "run",
        help="fix, solvate, minimise, equilibrate and simulate a structure",
        description="Fix a PDB/mmCIF structure with pdbfixer, solvate, minimise, equilibrate (NVT, NPT) and run "
        "production MD. Killed runs continue with --resume.",
    )
    run.add_argument("structure", help="PDB or mmCIF file")
    run.add_argument("--ps", type=float, default=10.0, help="production length in ps (default 10)")
    run.add_argument("--out", help="run directory (default md_runs/<name>_<solvent>, _<T>K added unless T is 300 K)")
    run.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    run.add_argument("--overwrite", action="store_true", help="delete an existing run in --out and start over")
    run.add_argument("--solvent", choices=("explicit", "implicit", "vacuum"), default="explicit")
    run.add_argument("--padding-nm", type=float, default=1.0, help="water padding around the protein in nm")
    run.add_argument("--temperature-k", type=float, default=300.0)
    run.add_argument("--timestep-fs", type=float, default=2.0)
    run.add_argument(
        "--nvt-ps", type=float, help="NVT equilibration in ps (default: half the production within 3-10 ps; 0 skips it)"
    )
    run.add_argument("--npt-ps", type=float, help="NPT equilibration in ps (explicit solvent; default 10)")
    run.add_argument("--minimize-max-iterations", type=int, default=0, help="0 = until converged")
    run.add_argument(
        "--report-interval-ps", type=float, help="ps between saved frames (default 1; a run under 10 ps saves >= 10)"
    )
    run.add_argument("--checkpoint-interval-ps", type=float, default=10.0, help="ps between checkpoints")
    run.add_argument("--format", dest="trajectory_format", choices=("dcd", "xtc"), default="dcd")
    run.add_argument("--platform", choices=("CUDA", "OpenCL", "CPU", "Reference"), help="default: CUDA, OpenCL, CPU")
    run.add_argument("--seed", type=int)
    run.add_argument(
        "--reproducible", action="store_true", help="same seed, same numbers: CPU platform with one thread (slower)"
    )
    run.add_argument(
        "--backend",
        choices=("openmm", "dataflow"),
        default="openmm",
        help="force backend: OpenMM's own, or kenkyu's dataflow backend (kenkyu.kernels_md)",
    )
    run.add_argument("--no-progress", dest="progress", action="store_false", help="hide the progress bar")
    run.set_defaults(func=run_command)
    return md_parser


def run_command(args: argparse.Namespace) -> int:
    """Run ``kenkyu md run`` from parsed arguments; print the run's summary; return the exit status."""
    import sys

    from kenkyu.tools import md

    try:
        result = md.run(
            args.structure,
            ps=args.ps,
            out=args.out,
            resume=args.resume,
            overwrite=args.overwrite,
            solvent=args.solvent,
            padding_nm=args.padding_nm,
            temperature_k=args.temperature_k,
            timestep_fs=args.timestep_fs,
            nvt_ps=args.nvt_ps,
            npt_ps=args.npt_ps,
            minimize_max_iterations=args.minimize_max_iterations,
            report_interval_ps=args.report_interval_ps,
            checkpoint_interval_ps=args.checkpoint_interval_ps,
            trajectory_format=args.trajectory_format,
            platform=args.platform,
            seed=args.seed,
            reproducible=args.reproducible,
            backend=args.backend,
            progress=args.progress,
        )
    except md.RunInterrupted as exc:
        print(f"interrupted: {exc}", file=sys.stderr)
        return 130
    except (md.MDError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        if isinstance(exc, md.RunExistsError) and exc.new_folder:
            # A run of other settings: --resume fails and --overwrite deletes it.
            print(f"On the command line: give that new folder with --out {exc.new_folder}.", file=sys.stderr)
        elif isinstance(exc, md.RunExistsError):
            print(
                "On the command line: add --resume to continue the run, or --overwrite to start over.",
                file=sys.stderr,
            )
        return 2
    print(result.summary())
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="kenkyu")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
