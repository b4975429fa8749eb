"""Dedup: fold candidates into artefacts by nearest-neighbour similarity (never all pairs).

Pure: items and vectors in, a plan out. Each new candidate is compared, through a FAISS
k-nearest-neighbour search, with the other new candidates and with existing artefacts of the
same kind. Pairs scoring at or above the merge threshold are joined; pairs in the band below it
become "possible duplicate" suggestions for reviewers. Existing artefacts are never joined with
each other automatically: that is a reviewer's merge.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

# score_pairs(rows_a, rows_b) -> scores: the pair scorer over item rows (see DedupItem order)
PairScorer = Callable[[np.ndarray, np.ndarray], np.ndarray]

EXACT_LIMIT = 20_000  # above this many items, HNSW instead of exact search keeps dedup sub-quadratic


@dataclass(frozen=True)
class DedupItem:
    """Something that can be folded: a new candidate, or one text of an existing artefact.

    An existing artefact may appear as several items sharing its id (its canonical text and the
    texts of the candidates already folded into it), so a reviewer's edit of the canonical text
    does not stop later re-phrasings of the original from finding it.
    """

    id: str
    is_artefact: bool
    text: str  # what is compared: the question of a FAQ, name + recommendation of a pattern


@dataclass
class DedupPlan:
    """The outcome: which group each new candidate joins, and suggestions between groups."""

    # group -> member ids; a group holds at most one existing artefact
    groups: list[list[str]] = field(default_factory=list)
    # (id_a, id_b, score) for pairs in the suggestion band that ended in different groups
    suggestions: list[tuple[str, str, float]] = field(default_factory=list)


def neighbours(vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """For each vector, its k nearest others by inner product: (scores, indices), -1 for none."""
    import faiss

    n, dim = vectors.shape
    k = min(k + 1, n)  # +1: every vector finds itself
    if n <= EXACT_LIMIT:
        index = faiss.IndexFlatIP(dim)
    else:
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        # Recall over speed: a missed neighbour is a missed merge.
        index.hnsw.efConstruction = 128
        index.hnsw.efSearch = max(128, 8 * k)
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index.search(np.ascontiguousarray(vectors, dtype=np.float32), k)


class _UnionFind:
    def __init__(self, n: int, anchored: Sequence[bool]) -> None:
        self.parent = list(range(n))
        self.anchored = list(anchored)  # a set holding an existing artefact

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        if self.anchored[ra] and self.anchored[rb]:
            return False  # two existing artefacts: only a reviewer merges those
        if self.anchored[rb]:
            ra, rb = rb, ra
        self.parent[rb] = ra
        return True


def plan_dedup(
    items: Sequence[DedupItem],
    vectors: np.ndarray,
    merge_threshold: float,
    suggest_threshold: float,
    score_pairs: PairScorer | None = None,
    k: int = 10,
) -> DedupPlan:
    """Group new candidates with each other and with existing artefacts of one kind.

    `vectors` are L2-normalised rows aligned with `items`. `score_pairs` rescores the
    neighbour pairs FAISS finds (default: their cosine); thresholds apply to that score.
    Candidates are only ever compared with their k nearest neighbours.
    """
    n = len(items)
    if n == 0:
        return DedupPlan()
    _, idx = neighbours(vectors, k)
    # Every (item, neighbour) pair once, as (low row, high row); vectorised because n·k is large.
    left = np.repeat(np.arange(n, dtype=np.int64), idx.shape[1])
    right = idx.ravel().astype(np.int64)
    keep = (right >= 0) & (right != left)
    a, b = np.minimum(left[keep], right[keep]), np.maximum(left[keep], right[keep])
    pair_keys = np.unique(a * n + b)
    ra, rb = pair_keys // n, pair_keys % n
    # Existing artefacts were already deduplicated against each other.
    artefact = np.fromiter((it.is_artefact for it in items), dtype=bool, count=n)
    both = artefact[ra] & artefact[rb]
    ra, rb = ra[~both], rb[~both]
    if len(ra) and score_pairs is not None:
        scores = np.asarray(score_pairs(ra, rb), dtype=np.float64)
    else:
        scores = np.einsum("ij,ij->i", vectors[ra], vectors[rb]) if len(ra) else np.zeros(0)

    uf = _UnionFind(n, artefact.tolist())
    first_of: dict[str, int] = {}
    for i, it in enumerate(items):  # the texts of one artefact are one set from the start
        if it.is_artefact:
            if it.id in first_of:
                uf.parent[i] = first_of[it.id]
            else:
                first_of[it.id] = i
    band: list[tuple[int, int, float]] = []
    # Strongest pairs first, so a candidate between two artefacts joins the closer one; pairs
    # below the suggestion band need no look at all.
    order = np.argsort(-scores, kind="stable")
    order = order[scores[order] >= suggest_threshold]
    for p in order:
        a, b, s = int(ra[p]), int(rb[p]), float(scores[p])
        if s >= merge_threshold:
            if not uf.union(a, b):
                band.append((a, b, s))
        elif s >= suggest_threshold:
            band.append((a, b, s))

    members: dict[int, list[str]] = {}
    for i in range(n):
        group = members.setdefault(uf.find(i), [])
        if items[i].id not in group:
            group.append(items[i].id)
    plan = DedupPlan(groups=list(members.values()))
    best: dict[tuple[int, int], float] = {}
    for a, b, s in band:
        ga, gb = uf.find(a), uf.find(b)
        if ga != gb:
            key = (min(ga, gb), max(ga, gb))
            best[key] = max(best.get(key, s), s)
    plan.suggestions = [(items[a].id, items[b].id, s) for (a, b), s in sorted(best.items(), key=lambda kv: -kv[1])]
    return plan
