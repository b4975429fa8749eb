"""How evidence is cited to a person: source, speaker or author, time or section, quote."""

from __future__ import annotations

from typing import Any

from pipeline.models import Candidate, Passage, Source


def clock(seconds: float) -> str:
    """Seconds as H:MM:SS (or M:SS under an hour), as a transcript player shows time."""
    total = int(seconds)
    h, rem = divmod(total, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


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


def candidate_json(c: Candidate, passages: dict[str, Passage], sources: dict[str, Source]) -> dict[str, Any]:
    """The documented JSON shape of a candidate with cited evidence (`practice artefacts --json`)."""
    evidence = []
    for ev in c.evidence:
        p = passages.get(ev.passage_id)
        src = sources.get(p.source_id) if p else sources.get(c.source_id)
        evidence.append({"passage_id": ev.passage_id, "role": ev.role, "score": ev.score, "quote": ev.quote, **cite(p, src)})
    return {
        "id": c.id,
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
        "extractor": c.extractor,
        "extractor_version": c.extractor_version,
        "llm_model": c.llm_model,
        "prompt_version": c.prompt_version,
        "source": sources[c.source_id].uri if c.source_id in sources else None,
        "evidence": evidence,
    }


def format_citation(cited: dict[str, Any]) -> str:
    """One line: author, place in the source, source file."""
    where = cited.get("time") or cited.get("section") or cited.get("timestamp") or ""
    if cited.get("page"):
        where = f"{where} p.{cited['page']}".strip()
    who = cited.get("author") or ""
    src = str(cited.get("source") or "").rsplit("/", 1)[-1]
    return " · ".join(x for x in (who, where, src) if x)
