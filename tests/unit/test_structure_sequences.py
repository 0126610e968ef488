"""Sequence input for the structure tools: safe normalisation, precise refusals."""

from __future__ import annotations

import pytest
from kenkyu.tools.structure._sequences import (
    InvalidSequenceError,
    clean_sequence,
    parse_sequences,
    single_sequence,
)


def test_lowercase_whitespace_and_a_trailing_stop_are_normalised():
    assert clean_sequence(" mktay\n iakq RQ*\t") == "MKTAYIAKQRQ"
    assert parse_sequences("mkt ayi") == [("seq1", "MKTAYI")]


def test_fasta_text_file_and_lists_give_named_records(tmp_path):
    fasta = ">first protein A\nMKTA\nyiak\n\n>second\nQRQ*\n"
    assert parse_sequences(fasta) == [("first", "MKTAYIAK"), ("second", "QRQ")]
    path = tmp_path / "two.fasta"
    path.write_text(fasta)
    assert parse_sequences(path) == parse_sequences(str(path)) == [("first", "MKTAYIAK"), ("second", "QRQ")]
    assert parse_sequences(["MKT", "ayi"]) == [("seq1", "MKT"), ("seq2", "AYI")]
    assert parse_sequences({"wt": "mkt"}) == [("wt", "MKT")]


@pytest.mark.parametrize(
    "text, position, character, words",
    [
        ("MKTBAY", 4, "B", "ambiguous"),
        ("MKU", 3, "U", "selenocysteine"),
        ("MK-TA", 3, "-", "gap"),
        ("MK*TA", 3, "*", "very end"),
        ("MK1TA", 3, "1", "digits"),
        ("MK#TA", 3, "#", "ACDEFGHIKLMNPQRSTVWY"),
    ],
)
def test_invalid_residues_are_refused_with_position_and_character(text, position, character, words):
    with pytest.raises(InvalidSequenceError, match=words) as info:
        clean_sequence(text, "query")
    assert info.value.position == position and info.value.character == character
    assert f"position {position}" in str(info.value) and repr(character) in str(info.value)
    assert str(info.value).startswith("query")


def test_position_counts_after_normalising_whitespace():
    # The position a scientist sees is in the cleaned sequence, not in the raw text with line breaks.
    with pytest.raises(InvalidSequenceError, match="position 6") as info:
        parse_sequences(">p\nMKTAY\nZAK\n")
    assert info.value.name == "p"


def test_empty_overlong_and_malformed_inputs():
    with pytest.raises(InvalidSequenceError, match="empty"):
        clean_sequence("  \n*")
    with pytest.raises(InvalidSequenceError, match="12 residues, more than this tool's limit of 10"):
        parse_sequences("A" * 12, max_length=10)
    with pytest.raises(InvalidSequenceError, match="before the first '>'"):
        parse_sequences("MKT\n>x\nAAA")
    with pytest.raises(InvalidSequenceError, match="share the name"):
        parse_sequences(">a\nMK\n>a\nTA\n")
    with pytest.raises(InvalidSequenceError, match="does not exist"):
        parse_sequences(__import__("pathlib").Path("/nonexistent/x.fasta"))
    with pytest.raises(InvalidSequenceError, match="cannot read"):
        parse_sequences(42)


def test_single_sequence_tools_refuse_several_records():
    assert single_sequence(">wt\nMKT\n") == ("wt", "MKT")
    with pytest.raises(InvalidSequenceError, match="contact_map takes one sequence, but the input has 2 records"):
        single_sequence(">a\nMK\n>b\nTA\n", tool="contact_map")
