"""Reviewer actions: one implementation behind the CLI, the JSON API and the web UI.

Every action writes the changed artefacts and an audit event (actor, action, before, after, note)
in one transaction. The log is append-only; the current status follows from the actions in it.
Decisions survive re-extraction because the dedupe stage never changes the text or status of a
reviewed artefact (pipeline/artefacts.py), and reach the index at the next publish.

Which actions each status offers is one table, `ACTIONS`; the CLI, the API and the web UI offer
and accept exactly those (`offered`, `act`). Repeating an action that puts an artefact in a status
it already has, or an edit that changes nothing, is a no-op: no write, no audit row, a message.

Writes are optimistic both ways: an action writes only over the versions of the artefacts it
read, and is redone from a fresh read when a stage (or another reviewer) wrote one meanwhile.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from pipeline.artefacts import refresh
from pipeline.models import Artefact, ArtefactStatus, ReviewEvent, utcnow
from pipeline.store import ArtefactConflict, Store
from pipeline.users import User, can_review, can_see, is_admin

EDITABLE = ("question", "answer", "name", "context", "problem", "recommendation", "items")


class ReviewError(Exception):
    """A review action that cannot be done; the message is safe to show (an HTTP 4xx)."""


class NotFound(ReviewError):
    """No such artefact (or not visible to the caller)."""


class NotAllowed(ReviewError):
    """The artefact's status does not offer this action (e.g. approving a merged artefact)."""


S = ArtefactStatus
# The review state machine: the actions each status offers. "visibility" (widening who may see,
# an admin's audited decision) is offered wherever the artefact can still be published.
ACTIONS: dict[ArtefactStatus, tuple[str, ...]] = {
    S.candidate: ("approve", "reject", "stale", "edit", "merge", "visibility"),
    S.approved: ("reject", "stale", "edit", "merge", "visibility"),
    S.rejected: ("approve", "edit", "visibility"),  # a reviewer may overturn a rejection
    S.stale: ("approve", "reject", "edit", "merge", "visibility"),
    S.merged: ("unmerge",),  # everything else happens on the artefact it was merged into
}
# Actions that put an artefact in a status: from that status, repeating one is a no-op.
REACHES: dict[str, ArtefactStatus] = {"approve": S.approved, "reject": S.rejected, "stale": S.stale}
BULK_ACTIONS = ("approve", "reject", "stale")  # what a bulk action may do (to one selection or a filtered set)
DONE: dict[str, str] = {
    "approve": "approved", "reject": "rejected", "stale": "marked stale", "edit": "edited",
    "merge": "merged", "unmerge": "unmerged", "visibility": "visibility widened",
}  # fmt: skip


def offered(a: Artefact, viewer: User | None) -> tuple[str, ...]:
    """The actions a viewer may take on an artefact now: its status's, within the viewer's role."""
    if not can_review(viewer):
        return ()
    return tuple(x for x in ACTIONS[a.status] if x != "visibility" or is_admin(viewer))


def check(a: Artefact, action: str) -> bool:
    """Whether `action` would change `a`: False for a repeat; NotAllowed if its status does not offer it."""
    if REACHES.get(action) == a.status:
        return False
    if action not in ACTIONS[a.status]:
        if a.status == S.merged:
            raise NotAllowed(f"artefact {a.id} is already merged into {a.merged_into}: unmerge it first")
        possible = ", ".join(ACTIONS[a.status])
        why = "is not merged" if action == "unmerge" else f"is {a.status.value}: {action} is not possible from there"
        raise NotAllowed(f"artefact {a.id} {why} (possible: {possible})")
    return True


@dataclass(frozen=True)
class Outcome:
    """What one action did: the artefact(s) after it, whether anything changed, a message for people."""

    result: Any  # an Artefact; merge: the target; unmerge: (source, target)
    changed: bool
    message: str


# Messages of no-op decisions taken inside the running `act` (None outside one).
_noops: ContextVar[list[str] | None] = ContextVar("_noops", default=None)


def _unchanged(a: Artefact, message: str) -> Artefact:
    """Decide a no-op: nothing written, no audit row; `act` reports the message."""
    notes = _noops.get()
    if notes is not None:
        notes.append(message)
    return a


ATTEMPTS = 5  # an action redone this often without getting through is refused (HTTP 409)
T = TypeVar("T")
# The version of each artefact the running action read: its write is checked against them.
_read_versions: ContextVar[dict[str, int] | None] = ContextVar("_read_versions", default=None)


def _optimistic(action: Callable[..., T]) -> Callable[..., T]:
    """Run a review action against the versions it reads; redo it if one changed before its write."""

    @functools.wraps(action)
    def run(*args: Any, **kwargs: Any) -> T:
        if _read_versions.get() is not None:  # nested in another action: that one retries
            return action(*args, **kwargs)
        for _ in range(ATTEMPTS):
            token = _read_versions.set({})
            try:
                return action(*args, **kwargs)
            except ArtefactConflict:
                continue  # a stage or another reviewer wrote meanwhile: read again, decide again
            finally:
                _read_versions.reset(token)
        raise ReviewError("the artefact kept changing while this action ran: try again")

    return run


def _get(store: Store, artefact_id: str) -> Artefact:
    found = store.versioned_artefacts([artefact_id]).get(artefact_id)
    if found is None:
        raise NotFound(f"no artefact {artefact_id!r}")
    versions = _read_versions.get()
    if versions is not None:
        versions.setdefault(artefact_id, found[1])  # the first read is what the decision rests on
    return found[0]


def _snapshot(a: Artefact) -> dict[str, Any]:
    return a.model_dump(mode="json")


# The time of the running batch (see `one_action`): its events share it, so undo takes them back together.
_stamp: ContextVar[datetime | None] = ContextVar("_stamp", default=None)


@contextmanager
def one_action() -> Iterator[None]:
    """Stamp every event written inside with one time: a bulk action is one action to undo."""
    token = _stamp.set(utcnow())
    try:
        yield
    finally:
        _stamp.reset(token)


def _record(store: Store, actor: str, action: str, pairs: list[tuple[Artefact, Artefact]], note: str | None) -> None:
    """Save the new versions and one event per artefact (before/after snapshots), stamped alike."""
    at = _stamp.get() or utcnow()  # one action, one time: unmerge finds a merge's two halves by it
    events = [
        ReviewEvent(at=at, actor=actor, action=action, artefact_id=new.id, before=_snapshot(old), after=_snapshot(new), note=note)
        for old, new in pairs
    ]
    versions = _read_versions.get()
    store.save_review([new for _, new in pairs], events, versions)


def _set_status(store: Store, artefact_id: str, actor: str, status: ArtefactStatus, action: str, note: str | None) -> Artefact:
    old = _get(store, artefact_id)
    if not check(old, action):
        return _unchanged(old, f"artefact {artefact_id} is already {status.value}: nothing changed")
    new = old.model_copy(update={"status": status, "status_before_stale": None, "updated_at": utcnow()})
    _record(store, actor, action, [(old, new)], note)
    return new


@_optimistic
def approve(store: Store, artefact_id: str, actor: str, note: str | None = None) -> Artefact:
    """Approve: the artefact is published at the next publish."""
    a = _get(store, artefact_id)
    if not a.evidence and check(a, "approve"):
        raise ReviewError(f"artefact {artefact_id} has no evidence left: nothing to approve")
    return _set_status(store, artefact_id, actor, ArtefactStatus.approved, "approve", note)


@_optimistic
def reject(store: Store, artefact_id: str, actor: str, reason: str) -> Artefact:
    """Reject with a reason (required: it is what the next reviewer reads)."""
    if check(_get(store, artefact_id), "reject") and not (reason or "").strip():
        raise ReviewError("a rejection needs a reason")
    return _set_status(store, artefact_id, actor, ArtefactStatus.rejected, "reject", (reason or "").strip())


@_optimistic
def mark_stale(store: Store, artefact_id: str, actor: str, note: str | None = None) -> Artefact:
    """Mark an artefact stale by hand (outdated advice): it leaves the index at the next publish."""
    # No status_before_stale: it is what dedupe restores when evidence comes back, and a
    # reviewer's "outdated" is not undone by evidence.
    return _set_status(store, artefact_id, actor, ArtefactStatus.stale, "stale", note)


@_optimistic
def edit(store: Store, artefact_id: str, actor: str, changes: dict[str, Any], note: str | None = None) -> Artefact:
    """Change the text of an artefact; the previous text stays in the log (revision history)."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ReviewError(f"cannot edit {', '.join(sorted(unknown))}: editable fields are {', '.join(EDITABLE)}")
    old = _get(store, artefact_id)
    check(old, "edit")
    if "items" in changes and not isinstance(changes["items"], list):
        raise ReviewError("items must be a list of strings")
    if all(getattr(old, k) == v for k, v in changes.items()):
        return _unchanged(old, f"artefact {artefact_id} already reads so: nothing changed")
    new = old.model_copy(update={**changes, "text_edited": True, "updated_at": utcnow()})
    if not new.title.strip():
        raise ReviewError("an artefact needs a question (FAQ) or a name (pattern)")
    _record(store, actor, "edit", [(old, new)], note)
    return new


@_optimistic
def merge(store: Store, source_id: str, target_id: str, actor: str, note: str | None = None) -> Artefact:
    """Fold `source` into `target`: evidence and support combine; the source is kept as merged (reversible)."""
    if source_id == target_id:
        raise ReviewError("cannot merge an artefact into itself")
    source, target = _get(store, source_id), _get(store, target_id)
    check(source, "merge")
    if target.status == ArtefactStatus.merged:
        raise NotAllowed(f"artefact {target.id} is already merged into {target.merged_into}: merge into that one")
    if source.kind != target.kind:
        raise ReviewError(f"cannot merge a {source.kind.value} into a {target.kind.value}")
    members = _candidates(store, [*target.candidate_ids, *source.candidate_ids])
    merged_target = refresh(
        target.model_copy(update={"candidate_ids": [c.id for c in members]}),
        members, *_context(store, members),
    )  # fmt: skip
    merged_source = source.model_copy(
        update={"status": ArtefactStatus.merged, "merged_into": target.id, "candidate_ids": [], "updated_at": utcnow()}
    )
    # Target first: saving it claims the source's candidates in the membership table.
    _record(store, actor, "merge", [(target, merged_target), (source, merged_source)], note)
    return merged_target


@_optimistic
def unmerge(store: Store, source_id: str, actor: str, note: str | None = None) -> tuple[Artefact, Artefact]:
    """Undo the last merge of `source`: both artefacts come back as they were before it."""
    source = _get(store, source_id)
    check(source, "unmerge")
    if not source.merged_into:
        raise ReviewError(f"artefact {source_id} is not merged")
    event = next((e for e in store.review_events(source_id) if e.action == "merge"), None)
    if event is None or event.before is None:
        raise ReviewError(f"no merge of {source_id} in the review log")
    target = _get(store, source.merged_into)
    target_event = next(
        (e for e in store.review_events(target.id) if e.action == "merge" and e.at == event.at), None
    )
    restored_source = Artefact.model_validate(event.before)
    if target_event and target_event.after and target.model_dump(mode="json") == target_event.after:
        # Nothing touched the target since the merge: restore it exactly.
        restored_target = Artefact.model_validate(target_event.before)
    else:
        # The target moved on (new evidence, an edit): take back only what the source brought.
        keep = [c for c in target.candidate_ids if c not in set(restored_source.candidate_ids)]
        members = _candidates(store, keep)
        restored_target = refresh(target.model_copy(update={"candidate_ids": keep}), members, *_context(store, members))
    _record(store, actor, "unmerge", [(target, restored_target), (source, restored_source)], note)
    return restored_source, restored_target


def act(store: Store, artefact_id: str, action: str, actor: str, **args: Any) -> Outcome:
    """Run one action by its name (the UI's and the API's), saying whether it changed anything.

    ``args`` are the action's own: note; reason (reject); changes (edit); target_id (merge);
    visibility (visibility)."""
    operation = OPERATIONS.get(action)
    if operation is None:
        raise ReviewError(f"unknown review action {action!r}: one of {', '.join(OPERATIONS)}")
    notes: list[str] = []
    token = _noops.set(notes)
    try:
        result = operation(store, artefact_id, actor=actor, **args)
    finally:
        _noops.reset(token)
    if notes:
        return Outcome(result, False, notes[-1])
    return Outcome(result, True, f"artefact {artefact_id} {DONE[action]}")


def act_many(store: Store, action: str, ids: Iterable[str], actor: str, reason: str | None = None) -> list[Outcome]:
    """Approve, reject or mark stale many artefacts at once: each change logged, all stamped alike
    (one action to undo); repeats are no-ops."""
    if action not in BULK_ACTIONS:
        raise ReviewError(f"bulk action must be one of {', '.join(BULK_ACTIONS)}, not {action!r}")
    args = {"reason": reason or ""} if action == "reject" else {"note": reason}
    with one_action():
        return [act(store, i, action, actor, **args) for i in ids]


def bulk(store: Store, action: str, ids: Iterable[str], actor: str, reason: str | None = None) -> list[Artefact]:
    """Approve or reject many artefacts at once: the artefacts after it (see `act_many`)."""
    return [o.result for o in act_many(store, action, ids, actor, reason)]


@_optimistic
def widen_visibility(store: Store, artefact_id: str, actor: str, visibility: str, note: str) -> Artefact:
    """Set an artefact's visibility explicitly (an admin's audited decision; it survives dedupe)."""
    if not note or not note.strip():
        raise ReviewError("widening visibility needs a note saying why")
    old = _get(store, artefact_id)
    check(old, "visibility")
    if old.visibility == visibility and old.visibility_widened == visibility:
        return _unchanged(old, f"artefact {artefact_id} is already visible to {visibility}: nothing changed")
    new = old.model_copy(update={"visibility": visibility, "visibility_widened": visibility, "updated_at": utcnow()})
    _record(store, actor, "widen_visibility", [(old, new)], note.strip())
    return new


OPERATIONS: dict[str, Callable[..., Any]] = {
    "approve": approve, "reject": reject, "stale": mark_stale, "edit": edit,
    "merge": merge, "unmerge": unmerge, "visibility": widen_visibility,
}  # fmt: skip


def audit_log(store: Store, artefact_id: str | None = None, limit: int = 200) -> list[ReviewEvent]:
    """The review log, newest first (optionally for one artefact)."""
    return store.review_events(artefact_id, limit)


def visible(artefact: Artefact, viewer: User | None) -> bool:
    """Whether the viewer may see the artefact (all of its evidence)."""
    return can_see(viewer, artefact.visibility)


def impact(a: Artefact, now: Any = None) -> float:
    """Queue order: support × distinct communities × recency (a month-old item weighs half)."""
    now = now or utcnow()
    age_days = max(0.0, (now - a.updated_at).total_seconds() / 86400)
    support = max(1, a.support.sources) * max(1, a.support.authors) ** 0.5
    return support * max(1, a.support.communities) * math.pow(0.5, age_days / 30)


@dataclass(frozen=True)
class QueuePage:
    """One page of the review queue: `total` items match the filters, `items` start at `offset`."""

    total: int
    offset: int
    items: list[Artefact]


def queue_page(
    store: Store,
    viewer: User | None,
    kind: str | None = None,
    community: str | None = None,
    status: str = "candidate",
    limit: int = 50,
    offset: int = 0,
) -> QueuePage:
    """A page of the artefacts in `status` the viewer may see, most impact first.

    The order is stable: every item's weight decays alike with time, so only an item that changes
    moves; ties go by id."""
    items = [
        a for a in store.artefacts(kind=kind, status=status)
        if visible(a, viewer) and (community is None or community in a.communities)
    ]  # fmt: skip
    now = utcnow()
    items.sort(key=lambda a: (-impact(a, now), a.id))
    return QueuePage(len(items), offset, items[offset : offset + limit])


def review_queue(store: Store, viewer: User | None, *filters: Any, **options: Any) -> list[Artefact]:
    """The first page of `queue_page` (same arguments), as a list."""
    return queue_page(store, viewer, *filters, **options).items


def _candidates(store: Store, ids: list[str]) -> list[Any]:
    by_id = {c.id: c for c in store.candidates()}
    return [by_id[i] for i in dict.fromkeys(ids) if i in by_id]


def _context(store: Store, members: list[Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    passages = store.passages_by_id(e.passage_id for c in members for e in c.evidence)
    sources = {s.id: s for s in store.list_sources()}
    return passages, sources
