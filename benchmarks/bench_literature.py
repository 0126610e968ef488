"""Speed of kenkyu.tools.literature: ingest pages per second, and query latency over 10,000 passages.

1. Ingest: synthetic papers written as real PDFs (fpdf2), ingested by ``literature.ingest`` (pypdf text,
   chunking, MiniLM embeddings, Chroma). Reference in the same run: pypdf extraction of the same files
   plus raw MiniLM encoding of the same passage texts (the work no ingest can avoid).
2. Query latency: 10,000 synthetic passages (one short note each) in an embedded Chroma index;
   ``literature.search`` in hybrid, dense and BM25 modes, median and 95th percentile over the queries
   after one warm-up (the first hybrid query builds the BM25 index; its time is printed apart).
   Reference in the same run: raw MiniLM encoding of the query plus a raw ``collection.query`` (top 5).
   Goal: hybrid retrieval within 200 ms on 2 cores.

    python benchmarks/bench_literature.py [--chunks 10000] [--papers 20] [--queries 30]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

WORDS = [
    "protein",
    "enzyme",
    "lipase",
    "membrane",
    "graphene",
    "perovskite",
    "catalyst",
    "solvent",
    "folding",
    "helix",
    "sheet",
    "binding",
    "affinity",
    "kinetics",
    "diffusion",
    "temperature",
    "pressure",
    "spectroscopy",
    "fluorescence",
    "crystal",
    "lattice",
    "polymer",
    "binder",
    "anode",
    "cathode",
    "electrolyte",
    "coral",
    "reef",
    "bleaching",
    "salinity",
    "humidity",
    "degradation",
    "stability",
    "mutation",
    "variant",
    "sequence",
    "residue",
    "ligand",
    "receptor",
    "inhibitor",
    "assay",
    "buffer",
    "calcium",
    "sodium",
    "chloride",
    "nanometre",
    "microsecond",
    "simulation",
    "replica",
    "ensemble",
    "trajectory",
    "energy",
    "entropy",
    "enthalpy",
    "free",
    "landscape",
    "barrier",
    "transition",
    "state",
    "yield",
    "selectivity",
    "flux",
    "rejection",
    "efficiency",
    "capacity",
    "cycling",
    "voltage",
    "current",
    "density",
    "viscosity",
]


def sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def paragraph(rng: random.Random, words: int) -> str:
    return " ".join(sentence(rng, rng.randint(8, 16)) for _ in range(max(1, words // 12)))


def timed(function, repeats: int = 1):
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        value = function()
        samples.append(time.perf_counter() - started)
    return value, samples


def bench_ingest(folder: Path, papers: int, rng: random.Random) -> None:
    from fpdf import FPDF
    from kenkyu.core.routing import minilm_encode
    from kenkyu.tools import literature
    from kenkyu.tools.literature._store import open_store
    from pypdf import PdfReader

    pdfs = folder / "pdfs"
    pdfs.mkdir()
    pages_per_paper = 5
    for i in range(papers):
        pdf = FPDF()
        pdf.set_title(f"Synthetic paper {i}")
        pdf.set_font("Helvetica", size=10)
        for _ in range(pages_per_paper):
            pdf.add_page()
            pdf.multi_cell(0, 5, paragraph(rng, 300), new_x="LMARGIN", new_y="NEXT")
        pdf.output(str(pdfs / f"paper_{i:03d}.pdf"))
    # Warm-up: the embedder, LlamaIndex's and Chroma's imports and first calls are paid once per process.
    minilm_encode(["warm up the embedder"])
    (folder / "warm").mkdir()
    (folder / "warm" / "note.md").write_text("# Warm-up\n\nA note that loads every library once.\n")
    literature.ingest([folder / "warm"], folder / "warm_index", progress=False)
    report, (seconds,) = timed(lambda: literature.ingest([pdfs], folder / "ingest_index", progress=False))
    texts = [row["documents"] for row in open_store(folder / "ingest_index").rows(include=("documents",))]
    _, (extract_s,) = timed(lambda: [p.extract_text() for f in sorted(pdfs.glob("*.pdf")) for p in PdfReader(f).pages])
    _, (embed_s,) = timed(lambda: minilm_encode(texts))
    reference = extract_s + embed_s
    print(
        f"ingest: {report.pages} PDF pages -> {report.chunks} passages in {seconds:.2f} s "
        f"= {report.pages / seconds:.1f} pages/s"
    )
    print(
        f"  reference (pypdf extraction {extract_s:.2f} s + raw MiniLM encoding {embed_s:.2f} s) = "
        f"{report.pages / reference:.1f} pages/s; kenkyu / reference time = {seconds / reference:.2f}"
    )
    again, (again_s,) = timed(lambda: literature.ingest([pdfs], folder / "ingest_index", progress=False))
    print(f"  re-ingest, nothing changed: {again_s:.2f} s ({again.embedded} passages embedded)")


def bench_queries(folder: Path, chunks: int, queries: int, rng: random.Random) -> None:
    from kenkyu.core.routing import minilm_encode
    from kenkyu.tools import literature
    from kenkyu.tools.literature._store import open_store

    notes = folder / "notes"
    notes.mkdir()
    texts = []
    for i in range(chunks):
        text = paragraph(rng, 60)
        texts.append(text)
        (notes / f"note_{i:05d}.txt").write_text(f"{text}\n")
    index = folder / "query_index"
    report, (seconds,) = timed(lambda: literature.ingest([notes], index, progress=True))
    print(
        f"\nindex: {report.chunks} passages from {report.documents} notes, built in {seconds:.1f} s "
        f"({report.chunks / seconds:.0f} passages/s)"
    )
    picks = [texts[rng.randrange(chunks)].split() for _ in range(queries)]
    questions = [" ".join(rng.sample(words, min(6, len(words)))) for words in picks]

    _, (first_s,) = timed(lambda: literature.search(questions[0], index, k=5, mode="hybrid"))
    print(f"first hybrid query (loads the BM25 index over {report.chunks} passages): {first_s * 1000:.0f} ms")
    collection = open_store(index).collection

    def raw(question):
        vector = minilm_encode([question])[0].tolist()
        return collection.query(query_embeddings=[vector], n_results=5)

    rows = []
    for label, call in (
        ("reference: MiniLM encode + chroma query", raw),
        ("literature.search dense", lambda q: literature.search(q, index, k=5, mode="dense")),
        ("literature.search bm25", lambda q: literature.search(q, index, k=5, mode="bm25")),
        ("literature.search hybrid", lambda q: literature.search(q, index, k=5, mode="hybrid")),
    ):
        call(questions[0])  # warm-up
        samples = []
        for question in questions:
            started = time.perf_counter()
            call(question)
            samples.append(time.perf_counter() - started)
        samples.sort()
        rows.append((label, statistics.median(samples), samples[int(0.95 * (len(samples) - 1))]))
    reference = rows[0][1]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"\nquery latency over {report.chunks} passages, {len(questions)} queries, {cores} cores, k=5:")
    print("| what | median ms | p95 ms | ratio to reference |")
    print("|---|---|---|---|")
    for label, median, p95 in rows:
        print(f"| {label} | {median * 1000:.1f} | {p95 * 1000:.1f} | {median / reference:.2f} |")
    hybrid = rows[-1][1]
    verdict = "meets" if hybrid <= 0.200 else "misses"
    print(f"\nhybrid median {hybrid * 1000:.0f} ms {verdict} the 200 ms goal on {cores} cores")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chunks", type=int, default=10_000)
    parser.add_argument("--papers", type=int, default=20)
    parser.add_argument("--queries", type=int, default=30)
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as folder:
        bench_ingest(Path(folder), args.papers, rng)
        bench_queries(Path(folder), args.chunks, args.queries, rng)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
