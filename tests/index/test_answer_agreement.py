"""Answer agreement: the merge rule on hand-made arrays, and its precision on SemEval part 2."""

from __future__ import annotations

import numpy as np
import pytest

from index.answer_agreement import (
    A_MIN,
    MAX_ANSWER_CHARS,
    Q_MIN,
    Q_MIN_BEFORE,
    agreement_merge,
    answer_text_for,
    boost_scores,
)
from index.duplicates import CALIBRATED

MERGE = CALIBRATED["faq"].merge


# --------------------------------------------------------------------------- constants


def test_answer_agreement_only_confirms_pairs_the_question_already_merges():
    # Issue 10: it never merges a pair on its own (see index/answer_agreement.py for the evidence).
    assert Q_MIN == MERGE
    assert 0.0 < A_MIN < 1.0
    assert (Q_MIN_BEFORE, A_MIN) == (0.64, 0.60)  # changing them means re-running pipeline.eval_answer_agreement


# --------------------------------------------------------------------------- answer_text_for


def test_answer_text_for_collapses_whitespace_and_cuts():
    assert answer_text_for("  Measure first.\n\n Set the\trequest  near p95. ") == "Measure first. Set the request near p95."
    assert len(answer_text_for("word " * 1000)) == MAX_ANSWER_CHARS


@pytest.mark.parametrize("empty", [None, "", "   ", "\n\t"])
def test_answer_text_for_no_answer_is_empty(empty):
    assert answer_text_for(empty) == ""


# --------------------------------------------------------------------------- agreement_merge


def test_agreement_merge_needs_both_signals_and_both_answers():
    q = np.array([0.76, 0.76, 0.50, 0.76, 0.87, Q_MIN_BEFORE, 0.95])
    a = np.array([0.73, 0.33, 0.90, 0.73, 0.33, A_MIN, 0.10])
    has = np.array([True, True, True, False, True, True, True])
    got = agreement_merge(q, a, has, q_min=Q_MIN_BEFORE)
    #            demo pair, answers differ, questions far, open question, postmortem pair, on the cut, far answers
    assert got.tolist() == [True, False, False, False, False, True, False]
    # at the shipped floor (the merge threshold) none of the pairs below it fires
    assert not agreement_merge(q, a, has)[q < MERGE].any()
    assert got.dtype == bool


def test_agreement_merge_nan_never_fires():
    got = agreement_merge(np.array([0.8, np.nan]), np.array([np.nan, 0.9]), np.array([True, True]))
    assert got.tolist() == [False, False]


def test_agreement_merge_custom_thresholds_and_empty():
    q, a, h = np.array([0.5, 0.7]), np.array([0.5, 0.5]), np.array([True, True])
    assert agreement_merge(q, a, h, q_min=0.4, a_min=0.4).tolist() == [True, True]
    assert agreement_merge(np.zeros(0), np.zeros(0), np.zeros(0, bool)).tolist() == []


def test_agreement_merge_rejects_mismatched_shapes():
    with pytest.raises(ValueError):
        agreement_merge(np.zeros(2), np.zeros(3), np.ones(2, bool))


# --------------------------------------------------------------------------- boost_scores


def test_boost_scores_lifts_fired_pairs_to_the_merge_threshold_only():
    q = np.array([0.76, 0.76, 0.92, 0.30])
    a = np.array([0.73, 0.20, 0.90, 0.99])
    has = np.array([True, True, True, True])
    got = boost_scores(q, a, has, MERGE, q_min=Q_MIN_BEFORE)
    assert got[0] == pytest.approx(MERGE)  # fired: lands on the threshold, so plan_dedup merges it
    assert got[1] == pytest.approx(0.76)  # answers disagree: unchanged (still a suggestion)
    assert got[2] == pytest.approx(0.92)  # already above: never lowered
    assert got[3] == pytest.approx(0.30)  # questions far apart: unchanged
    assert (got >= q).all()


def test_answer_agreement_alone_never_merges_in_plan_dedup():
    from index.dedupe import DedupItem, plan_dedup

    items = [DedupItem("art-1", True, "size requests"), DedupItem("cand-1", False, "spark requests")]
    vectors = np.array([[1.0, 0.0], [0.76, np.sqrt(1 - 0.76**2)]], dtype=np.float32)
    answers_agree = np.array([0.73])

    def score(ra: np.ndarray, rb: np.ndarray) -> np.ndarray:
        q = np.einsum("ij,ij->i", vectors[ra], vectors[rb])
        return boost_scores(q, answers_agree[: len(q)], np.ones(len(q), bool), MERGE)

    plain = plan_dedup(items, vectors, MERGE, CALIBRATED["faq"].suggest)
    boosted = plan_dedup(items, vectors, MERGE, CALIBRATED["faq"].suggest, score)
    assert sorted(map(sorted, plain.groups)) == [["art-1"], ["cand-1"]]
    assert plain.suggestions and plain.suggestions[0][:2] == ("art-1", "cand-1")
    # The pair's questions score 0.76 and its answers agree (0.73): answer agreement alone does not
    # merge it (it did with the earlier floor, 0.64); it stays a suggestion for a reviewer.
    assert sorted(map(sorted, boosted.groups)) == [["art-1"], ["cand-1"]]
    assert boosted.suggestions == plain.suggestions


# --------------------------------------------------------------------------- SemEval part 2


@pytest.mark.integration
def test_part2_the_earlier_floor_merged_mostly_related_questions(corpus):
    """Why the rule no longer merges below the question threshold: on held-out part 2, counting a
    related question (PerfectMatch × Relevant, answers sharing the topic) as an error, what the
    earlier floor (0.64, 0.60) merged was mostly wrong (measured 10 of 27 = 0.37)."""
    from pipeline.eval_answer_agreement import attach_answers, counts_at, load_pairs

    data = load_pairs(corpus / "threads" / "semeval2016" / "SemEval2016-Task3-CQA-QL-train-part2.xml")
    # only the threads of pairs the rule can touch are ranked (the rest cannot change the counts)
    labelled = np.isin(np.asarray(data.group), ["duplicate", "distinct", "related"])
    attach_answers(data, labelled & (data.q >= Q_MIN_BEFORE) & (data.q < MERGE))
    before = counts_at(data, Q_MIN_BEFORE, A_MIN)
    assert before["merged_related"] > before["merged_duplicate"], before
    assert before["precision_related_as_errors"] < 0.5, before
    assert counts_at(data, Q_MIN, A_MIN)["merged_duplicate"] + counts_at(data, Q_MIN, A_MIN)["merged_related"] == 0
