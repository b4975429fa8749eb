"""Artefacts a viewer may read: the list, one artefact with its evidence in context, suggestions."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from pipeline import review as review_ops
from pipeline.models import ArtefactStatus
from pipeline.users import can_review
from web import views
from web.html import render
from web.state import practice

router = APIRouter()


@router.get("/api/artefacts", tags=["artefacts"], summary="Artefacts the caller may see, with evidence")
def api_artefacts(
    request: Request,
    kind: Literal["faq", "pattern"] | None = None,
    status: Literal["candidate", "approved", "rejected", "merged", "stale"] | None = None,
    community: str | None = Query(None, max_length=200),
    open: bool | None = Query(None, description="only open (unanswered) questions"),
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0),
) -> dict[str, Any]:
    with practice(request).api(request) as (store, user):
        items = views.visible_artefacts(store, user, kind=kind, status=status)
        if community:
            items = [a for a in items if community in a.communities]
        if open is not None:
            items = [a for a in items if a.is_open_question == open]
        items.sort(key=lambda a: (a.updated_at, a.id), reverse=True)
        page = items[offset : offset + limit]
        return {"total": len(items), "offset": offset, "limit": limit, "items": views.items(store, page, user)}


@router.get("/api/artefacts/{artefact_id}", tags=["artefacts"], summary="One artefact: evidence in context, suggestions")
def api_artefact(request: Request, artefact_id: str) -> dict[str, Any]:
    with practice(request).api(request) as (store, user):
        return views.detail(store, views.get_visible(store, user, artefact_id), user)


@router.get("/api/artefacts/{artefact_id}/suggestions", tags=["artefacts"], summary="Possible duplicates")
def api_suggestions(request: Request, artefact_id: str) -> list[dict[str, Any]]:
    with practice(request).api(request) as (store, user):
        return views.suggestions(store, views.get_visible(store, user, artefact_id), user)


@router.get("/artefacts/{artefact_id}", include_in_schema=False)
def artefact_page(request: Request, artefact_id: str) -> Response:
    with practice(request).web(request) as w:
        a = views.get_visible(w.store, w.user, artefact_id)
        data = views.detail(w.store, a, w.user)
        nav: dict[str, str | None] = {"next": None, "prev": None}
        if w.user is not None and can_review(w.user) and a.status == ArtefactStatus.candidate:
            ids = [x.id for x in review_ops.review_queue(w.store, w.user, status="candidate", limit=500)]
            if a.id in ids:
                i = ids.index(a.id)
                nav["next"] = f"/artefacts/{ids[i + 1]}" if i + 1 < len(ids) else None
                nav["prev"] = f"/artefacts/{ids[i - 1]}" if i > 0 else None
        return render(w, "artefact.html", {"a": a, "d": data, "nav": nav})
