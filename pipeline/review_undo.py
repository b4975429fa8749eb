"""Undo a reviewer's last action: an audited inverse that puts back what that action changed.

What "the last action" is: the reviewer's newest event in the review log (a bulk action's events
share one time, so a bulk action is one action). Undo writes its own events (action "undo", the
note naming what it undid); the undone events stay in the log, which is append-only.

- approve, reject, stale, edit, visibility: the fields the action changed (status, edited text,
  visibility) get their previous values back, on each artefact whose fields still read as that
  action left them; an artefact changed since (by another reviewer or a stage) is left as it is,
  and undo says so (all of them changed: undo is refused).
- merge: undone by an unmerge (both artefacts come back as they were; logged as "unmerge").
- unmerge and undo are not undone (one level of undo): merge again, or act again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pipeline.models import Artefact, ReviewEvent, utcnow
from pipeline.review import (
    DONE, EDITABLE, NotAllowed, Outcome, ReviewError, _get, _optimistic, _record, unmerge,
)  # fmt: skip
from pipeline.store import Store

# The fields a review action may change, and so the ones undo may put back.
RESTORABLE = ("status", "status_before_stale", "visibility", "visibility_widened", "text_edited", *EDITABLE)
# Actions that count as "the last action" (a publish or a rollback is not a review action).
REVIEW_ACTIONS = ("approve", "reject", "stale", "edit", "merge", "unmerge", "widen_visibility", "undo")
SCAN = 2000  # how far back in the log (all reviewers' events) the reviewer's last action is looked for


class NothingToUndo(ReviewError):
    """The reviewer has no action left to undo."""


@dataclass(frozen=True)
class LastAction:
    """A reviewer's newest action: its name, time and events (one per artefact it touched)."""

    action: str
    at: datetime
    events: list[ReviewEvent]

    @property
    def artefact_ids(self) -> list[str]:
        """The artefacts the action touched, in log order."""
        return list(dict.fromkeys(e.artefact_id for e in self.events))

    def describe(self) -> str:
        """How the UI names it: 'reject of "Title"' or 'reject of 37 artefacts'."""
        verb = "visibility" if self.action == "widen_visibility" else self.action
        if self.action == "merge" or len(self.artefact_ids) == 1:
            title = _title((self.events[-1].after or {}))
            return f"{verb} of “{title}”"
        return f"{verb} of {len(self.artefact_ids)} artefacts"

    def undoable(self) -> bool:
        """Whether undo offers to take it back (see the module docstring)."""
        return self.action not in ("undo", "unmerge")


def _title(snapshot: dict[str, Any]) -> str:
    return str(snapshot.get("question") or snapshot.get("name") or snapshot.get("id") or "")


def last_action(store: Store, actor: str) -> LastAction | None:
    """The reviewer's newest review action (None if they have none among the newest `SCAN` events)."""
    for limit in (50, 500, SCAN):  # the queue page asks on every load: read the log's tail first
        events = store.review_events(None, limit)
        mine = [e for e in events if e.actor == actor and e.action in REVIEW_ACTIONS]
        # a group read whole: its last event is not the oldest one read (or the log ends here)
        if mine and (len(events) < limit or any(e.at != mine[0].at for e in mine)):
            break
        if len(events) < limit:
            return None
    if not mine:
        return None
    first = mine[0]
    group = [e for e in mine if e.at == first.at and e.action == first.action]
    return LastAction(first.action, first.at, list(reversed(group)))


def _restored(current: Artefact, event: ReviewEvent) -> Artefact | None:
    """`current` with the fields `event` changed put back; None if one of them changed since."""
    before, after = event.before or {}, event.after or {}
    changed = [k for k in RESTORABLE if before.get(k) != after.get(k)]
    now = current.model_dump(mode="json")
    if any(now.get(k) != after.get(k) for k in changed):
        return None
    # updated_at too: the queue orders by recency, so the artefact goes back to its place in it
    restored = {k: before.get(k) for k in changed}
    return Artefact.model_validate({**now, **restored, "updated_at": before.get("updated_at") or utcnow().isoformat()})


@_optimistic
def undo(store: Store, actor: str) -> Outcome:
    """Undo `actor`'s last review action (see the module docstring); the outcome names what was undone."""
    last = last_action(store, actor)
    if last is None:
        raise NothingToUndo(f"{actor} has no review action to undo")
    if last.action == "undo":
        raise NotAllowed("your last action was an undo: there is one level of undo, act again instead")
    if last.action == "unmerge":
        raise NotAllowed("an unmerge is not undone: merge the two artefacts again")
    what = last.describe()
    if last.action == "merge":
        source = next(e.artefact_id for e in last.events if (e.after or {}).get("status") == "merged")
        pair = unmerge(store, source, actor, note=f"undo of {what}")
        return Outcome(pair, True, f"Undone: {what} (unmerged)")
    pairs, left = [], []
    for e in last.events:
        current = _get(store, e.artefact_id)
        restored = _restored(current, e)
        if restored is None:
            left.append(e.artefact_id)
        else:
            pairs.append((current, restored))
    if not pairs:
        raise NotAllowed(f"cannot undo {what}: changed since by someone else ({', '.join(left)})")
    _record(store, actor, "undo", pairs, f"undo of {DONE.get(last.action, last.action)} at {last.at.isoformat()}")
    kept = f"; {len(left)} changed since and left as they are ({', '.join(left)})" if left else ""
    return Outcome([new for _, new in pairs], True, f"Undone: {what}{kept}")
