"""`practice backup` / `practice restore`: the store and the releases come back whole, for SQLite and
PostgreSQL, and a run right after a restore finds nothing to do."""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from index.release import current_release, list_releases
from pipeline.cli import main
from pipeline.store import open_store

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output + (str(result.exception) if result.exit_code and result.exception else "")


def _snapshot(home: Path) -> dict[str, object]:
    from pipeline.stages import releases_root

    current = current_release(releases_root(home))
    store = open_store(home)
    try:
        return {
            "sources": [(s.uri, s.content_hash, s.status) for s in store.list_sources()],
            "passages": store.count_passages(),
            "candidates": sorted(c.id for c in store.candidates()),
            "artefacts": sorted((a.id, a.status) for a in store.artefacts()),
            "releases": [m.release_id for m in list_releases(releases_root(home))],
            "current": current.release_id if current else None,
        }
    finally:
        store.close()


def _wipe_postgres(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")


@pytest.mark.integration
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_restore_then_run_changes_nothing(backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    from prefect.testing.utilities import prefect_test_harness

    from flows.run import run_flow

    home, src, saved = tmp_path / "home", tmp_path / "src", tmp_path / "backup"
    shutil.copytree(EXAMPLES / "docs", src)
    monkeypatch.setenv("PRACTICE_HOME", str(home))
    url = request.getfixturevalue("pg_url") if backend == "postgresql" else None
    if url:
        monkeypatch.setenv("PRACTICE_DATABASE_URL", url)
    with prefect_test_harness():
        first = run_flow(paths=[str(src)], community="platform", home=str(home), include_candidates=True)
        assert first["publish"]["published"] and first["extract"]["candidates_created"] > 0
        before = _snapshot(home)

        code, out = _invoke("backup", str(saved))
        assert code == 0, out
        shutil.rmtree(home)
        if url:
            _wipe_postgres(url)
        assert _snapshot(home)["artefacts"] == []  # really gone

        code, out = _invoke("restore", str(saved))
        assert code == 0, out
        assert _snapshot(home) == before

        again = run_flow(paths=[str(src)], community="platform", home=str(home), include_candidates=True)
    assert again["extract"]["candidates_created"] == 0
    assert again["dedupe"]["embeddings_computed"] == 0 and again["publish"]["embeddings_computed"] == 0
    assert not again["publish"]["published"]
    assert _snapshot(home) == before


def _ingest_one(tmp_path: Path) -> None:
    doc = tmp_path / "src" / "note.md"
    doc.parent.mkdir(parents=True)
    doc.write_text("# Deploys\n\nWe deploy on Tuesdays after the change review.\n", encoding="utf-8")
    code, out = _invoke("ingest", str(doc))
    assert code == 0, out


def test_restore_refuses_a_store_that_is_not_empty_without_force(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRACTICE_HOME", str(tmp_path / "home"))
    _ingest_one(tmp_path)
    code, out = _invoke("backup", str(tmp_path / "bk"))
    assert code == 0, out
    code, out = _invoke("restore", str(tmp_path / "bk"))
    assert code == 1 and "not empty (1 sources)" in out and "--force" in out
    code, out = _invoke("restore", "--force", str(tmp_path / "bk"))
    assert code == 0, out
    assert [s.uri for s in open_store().list_sources()] == [str(tmp_path / "src" / "note.md")]


def test_backup_refuses_a_folder_that_is_not_empty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRACTICE_HOME", str(tmp_path / "home"))
    (tmp_path / "bk").mkdir()
    (tmp_path / "bk" / "keep.txt").write_text("mine", encoding="utf-8")
    code, out = _invoke("backup", str(tmp_path / "bk"))
    assert code == 1 and "not an empty folder" in out
    assert [p.name for p in (tmp_path / "bk").iterdir()] == ["keep.txt"]


def test_restore_refuses_a_folder_that_is_not_a_backup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRACTICE_HOME", str(tmp_path / "home"))
    (tmp_path / "bk").mkdir()
    code, out = _invoke("restore", str(tmp_path / "bk"))
    assert code == 1 and "not a practice backup (backup.json missing)" in out


def test_postgresql_without_client_programs_says_how_to_get_them(pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline import backup

    monkeypatch.setenv("PRACTICE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PRACTICE_DATABASE_URL", pg_url)
    monkeypatch.setenv("PATH", str(tmp_path))  # no pg_dump here
    monkeypatch.delenv("PRACTICE_PG_BIN", raising=False)
    monkeypatch.setattr(backup.glob, "glob", lambda pattern: [])  # nor in /usr/lib/postgresql
    code, out = _invoke("backup", str(tmp_path / "bk"))
    assert code == 1 and "pg_dump not found" in out and "postgresql-client" in out
    assert not (tmp_path / "bk").exists()
