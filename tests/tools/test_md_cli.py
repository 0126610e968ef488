"""`kenkyu md run` as the main CLI wires it: add_parser(subparsers) is all it takes."""

from __future__ import annotations

import argparse
import json

import pytest
from kenkyu.tools.md import cli as md_cli


def make_parser():
    parser = argparse.ArgumentParser(prog="kenkyu")
    md_cli.add_parser(parser.add_subparsers(dest="command", required=True))
    return parser


def test_parser_has_the_documented_command():
    args = make_parser().parse_args(["md", "run", "x.pdb", "--ps", "50", "--out", "runs/x", "--resume"])
    assert (args.structure, args.ps, args.out, args.resume) == ("x.pdb", 50.0, "runs/x", True)
    assert args.func is md_cli.run_command
    with pytest.raises(SystemExit):
        make_parser().parse_args(["md", "run", "x.pdb", "--solvent", "water"])


def test_cli_runs_and_reports_errors(villin_pdb, tmp_path, capsys):
    out = tmp_path / "cli"
    argv = [
        "md",
        "run",
        str(villin_pdb),
        "--ps",
        "0.02",
        "--out",
        str(out),
        "--solvent",
        "vacuum",
        "--nvt-ps",
        "0",
        "--report-interval-ps",
        "0.01",
        "--minimize-max-iterations",
        "10",
        "--platform",
        "CPU",
        "--seed",
        "3",
        "--no-progress",
    ]
    assert md_cli.main(argv) == 0
    assert "(finished)" in capsys.readouterr().out
    assert json.loads((out / "run.json").read_text())["parameters"]["seed"] == 3
    # Running it again without --resume is refused with the fix in the message, exit status 2.
    assert md_cli.main(argv) == 2
    assert "add --resume" in capsys.readouterr().err
    assert md_cli.main(argv + ["--resume"]) == 0
