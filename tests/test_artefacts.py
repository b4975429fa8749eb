"""The dedupe and publish stages over a real SQLite store, with a fake bag-of-words embedding.

`fake_embed` is a test double (no model): texts sharing their words get close vectors.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from index.release import current_release, read_payloads, current_release_path
from pipeline.artefacts import Thresholds, dedupe
from pipeline.extract import extract_all
from pipeline.ingest import ingest_paths
from pipeline.models import ArtefactStatus, CandidateDraft, CandidateKind, Evidence, Passage, Source, SourceKind
from pipeline.publish import publish
from pipeline.store import SQLiteStore
from extractors.base import ExtractionResult
from tests.extractors.test_threads_extractor import fake_embed

THRESHOLDS = Thresholds(faq_merge=0.9, faq_suggest=0.5, pattern_merge=0.9, pattern_suggest=0.5)


class QuestionPerMessage:
    """Fake extractor (test double): every message becomes a FAQ asking its own text."""

    name = "qpm"
    version = "1"
    source_kinds = frozenset({SourceKind.thread})

    def run(self, source: Source, passages: list[Passage]) -> ExtractionResult:
        return ExtractionResult(
            candidates=[
                CandidateDraft(
                    kind=CandidateKind.faq, question=p.text, answer=f"answer from {p.author}",
                    evidence=[Evidence(passage_id=p.id, quote=p.text, role="question")],
                    extractor=self.name, extractor_version="1",
                )  # fmt: skip
                for p in passages
            ]
        )


def write_thread(path: Path, rows: list[tuple[str, str]]) -> None:
    path.write_text("\n".join(json.dumps({"id": f"m{i}", "author": a, "text": t}) for i, (a, t) in enumerate(rows)) + "\n")


@pytest.fixture()
def world(tmp_path: Path) -> tuple[SQLiteStore, Path]:
    src = tmp_path / "src"
    src.mkdir()
    write_thread(src / "payments.jsonl", [("ana", "how do we quarantine flaky integration tests"), ("bo", "terraform state locking with dynamodb")])
    write_thread(src / "search.jsonl", [("cy", "how do we quarantine flaky integration tests"), ("di", "remote retrospectives across time zones")])
    store = SQLiteStore(tmp_path / "home" / "practice.sqlite3")
    ingest_paths(store, [src / "payments.jsonl"], _opts("payments"))
    ingest_paths(store, [src / "search.jsonl"], _opts("search"))
    extract_all(store, [QuestionPerMessage()])
    return store, src


def _opts(community: str):  # noqa: ANN202
    from pipeline.ingest import IngestOptions

    return IngestOptions(community=community)


def run_dedupe(store: SQLiteStore):  # noqa: ANN201
    return dedupe(store, fake_embed, "fake-bow", THRESHOLDS)


def test_same_question_in_two_teams_folds_into_one_artefact(world: tuple[SQLiteStore, Path]) -> None:
    store, _ = world
    report = run_dedupe(store)
    assert report.folded == 4 and report.created == 3
    flaky = next(a for a in store.artefacts() if "flaky" in a.title)
    assert flaky.support.sources == 2 and flaky.support.communities == 2 and flaky.support.authors == 2
    assert flaky.communities == ["payments", "search"] and len(flaky.evidence) == 2

    again = run_dedupe(store)
    assert again.folded == 0 and again.embeddings_computed == 0 and again.created == 0


def test_approved_artefact_keeps_id_text_and_status_when_evidence_arrives(world: tuple[SQLiteStore, Path], tmp_path: Path) -> None:
    store, src = world
    run_dedupe(store)
    flaky = next(a for a in store.artefacts() if "flaky" in a.title)
    reviewed = flaky.model_copy(update={"status": ArtefactStatus.approved, "question": "How do we handle flaky tests?"})
    store.save_artefacts([reviewed])

    write_thread(src / "mobile.jsonl", [("ed", "how do we quarantine flaky integration tests")])
    ingest_paths(store, [src / "mobile.jsonl"], _opts("mobile"))
    extract_all(store, [QuestionPerMessage()])
    report = run_dedupe(store)
    assert report.folded == 1 and report.created == 0
    after = store.get_artefact(flaky.id)
    assert after.status == ArtefactStatus.approved and after.question == "How do we handle flaky tests?"
    assert after.support.sources == 3 and len(after.evidence) == 3
    assert sum("flaky" in (a.question or "") for a in store.artefacts()) == 1  # not duplicated


def test_artefact_without_evidence_goes_stale_and_leaves_the_index(world: tuple[SQLiteStore, Path], tmp_path: Path) -> None:
    store, src = world
    run_dedupe(store)
    root = tmp_path / "releases"
    first = publish(store, fake_embed, "fake-bow", root, include_candidates=True)
    assert first.published and first.artefacts == 3

    (src / "search.jsonl").unlink()
    ingest_paths(store, [src], prune_missing=True)
    report = run_dedupe(store)
    assert report.stale == 1  # the retrospectives question only came from the removed source
    stale = next(a for a in store.artefacts() if "retrospectives" in (a.question or ""))
    assert stale.status == ArtefactStatus.stale and stale.evidence == []
    flaky = next(a for a in store.artefacts() if "flaky" in (a.question or ""))
    assert flaky.support.sources == 1 and flaky.status == ArtefactStatus.candidate

    second = publish(store, fake_embed, "fake-bow", root, include_candidates=True)
    assert second.published and second.artefacts == 2
    payloads = read_payloads(current_release_path(root))
    assert {p["id"] for p in payloads} == {a.id for a in store.artefacts() if a.status != ArtefactStatus.stale}
    passages = {p.id: p for p in store.passages()}
    for p in payloads:  # invariant 4: every published artefact cites real passages, quotes verbatim
        assert p["citations"] and all(c["quote"] in passages[c["passage_id"]].text for c in p["citations"])


def test_publish_only_approved_by_default_and_no_release_when_nothing_changed(world: tuple[SQLiteStore, Path], tmp_path: Path) -> None:
    store, _ = world
    run_dedupe(store)
    root = tmp_path / "releases"
    empty = publish(store, fake_embed, "fake-bow", root)
    assert empty.published and empty.artefacts == 0
    a = store.artefacts()[0]
    store.save_artefacts([a.model_copy(update={"status": ArtefactStatus.approved})])
    one = publish(store, fake_embed, "fake-bow", root)
    assert one.published and one.artefacts == 1 and current_release(root).release_id == one.release_id
    same = publish(store, fake_embed, "fake-bow", root)
    assert not same.published and same.embeddings_computed == 0
    assert current_release(root).release_id == one.release_id


def test_candidates_in_the_band_become_suggestions(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    src = tmp_path / "t.jsonl"
    write_thread(src, [("a", "rotate database passwords without downtime"), ("b", "rotate database passwords quarterly schedule")])
    ingest_paths(store, [src])
    extract_all(store, [QuestionPerMessage()])
    report = dedupe(store, fake_embed, "fake-bow", Thresholds(0.95, 0.3, 0.95, 0.3))
    assert report.created == 2 and report.suggestions == 1
    (x, y, score), = store.suggestions()
    assert {x, y} == {a.id for a in store.artefacts()} and 0.3 <= score < 0.95
