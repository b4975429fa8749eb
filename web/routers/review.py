"""Review through the JSON API: the queue, the actions on one artefact, bulk actions.

The rules (what each status allows, reasons, what a repeat does) are `pipeline.review`'s; a refusal
comes back as its `ReviewError`, which web.app turns into a 404/409.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from fastapi import APIRouter, Query, Request
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
    kind: Literal["faq", "pattern"] | None = None,
    community: str | None = Query(None, max_length=200),
    status: Literal["candidate", "approved", "rejected", "merged", "stale"] = "candidate",
    limit: int = Query(50, ge=1, le=500),
) -> list[dict[str, Any]]:
    with practice(request).api(request, "reviewer") as (store, user):
        assert user is not None
        queue = review_ops.review_queue(store, user, kind=kind, community=community, status=status, limit=limit)
        return views.items(store, queue, user)


def _act(request: Request, artefact_id: str, op: Callable[[Any, str], Any], need: Need = "reviewer") -> dict[str, Any]:
    with practice(request).api(request, need) as (store, user):
        assert user is not None
        views.get_visible(store, user, artefact_id)
        result = op(store, user.name)
        if isinstance(result, tuple):
            return {"source": views.items(store, [result[0]], user)[0], "target": views.items(store, [result[1]], user)[0]}
        return views.items(store, [result], user)[0]


@router.post("/api/artefacts/{artefact_id}/approve", tags=["review"], summary="Approve")
def api_approve(request: Request, artefact_id: str, body: NoteBody | None = None) -> dict[str, Any]:
    note = body.note if body else None
    return _act(request, artefact_id, lambda s, actor: review_ops.approve(s, artefact_id, actor, note=note))


@router.post("/api/artefacts/{artefact_id}/reject", tags=["review"], summary="Reject (a reason is required)")
def api_reject(request: Request, artefact_id: str, body: RejectBody) -> dict[str, Any]:
    return _act(request, artefact_id, lambda s, actor: review_ops.reject(s, artefact_id, actor, body.reason))


@router.post("/api/artefacts/{artefact_id}/edit", tags=["review"], summary="Edit the text fields")
def api_edit(request: Request, artefact_id: str, body: EditBody) -> dict[str, Any]:
    changes = body.model_dump(include=set(EDIT_FIELDS), exclude_none=True)
    if not changes:
        raise HTTPException(422, f"nothing to change: give one of {', '.join(EDIT_FIELDS)}")
    return _act(request, artefact_id, lambda s, actor: review_ops.edit(s, artefact_id, actor, changes, note=body.note))


@router.post("/api/artefacts/{artefact_id}/merge", tags=["review"], summary="Fold this artefact into another")
def api_merge(request: Request, artefact_id: str, body: MergeBody) -> dict[str, Any]:
    with practice(request).api(request, "reviewer") as (store, user):
        assert user is not None
        views.get_visible(store, user, artefact_id)
        views.get_visible(store, user, body.into)  # the target must be visible too
        target = review_ops.merge(store, artefact_id, body.into, user.name, note=body.note)
        return views.items(store, [target], user)[0]


@router.post("/api/artefacts/{artefact_id}/unmerge", tags=["review"], summary="Undo a merge of this artefact")
def api_unmerge(request: Request, artefact_id: str, body: NoteBody | None = None) -> dict[str, Any]:
    note = body.note if body else None
    return _act(request, artefact_id, lambda s, actor: review_ops.unmerge(s, artefact_id, actor, note=note))


@router.post("/api/artefacts/{artefact_id}/stale", tags=["review"], summary="Mark stale (out of date)")
def api_stale(request: Request, artefact_id: str, body: NoteBody | None = None) -> dict[str, Any]:
    note = body.note if body else None
    return _act(request, artefact_id, lambda s, actor: review_ops.mark_stale(s, artefact_id, actor, note=note))


@router.post("/api/artefacts/{artefact_id}/visibility", tags=["review"], summary="Widen visibility (admins, audited)")
def api_widen(request: Request, artefact_id: str, body: WidenBody) -> dict[str, Any]:
    return _act(
        request, artefact_id,
        lambda s, actor: review_ops.widen_visibility(s, artefact_id, actor, body.visibility, body.note),
        need="admin",
    )  # fmt: skip


@router.post("/api/review/bulk", tags=["review"], summary="Approve, reject or mark stale many artefacts")
def api_bulk(request: Request, body: BulkBody) -> list[dict[str, Any]]:
    with practice(request).api(request, "reviewer") as (store, user):
        assert user is not None
        for artefact_id in body.ids:
            views.get_visible(store, user, artefact_id)
        done = review_ops.bulk(store, body.action, body.ids, user.name, reason=body.reason)
        return views.items(store, done, user)
