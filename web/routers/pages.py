"""The site's own pages: home, login and logout, the dashboard (and its numbers as JSON)."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from pipeline import charts
from pipeline.models import ArtefactStatus
from pipeline.users import authenticate
from web import views
from web.auth import SESSION_COOKIE
from web.html import home_for, redirect, render, safe_next
from web.state import practice

router = APIRouter()


@router.get("/api/dashboard", tags=["dashboard"], summary="The dashboard's numbers")
def api_dashboard(request: Request) -> dict[str, Any]:
    with practice(request).api(request, "reader") as (store, user):
        return views.dashboard(store, user)


@router.get("/favicon.ico", include_in_schema=False)
def favicon() -> Response:
    return RedirectResponse("/static/favicon.svg", status_code=301)


@router.get("/", include_in_schema=False)
def home(request: Request) -> Response:
    with practice(request).web(request) as w:
        return redirect(w, home_for(w.user))


@router.get("/login", include_in_schema=False)
def login_page(request: Request, next: str | None = None) -> Response:
    with practice(request).web(request) as w:
        return render(w, "login.html", {"next": safe_next(next, ""), "error": None})


@router.post("/login", include_in_schema=False)
def login(
    request: Request,
    token: str = Form("", max_length=512),
    csrf_token: str = Form(""),
    next: str = Form(""),
) -> Response:
    state = practice(request)
    with state.web(request, csrf=csrf_token, check_csrf=True) as w:
        user = authenticate(w.store, token.strip()) if token.strip() else None
        if user is None:
            return render(w, "login.html", {"next": safe_next(next, ""), "error": "Invalid or revoked token."}, 401)
        state.sessions.drop(w.sid)  # a fresh session id on login (no fixation)
        sid, session = state.sessions.new(token.strip())
        session["flash"].append(("ok", f"Signed in as {user.name} ({user.role.value})."))
        w.sid, w.session, w.new, w.user = sid, session, True, user
        return redirect(w, safe_next(next, home_for(user)))


@router.get("/logout", include_in_schema=False)
def logout_page(request: Request) -> Response:
    with practice(request).web(request) as w:
        return render(w, "logout.html", {})


@router.post("/logout", include_in_schema=False)
def logout(request: Request, csrf_token: str = Form("")) -> Response:
    state = practice(request)
    with state.web(request, csrf=csrf_token, check_csrf=True) as w:
        state.sessions.drop(w.sid)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response


@router.get("/dashboard", include_in_schema=False)
def dashboard_page(request: Request) -> Response:
    with practice(request).web(request, "reader") as w:
        stats = views.dashboard(w.store, w.user)
        return render(w, "dashboard.html", {"s": stats, "charts": dashboard_charts(stats)})


def _per_week(rows: list[dict[str, Any]], key: str, names: list[str], weeks: list[str]) -> dict[str, list[int]]:
    """Counts per week for each name of `key` (names with no count left out)."""
    series = {n: [0] * len(weeks) for n in names}
    for r in rows:
        if r["week"] in weeks:
            series[r[key]][weeks.index(r["week"])] += r["count"]
    return {k: v for k, v in series.items() if any(v)}


def dashboard_charts(s: dict[str, Any]) -> dict[str, Any]:
    """The dashboard's SVG charts from its numbers."""
    statuses = [st.value for st in ArtefactStatus]
    weeks = sorted({r["week"] for r in s["artefacts_per_week"]})[-26:]
    per_kind = {}
    for kind in ("faq", "pattern"):
        rows = [r for r in s["artefacts_per_week"] if r["kind"] == kind]
        per_kind[kind] = charts.stacked_bars(
            f"{kind} artefacts per week by status", [_short_week(w) for w in weeks],
            _per_week(rows, "status", statuses, weeks), charts.STATUS_COLORS,
        )  # fmt: skip
    t_weeks = sorted({r["week"] for r in s["review_throughput"]})[-26:]
    actions = sorted({r["action"] for r in s["review_throughput"]})
    t_series = _per_week(s["review_throughput"], "action", actions, t_weeks)
    open_rows = [(c, n, f"/queue?{urlencode({'community': c, 'kind': 'faq'})}") for c, n in s["open_questions_by_community"].items()][:12]
    practice_rows = [
        (p["name"] or p["id"], p["support"]["sources"], f"/artefacts/{p['id']}") for p in s["most_supported_practices"]
    ]
    return {
        "faq_per_week": per_kind["faq"],
        "pattern_per_week": per_kind["pattern"],
        "throughput": charts.stacked_bars(
            "review actions per week", [_short_week(w) for w in t_weeks], t_series, charts.ACTION_COLORS
        ),
        "open_questions": charts.hbars("open questions by community", open_rows, color="#e07b39"),
        "practices": charts.hbars(
            "most-supported practices (sources)", practice_rows, color="#2f9e6e", width=1120, label_width=560
        ),
    }


def _short_week(iso: str) -> str:
    d = date.fromisoformat(iso)
    return d.strftime("%d %b").lstrip("0")
