"""Review actions over a real store: the audit log, merge/unmerge exactness, survival across re-runs."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from pipeline import review
from pipeline.extract import extract_all
from pipeline.ingest import IngestOptions, ingest_paths
from pipeline.models import ArtefactStatus
from pipeline.store import SQLiteStore
from pipeline.users import Role, User, add_user, authenticate, can_see, list_users, revoke_user
from tests.test_artefacts import QuestionPerMessage, run_dedupe, write_thread


@pytest.fixture()
def store(tmp_path: Path) -> SQLiteStore:
    s = SQLiteStore(tmp_path / "practice.sqlite3")
    write_thread(tmp_path / "a.jsonl", [("ana", "how do we quarantine flaky integration tests"), ("bo", "terraform state locking with dynamodb")])
    write_thread(tmp_path / "b.jsonl", [("cy", "remote retrospectives across time zones"), ("di", "rotating database passwords without downtime")])
    ingest_paths(s, [tmp_path / "a.jsonl"], IngestOptions(community="payments"))
    ingest_paths(s, [tmp_path / "b.jsonl"], IngestOptions(community="search", visibility="search-team"))
    extract_all(s, [QuestionPerMessage()])
    run_dedupe(s)
    return s


def by_word(store: SQLiteStore, word: str):  # noqa: ANN201
    return next(a for a in store.artefacts() if word in (a.question or ""))


def test_actions_are_logged_with_before_and_after(store: SQLiteStore) -> None:
    a = by_word(store, "flaky")
    review.approve(store, a.id, "rita", note="clear and correct")
    review.edit(store, a.id, "rita", {"question": "How do we handle flaky tests?"})
    b = by_word(store, "terraform")
    with pytest.raises(review.ReviewError, match="reason"):
        review.reject(store, b.id, "rita", "")
    review.reject(store, b.id, "rita", "too specific to one stack")
    log = review.audit_log(store)
    assert [(e.action, e.actor) for e in log][:3] == [("reject", "rita"), ("edit", "rita"), ("approve", "rita")]
    edit = next(e for e in log if e.action == "edit")
    assert edit.before["question"] == "how do we quarantine flaky integration tests"
    assert edit.after["question"] == "How do we handle flaky tests?"
    assert store.get_artefact(a.id).status == ArtefactStatus.approved
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        store.db.execute("DELETE FROM review_events")


def test_merge_then_unmerge_restores_both_exactly(store: SQLiteStore) -> None:
    a, b = by_word(store, "flaky"), by_word(store, "terraform")
    target = review.merge(store, b.id, a.id, "rita")
    assert set(target.candidate_ids) == set(a.candidate_ids) | set(b.candidate_ids)
    assert target.support.sources == 1 and len(target.evidence) == 2
    assert store.get_artefact(b.id).status == ArtefactStatus.merged
    assert {c.id for c in store.unassigned_candidates()} == set()  # membership moved, nothing orphaned
    run_dedupe(store)  # a dedupe run in between must not undo or duplicate anything
    restored_b, restored_a = review.unmerge(store, b.id, "rita")
    assert restored_a == a and restored_b == b
    assert store.get_artefact(a.id) == a and store.get_artefact(b.id) == b
    with pytest.raises(review.ReviewError, match="not merged"):
        review.unmerge(store, b.id, "rita")


def test_decisions_survive_re_extraction(store: SQLiteStore, tmp_path: Path) -> None:
    a = by_word(store, "flaky")
    review.approve(store, a.id, "rita")
    review.edit(store, a.id, "rita", {"question": "How do we handle flaky tests?"})
    # the same material again, plus a new mention from another team
    write_thread(tmp_path / "c.jsonl", [("ed", "how do we quarantine flaky integration tests")])
    ingest_paths(store, [tmp_path], IngestOptions(community="mobile"))
    extract_all(store, [QuestionPerMessage()])
    run_dedupe(store)
    after = store.get_artefact(a.id)
    assert after.status == ArtefactStatus.approved and after.question == "How do we handle flaky tests?"
    assert after.support.sources == 2
    assert sum(1 for x in store.artefacts() if "flaky" in (x.question or "")) == 1


def test_visibility_and_widening(store: SQLiteStore) -> None:
    secret = by_word(store, "retrospectives")
    assert secret.visibility == "search-team"
    outsider, _ = add_user(store, "olga", Role.reader, ["payments"])
    member, _ = add_user(store, "sven", Role.reader, ["search-team"])
    assert not review.visible(secret, outsider) and review.visible(secret, member) and not review.visible(secret, None)
    queue = review.review_queue(store, outsider)
    assert secret.id not in {a.id for a in queue} and queue
    with pytest.raises(review.ReviewError, match="note"):
        review.widen_visibility(store, secret.id, "root", "public", "")
    widened = review.widen_visibility(store, secret.id, "root", "public", "cleared with the search team")
    assert review.visible(widened, None)
    run_dedupe(store)
    assert store.get_artefact(secret.id).visibility == "public"  # dedupe does not undo the decision


def test_users_tokens_and_roles(store: SQLiteStore) -> None:
    user, token = add_user(store, "rita", "reviewer", ["sre"])
    assert authenticate(store, token) == user and authenticate(store, "pi_wrong") is None
    assert "token" not in str(store.users())  # only the hash is stored, and never listed
    revoke_user(store, "rita")
    assert authenticate(store, token) is None and list_users(store)[0].revoked


@pytest.mark.parametrize(
    ("groups", "visibility", "allowed"),
    [
        ([], "public", True),
        (["a"], "a", True),
        (["a"], "b", False),
        (["a"], "a,b", True),  # one clause: any of its groups
        (["a"], "a;b", False),  # two clauses: both must be met
        (["a", "b"], "a;b", True),
    ],
)
def test_can_see(groups: list[str], visibility: str, allowed: bool) -> None:
    assert can_see(User(name="u", role=Role.reader, groups=groups), visibility) is allowed
