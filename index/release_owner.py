"""Who owns a release build folder, and the removal of folders whose owner is dead.

A publisher builds a release in `releases/.tmp-<hex>/` and, beside it, keeps
`releases/.tmp-<hex>.owner`: JSON with its pid, host, run id and start time, and an exclusive
`flock` on that file for as long as the build lasts. The kernel drops the lock when the process
dies, however it dies (SIGKILL included), so "can I take the lock?" says whether the owner is
alive without trusting pids that may have been reused. A build folder with no owner file
comes from a version that wrote none, or from a crash before the build started: dead.
Owners on another host (a shared folder) are judged by age instead, as locks across hosts
are not always honoured.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import socket
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

TMP_PREFIX = ".tmp-"
OWNER_SUFFIX = ".owner"
FOREIGN_STALE_SECONDS = 24 * 3600  # a build folder owned from another host, left alone this long
RUN_ID_ENV = "PRACTICE_RUN_ID"


def _owner_file(folder: Path) -> Path:
    return folder.with_name(folder.name + OWNER_SUFFIX)


@contextlib.contextmanager
def build_folder(root: Path) -> Iterator[Path]:
    """A fresh `.tmp-*` folder under root, owned (locked) by this process until the block ends.

    The folder is removed at the end unless the caller renamed it away (into a release).
    """
    folder = root / f"{TMP_PREFIX}{uuid.uuid4().hex}"
    owner = _owner_file(folder)
    with open(owner, "w", encoding="utf-8") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        record = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "run_id": os.environ.get(RUN_ID_ENV) or uuid.uuid4().hex,
            "started_at": datetime.now(timezone.utc).isoformat(),
        }
        fh.write(json.dumps(record) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
        folder.mkdir()
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)
            owner.unlink(missing_ok=True)  # still locked by us: nobody judges it dead meanwhile


def owner_alive(folder: Path) -> bool:
    """Whether the process that owns a build folder is still running (see the module docstring)."""
    owner = _owner_file(folder)
    try:
        fh = open(owner, "r+", encoding="utf-8")
    except FileNotFoundError:
        return False
    with fh:
        try:
            record = json.loads(fh.read() or "{}")
        except ValueError:
            record = {}
        if record.get("host") not in (None, socket.gethostname()):
            with contextlib.suppress(OSError):
                return time.time() - owner.stat().st_mtime < FOREIGN_STALE_SECONDS
            return False
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        return False


def remove_dead_builds(root: Path) -> tuple[list[str], list[str]]:
    """Delete every `.tmp-*` build folder (and owner file) whose owner is dead, at once.

    Returns (removed, kept) folder names; a live owner's folder is kept.
    """
    removed, kept = [], []
    if not root.is_dir():
        return removed, kept
    for path in sorted(root.glob(f"{TMP_PREFIX}*")):
        if path.name.endswith(OWNER_SUFFIX):
            folder = path.with_name(path.name[: -len(OWNER_SUFFIX)])
            if not folder.exists() and not owner_alive(folder):
                path.unlink(missing_ok=True)  # the owner died between writing this and the mkdir
            continue
        if not path.is_dir():
            continue
        if owner_alive(path):
            kept.append(path.name)
            continue
        shutil.rmtree(path, ignore_errors=True)
        _owner_file(path).unlink(missing_ok=True)
        removed.append(path.name)
    return removed, kept
