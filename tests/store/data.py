"""Small hand-written records for the store contract tests (no corpus, no pipeline stage)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from pipeline.models import (
    Artefact, ArtefactStatus, Candidate, CandidateKind, Evidence, Passage, PassageDraft, PassageKind, Source, SourceKind,
)  # fmt: skip

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)


def source(uri: str = "/corpus/a.vtt", content_hash: str = "h1", **kw: object) -> Source:
    """A transcript source with a fixed ingest time."""
    return Source(id=Source.id_for(uri), kind=SourceKind.transcript, format="vtt", uri=uri,
                  content_hash=content_hash, ingested_at=T0, **kw)  # type: ignore[arg-type]  # fmt: skip


def passages(source_id: str, texts: list[str], thread: str | None = None) -> list[Passage]:
    """Passages using every field kind: floats, JSON maps and lists, a bool, a quoted column ("end")."""
    drafts = [
        PassageDraft(
            kind=PassageKind.turn, text=t, author=f"author{i % 2}", start=i + 0.125, end=i + 1.3333333333333333,
            reactions={"+1": i}, section_path=["Runbooks", "Paging"], accepted=i % 2 == 0, extra={"k": [1, "é"]},
            thread_id=thread, message_id=f"m{i}", page=i,
        )  # fmt: skip
        for i, t in enumerate(texts)
    ]
    return [Passage.from_draft(d, source_id, i) for i, d in enumerate(drafts)]


def candidate(cid: str, source_id: str, passage_id: str = "p1", minutes: int = 0, **kw: object) -> Candidate:
    """An FAQ candidate citing one passage, created `minutes` after T0."""
    fields: dict[str, object] = {
        "kind": CandidateKind.faq, "question": f"question {cid}?", "answer": f"answer {cid}",
        "evidence": [Evidence(passage_id=passage_id, quote=f"quote {cid}", role="answer", score=0.5)],
        "extractor": "threads", "extractor_version": "1", "created_at": T0 + timedelta(minutes=minutes),
    }  # fmt: skip
    return Candidate(id=cid, source_id=source_id, **(fields | kw))  # type: ignore[arg-type]


def artefact(aid: str, candidate_ids: list[str] | None = None, **kw: object) -> Artefact:
    """An FAQ artefact over the given candidates."""
    fields: dict[str, object] = {"kind": CandidateKind.faq, "question": f"question {aid}?", "answer": "answer",
                                 "candidate_ids": candidate_ids or [], "created_at": T0, "updated_at": T0}  # fmt: skip
    return Artefact(id=aid, **(fields | kw))  # type: ignore[arg-type]


APPROVED = ArtefactStatus.approved
