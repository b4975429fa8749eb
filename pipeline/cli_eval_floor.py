"""`practice eval floor`: calibrate the search relevance floor on labelled queries (`pipeline.eval_floor`).

Added to the `eval` group with ``eval_group.add_command(floor_command)``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from pipeline import config  # noqa: F401  (offline environment before anything else loads)


def _lines(report: dict[str, Any]) -> list[str]:
    """The report as text: the chosen thresholds, their dev and test precision/recall, per group."""
    q = report["queries"]
    lines = [
        f"Relevance floor on {sum(q['dev'].values())} dev / {sum(q['test'].values())} test queries, "
        f"{report['indexed']} indexed entries (model {report['model_id']})",
        "  groups (dev): " + ", ".join(f"{g} {n}" for g, n in q["dev"].items()),
        f"{'signal':<28}{'threshold':>10}{'dev P':>8}{'dev R':>8}{'dev F1':>8}{'test P':>8}{'test R':>8}{'test F1':>8}",
    ]
    for name, label in (("cosine", "dense cosine of best hit"), ("bm25", "BM25 score of top hit")):
        d, t = report["signals"][name]["dev"], report["signals"][name]["test"]
        lines.append(f"{label:<28}{d['threshold']:>10.2f}{d['precision']:>8.3f}{d['recall']:>8.3f}{d['f1']:>8.3f}"
                     f"{t['precision']:>8.3f}{t['recall']:>8.3f}{t['f1']:>8.3f}")  # fmt: skip
    s, st = report["strong_dev"], report["strong_test"]
    lines.append(
        f"strong match (top hit is the answer) at cosine >= {report['strong']:.2f}: "
        f"dev precision {s['precision']:.3f} recall {s['recall']:.3f}; test precision {st['precision']:.3f} recall {st['recall']:.3f}"
    )
    lines.append(f"test, share shown an answer at floor {report['floor']:.2f}: "
                 + ", ".join(f"{g} {v['shown_an_answer']:.3f} (n={v['queries']})" for g, v in report["test_by_group"].items()))  # fmt: skip
    return lines


@click.command("floor")
@click.option("--faqs", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True, help="StackFAQ derived/faqs.jsonl.")
@click.option("--qrels", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True, help="StackFAQ derived/queries_qrels.tsv.")
@click.option("--distractors", type=click.Path(exists=True, file_okay=False, path_type=Path), help="A Stack Exchange site folder: its question titles are indexed too.")
@click.option("--semeval", type=click.Path(exists=True, dir_okay=False, path_type=Path), multiple=True, help="SemEval-2016 derived subtask B TSV(s): subjects as off-topic queries.")
@click.option("--semeval-limit", default=600, show_default=True, help="How many SemEval subjects (seeded sample).")
@click.option("--qmsum", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="QMSum JSONL: meeting queries as off-topic queries.")
@click.option("--gibberish", "n_gibberish", default=300, show_default=True, help="How many seeded nonsense queries.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def floor_command(
    faqs: Path, qrels: Path, distractors: Path | None, semeval: tuple[Path, ...], semeval_limit: int,
    qmsum: Path | None, n_gibberish: int, as_json: bool,
) -> None:  # fmt: skip
    """Choose the relevance floor and the strong-match threshold on a dev split; report the test split.

    Answerable queries: StackFAQ paraphrases of the indexed half; unanswerable: paraphrases of the
    other half, other datasets' questions and gibberish. Put the chosen values in
    index.relevance.CALIBRATED (or [search] floor / strong in practice.toml).
    """
    from index.embeddings import shared_embedder
    from pipeline.eval_floor import evaluate_floor, floor_set, gibberish, read_qmsum_queries, read_semeval_subjects
    from pipeline.eval_search import EvalInputError

    try:
        off_topic: dict[str, list[str]] = {"gibberish": gibberish(n_gibberish)}
        if semeval:
            off_topic["semeval"] = read_semeval_subjects(list(semeval), semeval_limit)
        if qmsum is not None:
            off_topic["qmsum"] = read_qmsum_queries(qmsum)
        entries, queries = floor_set(faqs, qrels, distractors, off_topic)
        model = shared_embedder()
        report = evaluate_floor(entries, queries, model.encode, model.model_name)
    except EvalInputError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(json.dumps(report, indent=2) if as_json else "\n".join(_lines(report)))
