"""`practice serve`: the web UI and JSON API on uvicorn."""

from __future__ import annotations

from pathlib import Path

import click

from pipeline.cli_run import CONFIG_OPTION


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@CONFIG_OPTION
@click.option("--log-level", default="info", show_default=True, type=click.Choice(["critical", "error", "warning", "info", "debug"]))
def serve_command(host: str, port: int, config: Path | None, log_level: str) -> None:
    """Serve the web UI (review queue, search, dashboard) and the JSON API (/api, docs at /docs).

    State is read from $PRACTICE_HOME. Log in to the web UI with a token from
    `practice users add NAME --role reviewer`; API clients send it as `Authorization: Bearer TOKEN`.
    """
    import uvicorn

    from web.app import create_app
    from pipeline.settings import load_settings

    try:
        settings = load_settings(config)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    app = create_app(settings=settings, config=config)
    # Say which configuration publishes from the UI use: the one `practice publish` would read here.
    click.echo(f"config: {app.state.practice.config_source} (publish: include_candidates = "
               f"{str(settings.publish.include_candidates).lower()})", err=True)  # fmt: skip
    # The current release and the embedding model load now, not on the first reader's query.
    click.echo(f"ready in {app.state.practice.warm():.1f} s: release and model loaded", err=True)
    if host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(
            f"warning: listening on {host}: session cookies are not marked Secure over plain HTTP; "
            "put the server behind an HTTPS proxy.",
            err=True,
        )
    # One worker: web sessions live in this process's memory.
    uvicorn.run(app, host=host, port=port, log_level=log_level, workers=1, proxy_headers=True)


if __name__ == "__main__":  # python -m pipeline.cli_serve (before the command is registered)
    serve_command()
