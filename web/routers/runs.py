"""Index releases and ingestion runs; publishing a new release (API and the queue's button)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from web.bodies import PublishBody
from web.html import redirect, safe_next
from web.state import practice

router = APIRouter()


@router.get("/api/runs", tags=["sources"], summary="Index releases and source ingestion times")
def api_runs(request: Request) -> dict[str, Any]:
    state = practice(request)
    with state.api(request, "reader") as (store, user):
        return state.runs(store, user)


@router.post("/api/publish", tags=["review"], summary="Publish a new index release of the approved artefacts")
def api_publish(request: Request, body: PublishBody | None = None) -> dict[str, Any]:
    state = practice(request)
    with state.api(request, "reviewer"):
        return state.publish(body.include_candidates if body else None)


@router.post("/publish", include_in_schema=False)
def publish_action(request: Request, csrf_token: str = Form(""), return_to: str = Form("")) -> Response:
    state = practice(request)
    with state.web(request, "reviewer", csrf=csrf_token, check_csrf=True) as w:
        report = state.publish(None)
        if report["published"]:
            w.flash(f"Published release {report['release_id']} with {report['artefacts']} artefact(s).")
        else:
            w.flash(f"No new release: {report['reason']}.", "info")
        return redirect(w, safe_next(return_to, "/queue"))
