"""Index releases and ingestion runs; publishing (preview, confirmation) and rolling back a release.

Publish and rollback use the server's one configuration (`[publish]` of practice.toml, as
`practice publish` reads it) and are recorded in the audit log under the signed-in user.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from pipeline.review import ReviewError
from web.bodies import PublishBody, RollbackBody
from web.html import redirect, render, safe_next
from web.state import practice

router = APIRouter()


@router.get("/api/runs", tags=["sources"], summary="Index releases and source ingestion times")
def api_runs(request: Request) -> dict[str, Any]:
    state = practice(request)
    with state.api(request, "reader") as (store, user):
        return state.runs(store, user)


@router.get("/api/publish/preview", tags=["review"], summary="What a publish would add, remove and change")
def api_publish_preview(request: Request) -> dict[str, Any]:
    """Counts and artefacts (the first 50 of each) against the current release, and the token a
    confirmed publish sends back."""
    state = practice(request)
    with state.api(request, "reviewer") as (store, user):
        return state.preview(store, user).to_json()


@router.post("/api/publish", tags=["review"], summary="Publish a new index release of the approved artefacts")
def api_publish(request: Request, body: PublishBody | None = None) -> dict[str, Any]:
    """With `confirm` (a preview's token): only while that preview still holds (409 otherwise)."""
    state = practice(request)
    with state.api(request, "reviewer") as (_, user):
        assert user is not None
        return state.publish(body.include_candidates if body else None, user.name, body.confirm if body else None)


@router.post("/api/rollback", tags=["review"], summary="Make the previous release current again")
def api_rollback(request: Request, body: RollbackBody | None = None) -> dict[str, Any]:
    """The release now current (search serves it from the next query)."""
    state = practice(request)
    with state.api(request, "reviewer") as (_, user):
        assert user is not None
        return state.rollback(user, body.to if body else None)


@router.get("/publish", include_in_schema=False)
def publish_page(request: Request) -> Response:
    """The preview: what publishing now would add, remove and change, with the confirm button."""
    state = practice(request)
    with state.web(request, "reviewer") as w:
        from index.release import list_releases

        preview = state.preview(w.store, w.user)
        releases = [(m, state.release_counts(m, w.user)["artefacts"]) for m in list(reversed(list_releases(state.releases)))[:5]]
        return render(w, "publish.html", {"preview": preview, "releases": releases, "config": state.config_source})


@router.post("/publish", include_in_schema=False)
def publish_action(request: Request, csrf_token: str = Form(""), confirm: str = Form("", max_length=64),
                   return_to: str = Form("")) -> Response:  # fmt: skip
    """Publish what the confirmed preview showed; without a confirmation, show the preview first."""
    state = practice(request)
    with state.web(request, "reviewer", csrf=csrf_token, check_csrf=True) as w:
        assert w.user is not None
        if not confirm:
            return redirect(w, "/publish")
        try:
            report = state.publish(None, w.user.name, confirm)
        except ReviewError as exc:
            w.flash(str(exc), "error")
            return redirect(w, "/publish")
        if report["published"]:
            w.flash(f"Published release {report['release_id']} with {report['artefacts']} artefact(s).")
        else:
            w.flash(f"No new release: {report['reason']}.", "info")
        return redirect(w, safe_next(return_to, "/queue"))


@router.post("/rollback", include_in_schema=False)
def rollback_action(request: Request, csrf_token: str = Form(""), return_to: str = Form("")) -> Response:
    """One click: the release before the current one becomes current."""
    state = practice(request)
    with state.web(request, "reviewer", csrf=csrf_token, check_csrf=True) as w:
        assert w.user is not None
        try:
            done = state.rollback(w.user)
            w.flash(f"Rolled back: release {done['release_id']} is current again, with {done['artefacts']} artefact(s).")
        except ReviewError as exc:
            w.flash(str(exc), "error")
        return redirect(w, safe_next(return_to, "/publish"))
