"""`practice eval disentangle`: conversations out of unthreaded chat, against gold, next to baselines.

Added to the `eval` group with ``eval_group.add_command(disentangle_command)``; the datasets and
systems are described in `pipeline.eval_disentangle`.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import click

from pipeline import config  # noqa: F401  (offline environment before anything else loads)


def _table(title: str, report: dict[str, Any], note: str = "") -> list[str]:
    """One dataset's figures, one row per system, with ratios to the previous-message baseline."""
    lines = [
        f"{title}: {report['channels']} channels, {report['messages']} scored messages, "
        f"{report['gold_conversations']} gold conversations (time gap: {report['gap_seconds']:g} s)",
    ]
    if note:
        lines.append(note)
    lines.append(f"{'':18}{'link P':>8}{'link R':>8}{'link F1':>9}{'1-to-1':>8}{'convs':>7}")
    for name, m in report["systems"].items():
        lines.append(
            f"{name:18}{m['link_precision']:8.4f}{m['link_recall']:8.4f}{m['link_f1']:9.4f}"
            f"{m['one_to_one']:8.4f}{m['conversations']:7d}"
        )
    ours, prev = report["systems"]["product"], report["systems"]["previous message"]
    ratio = lambda a, b: f"{a / b:.2f}x" if b else "-"  # noqa: E731
    lines.append(
        f"product / previous message: link F1 {ratio(ours['link_f1'], prev['link_f1'])}, "
        f"one-to-one {ratio(ours['one_to_one'], prev['one_to_one'])}"
    )
    return lines


@click.command("disentangle")
@click.option("--irc", "irc", type=click.Path(path_type=Path), help="Ubuntu IRC folder with *.raw.txt and *.annotation.txt (irc_disentanglement/dev).")
@click.option("--gitter", "gitter", type=click.Path(path_type=Path), help="Folder of hand-disentangled Gitter rooms (gitter_livechat_manual/manual).")
@click.option("--gap", "gap_minutes", type=float, default=5.0, show_default=True, help="Minutes of the time-gap baseline.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def disentangle_command(irc: Path | None, gitter: Path | None, gap_minutes: float, as_json: bool) -> None:
    """Reply links and conversations built by the product's disentangler, against gold.

    Prints link precision/recall/F1 and one-to-one conversation overlap per dataset, next to the
    "previous message" and "time gap" baselines computed in the same run.
    """
    from pipeline.eval_disentangle import EvalInputError, evaluate, gitter_channels, irc_channels

    if irc is None and gitter is None:
        raise click.UsageError("give --irc DIR and/or --gitter DIR")
    gap = timedelta(minutes=gap_minutes)
    reports: dict[str, Any] = {}
    try:
        if irc is not None:
            reports["irc"] = evaluate(irc_channels(irc), gap)
        if gitter is not None:
            reports["gitter"] = evaluate(gitter_channels(gitter), gap)
    except EvalInputError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(reports, indent=2))
        return
    out: list[str] = []
    if "irc" in reports:
        out += _table("Ubuntu IRC (reply links from message 1,000 on)", reports["irc"])
    if "gitter" in reports:
        out += [""] if out else []
        out += _table(
            "Gitter (hand-split conversations)", reports["gitter"],
            "(no reply links in this gold: a link is right when both ends share a gold conversation, "
            "a new-conversation link when the message opens one; so P = R)",
        )  # fmt: skip
    click.echo("\n".join(out))
