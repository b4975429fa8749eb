"""A stand-in for Prefect's server app (an ASGI factory, as `prefect.server.api.server:create_app`):
answers `/api/health`, and `/api/env` with the PREFECT_* variables it was started with."""

from __future__ import annotations

import json
import os
from typing import Any


def create_app() -> Any:
    """The ASGI app: lifespan events accepted, two GET routes, 404 otherwise."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                kind = message["type"].rsplit(".", 1)[-1]  # startup | shutdown
                await send({"type": f"lifespan.{kind}.complete"})
                if kind == "shutdown":
                    return
        routes = {"/api/health": b"true", "/api/env": json.dumps({k: v for k, v in os.environ.items() if k.startswith("PREFECT")}).encode()}
        body = routes.get(scope["path"])
        await send({"type": "http.response.start", "status": 200 if body else 404, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body or b""})

    return app
