"""How evidence is cited to a person: source, speaker or author, time or section, quote."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from pipeline.models import Artefact, Candidate, Evidence, Passage, Source


def clock(seconds: float) -> str:
    """Seconds as H:MM:SS (or M:SS under an hour), as a transcript player shows time."""
    total = int(seconds)
    h, rem = divmod(total, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def human_time(value: str | datetime | None) -> str | None:
    """An ISO time as people write it, in UTC: "21 Sep 2026, 08:05" (None if missing or unreadable)."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    when = value.astimezone(timezone.utc) if value.tzinfo else value  # naive: taken as UTC
    return f"{when.day} {MONTHS[when.month - 1]} {when.year}, {when.hour:02d}:{when.minute:02d}"


def cite(passage: Passage | None, source: Source | None) -> dict[str, Any]:
    """Where a passage sits: the fields a reader needs to find it in the original."""
    if passage is None:
        return {"source": source.uri if source else None, "missing": True}
    time = None
    if passage.start is not None:
        time = clock(passage.start) + (f"–{clock(passage.end)}" if passage.end is not None else "")
    return {
        "source": source.uri if source else passage.source_id,
        "source_kind": source.kind.value if source and source.kind else None,
        "author": passage.author,
        "time": time,
        "timestamp": passage.timestamp,
        "section": " > ".join(passage.section_path) or None,
        "page": passage.page,
        "thread": passage.thread_id,
    }


def evidence_json(evidence: list[Evidence], passages: dict[str, Passage], sources: dict[str, Source]) -> list[dict[str, Any]]:
    """Evidence rows with their citations."""
    rows = []
    for ev in evidence:
        p = passages.get(ev.passage_id)
        src = sources.get(p.source_id) if p else None
        rows.append({"passage_id": ev.passage_id, "role": ev.role, "score": ev.score, "quote": ev.quote, **cite(p, src)})
    return rows


def item_json(c: Candidate | Artefact, passages: dict[str, Passage], sources: dict[str, Source]) -> dict[str, Any]:
    """The documented JSON shape of an artefact or a not-yet-folded candidate (`practice artefacts --json`)."""
    is_artefact = isinstance(c, Artefact)
    return {
        "id": c.id,
        "type": "artefact" if is_artefact else "candidate",
        "kind": c.kind.value,
        "status": c.status.value,
        "open_question": c.is_open_question,
        "question": c.question,
        "answer": c.answer,
        "name": c.name,
        "context": c.context,
        "problem": c.problem,
        "recommendation": c.recommendation,
        "items": c.items,
        "confidence": c.confidence,
        "extractors": c.extractors if is_artefact else [c.extractor],
        "extractor_version": None if is_artefact else c.extractor_version,
        "llm_model": None if is_artefact else c.llm_model,
        "prompt_version": None if is_artefact else c.prompt_version,
        "support": c.support.model_dump() if is_artefact else None,
        "communities": c.communities if is_artefact else [],
        "visibility": c.visibility if is_artefact else None,
        "candidate_ids": c.candidate_ids if is_artefact else [c.id],
        "evidence": evidence_json(c.evidence, passages, sources),
    }


def format_citation(cited: dict[str, Any]) -> str:
    """One line: author, place in the source, source file."""
    where = cited.get("time") or cited.get("section") or human_time(cited.get("timestamp")) or ""
    if cited.get("page"):
        where = f"{where} p.{cited['page']}".strip()
    who = cited.get("author") or ""
    src = str(cited.get("source") or "").rsplit("/", 1)[-1]
    return " · ".join(x for x in (who, where, src) if x)
