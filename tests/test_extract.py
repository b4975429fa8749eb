"""The extract stage over a real SQLite store: incremental runs, central quote checks, removals.

`EchoExtractor` is a fake extractor written for these tests (no model): one pattern per passage
quoting it, plus one candidate with a quote that is not in its passage, which must be dropped.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from extractors.base import ExtractionResult
from pipeline.extract import extract_all
from pipeline.ingest import ingest_paths
from pipeline.models import CandidateDraft, CandidateKind, Evidence, Passage, Source, SourceKind
from pipeline.store import SQLiteStore
from tests.test_ingest import write_good_files


class EchoExtractor:
    """Fake extractor (test double): quotes each passage back as a pattern."""

    name = "echo"
    version = "1"
    source_kinds = frozenset(SourceKind)

    def __init__(self) -> None:
        self.calls = 0

    def run(self, source: Source, passages: list[Passage]) -> ExtractionResult:
        self.calls += 1
        drafts = [
            CandidateDraft(
                kind=CandidateKind.pattern, name=p.text[:20], recommendation=p.text,
                evidence=[Evidence(passage_id=p.id, quote=p.text[:15])], extractor=self.name, extractor_version="1",
            )  # fmt: skip
            for p in passages
        ]
        made_up = CandidateDraft(
            kind=CandidateKind.faq, question="Q?", answer="A",
            evidence=[Evidence(passage_id=passages[0].id, quote="words that appear nowhere")],
            extractor=self.name, extractor_version="1",
        )  # fmt: skip
        return ExtractionResult(candidates=[*drafts, made_up])


@pytest.fixture()
def store(tmp_path: Path) -> SQLiteStore:
    write_good_files(tmp_path / "src")
    s = SQLiteStore(tmp_path / "home" / "practice.sqlite3")
    ingest_paths(s, [tmp_path / "src"])
    return s


def test_extracts_once_and_drops_unverified_quotes(store: SQLiteStore) -> None:
    ex = EchoExtractor()
    report = extract_all(store, [ex])
    n_passages = store.count_passages()
    assert report.created == n_passages and report.dropped == 3  # one made-up quote per source
    assert all(c.kind == CandidateKind.pattern for c in store.candidates())

    again = extract_all(store, [ex])
    assert again.created == 0 and ex.calls == 3  # unchanged sources are not read again
    assert {o.status for o in again.outcomes} == {"unchanged"}


def test_changed_source_is_re_extracted_and_old_candidates_go(store: SQLiteStore, tmp_path: Path) -> None:
    extract_all(store, [EchoExtractor()])
    md = tmp_path / "src" / "handbook.md"
    md.write_text("# Handbook\n\nPrefer trunk-based development.\n")
    ingest_paths(store, [tmp_path / "src"])
    report = extract_all(store, [EchoExtractor()])
    assert [o.status for o in report.outcomes].count("extracted") == 1
    src = store.get_source(str(md.resolve()))
    names = {c.name for c in store.candidates(source_id=src.id)}
    assert "Prefer trunk-based d" in names and "Always pin base imag" not in names


def test_removed_source_takes_its_candidates(store: SQLiteStore, tmp_path: Path) -> None:
    extract_all(store, [EchoExtractor()])
    before = len(store.candidates())
    (tmp_path / "src" / "sync.txt").unlink()
    ingest_paths(store, [tmp_path / "src"], prune_missing=True)
    src = store.get_source(str((tmp_path / "src" / "sync.txt").resolve()))
    assert store.candidates(source_id=src.id) == [] and len(store.candidates()) < before
    passage_ids = {p.id for p in store.passages()}
    assert all(e.passage_id in passage_ids for c in store.candidates() for e in c.evidence)


def test_a_crashing_extractor_fails_alone(store: SQLiteStore) -> None:
    class Broken(EchoExtractor):
        name = "broken"

        def run(self, source: Source, passages: list[Passage]) -> ExtractionResult:
            raise RuntimeError("boom")

    report = extract_all(store, [Broken(), EchoExtractor()])
    statuses = {(o.extractor, o.status) for o in report.outcomes}
    assert statuses == {("broken", "failed"), ("echo", "extracted")}
    assert any("boom" in f for o in report.outcomes for f in o.failures)
