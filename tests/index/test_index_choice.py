"""The published vector index: exact while small, HNSW above a size, never less right than exact."""

from __future__ import annotations

import json

import numpy as np
import pytest

from index import index_choice
from index.index_choice import choose_index, recall_at_k
from index.release import build_release, current_release, verify_release
from index.vectors import make_index


def _unit(n: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_recall_of_exact_search_is_one_and_of_a_wrong_index_is_low() -> None:
    vectors = _unit(300)
    exact = make_index("exact", 32)
    exact.add(np.arange(300), vectors)
    assert recall_at_k(exact, vectors, vectors[:50]) == 1.0
    shuffled = make_index("exact", 32)  # the right vectors under the wrong ids
    shuffled.add(np.random.default_rng(1).permutation(300), vectors)
    assert recall_at_k(shuffled, vectors, vectors[:50]) < 0.2


def test_auto_is_exact_below_the_size_and_hnsw_from_it(monkeypatch: pytest.MonkeyPatch) -> None:
    vectors = _unit(400)
    kind, _, checks = choose_index("auto", vectors)
    assert (kind, checks) == ("exact", {})
    monkeypatch.setattr(index_choice, "AUTO_HNSW_FROM", 400)
    kind, index, checks = choose_index("auto", vectors)
    assert kind == "hnsw" and checks["recall_at_10"] >= 0.99 and checks["recall_queries"] == 400
    assert index.describe()["ef_search"] >= 128


def test_a_hnsw_index_below_the_recall_floor_is_tuned_or_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    vectors = _unit(2000, dim=16)
    # a graph this sparse searched this shallowly misses neighbours (recall@10 0.86 at
    # ef_search 4 here): ef_search must grow until it does not
    kind, index, checks = choose_index("hnsw", vectors, {"m": 8, "ef_construction": 16, "ef_search": 4})
    assert kind == "hnsw" and checks["recall_at_10"] >= 0.99 and index.describe()["ef_search"] > 4
    # with no room to tune, exact search is published instead, and the manifest says why
    monkeypatch.setattr(index_choice, "_MAX_EF_SEARCH", 8)
    kind, _, checks = choose_index("hnsw", vectors, {"m": 8, "ef_construction": 16, "ef_search": 4})
    assert kind == "exact" and checks["recall_at_10"] < 0.99 and "fallback" in checks


def test_the_release_manifest_records_the_index_and_its_recall(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(index_choice, "AUTO_HNSW_FROM", 50)
    vectors = _unit(60)
    payloads = [{"id": f"a{i}", "status": "approved", "kind": "faq"} for i in range(60)]
    manifest = build_release(tmp_path, payloads, vectors, [f"text {i}" for i in range(60)], "m")
    on_disk = json.loads((manifest.path / "manifest.json").read_text())
    assert on_disk["index_type"] == "hnsw" and on_disk["index_settings"]["recall_at_10"] >= 0.99
    assert current_release(tmp_path).index_type == "hnsw"
    verify_release(manifest.path)  # the files agree with the manifest
