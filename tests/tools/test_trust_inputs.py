"""Issue 15's unclear errors outside MD: each bad input gets a named error that says what was expected and the fix,
and a literature question nothing answers says so instead of showing unrelated passages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kenkyu.core.providers.base import ProviderError
from kenkyu.core.providers.replay import load_turns
from kenkyu.tools import literature
from kenkyu.tools.literature._readers import LiteratureError
from kenkyu.tools.structure._sequences import InvalidSequenceError, parse_sequences


def test_a_fasta_path_that_does_not_exist_is_not_read_as_a_sequence(tmp_path):
    for missing in ("data/my_proteins.fasta", "lysozyme.fa", str(tmp_path / "nothing" / "seqs")):
        with pytest.raises(InvalidSequenceError, match="does not exist.*read as a path, not as a sequence"):
            parse_sequences(missing)
    with pytest.raises(InvalidSequenceError, match="is a folder, not a FASTA file"):
        parse_sequences(str(tmp_path))
    # A real sequence is still a sequence, and a real file is still read.
    assert parse_sequences("MKTAYIAKQR") == [("seq1", "MKTAYIAKQR")]
    fasta = tmp_path / "one.fasta"
    fasta.write_text(">lyz\nKVFGR\n")
    assert parse_sequences(str(fasta)) == [("lyz", "KVFGR")]


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ('{"conversation": []}', 'no "turns" key'),
        ('{"turns": {"text": "hi"}}', '"turns" must be a list, not dict'),
        ('{"turns": ["hello"]}', "turn 1: a turn must be an object, not str"),
        ('{"turns": [{"text": 42}]}', 'turn 1: "text" must be a string, not int'),
        ('{"turns": [{"text": "ok"}, {"tool_calls": [{"arguments": {}}]}]}', 'turn 2: tool call 1 needs a "name"'),
        ('{"turns": [{"tool_calls": {"name": "x"}}]}', '"tool_calls" must be a list'),
        ("turns: [text: hi]", "not valid JSON"),
    ],
)
def test_malformed_replay_files_say_the_expected_shape(tmp_path, content, words):
    path = tmp_path / "turns.json"
    path.write_text(content)
    with pytest.raises(ProviderError) as info:
        load_turns(path)
    shown = f"{info.value} {getattr(info.value, 'fix', '')}"
    assert words in shown
    assert '{"turns": [{"text": "...", "tool_calls": [{"name": "tool_name"' in shown


def test_a_good_replay_file_still_loads(tmp_path):
    path = tmp_path / "turns.json"
    turns = [
        {"text": "hi", "tool_calls": [{"name": "md_run", "arguments": {"structure": "x.pdb"}}]},
        {"raise": "timeout"},
    ]
    path.write_text(json.dumps({"turns": turns}))
    assert load_turns(path) == turns


def test_an_empty_folder_to_ingest_says_which_file_types_were_looked_for(tmp_path):
    papers = tmp_path / "papers"
    papers.mkdir()
    with pytest.raises(
        LiteratureError, match=r"holds no file kenkyu can ingest \(looked for \.pdf, \.md.*no files at all"
    ):
        literature.ingest([papers], str(tmp_path / "index"), progress=False)
    (papers / "draft.docx").write_bytes(b"PK")
    (papers / "data.csv").write_text("a,b\n")
    with pytest.raises(LiteratureError, match=r"it holds 1 \.csv, 1 \.docx"):
        literature.ingest([papers], str(tmp_path / "index"), progress=False)


@pytest.fixture(scope="module")
def small_index(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("notes")
    (folder / "lipase.md").write_text(
        "# Lipase assays\n\nLipase activity was measured in 50 mM Tris buffer at pH 8.0 with p-nitrophenyl "
        "butyrate; the enzyme lost half its activity after 30 minutes at 60 degrees.\n"
    )
    index = str(folder / "index")
    literature.ingest([folder / "lipase.md"], index, progress=False)
    return index


def test_a_question_no_passage_is_about_says_so_without_unrelated_passages(small_index):
    result = literature.ask("Who won the 1998 football world cup final?", small_index, llm=False)
    assert result.evidence == "missing" and result.citations == []
    assert "does not answer this: no passage is about the question" in result.summary()
    assert "Tris" not in result.summary() and "Tris" not in result._repr_html_()
    # Searching (not asking) still lists the nearest passages, but says they are not about the query.
    nearest = literature.search("Who won the 1998 football world cup final?", small_index)
    assert "None of them is about the query" in nearest.summary()
    assert "None of them" not in literature.search("lipase activity buffer", small_index).summary()
    # A question the notes do answer still gets its passage.
    hit = literature.ask("Which buffer was used to measure lipase activity?", small_index, llm=False)
    assert hit.evidence == "passages-only" and "Tris" in hit.summary()


def test_a_large_text_file_warns_at_once_and_shows_progress_while_splitting(tmp_path, monkeypatch, capsys):
    from kenkyu.tools.literature import _ingest

    # The threshold is lowered so the test stays fast; the behaviour is the one a 50 MB file gets.
    monkeypatch.setattr(_ingest, "LARGE_FILE_BYTES", 20_000)
    monkeypatch.setattr(_ingest, "SPLIT_BLOCK_CHARS", 10_000)
    big = tmp_path / "big_notes.txt"
    paragraph = "Enzyme kinetics of lipase variants were measured at several temperatures and pH values. " * 5
    big.write_text("\n\n".join(f"{i}. {paragraph}" for i in range(80)))
    with pytest.warns(UserWarning, match=r"big_notes.txt is 0 MB: about \d+ passages .* progress is shown"):
        report = literature.ingest([big], str(tmp_path / "index"), progress=True)
    assert any("big_notes.txt" in w for w in report.warnings)
    assert "splitting big_notes.txt" in capsys.readouterr().err
    assert report.embedded > 10 and Path(report.index).exists()


def test_a_device_or_folder_where_a_file_is_expected(tmp_path):
    import os

    if os.path.exists("/dev/null"):
        with pytest.raises(LiteratureError, match="device or special file"):
            literature.ingest(["/dev/null"], str(tmp_path / "index"), progress=False)
    with pytest.raises(ProviderError, match="is a folder or device, not a file"):
        load_turns(tmp_path)


def test_a_folder_emptied_on_purpose_still_drops_its_papers_from_the_index(tmp_path):
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "old.md").write_text("# Old note\n\nThermal stability of lipase at 60 degrees.\n")
    index = str(tmp_path / "index")
    literature.ingest([notes], index, progress=False)
    (notes / "old.md").unlink()
    report = literature.ingest([notes], index, progress=False)
    assert [Path(key).name for key in report.removed] == ["old.md"] and report.documents == 0
