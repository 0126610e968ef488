"""Protein sequences in, clean one-letter strings out: raw text, FASTA text or files, lists.

What is safe is normalised silently: lowercase letters, whitespace and line breaks inside a sequence, a
trailing ``*`` (stop codon from a translation). Everything else is refused with
:class:`InvalidSequenceError`, naming the record, the 1-based position and the character, because a
silently dropped or guessed residue shifts every position that follows it.
"""

from __future__ import annotations

import os
from pathlib import Path

# The 20 standard amino acids; X (unknown) is accepted too, as ESM's alphabet and ESMFold both know it.
STANDARD = "ACDEFGHIKLMNPQRSTVWY"
ALLOWED = set(STANDARD + "X")

# Characters that are letters of some alphabet but not safe to guess, with what to do instead.
_HINTS = {
    "B": "B is ambiguous (D or N); write the residue you mean, or X",
    "Z": "Z is ambiguous (E or Q); write the residue you mean, or X",
    "J": "J is ambiguous (I or L); write the residue you mean, or X",
    "U": "U is selenocysteine, which these models do not know; C is the usual stand-in",
    "O": "O is pyrrolysine, which these models do not know; K is the usual stand-in",
    "-": "'-' is an alignment gap; remove gaps (these tools take unaligned sequences)",
    ".": "'.' is an alignment gap; remove gaps (these tools take unaligned sequences)",
    "*": "'*' (stop) is only allowed at the very end of a sequence",
}


class InvalidSequenceError(ValueError):
    """A protein sequence the models cannot take; the message names the record, position and character."""

    def __init__(
        self,
        message: str,
        *,
        name: str | None = None,
        position: int | None = None,
        character: str | None = None,
    ):
        super().__init__(message)
        self.name = name
        self.position = position  # 1-based, in the normalised sequence
        self.character = character


_FILE_SUFFIXES = (".fasta", ".fa", ".faa", ".fas", ".fna", ".seq", ".txt", ".a3m", ".aln", ".pdb", ".cif")


def _looks_like_file(text: str) -> bool:
    """A path, existing or not: a sequence has no slash and no file extension, so neither is read as residues."""
    if "\n" in text or len(text) > 4096 or not text.strip():
        return False
    text = text.strip()
    return (
        os.path.exists(text)
        or "/" in text
        or "\\" in text
        or text.startswith("~")
        or text.lower().endswith(_FILE_SUFFIXES)
    )


def _fasta_records(text: str, source: str) -> list[tuple[str, str]]:
    records: list[tuple[str, list[str]]] = []
    for line_number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith(";"):
            continue
        if stripped.startswith(">"):
            header = stripped[1:].strip()
            records.append((header.split()[0] if header else f"seq{len(records) + 1}", []))
        elif not records:
            raise InvalidSequenceError(
                f"{source}: line {line_number} has sequence text before the first '>' header; "
                "a FASTA file starts with '>name'"
            )
        else:
            records[-1][1].append(stripped)
    return [(name, "".join(parts)) for name, parts in records]


def clean_sequence(sequence: str, name: str = "sequence", *, max_length: int | None = None) -> str:
    """One normalised sequence (uppercase, no whitespace, no trailing stop), or InvalidSequenceError."""
    if not isinstance(sequence, str):
        raise InvalidSequenceError(f"{name}: a sequence must be a string, not {type(sequence).__name__}", name=name)
    letters = "".join(sequence.split()).upper()
    letters = letters.removesuffix("*")
    if not letters:
        raise InvalidSequenceError(f"{name} is empty: give at least one amino acid (one-letter codes)", name=name)
    for index, character in enumerate(letters):
        if character not in ALLOWED:
            hint = _HINTS.get(character)
            if hint is None:
                hint = (
                    "digits are not residues (remove numbering)"
                    if character.isdigit()
                    else f"allowed are the 20 standard one-letter codes {STANDARD} and X (unknown)"
                )
            raise InvalidSequenceError(
                f"{name}: invalid residue {character!r} at position {index + 1}: {hint}",
                name=name,
                position=index + 1,
                character=character,
            )
    if max_length is not None and len(letters) > max_length:
        raise InvalidSequenceError(
            f"{name} has {len(letters)} residues, more than this tool's limit of {max_length}. "
            "Split it into domains (e.g. from UniProt or InterPro annotations) and run each one.",
            name=name,
        )
    return letters


def parse_sequences(sequences, *, max_length: int | None = None) -> list[tuple[str, str]]:
    """``[(name, sequence), ...]`` from a sequence, FASTA text, a FASTA path, a list of these, or a dict.

    Names default to ``seq1``, ``seq2``, ... for bare sequences; FASTA names are the first word of the header.
    """
    if isinstance(sequences, dict):
        items = [(str(k), clean_sequence(v, str(k), max_length=max_length)) for k, v in sequences.items()]
    elif isinstance(sequences, (list, tuple)):
        items = []
        for entry in sequences:
            for name, seq in parse_sequences(entry, max_length=max_length):
                items.append((name, seq))
        # Bare sequences inside a list are all called seq1; number them by their place instead.
        items = [
            (name if not name.startswith("seq") or len(items) == 1 else f"seq{i + 1}", seq)
            for i, (name, seq) in enumerate(items)
        ]
    elif isinstance(sequences, (str, os.PathLike)):
        text = os.fspath(sequences)
        source = "input"
        if isinstance(sequences, os.PathLike) or _looks_like_file(text):
            path = Path(text.strip()).expanduser()
            if path.is_dir():
                raise InvalidSequenceError(
                    f"{text!r} is a folder, not a FASTA file: pass the path of a .fasta file in it, or the sequence"
                )
            if path.exists() and not path.is_file():
                raise InvalidSequenceError(f"{text!r} is a device or special file, not a FASTA file")
            if not path.is_file():
                raise InvalidSequenceError(
                    f"FASTA file {text!r} does not exist (it was read as a path, not as a sequence, because it "
                    "looks like one). Check the path, or pass the sequence itself as one-letter codes."
                )
            source, text = path.name, path.read_text()
        if any(line.lstrip().startswith(">") for line in text.splitlines()):
            records = _fasta_records(text, source)
            if not records:
                raise InvalidSequenceError(f"{source}: no FASTA records found")
            items = [(name, clean_sequence(seq, name, max_length=max_length)) for name, seq in records]
        else:
            items = [("seq1", clean_sequence(text, "sequence", max_length=max_length))]
    else:
        raise InvalidSequenceError(
            f"cannot read sequences from a {type(sequences).__name__}: pass a sequence string, FASTA text, "
            "a FASTA file path, or a list of sequences"
        )
    if not items:
        raise InvalidSequenceError("no sequences given")
    names = [name for name, _ in items]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InvalidSequenceError(f"several records share the name(s) {duplicates}; give each sequence its own name")
    return items


def single_sequence(sequence, *, max_length: int | None = None, tool: str = "this tool") -> tuple[str, str]:
    """The one ``(name, sequence)`` a single-sequence tool needs; several FASTA records are an error."""
    items = parse_sequences(sequence, max_length=max_length)
    if len(items) > 1:
        raise InvalidSequenceError(
            f"{tool} takes one sequence, but the input has {len(items)} records "
            f"({', '.join(name for name, _ in items[:5])}{', ...' if len(items) > 5 else ''}); "
            "call it once per sequence"
        )
    return items[0]
