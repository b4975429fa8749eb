"""`practice serve`: the JSON API (under /api) and the server-rendered web UI, one FastAPI app.

Both are front doors onto the same functions as the CLI (`pipeline.review`, `pipeline.users`,
`pipeline.publish`, `index.search`); nothing here decides review semantics.

Authentication
  * API: ``Authorization: Bearer <token>``. No header = anonymous (public material only); an
    unknown or revoked token is 401 on every route. The API never reads the session cookie, so a
    browser cannot be tricked into calling it with the user's credentials (no CSRF surface).
  * Web UI: /login takes the token once and keeps it in a server-side session (in memory, keyed by
    a random id in an HttpOnly, SameSite=Lax cookie; a new id on every login). The token is checked
    again on every request, so revoking a user ends their sessions at once. Every session carries
    a synchroniser CSRF token that every form posts back; a POST without it is refused (403).

Visibility: an artefact is shown only when `review.visible(artefact, viewer)`; search hits are
filtered on their payload's visibility (before ranking) and again on the stored artefact; evidence
context and source pages need the source's own visibility.

Limits: request bodies over 64 KiB → 413; ``k`` outside 1..100 → 422; every 4xx is
``{"detail": "<message>"}`` (validation errors add ``errors``).
"""

from __future__ import annotations

import hmac
import re
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlencode

import numpy as np
from fastapi import FastAPI, Form, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException

from pipeline import charts
from pipeline import review as review_ops
from pipeline.citations import clock, format_citation, item_json
from pipeline.config import practice_home
from pipeline.models import Artefact, ArtefactStatus, Passage, PassageKind, Source, SourceStatus
from pipeline.settings import Settings, load_settings
from pipeline.stages import releases_root
from pipeline.store import open_store
from pipeline.users import User, UserError, add_user, authenticate, can_review, can_see, is_admin, list_users, revoke_user

HERE = Path(__file__).resolve().parent
MAX_BODY_BYTES = 64 * 1024
MAX_K = 100
SESSION_COOKIE = "practice_session"
SESSION_IDLE_SECONDS = 8 * 3600
MAX_SESSIONS = 5000
Need = Literal["reader", "reviewer", "admin"] | None
ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,128}$"
NAME_PATTERN = r"^[A-Za-z0-9_.@-]{1,64}$"
VISIBILITY_PATTERN = r"^(public|[A-Za-z0-9_.-]{1,64}([,;][A-Za-z0-9_.-]{1,64}){0,49})$"
LIVE = ("candidate", "approved")  # statuses that count as "in the index or on its way"


# --- errors ---------------------------------------------------------------------------------


class LoginRequired(Exception):
    """An HTML page needs a signed-in user: redirect to /login."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


def _unauthorized(message: str = "authentication required: send 'Authorization: Bearer <token>'") -> HTTPException:
    return HTTPException(401, message, headers={"WWW-Authenticate": "Bearer"})


def _require(user: User | None, need: Need) -> None:
    if need is None:
        return
    if user is None:
        raise _unauthorized()
    if need == "reviewer" and not can_review(user):
        raise HTTPException(403, "only reviewers and admins may do this")
    if need == "admin" and not is_admin(user):
        raise HTTPException(403, "only admins may do this")


def _review_status(exc: review_ops.ReviewError) -> int:
    if isinstance(exc, review_ops.NotFound):
        return 404
    return int(getattr(exc, "status_code", 409))


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = [str(x) for x in err.get("loc", ()) if x not in ("body", "query", "path")]
        parts.append(f"{'.'.join(loc) or 'request'}: {err.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


# --- request size limit ------------------------------------------------------------------------


class _TooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body too large: the limit is {limit // 1024} KiB")


class BodySizeLimit:
    """Refuses request bodies over a limit: by Content-Length up front, else while streaming."""

    def __init__(self, app: Any, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for key, value in scope.get("headers", ()):
            if key == b"content-length":
                try:
                    too_big = int(value) > self.max_bytes
                except ValueError:
                    too_big = False
                if too_big:
                    exc = _TooLarge(self.max_bytes)
                    await JSONResponse({"detail": exc.detail}, status_code=413)(scope, receive, send)
                    return
        seen = 0

        async def limited() -> dict[str, Any]:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge(self.max_bytes)
            return message

        await self.app(scope, limited, send)


# --- sessions ----------------------------------------------------------------------------------


class Sessions:
    """Server-side web sessions: random id → {token, csrf, flash}; idle ones expire."""

    def __init__(self, idle_seconds: int = SESSION_IDLE_SECONDS, max_sessions: int = MAX_SESSIONS) -> None:
        self.idle, self.max = idle_seconds, max_sessions
        self._data: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def get(self, sid: str | None) -> dict[str, Any] | None:
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
        sid = secrets.token_urlsafe(32)
        data = {"token": token, "csrf": secrets.token_urlsafe(32), "flash": [], "seen": time.monotonic()}
        with self._lock:
            if len(self._data) >= self.max:
                for old in sorted(self._data, key=lambda s: self._data[s]["seen"])[: len(self._data) // 10 + 1]:
                    del self._data[old]
            self._data[sid] = data
        return sid, data

    def drop(self, sid: str | None) -> None:
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
        self.session["flash"].append((kind, message))


# --- request bodies --------------------------------------------------------------------------------


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NoteBody(_Body):
    note: str | None = Field(None, max_length=4000)


class RejectBody(_Body):
    reason: str = Field(min_length=1, max_length=4000)


class EditBody(_Body):
    question: str | None = Field(None, max_length=8000)
    answer: str | None = Field(None, max_length=16000)
    name: str | None = Field(None, max_length=8000)
    context: str | None = Field(None, max_length=16000)
    problem: str | None = Field(None, max_length=16000)
    recommendation: str | None = Field(None, max_length=16000)
    items: list[str] | None = Field(None, max_length=200)
    note: str | None = Field(None, max_length=4000)


class MergeBody(_Body):
    into: str = Field(pattern=ID_PATTERN, description="id of the artefact this one folds into")
    note: str | None = Field(None, max_length=4000)


class WidenBody(_Body):
    visibility: str = Field(
        pattern=VISIBILITY_PATTERN,
        description='"public", or groups: "a,b" = member of a or b; "a;b" = member of a and of b',
    )
    note: str = Field(min_length=1, max_length=4000, description="why (goes to the audit log)")


class BulkBody(_Body):
    action: Literal["approve", "reject"]
    ids: list[str] = Field(min_length=1, max_length=200)
    reason: str | None = Field(None, max_length=4000)


class PublishBody(_Body):
    include_candidates: bool | None = None


class NewUserBody(_Body):
    name: str = Field(pattern=NAME_PATTERN)
    role: Literal["reader", "reviewer", "admin"]
    groups: list[str] = Field(default_factory=list, max_length=50)


EDIT_FIELDS = ("question", "answer", "name", "context", "problem", "recommendation", "items")


# --- the application ---------------------------------------------------------------------------------


class PracticeWeb:
    """Per-process state of the server: where the data lives, the searcher, the sessions."""

    def __init__(
        self,
        home: Path | None,
        embed: Callable[[list[str]], np.ndarray] | None,
        model_id: str | None,
        settings: Settings | None,
        config: Path | None,
    ) -> None:
        self.home = Path(home) if home is not None else practice_home()
        self._embed = embed
        self._model_id = model_id
        self._settings = settings
        self._config = config
        self.sessions = Sessions()
        self._searcher: Any = None
        self._lock = threading.Lock()
        self._release_rows: dict[str, list[tuple[str, str, str]]] = {}  # release id -> (visibility, kind, status)

    # -- resources ------------------------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self._config)
        return self._settings

    @property
    def releases(self) -> Path:
        return releases_root(self.home)

    def embedder(self) -> tuple[Callable[[list[str]], np.ndarray], str]:
        if self._embed is not None:
            return self._embed, self._model_id or "injected"
        from pipeline.stages import shared_service

        e = shared_service(self.settings)  # queries: deduplicated, not cached in the store (a reader)
        return e, e.model_name

    def searcher(self) -> Any:
        """The Searcher over the current release (reopened when CURRENT moves), or None."""
        from index.release import current_release_path
        from index.search import Searcher

        path = current_release_path(self.releases)
        if path is None:
            return None
        with self._lock:
            if self._searcher is None or self._searcher.path != path:
                self._searcher = Searcher.open(self.releases, embed=self._embed, **self.settings.search.searcher_options())
            return self._searcher

    @contextmanager
    def api(self, request: Request, need: Need = None) -> Iterator[tuple[Any, User | None]]:
        """Open the store for one API request and authenticate its bearer token."""
        header = request.headers.get("authorization")
        token = None
        if header is not None:
            scheme, _, value = header.partition(" ")
            if scheme.lower() != "bearer" or not value.strip():
                raise _unauthorized("malformed Authorization header: expected 'Bearer <token>'")
            token = value.strip()
        store = open_store(self.home)
        try:
            user = None
            if token is not None:
                user = authenticate(store, token)
                if user is None:
                    raise _unauthorized("invalid or revoked token")
            _require(user, need)
            yield store, user
        finally:
            store.close()

    @contextmanager
    def web(self, request: Request, need: Need = None, csrf: str | None = None, check_csrf: bool = False) -> Iterator[Web]:
        """Open the store for one HTML request with its session (created if missing)."""
        sid = request.cookies.get(SESSION_COOKIE)
        session = self.sessions.get(sid)
        new = session is None
        if session is None:
            if check_csrf:
                raise HTTPException(403, "your session expired: reload the page and try again")
            sid, session = self.sessions.new()
        assert sid is not None
        if check_csrf and not (csrf and hmac.compare_digest(str(csrf), session["csrf"])):
            raise HTTPException(403, "missing or invalid CSRF token: reload the page and try again")
        store = open_store(self.home)
        try:
            user = authenticate(store, session["token"]) if session.get("token") else None
            if session.get("token") and user is None:
                session["token"] = None  # revoked meanwhile: the session is signed out
            if need is not None and user is None:
                path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                raise LoginRequired(path if request.method == "GET" else "/")
            _require(user, need)
            yield Web(request, sid, session, new, user, store)
        finally:
            store.close()

    # -- shared reads -----------------------------------------------------------------------------

    def visible_artefacts(self, store: Any, user: User | None, **filters: Any) -> list[Artefact]:
        return [a for a in store.artefacts(**filters) if review_ops.visible(a, user)]

    def get_visible(self, store: Any, user: User | None, artefact_id: str) -> Artefact:
        a = store.get_artefact(artefact_id)
        if a is None or not review_ops.visible(a, user):
            raise HTTPException(404, f"no artefact {artefact_id!r}")  # hidden and missing look the same
        return a

    def sources(self, store: Any) -> dict[str, Source]:
        return {s.id: s for s in store.list_sources()}

    def item(self, a: Artefact, passages: dict[str, Passage], sources: dict[str, Source], user: User | None) -> dict[str, Any]:
        """The documented artefact JSON (`practice artefacts --json`) plus review fields."""
        data = item_json(a, passages, sources)
        data["merged_into"] = a.merged_into
        data["visibility_widened"] = getattr(a, "visibility_widened", None)
        data["created_at"] = a.created_at.isoformat()
        data["updated_at"] = a.updated_at.isoformat()
        data["url"] = f"/artefacts/{a.id}"
        for row, ev in zip(data["evidence"], a.evidence):
            p = passages.get(ev.passage_id)
            src = sources.get(p.source_id) if p else None
            if src is not None and not can_see(user, src.visibility):
                # an admin widened this artefact: its quotes are shown, the restricted source is not
                row["source"] = None
                row["source_restricted"] = True
            row["source_id"] = src.id if src is not None and can_see(user, src.visibility) else None
            row["location"] = _location(p) if (p is not None and row["source_id"]) else None
        return data

    def items(self, store: Any, artefacts: list[Artefact], user: User | None) -> list[dict[str, Any]]:
        passages = store.passages_by_id(e.passage_id for a in artefacts for e in a.evidence)
        sources = self.sources(store)
        return [self.item(a, passages, sources, user) for a in artefacts]

    def detail(self, store: Any, a: Artefact, user: User | None) -> dict[str, Any]:
        """One artefact with every quote in its context, suggestions, merges and (for reviewers) the audit log."""
        passages = store.passages_by_id(e.passage_id for e in a.evidence)
        sources = self.sources(store)
        data = self.item(a, passages, sources, user)
        for row in data["evidence"]:
            p = passages.get(row["passage_id"])
            row["context"] = []
            if p is not None and row["source_id"]:
                row["context"] = [
                    {
                        "passage_id": c.id,
                        "author": c.author,
                        "time": _time(c),
                        "timestamp": c.timestamp,
                        "section": " > ".join(c.section_path) or None,
                        "text": c.text,
                        "is_evidence": c.id == p.id,
                        "location": _location(c),
                    }
                    for c in _context(store, p)
                ]
        data["suggestions"] = self.suggestions(store, a, user)
        data["merged_from"] = [
            {"id": m.id, "title": m.title, "body": m.body, "support": m.support.model_dump()}
            for m in store.artefacts(status=ArtefactStatus.merged.value)
            if m.merged_into == a.id and review_ops.visible(m, user)
        ]
        if user is not None and can_review(user):
            data["audit"] = [_event_json(e) for e in review_ops.audit_log(store, artefact_id=a.id, limit=100)]
        return data

    def suggestions(self, store: Any, a: Artefact, user: User | None) -> list[dict[str, Any]]:
        out = []
        for x, y, score in store.suggestions(a.id):
            other = store.get_artefact(y if x == a.id else x)
            if other is None or other.status == ArtefactStatus.merged or not review_ops.visible(other, user):
                continue
            out.append(
                {
                    "id": other.id,
                    "score": round(score, 4),
                    "kind": other.kind.value,
                    "status": other.status.value,
                    "title": other.title,
                    "body": other.body,
                    "support": other.support.model_dump(),
                    "communities": other.communities,
                    "url": f"/artefacts/{other.id}",
                }
            )
        return out

    def search(self, store: Any, user: User | None, q: str, k: int, **filters: Any) -> dict[str, Any]:
        searcher = self.searcher()
        if searcher is None:
            return {"query": q, "release": None, "hits": [], "message": "no index release yet: publish one first"}
        allowed = [v for v in searcher.visibilities if can_see(user, v)]
        hits = searcher.search(q, k=k, visibility=allowed, **filters) if allowed else []
        passage_ids = [c["passage_id"] for h in hits for c in h.payload.get("citations", [])]
        passages = store.passages_by_id(passage_ids)
        sources = self.sources(store)
        out = []
        for h in hits:
            current = store.get_artefact(h.id)
            if current is not None and not review_ops.visible(current, user):
                continue  # visibility narrowed since the release was built
            hit = h.to_dict()
            hit["url"] = f"/artefacts/{h.id}" if current is not None else None
            for c in hit.get("citations", []):
                p = passages.get(c["passage_id"])
                src = sources.get(p.source_id) if p else None
                ok = src is not None and can_see(user, src.visibility)
                c["location"] = _location(p) if ok else None
                if src is not None and not ok:
                    c["source"] = None
                c["cited"] = format_citation(c)
            out.append(hit)
        return {"query": q, "release": searcher.release_id, "hits": out}

    def facets(self, store: Any, user: User | None) -> dict[str, list[str]]:
        """Filter options a viewer may see: communities of visible artefacts and the release."""
        communities: set[str] = set()
        for a in self.visible_artefacts(store, user):
            communities.update(a.communities)
        return {
            "communities": sorted(communities),
            "kinds": ["faq", "pattern"],
            "statuses": [s.value for s in ArtefactStatus],
            "source_kinds": ["transcript", "thread", "document"],
        }

    def queue(self, store: Any, user: User, kind: str | None, community: str | None, status: str, limit: int) -> list[Artefact]:
        return review_ops.review_queue(store, user, kind=kind, community=community, status=status, limit=limit)

    def release_rows(self, manifest: Any) -> list[tuple[str, str, str]]:
        """(visibility, kind, status) of every artefact of a release (cached: releases are immutable)."""
        from index.release import read_payloads

        rows = self._release_rows.get(manifest.release_id)
        if rows is None:
            payloads = read_payloads(manifest.path)
            rows = [(p.get("visibility") or "public", str(p.get("kind")), str(p.get("status"))) for p in payloads]
            self._release_rows[manifest.release_id] = rows
        return rows

    def release_counts(self, manifest: Any, user: User | None) -> dict[str, Any]:
        """A release's artefact counts over what the viewer may see (a manifest's totals would reveal
        that hidden artefacts exist)."""
        seen = [(kind, status) for vis, kind, status in self.release_rows(manifest) if can_see(user, vis)]
        return {
            "artefacts": len(seen),
            "counts_by_kind": dict(sorted(Counter(k for k, _ in seen).items())),
            "counts_by_status": dict(sorted(Counter(s for _, s in seen).items())),
        }

    def runs(self, store: Any, user: User | None) -> dict[str, Any]:
        from index.release import current_release_path, list_releases

        current = current_release_path(self.releases)
        releases = [
            {
                "release_id": m.release_id,
                "created_at": m.created_at,
                **self.release_counts(m, user),
                "model_id": m.model_id,
                "index_type": m.index_type,
                "include_candidates": m.include_candidates,
                "current": current is not None and m.release_id == current.name,
            }
            for m in reversed(list_releases(self.releases))
        ]
        ingestions = [
            {
                "source_id": s.id,
                "uri": s.uri,
                "kind": s.kind.value if s.kind else None,
                "status": s.status.value,
                "ingested_at": s.ingested_at.isoformat(),
                "error": s.error,
            }
            for s in sorted(store.list_sources(), key=lambda s: s.ingested_at, reverse=True)
            if can_see(user, s.visibility)
        ]
        return {"releases": releases, "ingestions": ingestions[:200]}

    def publish(self, include_candidates: bool | None) -> dict[str, Any]:
        from pipeline.publish import publish

        embed, model_id = self.embedder()
        p = self.settings.publish
        store = open_store(self.home)
        try:
            report = publish(
                store, embed, model_id, self.releases,
                p.include_candidates if include_candidates is None else include_candidates, p.index, p.keep,
            )  # fmt: skip
        finally:
            store.close()
        return report.to_json()

    def dashboard(self, store: Any, user: User | None) -> dict[str, Any]:
        """Counts for the dashboard, over what the viewer may see only."""
        visible = self.visible_artefacts(store, user)
        by_id = {a.id: a for a in visible}
        weeks: Counter[tuple[str, str, str]] = Counter()
        for a in visible:
            weeks[(_week(a.created_at), a.kind.value, a.status.value)] += 1
        throughput: Counter[tuple[str, str]] = Counter()
        for e in review_ops.audit_log(store, limit=100_000):
            if e.artefact_id in by_id:
                throughput[(_week(e.at), e.action)] += 1
        open_by_community: Counter[str] = Counter()
        for a in visible:
            if a.is_open_question and a.status.value in LIVE:
                for c in a.communities or ["(no community)"]:
                    open_by_community[c] += 1
        practices = sorted(
            (a for a in visible if a.kind.value == "pattern" and a.status.value in LIVE),
            key=lambda a: (-a.support.sources, -a.support.communities, -a.support.candidates, a.title),
        )[:10]
        failed = [
            {"id": s.id, "uri": s.uri, "kind": s.kind.value if s.kind else None, "error": s.error,
             "ingested_at": s.ingested_at.isoformat()}  # fmt: skip
            for s in store.list_sources()
            if s.status == SourceStatus.failed and can_see(user, s.visibility)
        ]
        totals = Counter(a.status.value for a in visible)
        return {
            "totals": {"artefacts": len(visible), **{s.value: totals.get(s.value, 0) for s in ArtefactStatus}},
            "artefacts_per_week": [
                {"week": w, "kind": k, "status": s, "count": n} for (w, k, s), n in sorted(weeks.items())
            ],
            "review_throughput": [{"week": w, "action": a, "count": n} for (w, a), n in sorted(throughput.items())],
            "open_questions_by_community": dict(open_by_community.most_common()),
            "most_supported_practices": [
                {"id": a.id, "name": a.title, "support": a.support.model_dump(), "communities": a.communities}
                for a in practices
            ],
            "sources_with_errors": failed,
        }


# --- helpers -----------------------------------------------------------------------------------


def _time(p: Passage) -> str | None:
    if p.start is None:
        return None
    return clock(p.start) + (f"–{clock(p.end)}" if p.end is not None else "")


def _location(p: Passage) -> str:
    """The source page anchored at a passage (its time, message or section)."""
    return f"/sources/{p.source_id}?around={p.id}#p-{p.id}"


def _week(when: datetime) -> str:
    d = when.date() if isinstance(when, datetime) else when
    return (d - timedelta(days=d.weekday())).isoformat()


def _event_json(e: Any) -> dict[str, Any]:
    data = e.model_dump(mode="json") if hasattr(e, "model_dump") else dict(e)
    return data


def _user_json(u: User) -> dict[str, Any]:
    data = u.model_dump(mode="json")
    data.pop("token_hash", None)
    return data


def _context(store: Any, p: Passage, radius: int = 2) -> list[Passage]:
    """The passages around one: its thread's messages, or the turns / elements next to it."""
    if p.kind == PassageKind.message and p.thread_id:
        thread = store.thread_passages(p.source_id, p.thread_id)
        idx = next((i for i, x in enumerate(thread) if x.id == p.id), None)
        if idx is not None:
            # the thread root, then a window around the message
            window = thread[max(0, idx - radius - 1) : idx + radius + 2]
            if thread and thread[0] not in window:
                window = [thread[0], *window]
            return window
    return store.passages_in_range(p.source_id, p.seq - radius, p.seq + radius)


def _parse_date(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise HTTPException(422, f"{name}: expected a date like 2026-09-14, got {value!r}") from None


def _safe_next(url: str | None, default: str) -> str:
    """Only local paths: never redirect to another site."""
    if url and url.startswith("/") and not url.startswith("//") and "\\" not in url:
        return url
    return default


def _home_for(user: User | None) -> str:
    return "/queue" if user is not None and can_review(user) else "/search"


# --- the app -----------------------------------------------------------------------------------


def create_app(
    home: Path | None = None,
    *,
    embed: Callable[[list[str]], np.ndarray] | None = None,
    model_id: str | None = None,
    settings: Settings | None = None,
    config: Path | None = None,
) -> FastAPI:
    """The FastAPI app: JSON API under /api, web UI at /, OpenAPI at /openapi.json and /docs.

    ``embed``/``model_id`` replace the bundled embedding model (tests); ``settings`` or ``config``
    (a practice.toml) give the publish options (default: $PRACTICE_CONFIG or ./practice.toml).
    """
    web = PracticeWeb(home, embed, model_id, settings, config)
    app = FastAPI(
        title="Practice Index",
        version="1",
        description=(
            "Reviewed, searchable practices and FAQs from communities of practice. Send "
            "`Authorization: Bearer <token>`; without it you act as an anonymous reader of public "
            "material. Swagger UI at /docs loads its script from a CDN; offline, read /openapi.json."
        ),
    )
    app.state.practice = web
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals["format_citation"] = format_citation
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.add_middleware(BodySizeLimit, max_bytes=MAX_BODY_BYTES)

    # -- error handling ------------------------------------------------------------------------

    def wants_json(request: Request) -> bool:
        return request.url.path.startswith("/api") or request.url.path in ("/openapi.json", "/docs")

    def error_page(request: Request, status: int, message: str) -> Response:
        """An HTML error page that still shows who is signed in (navigation stays useful)."""
        session = web.sessions.get(request.cookies.get(SESSION_COOKIE))
        user = None
        if session and session.get("token"):
            store = open_store(web.home)
            try:
                user = authenticate(store, session["token"])
            finally:
                store.close()
        context = {
            "status": status, "message": message, "user": user, "csrf": session["csrf"] if session else "",
            "flash": [], "can_review": can_review(user), "is_admin": is_admin(user), "path": request.url.path,
        }  # fmt: skip
        return templates.TemplateResponse(request, "error.html", context, status_code=status)

    @app.exception_handler(HTTPException)
    def http_error(request: Request, exc: HTTPException) -> Response:
        if wants_json(request):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        return error_page(request, exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    def validation_error(request: Request, exc: RequestValidationError) -> Response:
        message = _validation_message(exc)
        if wants_json(request):
            errors = [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in exc.errors()]
            return JSONResponse({"detail": message, "errors": errors}, status_code=422)
        return error_page(request, 422, message)

    @app.exception_handler(review_ops.ReviewError)
    def review_error(request: Request, exc: review_ops.ReviewError) -> Response:
        status = _review_status(exc)
        if wants_json(request):
            return JSONResponse({"detail": str(exc)}, status_code=status)
        return error_page(request, status, str(exc))

    @app.exception_handler(UserError)
    async def user_error(request: Request, exc: UserError) -> Response:
        status = 404 if str(exc).startswith("no user") else 409 if "exists" in str(exc) else 422
        return JSONResponse({"detail": str(exc)}, status_code=status)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse("/login?" + urlencode({"next": exc.next_url}), status_code=303)

    # -- HTML plumbing ------------------------------------------------------------------------------

    def finish(w: Web, response: Response) -> Response:
        if w.new:
            response.set_cookie(
                SESSION_COOKIE, w.sid, httponly=True, samesite="lax", path="/",
                secure=w.request.url.scheme == "https",
            )  # fmt: skip
        response.headers.setdefault("Cache-Control", "no-store")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'",
        )
        return response

    def render(w: Web, template: str, context: dict[str, Any], status: int = 200) -> Response:
        flash, w.session["flash"] = list(w.session["flash"]), []
        base = {
            "user": w.user,
            "csrf": w.session["csrf"],
            "flash": flash,
            "can_review": w.user is not None and can_review(w.user),
            "is_admin": w.user is not None and is_admin(w.user),
            "path": w.request.url.path,
        }
        return finish(w, templates.TemplateResponse(w.request, template, {**base, **context}, status_code=status))

    def redirect(w: Web, url: str) -> Response:
        return finish(w, RedirectResponse(url, status_code=303))

    # ================================================================================================
    # JSON API
    # ================================================================================================

    @app.get("/api/me", tags=["auth"], summary="Who the bearer token belongs to")
    def api_me(request: Request) -> dict[str, Any]:
        with web.api(request, "reader") as (_, user):
            assert user is not None
            return _user_json(user)

    @app.get("/api/search", tags=["search"], summary="Hybrid search over the current index release")
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
    ) -> dict[str, Any]:
        with web.api(request) as (store, user):
            return web.search(
                store, user, q, k, kind=kind, community=community, status=status,
                source_kind=source_kind, since=since, until=until,
            )  # fmt: skip

    @app.get("/api/artefacts", tags=["artefacts"], summary="Artefacts the caller may see, with evidence")
    def api_artefacts(
        request: Request,
        kind: Literal["faq", "pattern"] | None = None,
        status: Literal["candidate", "approved", "rejected", "merged", "stale"] | None = None,
        community: str | None = Query(None, max_length=200),
        open: bool | None = Query(None, description="only open (unanswered) questions"),
        limit: int = Query(50, ge=1, le=500),
        offset: int = Query(0, ge=0),
    ) -> dict[str, Any]:
        with web.api(request) as (store, user):
            items = web.visible_artefacts(store, user, kind=kind, status=status)
            if community:
                items = [a for a in items if community in a.communities]
            if open is not None:
                items = [a for a in items if a.is_open_question == open]
            items.sort(key=lambda a: (a.updated_at, a.id), reverse=True)
            page = items[offset : offset + limit]
            return {"total": len(items), "offset": offset, "limit": limit, "items": web.items(store, page, user)}

    @app.get("/api/artefacts/{artefact_id}", tags=["artefacts"], summary="One artefact: evidence in context, suggestions")
    def api_artefact(request: Request, artefact_id: str) -> dict[str, Any]:
        with web.api(request) as (store, user):
            return web.detail(store, web.get_visible(store, user, artefact_id), user)

    @app.get("/api/artefacts/{artefact_id}/suggestions", tags=["artefacts"], summary="Possible duplicates")
    def api_suggestions(request: Request, artefact_id: str) -> list[dict[str, Any]]:
        with web.api(request) as (store, user):
            return web.suggestions(store, web.get_visible(store, user, artefact_id), user)

    @app.get("/api/queue", tags=["review"], summary="The review queue, ordered by impact")
    def api_queue(
        request: Request,
        kind: Literal["faq", "pattern"] | None = None,
        community: str | None = Query(None, max_length=200),
        status: Literal["candidate", "approved", "rejected", "merged", "stale"] = "candidate",
        limit: int = Query(50, ge=1, le=500),
    ) -> list[dict[str, Any]]:
        with web.api(request, "reviewer") as (store, user):
            assert user is not None
            return web.items(store, web.queue(store, user, kind, community, status, limit), user)

    def act(request: Request, artefact_id: str, op: Callable[[Any, str], Any], need: Need = "reviewer") -> dict[str, Any]:
        with web.api(request, need) as (store, user):
            assert user is not None
            web.get_visible(store, user, artefact_id)
            result = op(store, user.name)
            if isinstance(result, tuple):
                return {"source": web.items(store, [result[0]], user)[0], "target": web.items(store, [result[1]], user)[0]}
            return web.items(store, [result], user)[0]

    @app.post("/api/artefacts/{artefact_id}/approve", tags=["review"], summary="Approve")
    def api_approve(request: Request, artefact_id: str, body: NoteBody | None = None) -> dict[str, Any]:
        note = body.note if body else None
        return act(request, artefact_id, lambda s, actor: review_ops.approve(s, artefact_id, actor, note=note))

    @app.post("/api/artefacts/{artefact_id}/reject", tags=["review"], summary="Reject (a reason is required)")
    def api_reject(request: Request, artefact_id: str, body: RejectBody) -> dict[str, Any]:
        return act(request, artefact_id, lambda s, actor: review_ops.reject(s, artefact_id, actor, body.reason))

    @app.post("/api/artefacts/{artefact_id}/edit", tags=["review"], summary="Edit the text fields")
    def api_edit(request: Request, artefact_id: str, body: EditBody) -> dict[str, Any]:
        changes = body.model_dump(include=set(EDIT_FIELDS), exclude_none=True)
        if not changes:
            raise HTTPException(422, f"nothing to change: give one of {', '.join(EDIT_FIELDS)}")
        return act(request, artefact_id, lambda s, actor: review_ops.edit(s, artefact_id, actor, changes, note=body.note))

    @app.post("/api/artefacts/{artefact_id}/merge", tags=["review"], summary="Fold this artefact into another")
    def api_merge(request: Request, artefact_id: str, body: MergeBody) -> dict[str, Any]:
        with web.api(request, "reviewer") as (store, user):
            assert user is not None
            web.get_visible(store, user, artefact_id)
            web.get_visible(store, user, body.into)  # the target must be visible too
            target = review_ops.merge(store, artefact_id, body.into, user.name, note=body.note)
            return web.items(store, [target], user)[0]

    @app.post("/api/artefacts/{artefact_id}/unmerge", tags=["review"], summary="Undo a merge of this artefact")
    def api_unmerge(request: Request, artefact_id: str, body: NoteBody | None = None) -> dict[str, Any]:
        note = body.note if body else None
        return act(request, artefact_id, lambda s, actor: review_ops.unmerge(s, artefact_id, actor, note=note))

    @app.post("/api/artefacts/{artefact_id}/stale", tags=["review"], summary="Mark stale (out of date)")
    def api_stale(request: Request, artefact_id: str, body: NoteBody | None = None) -> dict[str, Any]:
        note = body.note if body else None
        return act(request, artefact_id, lambda s, actor: review_ops.mark_stale(s, artefact_id, actor, note=note))

    @app.post("/api/artefacts/{artefact_id}/visibility", tags=["review"], summary="Widen visibility (admins, audited)")
    def api_widen(request: Request, artefact_id: str, body: WidenBody) -> dict[str, Any]:
        return act(
            request, artefact_id,
            lambda s, actor: review_ops.widen_visibility(s, artefact_id, actor, body.visibility, body.note),
            need="admin",
        )  # fmt: skip

    @app.post("/api/review/bulk", tags=["review"], summary="Approve, reject or mark stale many artefacts")
    def api_bulk(request: Request, body: BulkBody) -> list[dict[str, Any]]:
        with web.api(request, "reviewer") as (store, user):
            assert user is not None
            for artefact_id in body.ids:
                web.get_visible(store, user, artefact_id)
            done = review_ops.bulk(store, body.action, body.ids, user.name, reason=body.reason)
            return web.items(store, done, user)

    @app.get("/api/audit", tags=["review"], summary="The review audit log, newest first")
    def api_audit(
        request: Request,
        artefact_id: str | None = Query(None, max_length=128),
        limit: int = Query(200, ge=1, le=1000),
    ) -> list[dict[str, Any]]:
        with web.api(request, "reviewer") as (store, user):
            events = review_ops.audit_log(store, artefact_id=artefact_id, limit=limit)
            seen: dict[str, bool] = {}
            out = []
            for e in events:
                if e.artefact_id not in seen:
                    a = store.get_artefact(e.artefact_id)
                    seen[e.artefact_id] = a is not None and review_ops.visible(a, user)
                if seen[e.artefact_id]:
                    out.append(_event_json(e))
            return out

    @app.post("/api/publish", tags=["review"], summary="Publish a new index release of the approved artefacts")
    def api_publish(request: Request, body: PublishBody | None = None) -> dict[str, Any]:
        with web.api(request, "reviewer"):
            return web.publish(body.include_candidates if body else None)

    @app.get("/api/sources", tags=["sources"], summary="Sources and their ingestion status")
    def api_sources(request: Request) -> list[dict[str, Any]]:
        with web.api(request, "reader") as (store, user):
            return [
                {
                    "id": s.id, "uri": s.uri, "kind": s.kind.value if s.kind else None, "format": s.format,
                    "community": s.community, "visibility": s.visibility, "status": s.status.value,
                    "error": s.error, "warnings": s.warnings, "passages": s.passage_count,
                    "size_bytes": s.size_bytes, "ingested_at": s.ingested_at.isoformat(),
                }  # fmt: skip
                for s in store.list_sources()
                if can_see(user, s.visibility)
            ]

    @app.get("/api/runs", tags=["sources"], summary="Index releases and source ingestion times")
    def api_runs(request: Request) -> dict[str, Any]:
        with web.api(request, "reader") as (store, user):
            return web.runs(store, user)

    @app.get("/api/dashboard", tags=["dashboard"], summary="The dashboard's numbers")
    def api_dashboard(request: Request) -> dict[str, Any]:
        with web.api(request, "reader") as (store, user):
            return web.dashboard(store, user)

    @app.get("/api/users", tags=["users"], summary="Users (admins only)")
    def api_users(request: Request) -> list[dict[str, Any]]:
        with web.api(request, "admin") as (store, _):
            return [_user_json(u) for u in list_users(store)]

    @app.post("/api/users", tags=["users"], summary="Add a user; the token is shown once", status_code=201)
    def api_add_user(request: Request, body: NewUserBody) -> dict[str, Any]:
        with web.api(request, "admin") as (store, _):
            user, token = add_user(store, body.name, body.role, body.groups)
            return {"user": _user_json(user), "token": token}

    @app.post("/api/users/{name}/revoke", tags=["users"], summary="Revoke a user's token (admins only)")
    def api_revoke_user(request: Request, name: str) -> dict[str, Any]:
        with web.api(request, "admin") as (store, _):
            revoke_user(store, name)
            return {"name": name, "revoked": True}

    # ================================================================================================
    # Web UI
    # ================================================================================================

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return RedirectResponse("/static/favicon.svg", status_code=301)

    @app.get("/", include_in_schema=False)
    def home(request: Request) -> Response:
        with web.web(request) as w:
            return redirect(w, _home_for(w.user))

    @app.get("/login", include_in_schema=False)
    def login_page(request: Request, next: str | None = None) -> Response:
        with web.web(request) as w:
            return render(w, "login.html", {"next": _safe_next(next, ""), "error": None})

    @app.post("/login", include_in_schema=False)
    def login(
        request: Request,
        token: str = Form("", max_length=512),
        csrf_token: str = Form(""),
        next: str = Form(""),
    ) -> Response:
        with web.web(request, csrf=csrf_token, check_csrf=True) as w:
            user = authenticate(w.store, token.strip()) if token.strip() else None
            if user is None:
                return render(w, "login.html", {"next": _safe_next(next, ""), "error": "Invalid or revoked token."}, 401)
            web.sessions.drop(w.sid)  # a fresh session id on login (no fixation)
            sid, session = web.sessions.new(token.strip())
            session["flash"].append(("ok", f"Signed in as {user.name} ({user.role.value})."))
            w.sid, w.session, w.new, w.user = sid, session, True, user
            return redirect(w, _safe_next(next, _home_for(user)))

    @app.get("/logout", include_in_schema=False)
    def logout_page(request: Request) -> Response:
        with web.web(request) as w:
            return render(w, "logout.html", {})

    @app.post("/logout", include_in_schema=False)
    def logout(request: Request, csrf_token: str = Form("")) -> Response:
        with web.web(request, csrf=csrf_token, check_csrf=True) as w:
            web.sessions.drop(w.sid)
            response = RedirectResponse("/login", status_code=303)
            response.delete_cookie(SESSION_COOKIE, path="/")
            return response

    @app.get("/queue", include_in_schema=False)
    def queue_page(
        request: Request,
        kind: str | None = None,
        community: str | None = None,
        status: str = "candidate",
        limit: int = Query(50, ge=1, le=500),
    ) -> Response:
        with web.web(request, "reviewer") as w:
            assert w.user is not None
            kind = kind or None
            community = community or None
            if kind not in (None, "faq", "pattern"):
                raise HTTPException(422, f"kind: expected faq or pattern, got {kind!r}")
            if status not in {s.value for s in ArtefactStatus}:
                raise HTTPException(422, f"status: unknown status {status!r}")
            items = web.queue(w.store, w.user, kind, community, status, limit)
            from index.release import current_release

            release = current_release(web.releases)
            seen = {a.id for a in web.visible_artefacts(w.store, w.user)}  # a count must not reveal hidden ones
            return render(
                w, "queue.html",
                {
                    "items": items, "filters": {"kind": kind or "", "community": community or "", "status": status},
                    "facets": web.facets(w.store, w.user), "release": release,
                    "release_artefacts": web.release_counts(release, w.user)["artefacts"] if release else 0,
                    "return_to": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
                    "suggestion_counts": Counter(
                        x for a, b, _ in w.store.suggestions() if a in seen and b in seen for x in (a, b)
                    ),
                },
            )  # fmt: skip

    @app.post("/queue/bulk", include_in_schema=False)
    def queue_bulk(
        request: Request,
        csrf_token: str = Form(""),
        action: str = Form(""),
        ids: list[str] = Form([]),
        reason: str = Form("", max_length=4000),
        return_to: str = Form(""),
    ) -> Response:
        back = _safe_next(return_to, "/queue")
        with web.web(request, "reviewer", csrf=csrf_token, check_csrf=True) as w:
            assert w.user is not None
            if not ids:
                w.flash("Select artefacts first (x toggles the selected row).", "error")
                return redirect(w, back)
            if action not in ("approve", "reject"):
                raise HTTPException(422, f"unknown bulk action {action!r}")
            if len(ids) > 200:
                raise HTTPException(422, "at most 200 artefacts at once")
            for i in ids:
                web.get_visible(w.store, w.user, i)
            if action == "reject" and not reason.strip():
                w.flash("A reason is required to reject.", "error")
                return redirect(w, back)
            try:
                done = review_ops.bulk(w.store, action, ids, w.user.name, reason=reason.strip() or None)
                w.flash(f"{action.capitalize()}: {len(done)} artefact(s).")
            except review_ops.ReviewError as exc:
                w.flash(str(exc), "error")
            return redirect(w, back)

    @app.get("/artefacts/{artefact_id}", include_in_schema=False)
    def artefact_page(request: Request, artefact_id: str) -> Response:
        with web.web(request) as w:
            a = web.get_visible(w.store, w.user, artefact_id)
            data = web.detail(w.store, a, w.user)
            nav: dict[str, str | None] = {"next": None, "prev": None}
            if w.user is not None and can_review(w.user) and a.status == ArtefactStatus.candidate:
                ids = [x.id for x in web.queue(w.store, w.user, None, None, "candidate", 500)]
                if a.id in ids:
                    i = ids.index(a.id)
                    nav["next"] = f"/artefacts/{ids[i + 1]}" if i + 1 < len(ids) else None
                    nav["prev"] = f"/artefacts/{ids[i - 1]}" if i > 0 else None
            return render(w, "artefact.html", {"a": a, "d": data, "nav": nav})

    @app.post("/artefacts/{artefact_id}/{action}", include_in_schema=False)
    def artefact_action(
        request: Request,
        artefact_id: str,
        action: Literal["approve", "reject", "edit", "merge", "unmerge", "stale", "visibility"],
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
        with web.web(request, need, csrf=csrf_token, check_csrf=True) as w:
            assert w.user is not None
            a = web.get_visible(w.store, w.user, artefact_id)
            back = _safe_next(return_to, f"/artefacts/{artefact_id}")
            actor, note_ = w.user.name, note.strip() or None
            try:
                if action == "approve":
                    review_ops.approve(w.store, artefact_id, actor, note=note_)
                    w.flash(f"Approved: {a.title}")
                elif action == "reject":
                    if not reason.strip():
                        w.flash("A reason is required to reject.", "error")
                        return redirect(w, f"/artefacts/{artefact_id}")
                    review_ops.reject(w.store, artefact_id, actor, reason.strip())
                    w.flash(f"Rejected: {a.title}")
                elif action == "stale":
                    review_ops.mark_stale(w.store, artefact_id, actor, note=note_)
                    w.flash(f"Marked stale: {a.title}")
                elif action == "edit":
                    given = {"question": question, "answer": answer, "name": name, "context": context,
                             "problem": problem, "recommendation": recommendation}  # fmt: skip
                    changes: dict[str, Any] = {
                        k: v.strip() for k, v in given.items() if v is not None and v.strip() != (getattr(a, k) or "")
                    }
                    if items is not None:
                        new_items = [line.strip().lstrip("-• ").strip() for line in items.splitlines() if line.strip()]
                        if new_items != a.items:
                            changes["items"] = new_items
                    if not changes:
                        w.flash("Nothing changed.", "info")
                    else:
                        review_ops.edit(w.store, artefact_id, actor, changes, note=note_)
                        w.flash(f"Saved: {', '.join(sorted(changes))}")
                    back = f"/artefacts/{artefact_id}"
                elif action == "merge":
                    target = into.strip()
                    if not re.match(ID_PATTERN, target):
                        w.flash("Give the id of the artefact to merge into.", "error")
                        return redirect(w, f"/artefacts/{artefact_id}")
                    web.get_visible(w.store, w.user, target)
                    review_ops.merge(w.store, artefact_id, target, actor, note=note_)
                    w.flash(f"Merged “{a.title}” into this artefact.")
                    back = _safe_next(return_to, f"/artefacts/{target}")
                elif action == "unmerge":
                    review_ops.unmerge(w.store, artefact_id, actor, note=note_)
                    w.flash(f"Unmerged: {a.title}")
                    back = f"/artefacts/{artefact_id}"
                elif action == "visibility":
                    vis = visibility.strip()
                    if not re.match(VISIBILITY_PATTERN, vis) or not note_:
                        w.flash('Give "public" or comma-separated groups, and a note saying why.', "error")
                        return redirect(w, f"/artefacts/{artefact_id}")
                    review_ops.widen_visibility(w.store, artefact_id, actor, vis, note_)
                    w.flash(f"Visibility widened to {vis}.")
                    back = f"/artefacts/{artefact_id}"
            except review_ops.NotFound:
                raise HTTPException(404, f"no artefact {artefact_id!r}") from None
            except review_ops.ReviewError as exc:
                w.flash(str(exc), "error")
                return redirect(w, f"/artefacts/{artefact_id}")
            return redirect(w, back)

    @app.post("/publish", include_in_schema=False)
    def publish_action(request: Request, csrf_token: str = Form(""), return_to: str = Form("")) -> Response:
        with web.web(request, "reviewer", csrf=csrf_token, check_csrf=True) as w:
            report = web.publish(None)
            if report["published"]:
                w.flash(f"Published release {report['release_id']} with {report['artefacts']} artefact(s).")
            else:
                w.flash(f"No new release: {report['reason']}.", "info")
            return redirect(w, _safe_next(return_to, "/queue"))

    @app.get("/search", include_in_schema=False)
    def search_page(
        request: Request,
        q: str = Query("", max_length=1000),
        k: int = Query(10, ge=1, le=MAX_K),
        kind: str = "",
        community: str = "",
        source_kind: str = "",
        status: str = "",
        since: str = "",
        until: str = "",
    ) -> Response:
        with web.web(request) as w:
            if kind not in ("", "faq", "pattern") or source_kind not in ("", "transcript", "thread", "document") \
                    or status not in ("", "approved", "candidate"):  # fmt: skip
                raise HTTPException(422, "unknown filter value")
            result = None
            if q.strip():
                result = web.search(
                    w.store, w.user, q.strip(), k, kind=kind or None, community=community or None,
                    status=status or None, source_kind=source_kind or None,
                    since=_parse_date(since, "since"), until=_parse_date(until, "until"),
                )  # fmt: skip
            filters = {"q": q, "k": k, "kind": kind, "community": community, "source_kind": source_kind,
                       "status": status, "since": since, "until": until}  # fmt: skip
            return render(w, "search.html", {"result": result, "filters": filters, "facets": web.facets(w.store, w.user)})

    @app.get("/dashboard", include_in_schema=False)
    def dashboard_page(request: Request) -> Response:
        with web.web(request, "reader") as w:
            stats = web.dashboard(w.store, w.user)
            return render(w, "dashboard.html", {"s": stats, "charts": _dashboard_charts(stats)})

    @app.get("/sources", include_in_schema=False)
    def sources_page(request: Request) -> Response:
        with web.web(request, "reader") as w:
            sources = [s for s in w.store.list_sources() if can_see(w.user, s.visibility)]
            return render(w, "sources.html", {"sources": sources, "runs": web.runs(w.store, w.user)})

    @app.get("/sources/{source_id}", include_in_schema=False)
    def source_page(request: Request, source_id: str, around: str | None = None, offset: int = Query(0, ge=0)) -> Response:
        with web.web(request, "reader") as w:
            src = next((s for s in w.store.list_sources() if s.id == source_id), None)
            if src is None or not can_see(w.user, src.visibility):
                raise HTTPException(404, f"no source {source_id!r}")
            anchor = w.store.passages_by_id([around]).get(around) if around else None
            if anchor is not None and anchor.source_id == source_id:
                lo = max(0, anchor.seq - 25)
            else:
                anchor, lo = None, offset
            window = w.store.passages_in_range(source_id, lo, lo + 59)
            return render(
                w, "source.html",
                {"src": src, "passages": window, "anchor": anchor, "lo": lo, "time": _time,
                 "more": len(window) == 60, "count": src.passage_count},
            )  # fmt: skip

    @app.get("/audit", include_in_schema=False)
    def audit_page(request: Request) -> Response:
        with web.web(request, "reviewer") as w:
            events = []
            seen: dict[str, Artefact | None] = {}
            for e in review_ops.audit_log(w.store, limit=300):
                if e.artefact_id not in seen:
                    a = w.store.get_artefact(e.artefact_id)
                    seen[e.artefact_id] = a if a is not None and review_ops.visible(a, w.user) else None
                if seen[e.artefact_id] is not None:
                    events.append((e, seen[e.artefact_id]))
            return render(w, "audit.html", {"events": events})

    @app.get("/users", include_in_schema=False)
    def users_page(request: Request) -> Response:
        with web.web(request, "admin") as w:
            return render(w, "users.html", {"users": list_users(w.store)})

    @app.post("/users", include_in_schema=False)
    def users_add(
        request: Request,
        csrf_token: str = Form(""),
        name: str = Form("", max_length=64),
        role: str = Form("reader"),
        groups: str = Form("", max_length=1000),
    ) -> Response:
        with web.web(request, "admin", csrf=csrf_token, check_csrf=True) as w:
            group_list = [g.strip() for g in groups.split(",") if g.strip()]
            if not re.match(NAME_PATTERN, name) or role not in ("reader", "reviewer", "admin") or not all(
                re.match(r"^[A-Za-z0-9_.-]{1,64}$", g) for g in group_list
            ):
                w.flash("Invalid name, role or group (letters, digits, _ . - only).", "error")
            else:
                try:
                    _, token = add_user(w.store, name, role, group_list)
                    w.flash(f"Added {name}. Their token (shown once): {token}", "token")
                except UserError as exc:
                    w.flash(str(exc), "error")
            return redirect(w, "/users")

    @app.post("/users/{name}/revoke", include_in_schema=False)
    def users_revoke(request: Request, name: str, csrf_token: str = Form("")) -> Response:
        with web.web(request, "admin", csrf=csrf_token, check_csrf=True) as w:
            try:
                revoke_user(w.store, name)
                w.flash(f"Revoked {name}.")
            except UserError as exc:
                w.flash(str(exc), "error")
            return redirect(w, "/users")

    return app


def _dashboard_charts(s: dict[str, Any]) -> dict[str, Any]:
    """The dashboard's SVG charts from its numbers."""
    statuses = [st.value for st in ArtefactStatus]
    weeks = sorted({r["week"] for r in s["artefacts_per_week"]})[-26:]
    per_kind = {}
    for kind in ("faq", "pattern"):
        series = {st: [0] * len(weeks) for st in statuses}
        for r in s["artefacts_per_week"]:
            if r["kind"] == kind and r["week"] in weeks:
                series[r["status"]][weeks.index(r["week"])] += r["count"]
        series = {k: v for k, v in series.items() if any(v)}
        per_kind[kind] = charts.stacked_bars(
            f"{kind} artefacts per week by status", [_short_week(w) for w in weeks], series, charts.STATUS_COLORS
        )
    t_weeks = sorted({r["week"] for r in s["review_throughput"]})[-26:]
    actions = sorted({r["action"] for r in s["review_throughput"]})
    t_series = {a: [0] * len(t_weeks) for a in actions}
    for r in s["review_throughput"]:
        if r["week"] in t_weeks:
            t_series[r["action"]][t_weeks.index(r["week"])] += r["count"]
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


__all__ = ["MAX_BODY_BYTES", "MAX_K", "SESSION_COOKIE", "create_app"]
