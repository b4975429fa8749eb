"""Evaluate search on a labelled FAQ retrieval set (StackFAQ): dense only, BM25 only and hybrid.

Every FAQ entry becomes a published FAQ artefact in a real index release (built in a temporary
folder with `index.release.build_release`); every query goes through `index.search.Searcher` in one
batch per mode. One relevant FAQ per query (``queries_qrels.tsv``: query_id, query, relevant_faq_id).

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
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["EvalInputError", "evaluate_search", "load_faqs", "load_qrels", "ranking_metrics"]

DEPTH = 100
MODE_ROWS = ("dense", "bm25", "hybrid", "hybrid_rrf")


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


def ranking_metrics(ranked_ids: Sequence[Sequence[str]], relevant: Sequence[str]) -> dict[str, float]:
    """MRR, Recall@1/5/10 and NDCG@10 for one relevant item per query."""
    n = len(relevant)
    totals = {"mrr": 0.0, "recall@1": 0.0, "recall@5": 0.0, "recall@10": 0.0, "ndcg@10": 0.0}
    for ids, rel in zip(ranked_ids, relevant):
        ids = list(ids)
        if rel not in ids:
            continue
        rank = ids.index(rel) + 1
        totals["mrr"] += 1.0 / rank
        for cut in (1, 5, 10):
            totals[f"recall@{cut}"] += rank <= cut
        if rank <= 10:
            totals["ndcg@10"] += 1.0 / math.log2(rank + 1)
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
    from index.release import build_release
    from index.search import Searcher

    faqs = load_faqs(faqs_path)
    qrels = load_qrels(qrels_path)
    known = {f["faq_id"] for f in faqs}
    unknown = sorted({q["relevant_faq_id"] for q in qrels} - known)
    if unknown:
        raise EvalInputError(f"{qrels_path}: relevant FAQ ids not in {faqs_path}: {', '.join(unknown[:5])}")
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
        for f in faqs
    ]

    timing: dict[str, float] = {}
    t0 = time.perf_counter()
    vectors = embed([dense_text(a) for a in artefacts])
    timing["embed_faqs"] = round(time.perf_counter() - t0, 2)
    queries = [q["query"] for q in qrels]
    relevant = [q["relevant_faq_id"] for q in qrels]
    t0 = time.perf_counter()
    query_vectors = np.asarray(embed(queries), dtype=np.float32)
    timing["embed_queries"] = round(time.perf_counter() - t0, 2)
    # The Searcher embeds each batch itself; hand it the vectors computed once above (same embedder).
    position = {q: i for i, q in enumerate(queries)}

    def cached_embed(texts: list[str]) -> np.ndarray:
        return query_vectors[[position[t] for t in texts]]

    depth = min(DEPTH, len(faqs))
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="practice-eval-search-") as tmp:
        t0 = time.perf_counter()
        manifest = build_release(
            Path(tmp) / "releases", faq_payloads(faqs), vectors, [keyword_text(a) for a in artefacts], model_id, index_type
        )
        timing["build_release"] = round(time.perf_counter() - t0, 2)
        searchers = {
            "hybrid": Searcher.open(Path(tmp) / "releases", embed=cached_embed),
            "hybrid_rrf": Searcher.open(Path(tmp) / "releases", embed=cached_embed, fusion="rrf"),
        }
        t0 = time.perf_counter()
        for row in MODE_ROWS:
            searcher = searchers["hybrid_rrf" if row == "hybrid_rrf" else "hybrid"]
            mode = "hybrid" if row.startswith("hybrid") else row
            hits = searcher.search_batch(queries, k=depth, mode=mode)
            results[row] = ranking_metrics([[h.id for h in hs] for hs in hits], relevant)
        timing["search_all_modes"] = round(time.perf_counter() - t0, 2)
        settings = {
            "fusion": searchers["hybrid"].fusion,
            "weights": searchers["hybrid"].weights,
            "rrf_k": searchers["hybrid_rrf"].rrf_k,
            "rrf_weights": searchers["hybrid_rrf"].weights,
            "index_type": manifest.index_type,
            "depth": depth,
        }
    return {
        "faqs": len(faqs),
        "queries": len(qrels),
        "model_id": model_id,
        "dense_text": "question (pipeline.publish.dense_text)",
        "bm25_text": "question + answers (pipeline.publish.keyword_text)",
        "settings": settings,
        "results": results,
        "hybrid_minus_dense_ndcg@10": round(results["hybrid"]["ndcg@10"] - results["dense"]["ndcg@10"], 4),
        "timing_s": timing,
    }
