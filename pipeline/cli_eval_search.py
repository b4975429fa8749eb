"""`practice eval search`: retrieval quality of dense, BM25 and hybrid search on labelled FAQs.

Added to the `eval` group with ``eval_group.add_command(search_command)``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from pipeline import config  # noqa: F401  (offline environment before anything else loads)

LABELS = {
    "dense": "dense only",
    "bm25": "BM25 only",
    "hybrid": "hybrid",
    "hybrid_rrf": "hybrid (RRF)",
}
METRICS = {"mrr": "MRR", "recall@1": "R@1", "recall@5": "R@5", "recall@10": "R@10", "ndcg@10": "NDCG@10"}


def _table(report: dict[str, Any]) -> list[str]:
    s = report["settings"]
    lines = [
        f"FAQ retrieval: {report['queries']} queries over {report['faqs']} FAQs "
        f"(model {report['model_id']}, {s['index_type']} vectors; dense text: {report['dense_text']}, "
        f"BM25 text: {report['bm25_text']})",
        f"{'':16}" + "".join(f"{h:>10}" for h in METRICS.values()),
    ]
    for row, label in LABELS.items():
        m = report["results"][row]
        lines.append(f"{label:16}" + "".join(f"{m[k]:10.4f}" for k in METRICS))
    d, h, b = (report["results"][r]["ndcg@10"] for r in ("dense", "hybrid", "bm25"))
    lines.append(
        f"NDCG@10 ratio: hybrid/dense {h / d:.3f}x, hybrid/BM25 {h / b:.3f}x"
        if d and b
        else "NDCG@10 ratio: -"
    )
    weights = ", ".join(f"{k} {v:g}" for k, v in s["weights"].items())
    rrf = ", ".join(f"{k} {v:g}" for k, v in s["rrf_weights"].items())
    lines.append(f"hybrid = {s['fusion']} fusion ({weights}); RRF: k={s['rrf_k']} ({rrf}); top {s['depth']} per method")
    t = report["timing_s"]
    lines.append(
        f"({t['embed_faqs']}s embedding FAQs, {t['embed_queries']}s embedding queries, "
        f"{t['build_release']}s building the release, {t['search_all_modes']}s searching)"
    )
    return lines


@click.command("search")
@click.option("--faqs", "faqs", type=click.Path(path_type=Path), required=True, help="FAQ entries, JSON lines: faq_id, question, answers.")
@click.option("--qrels", "qrels", type=click.Path(path_type=Path), required=True, help="TSV: query_id, query, relevant_faq_id.")
@click.option("--index-type", type=click.Choice(["exact", "hnsw", "ivf"]), default="exact", show_default=True, help="Vector index of the release.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def search_command(faqs: Path, qrels: Path, index_type: str, as_json: bool) -> None:
    """Search quality: MRR, Recall@1/5/10, NDCG@10 of dense only, BM25 only and hybrid, side by side.

    Builds a real index release of the FAQs in a temporary folder and runs every query through it.
    """
    from pipeline.eval_search import EvalInputError, evaluate_search

    try:
        report = evaluate_search(faqs, qrels, index_type=index_type)
    except EvalInputError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        click.echo("\n".join(_table(report)))
