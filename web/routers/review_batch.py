"""Undo and bulk actions on a filtered set: the JSON API and the queue's forms.

The rules are `pipeline.review_undo`'s and `pipeline.review_bulk`'s: a bulk action is counted
first and done only against the token of that count (the confirmation step); undo takes back the
reviewer's last action. Refusals come back as `ReviewError`s (HTTP 404/409 in web.app).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from pipeline import review_bulk, review_undo
from pipeline.review import Outcome, ReviewError
from pipeline.users import User
from web import views
from web.bodies import BulkFilterBody
from web.html import redirect, render, safe_next
from web.state import practice

router = APIRouter()


def _undo(store: Any, user: User) -> Outcome:
    """Undo the user's last action, if they may still see every artefact it touched."""
    last = review_undo.last_action(store, user.name)
    for artefact_id in last.artefact_ids if last else []:
        views.get_visible(store, user, artefact_id)
    return review_undo.undo(store, user.name)


@router.post("/api/review/undo", tags=["review"], summary="Undo your last review action")
def api_undo(request: Request) -> dict[str, Any]:
    """The artefacts as the undo left them, and a message naming what was undone."""
    with practice(request).api(request, "reviewer") as (store, user):
        assert user is not None
        outcome = _undo(store, user)
        result = list(outcome.result) if isinstance(outcome.result, (list, tuple)) else [outcome.result]
        return {"message": outcome.message, "artefacts": views.items(store, result, user)}


@router.post("/api/review/bulk-filter", tags=["review"], summary="Approve, reject or mark stale every artefact a filter matches")
def api_bulk_filter(request: Request, body: BulkFilterBody) -> dict[str, Any]:
    """Without `confirm`: the count (nothing changed) and its token. With `confirm` = that token:
    done, unless the set the filters match changed meanwhile (409: count again)."""
    filters = review_bulk.Filters(body.kind, body.community, body.status)
    with practice(request).api(request, "reviewer") as (store, user):
        assert user is not None
        if body.confirm is None:
            return {**review_bulk.plan_bulk(store, user, body.action, filters, body.reason).to_json(), "done": False}
        outcomes = review_bulk.run_bulk(store, user, user.name, body.action, filters, body.confirm, body.reason)
        changed = sum(o.changed for o in outcomes)
        return {"done": True, "changed": changed, "message": f"{review_bulk.VERBS[body.action]}: {changed} artefact(s)."}


@router.post("/queue/undo", include_in_schema=False)
def queue_undo(request: Request, csrf_token: str = Form(""), return_to: str = Form("")) -> Response:
    with practice(request).web(request, "reviewer", csrf=csrf_token, check_csrf=True) as w:
        assert w.user is not None
        try:
            w.flash(_undo(w.store, w.user).message, "ok")
        except ReviewError as exc:
            w.flash(str(exc), "error")
        return redirect(w, safe_next(return_to, "/queue"))


def _filters(kind: str, community: str, status: str) -> review_bulk.Filters:
    if kind not in ("", "faq", "pattern"):
        raise HTTPException(422, f"kind: expected faq or pattern, got {kind!r}")
    return review_bulk.Filters(kind or None, community or None, status or "candidate")


@router.post("/queue/bulk-filter", include_in_schema=False)
def queue_bulk_filter(
    request: Request,
    csrf_token: str = Form(""),
    action: str = Form(""),
    kind: str = Form("", max_length=20),
    community: str = Form("", max_length=200),
    status: str = Form("candidate", max_length=20),
    reason: str = Form("", max_length=4000),
    confirm: str = Form("", max_length=64),
    return_to: str = Form(""),
) -> Response:
    """First post: the confirmation page with the count. Confirmed post: done, back to the queue."""
    back = safe_next(return_to, "/queue")
    filters = _filters(kind, community, status)
    with practice(request).web(request, "reviewer", csrf=csrf_token, check_csrf=True) as w:
        assert w.user is not None
        try:
            if not confirm:
                plan = review_bulk.plan_bulk(w.store, w.user, action, filters, reason)
                return render(w, "bulk_confirm.html", {"plan": plan, "reason": reason, "back": back})
            outcomes = review_bulk.run_bulk(w.store, w.user, w.user.name, action, filters, confirm, reason)
            changed = sum(o.changed for o in outcomes)
            w.flash(f"{review_bulk.VERBS[action]}: {changed} artefact(s) matching {filters.describe()}. Undo takes them back.", "ok")
        except ReviewError as exc:
            w.flash(str(exc), "error")
        return redirect(w, back)
