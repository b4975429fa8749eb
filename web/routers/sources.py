"""Sources: their ingestion status (API and page) and one source's passages around a quote."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from pipeline.shapes import source_json
from pipeline.users import can_see
from web import views
from web.html import render
from web.state import practice

router = APIRouter()
WINDOW = 60  # passages on one source page


@router.get("/api/sources", tags=["sources"], summary="Sources and their ingestion status")
def api_sources(request: Request) -> list[dict[str, Any]]:
    with practice(request).api(request, "reader") as (store, user):
        return [source_json(s) for s in store.list_sources() if can_see(user, s.visibility)]


@router.get("/sources", include_in_schema=False)
def sources_page(request: Request) -> Response:
    state = practice(request)
    with state.web(request, "reader") as w:
        sources = [s for s in w.store.list_sources() if can_see(w.user, s.visibility)]
        return render(w, "sources.html", {"sources": sources, "runs": state.runs(w.store, w.user)})


@router.get("/sources/{source_id}", include_in_schema=False)
def source_page(request: Request, source_id: str, around: str | None = None, offset: int = Query(0, ge=0)) -> Response:
    with practice(request).web(request, "reader") as w:
        src = next((s for s in w.store.list_sources() if s.id == source_id), None)
        if src is None or not can_see(w.user, src.visibility):
            raise HTTPException(404, f"no source {source_id!r}")
        anchor = w.store.passages_by_id([around]).get(around) if around else None
        if anchor is not None and anchor.source_id == source_id:
            lo = max(0, anchor.seq - 25)
        else:
            anchor, lo = None, offset
        window = w.store.passages_in_range(source_id, lo, lo + WINDOW - 1)
        return render(
            w, "source.html",
            {"src": src, "passages": window, "anchor": anchor, "lo": lo, "time": views.passage_time,
             "more": len(window) == WINDOW, "count": src.passage_count},
        )  # fmt: skip
