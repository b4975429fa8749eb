"""The SQLite store: migrations, round trips, atomic passage replacement, removal."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from pipeline.models import Passage, PassageDraft, PassageKind, Source, SourceKind, SourceStatus
from pipeline.store import MIGRATIONS, SQLiteStore, migrate


def _source(uri: str = "/x/a.vtt", **kw: object) -> Source:
    return Source(id=Source.id_for(uri), kind=SourceKind.transcript, format="vtt", uri=uri, content_hash="h1", **kw)


def _passages(source_id: str, texts: list[str]) -> list[Passage]:
    drafts = [
        PassageDraft(
            kind=PassageKind.turn, text=t, author="Ana", start=float(i), end=i + 1.5,
            reactions={"+1": 2}, section_path=["A", "B"], accepted=True, extra={"k": [1, 2]},
        )  # fmt: skip
        for i, t in enumerate(texts)
    ]
    return [Passage.from_draft(d, source_id, i) for i, d in enumerate(drafts)]


def test_migrations_run_once_and_record_the_version(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "s.db")
    assert migrate(db) == len(MIGRATIONS)
    assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert migrate(db) == len(MIGRATIONS)  # second call is a no-op, not a "table exists" error
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"sources", "passages"} <= tables


def test_source_and_passages_round_trip(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    src = _source(warnings=["skipped 1 bot message"])
    passages = _passages(src.id, ["hello", "world"])
    store.save_source(src, passages)
    store.close()

    store = SQLiteStore(tmp_path / "s.db")  # reopened: data is on disk
    got = store.get_source(src.uri)
    assert got == src
    assert store.passages(src.id) == passages
    assert store.count_passages() == 2


def test_saving_passages_replaces_the_old_ones(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    src = _source()
    store.save_source(src, _passages(src.id, ["a", "b", "c"]))
    store.save_source(src.model_copy(update={"content_hash": "h2"}), _passages(src.id, ["a", "d"]))
    assert [p.text for p in store.passages(src.id)] == ["a", "d"]
    # saving the source alone (a failure record) leaves its passages in place
    store.save_source(src.model_copy(update={"status": SourceStatus.failed, "error": "boom"}))
    assert [p.text for p in store.passages(src.id)] == ["a", "d"]
    assert store.get_source(src.uri).error == "boom"


def test_mark_removed_drops_passages(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    a, b = _source("/x/a.vtt"), _source("/x/b.vtt")
    store.save_source(a, _passages(a.id, ["1", "2"]))
    store.save_source(b, _passages(b.id, ["3"]))
    assert store.mark_removed([a.id]) == 1
    assert store.get_source(a.uri).status == SourceStatus.removed
    assert store.passages(a.id) == []
    assert [p.text for p in store.passages()] == ["3"]


def test_passage_ids_derive_from_content_and_position() -> None:
    d = PassageDraft(kind=PassageKind.message, text="same text")
    assert Passage.from_draft(d, "s1", 0).id == Passage.from_draft(d, "s1", 0).id
    assert Passage.from_draft(d, "s1", 0).id != Passage.from_draft(d, "s1", 1).id
    assert Passage.from_draft(d, "s1", 0).id != Passage.from_draft(d, "s2", 0).id
    other = PassageDraft(kind=PassageKind.message, text="other text")
    assert Passage.from_draft(d, "s1", 0).id != Passage.from_draft(other, "s1", 0).id


def test_migration_0007_keeps_cached_vectors_as_torch_ones(tmp_path: Path) -> None:
    import numpy as np

    db = sqlite3.connect(tmp_path / "old.db")
    for number, step in enumerate(MIGRATIONS[:6], start=1):
        with db:
            step(db)
            db.execute(f"PRAGMA user_version = {number}")
    vector = np.array([0.25, -1.0], dtype=np.float32)
    with db:
        db.execute("INSERT INTO embeddings VALUES (?, ?, ?)", ("h1", "mini", vector.tobytes()))
    assert migrate(db) == 7
    rows = db.execute("SELECT text_hash, model, backend, vector FROM embedding_cache").fetchall()
    assert [(h, m, b) for h, m, b, _ in rows] == [("h1", "mini", "torch")]
    assert np.frombuffer(rows[0][3], dtype=np.float32).tolist() == [0.25, -1.0]
    assert not db.execute("SELECT name FROM sqlite_master WHERE name = 'embeddings'").fetchall()
    db.close()
