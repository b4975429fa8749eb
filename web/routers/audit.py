"""The review audit log (reviewers): GET /api/audit and the audit page, over visible artefacts only.

Both filter by actor, action, artefact and date, and page with totals (`pipeline.audit`); the page
shows each event's before/after as a diff.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from pipeline import review as review_ops
from pipeline.audit import PER_PAGE, AuditFilter, AuditPage, audit_page, snapshot_diff
from pipeline.shapes import event_json
from pipeline.users import User
from web.html import refused_form, render
from web.state import practice

router = APIRouter()
# Events whose artefact_id is a release id (publish and rollback): every reviewer sees these.
RELEASE_ACTIONS = ("publish", "rollback")
ACTIONS = ("approve", "reject", "edit", "merge", "unmerge", "stale", "widen_visibility", *RELEASE_ACTIONS)


def _may_see(store: Any, user: User | None) -> Any:
    """Whether the viewer may see an event, by its artefact id and action (a deleted artefact's
    events are not shown; a release's are shown to every reviewer)."""

    def check(artefact_id: str, action: str) -> bool:
        if action in RELEASE_ACTIONS:
            return True
        a = store.get_artefact(artefact_id)
        return a is not None and review_ops.visible(a, user)

    return check


@router.get("/api/audit", tags=["review"], summary="The review audit log, newest first, filtered and paged")
def api_audit(
    request: Request,
    artefact_id: str | None = Query(None, max_length=128),
    actor: str | None = Query(None, max_length=64),
    action: str | None = Query(None, max_length=32),
    since: date | None = Query(None, description="first day (UTC), inclusive"),
    until: date | None = Query(None, description="last day (UTC), inclusive"),
    page: int = Query(1, ge=1),
    limit: int = Query(200, ge=1, le=1000, description="events per page"),
) -> Response:
    """The page's events as a list; `X-Total-Count` and `X-Pages` give the totals."""
    f = AuditFilter(actor or "", action or "", artefact_id or "", since, until)
    with practice(request).api(request, "reviewer") as (store, user):
        found = audit_page(store, f, _may_see(store, user), page, limit)
        headers = {"X-Total-Count": str(found.total), "X-Pages": str(found.pages)}
        return JSONResponse([event_json(e) for e in found.events], headers=headers)


@router.get("/audit", include_in_schema=False)
def audit_page_html(
    request: Request,
    actor: str = Query("", max_length=64),
    action: str = Query("", max_length=32),
    artefact: str = Query("", max_length=128),
    since: str = Query("", max_length=40),
    until: str = Query("", max_length=40),
    page: int = Query(1, ge=1),
) -> Response:
    typed = {"actor": actor, "action": action, "artefact": artefact, "since": since, "until": until}
    days, errors = _days(since, until)
    f = AuditFilter(actor.strip(), action.strip(), artefact.strip(), days["since"], days["until"])
    with practice(request).web(request, "reviewer") as w:
        found = audit_page(w.store, f, _may_see(w.store, w.user), page)
        titles = {e.artefact_id: _title(w.store, e.artefact_id) for e in found.events if e.action not in RELEASE_ACTIONS}
        context = {
            "found": found, "filters": typed, "titles": titles, "actions": ACTIONS, "release_actions": RELEASE_ACTIONS,
            # no list of user names to pick from: reviewers are not shown who else has an account
            "diffs": {e.id: snapshot_diff(e.before, e.after) for e in found.events}, "pages": _page_links(typed, found),
        }  # fmt: skip
        if errors:  # the filters come back as typed, each message beside its field
            context["form"] = refused_form("audit", typed, errors)
        return render(w, "audit.html", context, 422 if errors else 200)


def _days(since: str, until: str) -> tuple[dict[str, date | None], dict[str, str]]:
    """The date filters parsed, and the error of each that is not a date."""
    days: dict[str, date | None] = {}
    errors: dict[str, str] = {}
    for name, value in (("since", since.strip()), ("until", until.strip())):
        try:
            days[name] = date.fromisoformat(value) if value else None
        except ValueError:
            days[name] = None
            errors[name] = f"Not a date: give one like 2026-09-14 (got {value[:40]!r})."
    return days, errors


def _title(store: Any, artefact_id: str) -> str:
    a = store.get_artefact(artefact_id)
    return (a.title if a is not None else "") or artefact_id


def _page_links(typed: dict[str, str], found: AuditPage) -> dict[str, str | None]:
    """The previous and next pages' URLs, with the same filters."""
    kept = {k: v for k, v in typed.items() if v}

    def url(n: int) -> str:
        return "/audit?" + urlencode({**kept, "page": n}) if n > 1 else "/audit" + (f"?{urlencode(kept)}" if kept else "")

    return {
        "prev": url(found.page - 1) if found.page > 1 else None,
        "next": url(found.page + 1) if found.page < found.pages else None,
        "per_page": str(PER_PAGE),
    }
