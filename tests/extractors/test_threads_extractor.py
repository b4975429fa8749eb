"""Threads → FAQs on hand-built threads, with a fake deterministic embedding (no model)."""

from __future__ import annotations

import hashlib
import re

import numpy as np

from extractors.base import unverified_quotes
from extractors.answer_ranking import RankedReply
from extractors.threads import ThreadExtractor, _standalone_best, group_threads
from pipeline.models import Passage, PassageDraft, PassageKind, Source, SourceKind


def fake_embed(texts: list[str]) -> np.ndarray:
    """Fake embedding (test double): hashed bag of words, L2-normalised."""
    out = np.zeros((len(texts), 256), dtype=np.float32)
    for i, t in enumerate(texts):
        for w in re.findall(r"[a-z]{3,}", t.lower()):
            out[i, int(hashlib.md5(w.encode()).hexdigest(), 16) % 256] += 1
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.where(norms == 0, 1, norms)


SOURCE = Source(id="s1", kind=SourceKind.thread, uri="/x/slack", content_hash="h")


def _thread(messages: list[tuple[str, str, str, dict[str, int]]]) -> list[Passage]:
    """(message id, author, text, reactions) in order; the first is the root."""
    root = messages[0][0]
    drafts = [
        PassageDraft(
            kind=PassageKind.message, text=text, author=author, message_id=mid, thread_id=root,
            reply_to=None if mid == root else root, reactions=reactions,
        )  # fmt: skip
        for mid, author, text, reactions in messages
    ]
    return [Passage.from_draft(d, "s1", i) for i, d in enumerate(drafts)]


FLAKY = _thread(
    [
        ("m1", "sam", "Hi all! How do you deal with flaky integration tests that block merges?", {}),
        ("m2", "bea", "lol same here", {}),
        ("m3", "ola", "We quarantine flaky tests with a tag so they run but cannot block merges, "
                      "and the owning team must fix quarantined tests within a week.", {"white_check_mark": 3}),
        ("m4", "sam", "Thanks, that worked for us!", {}),
    ]
)  # fmt: skip
OPEN = _thread([("n1", "kim", "Has anyone got Renovate working with Helm charts in a monorepo?", {})])
NOT_A_QUESTION = _thread(
    [("k1", "lee", "Reminder: the platform guild sync moves to Thursday this week.", {}), ("k2", "ana", "Noted.", {})]
)


def test_question_thread_becomes_faq_with_the_answer_that_worked() -> None:
    passages = [*FLAKY, *OPEN, *NOT_A_QUESTION]
    result = ThreadExtractor(embed=fake_embed).run(SOURCE, passages)
    assert len(result.candidates) == 2  # the reminder thread asks nothing
    faq, open_q = result.candidates
    assert faq.question == "How do you deal with flaky integration tests that block merges?"  # greeting gone
    assert faq.answer.startswith("We quarantine flaky tests")
    roles = [(e.role, e.passage_id) for e in faq.evidence]
    assert roles[0] == ("question", FLAKY[0].id) and roles[1] == ("answer", FLAKY[2].id)
    assert all(r == "runner_up" for r, _ in roles[2:])
    assert FLAKY[3].id not in {pid for _, pid in roles}  # the asker's "thanks" is no alternative answer
    assert open_q.is_open_question and open_q.answer is None and open_q.confidence < faq.confidence
    by_id = {p.id: p for p in passages}
    assert all(unverified_quotes(c, by_id) == [] for c in result.candidates)


def test_group_threads_puts_the_root_first() -> None:
    shuffled = [FLAKY[2], FLAKY[0], FLAKY[1]]
    shuffled = [p.model_copy(update={"seq": i}) for i, p in enumerate(shuffled)]
    (thread,) = group_threads(shuffled)
    assert thread[0].message_id == "m1"


def test_a_question_that_says_it_keeps_the_sentence_that_says_what_it_is() -> None:
    thread = _thread([
        ("r1", "marco", "We need to rotate the Postgres password for payments-ledger. Is there a way to do it "
                        "without downtime? Last time we had five minutes of errors.", {}),
        ("r2", "ravi", "Use two credentials so they overlap, then revoke the old one.", {}),
    ])  # fmt: skip
    (faq,) = ThreadExtractor(embed=fake_embed).run(SOURCE, thread).candidates
    assert faq.question == (
        "We need to rotate the Postgres password for payments-ledger. Is there a way to do it without downtime?"
    )


def test_replies_that_add_to_the_answer_complete_it() -> None:
    thread = _thread([
        ("f1", "marco", "Do other teams actually clean up old feature flags?", {}),
        ("f2", "tomas", "We give every feature flag an expiry date; after it CI warns on any PR that touches the flag.", {}),
        ("f3", "priya", "Also worth separating release flags from kill switches, which are permanent.", {}),
        ("f4", "marco", "Good split, thanks tomas and priya!", {}),
    ])  # fmt: skip
    (faq,) = ThreadExtractor(embed=fake_embed).run(SOURCE, thread).candidates
    assert faq.answer is not None
    first, second = faq.answer.split("\n\n")
    assert first.startswith("We give every feature flag") and second.startswith("Also worth separating")
    answer_ids = [e.passage_id for e in faq.evidence if e.role == "answer"]
    assert answer_ids == [thread[1].id, thread[2].id]
    assert all(e.passage_id not in answer_ids for e in faq.evidence if e.role == "runner_up")


def _ranked(rid: str, credible: bool) -> RankedReply:
    # acknowledged > 0 makes a reply credible outright; the asker's own reply never is
    return RankedReply(rid, 1.0, {"acknowledged": 1.0} if credible else {"asker": 1.0})


def test_the_stored_answer_stands_alone_when_a_credible_one_does() -> None:
    adds, alone = _thread([("a1", "priya", "And rotate on a schedule.", {}), ("a2", "ravi", "Use two users, then revoke.", {})])
    by_id = {adds.id: adds, alone.id: alone}
    assert _standalone_best([_ranked(adds.id, True), _ranked(alone.id, True)], by_id).id == alone.id
    assert _standalone_best([_ranked(adds.id, True), _ranked(alone.id, False)], by_id).id == adds.id  # nothing better
    assert _standalone_best([_ranked(alone.id, True), _ranked(adds.id, True)], by_id).id == alone.id
    assert _standalone_best([_ranked(alone.id, False), _ranked(adds.id, True)], by_id) is None  # top not credible
