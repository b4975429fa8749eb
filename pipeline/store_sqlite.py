"""The embedded default store: one SQLite file under PRACTICE_HOME."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from pipeline.migrations_sqlite import migrate
from pipeline.store_sql import SQLStore
from pipeline.store_sql_lease import SQLLeaseMixin
from pipeline.store_sql_review import SQLReviewMixin


class SQLiteStore(SQLLeaseMixin, SQLReviewMixin, SQLStore):
    """The store on one SQLite file (WAL, so the web UI reads while a run writes)."""

    _integrity_errors = (sqlite3.IntegrityError,)

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

    def _exec(self, sql: str, args: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self.db.execute(sql, args)

    def _many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self.db.executemany(sql, rows)

    def _outer_transaction(self) -> AbstractContextManager[Any]:
        return self.db

    def reopen(self) -> SQLiteStore:
        return SQLiteStore(self.path)

    def close(self) -> None:
        self.db.close()
