"""Retrieval quality of kenkyu.tools.literature: recall@5 and MRR, dense vs hybrid (and BM25 alone).

The corpus and the question set (each question with the one document that answers it) are those of the
tests (tests/literature_corpus.py): invented short papers as real PDFs, Markdown and text notes, a
BibTeX file (one entry with its PDF attached, one abstract only), a notebook. On that corpus alone every
mode finds every answer, so two harder settings follow: the same questions among distractor notes that
share each topic's words but hold no answer, and paraphrased questions (written for this script, in
words the documents do not use) among the same distractors. Everything runs offline with the shipped
MiniLM embedder and an embedded Chroma index in a temporary folder.

    python benchmarks/eval_literature.py [--k 5]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


# Questions in other words than their documents use; each with the file that answers it.
PARAPHRASED = [
    ("How much more heat-resistant did the cross-linked enzyme become?", "lipase_disulfide.pdf"),
    ("Which solvation model made the headpiece too helical?", "villin_implicit.pdf"),
    ("How well do the stacked laminates remove salt?", "graphene_membranes.pdf"),
    ("What protects the solar cells from moisture?", "perovskite_humidity.pdf"),
    ("Which substitution changes the colour of the glowing protein?", "gfp_scanning.pdf"),
    ("When do reefs start to turn white?", "coral_bleaching.pdf"),
    ("Why do the battery electrodes survive repeated charging?", "battery_anodes.pdf"),
    ("What solution do I prepare for the activity measurements?", "lipase_assay_notes.md"),
    ("How much carbon dioxide can the amine solution take up?", "refs.bib"),
    ("Which day is the electron microscope reserved?", "reading_list.txt"),
    ("Did the backbone of the small protein settle down in my simulations?", "villin_analysis.ipynb"),
    ("How much money do we have for chemicals this spring?", "meeting_minutes.md"),
    ("Which mutations kill the fluorescence?", "gfp_scanning.pdf"),
    ("How long does it take coral cover to come back?", "coral_bleaching.pdf"),
    ("What layer spacing gave the best membranes?", "graphene_membranes.pdf"),
]

TOPICS = [
    "lipase",
    "villin headpiece",
    "graphene oxide membrane",
    "perovskite solar cell",
    "GFP mutants",
    "coral bleaching",
    "silicon anode",
    "lipase assay buffer",
    "CO2 capture by amines",
    "cryo-EM facility",
    "villin RMSD",
    "reagent budget",
]
TEMPLATES = [
    "Meeting note {i}: we discussed the {t} project; next steps are ordering reagents and booking instrument time.",
    "Idea {i}: compare our {t} results with last year's data before the group meeting on Friday.",
    "Reminder {i}: the {t} samples are in freezer B, shelf 3; label everything with the date.",
    "Draft {i}: the introduction of the {t} manuscript needs more references on recent work.",
]


def write_distractors(folder: Path, copies: int = 3) -> int:
    """Notes that name each topic but answer nothing: retrieval has to rank, not just match a topic."""
    folder.mkdir(parents=True, exist_ok=True)
    n = 0
    for copy in range(copies):
        for t in TOPICS:
            for template in TEMPLATES:
                n += 1
                (folder / f"distractor_{n:03d}.md").write_text(f"# Note {n}\n\n{template.format(i=n, t=t)}\n")
    return n


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
        table(
            f"corpus alone: {report.documents} documents, {report.chunks} passages; {len(QUESTIONS)} questions",
            index,
            QUESTIONS,
            args.k,
        )
        extra = write_distractors(corpus / "distractors")
        report = literature.ingest([corpus], index, progress=False)
        table(
            f"with {extra} distractor notes: {report.documents} documents, {report.chunks} passages; "
            f"{len(QUESTIONS)} questions",
            index,
            QUESTIONS,
            args.k,
        )
        table(f"paraphrased questions, with the distractors: {len(PARAPHRASED)} questions", index, PARAPHRASED, args.k)
    return 0


def table(title: str, index: str, questions, k: int) -> None:
    print(f"\n{title}\n")
    print(f"| mode   | recall@{k} | MRR   | missed |")
    print("|--------|----------|-------|--------|")
    results = {}
    for mode in ("dense", "hybrid", "bm25"):
        recall, mrr, misses = evaluate(index, questions, mode, k)
        results[mode] = (recall, mrr)
        print(f"| {mode:<6} | {recall:8.3f} | {mrr:.3f} | {len(misses):6d} |")
        for question in misses:
            print(f"|        |          |       | missed: {question}")
    dense, hybrid = results["dense"], results["hybrid"]
    print(f"\nhybrid vs dense: recall@{k} {hybrid[0] - dense[0]:+.3f}, MRR {hybrid[1] - dense[1]:+.3f}")


if __name__ == "__main__":
    raise SystemExit(main())
