"""`practice eval search`: retrieval quality of dense, BM25 and hybrid search on labelled FAQs.

Added to the `eval` group with ``eval_group.add_command(search_command)``.

``--faqs/--qrels`` is the held-out set (StackFAQ); ``--stackexchange`` and ``--semeval`` are the dev
sets the fusion parameters are chosen on (`pipeline.eval_search_dev`), and only they feed
``--rrf-grid``: the grid never sees the held-out set.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from pipeline import config  # noqa: F401  (offline environment before anything else loads)

METRICS = {"mrr": "MRR", "recall@1": "R@1", "recall@5": "R@5", "recall@10": "R@10", "ndcg@10": "NDCG@10"}
GRID_ROWS_SHOWN = 10


def _weights(weights: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:g}" for k, v in weights.items())


def _labels(settings: dict[str, Any]) -> dict[str, str]:
    """Row labels: the default fusion's row ("hybrid") says so; the same fusion's own row is left out."""
    rrf = f"hybrid: RRF k={settings['rrf_k']} ({_weights(settings['rrf_weights'])})"
    convex = f"hybrid: convex ({_weights(settings['convex_weights'])})"
    default = {"rrf": rrf, "convex": convex}[settings["fusion"]]
    labels = {"dense": "dense only", "bm25": "BM25 only", "hybrid": f"{default} [default]"}
    labels.update({row: label for row, label in (("hybrid_rrf", rrf), ("hybrid_convex", convex)) if label != default})
    labels["hybrid_rrf60"] = "hybrid: RRF k=60 (dense 1, bm25 1)"
    return labels


def _table(report: dict[str, Any]) -> list[str]:
    """The report of one set as a text table, one row per mode."""
    s = report["settings"]
    labels = _labels(s)
    width = max(len(v) for v in labels.values()) + 2
    lines = [
        f"{report.get('set', 'FAQ retrieval')}: {report['queries']} queries over {report['faqs']} FAQs "
        f"(model {report['model_id']}, {s['index_type']} vectors; dense text: {report['dense_text']}, "
        f"BM25 text: {report['bm25_text']})",
        f"{'':{width}}" + "".join(f"{h:>10}" for h in METRICS.values()),
    ]
    for row, label in labels.items():
        m = report["results"][row]
        lines.append(f"{label:{width}}" + "".join(f"{m[k]:10.4f}" for k in METRICS))
    d, h, b = (report["results"][r]["ndcg@10"] for r in ("dense", "hybrid", "bm25"))
    lines.append(
        f"NDCG@10 ratio: hybrid/dense {h / d:.3f}x, hybrid/BM25 {h / b:.3f}x" if d and b else "NDCG@10 ratio: -"
    )
    lines.append(f"top {s['depth']} per method")
    t = report["timing_s"]
    lines.append(
        f"({t['embed_faqs']}s embedding FAQs, {t['embed_queries']}s embedding queries, "
        f"{t['build_release']}s building the release, {t['search_all_modes']}s searching)"
    )
    return lines


def _grid_table(combined: list[dict[str, Any]], chosen: dict[str, Any]) -> list[str]:
    """The best grid rows (by the selection rule) with each dev set's NDCG@10."""
    names = list(chosen["per_set"])
    # the order of select_rrf's rule: mean NDCG@10, then mean MRR, then larger k
    ranked = sorted(combined, key=lambda r: (r["mean"]["ndcg@10"], r["mean"]["mrr"], r["rrf_k"]), reverse=True)
    lines = [
        f"Weighted RRF grid (dense weight 1), ranked by NDCG@10 averaged over the {len(names)} dev set(s); "
        f"best {min(GRID_ROWS_SHOWN, len(ranked))} of {len(ranked)}:",
        f"{'k':>4}{'w_bm25':>8}{'mean':>9}{'pooled':>9}" + "".join(f"  {n}" for n in names),
    ]
    for r in ranked[:GRID_ROWS_SHOWN]:
        cells = "".join(f"  {r['per_set'][n]:>{len(n)}.4f}" for n in names)
        lines.append(f"{r['rrf_k']:>4}{r['weights']['bm25']:>8g}{r['mean']['ndcg@10']:9.4f}{r['pooled']['ndcg@10']:9.4f}{cells}")
    lines.append(f"chosen: k={chosen['rrf_k']}, {_weights(chosen['weights'])}")
    return lines


@click.command("search")
@click.option("--faqs", "faqs", type=click.Path(path_type=Path), help="FAQ entries, JSON lines: faq_id, question, answers.")
@click.option("--qrels", "qrels", type=click.Path(path_type=Path), help="TSV: query_id, query, relevant_faq_id.")
@click.option(
    "--stackexchange",
    "stackexchange",
    type=click.Path(path_type=Path),
    help="Dev set: a Stack Exchange site folder (derived/duplicate_links.tsv, derived/questions_with_answers.jsonl).",
)
@click.option(
    "--semeval",
    "semeval",
    type=click.Path(path_type=Path),
    multiple=True,
    help="Dev set: SemEval-2016 Task 3 XML file(s), subtask B labels (repeat for several; indexed together).",
)
@click.option("--rrf-grid", is_flag=True, help="Also score the weighted-RRF grid on the dev sets and print the choice.")
@click.option("--index-type", type=click.Choice(["exact", "hnsw", "ivf"]), default="exact", show_default=True, help="Vector index of the release.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def search_command(
    faqs: Path | None, qrels: Path | None, stackexchange: Path | None, semeval: tuple[Path, ...],
    rrf_grid: bool, index_type: str, as_json: bool,
) -> None:  # fmt: skip
    """Search quality: MRR, Recall@1/5/10, NDCG@10 of dense only, BM25 only and hybrid, side by side.

    Builds a real index release of each set's FAQs in a temporary folder and runs every query
    through it. Sets: --faqs with --qrels (StackFAQ, held out), --stackexchange DIR and --semeval XML
    (dev sets); --rrf-grid scores the fusion grid on the dev sets only.
    """
    from pipeline.eval_search import EvalInputError, evaluate_retrieval, evaluate_search
    from pipeline.eval_search_dev import combine_grids, load_semeval_questions, load_stackexchange_duplicates
    from pipeline.eval_search_dev import rrf_grid as grid_points
    from pipeline.eval_search_dev import select_rrf

    if (faqs is None) != (qrels is None):
        raise click.UsageError("--faqs and --qrels go together")
    if faqs is None and stackexchange is None and not semeval:
        raise click.UsageError("give --faqs and --qrels, --stackexchange DIR or --semeval FILE")
    if rrf_grid and stackexchange is None and not semeval:
        raise click.UsageError("--rrf-grid needs a dev set (--stackexchange / --semeval): it never tunes on --faqs")
    grid = grid_points() if rrf_grid else []
    reports: list[dict[str, Any]] = []
    try:
        if faqs is not None and qrels is not None:
            reports.append(evaluate_search(faqs, qrels, index_type=index_type))
        dev_sets = ([load_stackexchange_duplicates(stackexchange)] if stackexchange is not None else []) + (
            [load_semeval_questions(list(semeval))] if semeval else []
        )
        dev = [evaluate_retrieval(d, index_type=index_type, rrf_grid=grid) for d in dev_sets]
    except EvalInputError as exc:
        raise click.ClickException(str(exc)) from exc
    reports += dev
    out: dict[str, Any] = {"reports": reports} if len(reports) > 1 or grid else reports[0]
    combined: list[dict[str, Any]] = []
    if grid:
        combined = combine_grids(dev)
        out["rrf_grid"] = combined
        out["rrf_chosen"] = select_rrf(combined)
    if as_json:
        click.echo(json.dumps(out, indent=2, ensure_ascii=False))
        return
    blocks = ["\n".join(_table(r)) for r in reports]
    if grid:
        blocks.append("\n".join(_grid_table(combined, out["rrf_chosen"])))
    click.echo("\n\n".join(blocks))
