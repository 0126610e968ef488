"""Force and energy errors of the dataflow backend against OpenMM's Reference platform, in double and
mixed precision, on DHFR (RF 1.0 nm, PME 0.9 nm; amber99sb/tip3p) and on the coarse-grained Go model
of DHFR (perturbed from native).  Error: per-atom 2|F - Fref| / (|F| + |Fref|), median / 99th
percentile / max; energy relative error.

    nice .venv/bin/python benchmarks/bench_kernels_accuracy.py
"""

from __future__ import annotations

import numpy as np


def main():
    from bench_dataflow import make_system
    from openmm import app

    from kenkyu.kernels_md import build_go_model, dataflow_system
    from kenkyu.kernels_md.validation import evaluate, force_errors
    from kenkyu.tools.md import example_structure

    cases = []
    for method in ("RF", "PME"):
        pdb, system = make_system(method)
        cases.append((f"DHFR {method}", system, pdb.positions))
    model = build_go_model(app.PDBFile(str(example_structure("dhfr"))))
    x = model.positions + np.random.default_rng(1).normal(scale=0.05, size=model.positions.shape)
    cases.append(("DHFR Go model (CG)", model.system, x))
    print(f"{'system':<20} {'precision':<8} {'median':>9} {'p99':>9} {'max':>9} {'rel. energy':>12}")
    for label, system, pos in cases:
        eref, fref = evaluate(system, pos)
        for precision in ("double", "mixed"):
            e, f = evaluate(dataflow_system(system, threads=1, precision=precision), pos)
            med, p99, mx = force_errors(f, fref)
            print(f"{label:<20} {precision:<8} {med:9.2e} {p99:9.2e} {mx:9.2e} {abs(e - eref) / abs(eref):12.2e}")


if __name__ == "__main__":
    main()
