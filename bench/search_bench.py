"""Search latency at 100k artefacts, side by side, in one run (< 3 minutes on 2 cores).

Builds real index releases (exact and HNSW) of synthetic artefacts and times single-query searches
through `index.search.Searcher`:
  - hybrid vs BM25 only vs dense only (exact FAISS), with ratios;
  - exact vs HNSW (dense only and hybrid), with ratios and HNSW's recall@10 against exact;
  - hybrid with a community filter (10 % of artefacts pass);
  - the query embedding itself (all-MiniLM-L6-v2, one query at a time), unless --no-model.

Synthetic data: payloads as the publish stage writes them; vectors are random unit vectors with
the low intrinsic dimension of sentence embeddings (a 48-d latent space around 2,000 topics,
projected to 384-d; embedding 100k real texts would take ~7 minutes here); texts are 12-30 words drawn from a Zipf distribution over a 20k-word
vocabulary. Queries: a noisy copy of a random artefact's latent vector, 3-6 of that artefact's words.
Latencies exclude the embedding (the vectors are handed to the Searcher); the last table gives it.

`default_search` (what `practice bench` runs, `--part default HOME`) publishes the synthetic
artefacts into HOME/releases with the default settings (`[publish] index = "auto"`, the default
`[search]` fusion) and times hybrid search there, beside the exact index as the baseline, and
end to end with the default embedding backend on real question titles; `bench/http_load.py` then
serves that HOME.

    .venv/bin/python bench/search_bench.py [--n 100000] [--queries 300] [--no-model]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pipeline.config  # noqa: E402,F401
from index.release import build_release  # noqa: E402
from index.search import Searcher  # noqa: E402

DIM = 384
LATENT = 48
COMMUNITIES = [f"community-{i}" for i in range(10)]


def synthetic(n: int, n_queries: int, seed: int = 0) -> tuple[list[dict], np.ndarray, list[str], list[str], np.ndarray]:
    rng = np.random.default_rng(seed)
    vocab = np.array([f"w{i}" for i in range(20_000)])
    # low intrinsic dimension, like sentence embeddings: a 48-d latent space projected to 384-d,
    # clustered around 2,000 topics, plus a little isotropic noise
    projection = rng.standard_normal((LATENT, DIM)).astype(np.float32)
    centres = rng.standard_normal((2000, LATENT)).astype(np.float32)
    latent = centres[rng.integers(0, 2000, n)] + 0.7 * rng.standard_normal((n, LATENT)).astype(np.float32)
    vectors = latent @ projection + 0.3 * rng.standard_normal((n, DIM)).astype(np.float32) * np.sqrt(LATENT / DIM)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    lengths = rng.integers(12, 31, n)
    words = np.minimum(rng.zipf(1.3, int(lengths.sum())), len(vocab)) - 1
    texts, pos = [], 0
    for length in lengths:
        texts.append(" ".join(vocab[words[pos : pos + length]]))
        pos += length
    payloads = [
        {
            "id": f"art{i:06d}",
            "kind": "faq" if i % 3 else "pattern",
            "status": "approved",
            "question": texts[i][:80],
            "communities": [COMMUNITIES[i % 10]],
            "source_kinds": ["thread" if i % 2 else "transcript"],
            "visibility": "public",
            "updated_at": f"2024-{1 + i % 12:02d}-01T00:00:00+00:00",
        }
        for i in range(n)
    ]
    targets = rng.integers(0, n, n_queries)
    qlatent = latent[targets] + 0.5 * rng.standard_normal((n_queries, LATENT)).astype(np.float32)
    qvecs = qlatent @ projection
    qvecs /= np.linalg.norm(qvecs, axis=1, keepdims=True)
    queries = []
    for t in targets:
        doc_words = texts[t].split()
        take = rng.choice(len(doc_words), size=min(len(doc_words), int(rng.integers(3, 7))), replace=False)
        queries.append(" ".join(doc_words[j] for j in sorted(take)))
    return payloads, vectors, texts, queries, qvecs.astype(np.float32)


def timed(searcher: Searcher, queries: list[str], **kw: object) -> np.ndarray:
    """Milliseconds per single-query search."""
    out = []
    for q in queries:
        t0 = time.perf_counter()
        searcher.search(q, k=10, **kw)  # type: ignore[arg-type]
        out.append((time.perf_counter() - t0) * 1000)
    return np.array(out)


def percentiles(ms: np.ndarray) -> dict[str, float]:
    """p50, p99 and mean of latencies in milliseconds."""
    return {"p50": float(np.percentile(ms, 50)), "p99": float(np.percentile(ms, 99)), "mean": float(ms.mean())}


def default_search(home: Path, n: int, n_queries: int, real_queries: list[str]) -> dict:
    """Publish n synthetic artefacts under `home` with the default settings and time hybrid search.

    Returns the index type "auto" chose, build seconds, and p50/p99/mean ms of: the default release
    and an exact index over the same artefacts (vectors given), and the default release with the
    query embedded by the default backend (`real_queries`, one at a time).
    """
    from index.embeddings import DEFAULT_MODEL
    from pipeline.settings import Settings
    from pipeline.stages import releases_root, shared_service

    settings = Settings()
    payloads, vectors, texts, queries, qvecs = synthetic(n, n_queries)
    lookup = {q: i for i, q in enumerate(queries)}

    def embed(batch: list[str]) -> np.ndarray:
        return qvecs[[lookup[q] for q in batch]]

    out: dict = {"n": n, "queries": len(queries)}
    options = settings.search.searcher_options()
    searchers = {}
    for name, root, index_type in (("default", releases_root(home), settings.publish.index), ("exact", home / "exact", "exact")):
        t0 = time.perf_counter()
        manifest = build_release(root, payloads, vectors, texts, DEFAULT_MODEL, index_type=index_type)
        out[f"{name}_build_s"] = time.perf_counter() - t0
        out[f"{name}_index"] = manifest.index_type
        searchers[name] = Searcher.open(root, embed=embed, **options)
        timed(searchers[name], queries[:10])  # warm up (first FAISS/BM25 calls allocate)
    out["index_settings"] = searchers["default"].manifest.index_settings
    for name, searcher in searchers.items():
        out[name] = percentiles(timed(searcher, queries))
    service = shared_service(settings)
    t0 = time.perf_counter()
    service(["warm up"])
    out["model_load_s"] = time.perf_counter() - t0
    out["backend"] = service.backend
    end_to_end = Searcher.open(releases_root(home), embed=service, **options)
    timed(end_to_end, real_queries[:5])
    out["end_to_end"] = percentiles(timed(end_to_end, real_queries))
    return out


def row(label: str, ms: np.ndarray) -> str:
    return f"{label:34}{np.percentile(ms, 50):9.2f}{np.percentile(ms, 99):9.2f}{ms.mean():9.2f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--no-model", action="store_true", help="skip timing the query embedding")
    ap.add_argument("--part", nargs="+", help="(practice bench) default HOME: `default_search` as JSON")
    args = ap.parse_args()
    if args.part:
        from embed_backends import texts_of

        print(json.dumps(default_search(Path(args.part[1]), args.n, args.queries, texts_of("short", args.queries))))
        return
    start = time.perf_counter()

    t0 = time.perf_counter()
    payloads, vectors, texts, queries, qvecs = synthetic(args.n, args.queries)
    print(f"{args.n:,} synthetic artefacts, {len(queries)} queries ({time.perf_counter() - t0:.1f}s to generate)")
    lookup = {q: i for i, q in enumerate(queries)}

    def embed(batch: list[str]) -> np.ndarray:
        return qvecs[[lookup[q] for q in batch]]

    with tempfile.TemporaryDirectory(prefix="practice-search-bench-") as tmp:
        searchers: dict[str, Searcher] = {}
        print(f"\n{'release build':34}{'build s':>9}{'open s':>9}")
        for index_type in ("exact", "hnsw"):
            root = Path(tmp) / index_type
            t0 = time.perf_counter()
            build_release(root, payloads, vectors, texts, "synthetic", index_type=index_type)
            built = time.perf_counter() - t0
            t0 = time.perf_counter()
            searchers[index_type] = Searcher.open(root, embed=embed)
            print(f"{index_type:34}{built:9.1f}{time.perf_counter() - t0:9.1f}")

        exact, hnsw = searchers["exact"], searchers["hnsw"]
        for s in (exact, hnsw):  # warm up (first FAISS/BM25 calls allocate)
            timed(s, queries[:10])
        lat = {
            "bm25": timed(exact, queries, mode="bm25"),
            "dense": timed(exact, queries, mode="dense"),
            "hybrid": timed(exact, queries),
            "hybrid+filter": timed(exact, queries, community="community-3"),
            "hnsw dense": timed(hnsw, queries, mode="dense"),
            "hnsw hybrid": timed(hnsw, queries),
        }
        t0 = time.perf_counter()
        exact.search_batch(queries, k=10)
        batch_ms = (time.perf_counter() - t0) * 1000 / len(queries)

        print(f"\nlatency per query at {args.n:,} artefacts, k=10 (ms){'':4}{'p50':>5}{'p99':>9}{'mean':>9}")
        print(row("BM25 only", lat["bm25"]))
        print(row("dense only (exact)", lat["dense"]))
        print(row("hybrid (exact)", lat["hybrid"]))
        print(row("hybrid (exact), community filter", lat["hybrid+filter"]))
        print(row("dense only (HNSW)", lat["hnsw dense"]))
        print(row("hybrid (HNSW)", lat["hnsw hybrid"]))
        print(f"{'hybrid (exact), search_batch':34}{batch_ms:9.2f}  (mean per query over one batch of {len(queries)})")

        p50 = {k: float(np.percentile(v, 50)) for k, v in lat.items()}
        print("\nratios (p50):")
        print(f"  hybrid / BM25 only          {p50['hybrid'] / p50['bm25']:.2f}x")
        print(f"  hybrid / dense only         {p50['hybrid'] / p50['dense']:.2f}x")
        print(f"  exact / HNSW, dense only    {p50['dense'] / p50['hnsw dense']:.2f}x")
        print(f"  exact / HNSW, hybrid        {p50['hybrid'] / p50['hnsw hybrid']:.2f}x")

        _, exact_ids = exact.vectors.search(qvecs, 10)
        _, hnsw_ids = hnsw.vectors.search(qvecs, 10)
        recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(hnsw_ids, exact_ids)])
        same_top = np.mean(
            [[h.id for h in a] == [h.id for h in b] for a, b in zip(exact.search_batch(queries[:100]), hnsw.search_batch(queries[:100]))]
        )
        print(f"  HNSW recall@10 vs exact: {recall:.3f} (dense); identical hybrid top-10 lists: {same_top:.0%}")
        print(f"  HNSW settings: {hnsw.manifest.index_settings}")

    if not args.no_model:
        from index.embeddings import shared_embedder

        model = shared_embedder()
        t0 = time.perf_counter()
        model.encode(["warm up"])
        load_s = time.perf_counter() - t0
        sample = [
            "how do other teams run remote retrospectives?", "quarantine flaky tests in CI",
            "who owns the on-call rota", "definition of done checklist", "pairing rotation in remote teams",
        ] * 10  # fmt: skip
        ms = []
        for q in sample:
            t0 = time.perf_counter()
            model.encode([q])
            ms.append((time.perf_counter() - t0) * 1000)
        ms_arr = np.array(ms)
        print(f"\nquery embedding, all-MiniLM-L6-v2 on CPU (model load {load_s:.1f}s)")
        print(row("one query", ms_arr))
        print(f"  => end-to-end hybrid p50 ~ {np.percentile(ms_arr, 50) + p50['hybrid']:.1f} ms (embedding + search)")
    print(f"\n(total {time.perf_counter() - start:.0f}s)")


if __name__ == "__main__":
    main()
