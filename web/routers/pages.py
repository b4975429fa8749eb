"""The site's own pages: home, login and logout, the dashboard (and its numbers as JSON)."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from pipeline import charts, timeline
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


def _series(rows: list[dict[str, Any]], time_key: str, key: str, names: list[str], cats: list[str]) -> dict[str, list[int]]:
    """Counts per category (period) for each name of `key` (names with no count left out)."""
    at = {c: i for i, c in enumerate(cats)}
    series = {n: [0] * len(cats) for n in names}
    for r in rows:
        if r[time_key] in at:
            series[r[key]][at[r[time_key]]] += r["count"]
    return {k: v for k, v in series.items() if any(v)}


def _periods(s: dict[str, Any]) -> list[str]:
    """Every period from the first to the last one said (gaps as zero bars), the latest MAX_PERIODS."""
    seen = sorted({r["period"] for r in s["by_first_said"] + s["by_last_said"]})
    if not seen:
        return []
    span = timeline.periods_between(date.fromisoformat(seen[0]), date.fromisoformat(seen[-1]), s["period"])
    return [d.isoformat() for d in span][-MAX_PERIODS:]


def dashboard_charts(s: dict[str, Any]) -> dict[str, Any]:
    """The dashboard's SVG charts from its numbers."""
    statuses = [st.value for st in ArtefactStatus]
    cats = _periods(s)
    labels = [_short_period(c, s["period"]) for c in cats]
    out: dict[str, Any] = {}
    for kind in ("faq", "pattern"):
        rows = [r for r in s["by_first_said"] if r["kind"] == kind]
        out[f"{kind}_first"] = charts.stacked_bars(
            f"{kind} artefacts per {s['period']} of their first occurrence, by status", labels,
            _series(rows, "period", "status", statuses, cats), charts.STATUS_COLORS,
            empty=f"None dated: {s['undated'][kind]} rest on documents or recordings" if s["undated"][kind] else "No data yet",
        )  # fmt: skip
    out["last_said"] = charts.stacked_bars(
        f"artefacts per {s['period']} of their last occurrence, by kind", labels,
        _series(s["by_last_said"], "period", "kind", ["faq", "pattern"], cats), charts.KIND_COLORS,
    )  # fmt: skip
    t_weeks = sorted({r["week"] for r in s["review_throughput"]})[-26:]
    actions = sorted({r["action"] for r in s["review_throughput"]})
    out["throughput"] = charts.stacked_bars(
        "review actions per week", [_short_period(w, "week") for w in t_weeks],
        _series(s["review_throughput"], "week", "action", actions, t_weeks), charts.ACTION_COLORS,
    )  # fmt: skip
    open_rows = [
        (r["community"], r["count"], f"/queue?{urlencode({'community': r['community'], 'kind': 'faq'})}")
        for r in s["open_questions"][:12]
    ]
    out["open_questions"] = charts.hbars("open questions by community", open_rows, color="#c25e1f")
    practice_rows = [
        (p["name"] or p["id"], p["support"]["conversations"], f"/artefacts/{p['id']}") for p in s["most_supported_practices"]
    ]
    out["practices"] = charts.hbars(
        "most-supported practices (conversations)", practice_rows, color="#1f7a52", width=1120, label_width=560
    )
    return out


MAX_PERIODS = 120


def _short_period(iso: str, period: str) -> str:
    d = date.fromisoformat(iso)
    return d.strftime("%d %b").lstrip("0") if period == "week" else d.strftime("%b %Y")
