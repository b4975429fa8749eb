"""`practice deploy`: register the scheduled run on a Prefect work pool."""

from __future__ import annotations

import os
from pathlib import Path

import click

from pipeline.cli_run import CONFIG_OPTION, _settings


@click.command()
@click.option("--pool", default="practice", show_default=True, help="Prefect work pool (process type; created if missing).")
@click.option("--cron", help="Cron expression [default: [schedule] cron in practice.toml, else hourly].")
@click.option("--no-schedule", is_flag=True, help="Register without a schedule (runs start on demand only).")
@click.option("--name", default="practice-scheduled", show_default=True, help="Deployment name.")
@CONFIG_OPTION
def deploy(pool: str, cron: str | None, no_schedule: bool, name: str, config: Path | None) -> None:
    """Register the whole flow on a Prefect work pool, on a schedule, for `prefect worker start --pool POOL`.

    Needs a Prefect server ($PREFECT_API_URL): the local ephemeral one ends with this command.
    Workers read the store from their own $PRACTICE_HOME / $PRACTICE_DATABASE_URL.
    """
    settings = _settings(config)
    if not settings.sources:
        raise click.ClickException("a deployment needs [[sources]] in practice.toml")
    if not os.environ.get("PREFECT_API_URL"):
        raise click.ClickException("set PREFECT_API_URL to a Prefect server (e.g. `prefect server start`)")
    from flows.deploy import deploy_scheduled

    from pipeline.settings import config_path

    path = config_path(config)
    when = None if no_schedule else cron or settings.schedule.cron
    deployment_id = deploy_scheduled(pool, when, str(path) if path else None, settings.schedule.timezone, name)
    click.echo(f"Deployed practice-run/{name} ({deployment_id}) on work pool {pool!r}"
               + (f", schedule {when!r}" if when else ", no schedule") + ".")  # fmt: skip
    click.echo(f"Start a worker: prefect worker start --pool {pool}")
