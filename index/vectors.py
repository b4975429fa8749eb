"""Vector indexes over L2-normalised embeddings: inner product = cosine similarity.

One small interface, several implementations selectable by name:

* ``exact`` (default): FAISS ``IndexIDMap2(IndexFlatIP)``: brute force, exact, fine to ~1M vectors.
* ``hnsw``: FAISS ``IndexHNSWFlat`` (inner product) in an id map: graph search, approximate, for
  millions of vectors; ``ef_search`` trades recall for speed.
* ``ivf``: FAISS ``IndexIVFFlat`` (inner product) trained on the first vectors added, ``nlist`` about
  sqrt(n); ``nprobe`` (lists visited per query) trades recall for speed.
* ``numpy``: a plain NumPy matrix product (txtai style), no FAISS: the reference in tests.

Every implementation takes int64 ids (any values, unique) and returns ``(scores, ids)`` arrays of
shape ``(n_queries, k)``, best first; where fewer than k vectors exist, ids are -1 and scores -inf.
"""

from __future__ import annotations

import math
import os
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

__all__ = [
    "INDEX_TYPES",
    "ExactIndex",
    "HNSWIndex",
    "IVFIndex",
    "NumpyIndex",
    "VectorIndex",
    "load_index",
    "make_index",
]

INDEX_TYPES = ("exact", "hnsw", "ivf", "numpy")
_NPZ_MAGIC = b"PK"  # a .npz is a zip file


def _as_matrix(vectors: Any, dim: int | None) -> np.ndarray:
    arr = np.ascontiguousarray(np.asarray(vectors, dtype=np.float32))
    if arr.ndim == 1:
        arr = arr.reshape(1, -1)
    if arr.ndim != 2:
        raise ValueError(f"vectors must be a 2-D array, got shape {arr.shape}")
    if dim is not None and arr.shape[1] != dim:
        raise ValueError(f"vectors have dimension {arr.shape[1]}, the index has {dim}")
    return arr


def _as_ids(ids: Any, n: int) -> np.ndarray:
    arr = np.ascontiguousarray(np.asarray(ids, dtype=np.int64).reshape(-1))
    if arr.shape[0] != n:
        raise ValueError(f"{arr.shape[0]} ids for {n} vectors")
    if arr.size and (arr < 0).any():
        raise ValueError("ids must be non-negative (-1 means 'no result')")
    if np.unique(arr).size != arr.size:
        raise ValueError("ids must be unique")
    return arr


class VectorIndex(ABC):
    """Inner-product search over vectors keyed by int64 ids."""

    name: ClassVar[str] = ""

    def __init__(self, dim: int) -> None:
        if dim <= 0:
            raise ValueError(f"dimension must be positive, got {dim}")
        self.dim = int(dim)
        self._ids = np.zeros(0, dtype=np.int64)

    def __len__(self) -> int:
        return int(self._ids.size)

    @property
    def ids(self) -> np.ndarray:
        """The ids added so far, in insertion order."""
        return self._ids

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add vectors under the given ids (unique, also across calls)."""
        mat = _as_matrix(vectors, self.dim)
        id_arr = _as_ids(ids, mat.shape[0])
        if id_arr.size == 0:
            return
        if self._ids.size and np.isin(id_arr, self._ids).any():
            raise ValueError("some ids are already in the index")
        self._add(id_arr, mat)
        self._ids = np.concatenate([self._ids, id_arr])

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The k best (scores, ids) per query, best first; padding is (-inf, -1)."""
        q = _as_matrix(queries, self.dim)
        if k <= 0 or q.shape[0] == 0:
            return np.zeros((q.shape[0], max(k, 0)), np.float32), np.zeros((q.shape[0], max(k, 0)), np.int64)
        if len(self) == 0:
            return np.full((q.shape[0], k), -np.inf, np.float32), np.full((q.shape[0], k), -1, np.int64)
        scores, ids = self._search(q, min(k, len(self)))
        scores = np.asarray(scores, dtype=np.float32)
        ids = np.asarray(ids, dtype=np.int64)
        scores[ids < 0] = -np.inf
        if ids.shape[1] < k:  # pad to k columns
            pad = k - ids.shape[1]
            scores = np.hstack([scores, np.full((q.shape[0], pad), -np.inf, np.float32)])
            ids = np.hstack([ids, np.full((q.shape[0], pad), -1, np.int64)])
        return scores, ids

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the index to one file."""
        self._save(Path(path))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> "VectorIndex":
        """Read an index written by `save` (any implementation: the file says which)."""
        return load_index(path)

    def describe(self) -> dict[str, Any]:
        """Name and settings, for manifests and logs."""
        return {"type": self.name, "dim": self.dim, "count": len(self)}

    @abstractmethod
    def _add(self, ids: np.ndarray, vectors: np.ndarray) -> None: ...

    @abstractmethod
    def _search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]: ...

    @abstractmethod
    def _save(self, path: Path) -> None: ...


class NumpyIndex(VectorIndex):
    """A matrix product and a partial sort: no FAISS, exact; the reference implementation."""

    name = "numpy"

    def __init__(self, dim: int) -> None:
        super().__init__(dim)
        self._vectors = np.zeros((0, self.dim), dtype=np.float32)

    def _add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        self._vectors = np.vstack([self._vectors, vectors])

    def _search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        scores = queries @ self._vectors.T  # (nq, n)
        n = scores.shape[1]
        if k < n:
            top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        else:
            top = np.tile(np.arange(n), (queries.shape[0], 1))
        top_scores = np.take_along_axis(scores, top, axis=1)
        # best first; equal scores by insertion order, as FAISS's flat index does
        order = np.lexsort((top, -top_scores), axis=1)
        top = np.take_along_axis(top, order, axis=1)
        return np.take_along_axis(scores, top, axis=1), self._ids[top]

    def _save(self, path: Path) -> None:
        with open(path, "wb") as fh:
            np.savez(fh, ids=self._ids, vectors=self._vectors, dim=np.int64(self.dim))

    @classmethod
    def _from_file(cls, path: Path) -> "NumpyIndex":
        with np.load(path, allow_pickle=False) as data:
            index = cls(int(data["dim"]))
            index._vectors = np.ascontiguousarray(data["vectors"], dtype=np.float32)
            index._ids = np.ascontiguousarray(data["ids"], dtype=np.int64)
        return index


class _FaissIndex(VectorIndex):
    """Common plumbing of the FAISS implementations."""

    def __init__(self, dim: int) -> None:
        super().__init__(dim)
        self._index: Any = None

    @property
    def faiss_index(self) -> Any:
        """The underlying FAISS object (built on first add)."""
        return self._index

    def _search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        self._before_search()
        return self._index.search(queries, k)

    def _before_search(self) -> None:
        pass

    def _save(self, path: Path) -> None:
        import faiss

        if self._index is None:
            self._index = self._empty()
        faiss.write_index(self._index, str(path))

    @abstractmethod
    def _empty(self) -> Any: ...

    def _adopt(self, index: Any, ids: np.ndarray) -> None:
        self._index = index
        self._ids = ids


class ExactIndex(_FaissIndex):
    """FAISS ``IndexIDMap2(IndexFlatIP)``: exact inner product, ids kept (the default)."""

    name = "exact"

    def _empty(self) -> Any:
        import faiss

        return faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))

    def _add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if self._index is None:
            self._index = self._empty()
        self._index.add_with_ids(vectors, ids)


class HNSWIndex(_FaissIndex):
    """FAISS ``IndexHNSWFlat`` with ``METRIC_INNER_PRODUCT`` wrapped in ``IndexIDMap2``."""

    name = "hnsw"

    def __init__(self, dim: int, m: int = 32, ef_construction: int = 64, ef_search: int = 128) -> None:
        super().__init__(dim)
        self.m = int(m)
        self.ef_construction = int(ef_construction)
        self.ef_search = int(ef_search)

    def _empty(self) -> Any:
        import faiss

        hnsw = faiss.IndexHNSWFlat(self.dim, self.m, faiss.METRIC_INNER_PRODUCT)
        hnsw.hnsw.efConstruction = self.ef_construction
        hnsw.hnsw.efSearch = self.ef_search
        return faiss.IndexIDMap2(hnsw)

    def _add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if self._index is None:
            self._index = self._empty()
        self._index.add_with_ids(vectors, ids)

    def _before_search(self) -> None:
        import faiss

        faiss.downcast_index(self._index.index).hnsw.efSearch = self.ef_search

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "m": self.m, "ef_construction": self.ef_construction, "ef_search": self.ef_search}


def default_nlist(n: int) -> int:
    """About sqrt(n) lists, but never so many that a list gets fewer than 39 training points
    (FAISS's k-means warns below that)."""
    return max(1, min(int(round(math.sqrt(n))), n // 39))


class IVFIndex(_FaissIndex):
    """FAISS ``IndexIVFFlat`` (inner product), trained on the vectors of the first `add`.

    ``nlist`` defaults to about sqrt(n) of that first batch; ``nprobe`` lists are visited per query
    (default: a quarter of the lists, at least 8 — approximate search on real embeddings keeps
    recall high; lower it for speed at millions of vectors).
    """

    name = "ivf"

    def __init__(self, dim: int, nlist: int | None = None, nprobe: int | None = None) -> None:
        super().__init__(dim)
        self.nlist = nlist
        self.nprobe = nprobe

    def _empty(self) -> Any:
        import faiss

        quantizer = faiss.IndexFlatIP(self.dim)
        # the Python wrapper keeps `quantizer` alive as long as the IVF index
        return faiss.IndexIVFFlat(quantizer, self.dim, self.nlist or 1, faiss.METRIC_INNER_PRODUCT)

    def _add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if self._index is None:
            if self.nlist is None:
                self.nlist = default_nlist(vectors.shape[0])
            if vectors.shape[0] < self.nlist:
                raise ValueError(f"IVF needs at least nlist={self.nlist} vectors to train, got {vectors.shape[0]}")
            self._index = self._empty()
            self._index.cp.verbose = False
            self._index.train(vectors)
            self._index.nprobe = self.effective_nprobe()  # saved with the index
        self._index.add_with_ids(vectors, ids)

    def effective_nprobe(self) -> int:
        """Lists visited per query."""
        nlist = int(self._index.nlist) if self._index is not None else (self.nlist or 1)
        probe = self.nprobe if self.nprobe is not None else max(8, nlist // 4)
        return max(1, min(int(probe), nlist))

    def _before_search(self) -> None:
        self._index.nprobe = self.effective_nprobe()

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "nlist": self.nlist, "nprobe": self.effective_nprobe()}


_CLASSES: dict[str, type[VectorIndex]] = {"exact": ExactIndex, "hnsw": HNSWIndex, "ivf": IVFIndex, "numpy": NumpyIndex}


def make_index(index_type: str, dim: int, **options: Any) -> VectorIndex:
    """A new, empty index by name: "exact" | "hnsw" | "ivf" | "numpy"."""
    try:
        cls = _CLASSES[index_type]
    except KeyError:
        raise ValueError(f"unknown index type {index_type!r}; choose one of {', '.join(INDEX_TYPES)}") from None
    return cls(dim, **options)  # type: ignore[call-arg]


def load_index(path: str | os.PathLike[str], **options: Any) -> VectorIndex:
    """Read an index file written by `VectorIndex.save`; the file's content says which implementation.

    ``options`` override search-time settings: ``ef_search`` (hnsw), ``nprobe`` (ivf).
    """
    path = Path(path)
    with open(path, "rb") as fh:
        magic = fh.read(2)
    if magic == _NPZ_MAGIC:
        return NumpyIndex._from_file(path)

    import faiss

    raw = faiss.read_index(str(path))
    dim = int(raw.d)
    index: _FaissIndex
    if isinstance(raw, faiss.IndexIDMap2) or isinstance(raw, faiss.IndexIDMap):
        inner = faiss.downcast_index(raw.index)
        if isinstance(inner, faiss.IndexHNSW):
            index = HNSWIndex(
                dim,
                m=int(inner.hnsw.nb_neighbors(1)),
                ef_construction=int(inner.hnsw.efConstruction),
                ef_search=int(options.get("ef_search", inner.hnsw.efSearch)),
            )
        elif isinstance(inner, faiss.IndexFlat):
            index = ExactIndex(dim)
        else:
            raise ValueError(f"{path}: unsupported FAISS index {type(inner).__name__} inside the id map")
        ids = faiss.vector_to_array(raw.id_map).astype(np.int64)
        index._adopt(raw, ids)
    elif isinstance(raw, faiss.IndexIVF):
        ivf = faiss.extract_index_ivf(raw)
        index = IVFIndex(dim, nlist=int(ivf.nlist), nprobe=int(options.get("nprobe", ivf.nprobe)))
        index._adopt(raw, _ivf_ids(ivf))
    else:
        raise ValueError(f"{path}: unsupported FAISS index {type(raw).__name__}")
    return index


def _ivf_ids(ivf: Any) -> np.ndarray:
    """Every id stored in the inverted lists of an IVF index."""
    import faiss

    invlists = ivf.invlists
    parts = []
    for list_no in range(ivf.nlist):
        size = invlists.list_size(list_no)
        if size:
            ptr = invlists.get_ids(list_no)
            parts.append(faiss.rev_swig_ptr(ptr, size).astype(np.int64).copy())
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

