"""The store suite's set-up: one real PostgreSQL server per session, a fresh database per test,
and a summary line with how many contract tests each backend ran."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator

import pytest

from tests.store import pg_server

TEMPLATE = "contract_template"
_CONTRACT_MODULES = ("tests.store.contract", "tests.store.contract_review", "tests.store.contract_lease")
_backend_of: dict[str, str] = {}  # nodeid -> backend, for the contract tests only
_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def pg() -> Iterator[pg_server.PgServer]:
    """A throwaway PostgreSQL server with a migrated template database; stopped at the end."""
    import psycopg

    from pipeline.store_pg import PostgresStore

    try:
        server = pg_server.start()
    except (RuntimeError, OSError) as e:
        pytest.fail(f"cannot start PostgreSQL for the store tests: {e}", pytrace=False)
    try:
        with psycopg.connect(server.url(), autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {TEMPLATE}")
        PostgresStore(server.url(TEMPLATE)).close()  # migrated once; each test copies it
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(pg: pg_server.PgServer) -> Iterator[str]:
    """A fresh, migrated database for one test (a copy of the template), dropped afterwards."""
    import psycopg

    name = f"t{next(_numbers)}"
    with psycopg.connect(pg.url(), autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE} STRATEGY FILE_COPY")  # faster than WAL_LOG here
    yield pg.url(name)
    with psycopg.connect(pg.url(), autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        cls, fn = getattr(item, "cls", None), getattr(item, "function", None)
        if cls is not None and fn is not None and getattr(cls, "backend", None) and fn.__module__ in _CONTRACT_MODULES:
            _backend_of[item.nodeid] = cls.backend


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print how many contract tests ran per backend, by outcome."""
    if not _backend_of:
        return
    counts: dict[str, Counter[str]] = {}
    for outcome in ("passed", "failed", "error", "skipped"):
        for report in terminalreporter.stats.get(outcome, []):
            backend = _backend_of.get(getattr(report, "nodeid", ""))
            if backend and (report.when == "call" or outcome != "passed"):
                counts.setdefault(backend, Counter())[outcome] += 1
    terminalreporter.write_sep("-", "store contract tests per backend")
    for backend in sorted(set(_backend_of.values())):
        c = counts.get(backend, Counter())
        detail = ", ".join(f"{n} {o}" for o, n in sorted(c.items())) or "none run"
        terminalreporter.write_line(f"{backend}: {sum(c.values())} contract tests ({detail})")
