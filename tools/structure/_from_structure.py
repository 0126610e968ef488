"""The sequence of a protein chain read from a structure file (PDB, mmCIF) or an MD run folder, with its numbering.

"Score G121V on the sequence of 5dfr_minimized.pdb": the ESM tools take a structure as the source of the sequence.
What they score is said in the result (the file, the chain, the numbering), because a position means nothing
without them: G121V names residue 121 as the file numbers it, and a file's numbering rarely starts at 1 (villin's
1VII starts at 41). Residues missing from the file (a gap in the numbering) are never silently joined across:
each missing residue is an X (unknown, which ESM-2 knows), so the positions after the gap keep their distance
along the chain, and the gap is named in the result.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from kenkyu.tools.structure._sequences import InvalidSequenceError, clean_sequence, parse_sequences

STRUCTURE_SUFFIXES = (".pdb", ".ent", ".cif", ".mmcif")
MAX_FILLED_GAP = 50  # missing residues filled with X; a longer jump in the numbering is more likely a renumbering


@dataclass
class ChainSequence:
    """One protein chain of a structure: its one-letter sequence and the file's residue number at each position."""

    file: Path
    chain: str
    sequence: str  # one letter per position; X in a gap and for a residue that is no standard amino acid
    numbers: list[str | None]  # the file's residue number at each position (None inside a gap)
    notes: list[str] = field(default_factory=list)  # gaps and non-standard residues, in the user's words
    residue_names: list[str | None] = field(default_factory=list)  # the file's residue name (LYS), None in a gap
    run_folder: Path | None = None  # the MD run folder the file belongs to, when one was given

    @property
    def shown(self) -> str:
        """The file as the user knows it: ``villin_1vii.pdb``, or ``villin_run/prepared.pdb`` for a run folder."""
        return f"{self.run_folder.name}/{self.file.name}" if self.run_folder is not None else self.file.name

    @property
    def where(self) -> str:
        """``villin_1vii.pdb chain A``, or the file alone when its one chain has no id."""
        return f"{self.shown} chain {self.chain}" if self.chain.strip() else self.shown

    @property
    def name(self) -> str:
        stem = self.run_folder.name if self.run_folder is not None else self.file.stem
        return stem + (f"_{self.chain}" if self.chain.strip() else "")

    def counted(self, numbering: str) -> str:
        given = [n for n in self.numbers if n is not None]
        if numbering == "pdb":
            return f"positions are the file's residue numbers, {given[0]}-{given[-1]}"
        return f"positions count 1-{len(self.sequence)} along the chain (file residues {given[0]}-{given[-1]})"

    def describe(self, numbering: str) -> str:
        chain = f"chain {self.chain}" if self.chain.strip() else "its one chain (no chain id)"
        return f"{self.shown}, {chain}, {len(self.sequence)} residues read from the file; {self.counted(numbering)}"

    def index_of(self, mutation: str, number: int, wild: str, numbering: str) -> int:
        """The 0-based position of a mutation's residue, or an error naming what the file has there."""
        by_index = 1 <= number <= len(self.sequence) and self.sequence[number - 1] == wild
        by_file = str(number) in self.numbers and self.sequence[self.numbers.index(str(number))] == wild
        if numbering == "sequence":
            if not 1 <= number <= len(self.sequence):
                raise InvalidSequenceError(
                    f"mutation {mutation!r}: position {number} is outside {self.where} "
                    f"(1-{len(self.sequence)} counted along the chain)",
                    position=number,
                )
            index, other = number - 1, by_file and "numbering='pdb'"
        else:
            if str(number) not in self.numbers:
                hint = ""
                if by_index:
                    hint = (
                        f" Counted from 1 along the chain, position {number} is {wild} (file residue "
                        f"{self.numbers[number - 1]}): pass numbering='sequence' if you count that way."
                    )
                raise InvalidSequenceError(
                    f"mutation {mutation!r}: {self.where} has no residue {number} ({self.counted(numbering)}"
                    f"{', with gaps' if self.gaps else ''}).{hint}",
                    position=number,
                )
            index, other = self.numbers.index(str(number)), by_index and "numbering='sequence'"
        have = self.sequence[index]
        if have != wild:
            where = ", ".join(self._label(i, numbering) for i, letter in enumerate(self.sequence) if letter == wild)
            switch = f" With {other} position {number} is {wild}." if other else ""
            raise InvalidSequenceError(
                f"mutation {mutation!r}: position {number} of {self.where} is {self.residue_at(index)}, not "
                f"{_three(wild)} ({wild}) ({self.counted(numbering)}). {_three(wild)} is at "
                f"{where or 'no position of this chain'}.{switch}",
                position=number,
                character=wild,
            )
        return index

    def residue_at(self, index: int) -> str:
        """How the file names the residue at a 0-based position: ``TRP 64 (W)``; a gap says so."""
        if self.numbers[index] is None:
            return "missing from the file (a gap, read as X)"
        name = self.residue_names[index] if index < len(self.residue_names) else None
        return f"{name or '?'} {self.numbers[index]} ({self.sequence[index]})"

    def _label(self, index: int, numbering: str) -> str:
        number = self.numbers[index]
        if numbering == "sequence":
            return str(index + 1) if number in (None, str(index + 1)) else f"{index + 1} (PDB {number})"
        return number if number == str(index + 1) else f"{number} ({index + 1} along the chain)"

    @property
    def gaps(self) -> list[str]:
        return [note for note in self.notes if note.startswith("gap")]


def is_structure_source(value) -> bool:
    """A structure file (.pdb/.ent/.cif/.mmcif), an MD run folder or an MDRun: not a sequence or FASTA."""
    if hasattr(value, "directory") and hasattr(value, "topology_path"):
        return True
    if not isinstance(value, (str, os.PathLike)):
        return False
    text = os.fspath(value).strip()
    if "\n" in text or not text:
        return False
    path = Path(text).expanduser()
    return path.suffix.lower() in STRUCTURE_SUFFIXES or path.is_dir()


def _structure_file(source) -> Path:
    if hasattr(source, "topology_path"):
        return Path(source.topology_path)
    path = Path(os.fspath(source).strip()).expanduser()
    if path.is_dir():
        # A run folder: its prepared.pdb is the structure it simulated, numbered as the input file was.
        if (path / "prepared.pdb").is_file():
            return path / "prepared.pdb"
        found = sorted(p for p in path.iterdir() if p.suffix.lower() in STRUCTURE_SUFFIXES and p.is_file())
        if len(found) == 1:
            return found[0]
        raise InvalidSequenceError(
            f"{path} is a folder with {'no' if not found else len(found)} structure files"
            + (f" ({', '.join(p.name for p in found[:5])})" if found else "")
            + ": pass the PDB or mmCIF file to read the sequence from"
        )
    if not path.is_file():
        raise InvalidSequenceError(
            f"structure file {str(path)!r} does not exist: check the path, or pass the sequence itself"
        )
    return path


def _topology(path: Path):
    from openmm.app import PDBFile, PDBxFile

    reader = PDBxFile if path.suffix.lower() in (".cif", ".mmcif") else PDBFile
    try:
        return reader(str(path)).topology
    except Exception as exc:  # noqa: BLE001 - any parse failure is the same problem for the user
        raise InvalidSequenceError(
            f"{path.name} could not be read as a {'mmCIF' if reader is PDBxFile else 'PDB'} file "
            f"({type(exc).__name__}: {exc})"
        ) from exc


def _is_amino_acid(residue) -> bool:
    names = {atom.name for atom in residue.atoms()}
    return {"N", "CA", "C"} <= names


def _number(residue) -> tuple[int | None, str]:
    code = (getattr(residue, "insertionCode", "") or "").strip()
    match = re.fullmatch(r"-?\d+", str(residue.id).strip())
    return (int(match.group(0)) if match else None), f"{str(residue.id).strip()}{code}"


def read_chain(source, chain: str | None = None) -> ChainSequence:
    """The sequence of the protein chain of ``source`` (the only one, or ``chain``), with its numbering and gaps."""
    from kenkyu.tools._residue_codes import ONE

    path = _structure_file(source)
    chains = []
    for candidate in _topology(path).chains():
        residues = [r for r in candidate.residues() if r.name in ONE or _is_amino_acid(r)]
        if residues:
            chains.append((candidate.id, residues))
    if not chains:
        raise InvalidSequenceError(f"{path.name} holds no protein chain to read a sequence from")
    listed = ", ".join(f"{cid.strip() or '(no id)'} ({len(rs)} residues)" for cid, rs in chains)
    if chain is None:
        if len(chains) > 1:
            example = next((cid.strip() for cid, _ in chains if cid.strip()), "A")
            raise InvalidSequenceError(
                f"{path.name} has {len(chains)} protein chains: {listed}. "
                f'Say which one to read, e.g. chain="{example}".'
            )
        chain_id, residues = chains[0]
    else:
        matching = [(cid, rs) for cid, rs in chains if cid.strip() == str(chain).strip()]
        if not matching:
            raise InvalidSequenceError(f"{path.name} has no protein chain {chain!r}; its protein chains: {listed}")
        chain_id, residues = matching[0]
    letters, numbers, notes, names = [], [], [], []
    previous = None
    for residue in residues:
        value, label = _number(residue)
        if previous is not None and value is not None and previous[0] is not None:
            missing = value - previous[0] - 1
            if 0 < missing <= MAX_FILLED_GAP:
                letters += ["X"] * missing
                numbers += [None] * missing
                names += [None] * missing
                first, last = previous[0] + 1, value - 1
                span = f"residue {first} is" if first == last else f"residues {first}-{last} are"
                notes.append(
                    f"gap: {span} missing from the file between {previous[1]} and {label}; "
                    f"scored as X (unknown) there, so the positions after it keep their place along the chain"
                )
            elif missing > MAX_FILLED_GAP:
                notes.append(
                    f"the numbering jumps from {previous[1]} to {label}: read as consecutive (more than "
                    f"{MAX_FILLED_GAP} missing residues is more likely a renumbering; check the file)"
                )
        letter = ONE.get(residue.name)
        if letter is None:
            letter = "X"
            notes.append(f"residue {residue.name} {label} is not a standard amino acid: read as X (unknown)")
        letters.append(letter)
        numbers.append(label)
        names.append(residue.name)
        previous = (value, f"{residue.name} {label}")
    folder = path.parent if path.name == "prepared.pdb" and (path.parent / "run.json").is_file() else None
    return ChainSequence(path, chain_id, "".join(letters), numbers, notes, names, folder)


def _three(letter: str) -> str:
    from kenkyu.tools._residue_codes import THREE

    return THREE.get(letter, letter)


def sequence_items(
    sequences, *, chain: str | None = None, max_length: int | None = None, tool: str = "this tool"
) -> tuple[list[tuple[str, str]], list[ChainSequence]]:
    """``[(name, sequence), ...]`` as :func:`parse_sequences` gives them, where a structure file, an MD run folder or
    an MDRun (alone or in a list) stands for its protein chain's sequence ("embed the sequence of villin_1vii.pdb"),
    and the chains so read, so that the result can say where each sequence came from."""
    entries = list(sequences) if isinstance(sequences, (list, tuple)) else [sequences]
    if not any(is_structure_source(entry) for entry in entries):
        if chain is not None:
            raise InvalidSequenceError(
                f"chain={chain!r} picks a chain of a structure file, but {tool} was given sequences: pass the PDB or "
                f"mmCIF file (or run folder) to read chain {chain!r} from, or leave chain out"
            )
        return parse_sequences(sequences, max_length=max_length), []
    items, reads = [], []
    for entry in entries:
        if is_structure_source(entry):
            read = read_chain(entry, chain)
            items.append((read.name, clean_sequence(read.sequence, read.where, max_length=max_length)))
            reads.append(read)
        else:
            items += parse_sequences(entry, max_length=max_length)
    # Bare sequences beside a structure are all called seq1: number them by their place instead.
    items = [(f"seq{i + 1}" if name == "seq1" else name, seq) for i, (name, seq) in enumerate(items)]
    names = [name for name, _ in items]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InvalidSequenceError(f"several inputs share the name(s) {duplicates}; give each sequence its own name")
    return items, reads
