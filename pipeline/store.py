"""Persistence behind one interface: the SQLite store (default) with numbered migrations.

`Store` is the seam a PostgreSQL store will implement later; everything above it (ingest, CLI,
flows) talks to the protocol, never to sqlite3 directly.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from pipeline.models import Passage, PassageKind, Source, SourceKind, SourceStatus


class Store(Protocol):
    """What the pipeline needs from persistence."""

    def get_source(self, uri: str) -> Source | None:
        """The source stored for a URI, if any."""

    def list_sources(self) -> list[Source]:
        """Every source, in URI order."""

    def save_source(self, source: Source, passages: list[Passage] | None = None) -> None:
        """Insert or update a source; when `passages` is given they replace its old ones, atomically."""

    def mark_removed(self, source_ids: Iterable[str]) -> int:
        """Mark sources removed and drop their passages; returns how many changed."""

    def passages(self, source_id: str | None = None) -> list[Passage]:
        """Passages of one source (or all), in source and reading order."""

    def count_passages(self) -> int:
        """How many passages are stored."""

    def close(self) -> None:
        """Release the connection."""


# --- migrations -------------------------------------------------------------------------
# Append-only: a released migration is never edited, a new one is added. PRAGMA user_version
# records how many have run.


def _m0001_sources_and_passages(db: sqlite3.Connection) -> None:
    db.executescript(
        """
        CREATE TABLE sources (
            id TEXT PRIMARY KEY,
            uri TEXT NOT NULL UNIQUE,
            kind TEXT,
            format TEXT,
            content_hash TEXT NOT NULL,
            community TEXT,
            visibility TEXT NOT NULL DEFAULT 'public',
            ingested_at TEXT NOT NULL,
            status TEXT NOT NULL,
            error TEXT,
            parser_version TEXT NOT NULL DEFAULT '',
            passage_count INTEGER NOT NULL DEFAULT 0,
            size_bytes INTEGER NOT NULL DEFAULT 0,
            warnings TEXT NOT NULL DEFAULT '[]'  -- parsed, but with things skipped: not errors
        );
        CREATE TABLE passages (
            id TEXT PRIMARY KEY,
            source_id TEXT NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            kind TEXT NOT NULL,
            text TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            author TEXT,
            start REAL,
            "end" REAL,
            timestamp TEXT,
            message_id TEXT,
            thread_id TEXT,
            reply_to TEXT,
            reactions TEXT NOT NULL DEFAULT '{}',
            score INTEGER,
            accepted INTEGER,
            section_path TEXT NOT NULL DEFAULT '[]',
            page INTEGER,
            element_type TEXT,
            extra TEXT NOT NULL DEFAULT '{}'
        );
        CREATE INDEX passages_by_source ON passages(source_id, seq);
        CREATE INDEX passages_by_thread ON passages(thread_id);
        """
    )


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [
    _m0001_sources_and_passages,
]


def migrate(db: sqlite3.Connection) -> int:
    """Run the migrations this database has not seen; returns the schema version reached."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    for number, step in enumerate(MIGRATIONS[version:], start=version + 1):
        with db:  # one transaction per migration, so a failure leaves a consistent version
            step(db)
            db.execute(f"PRAGMA user_version = {number}")
    return len(MIGRATIONS)


_SOURCE_COLUMNS = (
    "id uri kind format content_hash community visibility ingested_at status error "
    "parser_version passage_count size_bytes warnings"
).split()
_PASSAGE_COLUMNS = (
    "id source_id seq kind text content_hash author start end timestamp message_id thread_id "
    "reply_to reactions score accepted section_path page element_type extra"
).split()
_JSON_PASSAGE_FIELDS = ("reactions", "section_path", "extra")


class SQLiteStore:
    """The embedded default store: one SQLite file under PRACTICE_HOME."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path))
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA foreign_keys = ON")
        # WAL lets the web UI read while an ingest run writes.
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute("PRAGMA synchronous = NORMAL")
        migrate(self.db)

    # -- sources --------------------------------------------------------------------------

    def get_source(self, uri: str) -> Source | None:
        row = self.db.execute("SELECT * FROM sources WHERE uri = ?", (uri,)).fetchone()
        return _row_to_source(row) if row else None

    def list_sources(self) -> list[Source]:
        rows = self.db.execute("SELECT * FROM sources ORDER BY uri").fetchall()
        return [_row_to_source(r) for r in rows]

    def save_source(self, source: Source, passages: list[Passage] | None = None) -> None:
        with self._transaction():
            values = _source_to_row(source)
            cols = ", ".join(_SOURCE_COLUMNS)
            marks = ", ".join("?" for _ in _SOURCE_COLUMNS)
            updates = ", ".join(f"{c} = excluded.{c}" for c in _SOURCE_COLUMNS if c != "id")
            self.db.execute(
                f"INSERT INTO sources ({cols}) VALUES ({marks}) ON CONFLICT(id) DO UPDATE SET {updates}",
                [values[c] for c in _SOURCE_COLUMNS],
            )
            if passages is not None:
                self.db.execute("DELETE FROM passages WHERE source_id = ?", (source.id,))
                quoted = ", ".join(f'"{c}"' for c in _PASSAGE_COLUMNS)
                marks = ", ".join("?" for _ in _PASSAGE_COLUMNS)
                self.db.executemany(
                    f"INSERT INTO passages ({quoted}) VALUES ({marks})",
                    (_passage_to_values(p) for p in passages),
                )

    def mark_removed(self, source_ids: Iterable[str]) -> int:
        ids = list(source_ids)
        if not ids:
            return 0
        with self._transaction():
            marks = ", ".join("?" for _ in ids)
            self.db.execute(f"DELETE FROM passages WHERE source_id IN ({marks})", ids)
            cur = self.db.execute(
                f"UPDATE sources SET status = ?, passage_count = 0 WHERE id IN ({marks})",
                [SourceStatus.removed.value, *ids],
            )
            return cur.rowcount

    # -- passages -------------------------------------------------------------------------

    def passages(self, source_id: str | None = None) -> list[Passage]:
        if source_id is None:
            rows = self.db.execute(
                "SELECT p.* FROM passages p JOIN sources s ON s.id = p.source_id ORDER BY s.uri, p.seq"
            ).fetchall()
        else:
            rows = self.db.execute(
                "SELECT * FROM passages WHERE source_id = ? ORDER BY seq", (source_id,)
            ).fetchall()
        return [_row_to_passage(r) for r in rows]

    def count_passages(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM passages").fetchone()[0])

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        with self.db:
            yield


def open_store(home: Path | None = None) -> SQLiteStore:
    """Open (creating and migrating) the store under PRACTICE_HOME."""
    from pipeline.config import database_path

    return SQLiteStore(database_path(home))


# --- row mapping ---------------------------------------------------------------------------


def _source_to_row(s: Source) -> dict[str, Any]:
    row = s.model_dump()
    row["kind"] = s.kind.value if s.kind else None
    row["status"] = s.status.value
    row["ingested_at"] = s.ingested_at.isoformat()
    row["warnings"] = json.dumps(s.warnings)
    return row


def _row_to_source(row: sqlite3.Row) -> Source:
    data = dict(row)
    data["kind"] = SourceKind(data["kind"]) if data["kind"] else None
    data["status"] = SourceStatus(data["status"])
    data["ingested_at"] = datetime.fromisoformat(data["ingested_at"])
    data["warnings"] = json.loads(data.get("warnings") or "[]")
    return Source(**data)


def _passage_to_values(p: Passage) -> list[Any]:
    row = p.model_dump()
    row["kind"] = p.kind.value
    for key in _JSON_PASSAGE_FIELDS:
        row[key] = json.dumps(row[key], ensure_ascii=False, sort_keys=True)
    if row["accepted"] is not None:
        row["accepted"] = int(row["accepted"])
    return [row[c] for c in _PASSAGE_COLUMNS]


def _row_to_passage(row: sqlite3.Row) -> Passage:
    data = dict(row)
    data["kind"] = PassageKind(data["kind"])
    for key in _JSON_PASSAGE_FIELDS:
        data[key] = json.loads(data[key])
    if data["accepted"] is not None:
        data["accepted"] = bool(data["accepted"])
    return Passage(**data)
