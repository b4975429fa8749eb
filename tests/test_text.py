"""The one text toolkit (pipeline/text.py, pipeline/text_clean.py), shared by extractors, dedup and search."""

from __future__ import annotations

import pytest

from pipeline import text
from pipeline.text import content_words, has_question_mark, is_generic_question, sentence_spans, split_sentences, stem
from pipeline.text_clean import clean_message, is_attribution


def test_extractors_dedup_and_search_read_words_through_the_toolkit() -> None:
    import extractors.answer_ranking as ranking
    import index.duplicates as duplicates
    import index.keyword as keyword

    assert duplicates.content_words is text.content_words and ranking.content_words is text.content_words
    assert keyword.content_words is text.content_words
    assert duplicates.split_sentences is text.split_sentences and ranking.split_sentences is text.split_sentences
    for module in (ranking, duplicates, keyword):
        assert not hasattr(module, "_STOP") and not hasattr(module, "_stem")


def test_the_stop_list_holds_no_dataset_words() -> None:
    assert not {"qatar", "doha", "ql", "qatarliving"} & text.STOP_WORDS
    assert content_words("Best bank in Doha?") == ["best", "bank", "doha"]


@pytest.mark.parametrize(
    ("forms", "stemmed"),
    [
        (("package", "packages"), "packag"),
        (("policy", "policies"), "policy"),
        (("create", "created", "creating"), "creat"),
        (("box", "boxes"), "box"),
        (("flight", "flights"), "flight"),
    ],
)
def test_the_forms_of_a_word_meet(forms: tuple[str, ...], stemmed: str) -> None:
    assert {stem(f) for f in forms} == {stemmed}


def test_sentences_are_not_cut_at_a_question_mark_in_a_url_code_or_a_replaced_character() -> None:
    assert split_sentences("See https://x.org/issues/detail?id=3 for details. Is it fixed?") == [
        "See https://x.org/issues/detail?id=3 for details.",
        "Is it fixed?",
    ]
    assert split_sentences("Use `x?.y` here. It doesn?t work.") == ["Use `x?.y` here.", "It doesn?t work."]
    assert not has_question_mark("The ?foo? option in R ? see ?options for more.")
    assert has_question_mark("Why does ?foo? fail?")


@pytest.mark.parametrize(
    ("sentence", "generic"),
    [
        ("Any ideas?", True),
        ("Is that possible?", True),
        ("What am I missing?", True),
        ("What should I do?", True),
        ("Any pointers?", True),
        ("How do I fix this error?", True),
        ("How do I skip a vignette on CRAN?", False),
        ("Is there a way to pretty-print a hash table?", False),
    ],
)
def test_generic_closers_name_no_problem(sentence: str, generic: bool) -> None:
    assert is_generic_question(sentence) is generic


def test_one_generic_question_for_extractors_and_dedup() -> None:
    import extractors.threads as threads
    import pipeline.dedup_items as dedup_items

    assert threads.is_generic_question is text.is_generic_question
    assert dedup_items.compare_text("faq", "Any pointers?", "", "Rotating the Postgres password") == (
        dedup_items.compare_text("faq", "Rotating the Postgres password Any pointers?", "")
    )


def test_prose_sentences_keep_their_spans_and_a_url_question_mark() -> None:
    prose = "The form is at issues/detail? Then fill it in\nand send it. Dr. Who agrees!"
    assert [prose[s:e] for s, e in sentence_spans(prose)] == [
        "The form is at issues/detail? Then fill it in\nand send it.",
        "Dr. Who agrees!",
    ]
    message = "Is it at issues/detail? Then where\nelse?"
    in_lines = [message[s:e] for s, e in sentence_spans(message, lines=True)]
    assert in_lines == ["Is it at issues/detail? Then where", "else?"]


def test_clean_message_keeps_code_and_console_lines() -> None:
    raw = "Hi Jane,\n\nTry this:\n\n> x <- c(1, 2)\n> sum(x)\n[1] 3\n\n```\nBest,\n```\n\nBest,\nIvan Krylov"
    assert clean_message(raw) == "Try this:\n\n> x <- c(1, 2)\n> sum(x)\n[1] 3\n\n```\nBest,\n```"


def test_attribution_needs_the_shape_of_one() -> None:
    assert is_attribution("On Tue, Jul 2, 2024 at 10:00 AM Jane Doe <jane@x.org> wrote:")
    assert not is_attribution("The fix is in the following commit:")
    assert not is_attribution("I tried this on 2024-07-02 at 10:30:")


def test_greeting_lines_and_the_authors_bare_signature_leave_a_mail_answer() -> None:
    raw = "Hi Chaofan and welcome to R-package-devel!\n\nRun it under the sanitizer containers.\n\nDuncan Murdoch"
    assert clean_message(raw, author="Duncan Murdoch") == "Run it under the sanitizer containers."
    assert clean_message("Kevin,\n\nUse separate git repositories.\n\nBrian", author="Brian G. Peterson") == (
        "Use separate git repositories."
    )
    assert clean_message("Solution:\nuse separate repositories.") == "Solution:\nuse separate repositories."


def test_abbreviations_do_not_end_a_sentence_and_an_inverted_question_asks_without_a_mark() -> None:
    assert split_sentences("I get a NOTE for e.g. esa.plot in the check. Why?") == [
        "I get a NOTE for e.g. esa.plot in the check.",
        "Why?",
    ]
    assert text.is_question("I use R CMD BATCH.\nIs there a way via command line arguments to change the name of the pdf\noutput.")


def test_addressees_leave_questions_and_answers_but_not_code() -> None:
    """Who a chat message is addressed to is not part of what it says (issue 10, item 4)."""
    from pipeline.text_clean import strip_addressee

    assert clean_message("<@Leticia> see Alex Harsanyi's blog on racket/gui") == "see Alex Harsanyi's blog on racket/gui"
    assert clean_message("Hi@all, I have a question about strict mode.") == "I have a question about strict mode."
    assert clean_message("@jane, @omar: try `raco setup -D`") == "try `raco setup -D`"
    assert clean_message("@jane") == "@jane"  # nothing else said: kept as it is
    assert clean_message("`@decorator` is applied first") == "`@decorator` is applied first"
    assert strip_addressee("joeblew99: open Configure Defaults", ["JoeBlew99"]) == "open Configure Defaults"
    assert strip_addressee("Note: open Configure Defaults", ["jane"]) == "Note: open Configure Defaults"


def test_a_stored_question_does_not_open_on_talk_or_lose_what_it_leans_on() -> None:
    """'So how do I…?' stored alone reads 'How do I…?'; 'But how…?' keeps the sentence it
    continues (issue 10, item 3)."""
    from index.duplicates import question_core

    assert question_core("So how do I use a render-element properly?", with_antecedent=True) == (
        "How do I use a render-element properly?"
    )
    assert question_core("Also, are there guides on building GUI apps with framework?", with_antecedent=True) == (
        "Are there guides on building GUI apps with framework?"
    )
    assert question_core("I render the docs with scribble. But how do I add my own CSS file?", with_antecedent=True) == (
        "I render the docs with scribble. But how do I add my own CSS file?"
    )
    assert text.without_opener("So what?") == "So what?"  # nothing would be left to ask
