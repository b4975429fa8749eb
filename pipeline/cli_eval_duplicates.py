"""`practice eval duplicates`: duplicate scoring on labelled pairs, next to plain cosine.

Registered on the eval group with ``eval_group.add_command(duplicates_command)``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from pipeline import config  # noqa: F401  (offline environment before anything else loads)


def _ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}x" if a is not None and b else "-"


def _f(x: float | None) -> str:
    return "-" if x is None else f"{x:.4f}"


def _classification_lines(res: dict[str, Any]) -> list[str]:
    o, c = res["ours"], res["cosine"]
    lines = [
        f"{'':26}{'ours':>10}{'cosine':>10}{'ratio':>8}",
        f"{'average precision':26}{_f(o['average_precision']):>10}{_f(c['average_precision']):>10}"
        f"{_ratio(o['average_precision'], c['average_precision']):>8}",
        f"{'precision @ recall>=0.25':26}{_f(o['precision_at_recall_0.25']):>10}{_f(c['precision_at_recall_0.25']):>10}"
        f"{_ratio(o['precision_at_recall_0.25'], c['precision_at_recall_0.25']):>8}",
        f"{'recall @ precision>=0.90':26}{_f(o['recall_at_precision_0.90']):>10}{_f(c['recall_at_precision_0.90']):>10}"
        f"{_ratio(o['recall_at_precision_0.90'], c['recall_at_precision_0.90']):>8}",
        f"{'best F1':26}{_f(o['best_f1']['f1']):>10}{_f(c['best_f1']['f1']):>10}{_ratio(o['best_f1']['f1'], c['best_f1']['f1']):>8}",
        f"{'  at threshold':26}{_f(o['best_f1']['threshold']):>10}{_f(c['best_f1']['threshold']):>10}",
    ]
    rows = (("at_merge", "ours at merge"), ("at_merge_guarded", "+ merge guard at"), ("at_suggest", "ours at suggest"))
    for key, label in (r for r in rows if r[0] in o):
        m = o[key]
        lines.append(
            f"{label + ' ' + _f(m['threshold']):26} P {m['precision']:.4f}  R {m['recall']:.4f}  F1 {m['f1']:.4f}  "
            f"({m['tp']}/{m['predicted']} predicted are duplicates)"
        )
    m = c["at_p90_threshold"]
    lines.append(
        f"{'cosine at its P>=0.90 cut':26} P {m['precision']:.4f}  R {m['recall']:.4f}  F1 {m['f1']:.4f}  (threshold {_f(m['threshold'])}, chosen on this data)"
    )
    cal = o["calibration"]
    lines.append(f"thresholds this data would calibrate: merge (P>=0.90) {_f(cal['merge_at_p90'])}, suggest (best F1) {_f(cal['suggest_best_f1'])}")
    return lines


def _ranking_lines(rk: dict[str, Any]) -> list[str]:
    lines = [
        f"ranking (subtask B MAP@10, relevant = PerfectMatch or Relevant; {rk['queries']} original questions, "
        f"{rk['queries_without_relevant']} without a relevant one):",
        f"{'':16}{'MAP':>8}{'MAP-ans':>9}   (MAP: official default, no-relevant = 0; MAP-ans: --ignore_noanswer)",
    ]
    for system in ("ours", "cosine", "search_engine"):
        lines.append(f"{system:16}{rk[system]['map']:8.4f}{rk[system]['map_answerable']:9.4f}")
    o = rk["ours"]["map_answerable"]
    lines.append(
        f"MAP-ans ratio: ours/cosine {_ratio(o, rk['cosine']['map_answerable'])}, "
        f"ours/search engine {_ratio(o, rk['search_engine']['map_answerable'])}"
    )
    return lines


def render(report: dict[str, Any]) -> list[str]:
    """The human-readable table of a report from pipeline.eval_duplicates."""
    t = report["thresholds"]
    lines = [f"{report['dataset']} (kind {report['kind']}; merge >= {t['merge']}, suggest >= {t['suggest']})"]
    for name, res in report["results"].items():
        label = "all files together" if name == "combined" else name
        lines.append(f"\n[{label}: {res['pairs']} pairs, {res['duplicates']} duplicates]")
        lines.extend(_classification_lines(res))
        if "ranking" in res:
            lines.extend(_ranking_lines(res["ranking"]))
    lines.append(f"\n({report['timing_s']}s)")
    return lines


@click.command("duplicates")
@click.option("--pairs", "pairs", type=click.Path(path_type=Path), help="TSV: id1<TAB>text1<TAB>id2<TAB>text2<TAB>label (1 = duplicate; header optional).")
@click.option("--kind", type=click.Choice(["faq", "pattern"]), default="faq", show_default=True, help="How --pairs texts are compared: questions or statements.")
@click.option("--semeval", "semeval", type=click.Path(path_type=Path), multiple=True, help="SemEval-2016 Task 3 XML (subtask B labels); repeat for several parts.")
@click.option("--mrpc", "mrpc", type=click.Path(path_type=Path), help="MRPC TSV (Quality, #1 ID, #2 ID, #1 String, #2 String).")
@click.option("--out", type=click.Path(path_type=Path), help="Write per-pair scores as TSV (set, id1, id2, label, score, cosine, lexical, decision).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def duplicates_command(pairs: Path | None, kind: str, semeval: tuple[Path, ...], mrpc: Path | None, out: Path | None, as_json: bool) -> None:
    """Duplicate scoring: P/R/F1 at the merge and suggest thresholds, AP, best-F1 threshold.

    Always next to plain cosine of the same embeddings; on SemEval also the subtask-B ranking
    MAP next to the search engine's order.
    """
    from pipeline.eval_duplicates import EvalInputError, evaluate_mrpc, evaluate_pairs, evaluate_semeval, read_pairs_tsv, write_scores

    given = sum(x for x in (pairs is not None, bool(semeval), mrpc is not None))
    if given != 1:
        raise click.UsageError("give exactly one of --pairs FILE.tsv, --semeval FILE.xml (repeatable) or --mrpc FILE")
    try:
        if pairs is not None:
            report = evaluate_pairs(read_pairs_tsv(pairs, kind))
        elif semeval:
            report = evaluate_semeval(list(semeval))
        else:
            assert mrpc is not None
            report = evaluate_mrpc(mrpc)
    except EvalInputError as exc:
        raise click.ClickException(str(exc)) from exc
    rows = report.pop("pairs_scored")
    lines = render(report)
    if out is not None:
        try:
            write_scores(rows, out)
        except OSError as exc:
            raise click.ClickException(f"cannot write {out}: {exc}") from exc
        lines.append(f"per-pair scores written to {out}")
    if as_json:
        click.echo(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        click.echo("\n".join(lines))
