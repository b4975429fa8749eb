"""Row <-> model conversion shared by the SQL stores (SQLite and PostgreSQL store the same shapes).

Timestamps are ISO 8601 text and nested fields JSON text in both databases, so one conversion
serves both and rows compare equal across backends.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pipeline.models import Artefact, Candidate, Passage, PassageKind, ReviewEvent, Source, SourceKind, SourceStatus

SOURCE_COLUMNS = (
    "id uri kind format content_hash community visibility ingested_at status error "
    "parser_version passage_count size_bytes warnings"
).split()
PASSAGE_COLUMNS = (
    "id source_id seq kind text content_hash author start end timestamp message_id thread_id "
    "reply_to reactions score accepted section_path page element_type extra"
).split()
_JSON_PASSAGE_FIELDS = ("reactions", "section_path", "extra")


def user_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A user as the store returns it: no token hash, groups a list, revoked a bool."""
    data = {k: row[k] for k in row.keys() if k != "token_hash"}
    data["groups"] = json.loads(data["groups"])
    data["revoked"] = bool(data["revoked"])
    return data


def source_to_row(s: Source) -> dict[str, Any]:
    """The column values of a source."""
    row = s.model_dump()
    row["kind"] = s.kind.value if s.kind else None
    row["status"] = s.status.value
    row["ingested_at"] = s.ingested_at.isoformat()
    row["warnings"] = json.dumps(s.warnings)
    return row


def row_to_source(row: Mapping[str, Any]) -> Source:
    """A source from its row."""
    data = dict(row)
    data["kind"] = SourceKind(data["kind"]) if data["kind"] else None
    data["status"] = SourceStatus(data["status"])
    data["ingested_at"] = datetime.fromisoformat(data["ingested_at"])
    data["warnings"] = json.loads(data.get("warnings") or "[]")
    return Source(**data)


def passage_to_values(p: Passage) -> list[Any]:
    """The column values of a passage, in `PASSAGE_COLUMNS` order."""
    row = p.model_dump()
    row["kind"] = p.kind.value
    for key in _JSON_PASSAGE_FIELDS:
        row[key] = json.dumps(row[key], ensure_ascii=False, sort_keys=True)
    if row["accepted"] is not None:
        row["accepted"] = int(row["accepted"])
    return [row[c] for c in PASSAGE_COLUMNS]


def row_to_passage(row: Mapping[str, Any]) -> Passage:
    """A passage from its row."""
    data = dict(row)
    data["kind"] = PassageKind(data["kind"])
    for key in _JSON_PASSAGE_FIELDS:
        data[key] = json.loads(data[key])
    if data["accepted"] is not None:
        data["accepted"] = bool(data["accepted"])
    return Passage(**data)


def candidate_values(c: Candidate, source_id: str, extractor: str) -> tuple[Any, ...]:
    """(id, source_id, kind, status, extractor, created_at, body) of a candidate."""
    return (c.id, source_id, c.kind.value, c.status.value, extractor, c.created_at.isoformat(), c.model_dump_json())


def artefact_values(a: Artefact) -> tuple[str, str, str, str]:
    """(kind, status, updated_at, body) of an artefact."""
    return (a.kind.value, a.status.value, a.updated_at.isoformat(), a.model_dump_json())


def event_values(e: ReviewEvent) -> tuple[Any, ...]:
    """(at, actor, action, artefact_id, before, after, note) of a review event."""
    before = json.dumps(e.before, default=str) if e.before is not None else None
    after = json.dumps(e.after, default=str) if e.after is not None else None
    return (e.at.isoformat(), e.actor, e.action, e.artefact_id, before, after, e.note)


def row_to_event(r: Mapping[str, Any]) -> ReviewEvent:
    """A review event from its row."""
    return ReviewEvent(
        id=r["id"], at=datetime.fromisoformat(r["at"]), actor=r["actor"], action=r["action"],
        artefact_id=r["artefact_id"], before=json.loads(r["before"]) if r["before"] else None,
        after=json.loads(r["after"]) if r["after"] else None, note=r["note"],
    )  # fmt: skip
