"""Persistence behind one interface: the SQLite store (default) with numbered migrations.

`Store` is the seam a PostgreSQL store will implement later; everything above it (ingest, CLI,
flows) talks to the protocol, never to sqlite3 directly.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from pipeline.models import Artefact, Candidate, Passage, ReviewEvent, PassageKind, Source, SourceKind, SourceStatus, utcnow


# Redo a writer's change on the artefact as stored now (None: it is gone; return None to give up).
Rebase = Callable[[Artefact | None, Artefact], Artefact | None]


class ArtefactConflict(Exception):
    """An artefact changed between a writer's read and its write (optimistic concurrency)."""

    def __init__(self, ids: list[str]) -> None:
        super().__init__(f"artefacts changed meanwhile: {', '.join(ids)}")
        self.ids = ids


class Store(Protocol):
    """What the pipeline needs from persistence."""

    def get_source(self, uri: str) -> Source | None:
        """The source stored for a URI, if any."""

    def list_sources(self) -> list[Source]:
        """Every source, in URI order."""

    def save_source(self, source: Source, passages: list[Passage] | None = None) -> None:
        """Insert or update a source; when `passages` is given they replace its old ones, atomically."""

    def mark_removed(self, source_ids: Iterable[str]) -> int:
        """Mark sources removed and drop their passages and candidates; returns how many changed."""

    def passages(self, source_id: str | None = None) -> list[Passage]:
        """Passages of one source (or all), in source and reading order."""

    def count_passages(self) -> int:
        """How many passages are stored."""

    def passages_in_range(self, source_id: str, first_seq: int, last_seq: int) -> list[Passage]:
        """The passages of one source between two positions (inclusive), in order."""

    def thread_passages(self, source_id: str, thread_id: str, limit: int = 400) -> list[Passage]:
        """The messages of one thread of a source, in order."""

    def extracted_hash(self, source_id: str, extractor: str) -> str | None:
        """The source content hash an extractor last processed, if any."""

    def replace_candidates(
        self, source_id: str, extractor: str, content_hash: str, candidates: list[Candidate]
    ) -> tuple[int, int]:
        """Make `candidates` the extractor's output for a source; returns (created, deleted)."""

    def candidates(
        self,
        kind: str | None = None,
        status: str | None = None,
        source_id: str | None = None,
        extractor: str | None = None,
    ) -> list[Candidate]:
        """Stored candidates, filtered, in creation order."""

    def passages_by_id(self, ids: Iterable[str]) -> dict[str, Passage]:
        """The passages with the given ids (missing ids are absent from the result)."""

    def cache(self, namespace: str) -> MutableMapping[str, str]:
        """A persistent key-value cache (used for LLM responses)."""

    def get_embeddings(self, text_hashes: Iterable[str], model: str) -> dict[str, np.ndarray]:
        """Cached vectors by text hash for one model (missing hashes are absent)."""

    def put_embeddings(self, model: str, vectors: dict[str, np.ndarray]) -> None:
        """Cache vectors by text hash for one model."""

    def unassigned_candidates(self) -> list[Candidate]:
        """Candidates not yet folded into any artefact."""

    def artefacts(self, kind: str | None = None, status: str | None = None) -> list[Artefact]:
        """Stored artefacts, filtered."""

    def get_artefact(self, artefact_id: str) -> Artefact | None:
        """One artefact by id."""

    def versioned_artefacts(self, ids: Iterable[str] | None = None) -> dict[str, tuple[Artefact, int]]:
        """Artefacts (all, or those with the given ids) with the version each was read at."""

    def artefact_ids_for_sources(self, source_ids: Iterable[str]) -> list[str]:
        """Artefacts with at least one member candidate from the given sources."""

    def save_artefacts(self, artefacts: Iterable[Artefact], expected_versions: Mapping[str, int] | None = None) -> list[str]:
        """Insert or update artefacts and their candidate membership, atomically; returns the conflicts.

        Without `expected_versions` every artefact is written. With it, each is written only if its
        stored version still is the one given (0 or absent: it must not exist yet); the ids that
        changed meanwhile are not written and are returned.
        """

    def update_artefacts(
        self, artefacts: Iterable[Artefact], expected_versions: Mapping[str, int], rebase: Rebase, attempts: int = 5
    ) -> list[str]:
        """Optimistic write: `save_artefacts` with versions, retried on conflict; returns the ids given up.

        On a conflict the stored artefact is read again and `rebase(current, attempted)` redoes the
        writer's change on it (None: give up on that artefact; a later run redoes the work).
        """

    def replace_suggestions(self, pairs: Iterable[tuple[str, str, float]]) -> None:
        """Replace the possible-duplicate suggestions."""

    def suggestions(self, artefact_id: str | None = None) -> list[tuple[str, str, float]]:
        """Possible-duplicate pairs (optionally only those involving one artefact), best first."""

    def save_review(
        self, artefacts: list[Artefact], events: list[ReviewEvent], expected_versions: Mapping[str, int] | None = None
    ) -> None:
        """Write reviewed artefacts and their audit events in one transaction.

        With `expected_versions`, raises `ArtefactConflict` (writing nothing) if any artefact
        changed since it was read."""

    def review_events(self, artefact_id: str | None = None, limit: int = 200) -> list[ReviewEvent]:
        """Audit events, newest first."""

    def add_user(self, name: str, role: str, groups: list[str], token_hash: str) -> None:
        """Create a user (name unique)."""

    def user_by_token_hash(self, token_hash: str) -> dict[str, Any] | None:
        """The user row a token hash belongs to."""

    def users(self) -> list[dict[str, Any]]:
        """Every user row (no token hashes)."""

    def revoke_user(self, name: str) -> bool:
        """Revoke a user's token; False if no such user."""

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


def _m0002_candidates(db: sqlite3.Connection) -> None:
    db.executescript(
        """
        CREATE TABLE candidates (
            id TEXT PRIMARY KEY,
            source_id TEXT NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
            kind TEXT NOT NULL,
            status TEXT NOT NULL,
            extractor TEXT NOT NULL,
            created_at TEXT NOT NULL,
            body TEXT NOT NULL  -- the whole candidate as JSON (fields, evidence, provenance)
        );
        CREATE INDEX candidates_by_source ON candidates(source_id, extractor);
        CREATE INDEX candidates_by_kind_status ON candidates(kind, status);
        -- which source content each extractor has seen: what makes re-runs free
        CREATE TABLE extraction_state (
            source_id TEXT NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
            extractor TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            extracted_at TEXT NOT NULL,
            PRIMARY KEY (source_id, extractor)
        );
        CREATE TABLE llm_cache (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        """
    )


def _m0003_embeddings_and_artefacts(db: sqlite3.Connection) -> None:
    db.executescript(
        """
        CREATE TABLE embeddings (
            text_hash TEXT NOT NULL,
            model TEXT NOT NULL,
            vector BLOB NOT NULL,  -- float32, native byte order
            PRIMARY KEY (text_hash, model)
        );
        CREATE TABLE artefacts (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            status TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            body TEXT NOT NULL  -- the whole artefact as JSON
        );
        CREATE INDEX artefacts_by_kind_status ON artefacts(kind, status);
        -- which artefact each candidate folded into (derived from artefacts.body, kept for lookups)
        CREATE TABLE artefact_members (
            candidate_id TEXT PRIMARY KEY,
            artefact_id TEXT NOT NULL REFERENCES artefacts(id) ON DELETE CASCADE
        );
        CREATE INDEX members_by_artefact ON artefact_members(artefact_id);
        CREATE TABLE suggestions (
            artefact_a TEXT NOT NULL,
            artefact_b TEXT NOT NULL,
            score REAL NOT NULL,
            PRIMARY KEY (artefact_a, artefact_b)
        );
        """
    )


def _m0004_users_and_review_log(db: sqlite3.Connection) -> None:
    db.executescript(
        """
        CREATE TABLE users (
            name TEXT PRIMARY KEY,
            role TEXT NOT NULL,
            groups TEXT NOT NULL DEFAULT '[]',
            token_hash TEXT NOT NULL UNIQUE,  -- sha256 of the token; the token itself is never stored
            revoked INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL
        );
        CREATE TABLE review_events (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            artefact_id TEXT NOT NULL,
            before TEXT,
            after TEXT,
            note TEXT
        );
        CREATE INDEX review_events_by_artefact ON review_events(artefact_id, id);
        -- the audit trail is append-only: the database itself refuses edits and deletions
        CREATE TRIGGER review_events_no_update BEFORE UPDATE ON review_events
            BEGIN SELECT RAISE(ABORT, 'review_events is append-only'); END;
        CREATE TRIGGER review_events_no_delete BEFORE DELETE ON review_events
            BEGIN SELECT RAISE(ABORT, 'review_events is append-only'); END;
        """
    )


def _m0005_artefact_versions(db: sqlite3.Connection) -> None:
    # Optimistic concurrency: every write of an artefact bumps its version, and a stage or a
    # reviewer writes only over the version it read (reviewer work is never overwritten).
    db.execute("ALTER TABLE artefacts ADD COLUMN version INTEGER NOT NULL DEFAULT 1")


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [
    _m0001_sources_and_passages,
    _m0002_candidates,
    _m0003_embeddings_and_artefacts,
    _m0004_users_and_review_log,
    _m0005_artefact_versions,
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
        self._depth = 0
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
            # Candidates rest on those passages: their evidence goes with the source.
            self.db.execute(f"DELETE FROM candidates WHERE source_id IN ({marks})", ids)
            self.db.execute(f"DELETE FROM extraction_state WHERE source_id IN ({marks})", ids)
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

    def passages_in_range(self, source_id: str, first_seq: int, last_seq: int) -> list[Passage]:
        rows = self.db.execute(
            "SELECT * FROM passages WHERE source_id = ? AND seq BETWEEN ? AND ? ORDER BY seq",
            (source_id, first_seq, last_seq),
        )
        return [_row_to_passage(r) for r in rows]

    def thread_passages(self, source_id: str, thread_id: str, limit: int = 400) -> list[Passage]:
        rows = self.db.execute(
            "SELECT * FROM passages WHERE source_id = ? AND thread_id = ? ORDER BY seq LIMIT ?",
            (source_id, thread_id, limit),
        )
        return [_row_to_passage(r) for r in rows]

    # -- candidates ---------------------------------------------------------------------------

    def extracted_hash(self, source_id: str, extractor: str) -> str | None:
        row = self.db.execute(
            "SELECT content_hash FROM extraction_state WHERE source_id = ? AND extractor = ?",
            (source_id, extractor),
        ).fetchone()
        return row[0] if row else None

    def replace_candidates(
        self, source_id: str, extractor: str, content_hash: str, candidates: list[Candidate]
    ) -> tuple[int, int]:
        with self._transaction():
            old = {
                r[0]
                for r in self.db.execute(
                    "SELECT id FROM candidates WHERE source_id = ? AND extractor = ?", (source_id, extractor)
                )
            }
            new = {c.id: c for c in candidates}
            gone = old - set(new)
            if gone:
                marks = ", ".join("?" for _ in gone)
                self.db.execute(f"DELETE FROM candidates WHERE id IN ({marks})", list(gone))
            # Existing ids are left untouched: same content, same row (and review state kept).
            self.db.executemany(
                "INSERT INTO candidates (id, source_id, kind, status, extractor, created_at, body) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING",
                [
                    (c.id, source_id, c.kind.value, c.status.value, extractor, c.created_at.isoformat(),
                     c.model_dump_json())
                    for cid, c in new.items()
                    if cid not in old
                ],
            )  # fmt: skip
            self.db.execute(
                "INSERT INTO extraction_state (source_id, extractor, content_hash, extracted_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT(source_id, extractor) DO UPDATE SET "
                "content_hash = excluded.content_hash, extracted_at = excluded.extracted_at",
                (source_id, extractor, content_hash, utcnow().isoformat()),
            )
            return len(set(new) - old), len(gone)

    def candidates(
        self,
        kind: str | None = None,
        status: str | None = None,
        source_id: str | None = None,
        extractor: str | None = None,
    ) -> list[Candidate]:
        clauses, args = [], []
        filters = (("kind", kind), ("status", status), ("source_id", source_id), ("extractor", extractor))
        for column, value in filters:
            if value is not None:
                clauses.append(f"{column} = ?")
                args.append(value)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self.db.execute(f"SELECT body FROM candidates {where} ORDER BY created_at, id", args)
        return [Candidate.model_validate_json(r[0]) for r in rows]

    def passages_by_id(self, ids: Iterable[str]) -> dict[str, Passage]:
        ids = list(dict.fromkeys(ids))
        found: dict[str, Passage] = {}
        for i in range(0, len(ids), 500):  # stay under SQLite's bound-parameter limit
            chunk = ids[i : i + 500]
            marks = ", ".join("?" for _ in chunk)
            for row in self.db.execute(f"SELECT * FROM passages WHERE id IN ({marks})", chunk):
                p = _row_to_passage(row)
                found[p.id] = p
        return found

    def cache(self, namespace: str) -> MutableMapping[str, str]:
        return _SQLiteCache(self, namespace)

    # -- embeddings -------------------------------------------------------------------------

    def get_embeddings(self, text_hashes: Iterable[str], model: str) -> dict[str, np.ndarray]:
        hashes = list(dict.fromkeys(text_hashes))
        found: dict[str, np.ndarray] = {}
        for i in range(0, len(hashes), 500):
            chunk = hashes[i : i + 500]
            marks = ", ".join("?" for _ in chunk)
            rows = self.db.execute(
                f"SELECT text_hash, vector FROM embeddings WHERE model = ? AND text_hash IN ({marks})",
                [model, *chunk],
            )
            for h, blob in rows:
                found[h] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put_embeddings(self, model: str, vectors: dict[str, np.ndarray]) -> None:
        with self._transaction():
            self.db.executemany(
                "INSERT OR REPLACE INTO embeddings (text_hash, model, vector) VALUES (?, ?, ?)",
                [(h, model, np.asarray(v, dtype=np.float32).tobytes()) for h, v in vectors.items()],
            )

    # -- artefacts --------------------------------------------------------------------------

    def unassigned_candidates(self) -> list[Candidate]:
        rows = self.db.execute(
            "SELECT c.body FROM candidates c LEFT JOIN artefact_members m ON m.candidate_id = c.id "
            "WHERE m.artefact_id IS NULL ORDER BY c.created_at, c.id"
        )
        return [Candidate.model_validate_json(r[0]) for r in rows]

    def artefacts(self, kind: str | None = None, status: str | None = None) -> list[Artefact]:
        clauses, args = [], []
        for column, value in (("kind", kind), ("status", status)):
            if value is not None:
                clauses.append(f"{column} = ?")
                args.append(value)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self.db.execute(f"SELECT body FROM artefacts {where} ORDER BY id", args)
        return [Artefact.model_validate_json(r[0]) for r in rows]

    def get_artefact(self, artefact_id: str) -> Artefact | None:
        row = self.db.execute("SELECT body FROM artefacts WHERE id = ?", (artefact_id,)).fetchone()
        return Artefact.model_validate_json(row[0]) if row else None

    def versioned_artefacts(self, ids: Iterable[str] | None = None) -> dict[str, tuple[Artefact, int]]:
        if ids is None:
            rows = self.db.execute("SELECT body, version FROM artefacts ORDER BY id").fetchall()
        else:
            wanted, rows = list(dict.fromkeys(ids)), []
            for i in range(0, len(wanted), 500):
                chunk = wanted[i : i + 500]
                marks = ", ".join("?" for _ in chunk)
                rows += self.db.execute(f"SELECT body, version FROM artefacts WHERE id IN ({marks})", chunk).fetchall()
        found = ((Artefact.model_validate_json(body), int(version)) for body, version in rows)
        return {a.id: (a, v) for a, v in found}

    def artefact_ids_for_sources(self, source_ids: Iterable[str]) -> list[str]:
        ids, found = list(dict.fromkeys(source_ids)), set()
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            marks = ", ".join("?" for _ in chunk)
            rows = self.db.execute(
                "SELECT DISTINCT m.artefact_id FROM artefact_members m JOIN candidates c ON c.id = m.candidate_id "
                f"WHERE c.source_id IN ({marks})",
                chunk,
            )
            found.update(r[0] for r in rows)
        return sorted(found)

    def save_artefacts(self, artefacts: Iterable[Artefact], expected_versions: Mapping[str, int] | None = None) -> list[str]:
        conflicts = []
        with self._transaction():
            for a in artefacts:
                row = (a.kind.value, a.status.value, a.updated_at.isoformat(), a.model_dump_json())
                if expected_versions is None:
                    self.db.execute(
                        "INSERT INTO artefacts (id, kind, status, updated_at, body) VALUES (?, ?, ?, ?, ?) "
                        "ON CONFLICT(id) DO UPDATE SET kind = excluded.kind, status = excluded.status, "
                        "updated_at = excluded.updated_at, body = excluded.body, version = version + 1",
                        (a.id, *row),
                    )
                elif not self._compare_and_swap(a.id, row, expected_versions.get(a.id, 0)):
                    conflicts.append(a.id)
                    continue
                self.db.execute("DELETE FROM artefact_members WHERE artefact_id = ?", (a.id,))
                self.db.executemany(
                    "INSERT OR REPLACE INTO artefact_members (candidate_id, artefact_id) VALUES (?, ?)",
                    [(cid, a.id) for cid in a.candidate_ids],
                )
        return conflicts

    def _compare_and_swap(self, artefact_id: str, row: tuple[str, str, str, str], expected: int) -> bool:
        """Write one artefact only over the version its writer read (0: only if it does not exist yet)."""
        if expected == 0:
            cur = self.db.execute(
                "INSERT INTO artefacts (id, kind, status, updated_at, body) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT(id) DO NOTHING",
                (artefact_id, *row),
            )
        else:
            cur = self.db.execute(
                "UPDATE artefacts SET kind = ?, status = ?, updated_at = ?, body = ?, version = version + 1 "
                "WHERE id = ? AND version = ?",
                (*row, artefact_id, expected),
            )
        return cur.rowcount == 1

    def update_artefacts(
        self, artefacts: Iterable[Artefact], expected_versions: Mapping[str, int], rebase: Rebase, attempts: int = 5
    ) -> list[str]:
        pending, versions, given_up = list(artefacts), dict(expected_versions), []
        for attempt in range(attempts):
            conflicts = set(self.save_artefacts(pending, versions))
            if not conflicts:
                break
            current = self.versioned_artefacts(conflicts)
            retry = []
            for attempted in (a for a in pending if a.id in conflicts):
                stored, version = current.get(attempted.id, (None, 0))
                redone = rebase(stored, attempted) if attempt + 1 < attempts else None
                if redone is None:
                    given_up.append(attempted.id)
                else:
                    retry.append(redone)
                    versions[attempted.id] = version
            pending = retry
        return given_up

    def replace_suggestions(self, pairs: Iterable[tuple[str, str, float]]) -> None:
        with self._transaction():
            self.db.execute("DELETE FROM suggestions")
            self.db.executemany(
                "INSERT OR REPLACE INTO suggestions (artefact_a, artefact_b, score) VALUES (?, ?, ?)",
                [(min(a, b), max(a, b), s) for a, b, s in pairs],
            )

    def suggestions(self, artefact_id: str | None = None) -> list[tuple[str, str, float]]:
        if artefact_id is None:
            rows = self.db.execute("SELECT artefact_a, artefact_b, score FROM suggestions ORDER BY score DESC")
        else:
            rows = self.db.execute(
                "SELECT artefact_a, artefact_b, score FROM suggestions WHERE artefact_a = ? OR artefact_b = ? "
                "ORDER BY score DESC",
                (artefact_id, artefact_id),
            )
        return [(a, b, float(s)) for a, b, s in rows]

    # -- review log and users -------------------------------------------------------------------

    def save_review(
        self, artefacts: list[Artefact], events: list[ReviewEvent], expected_versions: Mapping[str, int] | None = None
    ) -> None:
        with self._transaction():
            conflicts = self.save_artefacts(artefacts, expected_versions)  # nested: joins this transaction
            if conflicts:
                raise ArtefactConflict(conflicts)  # rolls the whole action back, its events included
            self.db.executemany(
                "INSERT INTO review_events (at, actor, action, artefact_id, before, after, note) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (e.at.isoformat(), e.actor, e.action, e.artefact_id,
                     json.dumps(e.before, default=str) if e.before is not None else None,
                     json.dumps(e.after, default=str) if e.after is not None else None, e.note)
                    for e in events
                ],
            )  # fmt: skip

    def review_events(self, artefact_id: str | None = None, limit: int = 200) -> list[ReviewEvent]:
        where, args = ("WHERE artefact_id = ?", [artefact_id]) if artefact_id else ("", [])
        rows = self.db.execute(f"SELECT * FROM review_events {where} ORDER BY id DESC LIMIT ?", [*args, limit])
        return [
            ReviewEvent(
                id=r["id"], at=datetime.fromisoformat(r["at"]), actor=r["actor"], action=r["action"],
                artefact_id=r["artefact_id"], before=json.loads(r["before"]) if r["before"] else None,
                after=json.loads(r["after"]) if r["after"] else None, note=r["note"],
            )  # fmt: skip
            for r in rows
        ]

    def add_user(self, name: str, role: str, groups: list[str], token_hash: str) -> None:
        with self._transaction():
            self.db.execute(
                "INSERT INTO users (name, role, groups, token_hash, revoked, created_at) VALUES (?, ?, ?, ?, 0, ?)",
                (name, role, json.dumps(sorted(set(groups))), token_hash, utcnow().isoformat()),
            )

    def user_by_token_hash(self, token_hash: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT * FROM users WHERE token_hash = ?", (token_hash,)).fetchone()
        return _user_row(row) if row else None

    def users(self) -> list[dict[str, Any]]:
        return [_user_row(r) for r in self.db.execute("SELECT * FROM users ORDER BY name")]

    def revoke_user(self, name: str) -> bool:
        with self._transaction():
            return self.db.execute("UPDATE users SET revoked = 1 WHERE name = ?", (name,)).rowcount > 0

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        # Re-entrant: only the outermost block commits or rolls back, so a method that writes
        # in a transaction can be composed into a larger one (a review action and its log entry).
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self._depth = 1
        try:
            with self.db:
                yield
        finally:
            self._depth = 0


class _SQLiteCache(MutableMapping[str, str]):
    """A namespaced key-value table, so an LLM answer survives between runs."""

    def __init__(self, store: SQLiteStore, namespace: str) -> None:
        self.store, self.prefix = store, f"{namespace}:"

    def __getitem__(self, key: str) -> str:
        row = self.store.db.execute("SELECT value FROM llm_cache WHERE key = ?", (self.prefix + key,)).fetchone()
        if row is None:
            raise KeyError(key)
        return str(row[0])

    def __setitem__(self, key: str, value: str) -> None:
        with self.store._transaction():
            self.store.db.execute(
                "INSERT INTO llm_cache (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (self.prefix + key, value),
            )

    def __delitem__(self, key: str) -> None:
        with self.store._transaction():
            if self.store.db.execute("DELETE FROM llm_cache WHERE key = ?", (self.prefix + key,)).rowcount == 0:
                raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        rows = self.store.db.execute("SELECT key FROM llm_cache WHERE key LIKE ?", (self.prefix + "%",)).fetchall()
        return iter([r[0][len(self.prefix) :] for r in rows])

    def __len__(self) -> int:
        return sum(1 for _ in self)


def open_store(home: Path | None = None) -> SQLiteStore:
    """Open (creating and migrating) the store under PRACTICE_HOME."""
    from pipeline.config import database_path

    return SQLiteStore(database_path(home))


# --- row mapping ---------------------------------------------------------------------------


def _user_row(row: sqlite3.Row) -> dict[str, Any]:
    data = {k: row[k] for k in row.keys() if k != "token_hash"}
    data["groups"] = json.loads(data["groups"])
    data["revoked"] = bool(data["revoked"])
    return data


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
