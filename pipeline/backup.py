"""Backup and restore of a PRACTICE_HOME: the store's database and the releases folder (with CURRENT).

SQLite is copied with `VACUUM INTO` (a consistent snapshot while readers go on) and restored with
SQLite's backup API into the live file (so a reader never sees half a file); PostgreSQL is dumped
with `pg_dump` and loaded with `pg_restore` in one transaction. The writer lease is not part of a
backup: a restored store starts with nobody writing. The caller holds the writer lease throughout,
so the database and the releases are copied with no run between them.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import sqlite3
import subprocess
import time
from contextlib import closing
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pipeline.migrations_sqlite import MIGRATIONS
from pipeline.store import open_store, store_location
from pipeline.store_base import Lease

FORMAT = 1
MANIFEST = "backup.json"
DATABASE_FILE = {"sqlite": "practice.sqlite3", "postgresql": "practice.pgdump"}
RELEASES = "releases"
PG_BIN_ENV = "PRACTICE_PG_BIN"


class BackupError(Exception):
    """A backup or restore that cannot be done, with the reason."""


def pg_tool(name: str) -> str:
    """The path of a PostgreSQL client program (pg_dump, pg_restore), or BackupError saying how to get it."""
    dirs = [os.environ.get(PG_BIN_ENV, "")]
    found = shutil.which(name)
    dirs.append(str(Path(found).parent) if found else "")
    dirs += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True)
    for d in filter(None, dirs):
        if (Path(d) / name).is_file():
            return str(Path(d) / name)
    raise BackupError(
        f"{name} not found: backup and restore of a PostgreSQL store need the PostgreSQL client programs "
        f"(Debian: `apt-get install postgresql-client`, of the server's major version or newer), "
        f"on PATH or in ${PG_BIN_ENV}"
    )


def _pg(args: list[str]) -> None:
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode:
        raise BackupError(f"{Path(args[0]).name} failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}")


def _release_ids(root: Path) -> tuple[str | None, int]:
    """The current release id and how many release folders there are."""
    current = (root / "CURRENT").read_text(encoding="utf-8").strip() if (root / "CURRENT").is_file() else None
    count = sum(1 for p in root.iterdir() if p.is_dir()) if root.is_dir() else 0
    return current or None, count


def backup(dest: Path, home: Path | None = None) -> dict[str, Any]:
    """Write the store and the releases of `home` into the new or empty folder `dest`; returns the manifest."""
    from pipeline.stages import releases_root

    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BackupError(f"{dest}: not an empty folder; a backup goes into a new or empty one")
    kind, where = store_location(home)
    pg_dump = pg_tool("pg_dump") if kind == "postgresql" else ""  # before anything is written
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / DATABASE_FILE[kind]
    if kind == "sqlite":
        with closing(sqlite3.connect(where)) as db:
            db.execute("VACUUM INTO ?", (str(target),))
        with closing(sqlite3.connect(target)) as copy, copy:
            copy.execute("DELETE FROM leases")  # the lease of the run taking the backup
    else:
        _pg([pg_dump, "--format=custom", "--no-owner", "--exclude-table-data=leases", "--file", str(target), "--dbname", where])
    root = releases_root(home)
    if root.is_dir():
        shutil.copytree(root, dest / RELEASES, symlinks=True)
    current, count = _release_ids(root)
    manifest = {
        "format": FORMAT, "database": kind, "file": target.name, "schema_version": len(MIGRATIONS),
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "current_release": current, "releases": count,
    }  # fmt: skip
    (dest / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def home_contents(home: Path | None = None) -> list[str]:
    """What the home holds already (empty list: nothing a restore would overwrite)."""
    from pipeline.stages import releases_root

    store = open_store(home)
    try:
        found = [f"{n} {what}" for n, what in (
            (len(store.list_sources()), "sources"), (len(store.artefacts()), "artefacts"), (len(store.users()), "users"),
        ) if n]  # fmt: skip
    finally:
        store.close()
    root = releases_root(home)
    if root.is_dir() and any(root.iterdir()):
        found.append(f"a releases folder ({root})")
    return found


def read_manifest(src: Path) -> dict[str, Any]:
    """The manifest of a backup folder, or BackupError naming what is wrong."""
    try:
        manifest = json.loads((src / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(f"{src}: not a practice backup ({MANIFEST} missing)") from None
    except (OSError, ValueError) as exc:
        raise BackupError(f"{src / MANIFEST}: unreadable: {exc}") from None
    if manifest.get("format") != FORMAT or manifest.get("database") not in DATABASE_FILE:
        raise BackupError(f"{src / MANIFEST}: unknown backup format {manifest.get('format')!r} / database {manifest.get('database')!r}")
    if not (src / manifest["file"]).is_file():
        raise BackupError(f"{src}: the database file {manifest['file']} is missing")
    return manifest


def restore(src: Path, home: Path | None = None, force: bool = False, lease: Lease | None = None) -> dict[str, Any]:
    """Replace the store and the releases of `home` by the backup in `src`; returns its manifest.

    Refuses a home that holds anything unless `force`. `lease`, the caller's writer lease, is
    written back into the restored store (which has none) so that the caller still holds it.
    """
    from pipeline.stages import releases_root

    manifest = read_manifest(src)
    kind, where = store_location(home)
    if manifest["database"] != kind:
        raise BackupError(f"{src} is a {manifest['database']} backup and this store is {kind}: restore into the same kind")
    found = home_contents(home)
    if found and not force:
        raise BackupError(f"the store is not empty ({', '.join(found)}): restore refuses to overwrite it without --force")
    data = src / manifest["file"]
    if kind == "sqlite":
        # The backup API writes into the live file under SQLite's own locks: a reader sees the old
        # database or the restored one, and the WAL stays consistent with the file.
        with closing(sqlite3.connect(data)) as source, closing(sqlite3.connect(where)) as live:
            source.backup(live)
    else:
        _pg([pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error",
             "--dbname", where, str(data)])  # fmt: skip
    store = open_store(home)  # migrates a backup taken before newer migrations
    try:
        if lease is not None:
            store.acquire_lease(lease, time.time())
    finally:
        store.close()
    _replace_releases(src / RELEASES, releases_root(home))
    return manifest


def _replace_releases(backup_root: Path, root: Path) -> None:
    """Put the backup's releases folder in place of `root` (copied beside it first, then swapped)."""
    incoming, outgoing = root.with_name(root.name + ".restoring"), root.with_name(root.name + ".replaced")
    for leftover in (incoming, outgoing):
        shutil.rmtree(leftover, ignore_errors=True)
    if backup_root.is_dir():
        shutil.copytree(backup_root, incoming, symlinks=True)
    if root.exists():
        os.replace(root, outgoing)
    if incoming.exists():
        os.replace(incoming, root)
    shutil.rmtree(outgoing, ignore_errors=True)
