"""Who is asking: bearer tokens for the API, server-side sessions with a CSRF token for the web UI."""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from fastapi import Request
from starlette.exceptions import HTTPException

from pipeline.store import open_store
from pipeline.users import User, authenticate, can_review, is_admin

if TYPE_CHECKING:
    from web.state import PracticeWeb

SESSION_COOKIE = "practice_session"
SESSION_IDLE_SECONDS = 8 * 3600
MAX_SESSIONS = 5000
Need = Literal["reader", "reviewer", "admin"] | None


class LoginRequired(Exception):
    """An HTML page needs a signed-in user: redirect to /login."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


def unauthorized(message: str = "authentication required: send 'Authorization: Bearer <token>'") -> HTTPException:
    """A 401 that tells the client how to authenticate."""
    return HTTPException(401, message, headers={"WWW-Authenticate": "Bearer"})


def require(user: User | None, need: Need) -> None:
    """Refuse (401/403) a user without the role a route needs."""
    if need is None:
        return
    if user is None:
        raise unauthorized()
    if need == "reviewer" and not can_review(user):
        raise HTTPException(403, "only reviewers and admins may do this")
    if need == "admin" and not is_admin(user):
        raise HTTPException(403, "only admins may do this")


class Sessions:
    """Server-side web sessions: random id → {token, csrf, flash}; idle ones expire."""

    def __init__(self, idle_seconds: int = SESSION_IDLE_SECONDS, max_sessions: int = MAX_SESSIONS) -> None:
        self.idle, self.max = idle_seconds, max_sessions
        self._data: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def get(self, sid: str | None) -> dict[str, Any] | None:
        """The live session with this id (its idle clock restarted), or None."""
        if not sid:
            return None
        with self._lock:
            data = self._data.get(sid)
            if data is None or time.monotonic() - data["seen"] > self.idle:
                self._data.pop(sid, None)
                return None
            data["seen"] = time.monotonic()
            return data

    def new(self, token: str | None = None) -> tuple[str, dict[str, Any]]:
        """A fresh session (a new random id and CSRF token); the oldest go when the table is full."""
        sid = secrets.token_urlsafe(32)
        data = {"token": token, "csrf": secrets.token_urlsafe(32), "flash": [], "seen": time.monotonic()}
        with self._lock:
            if len(self._data) >= self.max:
                for old in sorted(self._data, key=lambda s: self._data[s]["seen"])[: len(self._data) // 10 + 1]:
                    del self._data[old]
            self._data[sid] = data
        return sid, data

    def drop(self, sid: str | None) -> None:
        """End a session (logout, or a new id on login)."""
        with self._lock:
            self._data.pop(sid or "", None)


@dataclass
class Web:
    """One HTML request: its session, the signed-in user and the open store."""

    request: Request
    sid: str
    session: dict[str, Any]
    new: bool
    user: User | None
    store: Any

    def flash(self, message: str, kind: str = "ok") -> None:
        """A message shown once on the next page."""
        self.session["flash"].append((kind, message))


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise unauthorized("malformed Authorization header: expected 'Bearer <token>'")
    return value.strip()


@contextmanager
def api_request(state: PracticeWeb, request: Request, need: Need = None, reader: bool = False) -> Iterator[tuple[Any, User | None]]:
    """Open the store for one API request and authenticate its bearer token; a `reader` (a
    read-only request) uses its worker thread's kept store instead (`PracticeWeb.reader_store`)."""
    token = _bearer(request)
    with state.reader_store() if reader else closing(open_store(state.home)) as store:
        user = None
        if token is not None:
            user = authenticate(store, token)
            if user is None:
                raise unauthorized("invalid or revoked token")
        require(user, need)
        yield store, user


def _session(state: PracticeWeb, request: Request, csrf: str | None, check_csrf: bool) -> tuple[str, dict[str, Any], bool]:
    sid = request.cookies.get(SESSION_COOKIE)
    session = state.sessions.get(sid)
    new = session is None
    if session is None:
        if check_csrf:
            raise HTTPException(403, "your session expired: reload the page and try again")
        sid, session = state.sessions.new()
    assert sid is not None
    if check_csrf and not (csrf and hmac.compare_digest(str(csrf), session["csrf"])):
        raise HTTPException(403, "missing or invalid CSRF token: reload the page and try again")
    return sid, session, new


@contextmanager
def html_request(
    state: PracticeWeb, request: Request, need: Need = None, csrf: str | None = None, check_csrf: bool = False
) -> Iterator[Web]:
    """Open the store for one HTML request with its session (created if missing)."""
    sid, session, new = _session(state, request, csrf, check_csrf)
    store = open_store(state.home)
    try:
        user = authenticate(store, session["token"]) if session.get("token") else None
        if session.get("token") and user is None:
            session["token"] = None  # revoked meanwhile: the session is signed out
        if need is not None and user is None:
            path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise LoginRequired(path if request.method == "GET" else "/")
        require(user, need)
        yield Web(request, sid, session, new, user, store)
    finally:
        store.close()


def session_user(state: PracticeWeb, request: Request) -> tuple[User | None, dict[str, Any] | None]:
    """The signed-in user and session of a request, without creating a session (error pages)."""
    session = state.sessions.get(request.cookies.get(SESSION_COOKIE))
    user = None
    if session and session.get("token"):
        store = open_store(state.home)
        try:
            user = authenticate(store, session["token"])
        finally:
            store.close()
    return user, session
