"""Persistence behind one interface: pick the store (`open_store`) and name the contract.

Everything above this module (ingest, CLI, flows, API) talks to the `Store` protocol, never to a
database driver. SQLite under PRACTICE_HOME is the embedded default; `PRACTICE_DATABASE_URL=
postgresql://...` selects PostgreSQL. The contract and the shared logic are in `store_base`; the
SQL both databases share in `store_sql` and `store_sql_review`; the reference in `store_memory`.
"""

from __future__ import annotations

import os
from pathlib import Path

from pipeline.migrations_sqlite import MIGRATIONS, migrate
from pipeline.store_base import ArtefactConflict, ArtefactRetry, DuplicateUser, Rebase, Store
from pipeline.store_sqlite import SQLiteStore

__all__ = [
    "MIGRATIONS", "ArtefactConflict", "ArtefactRetry", "DuplicateUser", "Rebase", "SQLiteStore", "Store",
    "migrate", "open_store",
]  # fmt: skip

DATABASE_URL_ENV = "PRACTICE_DATABASE_URL"


def open_store(home: Path | None = None) -> Store:
    """Open (creating and migrating) the store: PRACTICE_DATABASE_URL if set, else SQLite under PRACTICE_HOME.

    `postgresql://` (or `postgres://`) URLs open PostgreSQL, `sqlite:///PATH` a SQLite file.
    """
    url = os.environ.get(DATABASE_URL_ENV, "").strip()
    if url.startswith(("postgresql://", "postgres://")):
        from pipeline.store_pg import PostgresStore  # psycopg is only needed for PostgreSQL

        return PostgresStore(url)
    if url.startswith("sqlite:///"):
        return SQLiteStore(url.removeprefix("sqlite:///"))
    if url:
        raise ValueError(f"{DATABASE_URL_ENV}={url!r}: expected postgresql://... or sqlite:///PATH")
    from pipeline.config import database_path

    return SQLiteStore(database_path(home))
