"""Ingestion over real files on disk: incremental runs, changes, pruning and bad input."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from pipeline.ingest import IngestOptions, ingest_paths
from pipeline.models import SourceStatus
from pipeline.sources.base import Limits
from pipeline.store import SQLiteStore
from tests.badfiles import write_broken_files

VTT = """WEBVTT

00:00:01.000 --> 00:00:04.000
Ana Lima: How do you all deal with flaky tests?

00:00:05.000 --> 00:00:09.000
Ben Ode: We quarantine them and fix them within a week.
"""
MD = """# Handbook

## Recommendations

Always pin base images.
"""
TURNS = """Ana: Shall we move the retro to Thursday?
Ben: Yes, Thursday works.
Ana: Decided then.
"""


def write_good_files(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "retro.vtt").write_text(VTT)
    (folder / "handbook.md").write_text(MD)
    (folder / "sync.txt").write_text(TURNS)


def dump(db_path: Path) -> list[tuple[object, ...]]:
    """Every stored row, to compare store states exactly."""
    db = sqlite3.connect(db_path)
    rows = db.execute("SELECT * FROM sources ORDER BY id").fetchall()
    rows += db.execute("SELECT * FROM passages ORDER BY id").fetchall()
    db.close()
    return rows


@pytest.fixture()
def store(tmp_path: Path) -> SQLiteStore:
    return SQLiteStore(tmp_path / "home" / "practice.sqlite3")


def test_first_run_ingests_every_source(tmp_path: Path, store: SQLiteStore) -> None:
    write_good_files(tmp_path / "src")
    report = ingest_paths(store, [tmp_path / "src"])
    assert report.counts["new"] == 3 and not report.failures
    by_name = {Path(s.uri).name: s for s in store.list_sources()}
    assert by_name["retro.vtt"].kind.value == "transcript" and by_name["retro.vtt"].passage_count == 2
    assert by_name["handbook.md"].kind.value == "document"
    assert by_name["sync.txt"].kind.value == "transcript"
    turns = store.passages(by_name["retro.vtt"].id)
    assert [(p.author, p.start, p.end) for p in turns] == [("Ana Lima", 1.0, 4.0), ("Ben Ode", 5.0, 9.0)]


def test_second_run_over_unchanged_sources_writes_nothing(tmp_path: Path, store: SQLiteStore) -> None:
    write_good_files(tmp_path / "src")
    ingest_paths(store, [tmp_path / "src"])
    before = dump(store.path)
    changes_before = store.db.total_changes
    report = ingest_paths(store, [tmp_path / "src"])
    assert report.counts["unchanged"] == 3 and report.passages_written == 0
    assert store.db.total_changes == changes_before  # not one row written
    assert dump(store.path) == before


def test_changed_source_replaces_its_passages(tmp_path: Path, store: SQLiteStore) -> None:
    write_good_files(tmp_path / "src")
    ingest_paths(store, [tmp_path / "src"])
    (tmp_path / "src" / "handbook.md").write_text(MD + "\nAvoid long-lived branches.\n")
    report = ingest_paths(store, [tmp_path / "src"])
    assert report.counts == {**report.counts, "changed": 1, "unchanged": 2}
    src = store.get_source(str((tmp_path / "src" / "handbook.md").resolve()))
    texts = [p.text for p in store.passages(src.id)]
    assert "Avoid long-lived branches." in texts
    assert len(texts) == len(set(p.id for p in store.passages(src.id)))


def test_prune_marks_vanished_sources_removed(tmp_path: Path, store: SQLiteStore) -> None:
    write_good_files(tmp_path / "src")
    ingest_paths(store, [tmp_path / "src"])
    (tmp_path / "src" / "sync.txt").unlink()
    report = ingest_paths(store, [tmp_path / "src"])  # without --prune nothing is removed
    assert report.counts["removed"] == 0
    report = ingest_paths(store, [tmp_path / "src"], prune_missing=True)
    assert report.counts["removed"] == 1
    gone = store.get_source(str((tmp_path / "src" / "sync.txt").resolve()))
    assert gone.status == SourceStatus.removed and store.passages(gone.id) == []
    # the file coming back makes it a live source again
    (tmp_path / "src" / "sync.txt").write_text(TURNS)
    report = ingest_paths(store, [tmp_path / "src"], prune_missing=True)
    assert report.counts["new"] == 1 and store.get_source(gone.uri).status == SourceStatus.ok


def test_bad_files_fail_alone_with_reasons(tmp_path: Path, store: SQLiteStore) -> None:
    write_good_files(tmp_path / "src")
    expected = write_broken_files(tmp_path / "src" / "broken")
    options = IngestOptions(limits=Limits(max_source_bytes=1024 * 1024))
    report = ingest_paths(store, [tmp_path / "src"], options)

    assert report.counts["new"] == 3, [o for o in report.outcomes if o.status == "new"]
    failed = {Path(o.uri).name: o.error or "" for o in report.failures}
    assert set(failed) == set(expected), failed
    for name, word in expected.items():
        assert word in failed[name].lower(), f"{name}: {failed[name]!r} should mention {word!r}"
    stored = {Path(s.uri).name: s for s in store.list_sources()}
    assert all(stored[n].status == SourceStatus.failed and stored[n].error for n in expected)


def test_a_corrupt_update_keeps_the_last_good_passages(tmp_path: Path, store: SQLiteStore) -> None:
    write_good_files(tmp_path / "src")
    ingest_paths(store, [tmp_path / "src"])
    vtt = tmp_path / "src" / "retro.vtt"
    vtt.write_bytes(b"\xff\xfe\x00garbage")
    report = ingest_paths(store, [tmp_path / "src"])
    assert [Path(o.uri).name for o in report.failures] == ["retro.vtt"]
    src = store.get_source(str(vtt.resolve()))
    assert src.status == SourceStatus.failed and len(store.passages(src.id)) == 2


def test_missing_path_is_reported(tmp_path: Path, store: SQLiteStore) -> None:
    report = ingest_paths(store, [tmp_path / "nope.vtt"])
    assert report.failures[0].error == "no such file or folder"


def test_a_latin1_note_is_ingested_and_its_encoding_is_a_warning(tmp_path: Path, store: SQLiteStore) -> None:
    # What a user saves from an old editor: no UTF-8 anywhere, still plain text to any reader.
    (tmp_path / "src").mkdir()
    note = "Café retro\n\nKeep retrospectives short: one owner per action, reviewed next week.\n"
    (tmp_path / "src" / "retro.txt").write_bytes(note.encode("latin-1"))
    report = ingest_paths(store, [tmp_path / "src"])
    [outcome] = report.outcomes
    assert outcome.status == "new", outcome.error
    assert any("is not UTF-8: read as cp1252" in w for w in outcome.warnings), outcome.warnings
    source = store.get_source(outcome.uri)
    assert "Café retro" in " ".join(p.text for p in store.passages(source.id))
