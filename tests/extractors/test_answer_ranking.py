"""Answer ranking with a deterministic fake embedding (bag of hashed words): no model needed."""

from __future__ import annotations

import numpy as np
import pytest

from extractors.answer_ranking import (
    RankedReply,
    RankingWeights,
    Reply,
    clean_question,
    embedding_texts,
    is_credible,
    is_question,
    rank_replies,
)
from tests.fakes import signed_hash_embed

DIM = 256


def fake_embed(texts: list[str]) -> np.ndarray:
    """Fake embedding (test double), see tests/fakes.py."""
    return signed_hash_embed(texts, DIM)


Q = "Where can I rent a car monthly for a cheap price in Doha?"
ANSWER = "You can rent a car monthly at Oasis in Doha for a cheap price of 1500"


def ids(ranked: list[RankedReply]) -> list[str]:
    return [r.id for r in ranked]


def test_askers_own_comment_ranks_below_anothers_relevant_answer() -> None:
    replies = [
        Reply("own", "I want to rent a car monthly in Doha for a cheap price", author="asker", position=0),
        Reply("ans", ANSWER, author="bob", position=1),
    ]
    ranked = rank_replies(Q, "asker", replies, fake_embed)
    assert ids(ranked)[0] == "ans"
    assert ranked[1].signals["asker"] == 1.0


def test_acknowledged_reply_wins_over_an_equally_relevant_one() -> None:
    replies = [
        Reply("a", "Try renting a car at Oasis in Doha", author="ann", author_name="ann", position=0),
        Reply("b", "Try renting a car at Budget in Doha", author="bob", author_name="bob", position=1),
        Reply("thanks", "thanks ann, that worked", author="asker", position=2),
    ]
    ranked = rank_replies(Q, "asker", replies, fake_embed)
    assert ids(ranked)[0] == "a"
    assert ranked[0].signals["acknowledged"] == 1.0


def test_thanks_without_a_name_credits_the_reply_just_before_as_a_guess() -> None:
    replies = [
        Reply("a", "Try renting a car at Oasis in Doha", author="ann", position=0),
        Reply("b", "Try renting a car at Budget in Doha", author="bob", position=1),
        Reply("t", "Thank you, very helpful", author="asker", position=2),
    ]
    signals = {r.id: r.signals for r in rank_replies(Q, "asker", replies, fake_embed)}
    assert signals["b"]["acknowledged"] == 0.5 and signals["a"]["acknowledged"] == 0.0


# An unnamed thanks credits the last answer turn as a guess (0.5), never ann's earlier reply:
# bob's two messages in a row; kenji's answer plus aisha's "Also: …" that adds to it.
TURNS = {
    "one person, two messages": (
        [("b1", "Fill in the rental form before you go: licence, passport, deposit", "bob"),
         ("b2", "The pickup itself takes fifteen minutes", "bob")],
        "Perfect, thanks. I'll book one",
    ),
    "an addition by someone else": (
        [("k", "We quarantine flaky tests and give each an owner and a deadline", "kenji"),
         ("s", "Also: never sleep a fixed amount, poll with a timeout", "aisha")],
        "The quarantine tag fixed most of it. Thanks!",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(TURNS))
def test_unnamed_thanks_credits_the_whole_last_answer_turn(case: str) -> None:
    turn, thanks = TURNS[case]
    replies = [Reply("a", "Try renting a car at Oasis in Doha", author="ann", position=0)]
    replies += [Reply(rid, text, author=who, position=i) for i, (rid, text, who) in enumerate(turn, start=1)]
    replies.append(Reply("t", thanks, author="asker", position=len(replies)))
    signals = {r.id: r.signals for r in rank_replies(Q, "asker", replies, fake_embed)}
    assert [signals[rid]["acknowledged"] for rid, _, _ in turn] == [0.5, 0.5]
    assert signals["a"]["acknowledged"] == 0.0


def test_comment_reply_to_credits_the_answer_it_sits_under_and_is_not_ranked() -> None:
    replies = [
        Reply("p1", "Use a car rental agency in Doha", author="ann", position=0),
        Reply("p2", "Use a car rental agency in Doha", author="bob", position=1),
        Reply("c1", "Thanks, this worked for me!", author="asker", position=2, reply_to="p1", candidate=False),
    ]
    ranked = rank_replies(Q, "asker", replies, fake_embed)
    assert ids(ranked) == ["p1", "p2"]  # the comment is context only


def test_chit_chat_loses() -> None:
    replies = [
        Reply("lol", "lol", author="x", position=0),
        Reply("thx", "thanks!", author="y", position=1),
        Reply("ans", ANSWER, author="z", position=2),
    ]
    ranked = rank_replies(Q, "asker", replies, fake_embed)
    assert ids(ranked)[0] == "ans"
    assert {r.id: r.signals["chit_chat"] for r in ranked} == {"lol": 1.0, "thx": 1.0, "ans": 0.0}


def test_a_counter_question_ranks_below_an_answer() -> None:
    replies = [
        Reply("q", "Why do you want to rent a car in Doha? Is it cheap?", author="x", position=0),
        Reply("ans", ANSWER, author="z", position=1),
    ]
    ranked = rank_replies(Q, "asker", replies, fake_embed)
    assert ids(ranked)[0] == "ans"
    assert ranked[-1].signals["asks_back"] == 1.0


def test_missing_votes_and_reactions_are_neutral() -> None:
    replies = [Reply("a", ANSWER, author="x", position=0), Reply("b", "Oasis rents cars", author="y", position=1)]
    for r in rank_replies(Q, None, replies, fake_embed):
        assert r.signals["votes"] == 0.0 and r.signals["reactions"] == 0.0 and r.signals["accepted"] == 0.0
        assert r.signals["asker"] == 0.0  # unknown asker: nobody is the asker


def test_votes_and_accepted_count_when_present() -> None:
    replies = [
        Reply("a", ANSWER, author="x", position=0, score=0),
        Reply("b", ANSWER, author="y", position=1, score=25),
        Reply("c", ANSWER, author="w", position=2, score=1, accepted=True),
    ]
    ranked = rank_replies(Q, "asker", replies, fake_embed)
    assert ids(ranked)[0] == "c"  # accepted outweighs votes
    assert ids(ranked)[1] == "b"  # votes outweigh position


def test_zero_weights_keep_thread_order_and_empty_thread_is_empty() -> None:
    zero = RankingWeights(**{k: 0.0 for k in RankingWeights().as_dict()})
    replies = [Reply(str(i), f"reply {i}", author=f"u{i}", position=i) for i in range(4)]
    assert ids(rank_replies(Q, "asker", list(reversed(replies)), fake_embed, zero)) == ["0", "1", "2", "3"]
    assert rank_replies(Q, "asker", [], fake_embed) == []


def test_embedding_texts_are_what_rank_replies_embeds() -> None:
    seen: list[list[str]] = []

    def spy(texts: list[str]) -> np.ndarray:
        seen.append(list(texts))
        return fake_embed(texts)

    replies = [Reply("a", ANSWER, author="x"), Reply("b", "ctx", author="y", candidate=False)]
    rank_replies("Hi all, " + Q + " Thanks in advance", "asker", replies, spy)
    assert embedding_texts("Hi all, " + Q + " Thanks in advance", replies) in seen
    assert seen[0][0] == Q  # greeting and thanks removed before embedding


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Hi all, where can I rent a car?", "where can I rent a car?"),
        ("Hello everyone! How do I renew my visa? Thanks in advance", "How do I renew my visa?"),
        ("Dear all; Any advice on schools? Regards, Sam", "Any advice on schools?"),
        ("G'day all; just wondering if any one knows a cheap car rental. Cheers; Don", "just wondering if any one knows a cheap car rental."),
        ("How do I configure the runner?\n-- \nJane Doe\nACME Corp", "How do I configure the runner?"),
        ("Thanks", "Thanks"),  # never cleaned to nothing
    ],
)
def test_clean_question(raw: str, clean: str) -> None:
    assert clean_question(raw) == clean


@pytest.mark.parametrize(
    "text",
    [
        "Where can I rent a car?",
        "Does anyone know a good dentist in Doha",
        "how do I renew my residence permit",
        "Any advice on running remote retrospectives",
        "Looking for recommendations for a flaky-test dashboard",
        "I was wondering if the visa can be extended",
        "Please advise on the best bank",
        "Is there a way to skip the pipeline step",
    ],
)
def test_is_question_true(text: str) -> None:
    assert is_question(text)


@pytest.mark.parametrize(
    "text",
    [
        "We moved our retrospectives to Miro last sprint.",
        "Reminder: the guild meets on Thursday at 10.",
        "Great news, the new release is out",
        "",
    ],
)
def test_is_question_false(text: str) -> None:
    assert not is_question(text)


def test_is_credible() -> None:
    strong = RankedReply("a", 1.2, {"acknowledged": 0.0, "asker": 0.0, "chit_chat": 0.0, "asks_back": 0.0})
    weak = RankedReply("b", 0.1, {"acknowledged": 0.0, "asker": 0.0, "chit_chat": 0.0, "asks_back": 0.0})
    thanked = RankedReply("c", 0.1, {"acknowledged": 1.0})
    own = RankedReply("d", 2.0, {"asker": 1.0})
    assert is_credible(strong) and not is_credible(weak) and is_credible(thanked) and not is_credible(own)
