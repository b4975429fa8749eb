"""Search over the current index release: GET /api/search and the search page."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from web import views
from web.html import refused_form, render
from web.limits import MAX_K
from web.state import practice

router = APIRouter()
MAX_QUERY_CHARS = 1000


@router.get("/api/search", tags=["search"], summary="Hybrid search over the current index release", response_model=dict[str, Any])
def api_search(
    request: Request,
    q: str = Query(min_length=1, max_length=1000, description="the question"),
    k: int = Query(10, ge=1, le=MAX_K, description=f"hits to return (1..{MAX_K})"),
    kind: Literal["faq", "pattern"] | None = None,
    community: str | None = Query(None, max_length=200),
    status: Literal["approved", "candidate"] | None = None,
    source_kind: Literal["transcript", "thread", "document"] | None = None,
    since: date | None = None,
    until: date | None = None,
) -> Response:
    state = practice(request)
    with state.api(request, reader=True) as (store, user):
        result = views.search(
            state.searcher(), store, user, q, k, kind=kind, community=community, status=status,
            source_kind=source_kind, since=since, until=until,
        )  # fmt: skip
    # Rendered as is: the hits are plain JSON values already (payloads read from JSON, numbers made
    # floats), so FastAPI's walk over every hit to validate and encode it would change nothing.
    return JSONResponse(result)


@router.get("/search", include_in_schema=False)
def search_page(
    request: Request,
    q: str = "",
    k: int = Query(10, ge=1, le=MAX_K),
    kind: str = "",
    community: str = "",
    source_kind: str = "",
    status: str = "",
    since: str = "",
    until: str = "",
) -> Response:
    state = practice(request)
    with state.web(request) as w:
        if kind not in ("", "faq", "pattern") or source_kind not in ("", "transcript", "thread", "document") \
                or status not in ("", "approved", "candidate"):  # fmt: skip
            raise HTTPException(422, "unknown filter value")
        filters = {"q": q, "k": k, "kind": kind, "community": community, "source_kind": source_kind,
                   "status": status, "since": since, "until": until}  # fmt: skip
        dates, errors = _form_errors(q, since, until)
        result = None
        if q.strip() and not errors:
            result = views.search(
                state.searcher(), w.store, w.user, q.strip(), k, kind=kind or None, community=community or None,
                status=status or None, source_kind=source_kind or None, since=dates["since"], until=dates["until"],
            )  # fmt: skip
        context = {"result": result, "filters": filters, "facets": views.facets(w.store, w.user)}
        if errors:  # the form comes back as typed, each message beside its field
            context["form"] = refused_form("search", filters, errors)
        return render(w, "search.html", context, 422 if errors else 200)


def _form_errors(q: str, since: str, until: str) -> tuple[dict[str, date | None], dict[str, str]]:
    """The search form's dates parsed, and what is wrong with each field (empty when nothing is)."""
    errors: dict[str, str] = {}
    if len(q) > MAX_QUERY_CHARS:
        errors["q"] = f"A question is at most {MAX_QUERY_CHARS} characters; this one has {len(q)}."
    dates: dict[str, date | None] = {}
    for name, value in (("since", since), ("until", until)):
        try:
            dates[name] = date.fromisoformat(value) if value else None
        except ValueError:
            dates[name] = None
            errors[name] = f"Not a date: give one like 2026-09-14 (got {value[:40]!r})."
    return dates, errors
