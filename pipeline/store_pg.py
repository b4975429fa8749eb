"""The PostgreSQL store, for an organisation's scale: `PRACTICE_DATABASE_URL=postgresql://...`.

Same SQL as SQLite (`store_sql`), through psycopg 3. The connection is in autocommit mode and
every write runs in an explicit transaction, so a reader never holds a snapshot open between
calls and sees each write whole or not at all.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Any

import psycopg

from pipeline.migrations_pg import migrate
from pipeline.store_sql import SQLStore
from pipeline.store_sql_lease import SQLLeaseMixin
from pipeline.store_sql_review import SQLReviewMixin

_PLACEHOLDER = re.compile(r"\?")


class _Row(tuple):  # type: ignore[type-arg]
    """A row readable by position and by column name, like sqlite3.Row."""

    names: tuple[str, ...] = ()

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, self.names.index(key))
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self.names)


def _row_factory(cursor: psycopg.Cursor[Any]) -> Callable[[Sequence[Any]], _Row]:
    names = tuple(d.name for d in cursor.description or ())
    cls = type("Row", (_Row,), {"names": names})
    return lambda values: cls(values)


class PostgresStore(SQLLeaseMixin, SQLReviewMixin, SQLStore):
    """The store on a PostgreSQL database (created by the operator; the schema is migrated here)."""

    _integrity_errors = (psycopg.errors.UniqueViolation,)

    def __init__(self, url: str) -> None:
        self.url = url
        self.db = psycopg.connect(url, autocommit=True, row_factory=_row_factory)
        migrate(self.db)

    def _exec(self, sql: str, args: Sequence[Any] = ()) -> psycopg.Cursor[Any]:
        return self.db.execute(_PLACEHOLDER.sub("%s", sql), list(args) if args else None)

    def _many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        rows = list(rows)
        if rows:
            with self.db.cursor() as cur:
                cur.executemany(_PLACEHOLDER.sub("%s", sql), rows)

    def _outer_transaction(self) -> AbstractContextManager[Any]:
        return self.db.transaction()

    def reopen(self) -> PostgresStore:
        return PostgresStore(self.url)

    def close(self) -> None:
        self.db.close()
