"""Request limits: body size (refused before the handler reads it), k, and the id/name patterns."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

MAX_BODY_BYTES = 64 * 1024
MAX_K = 100
ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,128}$"
NAME_PATTERN = r"^[A-Za-z0-9_.@-]{1,64}$"
GROUP_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"
VISIBILITY_PATTERN = r"^(public|[A-Za-z0-9_.-]{1,64}([,;][A-Za-z0-9_.-]{1,64}){0,49})$"


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
