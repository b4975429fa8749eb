"""HTML plumbing: rendering with the session's flash and CSRF token, redirects, security headers, error pages."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from pipeline.users import User, can_review, is_admin
from web.auth import SESSION_COOKIE, Web, session_user
from web.state import practice

CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'"


def finish(w: Web, response: Response) -> Response:
    """Set the session cookie (new sessions) and the security headers every page carries."""
    if w.new:
        response.set_cookie(
            SESSION_COOKIE, w.sid, httponly=True, samesite="lax", path="/",
            secure=w.request.url.scheme == "https",
        )  # fmt: skip
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Content-Security-Policy", CSP)
    return response


def _base(user: User | None, csrf: str, flash: list[Any], path: str) -> dict[str, Any]:
    return {
        "user": user, "csrf": csrf, "flash": flash, "path": path,
        "can_review": user is not None and can_review(user), "is_admin": user is not None and is_admin(user),
    }  # fmt: skip


def refused_form(form: str, values: dict[str, str], errors: dict[str, str]) -> dict[str, Any]:
    """A form the server refused, to show again: its name, what was typed and each field's error."""
    return {"name": form, "typed": values, "errors": errors}


NO_FORM = refused_form("", {}, {})


def keep_form(w: Web, form: str, values: dict[str, str], errors: dict[str, str]) -> None:
    """Remember a refused form for the page the post redirects to (shown once, like a flash)."""
    w.session["form"] = refused_form(form, values, errors)


def render(w: Web, template: str, context: dict[str, Any], status: int = 200) -> Response:
    """A page from a template, with the signed-in user, the CSRF token, the pending flash messages and
    the form a post just refused (`form`: its typed values and errors, shown beside their fields)."""
    flash, w.session["flash"] = list(w.session["flash"]), []
    base = _base(w.user, w.session["csrf"], flash, w.request.url.path)
    base["form"] = w.session.pop("form", None) or NO_FORM
    templates = practice(w.request).templates
    return finish(w, templates.TemplateResponse(w.request, template, {**base, **context}, status_code=status))


def redirect(w: Web, url: str) -> Response:
    """A 303 to a local page (after a form post)."""
    return finish(w, RedirectResponse(url, status_code=303))


def error_page(request: Request, status: int, message: str) -> Response:
    """An HTML error page that still shows who is signed in (navigation stays useful)."""
    state = practice(request)
    user, session = session_user(state, request)
    context = {**_base(user, session["csrf"] if session else "", [], request.url.path), "status": status, "message": message}
    return state.templates.TemplateResponse(request, "error.html", context, status_code=status)  # type: ignore[no-any-return]


def safe_next(url: str | None, default: str) -> str:
    """Only local paths: never redirect to another site."""
    if url and url.startswith("/") and not url.startswith("//") and "\\" not in url:
        return url
    return default


def home_for(user: User | None) -> str:
    """Where a user lands: reviewers on the queue, everyone else on search."""
    return "/queue" if user is not None and can_review(user) else "/search"


def this_url(request: Request) -> str:
    """The path and query of a request (to come back to it)."""
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")
