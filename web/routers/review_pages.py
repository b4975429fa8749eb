"""Review in the web UI: the queue page, bulk actions and the action forms of an artefact page.

Form posts answer with a redirect and a flash message; a refusal from `pipeline.review` is shown
on the page it came from.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from pipeline import review as review_ops
from pipeline.models import Artefact, ArtefactStatus
from pipeline.review_undo import last_action
from web import views
from web.auth import Need, Web
from web.html import keep_form, redirect, render, safe_next
from web.limits import ID_PATTERN, VISIBILITY_PATTERN
from web.state import practice

router = APIRouter()
Action = Literal["approve", "reject", "edit", "merge", "unmerge", "stale", "visibility"]


@router.get("/queue", include_in_schema=False)
def queue_page(
    request: Request,
    kind: str | None = None,
    community: str | None = None,
    status: str = "candidate",
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0),
    at: str | None = Query(None, max_length=128, description="the row to select (the one after the last acted on)"),
) -> Response:
    state = practice(request)
    with state.web(request, "reviewer") as w:
        assert w.user is not None
        kind = kind or None
        community = community or None
        if kind not in (None, "faq", "pattern"):
            raise HTTPException(422, f"kind: expected faq or pattern, got {kind!r}")
        if status not in {s.value for s in ArtefactStatus}:
            raise HTTPException(422, f"status: unknown status {status!r}")
        page = review_ops.queue_page(w.store, w.user, kind, community, status, limit, offset)
        if page.total and offset >= page.total:  # the last page emptied by actions: show the one before
            page = review_ops.queue_page(w.store, w.user, kind, community, status, limit, (page.total - 1) // limit * limit)
        from index.release import current_release

        release = current_release(state.releases)
        seen = {a.id for a in views.visible_artefacts(w.store, w.user)}  # a count must not reveal hidden ones
        filters = {"kind": kind or "", "community": community or "", "status": status, "limit": limit}
        return render(
            w, "queue.html",
            {
                "items": page.items, "filters": filters, "pager": _pager(page, filters, at),
                "facets": views.facets(w.store, w.user), "release": release,
                "last_action": last_action(w.store, w.user.name),
                "release_artefacts": state.release_counts(release, w.user)["artefacts"] if release else 0,
                "suggestion_counts": Counter(
                    x for a, b, _ in w.store.suggestions() if a in seen and b in seen for x in (a, b)
                ),
            },
        )  # fmt: skip


def _queue_url(filters: dict[str, Any], **more: Any) -> str:
    params = {k: v for k, v in {**filters, **more}.items() if v not in ("", None)}
    return "/queue?" + urlencode(params)


def _pager(page: review_ops.QueuePage, filters: dict[str, Any], at: str | None) -> dict[str, Any]:
    """Totals, the links to the pages around, the row to select, and where each row's actions
    come back to: this page with the row after it selected (so the keyboard flow keeps its place)."""
    limit, ids = filters["limit"], [a.id for a in page.items]
    back = {}
    for i, artefact_id in enumerate(ids):
        neighbour = ids[i + 1] if i + 1 < len(ids) else ids[i - 1] if i else None
        back[artefact_id] = _queue_url(filters, offset=page.offset or None, at=neighbour)
    return {
        "total": page.total, "first": page.offset + 1, "last": page.offset + len(ids),
        "prev": _queue_url(filters, offset=max(0, page.offset - limit) or None) if page.offset else None,
        "next": _queue_url(filters, offset=page.offset + limit) if page.offset + limit < page.total else None,
        "here": _queue_url(filters, offset=page.offset or None),
        "selected": at if at in ids else (ids[0] if ids else None),
        "back": back,
    }  # fmt: skip


@router.post("/queue/bulk", include_in_schema=False)
def queue_bulk(
    request: Request,
    csrf_token: str = Form(""),
    action: str = Form(""),
    ids: list[str] = Form([]),
    reason: str = Form("", max_length=4000),
    return_to: str = Form(""),
) -> Response:
    back = safe_next(return_to, "/queue")
    with practice(request).web(request, "reviewer", csrf=csrf_token, check_csrf=True) as w:
        assert w.user is not None
        if not ids:
            w.flash("Select artefacts first (x toggles the selected row).", "error")
            return redirect(w, back)
        if action not in ("approve", "reject"):
            raise HTTPException(422, f"unknown bulk action {action!r}")
        if len(ids) > 200:
            raise HTTPException(422, "at most 200 artefacts at once")
        for i in ids:
            views.get_visible(w.store, w.user, i)
        try:
            outcomes = review_ops.act_many(w.store, action, ids, w.user.name, reason=reason.strip() or None)
            changed = sum(o.changed for o in outcomes)
            same = f"; {len(outcomes) - changed} already so, left as they were" if changed < len(outcomes) else ""
            w.flash(f"{action.capitalize()}: {changed} artefact(s){same}.", "ok" if changed else "info")
        except review_ops.ReviewError as exc:
            w.flash(str(exc), "error")
        return redirect(w, back)


@dataclass
class ActionForm:
    """What an artefact page's action form posted."""

    note: str | None
    reason: str
    into: str
    visibility: str
    fields: dict[str, str | None]
    items: str | None


class FormProblem(Exception):
    """The form is incomplete: say so on the artefact page (the core was not asked), beside `field`
    when the problem is one field's (the form is shown again with what was typed)."""

    def __init__(self, message: str, field: str | None = None, value: str = "") -> None:
        super().__init__(message)
        self.field, self.value = field, value


def _said(outcome: review_ops.Outcome, done: str) -> tuple[str, str]:
    """The flash message of an action: what was done, or the core's word on why nothing was."""
    return (done, "ok") if outcome.changed else (outcome.message, "info")


def _edit(w: Web, a: Artefact, f: ActionForm) -> tuple[str, str]:
    changes: dict[str, Any] = {k: v.strip() for k, v in f.fields.items() if v is not None and v.strip() != (getattr(a, k) or "")}
    if f.items is not None:
        new_items = [line.strip().lstrip("-• ").strip() for line in f.items.splitlines() if line.strip()]
        if new_items != a.items:
            changes["items"] = new_items
    if not changes:
        return "Nothing changed.", "info"
    outcome = review_ops.act(w.store, a.id, "edit", w.user.name, changes=changes, note=f.note)  # type: ignore[union-attr]
    return _said(outcome, f"Saved: {', '.join(sorted(changes))}")


def _merge(w: Web, a: Artefact, f: ActionForm) -> tuple[str, str]:
    target = f.into.strip()
    if not re.match(ID_PATTERN, target):
        raise FormProblem("Give the id of the artefact to merge into.", "into", f.into)
    try:
        views.get_visible(w.store, w.user, target)
    except HTTPException:
        raise FormProblem(f"No artefact {target!r} that you can see: check the id.", "into", f.into) from None
    outcome = review_ops.act(w.store, a.id, "merge", w.user.name, target_id=target, note=f.note)  # type: ignore[union-attr]
    return _said(outcome, f"Merged “{a.title}” into this artefact.")


def _reject(w: Web, a: Artefact, f: ActionForm) -> tuple[str, str]:
    outcome = review_ops.act(w.store, a.id, "reject", w.user.name, reason=f.reason.strip())  # type: ignore[union-attr]
    return _said(outcome, f"Rejected: {a.title}")


def _widen(w: Web, a: Artefact, f: ActionForm) -> tuple[str, str]:
    vis = f.visibility.strip()
    if not re.match(VISIBILITY_PATTERN, vis) or not f.note:
        raise FormProblem('Give "public" or comma-separated groups, and a note saying why.')
    outcome = review_ops.act(w.store, a.id, "visibility", w.user.name, visibility=vis, note=f.note)  # type: ignore[union-attr]
    return _said(outcome, f"Visibility widened to {vis}.")


def _simple(action: str, done: str) -> Callable[[Web, Artefact, ActionForm], tuple[str, str]]:
    def run(w: Web, a: Artefact, f: ActionForm) -> tuple[str, str]:
        outcome = review_ops.act(w.store, a.id, action, w.user.name, note=f.note)  # type: ignore[union-attr]
        return _said(outcome, f"{done}: {a.title}")

    return run


HANDLERS: dict[str, Callable[[Web, Artefact, ActionForm], tuple[str, str]]] = {
    "approve": _simple("approve", "Approved"),
    "reject": _reject,
    "stale": _simple("stale", "Marked stale"),
    "edit": _edit,
    "merge": _merge,
    "unmerge": _simple("unmerge", "Unmerged"),
    "visibility": _widen,
}
# Where the page goes after a successful action: back to the list it came from, or the artefact.
STAY_ON_ARTEFACT = ("edit", "unmerge", "visibility")


@router.post("/artefacts/{artefact_id}/{action}", include_in_schema=False)
def artefact_action(
    request: Request,
    artefact_id: str,
    action: Action,
    csrf_token: str = Form(""),
    note: str = Form("", max_length=4000),
    reason: str = Form("", max_length=4000),
    into: str = Form("", max_length=128),
    visibility: str = Form("", max_length=400),
    return_to: str = Form(""),
    question: str | None = Form(None),
    answer: str | None = Form(None),
    name: str | None = Form(None),
    context: str | None = Form(None),
    problem: str | None = Form(None),
    recommendation: str | None = Form(None),
    items: str | None = Form(None),
) -> Response:
    need: Need = "admin" if action == "visibility" else "reviewer"
    fields = {"question": question, "answer": answer, "name": name, "context": context,
              "problem": problem, "recommendation": recommendation}  # fmt: skip
    form = ActionForm(note.strip() or None, reason, into, visibility, fields, items)
    with practice(request).web(request, need, csrf=csrf_token, check_csrf=True) as w:
        assert w.user is not None
        a = views.get_visible(w.store, w.user, artefact_id)
        here = f"/artefacts/{artefact_id}"
        try:
            message, kind = HANDLERS[action](w, a, form)
        except FormProblem as exc:
            if exc.field:
                keep_form(w, action, {exc.field: exc.value}, {exc.field: str(exc)})
            else:
                w.flash(str(exc), "error")
            return redirect(w, here)
        except review_ops.NotFound:
            raise HTTPException(404, f"no artefact {artefact_id!r}") from None
        except review_ops.ReviewError as exc:
            w.flash(str(exc), "error")
            return redirect(w, here)
        w.flash(message, kind)
        if action in STAY_ON_ARTEFACT:
            return redirect(w, here)
        default = f"/artefacts/{form.into.strip()}" if action == "merge" else here
        return redirect(w, safe_next(return_to, default))
