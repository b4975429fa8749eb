"""Reviewer work is never overwritten: review decisions land while each stage runs, between the
stage's read and its write, and must survive that stage and reach the next publish.

The reviewer works through a second connection to the same SQLite file, as the web UI does while a
scheduled run writes. The hook fires right after the stage's first read of the artefacts (or, for
extract, inside the extractor's run).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from index.release import current_release_path, read_payloads
from pipeline import review
from pipeline.extract import extract_all
from pipeline.ingest import IngestOptions, ingest_paths
from pipeline.models import ArtefactStatus, Passage, Source
from pipeline.publish import publish
from pipeline.store import SQLiteStore
from tests.test_artefacts import QuestionPerMessage, run_dedupe, write_thread
from tests.extractors.test_threads_extractor import fake_embed

QUESTIONS = [
    "how do we quarantine flaky integration tests",
    "terraform state locking with dynamodb",
    "remote retrospectives across time zones",
    "rotating database passwords without downtime",
    "canary deploys for the billing service",
    "on call handover between regions",
    "naming conventions for feature flags",
    "code review turnaround for large diffs",
]
EDITED = {6: "How do we name feature flags?", 7: "How fast should code review be?"}


class Interleaved:
    """The stage's store: after its first read of the artefacts, a reviewer acts (once)."""

    READS = ("artefacts", "get_artefact", "versioned_artefacts")

    def __init__(self, store: SQLiteStore, reviewer: Callable[[], None]) -> None:
        self._store, self._reviewer, self.fired = store, reviewer, False

    def fire(self) -> None:
        if not self.fired:
            self.fired = True
            self._reviewer()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._store, name)
        if name not in self.READS:
            return attr

        def read(*args: Any, **kwargs: Any) -> Any:
            result = attr(*args, **kwargs)
            self.fire()
            return result

        return read


class ReviewingExtractor(QuestionPerMessage):
    """The fake extractor, with the reviewer acting while it runs."""

    def __init__(self, hook: Callable[[], None]) -> None:
        self.hook = hook

    def run(self, source: Source, passages: list[Passage]):  # noqa: ANN201
        self.hook()
        return super().run(source, passages)


def decide(db: Path, ids: list[str]) -> None:
    """Eight decisions by a reviewer on their own connection: 3 approvals, 3 rejections, 2 edits."""
    other = SQLiteStore(db)
    try:
        for i in ids[:3]:
            review.approve(other, i, "rita")
        for i in ids[3:6]:
            review.reject(other, i, "rita", "not a practice")
        review.edit(other, ids[6], "rita", {"question": EDITED[6]})  # edited, still a candidate
        review.edit(other, ids[7], "rita", {"question": EDITED[7]})
        review.approve(other, ids[7], "rita")
    finally:
        other.close()


@pytest.fixture()
def world(tmp_path: Path) -> tuple[SQLiteStore, Path, list[str]]:
    src = tmp_path / "src"
    src.mkdir()
    write_thread(src / "payments.jsonl", [("ana", q) for q in QUESTIONS])
    store = SQLiteStore(tmp_path / "home" / "practice.sqlite3")
    ingest_paths(store, [src / "payments.jsonl"], IngestOptions(community="payments"))
    extract_all(store, [QuestionPerMessage()])
    run_dedupe(store)
    by_question = {a.question: a.id for a in store.artefacts()}
    return store, src, [by_question[q] for q in QUESTIONS]


def _second_source(store: SQLiteStore, src: Path) -> None:
    write_thread(src / "mobile.jsonl", [("ed", q) for q in QUESTIONS])  # the same 8 questions, another team
    ingest_paths(store, [src / "mobile.jsonl"], IngestOptions(community="mobile"))


def _stage(name: str, store: SQLiteStore, src: Path, hook: Callable[[], None], root: Path) -> None:
    """Run one stage with the reviewer acting in the middle of it."""
    if name == "ingest":  # the source is restricted: its artefacts are re-derived in this stage
        ingest_paths(Interleaved(store, hook), [src / "payments.jsonl"], IngestOptions(visibility="sre"))  # type: ignore[arg-type]
    elif name == "extract":
        _second_source(store, src)
        extract_all(store, [ReviewingExtractor(hook)])
    elif name == "dedupe":
        _second_source(store, src)
        extract_all(store, [QuestionPerMessage()])
        run_dedupe(Interleaved(store, hook))  # type: ignore[arg-type]
    else:
        publish(Interleaved(store, hook), fake_embed, "fake-bow", root)  # type: ignore[arg-type]


@pytest.mark.parametrize("stage", ["ingest", "extract", "dedupe", "publish"])
def test_review_decisions_made_during_a_stage_survive_it_and_the_next_publish(
    world: tuple[SQLiteStore, Path, list[str]], tmp_path: Path, stage: str
) -> None:
    store, src, ids = world
    root = tmp_path / "releases"
    fired = []
    _stage(stage, store, src, lambda: fired.append(decide(store.path, ids)), root)
    assert fired, f"the reviewer never acted during {stage}"

    def check() -> None:
        status = {i: store.get_artefact(i).status for i in ids}
        assert [status[i] for i in ids] == [ArtefactStatus.approved] * 3 + [ArtefactStatus.rejected] * 3 + [
            ArtefactStatus.candidate, ArtefactStatus.approved,
        ]  # fmt: skip
        assert store.get_artefact(ids[6]).question == EDITED[6]
        assert store.get_artefact(ids[7]).question == EDITED[7]

    check()  # right after the stage
    if stage == "ingest":  # and the stage's own work was done too
        assert {store.get_artefact(i).visibility for i in ids} == {"sre"}
    extract_all(store, [QuestionPerMessage()])
    report = run_dedupe(store)  # a whole later run of the stages does not undo anything either
    assert report.deferred == 0
    check()
    if stage in ("extract", "dedupe"):  # the second team's evidence folded in all the same
        assert all(store.get_artefact(i).support.sources == 2 for i in ids)

    publish(store, fake_embed, "fake-bow", root)
    published = {p["id"]: p for p in read_payloads(current_release_path(root))}
    assert set(published) == {ids[0], ids[1], ids[2], ids[7]}
    assert published[ids[7]]["question"] == EDITED[7]
    assert sum(e.actor == "rita" for e in store.review_events()) == 9


def test_a_second_run_over_unchanged_sources_writes_no_artefact(world: tuple[SQLiteStore, Path, list[str]], tmp_path: Path) -> None:
    store, src, ids = world
    review.mark_stale(store, ids[0], "rita", "outdated advice")  # a reviewer's stale, evidence still there
    root = tmp_path / "releases"
    assert publish(store, fake_embed, "fake-bow", root, include_candidates=True).published
    versions = {i: v for i, (_, v) in store.versioned_artefacts().items()}
    ingest_paths(store, [src / "payments.jsonl"])
    extract_all(store, [QuestionPerMessage()])
    report = run_dedupe(store)
    assert (report.updated, report.created, report.stale) == (0, 0, 0)
    assert {i: v for i, (_, v) in store.versioned_artefacts().items()} == versions  # nothing written
    assert not publish(store, fake_embed, "fake-bow", root, include_candidates=True).published

    _second_source(store, src)  # new evidence for the artefact a reviewer called outdated
    extract_all(store, [QuestionPerMessage()])
    run_dedupe(store)
    after = store.get_artefact(ids[0])
    assert after.status == ArtefactStatus.stale and after.support.sources == 2  # evidence added, decision kept


def test_a_stage_write_over_a_newer_version_is_refused_and_redone(world: tuple[SQLiteStore, Path, list[str]]) -> None:
    store, _, ids = world
    (a, version), = store.versioned_artefacts([ids[0]]).values()
    review.approve(store, ids[0], "rita")  # the stored version moves on
    stale_write = a.model_copy(update={"confidence": 0.1})
    assert store.save_artefacts([stale_write], {a.id: version}) == [a.id]  # refused: written over nothing
    assert store.get_artefact(ids[0]).status == ArtefactStatus.approved

    seen: list[ArtefactStatus] = []

    def rebase(current: Any, attempted: Any) -> Any:
        seen.append(current.status)
        return current.model_copy(update={"confidence": attempted.confidence})

    assert store.update_artefacts([stale_write], {a.id: version}, rebase) == []
    after = store.get_artefact(ids[0])
    assert seen == [ArtefactStatus.approved] and after.status == ArtefactStatus.approved and after.confidence == 0.1


def test_a_reviewer_write_over_a_stage_write_is_redone_not_lost(world: tuple[SQLiteStore, Path, list[str]], monkeypatch: pytest.MonkeyPatch) -> None:
    """The other direction: a stage writes between a review action's read and its write."""
    store, _, ids = world
    real = store.save_review
    calls = []

    def stage_writes_first(artefacts: Any, events: Any, expected_versions: Any = None) -> None:
        if not calls:  # a stage refreshes the artefact (new evidence) just before the review lands
            fresh = store.get_artefact(ids[0]).model_copy(update={"communities": ["payments", "mobile"]})
            store.save_artefacts([fresh])
        calls.append(1)
        real(artefacts, events, expected_versions)

    monkeypatch.setattr(store, "save_review", stage_writes_first)
    review.edit(store, ids[0], "rita", {"question": "How do we quarantine flaky tests?"})
    after = store.get_artefact(ids[0])
    assert after.question == "How do we quarantine flaky tests?" and after.communities == ["payments", "mobile"]
    assert len(calls) == 2 and len(store.review_events(ids[0])) == 1  # redone once, logged once


def test_migration_0005_gives_existing_artefacts_a_version(tmp_path: Path) -> None:
    import sqlite3

    from pipeline.store import MIGRATIONS

    db = sqlite3.connect(tmp_path / "practice.sqlite3")
    for number, step in enumerate(MIGRATIONS[:4], start=1):  # a store written before versions existed
        step(db)
        db.execute(f"PRAGMA user_version = {number}")
    db.execute(
        "INSERT INTO artefacts (id, kind, status, updated_at, body) VALUES ('a1', 'faq', 'approved', '2026-01-01', ?)",
        ('{"id": "a1", "kind": "faq", "status": "approved", "question": "q?"}',),
    )
    db.commit()
    db.close()
    store = SQLiteStore(tmp_path / "practice.sqlite3")
    (a, version), = store.versioned_artefacts().values()
    assert (a.id, version) == ("a1", 1)
    assert store.save_artefacts([a], {"a1": 1}) == [] and store.versioned_artefacts()["a1"][1] == 2
