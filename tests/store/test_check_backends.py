"""`practice check` on SQLite and a real throwaway PostgreSQL: the checks and repairs go through the
Store protocol only, so drift is found and repaired the same way on every backend."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.models import ArtefactStatus, SourceStatus
from pipeline.store import Store
from tests.test_reconcile import World


def _on(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Store:
    if backend == "sqlite":
        from pipeline.store_sqlite import SQLiteStore

        return SQLiteStore(tmp_path / "practice.sqlite3")
    from pipeline.store_pg import PostgresStore

    return PostgresStore(request.getfixturevalue("pg_url"))


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_drift_found_and_repaired_on_every_backend(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    store = _on(backend, tmp_path, request)
    try:
        world = World(store, tmp_path / "releases")
        assert world.check() == {}
        store.replace_candidates(world.b.id, "threads", "h2", [])
        store.save_source(store.get_source("/c/a.vtt").model_copy(update={"status": SourceStatus.removed}))  # type: ignore[union-attr]
        found = world.check()
        assert found["removed_source_passages"] == [world.a.id] and found["candidate_orphan_source"] == ["c1"]
        assert found["artefact_not_stale"] == ["A2"]
        assert world.repair() == {}
        assert {a.id: a.status for a in store.artefacts()} == {"A1": ArtefactStatus.stale, "A2": ArtefactStatus.stale}
    finally:
        store.close()

