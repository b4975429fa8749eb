"""The routes, one module per noun; each holds its JSON API routes and its web pages."""

from __future__ import annotations

from fastapi import APIRouter

from web.routers import artefacts, audit, pages, review, review_batch, review_pages, runs, search, sources, users

ROUTERS: list[APIRouter] = [
    users.router, search.router, artefacts.router, review.router, audit.router, runs.router,
    sources.router, pages.router, review_pages.router, review_batch.router,
]  # fmt: skip
