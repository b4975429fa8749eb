"""Hybrid search over a release: filters, modes, fusion computed by hand, one release per Searcher."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from index.release import build_release
from index.search import (
    DEFAULT_FUSION,
    DEFAULT_RRF_K,
    DEFAULT_WEIGHTS,
    Searcher,
    convex_fusion,
    reciprocal_rank_fusion,
    shared_searcher,
)

DIM = 64


def fake_embed(texts: list[str]) -> np.ndarray:
    """Deterministic bag-of-words hashing embedding: shared words give a higher cosine."""
    out = np.zeros((len(texts), DIM), dtype=np.float32)
    for i, text in enumerate(texts):
        for word in re.findall(r"\w+", text.lower()):
            out[i, int(hashlib.md5(word.encode()).hexdigest(), 16) % DIM] += 1.0
        out[i, 0] += 1e-3  # never a zero vector
    return out / np.linalg.norm(out, axis=1, keepdims=True)


ITEMS: list[dict[str, Any]] = [
    {"id": "retro", "kind": "faq", "status": "approved", "communities": ["scrum"], "source_kinds": ["transcript"],
     "visibility": "public", "updated_at": "2024-01-10T00:00:00Z", "question": "How do we run remote retrospectives?"},
    {"id": "flaky", "kind": "pattern", "status": "approved", "communities": ["qa"], "source_kinds": ["thread"],
     "visibility": "public", "updated_at": "2024-03-01T00:00:00Z", "question": "Quarantine flaky tests in CI"},
    {"id": "pairs", "kind": "pattern", "status": "candidate", "communities": ["qa", "scrum"], "source_kinds": ["document"],
     "visibility": "internal", "updated_at": "2024-06-01T00:00:00+00:00", "question": "Rotate pairs in remote teams"},
    {"id": "oncall", "kind": "faq", "status": "approved", "communities": ["platform"], "source_kinds": ["thread", "document"],
     "visibility": "public", "updated_at": None, "question": "Who is on call for remote incidents?"},
]  # fmt: skip


@pytest.fixture
def root(tmp_path: Path) -> Path:
    texts = [p["question"] for p in ITEMS]
    build_release(tmp_path / "releases", ITEMS, fake_embed(texts), texts, "fake", include_candidates=True)
    return tmp_path / "releases"


@pytest.fixture
def searcher(root: Path) -> Searcher:
    return Searcher.open(root, embed=fake_embed)


def ids(hits: list[Any]) -> list[str]:
    return [h.id for h in hits]


def test_rrf_by_hand() -> None:
    # dense: A, B, C; bm25: C, B.  k = 60:
    # A = 1/61 = .016393;  B = 1/62 + 1/62 = .032258;  C = 1/63 + 1/61 = .032266  ->  C, B, A
    fused = reciprocal_rank_fusion({"dense": [0, 1, 2], "bm25": [2, 1]}, k=60)
    assert [row for row, _ in fused] == [2, 1, 0]
    assert fused[0][1] == pytest.approx(1 / 63 + 1 / 61)
    assert fused[1][1] == pytest.approx(2 / 62)
    assert fused[2][1] == pytest.approx(1 / 61)
    # weights: bm25 at 0.5 -> B = 1/62 + .5/62 = .024194, C = 1/63 + .5/61 = .024070 -> B before C
    weighted = reciprocal_rank_fusion({"dense": [0, 1, 2], "bm25": [2, 1]}, k=60, weights={"bm25": 0.5})
    assert [row for row, _ in weighted] == [1, 2, 0]


def test_weighted_rrf_by_hand() -> None:
    # dense: A, B, C; bm25: C, B.  k = 2, dense weight 1:
    #   bm25 weight 1:   A = 1/3 = .3333;  B = 1/4 + 1/4 = .5000;  C = 1/5 + 1/3 = .5333  ->  C, B, A
    #   bm25 weight .5:  A = .3333;  B = 1/4 + .5/4 = .3750;  C = 1/5 + .5/3 = .3667      ->  B, C, A
    #   bm25 weight .1:  A = .3333;  B = 1/4 + .1/4 = .2750;  C = 1/5 + .1/3 = .2333      ->  A, B, C
    lists = {"dense": [0, 1, 2], "bm25": [2, 1]}
    equal = reciprocal_rank_fusion(lists, k=2, weights={"dense": 1.0, "bm25": 1.0})
    assert [row for row, _ in equal] == [2, 1, 0]
    assert [s for _, s in equal] == pytest.approx([1 / 5 + 1 / 3, 1 / 2, 1 / 3])
    half = reciprocal_rank_fusion(lists, k=2, weights={"dense": 1.0, "bm25": 0.5})
    assert [row for row, _ in half] == [1, 2, 0]
    assert [s for _, s in half] == pytest.approx([0.375, 1 / 5 + 0.5 / 3, 1 / 3])
    tenth = reciprocal_rank_fusion(lists, k=2, weights={"dense": 1.0, "bm25": 0.1})
    assert [row for row, _ in tenth] == [0, 1, 2]
    # a method left out of weights counts 1: {"bm25": .5} is the same as dense 1, bm25 .5
    assert reciprocal_rank_fusion(lists, k=2, weights={"bm25": 0.5}) == half


def test_default_fusion_and_rrf_parameters() -> None:
    """RRF is the default, as the brief asks, with the dev-chosen parameters; convex stays selectable."""
    assert DEFAULT_FUSION == "rrf"
    assert DEFAULT_WEIGHTS["convex"] == {"dense": 0.9, "bm25": 0.1}
    assert DEFAULT_RRF_K == 1 and DEFAULT_WEIGHTS["rrf"] == {"dense": 1.0, "bm25": 0.3}


def test_convex_by_hand() -> None:
    # dense scores .9 .5 .1 -> normalised 1, .5, 0; bm25 4, 2 -> 1, .5
    fused = dict(convex_fusion(([0, 1, 2], [0.9, 0.5, 0.1]), ([2, 1], [4.0, 2.0]), {"dense": 0.6, "bm25": 0.4}))
    assert fused[0] == pytest.approx(0.6)
    assert fused[1] == pytest.approx(0.6 * 0.5 + 0.4 * 0.5)
    assert fused[2] == pytest.approx(0.4)


def test_searcher_rrf_order_by_hand(tmp_path: Path) -> None:
    """Dense ranks A, B, C (by construction of the vectors); BM25 ranks C, B (A has neither word)."""
    e0, e1 = np.eye(4, dtype=np.float32)[:2]
    vectors = np.stack([e0, (e0 + e1) / np.sqrt(2), (e0 + 2 * e1) / np.sqrt(5)]).astype(np.float32)
    payloads = [{"id": x, "kind": "faq", "status": "approved"} for x in "ABC"]
    texts = ["gamma", "alpha", "alpha beta beta"]
    build_release(tmp_path, payloads, vectors, texts, "fake")

    def open_(**options: Any) -> Searcher:
        return Searcher.open(tmp_path, embed=lambda t: np.tile(e0, (len(t), 1)), **options)

    # RRF with k = 2, dense 1, bm25 .5: A = 1/3, B = 1/4 + .5/4 = .375, C = 1/5 + .5/3 = .3667
    s = open_(fusion="rrf", rrf_k=2, weights={"bm25": 0.5})
    hits = s.search("alpha beta", k=3)
    assert ids(hits) == ["B", "C", "A"]
    assert [(h.dense_rank, h.bm25_rank) for h in hits] == [(2, 2), (3, 1), (1, None)]
    assert [h.score for h in hits] == pytest.approx([0.375, 1 / 5 + 0.5 / 3, 1 / 3])
    assert ids(s.search("alpha beta", k=3, mode="dense")) == ["A", "B", "C"]
    assert ids(s.search("alpha beta", k=3, mode="bm25")) == ["C", "B"]
    # textbook RRF, k = 60, equal weights: A = 1/61, B = 2/62 = .032258, C = 1/63 + 1/61 = .032266
    textbook = open_(fusion="rrf", rrf_k=60, weights={"bm25": 1.0}).search("alpha beta", k=3)
    assert ids(textbook) == ["C", "B", "A"] and textbook[0].score == pytest.approx(1 / 63 + 1 / 61)
    # k = 60, bm25 .5: B = 1/62 + .5/62 = .024194, C = 1/63 + .5/61 = .024070
    assert ids(open_(fusion="rrf", rrf_k=60, weights={"bm25": 0.5}).search("alpha beta", k=3)) == ["B", "C", "A"]
    # convex .9/.1: dense normalised A 1, B (.7071 - .4472) / (1 - .4472) = .47, C 0, so
    # A = .9 and B <= .9 * .47 + .1 = .52 whatever BM25 says; C = .1 (its BM25 is the best)
    assert ids(open_(fusion="convex").search("alpha beta", k=3)) == ["A", "B", "C"]
    # the default RRF, k = 1, dense 1, bm25 .3: A = 1/2, B = 1/3 + .3/3 = .4333, C = 1/4 + .3/2 = .4
    default = open_()
    hits = default.search("alpha beta", k=3)
    assert default.fusion == "rrf" and ids(hits) == ["A", "B", "C"]
    assert [h.score for h in hits] == pytest.approx([1 / 2, 1 / 3 + 0.3 / 3, 1 / 4 + 0.3 / 2])


def test_fusion_options_are_checked(root: Path) -> None:
    for bad in ({"fusion": "max"}, {"rrf_k": -1}, {"weights": {"sparse": 1.0}}, {"weights": {"bm25": -0.1}}):
        with pytest.raises(ValueError):
            Searcher.open(root, embed=fake_embed, **bad)


def test_hit_carries_payload_score_and_ranks(searcher: Searcher) -> None:
    hit = searcher.search("remote retrospectives", k=1)[0]
    assert hit.id == "retro" and hit.payload["question"].startswith("How do we run")
    assert hit.dense_rank == 1 and hit.bm25_rank == 1 and hit.score > 0
    d = hit.to_dict()
    assert d["id"] == "retro" and d["ranks"] == {"dense": 1, "bm25": 1} and d["score"] == hit.score


def test_filters(searcher: Searcher) -> None:
    q = "remote"
    assert set(ids(searcher.search(q, kind="pattern"))) == {"flaky", "pairs"}
    assert set(ids(searcher.search(q, status="approved"))) == {"retro", "flaky", "oncall"}
    assert set(ids(searcher.search(q, community="scrum"))) == {"retro", "pairs"}
    assert set(ids(searcher.search(q, community=["qa", "platform"]))) == {"flaky", "pairs", "oncall"}
    assert set(ids(searcher.search(q, source_kind="document"))) == {"pairs", "oncall"}
    assert set(ids(searcher.search(q, visibility="public"))) == {"retro", "flaky", "oncall"}
    assert set(ids(searcher.search(q, since="2024-02-01"))) == {"flaky", "pairs"}  # no date: left out
    assert set(ids(searcher.search(q, until="2024-03-01T00:00:00Z"))) == {"retro", "flaky"}
    assert ids(searcher.search(q, kind="faq", community="scrum", status="approved")) == ["retro"]
    assert searcher.search(q, kind="nothing") == []
    for mode in ("dense", "bm25", "hybrid"):
        assert all(h.payload["kind"] == "faq" for h in searcher.search(q, kind="faq", mode=mode))


def test_filter_never_starves_results(tmp_path: Path) -> None:
    """A selective filter still gets k hits when k pass it, even far down the unfiltered ranking."""
    n = 600
    payloads = [{"id": f"a{i}", "kind": "faq" if i % 100 == 0 else "pattern", "status": "approved"} for i in range(n)]
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((n, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    build_release(tmp_path, payloads, vectors, [f"text {i}" for i in range(n)], "fake")
    s = Searcher.open(tmp_path, embed=lambda t: np.tile(vectors[1], (len(t), 1)), depth=5)
    hits = s.search("anything", k=5, kind="faq", mode="dense")
    faq_rows = np.arange(0, n, 100)
    expected = faq_rows[np.argsort(-(vectors[faq_rows] @ vectors[1]))][:5]
    assert ids(hits) == [f"a{i}" for i in expected]
    assert len(hits) == 5 and all(h.payload["kind"] == "faq" for h in hits)
    assert [h.dense_rank for h in hits] == [1, 2, 3, 4, 5]


def test_modes_and_k(searcher: Searcher) -> None:
    assert len(searcher.search("remote", k=2)) == 2
    assert len(searcher.search("remote", k=50)) == 4  # every artefact has a dense score
    assert set(ids(searcher.search("remote", k=50, mode="bm25"))) == {"retro", "pairs", "oncall"}
    assert searcher.search("zeppelin", mode="bm25") == []
    assert searcher.search("remote", k=0) == []
    with pytest.raises(ValueError, match="mode"):
        searcher.search("remote", mode="sparse")


def test_batch_embeds_once_and_equals_single_searches(root: Path) -> None:
    calls: list[int] = []

    def counting(texts: list[str]) -> np.ndarray:
        calls.append(len(texts))
        return fake_embed(texts)

    s = Searcher.open(root, embed=counting)
    queries = ["remote retrospectives", "flaky tests", "on call", "pairs"]
    batch = s.search_batch(queries, k=3)
    assert calls == [4]
    assert [ids(b) for b in batch] == [ids(s.search(q, k=3)) for q in queries]
    assert s.search_batch([], k=3) == []


def test_searcher_keeps_its_release(root: Path) -> None:
    s = Searcher.open(root, embed=fake_embed)
    first = s.release_id
    texts = ["something else entirely"]
    build_release(root, [{"id": "new", "kind": "faq", "status": "approved"}], fake_embed(texts), texts, "fake")
    assert s.release_id == first and "new" not in ids(s.search("something else", k=10))
    assert ids(Searcher.open(root, embed=fake_embed).search("something else")) == ["new"]


def test_shared_searcher_reopens_only_on_refresh(root: Path) -> None:
    a = shared_searcher(root, embed=fake_embed)
    assert shared_searcher(root) is a
    assert shared_searcher(root, refresh=True) is a  # CURRENT did not move
    texts = ["fresh"]
    build_release(root, [{"id": "fresh", "kind": "faq", "status": "approved"}], fake_embed(texts), texts, "fake")
    assert shared_searcher(root) is a
    b = shared_searcher(root, refresh=True, embed=fake_embed)
    assert b is not a and ids(b.search("fresh")) == ["fresh"]


def test_embedder_dimension_mismatch_is_explained(root: Path) -> None:
    s = Searcher.open(root, embed=lambda t: np.ones((len(t), 3), np.float32))
    with pytest.raises(ValueError, match="expects"):
        s.search("remote")
    assert ids(s.search("remote retrospectives", k=1, mode="bm25")) == ["retro"]  # BM25 needs no embedder


def test_open_without_a_release(tmp_path: Path) -> None:
    from index.release import ReleaseError

    with pytest.raises(ReleaseError, match="publish one first"):
        Searcher.open(tmp_path, embed=fake_embed)
