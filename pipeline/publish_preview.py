"""Publish with a preview and a confirmation, and roll back to the previous release; both audited.

`preview_publish` says what the next publish would add to, remove from and change in the current
release (by artefact, with counts), without building anything. Its `token` names that difference:
`confirm_publish` publishes only while the token still holds, so the release built is the one the
reviewer saw. `rollback_release` makes the release before the current one current again (search
serves it at the next query). The CLI (`practice publish --dry-run`, `practice rollback`), the API
and the web UI all call these.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.publish import PublishReport, publish, record_release, release_payloads
from pipeline.review import ReviewError
from pipeline.settings import PublishSettings
from pipeline.store import Store
from pipeline.users import User, can_see

SHOWN = 50  # artefacts listed per kind of change (the counts are always complete)


class PreviewChanged(ReviewError):
    """What a publish would do changed since the preview that was confirmed."""


@dataclass(frozen=True)
class PublishPreview:
    """What the next publish would do to the current release (as one viewer may see it: `seen_by`)."""

    current: str | None  # the current release id (None before the first publish)
    include_candidates: bool
    before: list[str]  # the visibility of each artefact in the current release
    after: list[str]  # the visibility of each artefact in the release a publish would build
    added: list[dict[str, str]]  # {"id", "kind", "status", "title", "visibility"}
    removed: list[dict[str, str]]
    changed: list[dict[str, str]]
    rolled_back: bool  # the current release is not the newest one built (a rollback is in force)
    current_include_candidates: bool | None = None  # whether the current release holds candidates
    token: str = ""  # names the whole difference (hidden artefacts included): the confirmation sends it back

    def seen_by(self, viewer: User | None) -> PublishPreview:
        """The preview over what `viewer` may see (the token still names the whole difference):
        titles and counts of restricted artefacts are not shown to non-members."""
        def keep(rows: list[dict[str, str]]) -> list[dict[str, str]]:
            return [r for r in rows if can_see(viewer, r["visibility"])]

        return replace(
            self, before=[v for v in self.before if can_see(viewer, v)], after=[v for v in self.after if can_see(viewer, v)],
            added=keep(self.added), removed=keep(self.removed), changed=keep(self.changed),
        )  # fmt: skip

    @property
    def differs(self) -> bool:
        """Whether a publish would change what search serves (as far as this preview shows)."""
        return bool(self.added or self.removed or self.changed)

    def summary(self) -> str:
        """One line: '+3 added, -1 removed, 2 changed: 53 → 55 artefacts'."""
        return (f"+{len(self.added)} added, -{len(self.removed)} removed, {len(self.changed)} changed: "
                f"{len(self.before)} → {len(self.after)} artefacts")  # fmt: skip

    def warnings(self) -> list[str]:
        """What a reviewer must read before confirming: a release that loses most of what search
        serves, or candidates going because the configuration differs from the current release's."""
        out = []
        if self.before and len(self.removed) * 2 > len(self.before):
            out.append(f"This publish removes {len(self.removed)} of the {len(self.before)} artefacts search serves now.")
        if self.current_include_candidates and not self.include_candidates:
            out.append("The current release includes unreviewed candidates; this configuration publishes approved "
                       "artefacts only ([publish] include_candidates in practice.toml).")  # fmt: skip
        return out

    def to_json(self) -> dict[str, Any]:
        """The API's and `practice publish --dry-run --json`'s shape (lists cut at `SHOWN`)."""
        return {
            "current": self.current, "include_candidates": self.include_candidates,
            "before": len(self.before), "after": len(self.after), "differs": self.differs, "rolled_back": self.rolled_back,
            "counts": {"added": len(self.added), "removed": len(self.removed), "changed": len(self.changed)},
            "added": self.added[:SHOWN], "removed": self.removed[:SHOWN], "changed": self.changed[:SHOWN],
            "summary": self.summary(), "warnings": self.warnings(), "token": self.token,
        }  # fmt: skip


def _row(p: dict[str, Any]) -> dict[str, str]:
    title = p.get("question") or p.get("name") or ""
    return {"id": str(p["id"]), "kind": str(p.get("kind")), "status": str(p.get("status")), "title": str(title),
            "visibility": str(p.get("visibility") or "public")}  # fmt: skip


def _token(current: str | None, include_candidates: bool, *rows: list[dict[str, str]]) -> str:
    text = json.dumps([current, include_candidates, [[r["id"] for r in kind] for kind in rows]])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _content(p: dict[str, Any]) -> dict[str, Any]:
    """What a reader sees of a payload: all of it but when it was last written."""
    return {k: v for k, v in p.items() if k != "updated_at"}


def preview_publish(store: Store, releases_root: Path, include_candidates: bool) -> PublishPreview:
    """Compare what a publish would release now with the current release, artefact by artefact."""
    from index.release import current_release, list_releases, read_payloads

    current = current_release(releases_root)
    old = {p["id"]: p for p in read_payloads(current.path)} if current is not None else {}
    _, payloads = release_payloads(store, include_candidates)
    # Compare as stored: a payload read back from the release went through JSON.
    new = {p["id"]: json.loads(json.dumps(p, default=str)) for p in payloads}
    releases = list_releases(releases_root)
    added = [_row(new[i]) for i in new if i not in old]
    removed = [_row(old[i]) for i in old if i not in new]
    changed = [_row(new[i]) for i in new if i in old and _content(new[i]) != _content(old[i])]
    current_id = current.release_id if current else None
    return PublishPreview(
        current=current_id, include_candidates=include_candidates,
        before=[p.get("visibility") or "public" for p in old.values()],
        after=[p.get("visibility") or "public" for p in new.values()],
        added=added, removed=removed, changed=changed,
        rolled_back=bool(current and releases and releases[-1].release_id != current.release_id),
        current_include_candidates=current.include_candidates if current else None,
        token=_token(current_id, include_candidates, added, removed, changed),
    )  # fmt: skip


def confirm_publish(
    store: Store,
    embed: Callable[[list[str]], np.ndarray],
    model_id: str,
    releases_root: Path,
    options: PublishSettings,
    actor: str,
    token: str | None,
) -> PublishReport:
    """Publish what the preview named by `token` showed (None: no preview was asked for), audited.

    After a rollback, a confirmed difference is published even though the newest release
    already holds it (an unattended run would not redo a rolled-back publish)."""
    preview = preview_publish(store, releases_root, options.include_candidates)
    if token is not None and token != preview.token:
        raise PreviewChanged(f"what a publish would do changed since the preview: now {preview.summary()}. Preview again.")
    force = preview.rolled_back and preview.differs
    return publish(
        store, embed, model_id, releases_root, options.include_candidates, options.index, options.keep,
        force=force, actor=actor, note="confirmed after its preview" if token else None,
    )  # fmt: skip


def rollback_release(store: Store, releases_root: Path, actor: str, release_id: str | None = None) -> Any:
    """Make `release_id` (default: the release built before the current one) current; audited.

    Returns its manifest; ReviewError when there is no earlier release to go back to."""
    from index.release import ReleaseError, current_release, list_releases, rollback

    current = current_release(releases_root)
    if current is None:
        raise ReviewError("nothing is published yet: there is no release to roll back")
    if release_id is None:
        ids = [m.release_id for m in list_releases(releases_root)]
        at = ids.index(current.release_id) if current.release_id in ids else 0
        if at == 0:
            raise ReviewError(f"release {current.release_id} is the oldest one kept: there is none before it")
        release_id = ids[at - 1]
    if release_id == current.release_id:
        raise ReviewError(f"release {release_id} is already current")
    try:
        manifest = rollback(releases_root, release_id)
    except (ReleaseError, FileNotFoundError) as exc:
        raise ReviewError(str(exc)) from None
    record_release(store, actor, "rollback", current, manifest, f"rolled back from {current.release_id}")
    return manifest
