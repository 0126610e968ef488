"""Retrieval quality of kenkyu.tools.literature: recall@5 and MRR, dense vs hybrid (and BM25 alone).

The corpus and the question set (each question with the one document that answers it) are those of the
tests (tests/literature_corpus.py): invented short papers as real PDFs, Markdown and text notes, a
BibTeX file (one entry with its PDF attached, one abstract only), a notebook. Everything runs offline
with the shipped MiniLM embedder and an embedded Chroma index in a temporary folder.

    python benchmarks/eval_literature.py [--k 5]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


def evaluate(index: str, questions, mode: str, k: int) -> tuple[float, float, list[str]]:
    from kenkyu.tools import literature
    from literature_corpus import answer_file

    hits, reciprocal, misses = 0, 0.0, []
    for question, expected in questions:
        ranked = [answer_file(p) for p in literature.search(question, index, k=k, mode=mode)]
        if expected in ranked:
            hits += 1
            reciprocal += 1.0 / (ranked.index(expected) + 1)
        else:
            misses.append(question)
    return hits / len(questions), reciprocal / len(questions), misses


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--k", type=int, default=5)
    args = parser.parse_args()
    from kenkyu.tools import literature
    from literature_corpus import QUESTIONS, write_corpus

    with tempfile.TemporaryDirectory() as folder:
        corpus = write_corpus(Path(folder) / "corpus")
        index = str(Path(folder) / "index")
        report = literature.ingest([corpus], index, progress=False)
        print(f"corpus: {report.documents} documents, {report.chunks} passages; {len(QUESTIONS)} questions, "
              f"each with one answer document\n")
        print(f"| mode   | recall@{args.k} | MRR   | missed |")
        print("|--------|----------|-------|--------|")
        results = {}
        for mode in ("dense", "hybrid", "bm25"):
            recall, mrr, misses = evaluate(index, QUESTIONS, mode, args.k)
            results[mode] = (recall, mrr)
            print(f"| {mode:<6} | {recall:8.3f} | {mrr:.3f} | {len(misses):6d} |")
            for question in misses:
                print(f"|        |          |       | missed: {question}")
        dense, hybrid = results["dense"], results["hybrid"]
        print(f"\nhybrid vs dense: recall@{args.k} {hybrid[0] - dense[0]:+.3f}, MRR {hybrid[1] - dense[1]:+.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
