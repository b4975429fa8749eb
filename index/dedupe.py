"""Dedup: fold candidates into artefacts by nearest-neighbour similarity (never all pairs).

Pure: items and vectors in, a plan out. Each new candidate is compared, through a FAISS
k-nearest-neighbour search, with the other new candidates and with existing artefacts of the
same kind. Pairs scoring at or above the merge threshold are joined; pairs in the band below it
become "possible duplicate" suggestions for reviewers. Existing artefacts are never joined with
each other automatically: that is a reviewer's merge.

Groups are **complete-link**, not chains: an item joins a group only when it is a duplicate of
*every* member (every pair at or above the merge threshold and allowed by ``index.fold_rules``:
one conversation's distinct entries and generic questions never fold). Joining through the
canonical item alone was the other option; it is not enough here, because the canonical text is
chosen after grouping (the best-formed member, ``pipeline.artefacts.form_score``) and changes as
members arrive and leave or a reviewer edits it. Only "every member is a duplicate of every
other" keeps "every member is a duplicate of the canonical text" true whichever member is
canonical. Union-find over all pairs, used before, let A~B and B~C put A and C together however
far apart they were; on a real FAQ page it folded 26 different questions into one artefact.
Pairs are taken strongest first, so an item between two groups joins the closer one; scores of
members that are not each other's neighbours are computed when a join needs them.

The search (``neighbours``) is exact up to ``EXACT_LIMIT`` items; above it, an inverted-file
index (``IndexIVFFlat``, about 4·sqrt(n) k-means lists) visits only the few lists nearest each
item, so the work grows far slower than n². Stored vectors are kept whole (no compression), so
every score it returns is exact: what an IVF search can get wrong is only *which* neighbours it
finds. How many lists to visit (nprobe) is therefore measured on the data, not fixed: a sample
of items is searched exactly and through the index, nprobe is doubled until the index finds every
sampled pair that matters (at or above the suggestion threshold, or the sample's strongest pairs
when too few are), and then multiplied by four as a margin. Where the data would need more than
1/16 of the lists, exact search costs no more, so it is used instead.

The trade-off: the check is statistical, so a pair the sample says nothing about can still be
missed, and the margin costs time on easy data (on the bench's vectors the search visits four
times the lists its sample needed). The margin was set on measurements: on the bench's 100k
clustered vectors the groups are those of an all-pairs baseline with no link missed
(bench/embed_dedup_bench.py); on 14k sentence embeddings of the corpus (MRPC and SemEval texts,
merge 0.9, suggest 0.8) groups and suggestions equal exact search's, where a margin of two missed
4 of 1,431 suggestions; on synthetic clusters in 48 to 64 dimensions the groups always matched,
and a suggestion in a few hundred was sometimes missed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from index.fold_rules import may_fold

# score_pairs(rows_a, rows_b) -> scores: the pair scorer over item rows (see DedupItem order)
PairScorer = Callable[[np.ndarray, np.ndarray], np.ndarray]

# Up to this many items the search is exact (all inner products through BLAS); above it, IVF.
# Measured on the bench's clustered vectors: IVF is ahead from a few thousand items on.
EXACT_LIMIT = 4_096
LISTS_PER_SQRT_N = 4  # IVF lists ≈ 4·sqrt(n): fewer lists make each probe scan more vectors
TRAIN_POINTS_PER_LIST = 8  # k-means sample size per list: the lists only partition, they need not be good centroids
KMEANS_ITERATIONS = 4  # the same: training is a real share of the time at 10k items, recall is checked anyway
CALIBRATION_QUERIES = 512  # items searched both exactly and through the index to choose nprobe
CALIBRATION_PAIRS = 64  # at least this many sampled pairs are checked, the strongest, when few pass the floor
FIRST_NPROBE = 4
NPROBE_MARGIN = 4  # times the nprobe at which the sample first missed nothing
# At most 1/16 of the lists are visited: the IVF scan does a few times fewer inner products per
# second than the exact search's BLAS, so visiting many more costs more than exact search.
MAX_PROBE_SHARE = 16
_ROUNDING = 1e-4  # more than float32 inner products of unit vectors can differ by
# FAISS's OpenMP threads wait on each other in spin barriers; on this project's 2-core machines,
# shared with other work, 2 threads measured up to 2x *slower* than 1 in k-means and flat search.
# (The setting is process-wide while a search runs; it is restored afterwards.)
FAISS_THREADS = 1


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
    # The threads, meetings or documents it comes from (index.fold_rules: one conversation's
    # entries are distinct unless near-identical); empty when unknown.
    conversations: frozenset[str] = frozenset()
    generic: bool = False  # a question too generic to stand alone: never folded on its wording
    # False for a reviewer's text of an existing artefact: it finds neighbours, but a candidate
    # joining must be a duplicate of the members the reviewer approved under it, not of the
    # wording the reviewer chose (an edit must not stop re-phrasings of the original from folding).
    linked: bool = True


@dataclass
class DedupPlan:
    """The outcome: which group each new candidate joins, and suggestions between groups."""

    # group -> member ids; a group holds at most one existing artefact
    groups: list[list[str]] = field(default_factory=list)
    # (id_a, id_b, score) for pairs in the suggestion band that ended in different groups
    suggestions: list[tuple[str, str, float]] = field(default_factory=list)


@contextmanager
def _faiss_threads(n: int) -> Iterator[None]:
    """FAISS's OpenMP thread count set to `n` for a block, then restored (it is process-wide)."""
    import faiss

    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(n)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def neighbours(
    vectors: np.ndarray, k: int, recall_floor: float | None = None, exact_limit: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """For each vector, its k nearest others by inner product: (scores, indices), -1 for none.

    Every vector also finds itself (k + 1 columns at most). Up to `exact_limit` vectors the
    search is exact (None: ``EXACT_LIMIT``); above, IVF with nprobe calibrated so that a sample's
    neighbours scoring at least `recall_floor` (None: all k) are all found (see the module docstring).
    """
    import faiss

    x = np.ascontiguousarray(vectors, dtype=np.float32)
    n = x.shape[0]
    k = min(k + 1, n)  # +1: every vector finds itself
    with _faiss_threads(FAISS_THREADS):
        limit = EXACT_LIMIT if exact_limit is None else exact_limit
        found = _ivf_neighbours(x, k, recall_floor) if n > limit else None
        if found is None:
            found = faiss.knn(x, x, k, metric=faiss.METRIC_INNER_PRODUCT)
    return found


def _ivf_neighbours(x: np.ndarray, k: int, recall_floor: float | None) -> tuple[np.ndarray, np.ndarray] | None:
    """k nearest by inner product through an IVF index over `x` itself; None where calibration
    finds that more than 1/16 of the lists would be needed (exact search is then no dearer)."""
    import faiss

    n, dim = x.shape
    nlist = max(1, min(round(LISTS_PER_SQRT_N * math.sqrt(n)), n // TRAIN_POINTS_PER_LIST))
    quantizer = faiss.IndexFlatIP(dim)
    ivf = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
    ivf.cp.niter = KMEANS_ITERATIONS
    ivf.cp.max_points_per_centroid = TRAIN_POINTS_PER_LIST  # FAISS samples that many (seeded)
    ivf.cp.min_points_per_centroid = 1  # few points per list is deliberate: no warning
    ivf.train(x)
    max_probe = max(1, nlist // MAX_PROBE_SHARE)
    # The queries are the stored vectors, so one coarse search serves both: its nearest list is
    # where a vector is stored, its first nprobe lists are where it searches.
    probe_scores, probe_lists = quantizer.search(x, min(max_probe, NPROBE_MARGIN * FIRST_NPROBE))
    ids = np.arange(n, dtype=np.int64)
    nearest = np.ascontiguousarray(probe_lists[:, 0])
    # swig_ptr does not keep its array alive: `ids` and `nearest` must stay bound during the call.
    ivf.add_core(n, faiss.swig_ptr(x), faiss.swig_ptr(ids), faiss.swig_ptr(nearest))
    nprobe = _calibrated_nprobe(ivf, quantizer, x, k, recall_floor, max_probe)
    if nprobe is None:
        return None
    if nprobe > probe_lists.shape[1]:
        probe_scores, probe_lists = quantizer.search(x, nprobe)
    ivf.nprobe = nprobe
    return ivf.search_preassigned(x, k, probe_lists[:, :nprobe], probe_scores[:, :nprobe])


def _calibrated_nprobe(
    ivf: Any, quantizer: Any, x: np.ndarray, k: int, recall_floor: float | None, max_probe: int
) -> int | None:
    """The nprobe at which `ivf` finds every pair of a sample that matters, times the margin
    (at most `max_probe`); None if even `max_probe` misses one."""
    import faiss

    n = x.shape[0]
    sample = np.sort(np.random.default_rng(0).choice(n, min(n, CALIBRATION_QUERIES), replace=False))
    exact_scores, exact_ids = faiss.knn(x[sample], x, k, metric=faiss.METRIC_INNER_PRODUCT)
    candidates = (exact_ids >= 0) & (exact_ids != sample[:, None])
    floor = -np.inf if recall_floor is None else recall_floor
    ranked = np.sort(exact_scores[candidates])[::-1]
    if len(ranked):
        # Where few pairs pass the floor (duplicates are rare), check the strongest ones anyway:
        # a pair that scores lower is no easier to find, so this errs on the side of more lists.
        floor = min(floor, float(ranked[min(len(ranked), CALIBRATION_PAIRS) - 1]))
    rows, cols = np.nonzero(candidates & (exact_scores >= floor))
    a, b = sample[rows], exact_ids[rows, cols]  # the pairs exact search would hand to the plan
    if not len(a):
        return min(NPROBE_MARGIN * FIRST_NPROBE, max_probe)
    # A pair is found when either end finds the other (pairs are unordered), so both ends search.
    queries = np.unique(np.concatenate([a, b]))
    at_a, at_b = np.searchsorted(queries, a), np.searchsorted(queries, b)
    list_scores, lists = quantizer.search(x[queries], max_probe)
    probe = min(FIRST_NPROBE, max_probe)
    while True:
        ivf.nprobe = probe
        _, found = ivf.search_preassigned(x[queries], k, lists[:, :probe], list_scores[:, :probe])
        hit = (found[at_a] == b[:, None]).any(axis=1) | (found[at_b] == a[:, None]).any(axis=1)
        if hit.all():
            return min(NPROBE_MARGIN * probe, max_probe)
        if probe >= max_probe:
            return None
        probe = min(2 * probe, max_probe)


def _row_dots(vectors: np.ndarray, ra: np.ndarray, rb: np.ndarray, chunk: int = 8192) -> np.ndarray:
    """vectors[ra[i]] · vectors[rb[i]] for each i, gathered a chunk at a time: at 100k items the
    pairs' vectors at once would take hundreds of megabytes (and the time to fault them in)."""
    out = np.empty(len(ra), dtype=np.result_type(vectors.dtype, np.float32))
    for s in range(0, len(ra), chunk):
        out[s : s + chunk] = np.einsum("ij,ij->i", vectors[ra[s : s + chunk]], vectors[rb[s : s + chunk]])
    return out


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
    Candidates are only ever compared with their k nearest neighbours (above ``EXACT_LIMIT``
    items, as an IVF search calibrated on the suggestion threshold finds them: see `neighbours`).
    """
    n = len(items)
    if n == 0:
        return DedupPlan()
    floor = min(suggest_threshold, merge_threshold)
    # Only pairs that can reach the suggestion band need to be found reliably.
    near, idx = neighbours(vectors, k, recall_floor=floor)
    # Every (item, neighbour) pair once, as (low row, high row); vectorised because n·k is large.
    left = np.repeat(np.arange(n, dtype=np.int64), idx.shape[1])
    right = idx.ravel().astype(np.int64)
    keep = (right >= 0) & (right != left)
    if score_pairs is None:
        # The cosine decides, and the search's scores already are cosines (up to float32 rounding,
        # hence the small allowance): pairs below the band are dropped before they are rescored.
        keep &= near.ravel() >= floor - _ROUNDING
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
        scores = _row_dots(vectors, ra, rb)

    scorer = _PairScores(vectors, score_pairs, dict(zip(zip(ra.tolist(), rb.tolist()), scores.tolist())))
    groups = _Groups(items, scorer, merge_threshold)
    band: list[tuple[int, int, float]] = []
    # Strongest pairs first, so a candidate between two artefacts joins the closer one; pairs
    # below the suggestion band need no look at all.
    order = np.argsort(-scores, kind="stable")
    order = order[scores[order] >= suggest_threshold]
    # As Python lists: no NumPy scalar per pair (at 100k items the loop sees 150k pairs).
    for a, b, s in zip(ra[order].tolist(), rb[order].tolist(), scores[order].tolist()):
        if not may_fold(items[a], items[b]):
            continue  # one conversation's distinct entries, or a generic question: not even suggested
        if s < merge_threshold or not groups.join(a, b):
            band.append((a, b, s))

    members: dict[int, dict[str, None]] = {}  # a dict as an ordered set: an artefact's texts share one id
    for i in range(n):
        members.setdefault(groups.find(i), {})[items[i].id] = None
    plan = DedupPlan(groups=[list(group) for group in members.values()])
    best: dict[tuple[int, int], float] = {}
    for a, b, s in band:
        ga, gb = groups.find(a), groups.find(b)
        if ga != gb:
            key = (min(ga, gb), max(ga, gb))
            best[key] = max(best.get(key, s), s)
    # Groups that hold distinct entries of one conversation between them are not suggested either:
    # merging them would fold what the rules keep apart.
    best = {key: s for key, s in best.items() if groups.may_fold_groups(*key)}
    plan.suggestions = [(items[a].id, items[b].id, s) for (a, b), s in sorted(best.items(), key=lambda kv: -kv[1])]
    return plan


class _PairScores:
    """The duplicate score of any two rows: the neighbour pairs' scores, others computed on demand
    (a group grows past k members, so two of its members need not be each other's neighbours)."""

    def __init__(self, vectors: np.ndarray, score_pairs: PairScorer | None, known: dict[tuple[int, int], float]) -> None:
        self.vectors, self.score_pairs, self.known = vectors, score_pairs, known

    def all_at_least(self, pairs: list[tuple[int, int]], threshold: float) -> bool:
        """Whether every (row, row) pair scores at least `threshold` (each pair scored once, then remembered)."""
        missing = []
        for a, b in pairs:
            key = (min(a, b), max(a, b))
            s = self.known.get(key)
            if s is None:
                missing.append(key)
            elif s < threshold:
                return False
        if not missing:
            return True
        ra = np.array([a for a, _ in missing], dtype=np.int64)
        rb = np.array([b for _, b in missing], dtype=np.int64)
        if self.score_pairs is not None:
            got = np.asarray(self.score_pairs(ra, rb), dtype=np.float64)
        else:
            got = _row_dots(self.vectors, ra, rb)
        self.known.update(zip(missing, got.tolist()))
        return bool((got >= threshold).all())


class _Groups:
    """Complete-link groups: two groups join only when every member of one is a duplicate of every
    member of the other (score at or above the merge threshold, and ``may_fold``).

    The texts of one existing artefact are one group from the start; two groups that each hold an
    existing artefact never join (that is a reviewer's merge). Items with ``linked`` False (a
    reviewer's text) are not checked, unless a group has nothing else.
    """

    def __init__(self, items: Sequence[DedupItem], scores: _PairScores, merge_threshold: float) -> None:
        self.items, self.scores, self.merge = items, scores, merge_threshold
        self.group = list(range(len(items)))
        self.members: dict[int, list[int]] = {}
        first_of: dict[str, int] = {}
        for i, it in enumerate(items):
            if it.is_artefact and it.id in first_of:
                self.group[i] = first_of[it.id]
            elif it.is_artefact:
                first_of[it.id] = i
            self.members.setdefault(self.group[i], []).append(i)
        self.anchored = set(first_of.values())

    def _linked(self, g: int) -> list[int]:
        """The rows of group `g` a joining group must be duplicates of (all, if none is linked)."""
        rows = [i for i in self.members[g] if self.items[i].linked]
        return rows or self.members[g]

    def may_fold_groups(self, ga: int, gb: int) -> bool:
        """Whether ``may_fold`` allows every pair across groups `ga` and `gb`."""
        return all(may_fold(self.items[x], self.items[y]) for x in self.members[ga] for y in self.members[gb])

    def find(self, i: int) -> int:
        """The group row `i` is in."""
        return self.group[i]

    def join(self, a: int, b: int) -> bool:
        """Join the groups of `a` and `b` if complete linkage holds; whether they are one group now."""
        ga, gb = self.group[a], self.group[b]
        if ga == gb:
            return True
        if ga in self.anchored and gb in self.anchored:
            return False
        left, right = self._linked(ga), self._linked(gb)
        if not self.may_fold_groups(ga, gb):
            return False
        if not self.scores.all_at_least([(x, y) for x in left for y in right], self.merge):
            return False
        if gb in self.anchored:
            ga, gb = gb, ga
        for y in self.members.pop(gb):
            self.group[y] = ga
            self.members[ga].append(y)
        return True
