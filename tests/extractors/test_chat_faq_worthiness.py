"""Unthreaded chat: which questions are FAQ candidates (issue 10, items 3 and 5).

Polls, questions about the channel, outage pings, questions that point at someone's earlier
words, suggestions phrased as questions, bare "?" nudges and clarifications inside an exchange
are not FAQs; a question is led by the asker's own statements just before it.
"""

from __future__ import annotations

from extractors.chat_links import link_unthreaded
from extractors.faq_worthiness import faq_worthiness
from tests.extractors.test_faq_threads import _passages, _run

# Hours apart: nothing links, each message is its own conversation.
_SPREAD = ["2019-03-0{}T09:00:00".format(d) for d in range(1, 10)]
_REAL = "How do I get syntax-parse to report the error at the inner form?"


def _questions(texts: list[tuple[str, str]]) -> list[str]:
    """The FAQ questions extracted from (author, text) messages posted a day apart."""
    chat = _passages([(f"m{i}", author, _SPREAD[i], None, text) for i, (author, text) in enumerate(texts)])
    return [c.question for c in _run(chat).candidates]


def test_polls_and_questions_about_the_channel_are_not_faqs() -> None:
    assert _questions([
        ("jane", "Does anyone use Emacs with racket-mode for daily work?"),
        ("omar", "Hey anyone using the official postgres image in production?"),
        ("lena", "is this the room to talk about contributing?"),
        ("ravi", "where can I ask beginner questions?"),
        ("kim", "Is there actually anyone from the core team doing support here at all?"),
        ("ana", _REAL),
    ]) == [_REAL]  # fmt: skip


def test_a_poll_beside_a_real_question_only_weighs_half() -> None:
    worth = faq_worthiness(
        "Does anyone use raco make in CI? Why does raco make recompile every file after a checkout?",
        "Does anyone use raco make in CI? Why does raco make recompile every file after a checkout?",
    )
    assert worth.features["poll"] == 0.5 and worth.keep


def test_an_instability_ping_is_an_outage_ping() -> None:
    worth = faq_worthiness("Is gitter.im unstable? Or is it my laptop?", "Is gitter.im unstable? Or is it my laptop?")
    assert worth.features["outage"] == 1.0 and not worth.keep


def test_questions_pointing_at_what_someone_said_need_the_conversation() -> None:
    assert _questions([
        ("jane", "How does `with-handlers` break <@Julia>'s convention for exceptions?"),
        ("omar", "Are the things you mentioned (signal handlers, etc.) adjusted for processes started by `subprocess`?"),
        ("ana", _REAL),
    ]) == [_REAL]  # fmt: skip


def test_a_suggestion_phrased_as_a_question_and_a_question_naming_nothing_are_not_faqs() -> None:
    assert _questions([
        ("jane", "Have you tried `raco setup --clean` before rebuilding the collection?"),
        ("omar", "If you reload the #lang extensions from the Racket menu, does the colouring correct itself?"),
        ("lena", "??"),
        ("kim", "What for?"),
        ("ana", _REAL),
    ]) == [_REAL]  # fmt: skip


def test_a_post_that_only_asks_about_it_without_saying_what_is_not_a_faq() -> None:
    assert _questions([("jane", "Would this be the best way to do it?"), ("ana", _REAL)]) == [_REAL]


def test_a_short_clarification_inside_an_exchange_is_not_a_new_faq() -> None:
    chat = _passages([
        ("c1", "jane", "2019-03-01T09:00:00", None, "Why isn't `#'x` for quote-syntax just the identifier x?"),
        ("c2", "omar", "2019-03-01T09:01:00", None, "it is wrapped in a syntax object, the identifier keeps its lexical context"),
        ("c3", "lena", "2019-03-01T09:02:00", None, "Do you mean `syntax`?"),
    ])  # fmt: skip
    result = _run(chat)
    assert [c.question for c in result.candidates] == ["Why isn't `#'x` for quote-syntax just the identifier x?"]
    decided = {d["passage_id"]: d for d in result.decisions}
    assert decided[chat[2].id]["features"]["follow_up"] == 1.0


def test_a_remark_without_a_question_mark_inside_an_exchange_is_not_a_faq() -> None:
    chat = _passages([
        ("c1", "jane", "2019-03-01T09:00:00", None, "Is there a shortcut in DrRacket for inserting a lambda?"),
        ("c2", "omar", "2019-03-01T09:01:00", None, "Ctrl+backslash inserts one"),
        ("c3", "lena", "2019-03-01T09:02:00", None, "For me, understanding how to pass values between macros made it click"),
    ])  # fmt: skip
    result = _run(chat)
    assert [c.question for c in result.candidates] == ["Is there a shortcut in DrRacket for inserting a lambda?"]
    assert {d["passage_id"]: d for d in result.decisions}[chat[2].id]["features"]["follow_up"] == 1.0


def test_addressing_someone_else_marks_an_exchange_but_a_self_mention_does_not() -> None:
    chat = _passages([
        ("c1", "jane", "2019-03-01T09:00:00", None, "@omar does the same fix work on Windows?"),
        ("c2", "ana", "2019-03-02T09:00:00", None, "@anaHello guys, how do I stop an observable from emitting twice?"),
        ("c3", "kim", "2019-03-03T09:00:00", None, "<@Lena> what does `Ring` mean on the package server?"),
    ])  # fmt: skip
    marks = [p.extra.get("in_exchange") for p in link_unthreaded(chat)]
    assert marks == ["addressed", None, "addressed"]


def test_the_askers_statements_just_before_a_generic_question_state_its_problem() -> None:
    chat = _passages([
        ("c1", "rene", "2016-12-08T19:55:16", None, "heyo.. i get error 502 bad gateway using php-fpm behind caddy"),
        ("c2", "rene", "2016-12-08T19:55:34", None, "but i dont get why"),
        ("c3", "rene", "2016-12-08T20:06:44", None, "Can anybody help me with this issue?"),
    ])  # fmt: skip
    (faq,) = _run(chat).candidates
    assert "error 502 bad gateway" in faq.question
    assert faq.evidence[0].passage_id == chat[2].id  # the question is still the message that asks


def test_a_lead_in_stops_at_someone_else_and_at_the_window() -> None:
    chat = _passages([
        ("c1", "rene", "2016-12-08T08:00:00", None, "my build of the docs is slow"),
        ("c2", "omar", "2016-12-08T09:00:00", None, "the package server is back"),
        ("c3", "rene", "2016-12-08T09:01:00", None, "raco setup fails with a contract violation in scribble"),
        ("c4", "rene", "2016-12-08T09:02:00", None, "How do I find which document breaks raco setup?"),
    ])  # fmt: skip
    root = next(p for p in link_unthreaded(chat) if p.id == chat[3].id)
    assert root.extra["lead_in"] == "raco setup fails with a contract violation in scribble"
    late = _passages([
        ("d1", "rene", "2016-12-09T08:00:00", None, "my build of the docs is slow"),
        ("d2", "rene", "2016-12-09T09:00:00", None, "How do I find which document breaks raco setup?"),
    ])  # fmt: skip
    assert "lead_in" not in link_unthreaded(late)[1].extra  # an hour later: a new topic


def test_a_question_about_the_other_persons_own_code_inside_an_exchange_is_a_clarification() -> None:
    # the helper asking back follows the asker's message: a clarification, not a FAQ
    for text in (
        'Are you familiar with the "file-exists?" predicate?',
        "So you are saying instead of putting the startup logic right in ngOnInit, put some in the constructor?",
        "is your function an async function?",
    ):
        worth = faq_worthiness(text, text, in_exchange="follows")
        assert worth.features["follow_up"] == 1.0 and not worth.keep, (text, worth)
    # a request to the channel is still a question of its own, even right after someone else
    ask = "Can you tell me how to make syntax-parse report the error at the inner form?"
    assert faq_worthiness(ask, ask, in_exchange="follows").features["follow_up"] == 0.0
    # and the same words opening an exchange are no clarification
    text = "Are you familiar with a way to attach metadata to existing structs in Racket?"
    assert faq_worthiness(text, text).features["follow_up"] == 0.0


def test_own_news_and_run_together_suggestions_are_not_faqs() -> None:
    """A title with a "?" inside the poster's own news is not a question; a suggestion whose
    code lost its space in the export ("triedimport") is still a suggestion."""
    assert _questions([
        ("matt", 'I\'ve just posted the first version of "Why LOP? Why Racket?" for comments'),
        ("con", "Not sure if it works but have you triedimport './that_file.js';?"),
        ("jane", _REAL),
    ]) == [_REAL]


def test_a_stance_or_commitment_is_not_a_faq_but_the_generic_you_is() -> None:
    questions = [
        "Do you think the new module system was a good idea for the community?",
        "Will the board commit to funding the package index for another year?",
        "How do you configure raco to build docs in parallel on a CI runner?",
    ]
    kept = [q for q in questions if faq_worthiness(q, q).keep]
    assert kept == ["How do you configure raco to build docs in parallel on a CI runner?"]


def test_a_bare_call_for_help_and_a_maybe_should_are_not_faqs() -> None:
    assert _questions([
        ("tom", "can anyone help me with pwa using angular 2"),
        ("ann", "Though maybe the docs site should use `string-trim` here?"),
        ("kim", "Can anyone help me with ENOENT when running npm install on Windows 10 after upgrading node?"),
    ]) == ["Can anyone help me with ENOENT when running npm install on Windows 10 after upgrading node?"]


def test_a_question_addressed_by_name_to_someone_in_the_channel_is_a_follow_up() -> None:
    """"garethmcc: Gist?" addresses a participant as surely as "@garethmcc Gist?" does."""
    chat = _passages([
        ("a1", "gareth", "2017-01-28T14:50:00", None, "I use mongoose with a seed script and push fails on undefined"),
        ("a2", "steven", "2017-01-28T15:02:00", None, "gareth: can you share the seed script as a gist?"),
        ("a3", "lena", "2017-01-29T09:00:00", None, _REAL),
    ])  # fmt: skip
    assert [c.question for c in _run(link_unthreaded(chat)).candidates] == [_REAL]


def test_a_question_that_names_nothing_is_not_a_faq_whatever_follows_it() -> None:
    """"which one? Not yours, I assume." stores "which one?": the remark after it names no problem."""
    assert not faq_worthiness("which one?", "which one? Not yours, I assume.").keep
    assert faq_worthiness("What is GitOps?", "What is GitOps? Not sure I get it.").keep
