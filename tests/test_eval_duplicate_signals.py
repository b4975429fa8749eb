"""The SemEval signal analysis (pipeline.eval_duplicate_signals) on fixtures, with a fake embedding."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import pipeline.eval_duplicate_signals as sig
from pipeline.eval_duplicates import PairSet
from tests.index.test_duplicates import fake_embed


def test_read_comments_keeps_thread_order(fixtures: Path) -> None:
    comments = sig.read_comments(fixtures / "semeval" / "mini.xml")
    assert comments["Q1_R1"] == ["lol", "You can rent a car monthly at Oasis rental for a cheap price of 1500 QR", "thanks bob that helps"]
    assert len(comments["Q2_R1"]) == 2


def test_coverage_is_asymmetric_by_hand() -> None:
    # every word weighs 1 when it is missing from idf and the unseen weight is 1
    idf = {"": 1.0}
    # a = {bank, saving, account}; b mentions bank and account: 2 of 3
    assert sig.coverage("bank savings account", "which bank account", idf) == pytest.approx(2 / 3)
    assert sig.coverage("which bank account", "bank savings account", idf) == pytest.approx(1.0)
    assert sig.coverage("", "bank", idf) == 0.0


def _pairs(rows: list[tuple[str, str, bool]]) -> PairSet:
    ps = PairSet(name="t", kind="faq")
    for i, (a, b, lab) in enumerate(rows):
        ps.add(f"a{i}", a, "", f"b{i}", b, "", lab)
    return ps


def test_label_consistency_counts_repeats_that_disagree() -> None:
    ps = _pairs([
        ("best bank", "which bank", True),
        ("Best  bank", "which BANK", False),  # same texts up to case and spaces, other label
        ("gym", "fitness centre", True),
        ("gym", "fitness centre", True),  # repeated, same label
        ("visa", "car", False),
    ])  # fmt: skip
    lc = sig.label_consistency(ps)
    assert (lc["pairs"], lc["distinct_pairs"], lc["repeated_pairs"], lc["conflicting_repeats"]) == (5, 3, 2, 1)
    assert lc["examples"][0]["labels"] == [True, False]


def test_cross_fit_scores_each_fold_with_a_model_that_did_not_see_it() -> None:
    # one feature; fold 0 says "high = duplicate", fold 1 the opposite. A model trained on the
    # other fold must rank each fold backwards; an in-sample fit cannot do that on both.
    x = np.array([[0.0], [1.0], [0.1], [0.9], [0.0], [1.0], [0.1], [0.9]])
    y = np.array([0, 1, 0, 1, 1, 0, 1, 0], dtype=bool)
    folds = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    s = sig.cross_fit(x, y, folds)
    assert s[1] < s[0] and s[3] < s[2]  # fold 0 scored by fold 1's (inverted) model
    assert s[5] > s[4] and s[7] > s[6]


def test_analyse_reports_every_signal_and_the_combinations(fixtures: Path) -> None:
    xml = fixtures / "semeval" / "mini.xml"
    report = sig.analyse([xml, xml], encode=fake_embed)
    assert report["pairs"] == 4 and report["duplicates"] == 2
    expected = {"cosine_post", "cosine_core", "cosine_subject", "best_sentence_pair", "lexical_core",
                "coverage_min", "answer_relevance", "group_gap", "ours (calibrated)",
                "logistic, all signals, cross-fitted", "logistic, all signals, in-sample"}  # fmt: skip
    assert set(report["signals"]) == expected
    for m in report["signals"].values():
        assert 0.0 <= m["precision_at_recall_0.25"] <= 1.0
    # the same file twice: both pairs repeat, with the same labels
    assert report["label_consistency"]["repeated_pairs"] == 2
    assert report["label_consistency"]["conflicting_repeats"] == 0


def test_main_names_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert sig.main(["--semeval", str(tmp_path / "nope.xml")]) == 2
    assert "nope.xml" in capsys.readouterr().err


def test_best_linear_in_sample_finds_the_signal_that_separates() -> None:
    # cosine alone ranks a non-duplicate first (best P@R>=0.25 along it: 2/3); "same" only repeats
    # (or, weighted negatively, shrinks) cosine's order, so only "helper" can put a duplicate on top
    y = np.array([False, True, True, False, True, False, False, True])
    cosine = np.array([0.95, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2])
    sig_ = {"cosine_post": cosine, "helper": y.astype(float), "same": cosine.copy()}
    best = sig.best_linear_in_sample(sig_, y)
    assert best["precision_at_recall_0.25"] == 1.0
    assert best["signals"]["helper"] > 0
    no_help = sig.best_linear_in_sample({"cosine_post": cosine, "same": cosine.copy(), "flat": np.zeros(8)}, y)
    assert no_help["precision_at_recall_0.25"] == pytest.approx(2 / 3, abs=1e-4)
