"""End to end over the real corpus: every format through `ingest_paths`, then an unchanged re-run."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.ingest import ingest_paths
from pipeline.store import SQLiteStore
from tests.test_ingest import dump

pytestmark = pytest.mark.integration

CORPUS_PATHS = [
    "meetings",
    "threads/stackexchange",
    "chat/mailing_list_r-package-devel",
    "docs",
]


@pytest.fixture(scope="module")
def ingested(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[SQLiteStore, object]:
    store = SQLiteStore(tmp_path_factory.mktemp("home") / "practice.sqlite3")
    report = ingest_paths(store, [corpus / p for p in CORPUS_PATHS])
    return store, report


def test_every_corpus_source_parses_or_fails_with_a_reason(ingested: tuple[SQLiteStore, object]) -> None:
    store, report = ingested
    by_format: dict[str, int] = {}
    for s in store.list_sources():
        by_format[s.format or "?"] = by_format.get(s.format or "?", 0) + 1
    # every reader is exercised by real material
    for fmt in ("vtt", "qmsum", "stackexchange", "mbox", "md", "html", "docx", "pptx", "pdf", "eml", "msg", "rtf", "odt"):
        assert by_format.get(fmt, 0) > 0, (fmt, by_format)
    for o in report.failures:  # none expected on this corpus; if any, each carries its reason
        assert o.error, o
    assert not report.failures, [(o.uri, o.error) for o in report.failures]


def test_stack_exchange_and_qmsum_counts(ingested: tuple[SQLiteStore, object], corpus: Path) -> None:
    store, _ = ingested
    se = store.get_source(str((corpus / "threads/stackexchange/quantumcomputing.stackexchange.com").resolve()))
    passages = store.passages(se.id)
    assert sum(p.element_type == "question" for p in passages) == 612
    assert sum(p.element_type == "answer" for p in passages) == 1060
    qmsum = store.get_source(str((corpus / "meetings/qmsum/test.jsonl").resolve()))
    assert len({p.thread_id for p in store.passages(qmsum.id)}) == 35


def test_reingesting_the_corpus_writes_nothing(ingested: tuple[SQLiteStore, object], corpus: Path) -> None:
    store, first = ingested
    before = dump(store.path)
    changes = store.db.total_changes
    again = ingest_paths(store, [corpus / p for p in CORPUS_PATHS])
    assert again.counts["unchanged"] == len(first.outcomes) - first.counts["skipped"]
    assert again.counts["new"] == again.counts["changed"] == 0 and again.passages_written == 0
    assert store.db.total_changes == changes
    assert dump(store.path) == before  # same sources, same hashes, same passage ids
