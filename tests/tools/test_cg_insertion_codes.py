"""A structure numbered with insertion codes (52, 52A, as antibody and protease files are) keeps each residue's own
id in the Gō model: the model's native.pdb keeps the file's numbers, so 52 and 52A must not both become 52."""

from __future__ import annotations

import io

from kenkyu.kernels_md import build_go_model
from kenkyu.tools.md import example_structure
from openmm import app


def _with_an_insertion_code(tmp_path):
    """Villin with its second residue renumbered as the first one's insertion (41, 41A, 43, ...)."""
    lines = []
    for line in example_structure().read_text().splitlines():
        if line.startswith(("ATOM", "HETATM")) and line[22:26].strip() == "42":
            line = line[:22] + "  41A" + line[27:]
        lines.append(line)
    path = tmp_path / "inserted.pdb"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_residues_with_insertion_codes_keep_their_own_ids(tmp_path):
    model = build_go_model(_with_an_insertion_code(tmp_path))
    ids = [(r.id, r.insertionCode) for r in model.topology.residues()]
    assert [(number, code.strip()) for number, code in ids[:3]] == [("41", ""), ("41", "A"), ("43", "")], ids[:3]

    written = io.StringIO()
    app.PDBFile.writeFile(model.topology, model.positions, written, keepIds=True)
    read_back = app.PDBFile(io.StringIO(written.getvalue()))
    assert len({(r.id, r.insertionCode) for r in read_back.topology.residues()}) == model.topology.getNumResidues()
