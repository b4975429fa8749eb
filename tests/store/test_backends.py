"""The store contract (tests/store/contract*.py) run against each backend: memory, SQLite, PostgreSQL.

Each backend class inherits every behaviour class and overrides one fixture, `store`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.store import Store
from tests.store.contract import Cache, Candidates, Embeddings, Passages, Sources
from tests.store.contract_lease import Leases
from tests.store.contract_review import Concurrency, Membership, ReviewLog, Suggestions, Users, Versions


class StoreContract(Sources, Passages, Candidates, Cache, Embeddings, Membership, Versions, Suggestions, ReviewLog, Users, Concurrency, Leases):
    """Every behaviour the pipeline relies on; a backend's class overrides `store`."""

    backend = ""

    @pytest.fixture
    def store(self) -> Iterator[Store]:
        raise NotImplementedError("a backend's test class provides the store")


class TestMemoryStore(StoreContract):
    backend = "memory"

    @pytest.fixture
    def store(self) -> Iterator[Store]:
        from pipeline.store_memory import MemoryStore

        yield MemoryStore()


class TestSQLiteStore(StoreContract):
    backend = "sqlite"

    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[Store]:
        from pipeline.store_sqlite import SQLiteStore

        s = SQLiteStore(tmp_path / "practice.sqlite3")
        yield s
        s.close()


class TestPostgresStore(StoreContract):
    backend = "postgresql"

    @pytest.fixture
    def store(self, pg_url: str) -> Iterator[Store]:
        from pipeline.store_pg import PostgresStore

        s = PostgresStore(pg_url)
        yield s
        s.close()
