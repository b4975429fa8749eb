"""Threads → FAQs a community lead would keep: answers found where they are, questions that stand
alone, clean text, and threads that are not FAQs left out (issue 10, items 2, 3, 4, 5)."""

from __future__ import annotations

from extractors.chat_links import link_unthreaded
from extractors.threads import ThreadExtractor
from pipeline.models import Passage, PassageDraft, PassageKind, Source, SourceKind
from tests.extractors.test_threads_extractor import fake_embed

MAIL = Source(id="s1", kind=SourceKind.thread, uri="/x/list.mbox", content_hash="h")


def _passages(messages: list[tuple[str, str, str, str | None, str]]) -> list[Passage]:
    """(message id, author, timestamp, thread root id or None for "no thread", text) in order."""
    drafts = [
        PassageDraft(
            kind=PassageKind.message, text=text, author=author, timestamp=ts, message_id=mid,
            thread_id=root or mid, reply_to=root if root and root != mid else None, extra={"channel": "general"},
        )  # fmt: skip
        for mid, author, ts, root, text in messages
    ]
    return [Passage.from_draft(d, "s1", i) for i, d in enumerate(drafts)]


def _run(passages: list[Passage]):  # type: ignore[no-untyped-def]
    return ThreadExtractor(embed=fake_embed).run(MAIL, passages)


# --------------------------------------------------------------------------- answers (item 2)


def test_the_one_reply_of_a_mailing_list_thread_answers_it() -> None:
    thread = _passages([
        ("<q@x>", "Ana Lima", "2024-07-02T10:00:00", "<q@x>",
         "Dear list,\n\nMy package fails R CMD check on Windows with a pdflatex error while building the vignette.\n"
         "Any ideas?\n\nBest,\nAna"),
        ("<a@x>", "Ivan Krylov", "2024-07-02T11:00:00", "<q@x>",
         "Win-builder has no full TeX installation. Switch the vignette to the R.rsp::asis engine and ship the "
         "prebuilt PDF, or move the heavy document to a website.\n\nHope this helps,\nIvan"),
    ])  # fmt: skip
    (faq,) = _run(thread).candidates
    assert faq.answer is not None and not faq.is_open_question
    assert faq.answer.startswith("Win-builder has no full TeX installation.")
    assert faq.answer.endswith("move the heavy document to a website.")  # sign-off and name gone
    assert [e.role for e in faq.evidence][:2] == ["question", "answer"]


def test_a_thread_nobody_answered_stays_open_and_chit_chat_is_no_answer() -> None:
    thread = _passages([
        ("<q@x>", "Ana", "2024-07-02T10:00:00", "<q@x>", "How do I register native routines for a Fortran subroutine?"),
        ("<a@x>", "Bob", "2024-07-02T11:00:00", "<q@x>", "+1"),
    ])  # fmt: skip
    (faq,) = _run(thread).candidates
    assert faq.answer is None and faq.is_open_question


def test_in_chat_without_threads_a_reply_that_mentions_the_asker_answers() -> None:
    chat = _passages([
        ("c1", "jane", "2019-03-01T09:00:00", None, "How do I make raco test skip the slow submodule?"),
        ("c2", "omar", "2019-03-01T09:01:00", None, "Anyone going to the meetup tonight?"),
        ("c3", "lena", "2019-03-01T09:40:00", None, "@jane put it in a `slow` submodule and exclude it: "
                                                    "raco test --submodule test ignores the other submodules."),
        ("c4", "jane", "2019-03-01T09:43:00", None, "thanks, that did it!"),
    ])  # fmt: skip
    faqs = {c.question: c for c in _run(chat).candidates}
    faq = faqs["How do I make raco test skip the slow submodule?"]
    # the answer is stored without its addressee; the evidence quotes the message as written
    assert faq.answer is not None and faq.answer.startswith("put it in a `slow` submodule")
    assert any(e.quote.startswith("@jane put it") for e in faq.evidence if e.role == "answer")
    assert chat[3].id not in {e.passage_id for e in faq.evidence if e.role == "answer"}


def test_in_chat_without_threads_a_prompt_reply_in_the_same_channel_answers() -> None:
    chat = _passages([
        ("d1", "jane", "2019-03-01T09:00:00", None, "Is there a way to pretty-print a hash table in the REPL?"),
        ("d2", "lena", "2019-03-01T09:03:00", None, "Use pretty-print from racket/pretty, it handles nested hashes."),
        ("d3", "omar", "2019-03-01T11:00:00", None, "Unrelated: the docs site looks great today."),
    ])  # fmt: skip
    linked = link_unthreaded(chat)
    assert linked[1].thread_id == chat[0].thread_id and linked[1].reply_to == "d1"
    assert linked[2].thread_id == "d3"  # two hours later, about something else
    (faq,) = _run(chat).candidates
    assert faq.answer == "Use pretty-print from racket/pretty, it handles nested hashes."


def test_in_a_busy_channel_an_unaddressed_reply_answers_the_question_it_is_about() -> None:
    chat = _passages([
        ("e1", "jane", "2019-03-01T09:00:00", None, "How do I resize a partition with gparted?"),
        ("e2", "omar", "2019-03-01T09:01:00", None, "What is a good irc client for the terminal?"),
        ("e3", "lena", "2019-03-01T09:02:00", None, "gparted resizes the partition once you unmount it."),
    ])  # fmt: skip
    linked = link_unthreaded(chat)
    assert linked[2].reply_to == "e1"  # about gparted, not the latest question (omar's)


# --------------------------------------------------------------------------- questions (item 3)


def test_a_generic_closer_takes_the_problem_statement_before_it() -> None:
    thread = _passages([
        ("<q@x>", "Ana", "2024-07-02T10:00:00", "<q@x>",
         "Hi all,\nSince last week my package gets a NOTE about non-API calls to SET_TYPEOF on CRAN.\n"
         "I have no idea where it comes from.\nAny ideas?\nThanks in advance,\nAna"),
    ])  # fmt: skip
    (faq,) = _run(thread).candidates
    assert faq.question == (
        "Since last week my package gets a NOTE about non-API calls to SET_TYPEOF on CRAN. "
        "I have no idea where it comes from."
    )


def test_a_question_mark_inside_a_url_does_not_cut_the_question() -> None:
    thread = _passages([
        ("<q@x>", "Ana", "2024-07-02T10:00:00", "<q@x>",
         "Is the crash reported at https://bugs.r-project.org/show_bug.cgi?id=18700 fixed in R 4.4.1?"),
    ])  # fmt: skip
    (faq,) = _run(thread).candidates
    assert faq.question == "Is the crash reported at https://bugs.r-project.org/show_bug.cgi?id=18700 fixed in R 4.4.1?"


def test_replacement_characters_from_a_mail_archive_do_not_end_a_sentence() -> None:
    thread = _passages([
        ("<q@x>", "Ana", "2024-07-02T10:00:00", "<q@x>",
         "I?m building the ?igraph? package from source and it doesn?t link against GLPK on macOS. "
         "How do I point configure at Homebrew's GLPK?"),
    ])  # fmt: skip
    (faq,) = _run(thread).candidates
    assert faq.question == "How do I point configure at Homebrew's GLPK?"


# --------------------------------------------------------------------------- clean text (item 4)


def test_attributions_in_any_language_and_sign_offs_leave_the_answer() -> None:
    thread = _passages([
        ("<q@x>", "Ana", "2024-07-02T10:00:00", "<q@x>", "How do I silence the 'no visible binding' NOTE for dplyr columns?"),
        ("<a@x>", "Thierry", "2024-07-02T11:00:00", "<q@x>",
         "Use utils::globalVariables() in a zzz.R file, or refer to the columns as .data$col.\n\n"
         "Op ma 19 aug 2024 om 14:54 schreef Dirk Eddelbuettel <edd at debian.org>:\n\n"
         "Cheers,\nThierry"),
    ])  # fmt: skip
    (faq,) = _run(thread).candidates
    assert faq.answer == "Use utils::globalVariables() in a zzz.R file, or refer to the columns as .data$col."


def test_chat_markup_leaves_the_text_but_not_the_code() -> None:
    chat = _passages([
        ("e1", "jane", "2019-03-01T09:00:00", "e1", "How do I print a :keyword: literally in Scribble? :sweat_smile:"),
        ("e2", "lena", "2019-03-01T09:02:00", "e1", "Escape it: write `@litchar{:keyword:}` and it prints as is :+1:"),
    ])  # fmt: skip
    (faq,) = _run(chat).candidates
    assert faq.question == "How do I print a literally in Scribble?"
    assert faq.answer == "Escape it: write `@litchar{:keyword:}` and it prints as is"


# --------------------------------------------------------------------------- not a FAQ (item 5)


def test_outage_pings_announcements_and_chit_chat_are_not_faq_candidates() -> None:
    chat = _passages([
        ("f1", "jane", "2019-03-01T09:00:00", "f1", "is it just me or pkgs.racket-lang.org is down?"),
        ("f2", "omar", "2019-03-02T09:00:00", "f2",
         "Beta privileges will change next week: only maintainers can publish. Questions?"),
        ("f3", "lena", "2019-03-03T09:00:00", "f3", "How is everyone doing today?"),
        ("f4", "ravi", "2019-03-04T09:00:00", "f4", "Where can I watch the recordings of the spring meetup?"),
        ("f5", "ana", "2019-03-05T09:00:00", "f5", "How do I get syntax-parse to report the error at the inner form?"),
    ])  # fmt: skip
    result = _run(chat)
    assert [c.question for c in result.candidates] == ["How do I get syntax-parse to report the error at the inner form?"]
    decided = {d["passage_id"]: d for d in result.decisions}
    assert decided[chat[0].id]["features"]["outage"] == 1.0 and not decided[chat[0].id]["keep"]
    assert decided[chat[1].id]["features"]["announcement"] == 1.0
    assert decided[chat[2].id]["features"]["social"] == 1.0
    assert decided[chat[4].id]["keep"] and decided[chat[4].id]["score"] > 0


def test_mails_with_a_subject_are_never_linked_as_chat_replies() -> None:
    mails = _passages([
        ("<a@x>", "Ana", "2024-07-02T10:00:00", None, "How do I register native routines?"),
        ("<b@x>", "Bob", "2024-07-02T10:05:00", None, "Ana, a new topic: the build farm moved to a new URL."),
    ])  # fmt: skip
    mails = [p.model_copy(update={"extra": {"subject": s}}) for p, s in zip(mails, ("Native routines", "Build farm"))]
    assert [p.thread_id for p in link_unthreaded(mails)] == ["<a@x>", "<b@x>"]


def test_in_a_quiet_channel_the_first_reply_hours_later_answers() -> None:
    """Nobody else spoke in between: the next message, hours later, on the same topic, answers,
    even when it asks back first. An unrelated message hours later does not."""
    chat = _passages([
        ("q1", "karl", "2016-12-30T13:13:00", None, "Is it normal that the memory of processes in a docker container "
                                                   "is not visible on the host? MemAvailable stays the same."),
        ("q2", "drag", "2016-12-30T21:01:00", None, "are they the same container? the kernel is smart about shared "
                                                   "memory, so most of it is reused between containers of one image."),
        ("q3", "mona", "2017-01-02T09:00:00", None, "Can docker-machine be scripted to set up an environment?"),
        ("q4", "olaf", "2017-01-02T15:00:00", None, "The new office coffee machine finally arrived today."),
    ])  # fmt: skip
    faqs = {c.question.split("?")[0]: c for c in _run(chat).candidates}
    memory = faqs["Is it normal that the memory of processes in a docker container is not visible on the host"]
    assert memory.answer is not None and memory.answer.startswith("are they the same container?")
    assert faqs["Can docker-machine be scripted to set up an environment"].answer is None


def test_a_new_question_hours_later_is_not_an_answer() -> None:
    """Someone else's problem statement ending in a question is their own question, not a reply."""
    chat = _passages([
        ("r1", "karl", "2016-12-30T13:13:00", None, "How do I keep the docker build cache when two layers change?"),
        ("r2", "siam", "2016-12-30T18:00:00", None, "My docker build ignores the cache for every layer since the "
                                                   "upgrade to 1.13. Is there a flag to get it back?"),
    ])  # fmt: skip
    questions = {c.question: c.answer for c in _run(chat).candidates}
    assert questions.get("How do I keep the docker build cache when two layers change?", "missing") is None
    assert any(q.endswith("Is there a flag to get it back?") for q in questions)


def test_the_askers_further_question_in_a_replied_conversation_stays_in_it() -> None:
    """Once someone has replied, the asker's next question in that conversation ("How might I do
    that?") is part of the same problem, not an unanswered question of its own, even when it comes
    after other chatter and longer than the reply window after the reply."""
    chat = _passages([
        ("f1", "tempie", "2019-02-07T14:30:00", None, "How can a macro know at compile time which keys a game-data hash "
                                                     "will hold, so that `magic` can define them?"),
        ("f2", "elin", "2019-02-07T14:31:00", None, "You could have the `new-node` macro record the known keys at "
                                                   "compile time as well as updating the hash at run time."),
        ("f2b", "omar", "2019-02-07T14:36:00", None, "Does anyone know when the package build farm is back?"),
        ("f3", "tempie", "2019-02-07T14:42:30", None, "How might the `new-node` macro record the known keys at compile time?"),
        ("f4", "elin", "2019-02-07T14:45:00", None, "Use `define-syntax` to bind the keys to the data name and "
                                                   "`syntax-local-value` in `magic` to read them back."),
    ])  # fmt: skip
    faqs = _run(chat).candidates
    assert [c.question for c in faqs if "macro" in c.question] == [
        "How can a macro know at compile time which keys a game-data hash will hold, so that `magic` can define them?"
    ]
