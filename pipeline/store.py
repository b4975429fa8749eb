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
    "migrate", "open_store", "store_location",
]  # fmt: skip

DATABASE_URL_ENV = "PRACTICE_DATABASE_URL"


def store_location(home: Path | None = None) -> tuple[str, str]:
    """Which database the store is in: ("postgresql", URL) or ("sqlite", PATH).

    PRACTICE_DATABASE_URL if set (`postgresql://` or `postgres://`, or `sqlite:///PATH`), else the
    SQLite file under PRACTICE_HOME.
    """
    url = os.environ.get(DATABASE_URL_ENV, "").strip()
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql", url
    if url.startswith("sqlite:///"):
        return "sqlite", url.removeprefix("sqlite:///")
    if url:
        raise ValueError(f"{DATABASE_URL_ENV}={url!r}: expected postgresql://... or sqlite:///PATH")
    from pipeline.config import database_path

    return "sqlite", str(database_path(home))


def open_store(home: Path | None = None) -> Store:
    """Open (creating and migrating) the store where `store_location` says."""
    kind, where = store_location(home)
    if kind == "postgresql":
        from pipeline.store_pg import PostgresStore  # psycopg is only needed for PostgreSQL

        return PostgresStore(where)
    return SQLiteStore(where)
