"""The chat disentangler on tiny hand-written channels: each cue picks the parent it should."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from extractors.disentangle import Utterance, disentangle

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=timezone.utc)


def _chan(*lines: tuple[int, str, str]) -> list[Utterance]:
    """(minutes after T0, author, text) lines."""
    return [Utterance(author, T0 + timedelta(minutes=m), text) for m, author, text in lines]


def test_a_message_addressing_a_nick_answers_that_person_not_the_latest_line() -> None:
    chan = _chan(
        (0, "ana", "how do I pin a crate version?"),
        (1, "cid", "does anyone know a good tokio console tutorial?"),
        (1, "ben", "ana: write an equals sign first"),
    )
    assert disentangle(chan)[2] == 0


def test_an_at_mention_anywhere_counts_as_addressing() -> None:
    chan = _chan(
        (0, "ana", "my build hangs on linking"),
        (1, "cid", "is the meetup tonight?"),
        (2, "ben", "try mold as the linker @ana"),
    )
    assert disentangle(chan)[2] == 0


def test_the_person_addressed_answers_the_message_that_addressed_them() -> None:
    chan = _chan(
        (-120, "bob", "hi all"),  # long ago: bob is a known nick, his line no candidate
        (0, "ana", "bob: which kernel are you on?"),
        (1, "cid", "the wiki is down again"),
        (2, "bob", "2.6.10 from the stock install"),
    )
    assert disentangle(chan)[3] == 1


def test_a_quote_links_to_the_quoted_message() -> None:
    chan = _chan(
        (0, "ana", "webpack rebuilds everything after each save"),
        (1, "cid", "anyone tried the new router release"),
        (1, "dan", "router release broke our redirects"),
        (2, "ben", "> webpack rebuilds everything\nsame for us since the router release"),
    )
    assert disentangle(chan)[3] == 0


def test_shared_words_pick_the_conversation_over_the_nearer_line() -> None:
    chan = _chan(
        (0, "ana", "postgres vacuum takes hours on the orders table"),
        (1, "cid", "lunch anyone"),
        (1, "ben", "vacuum on orders that slow means the table is bloated"),
    )
    assert disentangle(chan)[2] == 0


def test_a_long_silence_starts_a_new_conversation() -> None:
    chan = _chan((0, "ana", "the deploy finished"), (90, "ben", "the deploy finished for us too"))
    assert disentangle(chan) == [0, 1]


def test_an_unaddressed_new_question_starts_a_conversation() -> None:
    chan = _chan(
        (0, "ana", "i just upgraded to the new release"),
        (1, "ben", "how do I mount a usb stick?"),
    )
    assert disentangle(chan) == [0, 1]


def test_an_author_continuing_links_to_their_own_line() -> None:
    chan = _chan(
        (0, "ana", "my wifi card is not detected"),
        (0, "ben", "hello all"),
        (1, "ana", "it is an intel one from 2019"),
    )
    assert disentangle(chan)[2] == 0
