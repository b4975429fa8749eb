"""Front door for AI assistants: the index over the Model Context Protocol (`practice mcp`).

Like `web/`, a thin edge over the core: the tools call the same visibility-filtered views and JSON
shapes as the web API (`web.views`, `pipeline.shapes`).
"""

from assistants.server import Caller, build_server, http_app, local_caller

__all__ = ["Caller", "build_server", "http_app", "local_caller"]
