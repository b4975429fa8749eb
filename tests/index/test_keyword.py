"""BM25 keyword index (bm25s)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from index.keyword import KeywordIndex

DOCS = [
    "How do other teams run remote retrospectives?",
    "Quarantine flaky tests in CI instead of retrying them",
    "Rotate pairs every two days",
    "Retrospectives: start, stop, continue for remote teams",
    "the and of",  # only stopwords
]


def test_terms_are_the_text_toolkits_so_word_forms_meet() -> None:
    # Search reads words as extractors and dedup do (pipeline.text): forms of one word meet,
    # and a chat filler word ("thanks") is a stop word for search too.
    index = KeywordIndex().build(["Rotating the password", "Vignettes fail to build", "thanks"])
    assert index.search("rotated passwords", 5)[1].tolist() == [0]
    assert index.search("vignette builds", 5)[1].tolist() == [1]
    assert index.search("thanks", 5)[1].size == 0


def test_an_index_written_before_the_toolkit_reads_queries_as_it_was_built(tmp_path: Path) -> None:
    index = KeywordIndex(tokenizer="bm25s-en").build(DOCS)
    index.save(tmp_path / "old")
    params = json.loads((tmp_path / "old" / "keyword.json").read_text())
    del params["tokenizer"]
    params.update(format_version=1, stopwords="en", stemmer=None)  # what format 1 wrote
    (tmp_path / "old" / "keyword.json").write_text(json.dumps(params))
    loaded = KeywordIndex.load(tmp_path / "old")
    assert loaded.tokenizer == "bm25s-en"
    assert loaded.search("remote retrospectives", 5)[1].tolist() == index.search("remote retrospectives", 5)[1].tolist()


def test_matches_rank_best_first_and_only_matches_return() -> None:
    index = KeywordIndex().build(DOCS)
    scores, rows = index.search("remote retrospectives", 10)
    assert set(rows.tolist()) == {0, 3}
    assert (np.diff(scores) <= 0).all() and (scores > 0).all()
    _, rows = index.search("flaky CI", 10)
    assert rows.tolist() == [1]


def test_stopwords_and_unknown_words_match_nothing() -> None:
    index = KeywordIndex().build(DOCS)
    for query in ("the of and", "zeppelin", "", "   "):
        scores, rows = index.search(query, 5)
        assert rows.size == 0 and scores.size == 0


def test_k_limits_and_mask_restricts() -> None:
    index = KeywordIndex().build(DOCS)
    _, rows = index.search("remote retrospectives teams", 1)
    assert rows.size == 1
    mask = np.array([False, True, True, True, True])
    _, rows = index.search("remote retrospectives", 5, mask=mask)
    assert rows.tolist() == [3]


def test_scores_cover_every_row() -> None:
    index = KeywordIndex().build(DOCS)
    scores = index.scores("pairs")
    assert scores.shape == (len(DOCS),)
    assert scores[2] > 0 and np.count_nonzero(scores) == 1


def test_save_and_load(tmp_path: Path) -> None:
    index = KeywordIndex().build(DOCS)
    index.save(tmp_path / "bm25")
    loaded = KeywordIndex.load(tmp_path / "bm25")
    assert len(loaded) == len(DOCS)
    for query in ("remote retrospectives", "flaky", "rotate pairs"):
        a, b = index.search(query, 5), loaded.search(query, 5)
        assert a[1].tolist() == b[1].tolist()
        np.testing.assert_allclose(a[0], b[0])


def test_empty_and_wordless_corpora(tmp_path: Path) -> None:
    for texts in ([], ["the and", "of"]):
        index = KeywordIndex().build(texts)
        assert index.search("anything", 3)[1].size == 0
        index.save(tmp_path / str(len(texts)))
        loaded = KeywordIndex.load(tmp_path / str(len(texts)))
        assert len(loaded) == len(texts) and loaded.search("of", 3)[1].size == 0
