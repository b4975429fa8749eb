"""`practice serve`: the JSON API (under /api) and the server-rendered web UI, one FastAPI app.

Why a top-level package beside `flows/`: the web is a front door, like the CLI and the Prefect
flows, and the design keeps FastAPI out of the core (`pipeline/`, `extractors/`, `index/`; see
tests/test_core_imports.py). Nothing here decides review semantics: the rules (which actions each
status offers, what a repeat does, reasons) live in `pipeline.review`; this package only
translates them to HTTP and HTML.

Layout: `app` (the factory), `state` (per-process resources), `auth` (tokens, sessions, CSRF),
`limits` (body size, patterns), `bodies` (request models), `views` (JSON shapes over what a viewer
may see), `html` (rendering, redirects, error pages), `routers/` (one module per noun), and the
templates and static files beside them.

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

from web.app import create_app
from web.auth import SESSION_COOKIE
from web.limits import MAX_BODY_BYTES, MAX_K

__all__ = ["MAX_BODY_BYTES", "MAX_K", "SESSION_COOKIE", "create_app"]
