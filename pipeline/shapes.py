"""The documented JSON shapes, built once for the CLI (`--json`) and the web API.

Artefacts and candidates: `pipeline.citations.item_json` (re-exported here). The API adds review
fields around it (merged_into, url, actions) but never renames one of these.
"""

from __future__ import annotations

from typing import Any

from pipeline.citations import item_json
from pipeline.models import ReviewEvent, Source
from pipeline.users import User


def source_json(s: Source) -> dict[str, Any]:
    """One source (`practice sources --json`, GET /api/sources)."""
    return {
        "id": s.id,
        "uri": s.uri,
        "kind": s.kind.value if s.kind else None,
        "format": s.format,
        "community": s.community,
        "visibility": s.visibility,
        "status": s.status.value,
        "error": s.error,
        "warnings": s.warnings,
        "passages": s.passage_count,
        "size_bytes": s.size_bytes,
        "content_hash": s.content_hash,
        "ingested_at": s.ingested_at.isoformat(),
    }


def source_run_json(s: Source) -> dict[str, Any]:
    """One ingestion in the runs listing (GET /api/runs)."""
    return {
        "source_id": s.id,
        "uri": s.uri,
        "kind": s.kind.value if s.kind else None,
        "status": s.status.value,
        "ingested_at": s.ingested_at.isoformat(),
        "error": s.error,
    }


def user_json(u: User) -> dict[str, Any]:
    """A user without anything secret (`practice users list --json`, GET /api/users)."""
    data = u.model_dump(mode="json")
    data.pop("token_hash", None)
    return data


def event_json(e: ReviewEvent) -> dict[str, Any]:
    """One audit-log event (`practice review log --json`, GET /api/audit)."""
    return e.model_dump(mode="json")


__all__ = ["event_json", "item_json", "source_json", "source_run_json", "user_json"]
