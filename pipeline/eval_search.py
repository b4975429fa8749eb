"""Evaluate search on a labelled FAQ retrieval set (StackFAQ): dense only, BM25 only and hybrid.

Every FAQ entry becomes a published FAQ artefact in a real index release (built in a temporary
folder with `index.release.build_release`); every query goes through `index.search.Searcher` in one
batch per mode. One relevant FAQ per query (``queries_qrels.tsv``: query_id, query, relevant_faq_id).
`evaluate_retrieval` does the same for any `RetrievalSet` (several relevant FAQs per query allowed):
the dev sets of `pipeline.eval_search_dev`, on which the fusion parameters are chosen, go through it.

Hybrid rows: the default fusion (``hybrid``), each fusion on its own (``hybrid_rrf``: weighted RRF,
``hybrid_convex``) and textbook RRF k = 60 with equal weights (``hybrid_rrf60``). StackFAQ, held out
(all-MiniLM-L6-v2, exact): NDCG@10 dense 0.9768, BM25 0.8172, weighted RRF (k = 1, BM25 0.3, the
default) 0.9772, textbook RRF 0.9221, convex 0.9809 (weights set looking at StackFAQ: in-sample).

What is indexed (chosen on a dev slice, the paraphrases q00-q02 of each FAQ; see the report):
  * dense: the question only (the queries are paraphrases of questions; long answers dilute the
    embedding: question+answer scored lower);
  * BM25: question + all answers (more words to match; question only scored lower).

Metrics, over the ranked top 100: MRR, Recall@1/5/10 and NDCG@10 (binary relevance, one relevant
item, so NDCG@10 = 1/log2(1 + rank) when rank <= 10).
"""

from __future__ import annotations

import csv
import json
import math
import tempfile
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "EvalInputError",
    "RetrievalSet",
    "evaluate_retrieval",
    "evaluate_search",
    "load_faqs",
    "load_qrels",
    "ranking_metrics",
]

DEPTH = 100
# "hybrid" is the Searcher's default fusion; each fusion also has its own row (one of them repeats
# "hybrid"), and textbook RRF (k = 60, equal weights) is there to show what the weights buy.
MODE_ROWS = ("dense", "bm25", "hybrid", "hybrid_rrf", "hybrid_convex", "hybrid_rrf60")


class EvalInputError(ValueError):
    """An evaluation input is missing or malformed (the message names the file and the reason)."""


def load_faqs(path: Path) -> list[dict[str, Any]]:
    """FAQ entries: {"faq_id", "question", "answers": [...]} per line."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise EvalInputError(f"{path}: cannot read FAQs: {exc}") from exc
    faqs = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            faqs.append({"faq_id": str(row["faq_id"]), "question": str(row["question"]), "answers": [str(a) for a in row.get("answers") or []]})
        except (ValueError, KeyError, TypeError) as exc:
            raise EvalInputError(f"{path}: line {n} is not a FAQ entry with faq_id and question: {exc}") from exc
    if not faqs:
        raise EvalInputError(f"{path}: no FAQ entries")
    if len({f["faq_id"] for f in faqs}) != len(faqs):
        raise EvalInputError(f"{path}: duplicate faq_id")
    return faqs


def load_qrels(path: Path) -> list[dict[str, str]]:
    """Queries with their relevant FAQ: TSV with a header query_id, query, relevant_faq_id."""
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh, delimiter="\t"))
    except OSError as exc:
        raise EvalInputError(f"{path}: cannot read qrels: {exc}") from exc
    need = {"query_id", "query", "relevant_faq_id"}
    if not rows or not need <= set(rows[0]):
        raise EvalInputError(f"{path}: expected a TSV with the columns {', '.join(sorted(need))}")
    return [{k: (r[k] or "").strip() for k in need} for r in rows if (r.get("query") or "").strip()]


def ranking_metrics(ranked_ids: Sequence[Sequence[str]], relevant: Sequence[str | Collection[str]]) -> dict[str, float]:
    """MRR, Recall@1/5/10 and NDCG@10 with binary relevance, averaged over the queries.

    ``relevant`` holds, per query, the relevant id or a collection of relevant ids (the dev sets
    have several per query). MRR counts the first relevant hit; Recall@c is the share of the
    query's relevant items in its top c; NDCG@10 = DCG@10 / ideal DCG@10. With one relevant item
    these are 1/rank, hit@c and 1/log2(1 + rank), as the StackFAQ toolkit computes them.
    """
    n = len(relevant)
    totals = {"mrr": 0.0, "recall@1": 0.0, "recall@5": 0.0, "recall@10": 0.0, "ndcg@10": 0.0}
    for ids, rel in zip(ranked_ids, relevant):
        wanted = {rel} if isinstance(rel, str) else set(rel)
        if not wanted:
            continue
        ranks = [i for i, x in enumerate(ids, start=1) if x in wanted]
        if not ranks:
            continue
        totals["mrr"] += 1.0 / ranks[0]
        for cut in (1, 5, 10):
            totals[f"recall@{cut}"] += sum(r <= cut for r in ranks) / len(wanted)
        ideal = sum(1.0 / math.log2(i + 1) for i in range(1, min(len(wanted), 10) + 1))
        totals["ndcg@10"] += sum(1.0 / math.log2(r + 1) for r in ranks if r <= 10) / ideal
    return {k: round(v / n, 4) if n else 0.0 for k, v in totals.items()}


def faq_payloads(faqs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """FAQ artefact payloads (approved) as the publish stage would hand them over."""
    return [
        {
            "id": f["faq_id"],
            "kind": "faq",
            "status": "approved",
            "question": f["question"],
            "answer": f["answers"][0] if f["answers"] else None,
            "communities": ["stackexchange"],
            "source_kinds": ["thread"],
            "visibility": "public",
        }
        for f in faqs
    ]



@dataclass
class RetrievalSet:
    """FAQs to index and labelled queries: what `evaluate_retrieval` measures search on."""

    name: str
    faqs: list[dict[str, Any]]  # {"faq_id", "question", "answers": [...]}, as `load_faqs` returns
    queries: list[str]
    relevant: list[frozenset[str]]  # per query, the relevant faq ids (at least one)
    notes: dict[str, str] = field(default_factory=dict)  # how the set was built (shown in the report)

    def __post_init__(self) -> None:
        if len(self.queries) != len(self.relevant):
            raise EvalInputError(f"{self.name}: {len(self.queries)} queries but {len(self.relevant)} relevance sets")
        known = {f["faq_id"] for f in self.faqs}
        if len(known) != len(self.faqs):
            raise EvalInputError(f"{self.name}: duplicate faq_id")
        unknown = sorted(set().union(*self.relevant) - known) if self.relevant else []
        if unknown:
            raise EvalInputError(f"{self.name}: relevant FAQ ids not among the FAQs: {', '.join(unknown[:5])}")
        if any(not r for r in self.relevant):
            raise EvalInputError(f"{self.name}: a query without a relevant FAQ (its NDCG is undefined)")


def evaluate_search(
    faqs_path: Path,
    qrels_path: Path,
    embed: Callable[[list[str]], np.ndarray] | None = None,
    model_id: str | None = None,
    index_type: str = "exact",
) -> dict[str, Any]:
    """Build a release of the FAQs, run every query in each mode, return the metrics side by side.

    ``embed`` defaults to the shared embedder (the bundled all-MiniLM-L6-v2).
    """
    faqs = load_faqs(faqs_path)
    qrels = load_qrels(qrels_path)
    known = {f["faq_id"] for f in faqs}
    unknown = sorted({q["relevant_faq_id"] for q in qrels} - known)
    if unknown:
        raise EvalInputError(f"{qrels_path}: relevant FAQ ids not in {faqs_path}: {', '.join(unknown[:5])}")
    data = RetrievalSet(
        name=Path(faqs_path).parent.parent.name or str(faqs_path),
        faqs=faqs,
        queries=[q["query"] for q in qrels],
        relevant=[frozenset([q["relevant_faq_id"]]) for q in qrels],
    )
    return evaluate_retrieval(data, embed=embed, model_id=model_id, index_type=index_type)


def evaluate_retrieval(
    data: RetrievalSet,
    embed: Callable[[list[str]], np.ndarray] | None = None,
    model_id: str | None = None,
    index_type: str = "exact",
    rrf_grid: Sequence[tuple[int, float]] = (),
) -> dict[str, Any]:
    """Index ``data.faqs`` as `practice publish` would, run every query in each mode, return the metrics.

    Rows (``MODE_ROWS``), each through a real `Searcher`: dense only, BM25 only, ``hybrid`` (the
    Searcher's default fusion, named in ``settings``), ``hybrid_rrf`` (weighted RRF with the default
    k and weights), ``hybrid_convex`` (convex fusion, default weights) and ``hybrid_rrf60`` (textbook
    RRF: k = 60, equal weights). ``rrf_grid`` = (k, BM25 weight) pairs, dense weight 1: each is scored by fusing
    the dense and BM25 lists computed above with `index.search.reciprocal_rank_fusion` (what the
    Searcher does, without searching again); the results are under ``"rrf_grid"``.
    ``embed`` defaults to the shared embedder (the bundled all-MiniLM-L6-v2).
    """
    from index.release import build_release
    from index.search import Searcher, reciprocal_rank_fusion

    if embed is None:
        from index.embeddings import shared_embedder

        embedder = shared_embedder(model_id)
        embed, model_id = embedder.encode, embedder.model_name
    model_id = model_id or "custom"

    # Index the FAQs exactly as `practice publish` indexes FAQ artefacts, so this measures the product.
    from pipeline.models import Artefact, CandidateKind
    from pipeline.publish import dense_text, keyword_text

    artefacts = [
        Artefact(id=f["faq_id"], kind=CandidateKind.faq, question=f["question"], answer="\n".join(f["answers"]))
        for f in data.faqs
    ]

    timing: dict[str, float] = {}
    t0 = time.perf_counter()
    vectors = embed([dense_text(a) for a in artefacts])
    timing["embed_faqs"] = round(time.perf_counter() - t0, 2)
    queries, relevant = data.queries, data.relevant
    t0 = time.perf_counter()
    query_vectors = np.asarray(embed(queries), dtype=np.float32)
    timing["embed_queries"] = round(time.perf_counter() - t0, 2)
    # The Searcher embeds each batch itself; hand it the vectors computed once above (same embedder).
    position = {q: i for i, q in enumerate(queries)}

    def cached_embed(texts: list[str]) -> np.ndarray:
        return query_vectors[[position[t] for t in texts]]

    depth = min(DEPTH, len(data.faqs))
    results: dict[str, dict[str, float]] = {}
    grid: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="practice-eval-search-") as tmp:
        t0 = time.perf_counter()
        manifest = build_release(
            Path(tmp) / "releases", faq_payloads(data.faqs), vectors, [keyword_text(a) for a in artefacts], model_id, index_type
        )
        timing["build_release"] = round(time.perf_counter() - t0, 2)
        root = Path(tmp) / "releases"
        searchers = {
            "hybrid": Searcher.open(root, embed=cached_embed),  # the product default
            "hybrid_rrf": Searcher.open(root, embed=cached_embed, fusion="rrf"),
            "hybrid_convex": Searcher.open(root, embed=cached_embed, fusion="convex"),
            "hybrid_rrf60": Searcher.open(
                root, embed=cached_embed, fusion="rrf", rrf_k=60, weights={"dense": 1.0, "bm25": 1.0}
            ),
        }
        t0 = time.perf_counter()
        rows: dict[str, list[list[int]]] = {}
        for row in MODE_ROWS:
            searcher = searchers.get(row, searchers["hybrid"])
            hits = searcher.search_batch(queries, k=depth, mode="hybrid" if row.startswith("hybrid") else row)
            rows[row] = [[h.row for h in hs] for hs in hits]
            results[row] = ranking_metrics([[h.id for h in hs] for hs in hits], relevant)
        timing["search_all_modes"] = round(time.perf_counter() - t0, 2)
        ids = [str(p.get("id")) for p in searchers["hybrid"].payloads]
        for rrf_k, w_bm25 in rrf_grid:
            weights = {"dense": 1.0, "bm25": float(w_bm25)}
            fused = [
                [ids[r] for r, _ in reciprocal_rank_fusion({"dense": d, "bm25": b}, k=rrf_k, weights=weights)[:depth]]
                for d, b in zip(rows["dense"], rows["bm25"])
            ]
            grid.append({"rrf_k": rrf_k, "weights": weights, **ranking_metrics(fused, relevant)})
        default, rrf, convex = searchers["hybrid"], searchers["hybrid_rrf"], searchers["hybrid_convex"]
        settings = {
            "fusion": default.fusion,  # which of hybrid_rrf / hybrid_convex "hybrid" is
            "weights": default.weights,
            "rrf_k": rrf.rrf_k,
            "rrf_weights": rrf.weights,
            "convex_weights": convex.weights,
            "index_type": manifest.index_type,
            "depth": depth,
        }
    report: dict[str, Any] = {
        "set": data.name,
        "faqs": len(data.faqs),
        "queries": len(queries),
        "model_id": model_id,
        "dense_text": "question (pipeline.publish.dense_text)",
        "bm25_text": "question + answers (pipeline.publish.keyword_text)",
        **({"notes": data.notes} if data.notes else {}),
        "settings": settings,
        "results": results,
        "hybrid_minus_dense_ndcg@10": round(results["hybrid"]["ndcg@10"] - results["dense"]["ndcg@10"], 4),
        "timing_s": timing,
    }
    if grid:
        report["rrf_grid"] = grid
    return report
