"""`practice pull slack`: fetch live material into a source folder the next run reads."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import click

from pipeline.cli_run import CONFIG_OPTION, _settings


@click.group("pull")
def pull_group() -> None:
    """Fetch material from live services into source folders (then `practice run` reads them)."""


@pull_group.command("slack")
@CONFIG_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def pull_slack_command(config: Path | None, as_json: bool) -> None:
    """Pull the [slack] channels since their checkpoints into the [slack] folder (a Slack export).

    The bot token is read from the environment variable `[slack] token_env` (SLACK_BOT_TOKEN).
    """
    from pipeline.slack_pull import SlackPullError, pull_slack
    from pipeline.store import open_store

    settings = _settings(config)
    folder = Path(settings.slack.folder)
    if not folder.is_absolute():
        folder = Path(settings.base_dir) / folder
    store = open_store()
    try:
        report = pull_slack(settings.slack, store, folder)
    except SlackPullError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps(asdict(report), indent=2, ensure_ascii=False))
        return
    fetched = ", ".join(f"#{name} {n}" for name, n in report.channels.items()) or "no channels"
    click.echo(f"Pulled {fetched} messages ({report.threads_fetched} threads fetched); {report.files_written} day files written to {report.folder}.")
    for warning in report.warnings:
        click.echo(f"  warning: {warning}")
