"""The review audit log (reviewers): GET /api/audit and the audit page, over visible artefacts only."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from pipeline import review as review_ops
from pipeline.models import Artefact, ReviewEvent
from pipeline.shapes import event_json
from pipeline.users import User
from web.html import render
from web.state import practice

router = APIRouter()
RELEASE_ACTIONS = ("publish", "rollback")  # events whose artefact_id is a release id (pipeline.publish.record_release)


def _visible_events(store: Any, user: User | None, events: list[ReviewEvent]) -> list[tuple[ReviewEvent, Artefact | None]]:
    """The events about artefacts the viewer may see, each with its artefact (read once per artefact)."""
    seen: dict[str, Artefact | None] = {}
    out = []
    for e in events:
        if e.action in RELEASE_ACTIONS:  # about a release, not an artefact: every reviewer sees these
            out.append((e, None))
            continue
        if e.artefact_id not in seen:
            a = store.get_artefact(e.artefact_id)
            seen[e.artefact_id] = a if a is not None and review_ops.visible(a, user) else None
        if seen[e.artefact_id] is not None:
            out.append((e, seen[e.artefact_id]))
    return out  # type: ignore[return-value]


@router.get("/api/audit", tags=["review"], summary="The review audit log, newest first")
def api_audit(
    request: Request,
    artefact_id: str | None = Query(None, max_length=128),
    limit: int = Query(200, ge=1, le=1000),
) -> list[dict[str, Any]]:
    with practice(request).api(request, "reviewer") as (store, user):
        events = review_ops.audit_log(store, artefact_id=artefact_id, limit=limit)
        return [event_json(e) for e, _ in _visible_events(store, user, events)]


@router.get("/audit", include_in_schema=False)
def audit_page(request: Request) -> Response:
    with practice(request).web(request, "reviewer") as w:
        events = _visible_events(w.store, w.user, review_ops.audit_log(w.store, limit=300))
        return render(w, "audit.html", {"events": events})
