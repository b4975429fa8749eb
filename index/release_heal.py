"""Releases that heal: put the releases folder right after a crash, before anything else runs.

A publish records its new release in ``PUBLISHED``, renames the build folder into place, then
switches ``CURRENT``. A crash between the first and the last step leaves ``PUBLISHED`` ahead of
``CURRENT``. `reconcile` (run at the start of every `practice run` and `publish`) then:

- **switches to** the recorded release when it is complete and every checksum holds. Rebuilding
  it would give the same bytes from the same store (the fingerprint covers everything a release
  is built from), so finishing the switch is the cheaper and equally correct choice, and search
  serves the reviewed work at once even if this run fails later. Whatever changed in the store
  since is published by the run's own publish stage, as usual.
- **discards** it when it is missing (the crash came before the rename) or corrupt: the folder is
  deleted and ``PUBLISHED`` falls back to ``CURRENT``, so the next publish, which compares with
  the newest release left, rebuilds it from the store.
- removes at once every ``.tmp-*`` build folder whose owner is dead (`index.release_owner`).

A rollback writes ``PUBLISHED`` too, so a deliberate step back is never undone here. Folders
written before ``PUBLISHED`` existed have none: there a release newer than the last write of
``CURRENT`` can only come from a crash between build and switch (a rollback rewrites
``CURRENT`` after every build it skips), and it is adopted the same way.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from index.release import (
    CURRENT_FILE,
    PUBLISHED_FILE,
    ReleaseError,
    _publish_lock,
    _read_pointer,
    _record_published,
    _switch_current,
    list_releases,
    verify_release,
)
from index.release_owner import remove_dead_builds

__all__ = ["HealReport", "reconcile"]


@dataclass
class HealReport:
    """What `reconcile` repaired (all empty when the folder was already consistent)."""

    switched_to: str | None = None  # a complete release CURRENT now points at
    discarded: list[str] = field(default_factory=list)  # recorded releases missing or corrupt
    reasons: list[str] = field(default_factory=list)  # why each was discarded
    builds_removed: list[str] = field(default_factory=list)  # dead runs' .tmp-* folders
    builds_kept: list[str] = field(default_factory=list)  # live runs' .tmp-* folders

    def to_json(self) -> dict[str, object]:
        """The JSON shape (in the `heal` key of `practice publish --json`)."""
        return asdict(self)


def reconcile(root: str | os.PathLike[str]) -> HealReport:
    """Bring CURRENT in line with the last recorded publish and drop dead runs' build folders."""
    root = Path(root)
    report = HealReport()
    if not root.is_dir():
        return report
    with _publish_lock(root):
        report.builds_removed, report.builds_kept = remove_dead_builds(root)
        current = _read_pointer(root, CURRENT_FILE)
        recorded = _read_pointer(root, PUBLISHED_FILE)
        if recorded is None:  # a folder from before PUBLISHED existed
            recorded = _crashed_before_switch(root, current) or current
            if recorded is None:
                return report  # nothing published yet
            _record_published(root, recorded)
        if recorded == current:
            return report
        try:
            if "/" in recorded or recorded.startswith("."):
                raise ReleaseError(f"{PUBLISHED_FILE} names {recorded!r}, not a release id")
            verify_release(root / recorded)
        except ReleaseError as exc:
            if "/" not in recorded and not recorded.startswith(".") and (root / recorded).is_dir():
                shutil.rmtree(root / recorded, ignore_errors=True)
            report.discarded.append(recorded)
            report.reasons.append(str(exc))
            if current is not None:
                _record_published(root, current)
            else:
                (root / PUBLISHED_FILE).unlink(missing_ok=True)
            return report
        _switch_current(root, recorded)
        report.switched_to = recorded
    return report


def _crashed_before_switch(root: Path, current: str | None) -> str | None:
    """For folders with no PUBLISHED: the newest release when it was built after CURRENT last changed."""
    releases = list_releases(root)
    if not releases or releases[-1].release_id == current:
        return None
    newest = releases[-1]
    try:
        switched_at = (root / CURRENT_FILE).stat().st_mtime
    except FileNotFoundError:
        return newest.release_id  # a first publish that never switched
    try:
        built_at = datetime.fromisoformat(newest.created_at).timestamp()
    except ValueError:
        return None
    return newest.release_id if built_at > switched_at else None
