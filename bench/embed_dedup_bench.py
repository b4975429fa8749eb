"""Embedding and dedup throughput, each next to its baseline in one run.

1. Embeddings: texts of real Stack Exchange posts (../shared/corpus) through our cached path
   (`embed_cached` over the SQLite store: hash, skip what is stored, embed the rest longest-first)
   against plain `SentenceTransformer.encode` on the same texts — cold (empty cache) and warm
   (a scheduled re-run, where most texts are unchanged).
2. Dedup: `plan_dedup` (FAISS k nearest neighbours: exact search up to 4,096 items, above that an
   IVF index whose nprobe is calibrated on a sample, see index/dedupe.py) against an all-pairs
   NumPy baseline (every pair's cosine by chunked matrix products, union of the pairs at or above
   the threshold) at 10k and 100k synthetic clustered vectors, checking that both find the same
   groups and counting the baseline's duplicate links that ours did not join.
   FAISS is loaded before the timings (a one-off per process, as the model is for embeddings).

    .venv/bin/python bench/embed_dedup_bench.py [--texts 2000] [--sizes 10000 100000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

import pipeline.config  # noqa: F401
from index.dedupe import DedupItem, plan_dedup
from index.embeddings import embed_cached, shared_embedder
from pipeline.store import SQLiteStore



def post_texts(n: int) -> list[str]:
    """Real 1,000-character posts (the sample `bench/embed_backends.py` and `practice bench` use)."""
    from embed_backends import texts_of

    return texts_of("post", n)


def bench_embeddings(n: int) -> None:
    texts = post_texts(n)
    embedder = shared_embedder()
    embedder.encode(["warm up"])  # load the model outside the timings
    t0 = time.perf_counter()
    embedder.model.encode(texts, batch_size=64, show_progress_bar=False)
    plain = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteStore(Path(tmp) / "s.db")
        t0 = time.perf_counter()
        _, computed = embed_cached(texts, embedder.encode, embedder.model_name, store.get_embeddings, store.put_embeddings)
        cold = time.perf_counter() - t0
        changed = [t + " (edited)" for t in texts[: len(texts) // 20]]  # 5 % of sources changed
        texts = changed + texts[len(changed) :]
        t0 = time.perf_counter()
        _, recomputed = embed_cached(texts, embedder.encode, embedder.model_name, store.get_embeddings, store.put_embeddings)
        warm = time.perf_counter() - t0
        store.close()
    print(f"embeddings, {len(texts)} real post texts")
    print(f"  plain SentenceTransformer.encode : {len(texts) / plain:8.1f} texts/s")
    print(f"  ours, cold cache ({computed} embedded) : {len(texts) / cold:8.1f} texts/s   ratio {plain / cold:5.2f}x")
    print(f"  ours, re-run with {len(changed)} changed ({recomputed} embedded): {len(texts) / warm:8.1f} texts/s   ratio {plain / warm:5.1f}x")


def clustered(n: int, dim: int = 384, per: int = 4, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n // per, dim)).astype(np.float32)
    v = np.repeat(centres, per, axis=0) + rng.normal(scale=0.04, size=(n, dim)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    return v


def all_pairs_groups(v: np.ndarray, threshold: float, chunk: int = 2048) -> list[list[int]]:
    """Baseline: cosine of every pair once (row chunks against the rows from there on, to bound
    memory and not compute a pair twice), union of pairs ≥ threshold."""
    parent = list(range(len(v)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for start in range(0, len(v), chunk):
        sims = v[start : start + chunk] @ v[start:].T
        rows, cols = np.nonzero(sims >= threshold)
        for r, c in zip(rows + start, cols + start):
            if r < c:
                ra, rb = find(int(r)), find(int(c))
                if ra != rb:
                    parent[rb] = ra
    groups: dict[int, list[int]] = {}
    for i in range(len(v)):
        groups.setdefault(find(i), []).append(i)
    return sorted(sorted(g) for g in groups.values())


def bench_dedup(sizes: list[int]) -> None:
    print("dedup (same groups required)")
    plan_dedup([DedupItem("a", False, ""), DedupItem("b", False, "")], clustered(2, per=1), 0.95, 0.9)  # load FAISS
    for n in sizes:
        v = clustered(n)
        items = [DedupItem(str(i), False, "") for i in range(n)]
        t0 = time.perf_counter()
        plan = plan_dedup(items, v, merge_threshold=0.95, suggest_threshold=0.9)
        ours = time.perf_counter() - t0
        t0 = time.perf_counter()
        baseline = all_pairs_groups(v, 0.95)
        base = time.perf_counter() - t0
        found = sorted(sorted(int(i) for i in g) for g in plan.groups)
        same = found == baseline
        # Where they differ: the share of baseline duplicate pairs (same group) that we also joined.
        ours_group = {i: gi for gi, g in enumerate(found) for i in g}
        pairs = [(g[0], j) for g in baseline for j in g[1:]]
        missed = sum(ours_group[a] != ours_group[b] for a, b in pairs)
        print(f"  n={n:>7}: ours {ours:7.2f} s   all-pairs numpy {base:7.2f} s   ratio {base / ours:5.1f}x   "
              f"same groups: {same}   baseline duplicate links missed: {missed} of {len(pairs)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    args = parser.parse_args()
    bench_embeddings(args.texts)
    bench_dedup(args.sizes)


if __name__ == "__main__":
    main()
