"""ingest refuses an index folder inside (or equal to) a folder it ingests: Chroma's files would be read as papers
by the next ingest of that folder (newcomer R7 O5: ``ingest(paths='notes/', index='notes/')`` was accepted)."""

from __future__ import annotations

import pytest

from kenkyu.tools import literature


@pytest.mark.parametrize("index", ["notes", "notes/index"])
def test_an_index_inside_the_folder_being_ingested_is_refused_before_anything_is_written(tmp_path, monkeypatch, index):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "villin.md").write_text("# Villin\n\nHP35 folds in microseconds.\n")
    with pytest.raises(literature.LiteratureError, match=r"inside 'notes/', the folder being ingested") as raised:
        literature.ingest(paths="notes/", index=index, progress=False)
    assert "leave index out (the default is 'literature_index')" in str(raised.value)
    assert sorted(p.name for p in (tmp_path / "notes").iterdir()) == ["villin.md"]  # no Chroma file among the notes
