"""`practice eval`: measure extractors on real labelled data, side by side with baselines (and on hand-labelled gold).

Registered by pipeline/cli.py with ``main.add_command(eval_group)``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from pipeline import config  # noqa: F401  (offline environment before anything else loads)


@click.group(name="eval")
def eval_group() -> None:
    """Evaluate extractors on real labelled data, next to simple baselines (ours / baseline ratios)."""


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "-"


def _semeval_table(report: dict[str, Any]) -> list[str]:
    lines = [
        f"SemEval-2016 Task 3 subtask A: {report['threads']} threads "
        f"({report['threads_without_good']} without a Good comment count as 0, official convention)",
    ]
    for name, label in (("full", "full file"), ("heldout", "held-out (last 80%, never used for tuning)"), ("dev", "dev (first 20%)")):
        res = report["results"].get(name)
        if not res:
            continue
        lines.append(f"\n[{label}: {res['ours']['threads']} threads]")
        lines.append(f"{'':16}{'MAP':>8}{'MRR':>8}{'P@1':>8}")
        for system in ("ours", "chronological", "random"):
            m = res[system]
            lines.append(f"{system:16}{m['map']:8.4f}{m['mrr']:8.4f}{m['p_at_1']:8.4f}")
        o, c, r = res["ours"]["map"], res["chronological"]["map"], res["random"]["map"]
        lines.append(f"MAP ratio: ours/chronological {_ratio(o, c)}, ours/random {_ratio(o, r)}")
    t = report["timing_s"]
    lines.append(f"\n({t['texts_embedded']} texts embedded in {t['embed']}s, ranking {t['rank']}s)")
    return lines


def _se_table(report: dict[str, Any]) -> list[str]:
    lines = [
        f"Stack Exchange accepted answer as top-1 (votes and accepted flags hidden): "
        f"{report['with_accepted_answer']} of {report['questions']} questions have an accepted answer",
        f"{'':18}{'questions':>10}{'ours':>8}{'first':>8}{'random':>8}{'ours/first':>12}",
    ]
    for key, label in (("min_2_answers", ">=2 answers"), ("min_1_answer", ">=1 answer")):
        m = report["results"][key]
        lines.append(
            f"{label:18}{m['questions']:>10}{m['ours']:8.3f}{m['first_answer']:8.3f}{m['random']:8.3f}"
            f"{_ratio(m['ours'], m['first_answer']):>12}"
        )
    lines.append(f"\n({report['timing_s']['total']}s)")
    return lines


@eval_group.command("answers")
@click.option("--semeval", "semeval", type=click.Path(path_type=Path), help="SemEval-2016 Task 3 XML with comment labels (train part 2).")
@click.option("--stackexchange", "stackexchange", type=click.Path(path_type=Path), help="Stack Exchange dump folder (Posts.xml, Comments.xml).")
@click.option("--out", type=click.Path(path_type=Path), help="Write every thread's ranked comment ids with scores as JSON (SemEval).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def answers(semeval: Path | None, stackexchange: Path | None, out: Path | None, as_json: bool) -> None:
    """Answer ranking: MAP / MRR / P@1 on SemEval, or accepted-answer@1 on Stack Exchange.

    Always next to chronological order and random order computed in the same run.
    """
    from pipeline.eval_answers import EvalInputError, evaluate_semeval, evaluate_stackexchange, write_rankings

    if (semeval is None) == (stackexchange is None):
        raise click.UsageError("give exactly one of --semeval FILE.xml or --stackexchange DIR")
    if out is not None and semeval is None:
        raise click.UsageError("--out writes SemEval rankings; use it with --semeval")
    try:
        if semeval is not None:
            report = evaluate_semeval(semeval)
            if out is not None:
                try:
                    write_rankings(report, out)
                except OSError as exc:
                    raise click.ClickException(f"cannot write {out}: {exc}") from exc
            payload = {k: v for k, v in report.items() if k != "rankings"}
            lines = _semeval_table(report)
            if out is not None:
                lines.append(f"rankings written to {out}")
        else:
            assert stackexchange is not None
            report = evaluate_stackexchange(stackexchange)
            payload, lines = report, _se_table(report)
    except EvalInputError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False, default=str))
    else:
        click.echo("\n".join(lines))


@eval_group.command("extraction")
@click.option("--gold", "gold_dir", required=True, type=click.Path(path_type=Path, file_okay=False), help="Folder with threads/pairs/sections/spans.jsonl (bench/gold).")
@click.option("--corpus", type=click.Path(path_type=Path, file_okay=False), default=None, help="Corpus root the gold's paths are relative to (default ../shared/corpus).")
@click.option("--keep", type=click.Path(path_type=Path, file_okay=False), default=None, help="Keep the converted inputs and the product's store here.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def extraction(gold_dir: Path, corpus: Path | None, keep: Path | None, as_json: bool) -> None:
    """Run the product over the gold's sources and print FAQ precision/recall, answer accuracy,
    answered-shown-open, pattern precision and wrong-merge rate, for dev and heldout (see pipeline/eval_extraction.py)."""
    from pipeline.eval_extraction import GoldError, evaluate_extraction, report_lines
    from pipeline.gold_units import DEFAULT_CORPUS

    try:
        report = evaluate_extraction(gold_dir, corpus or DEFAULT_CORPUS, keep)
    except GoldError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(json.dumps(report, indent=2, ensure_ascii=False) if as_json else "\n".join(report_lines(report)))
