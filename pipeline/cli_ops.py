"""Operations at the command line: the writer lease every writing command holds, `backup`, `restore`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from pipeline.lease import DEFAULT_WAIT_SECONDS, StoreBusy, writer_lease
from pipeline.store_base import Lease

WAIT_OPTION = click.option(
    "--wait", "wait", type=float, default=DEFAULT_WAIT_SECONDS, show_default=True, metavar="SECONDS",
    help="If another run is writing this store, wait this long for it before giving up.",
)  # fmt: skip


@contextmanager
def holding_writer_lease(wait: float) -> Iterator[Lease]:
    """The writer lease for a command's whole run; another live holder is one clear error, no traceback."""
    from pipeline.store import open_store

    try:
        with writer_lease(open_store, wait) as lease:
            yield lease
    except StoreBusy as exc:
        raise click.ClickException(str(exc)) from None


@click.command()
@click.argument("dest", type=click.Path(path_type=Path))
@WAIT_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print the backup manifest as JSON.")
def backup(dest: Path, wait: float, as_json: bool) -> None:
    """Back up the store and the releases (with CURRENT) into DEST, a new or empty folder.

    SQLite is copied with VACUUM INTO; PostgreSQL with pg_dump. No run writes meanwhile.
    """
    from pipeline.backup import BackupError
    from pipeline.backup import backup as do_backup

    try:
        with holding_writer_lease(wait):
            manifest = do_backup(dest)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps(manifest, indent=2))
    else:
        click.echo(f"Backed up the {manifest['database']} store and {manifest['releases']} releases "
                   f"(current: {manifest['current_release'] or 'none'}) into {dest}.")  # fmt: skip


@click.command()
@click.argument("src", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--force", is_flag=True, help="Replace a store that is not empty.")
@WAIT_OPTION
def restore(src: Path, force: bool, wait: float) -> None:
    """Restore the store and the releases from the backup folder SRC (refuses a non-empty store without --force)."""
    from pipeline.backup import BackupError
    from pipeline.backup import restore as do_restore

    try:
        with holding_writer_lease(wait) as lease:
            manifest = do_restore(src, force=force, lease=lease)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Restored the {manifest['database']} store of {manifest['created_at']} and {manifest['releases']} "
               f"releases (current: {manifest['current_release'] or 'none'}) from {src}.")  # fmt: skip


COMMANDS = [backup, restore]
