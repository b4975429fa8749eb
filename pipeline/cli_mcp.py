"""`practice mcp`: the index for AI assistants over the Model Context Protocol (stdio or streamable HTTP)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from pipeline.cli_run import CONFIG_OPTION

TOKEN_ENV = "PRACTICE_TOKEN"


@click.command("mcp")
@click.option("--transport", type=click.Choice(["stdio", "http"]), default="stdio", show_default=True,
              help="stdio: an assistant starts this command; http: streamable HTTP at /mcp, bearer token required.")  # fmt: skip
@click.option("--user", "user_name", help=f"stdio: answer as this user (see `practice users list`) [default: the user of ${TOKEN_ENV}, else an anonymous reader].")
@click.option("--host", default="127.0.0.1", show_default=True, help="http: interface to listen on.")
@click.option("--port", default=8001, show_default=True, type=click.IntRange(0, 65535), help="http: port to listen on.")
@CONFIG_OPTION
def mcp_command(transport: str, user_name: str | None, host: str, port: int, config: Path | None) -> None:
    """Serve the practice index to AI assistants over MCP: search with citations, artefacts with
    evidence, open questions, and (reviewers) proposing a FAQ into the review queue.

    Every tool shows only what the caller may see, as the web API does. stdio answers as --user, or
    the user of the token in $PRACTICE_TOKEN, or an anonymous reader (public material only); HTTP
    answers as the user of each request's `Authorization: Bearer TOKEN`.
    """
    import anyio

    from assistants.server import build_server, http_app, local_caller
    from pipeline.config import practice_home
    from pipeline.settings import load_settings
    from pipeline.users import UserError

    try:
        settings = load_settings(config)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    home = practice_home()
    if transport == "stdio":
        try:
            caller = local_caller(home, user_name, os.environ.get(TOKEN_ENV))
        except UserError as exc:
            raise click.ClickException(str(exc)) from None
        anyio.run(build_server(home, caller, settings=settings).run_stdio_async)
        return
    if user_name:
        raise click.UsageError("--user is for stdio: over HTTP each request's bearer token names its user")
    import uvicorn

    if host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(f"warning: listening on {host} over plain HTTP: put it behind an HTTPS proxy (tokens travel in headers).", err=True)
    uvicorn.run(http_app(home, host, port, settings=settings), host=host, port=port, log_level="warning", proxy_headers=True)
