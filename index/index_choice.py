"""Which vector index a release gets, and proof that an approximate one finds what exact search does.

`index = "auto"` (the default) keeps exact search while it is fast enough and switches to HNSW
above `AUTO_HNSW_FROM` vectors. Exact search costs one inner product per vector per query: at
100k artefacts it was 59 ms p99 for a hybrid query on the 2-core reference machine, three times the
20 ms goal, and it grows linearly, so the goal holds up to about a third of that; 20,000 leaves room
for BM25 and the fusion (bench/index_size.py measures both kinds by size).

An approximate index is only published when it agrees with exact search: recall@10 against exact
inner products, on a deterministic sample of the release's own vectors used as queries, must reach
`MIN_RECALL`; `ef_search` is doubled until it does, and exact search is kept when no setting does.
The figure is written into the manifest's index settings.

Pure: arrays in, an index object and figures out (no files).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from index.vectors import VectorIndex, make_index

__all__ = ["AUTO_HNSW_FROM", "MIN_RECALL", "choose_index", "recall_at_k"]

AUTO_HNSW_FROM = 20_000
MIN_RECALL = 0.99
_SAMPLE = 500  # queries for the recall check: a 0.99 estimate within about ±0.005
_MAX_EF_SEARCH = 1024


def recall_at_k(index: VectorIndex, vectors: np.ndarray, queries: np.ndarray, k: int = 10) -> float:
    """Share of the exact top-k (inner product over `vectors`, ids = row numbers) that `index` returns."""
    if len(vectors) == 0 or len(queries) == 0:
        return 1.0
    k = min(k, len(vectors))
    scores = queries @ vectors.T
    exact = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    _, found = index.search(queries, k)
    hits = sum(len(set(e.tolist()) & set(f.tolist())) for e, f in zip(exact, found))
    return hits / (k * len(queries))


def choose_index(
    index_type: str, vectors: np.ndarray, options: dict[str, Any] | None = None
) -> tuple[str, VectorIndex, dict[str, Any]]:
    """Build the vector index for `vectors` (ids = row numbers); returns (type used, index, checks).

    "auto" is exact below `AUTO_HNSW_FROM` vectors and HNSW from there on; an HNSW index (chosen
    or asked for) is checked against exact search and tuned until recall@10 ≥ `MIN_RECALL`, else
    replaced by exact. IVF falls back to exact below its list count (too few vectors to train).
    `checks` holds what was measured ({"recall_at_10", "recall_queries"}), empty for exact.
    """
    options = dict(options or {})
    n, dim = len(vectors), int(vectors.shape[1])
    if index_type == "auto":
        index_type = "hnsw" if n >= AUTO_HNSW_FROM else "exact"
    if index_type == "ivf" and n < (options.get("nlist") or 1):
        index_type, options = "exact", {}
    vindex = _filled(index_type, dim, vectors, options)
    if index_type != "hnsw":
        return index_type, vindex, {}
    rng = np.random.default_rng(0)  # the same sample for the same release: reproducible figures
    queries = vectors[rng.choice(n, size=min(_SAMPLE, n), replace=False)] if n else vectors
    recall = recall_at_k(vindex, vectors, queries)
    while recall < MIN_RECALL and vindex.ef_search < _MAX_EF_SEARCH:  # type: ignore[attr-defined]
        vindex.ef_search *= 2  # type: ignore[attr-defined]  # a search-time knob: no rebuild
        recall = recall_at_k(vindex, vectors, queries)
    checks = {"recall_at_10": round(recall, 4), "recall_queries": len(queries)}
    if recall < MIN_RECALL:
        return "exact", _filled("exact", dim, vectors, {}), {**checks, "fallback": "hnsw recall below the floor"}
    return "hnsw", vindex, checks


def _filled(index_type: str, dim: int, vectors: np.ndarray, options: dict[str, Any]) -> VectorIndex:
    vindex = make_index(index_type, dim, **options)
    vindex.add(np.arange(len(vectors), dtype=np.int64), vectors)
    return vindex
