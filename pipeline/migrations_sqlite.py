"""The SQLite schema: numbered migrations, recorded in PRAGMA user_version.

Every migration here has a twin with the same number in `migrations_pg` (the PostgreSQL schema).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable


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


def _m0006_leases(db: sqlite3.Connection) -> None:
    # One writer at a time: the run holding the "writer" lease renews its expiry while it lives;
    # a lease whose expiry passed (or whose process is gone) is taken over by the next run.
    db.execute(
        """
        CREATE TABLE leases (
            name TEXT PRIMARY KEY,
            holder TEXT NOT NULL,       -- the run id
            host TEXT NOT NULL,
            pid INTEGER NOT NULL,
            acquired_at REAL NOT NULL,  -- seconds since the epoch
            expires_at REAL NOT NULL
        )
        """
    )


def _m0007_embedding_cache(db: sqlite3.Connection) -> None:
    # Vectors are cached per embedding backend too: an int8 model's vectors are close to, not equal
    # to, fp32's, and a run must never mix the two. Rows cached before backends existed were torch's.
    db.executescript(
        """
        CREATE TABLE embedding_cache (
            text_hash TEXT NOT NULL,
            model TEXT NOT NULL,
            backend TEXT NOT NULL,  -- "torch" | "onnx-int8" | ...
            vector BLOB NOT NULL,   -- float32, native byte order
            PRIMARY KEY (text_hash, model, backend)
        );
        INSERT INTO embedding_cache (text_hash, model, backend, vector)
            SELECT text_hash, model, 'torch', vector FROM embeddings;
        DROP TABLE embeddings;
        """
    )


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [
    _m0001_sources_and_passages,
    _m0002_candidates,
    _m0003_embeddings_and_artefacts,
    _m0004_users_and_review_log,
    _m0005_artefact_versions,
    _m0006_leases,
    _m0007_embedding_cache,
]


def migrate(db: sqlite3.Connection) -> int:
    """Run the migrations this database has not seen; returns the schema version reached."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    for number, step in enumerate(MIGRATIONS[version:], start=version + 1):
        with db:  # one transaction per migration, so a failure leaves a consistent version
            step(db)
            db.execute(f"PRAGMA user_version = {number}")
    return len(MIGRATIONS)
