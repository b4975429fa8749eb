"""Review through the JSON API: the queue, the actions on one artefact, bulk actions.

The rules (what each status allows, reasons, what a repeat does) are `pipeline.review`'s; a refusal
comes back as its `ReviewError`, which web.app turns into a 404/409.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Request, Response
from starlette.exceptions import HTTPException

from pipeline import review as review_ops
from web import views
from web.auth import Need
from web.bodies import EDIT_FIELDS, BulkBody, EditBody, MergeBody, NoteBody, RejectBody, WidenBody
from web.state import practice

router = APIRouter()


@router.get("/api/queue", tags=["review"], summary="The review queue, ordered by impact")
def api_queue(
    request: Request,
    response: Response,
    kind: Literal["faq", "pattern"] | None = None,
    community: str | None = Query(None, max_length=200),
    status: Literal["candidate", "approved", "rejected", "merged", "stale"] = "candidate",
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0),
) -> list[dict[str, Any]]:
    """One page of the queue; the header X-Total-Count says how many match the filters."""
    with practice(request).api(request, "reviewer") as (store, user):
        assert user is not None
        page = review_ops.queue_page(store, user, kind, community, status, limit, offset)
        response.headers["X-Total-Count"] = str(page.total)
        return views.items(store, page.items, user)


def _act(request: Request, artefact_id: str, action: str, need: Need = "reviewer", **args: Any) -> dict[str, Any]:
    """Run one action through the review core; the artefact(s) after it, with `changed` and `message`."""
    with practice(request).api(request, need) as (store, user):
        assert user is not None
        views.get_visible(store, user, artefact_id)
        if "target_id" in args:
            views.get_visible(store, user, args["target_id"])  # the target must be visible too
        outcome = review_ops.act(store, artefact_id, action, user.name, **args)
        if isinstance(outcome.result, tuple):
            source, target = views.items(store, list(outcome.result), user)
            data = {"source": source, "target": target}
        else:
            data = views.items(store, [outcome.result], user)[0]
        return {**data, "changed": outcome.changed, "message": outcome.message}


@router.post("/api/artefacts/{artefact_id}/approve", tags=["review"], summary="Approve")
def api_approve(request: Request, artefact_id: str, body: NoteBody | None = None) -> dict[str, Any]:
    return _act(request, artefact_id, "approve", note=body.note if body else None)


@router.post("/api/artefacts/{artefact_id}/reject", tags=["review"], summary="Reject (a reason is required)")
def api_reject(request: Request, artefact_id: str, body: RejectBody) -> dict[str, Any]:
    return _act(request, artefact_id, "reject", reason=body.reason)


@router.post("/api/artefacts/{artefact_id}/edit", tags=["review"], summary="Edit the text fields")
def api_edit(request: Request, artefact_id: str, body: EditBody) -> dict[str, Any]:
    changes = body.model_dump(include=set(EDIT_FIELDS), exclude_none=True)
    if not changes:
        raise HTTPException(422, f"nothing to change: give one of {', '.join(EDIT_FIELDS)}")
    return _act(request, artefact_id, "edit", changes=changes, note=body.note)


@router.post("/api/artefacts/{artefact_id}/merge", tags=["review"], summary="Fold this artefact into another")
def api_merge(request: Request, artefact_id: str, body: MergeBody) -> dict[str, Any]:
    return _act(request, artefact_id, "merge", target_id=body.into, note=body.note)


@router.post("/api/artefacts/{artefact_id}/unmerge", tags=["review"], summary="Undo a merge of this artefact")
def api_unmerge(request: Request, artefact_id: str, body: NoteBody | None = None) -> dict[str, Any]:
    return _act(request, artefact_id, "unmerge", note=body.note if body else None)


@router.post("/api/artefacts/{artefact_id}/stale", tags=["review"], summary="Mark stale (out of date)")
def api_stale(request: Request, artefact_id: str, body: NoteBody | None = None) -> dict[str, Any]:
    return _act(request, artefact_id, "stale", note=body.note if body else None)


@router.post("/api/artefacts/{artefact_id}/visibility", tags=["review"], summary="Widen visibility (admins, audited)")
def api_widen(request: Request, artefact_id: str, body: WidenBody) -> dict[str, Any]:
    return _act(request, artefact_id, "visibility", need="admin", visibility=body.visibility, note=body.note)


@router.post("/api/review/bulk", tags=["review"], summary="Approve, reject or mark stale many artefacts")
def api_bulk(request: Request, body: BulkBody) -> list[dict[str, Any]]:
    with practice(request).api(request, "reviewer") as (store, user):
        assert user is not None
        for artefact_id in body.ids:
            views.get_visible(store, user, artefact_id)
        outcomes = review_ops.act_many(store, body.action, body.ids, user.name, reason=body.reason)
        rows = views.items(store, [o.result for o in outcomes], user)
        return [{**row, "changed": o.changed, "message": o.message} for row, o in zip(rows, outcomes)]
