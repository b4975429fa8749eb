"""The PostgreSQL schema: numbered migrations, twins of `migrations_sqlite` (same numbers, same shapes).

Text is compared byte-wise (COLLATE "C") so listings come back in the same order as from SQLite
whatever the server's locale; timestamps and nested fields are text, as in SQLite, so
`store_rows` converts rows for both. The version reached is kept in `schema_version`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

# Append-only, like the SQLite list: a released migration is never edited, a new one is added.
_M0001_SOURCES_AND_PASSAGES = """
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
    size_bytes BIGINT NOT NULL DEFAULT 0,
    warnings TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE passages (
    id TEXT PRIMARY KEY,
    source_id TEXT NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    author TEXT,
    start DOUBLE PRECISION,
    "end" DOUBLE PRECISION,
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

_M0002_CANDIDATES = """
CREATE TABLE candidates (
    id TEXT PRIMARY KEY,
    source_id TEXT NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    extractor TEXT NOT NULL,
    created_at TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX candidates_by_source ON candidates(source_id, extractor);
CREATE INDEX candidates_by_kind_status ON candidates(kind, status);
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

_M0003_EMBEDDINGS_AND_ARTEFACTS = """
CREATE TABLE embeddings (
    text_hash TEXT NOT NULL,
    model TEXT NOT NULL,
    vector BYTEA NOT NULL,
    PRIMARY KEY (text_hash, model)
);
CREATE TABLE artefacts (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX artefacts_by_kind_status ON artefacts(kind, status);
CREATE TABLE artefact_members (
    candidate_id TEXT PRIMARY KEY,
    artefact_id TEXT NOT NULL REFERENCES artefacts(id) ON DELETE CASCADE
);
CREATE INDEX members_by_artefact ON artefact_members(artefact_id);
CREATE TABLE suggestions (
    artefact_a TEXT NOT NULL,
    artefact_b TEXT NOT NULL,
    score DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (artefact_a, artefact_b)
);
"""

_M0004_USERS_AND_REVIEW_LOG = """
CREATE TABLE users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    groups TEXT NOT NULL DEFAULT '[]',
    token_hash TEXT NOT NULL UNIQUE,
    revoked INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE TABLE review_events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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
CREATE FUNCTION review_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'review_events is append-only'; END $$;
CREATE TRIGGER review_events_no_update BEFORE UPDATE OR DELETE ON review_events
    FOR EACH ROW EXECUTE FUNCTION review_events_append_only();
CREATE TRIGGER review_events_no_truncate BEFORE TRUNCATE ON review_events
    FOR EACH STATEMENT EXECUTE FUNCTION review_events_append_only();
"""

_M0005_ARTEFACT_VERSIONS = "ALTER TABLE artefacts ADD COLUMN version INTEGER NOT NULL DEFAULT 1"

# One writer at a time (see the SQLite twin); epoch seconds need double precision, not REAL.
_M0006_LEASES = """
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    acquired_at DOUBLE PRECISION NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL
)
"""


# Vectors cached per backend too (see the SQLite twin); old rows were computed by torch.
_M0007_EMBEDDING_CACHE = """
CREATE TABLE embedding_cache (
    text_hash TEXT NOT NULL,
    model TEXT NOT NULL,
    backend TEXT NOT NULL,
    vector BYTEA NOT NULL,
    PRIMARY KEY (text_hash, model, backend)
);
INSERT INTO embedding_cache (text_hash, model, backend, vector)
    SELECT text_hash, model, 'torch', vector FROM embeddings;
DROP TABLE embeddings;
"""


def _byte_order(sql: str) -> str:
    """Every text column compared byte-wise, as SQLite does."""
    return re.sub(r"\bTEXT\b(?! COLLATE)", 'TEXT COLLATE "C"', sql)


MIGRATIONS: list[str] = [
    _byte_order(m)
    for m in (
        _M0001_SOURCES_AND_PASSAGES,
        _M0002_CANDIDATES,
        _M0003_EMBEDDINGS_AND_ARTEFACTS,
        _M0004_USERS_AND_REVIEW_LOG,
        _M0005_ARTEFACT_VERSIONS,
        _M0006_LEASES,
        _M0007_EMBEDDING_CACHE,
    )
]


def migrate(conn: psycopg.Connection[Any]) -> int:
    """Run the migrations this database has not seen; returns the version reached.

    An advisory lock serialises two processes opening a fresh database at once.
    """
    for number, sql in enumerate(MIGRATIONS, start=1):
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(7130611)")
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
            if (row[0] or 0) >= number:
                continue
            conn.execute(sql)
            conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (number,))
    return len(MIGRATIONS)
