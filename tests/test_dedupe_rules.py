"""The dedupe stage never folds distinct knowledge (issue 10): one FAQ page's entries, generic
closers, support by conversations, and the re-fold of a store written by the old chaining dedup.

Real SQLite store and extractors; `fake_embed` (a hashed bag of words, a test double) stands in
for the model, so texts sharing their words score close.
"""

from __future__ import annotations

import json
from pathlib import Path

from extractors.documents import DocumentExtractor
from pipeline.artefacts import dedupe
from pipeline.extract import extract_all
from pipeline.ingest import ingest_paths
from pipeline.models import Artefact, ArtefactStatus, CandidateKind
from pipeline.store import SQLiteStore
from tests.extractors.test_threads_extractor import fake_embed
from tests.test_artefacts import THRESHOLDS, QuestionPerMessage, _opts, write_thread


def run_dedupe(store: SQLiteStore):  # noqa: ANN201
    return dedupe(store, fake_embed, "fake-bow", THRESHOLDS)


def faq_titles(store: SQLiteStore) -> list[str]:
    return sorted(a.question or "" for a in store.artefacts(kind="faq"))


def test_the_entries_of_one_faq_page_stay_distinct(tmp_path: Path) -> None:
    # Two entries whose words overlap almost wholly (bag-of-words cosine 5/sqrt(30) ≈ 0.91 ≥ merge 0.9):
    # the page's author wrote them as two questions, so they are two artefacts.
    page = tmp_path / "faq.md"
    page.write_text(
        "# Database FAQ\n\n## Frequently asked questions\n\n"
        "### How do I rotate the database password?\n\nRun the rotate job from the admin console.\n\n"
        "### How do I rotate the database password in staging?\n\nStaging rotates itself every night; do nothing.\n"
    )
    store = SQLiteStore(tmp_path / "s.db")
    ingest_paths(store, [page])
    extract_all(store, [DocumentExtractor()])
    assert len(store.candidates(kind="faq")) == 2
    run_dedupe(store)
    assert faq_titles(store) == [
        "How do I rotate the database password in staging?",
        "How do I rotate the database password?",
    ]
    assert store.suggestions() == []


def test_the_same_question_in_two_threads_still_folds(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    write_thread(tmp_path / "a.jsonl", [("ana", "how do we quarantine flaky integration tests")])
    write_thread(tmp_path / "b.jsonl", [("bo", "how do we quarantine flaky integration tests please")])
    ingest_paths(store, [tmp_path / "a.jsonl", tmp_path / "b.jsonl"])
    extract_all(store, [QuestionPerMessage()])
    run_dedupe(store)
    assert len(store.artefacts()) == 1


def test_generic_closers_from_unrelated_threads_do_not_fold(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    write_thread(tmp_path / "editor.jsonl", [("ana", "Any ideas?"), ("bo", "Am I missing something?")])
    write_thread(tmp_path / "heroku.jsonl", [("cy", "Any ideas?"), ("di", "Am I missing something?")])
    ingest_paths(store, [tmp_path / "editor.jsonl", tmp_path / "heroku.jsonl"])
    extract_all(store, [QuestionPerMessage()])
    report = run_dedupe(store)
    assert report.created == 4 and report.suggestions == 0
    assert all(a.support.candidates == 1 for a in store.artefacts())


def test_support_counts_conversations_as_well_as_sources(tmp_path: Path) -> None:
    # One export (one source) with the question asked in two threads, and a second export.
    rows = [
        {"id": "m1", "thread": "t1", "author": "ana", "text": "how do we quarantine flaky integration tests"},
        {"id": "m2", "thread": "t2", "author": "bo", "text": "how do we quarantine flaky integration tests"},
    ]
    (tmp_path / "export.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    write_thread(tmp_path / "other.jsonl", [("cy", "how do we quarantine flaky integration tests")])
    store = SQLiteStore(tmp_path / "s.db")
    ingest_paths(store, [tmp_path / "export.jsonl", tmp_path / "other.jsonl"])
    extract_all(store, [QuestionPerMessage()])
    run_dedupe(store)
    (a,) = store.artefacts()
    assert (a.support.candidates, a.support.conversations, a.support.sources, a.support.authors) == (3, 3, 2, 3)
    assert a.model_dump(mode="json")["support"]["conversations"] == 3


def test_an_existing_store_is_refolded_keeping_the_approved_artefact(tmp_path: Path) -> None:
    """A store written by the chaining dedup: one approved artefact holding an unrelated question."""
    store = SQLiteStore(tmp_path / "s.db")
    write_thread(tmp_path / "a.jsonl", [("ana", "how do we quarantine flaky integration tests")])
    write_thread(tmp_path / "b.jsonl", [("bo", "how do we quarantine flaky integration tests"), ("cy", "terraform state locking with dynamodb")])
    ingest_paths(store, [tmp_path / "a.jsonl", tmp_path / "b.jsonl"])
    extract_all(store, [QuestionPerMessage()])
    cands = store.candidates()
    flaky = [c.id for c in cands if "flaky" in (c.question or "")]
    terraform = next(c.id for c in cands if "terraform" in (c.question or ""))
    old = Artefact(
        id="old-chain", kind=CandidateKind.faq, status=ArtefactStatus.approved,
        question="How do we quarantine flaky integration tests?", answer="Tag and retry.",
        candidate_ids=[*flaky, terraform],
    )  # fmt: skip
    store.save_artefacts([old])

    report = run_dedupe(store)
    after = store.get_artefact("old-chain")
    assert after is not None and after.status == ArtefactStatus.approved
    assert after.question == "How do we quarantine flaky integration tests?"
    assert sorted(after.candidate_ids) == sorted(flaky)
    home = next(a for a in store.artefacts() if terraform in a.candidate_ids)
    assert home.id != "old-chain" and report.refold_left == 1
    assert any({x, y} == {"old-chain", home.id} for x, y, _ in store.suggestions("old-chain"))

    again = run_dedupe(store)  # once re-folded, the next run changes nothing
    assert again.refold_left == 0 and again.created == 0 and again.updated == 0
    assert sorted(store.get_artefact("old-chain").candidate_ids) == sorted(flaky)


def test_a_reviewers_merge_survives_the_refold(tmp_path: Path) -> None:
    from pipeline.review import merge

    store = SQLiteStore(tmp_path / "s.db")
    write_thread(tmp_path / "a.jsonl", [("ana", "how do we quarantine flaky integration tests")])
    write_thread(tmp_path / "b.jsonl", [("bo", "retry budget for end to end suites")])
    ingest_paths(store, [tmp_path / "a.jsonl", tmp_path / "b.jsonl"])
    extract_all(store, [QuestionPerMessage()])
    run_dedupe(store)
    flaky = next(a for a in store.artefacts() if "flaky" in (a.question or ""))
    retry = next(a for a in store.artefacts() if "retry" in (a.question or ""))
    merge(store, retry.id, flaky.id, actor="rita")
    store.cache("dedupe").pop("fold_version")  # as if the store predated the current rules

    report = run_dedupe(store)
    assert report.refold_left == 0
    assert len(store.get_artefact(flaky.id).candidate_ids) == 2
