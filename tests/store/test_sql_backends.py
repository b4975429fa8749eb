"""What only the SQL stores have: schema migrations, an audit log the database itself guards,
and `open_store` picking the database from PRACTICE_DATABASE_URL."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
import pytest

from pipeline import migrations_pg, migrations_sqlite
from pipeline.store import open_store
from pipeline.store_pg import PostgresStore
from pipeline.store_sqlite import SQLiteStore
from tests.store import pg_server
from tests.store.data import T0


def test_every_sqlite_migration_has_a_postgresql_twin() -> None:
    assert len(migrations_pg.MIGRATIONS) == len(migrations_sqlite.MIGRATIONS) == 7


def test_postgresql_migrations_run_once_and_record_the_version(pg_url: str) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert migrations_pg.migrate(conn) == 7  # the template was migrated already: a no-op
        assert conn.execute("SELECT array_agg(version ORDER BY version) FROM schema_version").fetchone()[0] == [1, 2, 3, 4, 5, 6, 7]
        conn.execute("DROP TABLE schema_version, leases, review_events, users, suggestions, artefact_members, artefacts, "
                     "embedding_cache, llm_cache, extraction_state, candidates, passages, sources CASCADE")  # fmt: skip
        conn.execute("DROP FUNCTION review_events_append_only")
        assert migrations_pg.migrate(conn) == 7  # an empty database gets the whole schema
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert {"sources", "passages", "candidates", "artefacts", "users", "review_events"} <= tables


def _one_event(store: SQLiteStore | PostgresStore) -> None:
    from pipeline.models import ReviewEvent

    store.save_review([], [ReviewEvent(at=T0, actor="ana", action="approve", artefact_id="A1")])


def test_sqlite_refuses_to_edit_or_delete_review_events(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    _one_event(store)
    for sql in ("UPDATE review_events SET actor = 'mallory'", "DELETE FROM review_events"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            with store.db:
                store.db.execute(sql)
    assert [e.actor for e in store.review_events()] == ["ana"]


def test_postgresql_refuses_to_edit_delete_or_truncate_review_events(pg_url: str) -> None:
    store = PostgresStore(pg_url)
    _one_event(store)
    for sql in ("UPDATE review_events SET actor = 'mallory'", "DELETE FROM review_events", "TRUNCATE review_events"):
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            store.db.execute(sql)
    assert [e.actor for e in store.review_events()] == ["ana"]
    store.close()


def test_open_store_follows_practice_database_url(tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PRACTICE_DATABASE_URL", raising=False)
    default = open_store(tmp_path / "home")
    assert isinstance(default, SQLiteStore) and default.path == tmp_path / "home" / "practice.sqlite3"
    monkeypatch.setenv("PRACTICE_DATABASE_URL", f"sqlite:///{tmp_path}/other.db")
    assert open_store(tmp_path / "home").path == tmp_path / "other.db"  # type: ignore[attr-defined]
    monkeypatch.setenv("PRACTICE_DATABASE_URL", pg_url)
    store = open_store(tmp_path / "home")
    assert isinstance(store, PostgresStore) and store.list_sources() == []
    store.close()
    monkeypatch.setenv("PRACTICE_DATABASE_URL", "mysql://x/y")
    with pytest.raises(ValueError, match="PRACTICE_DATABASE_URL"):
        open_store(tmp_path / "home")


def test_without_server_binaries_the_setup_says_how_to_get_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pg_server, "find_bin_dir", lambda: None)
    with pytest.raises(RuntimeError, match="apt-get install postgresql"):
        pg_server.start()
