"""Bulk actions on a filtered set of the queue: count first, then do exactly what was counted.

`plan_bulk` counts the artefacts the queue's filters match (every page, as the viewer sees them)
and which of them the action would change; it writes nothing and returns a token naming that set.
`run_bulk` does the action only when the token still names the set the filters match now: if an
artefact came or went in between, it refuses, and the reviewer counts again. So "Reject 37
artefacts matching status candidate, kind faq? [Confirm]" rejects those 37 and no others.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from pipeline.review import BULK_ACTIONS, NotAllowed, Outcome, ReviewError, act_many, check, queue_page
from pipeline.store import Store
from pipeline.users import User

VERBS = {"approve": "Approve", "reject": "Reject", "stale": "Mark stale"}
ALL = 10**9  # every page of the queue


class PlanChanged(ReviewError):
    """The filtered set changed between the count and the confirmation."""


@dataclass(frozen=True)
class Filters:
    """The queue's filters (None: any)."""

    kind: str | None = None
    community: str | None = None
    status: str = "candidate"

    def describe(self) -> str:
        """'status candidate, kind faq, community search'."""
        parts = [f"status {self.status}"]
        parts += [f"kind {self.kind}"] if self.kind else []
        parts += [f"community {self.community}"] if self.community else []
        return ", ".join(parts)


@dataclass(frozen=True)
class BulkPlan:
    """What a bulk action on a filtered set would do: the artefacts it changes, those it leaves (why)."""

    action: str
    filters: Filters
    matching: int
    ids: list[str]
    skipped: dict[str, str] = field(default_factory=dict)  # artefact id -> why the action leaves it

    @property
    def token(self) -> str:
        """Names this exact set (and action): the confirmation must send it back."""
        text = "\n".join([self.action, self.filters.describe(), *self.ids])
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def question(self) -> str:
        """The confirmation question, e.g. 'Reject 37 artefacts matching status candidate, kind faq?'."""
        left = f" ({len(self.skipped)} of the {self.matching} matching are left as they are)" if self.skipped else ""
        noun = "artefact" if len(self.ids) == 1 else "artefacts"
        return f"{VERBS[self.action]} {len(self.ids)} {noun} matching {self.filters.describe()}?{left}"

    def to_json(self) -> dict[str, object]:
        """The API's shape of a plan."""
        return {
            "action": self.action, "filters": self.filters.__dict__, "matching": self.matching,
            "count": len(self.ids), "ids": self.ids, "skipped": self.skipped, "token": self.token,
            "question": self.question(),
        }  # fmt: skip


def plan_bulk(store: Store, viewer: User | None, action: str, filters: Filters, reason: str | None = None) -> BulkPlan:
    """Count what `action` would do to every artefact the filters match (nothing is written).

    Refuses an action that is not a bulk one, and a rejection without a reason, before any count."""
    if action not in BULK_ACTIONS:
        raise ReviewError(f"bulk action must be one of {', '.join(BULK_ACTIONS)}, not {action!r}")
    if action == "reject" and not (reason or "").strip():
        raise ReviewError("a rejection needs a reason")
    page = queue_page(store, viewer, filters.kind, filters.community, filters.status, limit=ALL)
    ids, skipped = [], {}
    for a in page.items:
        try:
            if not check(a, action):
                skipped[a.id] = f"already {a.status.value}"
            elif action == "approve" and not a.evidence:
                skipped[a.id] = "no evidence left"
            else:
                ids.append(a.id)
        except NotAllowed as exc:
            skipped[a.id] = str(exc)
    return BulkPlan(action, filters, page.total, ids, skipped)


def run_bulk(
    store: Store, viewer: User | None, actor: str, action: str, filters: Filters, token: str, reason: str | None = None
) -> list[Outcome]:
    """Do the counted action, if `token` still names the set the filters match; one action to undo."""
    plan = plan_bulk(store, viewer, action, filters, reason)
    if token != plan.token:
        raise PlanChanged(f"the artefacts matching {filters.describe()} changed since they were counted: "
                          f"{plan.question()} Count again before confirming.")  # fmt: skip
    return act_many(store, action, plan.ids, actor, (reason or "").strip() or None)
