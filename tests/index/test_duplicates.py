"""Duplicate scoring core: question isolation, lexical similarity, the vectorised scorer."""

from __future__ import annotations

import numpy as np
import pytest

from index.duplicates import (
    CALIBRATED,
    CALIBRATED_THRESHOLDS,
    DuplicateScorer,
    KindConfig,
    char_similarity,
    compute_idf,
    content_words,
    embedding_text_for,
    lexical_similarity,
    needs_antecedent,
    question_core,
    texts_for,
)
from tests.fakes import signed_hash_embed

DIM = 64


def fake_embed(texts: list[str]) -> np.ndarray:
    """Fake embedding (test double), see tests/fakes.py."""
    return signed_hash_embed(texts, DIM)


# --------------------------------------------------------------------------- question_core


def test_question_core_drops_greeting_narrative_and_thanks() -> None:
    body = (
        "Hi all; I moved to Doha last month with my wife and two kids. We live in Al Sadd. "
        "Which is the best bank to open a savings account? Thanks in advance. Regards, John"
    )
    core = question_core(body, subject="Good bank")
    assert core == "Good bank. Which is the best bank to open a savings account?"


def test_question_core_keeps_requests_and_interrogatives_without_question_mark() -> None:
    core = question_core("I have a dog. Does anyone know a kennel near the airport. It is urgent.")
    assert core == "Does anyone know a kennel near the airport."
    assert "Looking for a dentist" in question_core("We arrived in May. Looking for a dentist in West Bay.")


def test_question_core_caps_the_number_of_questions_and_falls_back_to_first_sentence() -> None:
    core = question_core("Where is A? Where is B? Where is C? Where is D?", max_sentences=2)
    assert core == "Where is A? Where is B?"
    # nothing asks: the first sentence stands in (and greetings still go)
    assert question_core("Hello everyone, Katara has fireworks for Eid. Four nights.") == "Katara has fireworks for Eid."
    assert question_core("", subject="Visa rules") == "Visa rules."
    assert question_core("") == ""


def test_question_core_splits_glued_sentences_and_does_not_repeat_the_subject() -> None:
    core = question_core("Best bank in Qatar? I am new here.Can someone advise a bank?", subject="Best bank in Qatar?")
    assert core == "Best bank in Qatar? Can someone advise a bank?"


def test_texts_for_faq_and_pattern() -> None:
    assert texts_for("faq", "Car seats", "Hi! Is there a car seat law in Qatar? Thanks") == "Car seats. Is there a car seat law in Qatar?"
    assert texts_for("faq", "Is there a car seat law?", "") == "Is there a car seat law?"
    assert texts_for("pattern", "Small reviews", "Keep changes under 400 lines.") == "Small reviews. Keep changes under 400 lines."
    assert texts_for("pattern", "", "Keep changes small.") == "Keep changes small."
    with pytest.raises(ValueError):
        texts_for("recipe", "a", "b")


def test_embedding_text_for_faq_keeps_the_whole_post() -> None:
    assert embedding_text_for("faq", "Car seats", "Hi! Is there a law?") == "Car seats Hi! Is there a law?"
    assert embedding_text_for("pattern", "Small reviews", "Keep it small.") == "Small reviews. Keep it small."
    assert len(embedding_text_for("faq", "t", "x" * 5000)) == 1200
    assert embedding_text_for("faq", "", "") == "(empty)"


# --------------------------------------------------------------------------- lexical


def test_content_words_drop_stop_words_and_stem() -> None:
    assert content_words("Where can I buy the cheapest flights to Manila?") == ["buy", "cheapest", "flight", "manila"]
    assert content_words("John's kennels") == ["john", "kennel"]


def test_lexical_similarity_bounds_and_idf_weighting() -> None:
    assert lexical_similarity("rent a car monthly", "monthly car rent") == pytest.approx(1.0)
    assert lexical_similarity("rent a car", "buy a laptop") == 0.0
    assert lexical_similarity("", "anything here") == 0.0
    docs = ["car rental price", "car insurance price", "car wash price", "kennel for dogs", "car kennel"]
    idf = compute_idf(docs)
    assert idf["car"] < idf["kennel"] < idf["rental"]
    # sharing the rare word beats sharing the common one
    rare = lexical_similarity("car kennel", "dog kennel", idf)
    common = lexical_similarity("car kennel", "car wash", idf)
    assert rare > common
    # unseen words weigh as much as the rarest (they are rare in this collection)
    assert lexical_similarity("zebra car", "zebra kennel", idf) > lexical_similarity("zebra car", "car kennel", idf)


def test_compute_idf_by_hand() -> None:
    idf = compute_idf(["bank account", "bank loan"])
    assert idf["bank"] == pytest.approx(np.log(3 / 2.5))
    assert idf["loan"] == pytest.approx(np.log(3 / 1.5))


def test_char_similarity_tolerates_typos() -> None:
    assert char_similarity("bank account", "bank accoount") > 0.6
    assert char_similarity("bank account", "laptop price") < 0.1
    assert char_similarity("", "x") == 0.0


# --------------------------------------------------------------------------- scorer


def test_score_pairs_is_weighted_sum_of_cosine_and_lexical() -> None:
    a = ["Where can I rent a car monthly?", "Best bank for savings?"]
    b = ["Monthly car rental, where?", "Which laptop should I buy?"]
    va, vb = fake_embed(a), fake_embed(b)
    idf = compute_idf(a + b)
    scorer = DuplicateScorer({"faq": KindConfig(w_cos=1.0, w_lex=0.5, merge=0.9, suggest=0.5)})
    s = scorer.score_pairs(a, b, va, vb, idf)
    assert s.shape == (2,) and s.dtype == np.float32
    cos = (va * vb).sum(axis=1)
    lex = np.array([lexical_similarity(x, y, idf) for x, y in zip(a, b)])
    np.testing.assert_allclose(s, cos + 0.5 * lex, rtol=1e-5)
    assert s[0] > s[1]
    assert list(scorer.decide(np.array([0.95, 0.6, 0.1]))) == ["merge", "suggest", "distinct"]


def test_score_pairs_identical_items_score_highest_and_empty_input() -> None:
    texts = ["How much is a visit visa?", "Where to jog in Doha?", "Is tap water drinkable?"]
    v = fake_embed(texts)
    scorer = DuplicateScorer()
    same = scorer.score_pairs(texts, texts, v, v, compute_idf(texts))
    shuffled = scorer.score_pairs(texts, texts[1:] + texts[:1], v, np.roll(v, -1, axis=0), compute_idf(texts))
    assert (same > shuffled).all()
    assert same == pytest.approx(np.full(3, 1.0 + CALIBRATED["faq"].w_lex), rel=1e-5)
    assert scorer.score_pairs([], [], np.zeros((0, DIM)), np.zeros((0, DIM))).shape == (0,)


def test_score_pairs_rejects_mismatched_lengths_and_unknown_kind() -> None:
    v = fake_embed(["a b", "c d"])
    with pytest.raises(ValueError):
        DuplicateScorer().score_pairs(["a b"], ["c d", "e"], v[:1], v)
    with pytest.raises(ValueError):
        DuplicateScorer().score_pairs(["a b"], ["c d"], v[:1], v[1:], kind="recipe")


def test_calibrated_defaults_are_consistent() -> None:
    scorer = DuplicateScorer()
    for kind in ("faq", "pattern"):
        assert scorer.merge_threshold(kind) > scorer.suggest_threshold(kind)
        assert CALIBRATED_THRESHOLDS[kind] == (scorer.merge_threshold(kind), scorer.suggest_threshold(kind))


def test_question_core_with_antecedent_keeps_what_it_refers_to() -> None:
    text = "We need to rotate the Postgres password. Is there a way to do it without downtime? Last time it broke."
    assert question_core(text) == "Is there a way to do it without downtime?"
    assert question_core(text, with_antecedent=True) == (
        "We need to rotate the Postgres password. Is there a way to do it without downtime?"
    )
    # a question that names its own subject does not pull in the narrative before it
    named = "Mobile joins the rota in November. What goes into the Monday on-call handover?"
    assert question_core(named, with_antecedent=True) == "What goes into the Monday on-call handover?"
    assert needs_antecedent("Is there a way to do it without downtime?")
    assert not needs_antecedent("How do I rotate the Postgres password for payments-ledger without downtime?")
