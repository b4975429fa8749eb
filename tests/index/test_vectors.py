"""Contract tests every vector index implementation inherits (override the `make` fixture)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from index.vectors import ExactIndex, HNSWIndex, IVFIndex, NumpyIndex, VectorIndex, load_index, make_index

DIM = 32


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def random_unit(n: int, dim: int = DIM, seed: int = 0) -> np.ndarray:
    return unit(np.random.default_rng(seed).standard_normal((n, dim)))


def clustered_unit(n: int, dim: int, clusters: int, seed: int) -> np.ndarray:
    """Random vectors around random centres: the shape sentence embeddings have."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, dim))
    return unit(centres[rng.integers(0, clusters, n)] + 0.8 * rng.standard_normal((n, dim)))


def recall_at(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth)]))


class VectorIndexContract:
    """Behaviour every implementation must have."""

    exact: bool = True  # must agree exactly with the NumPy reference

    @pytest.fixture
    def make(self) -> Callable[[int], VectorIndex]:
        raise NotImplementedError

    def test_empty_index_pads_with_minus_one(self, make: Callable[[int], VectorIndex]) -> None:
        index = make(DIM)
        scores, ids = index.search(random_unit(2), 3)
        assert len(index) == 0
        assert ids.shape == (2, 3) and (ids == -1).all()
        assert np.isneginf(scores).all()

    def test_finds_each_vector_under_its_own_id(self, make: Callable[[int], VectorIndex]) -> None:
        vectors = random_unit(300)
        ids = np.arange(300, dtype=np.int64) * 1_000_003 + 7  # arbitrary, non-contiguous int64 ids
        index = make(DIM)
        index.add(ids, vectors)
        scores, found = index.search(vectors[:50], 1)
        assert (found[:, 0] == ids[:50]).all()
        np.testing.assert_allclose(scores[:, 0], 1.0, atol=1e-5)
        assert sorted(index.ids.tolist()) == sorted(ids.tolist())

    def test_results_are_best_first_with_true_inner_products(self, make: Callable[[int], VectorIndex]) -> None:
        vectors = random_unit(300, seed=1)
        index = make(DIM)
        index.add(np.arange(300), vectors)
        queries = random_unit(10, seed=2)
        scores, ids = index.search(queries, 10)
        assert scores.dtype == np.float32 and ids.dtype == np.int64
        assert (np.diff(scores, axis=1) <= 1e-6).all()
        expected = np.einsum("qd,qkd->qk", queries, vectors[ids])
        np.testing.assert_allclose(scores, expected, atol=1e-5)

    def test_k_larger_than_the_index_pads(self, make: Callable[[int], VectorIndex]) -> None:
        index = make(DIM)
        index.add(np.array([5, 9]), random_unit(2, seed=3)) if not isinstance(index, IVFIndex) else index.add(
            np.arange(40), random_unit(40, seed=3)
        )
        n = len(index)
        scores, ids = index.search(random_unit(1, seed=4), n + 3)
        assert ids.shape == (1, n + 3)
        assert (ids[0, :n] >= 0).all() and (ids[0, n:] == -1).all()
        assert np.isneginf(scores[0, n:]).all()

    def test_batch_equals_one_by_one(self, make: Callable[[int], VectorIndex]) -> None:
        index = make(DIM)
        index.add(np.arange(400), random_unit(400, seed=5))
        queries = random_unit(6, seed=6)
        scores, ids = index.search(queries, 5)
        for i in range(len(queries)):
            s1, i1 = index.search(queries[i : i + 1], 5)
            assert (i1[0] == ids[i]).all()
            np.testing.assert_allclose(s1[0], scores[i], atol=1e-6)

    def test_add_in_two_batches(self, make: Callable[[int], VectorIndex]) -> None:
        vectors = random_unit(400, seed=7)
        index = make(DIM)
        index.add(np.arange(200), vectors[:200])
        index.add(np.arange(200, 400), vectors[200:])
        assert len(index) == 400
        _, found = index.search(vectors[[10, 390]], 1)
        assert found[:, 0].tolist() == [10, 390]

    def test_rejects_bad_input(self, make: Callable[[int], VectorIndex]) -> None:
        index = make(DIM)
        with pytest.raises(ValueError, match="dimension"):
            index.add(np.arange(3), random_unit(3, dim=DIM + 1))
        with pytest.raises(ValueError, match="unique"):
            index.add(np.array([1, 1, 2]), random_unit(3))
        with pytest.raises(ValueError, match="ids for"):
            index.add(np.arange(2), random_unit(3))
        index.add(np.arange(100), random_unit(100))
        with pytest.raises(ValueError, match="already"):
            index.add(np.array([5]), random_unit(1))
        with pytest.raises(ValueError, match="dimension"):
            index.search(random_unit(1, dim=DIM + 1), 3)

    def test_save_and_load_round_trip(self, make: Callable[[int], VectorIndex], tmp_path: Path) -> None:
        index = make(DIM)
        index.add(np.arange(500) + 10, random_unit(500, seed=8))
        queries = random_unit(8, seed=9)
        before = index.search(queries, 10)
        index.save(tmp_path / "vectors.bin")
        loaded = VectorIndex.load(tmp_path / "vectors.bin")
        assert type(loaded) is type(index)
        assert len(loaded) == 500 and sorted(loaded.ids.tolist()) == list(range(10, 510))
        after = loaded.search(queries, 10)
        assert (after[1] == before[1]).all()
        np.testing.assert_allclose(after[0], before[0], atol=1e-6)

    def test_empty_index_saves_and_loads(self, make: Callable[[int], VectorIndex], tmp_path: Path) -> None:
        make(DIM).save(tmp_path / "empty.bin")
        loaded = load_index(tmp_path / "empty.bin")
        assert len(loaded) == 0 and loaded.dim == DIM
        assert (loaded.search(random_unit(1), 2)[1] == -1).all()

    def test_agrees_with_numpy_reference(self, make: Callable[[int], VectorIndex]) -> None:
        """Exact indexes match the reference; approximate ones reach recall@10 >= 0.9."""
        n, dim = 5000, 64
        vectors = clustered_unit(n, dim, clusters=50, seed=10)
        queries = clustered_unit(200, dim, clusters=50, seed=10)[:100] + 0.0
        queries = unit(queries + 0.3 * np.random.default_rng(11).standard_normal(queries.shape))
        reference = NumpyIndex(dim)
        reference.add(np.arange(n), vectors)
        index = make(dim)
        index.add(np.arange(n), vectors)
        ref_scores, ref_ids = reference.search(queries, 10)
        scores, ids = index.search(queries, 10)
        if self.exact:
            assert (ids == ref_ids).all()
            np.testing.assert_allclose(scores, ref_scores, atol=1e-5)
        else:
            assert recall_at(ids, ref_ids) >= 0.9

    def test_random_data_recall(self, make: Callable[[int], VectorIndex]) -> None:
        """Uniformly random vectors (no structure at all): the hardest case for ANN indexes."""
        vectors = random_unit(3000, seed=12)
        queries = random_unit(50, seed=13)
        reference = NumpyIndex(DIM)
        reference.add(np.arange(3000), vectors)
        index = make(DIM)
        index.add(np.arange(3000), vectors)
        recall = recall_at(index.search(queries, 10)[1], reference.search(queries, 10)[1])
        assert recall == 1.0 if self.exact else recall >= 0.9


class TestNumpyIndex(VectorIndexContract):
    @pytest.fixture
    def make(self) -> Callable[[int], VectorIndex]:
        return NumpyIndex


class TestExactIndex(VectorIndexContract):
    @pytest.fixture
    def make(self) -> Callable[[int], VectorIndex]:
        return ExactIndex


class TestHNSWIndex(VectorIndexContract):
    exact = False

    @pytest.fixture
    def make(self) -> Callable[[int], VectorIndex]:
        return lambda dim: HNSWIndex(dim, m=16, ef_construction=64, ef_search=128)


class TestIVFIndex(VectorIndexContract):
    exact = False

    @pytest.fixture
    def make(self) -> Callable[[int], VectorIndex]:
        # nprobe: on structureless random data a query's neighbours scatter over many lists
        return lambda dim: IVFIndex(dim, nprobe=24)


def test_make_index_by_name() -> None:
    assert isinstance(make_index("exact", 8), ExactIndex)
    assert isinstance(make_index("hnsw", 8, ef_search=32), HNSWIndex)
    assert isinstance(make_index("ivf", 8, nprobe=4), IVFIndex)
    assert isinstance(make_index("numpy", 8), NumpyIndex)
    with pytest.raises(ValueError, match="unknown index type"):
        make_index("annoy", 8)


def test_ivf_default_nlist_is_about_sqrt_n() -> None:
    index = IVFIndex(DIM)
    index.add(np.arange(10_000), random_unit(10_000, seed=14))
    assert index.nlist == 100
    assert index.describe()["nprobe"] == 25


def test_load_overrides_search_settings(tmp_path: Path) -> None:
    index = HNSWIndex(DIM, ef_search=16)
    index.add(np.arange(100), random_unit(100))
    index.save(tmp_path / "h.faiss")
    assert load_index(tmp_path / "h.faiss").ef_search == 16  # type: ignore[attr-defined]
    assert load_index(tmp_path / "h.faiss", ef_search=200).ef_search == 200  # type: ignore[attr-defined]
