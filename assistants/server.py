"""The MCP server: search, fetch an artefact with its evidence, open questions, propose a FAQ.

Who is calling decides what every tool shows, exactly as in the web API:

- stdio (a local assistant starts `practice mcp`): the user is fixed for the process: `--user NAME`
  (a user of `practice users`), else the token in $PRACTICE_TOKEN, else an anonymous reader who sees
  public material only. Naming a user without a token is no escalation: whoever can start the
  process can read the store's files anyway.
- streamable HTTP: every request carries `Authorization: Bearer <token>`; the token is checked with
  `pipeline.users.authenticate` (the web API's check) on every tool call, so a revoked token stops
  working at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, Literal

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.transport_security import TransportSecuritySettings
from pydantic import BaseModel, Field
from starlette.applications import Starlette
from starlette.exceptions import HTTPException

from pipeline.proposals import propose_faq
from pipeline.review import ReviewError
from pipeline.settings import Settings
from pipeline.store import open_store
from pipeline.users import User, UnknownUser, authenticate, list_users
from web import views
from web.limits import MAX_K
from web.state import PracticeWeb

# Who is calling, given the open store and the tool call's context (None: an anonymous reader).
Caller = Callable[[Any, Context], User | None]
INSTRUCTIONS = (
    "Practice Index: reviewed FAQs and practices of communities of practice, each with verbatim "
    "quotes from the conversations, meetings and documents it rests on. Search first; cite the "
    "`cited` string of a hit's citations; fetch an artefact for its evidence in context."
)


class EvidenceIn(BaseModel):
    """One passage a proposed FAQ rests on, with a quote that occurs verbatim in it."""

    passage_id: str = Field(description="a passage id, e.g. from a search hit's citations or an artefact's evidence")
    quote: str = Field(description="text copied verbatim from that passage")


def local_caller(home: Path, user_name: str | None, token: str | None) -> Caller:
    """The fixed caller of a stdio server (see the module docstring); raises UnknownUser up front."""
    store = open_store(home)
    try:
        if user_name:
            user = next((u for u in list_users(store) if u.name == user_name and not u.revoked), None)
            if user is None:
                raise UnknownUser(f"no active user {user_name!r}: see `practice users list`")
        elif token:
            user = authenticate(store, token)
            if user is None:
                raise UnknownUser("the token in $PRACTICE_TOKEN is unknown or revoked")
        else:
            user = None
    finally:
        store.close()
    return lambda store, ctx: user


def bearer_caller(store: Any, ctx: Context) -> User | None:
    """The user of an HTTP request's bearer token, checked again now (it may have been revoked)."""
    access = _access_token(ctx)
    user = authenticate(store, access.token) if access is not None else None
    if user is None:
        raise ToolError("invalid or revoked token")
    return user


def _access_token(ctx: Context) -> AccessToken | None:
    request = ctx.request_context.request
    scope_user = request.scope.get("user") if request is not None and hasattr(request, "scope") else None
    return getattr(scope_user, "access_token", None) or get_access_token()


class StoreTokenVerifier:
    """The SDK's bearer check, answered by the product's users and tokens (`authenticate`)."""

    def __init__(self, home: Path) -> None:
        self.home = home

    async def verify_token(self, token: str) -> AccessToken | None:
        """An AccessToken naming the token's user, or None for an unknown or revoked token."""
        store = open_store(self.home)
        try:
            user = authenticate(store, token)
        finally:
            store.close()
        if user is None:
            return None
        return AccessToken(token=token, client_id=user.name, subject=user.name, scopes=[user.role.value])


def build_server(
    home: Path, caller: Caller, *, embed: Any = None, model_id: str | None = None, settings: Settings | None = None,
    auth: AuthSettings | None = None, token_verifier: StoreTokenVerifier | None = None,
) -> MCPServer:  # fmt: skip
    """An MCP server over the store and index releases under `home`, answering as `caller` may see."""
    state = PracticeWeb(home, embed, model_id, settings, None)  # the web API's searcher and settings
    server = MCPServer(
        name="practice-index", instructions=INSTRUCTIONS, auth=auth, token_verifier=token_verifier, log_level="WARNING"
    )

    @contextmanager
    def session(ctx: Context) -> Iterator[tuple[Any, User | None]]:
        store = open_store(state.home)
        try:
            yield store, caller(store, ctx)
        except HTTPException as exc:  # web.views' 404 for a missing or hidden artefact
            raise ToolError(str(exc.detail)) from None
        except ReviewError as exc:
            raise ToolError(str(exc)) from None
        finally:
            store.close()

    @server.tool()
    def search(
        query: str, ctx: Context, k: int = 10, kind: Literal["faq", "pattern"] | None = None,
        community: str | None = None, status: Literal["approved", "candidate"] | None = None,
        source_kind: Literal["transcript", "thread", "document"] | None = None,
        since: date | None = None, until: date | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """Search the practice index (FAQs and practices) for a question.

        Hits come best first, each with its support (how many sources, authors and communities back
        it) and citations: verbatim quotes with where they were said (`cited` is ready to show).
        `match` says how good the answer is: "strong", "possible", or "none" (no good match: the
        index has nothing close enough; say so rather than answering from an unrelated hit).
        Same JSON as GET /api/search.
        """
        if not query.strip() or len(query) > 1000 or not 1 <= k <= MAX_K:
            raise ToolError(f"query: 1..1000 characters; k: 1..{MAX_K}")
        with session(ctx) as (store, user):
            return views.search(
                state.searcher(), store, user, query.strip(), k, kind=kind, community=community, status=status,
                source_kind=source_kind, since=since, until=until,
            )  # fmt: skip

    @server.tool()
    def get_artefact(artefact_id: str, ctx: Context) -> dict[str, Any]:
        """One FAQ or practice with all its evidence: each quote in its surrounding messages or turns,
        its support, possible duplicates and merges. Same JSON as GET /api/artefacts/{id}."""
        with session(ctx) as (store, user):
            return views.detail(store, views.get_visible(store, user, artefact_id), user)

    @server.tool()
    def open_questions(ctx: Context, community: str | None = None, limit: int = 50, offset: int = 0) -> dict[str, Any]:
        """Questions asked in a community (or all) that nobody credibly answered yet, newest first."""
        if not 1 <= limit <= 500 or offset < 0:
            raise ToolError("limit: 1..500; offset: 0 or more")
        with session(ctx) as (store, user):
            found = [
                a for a in views.visible_artefacts(store, user, kind="faq")
                if a.is_open_question and a.status.value in views.LIVE and (not community or community in a.communities)
            ]  # fmt: skip
            found.sort(key=lambda a: (a.updated_at, a.id), reverse=True)
            page = found[offset : offset + limit]
            return {"community": community, "total": len(found), "offset": offset, "limit": limit,
                    "items": views.items(store, page, user)}  # fmt: skip

    @server.tool()
    def propose_faq_candidate(
        question: str, answer: str, evidence: list[EvidenceIn], ctx: Context, note: str | None = None
    ) -> dict[str, Any]:
        """Reviewers only: put a new FAQ in the review queue as a candidate, citing at least one
        passage (its id and a verbatim quote). Reviewers approve or reject it as any candidate."""
        with session(ctx) as (store, user):
            a = propose_faq(store, user, question, answer, [e.model_dump() for e in evidence], note)
            return views.items(store, [a], user)[0]

    return server


def http_app(
    home: Path, host: str, port: int, *, settings: Settings | None = None, embed: Any = None, model_id: str | None = None
) -> Starlette:
    """The streamable-HTTP MCP app at /mcp: every request needs a user's bearer token."""
    url = f"http://{'localhost' if host in ('127.0.0.1', '::1') else host}:{port}"
    server = build_server(
        home, bearer_caller, embed=embed, model_id=model_id, settings=settings,
        # A resource server only: the tokens come from `practice users add`, not from an OAuth flow.
        # validate_token_resource off: a product token is valid for this server, it names no audience.
        auth=AuthSettings(issuer_url=url, resource_server_url=f"{url}/mcp", validate_token_resource=False),
        token_verifier=StoreTokenVerifier(home),
    )  # fmt: skip
    local = host in ("127.0.0.1", "localhost", "::1")
    security = TransportSecuritySettings(enable_dns_rebinding_protection=local, allowed_hosts=[f"{h}:{port}" for h in ("127.0.0.1", "localhost")])
    return server.streamable_http_app(transport_security=security, host=host)
