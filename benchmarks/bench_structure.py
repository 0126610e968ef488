"""Residues per second for folding and embedding through kenkyu, against plain library calls, same run.

Tiny random models (the real classes, saved and loaded as real weights are) on the CPU, so the numbers
measure kenkyu's overhead around the network, not ESMFold's or ESM-2's real speed:

* folding: ``kenkyu.tools.structure.fold`` (validation, memory plan, forward pass, PDB + PAE + JSON files)
  against ``EsmForProteinFolding.infer`` + ``output_to_pdb`` + writing the PDB, same model object,
  same number of recycles;
* embedding: ``kenkyu.tools.structure.embed`` against a fair-esm forward pass with its batch converter.

Each timing is the median of ``--repeats`` runs after one warm-up; kenkyu and the reference alternate so
drift in machine load affects both. Prints residues/s for each and the ratio kenkyu / reference.

    python benchmarks/bench_structure.py                       # lengths 50 100 200
    python benchmarks/bench_structure.py --lengths 64 256 --repeats 5
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

# The tiny ESM models of the same classes that the tests build (tests/tiny_esm.py).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _median_seconds(function, repeats: int) -> float:
    function()  # warm-up: first-call allocations and lazy imports are not what we measure
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lengths", type=int, nargs="+", default=[50, 100, 200])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    os.environ["HF_HUB_OFFLINE"] = "1"

    import torch
    from kenkyu.tools import structure
    from kenkyu.tools.structure._models import load_esm2_model, load_fold_model
    from tests.tiny_esm import make_tiny_esm2, make_tiny_esmfold

    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        fold_dir = make_tiny_esmfold(root / "tiny_esmfold")
        esm2_path = make_tiny_esm2(root / "esm2_tiny.pt")
        network, _ = load_fold_model(fold_dir, device="cpu")
        (esm_network, alphabet), _ = load_esm2_model(esm2_path, device="cpu")
        passes = int(network.config.esmfold_config.trunk.max_recycles)  # trunk passes when left to default
        print(
            f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU; tiny models "
            f"(ESMFold {sum(p.numel() for p in network.parameters()):,} parameters, {passes} trunk pass(es); "
            f"ESM-2 {sum(p.numel() for p in esm_network.parameters()):,} parameters)"
        )
        print(f"{'task':<6} {'length':>6} {'kenkyu res/s':>13} {'reference res/s':>16} {'ratio':>6}")
        for length in args.lengths:
            sequence = "".join(rng.choice("ACDEFGHIKLMNPQRSTVWY") for _ in range(length))
            out = root / f"fold_{length}"
            out.mkdir()

            def kenkyu_fold(sequence=sequence, out=out):
                structure.fold(sequence, out=out, model=str(fold_dir), device="cpu", chunk_size=None, progress=False)

            def reference_fold(sequence=sequence, out=out):
                with torch.no_grad():
                    output = network.infer(sequence)
                (out / "reference.pdb").write_text(network.output_to_pdb(output)[0])

            def kenkyu_embed(sequence=sequence):
                structure.embed(sequence, model=str(esm2_path), device="cpu", progress=False)

            def reference_embed(sequence=sequence, length=length):
                tokens = alphabet.get_batch_converter()([("x", sequence)])[2]
                with torch.no_grad():
                    esm_network(tokens, repr_layers=[esm_network.num_layers])["representations"][
                        esm_network.num_layers
                    ][0, 1 : length + 1].mean(0).numpy()

            for task, mine, reference in (
                ("fold", kenkyu_fold, reference_fold),
                ("embed", kenkyu_embed, reference_embed),
            ):
                # Alternate the two so that load drift is shared; the medians come from interleaved runs.
                ours, theirs = [], []
                for _ in range(args.repeats):
                    theirs.append(_median_seconds(reference, 1))
                    ours.append(_median_seconds(mine, 1))
                ours_rate, theirs_rate = length / statistics.median(ours), length / statistics.median(theirs)
                print(f"{task:<6} {length:>6} {ours_rate:>13.1f} {theirs_rate:>16.1f} {ours_rate / theirs_rate:>6.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
