"""The data model shared by every stage (DESIGN.md: one source of truth, pydantic v2)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from enum import Enum
from typing import Any

from pydantic import BaseModel, Field


class SourceKind(str, Enum):
    """What a source holds: spoken turns, written messages, or document elements."""

    transcript = "transcript"
    thread = "thread"
    document = "document"


class SourceStatus(str, Enum):
    """Outcome of the last ingestion of a source."""

    ok = "ok"
    failed = "failed"
    removed = "removed"


class PassageKind(str, Enum):
    """The unit a passage stands for."""

    turn = "turn"  # a transcript turn: one speaker, a time range
    message = "message"  # a chat message, mail, post, answer or comment
    element = "element"  # a document element: title, paragraph, list item, table...


def short_hash(*parts: str, length: int = 16) -> str:
    """A stable hex digest of the given parts (the basis of every content-derived id)."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8"))
        h.update(b"\x1f")  # unit separator: ("ab","c") and ("a","bc") must differ
    return h.hexdigest()[:length]


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(timezone.utc)


class PassageDraft(BaseModel):
    """A passage as a parser produces it: text plus provenance, before it has ids.

    Parsers return drafts in reading order; `ingest` numbers them and derives ids, so a
    parser never needs to know which source id it is writing for.
    """

    kind: PassageKind
    text: str
    author: str | None = None  # speaker of a turn, author of a message
    start: float | None = None  # seconds from the start of a recording
    end: float | None = None
    timestamp: str | None = None  # ISO 8601 time a message was posted
    # Thread structure: external ids as the source spells them (Slack ts, Message-ID, post id).
    message_id: str | None = None
    thread_id: str | None = None  # the root of the thread / meeting this passage belongs to
    reply_to: str | None = None  # message_id of the message this one answers
    reactions: dict[str, int] = Field(default_factory=dict)
    score: int | None = None  # votes
    accepted: bool | None = None  # accepted answer flag (Stack Exchange)
    section_path: list[str] = Field(default_factory=list)  # headings above a document element
    page: int | None = None
    element_type: str | None = None  # unstructured's category, or post type for Q&A
    extra: dict[str, Any] = Field(default_factory=dict)


class Passage(PassageDraft):
    """A stored passage: a draft with its place in a source and a content-derived id."""

    id: str
    source_id: str
    seq: int
    content_hash: str

    @classmethod
    def from_draft(cls, draft: PassageDraft, source_id: str, seq: int) -> "Passage":
        """Number a draft and derive its id from content + position (same input, same id)."""
        content_hash = short_hash(draft.text, length=32)
        pid = short_hash(source_id, str(seq), content_hash, draft.message_id or "")
        return cls(id=pid, source_id=source_id, seq=seq, content_hash=content_hash, **draft.model_dump())


class Source(BaseModel):
    """One file, export or channel that was ingested (or failed to be)."""

    id: str
    kind: SourceKind | None = None  # None when a failure came before the kind was known
    format: str | None = None  # parser name: vtt, srt, slack, mbox, docx...
    uri: str
    content_hash: str
    community: str | None = None
    visibility: str = "public"
    ingested_at: datetime = Field(default_factory=utcnow)
    status: SourceStatus = SourceStatus.ok
    error: str | None = None
    parser_version: str = ""
    passage_count: int = 0
    size_bytes: int = 0
    warnings: list[str] = Field(default_factory=list)

    @staticmethod
    def id_for(uri: str) -> str:
        """Sources are keyed by where they live, so a changed file keeps its id."""
        return short_hash(uri)


class CandidateKind(str, Enum):
    """FAQ (question + answer) or pattern (a practice, lesson learned or checklist)."""

    faq = "faq"
    pattern = "pattern"


class ArtefactStatus(str, Enum):
    """Where a candidate or artefact stands in review."""

    candidate = "candidate"
    approved = "approved"
    rejected = "rejected"
    merged = "merged"
    stale = "stale"


class Evidence(BaseModel):
    """One passage an item rests on, with a quote that occurs verbatim in that passage's text."""

    passage_id: str
    quote: str
    role: str = "support"  # question | answer | runner_up | recommendation | item | context | support
    score: float | None = None  # e.g. the answer-ranking score of a reply


class ItemText:
    """What a FAQ or pattern reads as, for candidates and artefacts alike."""

    kind: CandidateKind
    question: str | None
    answer: str | None
    name: str | None
    recommendation: str | None
    items: list[str]

    @property
    def is_open_question(self) -> bool:
        """A question nobody credibly answered (yet)."""
        return self.kind == CandidateKind.faq and not self.answer

    @property
    def title(self) -> str:
        """The question of a FAQ, the name of a pattern."""
        return (self.question if self.kind == CandidateKind.faq else self.name) or ""

    @property
    def body(self) -> str:
        """The answer of a FAQ, the recommendation (or checklist) of a pattern."""
        if self.kind == CandidateKind.faq:
            return self.answer or ""
        return self.recommendation or "\n".join(f"- {i}" for i in self.items)


class CandidateDraft(ItemText, BaseModel):
    """What an extractor proposes: a FAQ or a pattern, with its evidence and provenance."""

    kind: CandidateKind
    # FAQ
    question: str | None = None
    answer: str | None = None  # None for an open (unanswered) question
    # pattern
    name: str | None = None
    context: str | None = None
    problem: str | None = None
    recommendation: str | None = None
    items: list[str] = Field(default_factory=list)  # checklist items
    evidence: list[Evidence]
    extractor: str
    extractor_version: str
    llm_model: str | None = None
    prompt_version: str | None = None
    confidence: float = 0.5

    def derive_id(self) -> str:
        """Content-derived id: the same proposal from the same evidence gets the same id."""
        return short_hash(
            self.extractor, self.kind.value, self.title, self.body,
            *sorted(e.passage_id for e in self.evidence),
        )  # fmt: skip


class Candidate(CandidateDraft):
    """A stored candidate: an extractor's proposal from one source, awaiting dedup and review."""

    id: str
    source_id: str
    status: ArtefactStatus = ArtefactStatus.candidate
    created_at: datetime = Field(default_factory=utcnow)

    @classmethod
    def from_draft(cls, draft: CandidateDraft, source_id: str) -> "Candidate":
        """Give a draft its content-derived id."""
        return cls(id=draft.derive_id(), source_id=source_id, **draft.model_dump())


class Support(BaseModel):
    """How widely an artefact is backed: 'solved 4 times, in 3 teams'."""

    candidates: int = 0  # extracted items folded together
    conversations: int = 0  # distinct threads, meetings and documents they come from
    sources: int = 0  # distinct files / exports
    authors: int = 0
    communities: int = 0


class Artefact(ItemText, BaseModel):
    """A deduplicated item: the canonical text of its best-formed candidate and the evidence of all.

    Identity is stable: once created (and above all once approved) an artefact keeps its id while
    later candidates fold into it.
    """

    id: str
    kind: CandidateKind
    status: ArtefactStatus = ArtefactStatus.candidate
    question: str | None = None
    answer: str | None = None
    name: str | None = None
    context: str | None = None
    problem: str | None = None
    recommendation: str | None = None
    items: list[str] = Field(default_factory=list)
    evidence: list[Evidence] = Field(default_factory=list)
    candidate_ids: list[str] = Field(default_factory=list)
    support: Support = Field(default_factory=Support)
    communities: list[str] = Field(default_factory=list)
    visibility: str = "public"
    confidence: float = 0.5
    extractors: list[str] = Field(default_factory=list)
    merged_into: str | None = None
    # A reviewer's decisions that derived state must not overwrite:
    visibility_widened: str | None = None  # set by an admin; wins over the inherited visibility
    status_before_stale: ArtefactStatus | None = None  # restored if the evidence comes back
    text_edited: bool = False  # a reviewer edited the text: dedupe no longer picks the canonical text
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class ReviewEvent(BaseModel):
    """One entry of the append-only review log: who did what to which artefact, before and after."""

    id: int | None = None
    at: datetime = Field(default_factory=utcnow)
    actor: str
    action: str  # approve | reject | edit | merge | unmerge | stale | widen_visibility
    artefact_id: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    note: str | None = None
