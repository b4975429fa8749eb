"""The app factory: one FastAPI app with the JSON API under /api and the web UI at /."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

import numpy as np
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException

from pipeline import review as review_ops
from pipeline.citations import format_citation, human_time
from pipeline.settings import Settings
from pipeline.users import UnknownUser, UserError, UserExists
from web.auth import LoginRequired
from web.html import error_page
from web.limits import MAX_BODY_BYTES, BodySizeLimit
from web.routers import ROUTERS
from web.state import PracticeWeb

HERE = Path(__file__).resolve().parent

# How the core's refusals read in HTTP: by their class, never by their message.
REVIEW_STATUS: list[tuple[type[review_ops.ReviewError], int]] = [(review_ops.NotFound, 404), (review_ops.ReviewError, 409)]
USER_STATUS: list[tuple[type[UserError], int]] = [(UnknownUser, 404), (UserExists, 409), (UserError, 422)]


def status_for(exc: Exception, table: list[tuple[type[Exception], int]]) -> int:
    """The HTTP status of a core error: the first class in the table it is an instance of."""
    return next(status for cls, status in table if isinstance(exc, cls))


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
    state = PracticeWeb(home, embed, model_id, settings, config)
    app = FastAPI(
        title="Practice Index",
        version="1",
        description=(
            "Reviewed, searchable practices and FAQs from communities of practice. Send "
            "`Authorization: Bearer <token>`; without it you act as an anonymous reader of public "
            "material. Swagger UI at /docs loads its script from a CDN; offline, read /openapi.json."
        ),
    )
    app.state.practice = state
    state.templates = Jinja2Templates(directory=str(HERE / "templates"))
    state.templates.env.globals["format_citation"] = format_citation
    state.templates.env.globals["human_time"] = human_time  # "21 Sep 2026, 08:05", not raw ISO
    state.templates.env.globals["actions_for"] = review_ops.offered  # the buttons a page shows: the core's table
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.add_middleware(BodySizeLimit, max_bytes=MAX_BODY_BYTES)
    _install_error_handlers(app)
    for router in ROUTERS:
        # The routes themselves rather than include_router (which FastAPI 0.154 nests lazily):
        # app.routes then lists every operation, as the OpenAPI schema and the authorization tests read it.
        app.router.routes.extend(router.routes)
    return app


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api") or request.url.path in ("/openapi.json", "/docs")


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = [str(x) for x in err.get("loc", ()) if x not in ("body", "query", "path")]
        parts.append(f"{'.'.join(loc) or 'request'}: {err.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def _error(request: Request, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    if _wants_json(request):
        return JSONResponse({"detail": message}, status_code=status, headers=headers)
    return error_page(request, status, message)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(HTTPException)
    def http_error(request: Request, exc: HTTPException) -> Response:
        return _error(request, exc.status_code, str(exc.detail), exc.headers)

    @app.exception_handler(RequestValidationError)
    def validation_error(request: Request, exc: RequestValidationError) -> Response:
        message = _validation_message(exc)
        if _wants_json(request):
            errors = [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in exc.errors()]
            return JSONResponse({"detail": message, "errors": errors}, status_code=422)
        return error_page(request, 422, message)

    @app.exception_handler(review_ops.ReviewError)
    def review_error(request: Request, exc: review_ops.ReviewError) -> Response:
        return _error(request, status_for(exc, REVIEW_STATUS), str(exc))

    @app.exception_handler(UserError)
    def user_error(request: Request, exc: UserError) -> Response:
        return _error(request, status_for(exc, USER_STATUS), str(exc))

    @app.exception_handler(LoginRequired)
    def login_required(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse("/login?" + urlencode({"next": exc.next_url}), status_code=303)
