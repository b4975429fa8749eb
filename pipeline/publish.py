"""The publish stage: turn reviewed artefacts into an immutable index release (or none, if nothing changed)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.citations import cite
from pipeline.faults import crash_point
from pipeline.models import Artefact, ArtefactStatus, CandidateKind, Passage, ReviewEvent, Source
from pipeline.store import Store


@dataclass
class PublishReport:
    """What one publish run did."""

    published: bool
    release_id: str | None
    artefacts: int
    embeddings_computed: int
    reason: str = ""
    heal: dict[str, object] = field(default_factory=dict)  # what reconciling the releases folder repaired

    def to_json(self) -> dict[str, object]:
        """The documented `--json` shape of `practice publish`."""
        return asdict(self)


def publishable(a: Artefact, include_candidates: bool) -> bool:
    """Approved artefacts always; candidates only when asked; never rejected, merged or stale ones."""
    return a.status == ArtefactStatus.approved or (include_candidates and a.status == ArtefactStatus.candidate)


def dense_text(a: Artefact) -> str:
    """What the dense index embeds: a FAQ's question (how people ask), a pattern's name and advice.

    On StackFAQ, embedding the question alone beat question + answer (NDCG@10 0.977 vs 0.970):
    queries are phrased like questions, and a long answer dilutes the vector.
    """
    if a.kind == CandidateKind.faq:
        return a.title.strip() or a.body.strip()
    return f"{a.title}\n{a.body}".strip()


def keyword_text(a: Artefact) -> str:
    """What BM25 indexes: title and body (answers carry the words a searcher may type)."""
    return f"{a.title}\n{a.body}".strip()


def payload(a: Artefact, passages: dict[str, Passage], sources: dict[str, Source]) -> dict[str, Any]:
    """The search-hit payload: the artefact as a reader sees it, with cited evidence."""
    citations = []
    source_kinds = set()
    for e in a.evidence:
        p = passages.get(e.passage_id)
        src = sources.get(p.source_id) if p else None
        if src and src.kind:
            source_kinds.add(src.kind.value)
        citations.append({"passage_id": e.passage_id, "role": e.role, "quote": e.quote, **cite(p, src)})
    return {
        "id": a.id,
        "kind": a.kind.value,
        "status": a.status.value,
        "open_question": a.is_open_question,
        "question": a.question,
        "answer": a.answer,
        "name": a.name,
        "context": a.context,
        "problem": a.problem,
        "recommendation": a.recommendation,
        "items": a.items,
        "support": a.support.model_dump(),
        "communities": a.communities,
        "source_kinds": sorted(source_kinds),
        "visibility": a.visibility,
        "confidence": a.confidence,
        "updated_at": a.updated_at.isoformat(),
        "citations": citations,
    }


def publish(
    store: Store,
    embed: Callable[[list[str]], np.ndarray],
    model_id: str,
    releases_root: Path,
    include_candidates: bool = False,
    index_type: str = "auto",
    keep: int = 5,
    force: bool = False,
    actor: str | None = None,
    note: str | None = None,
) -> PublishReport:
    """Build a release from the publishable artefacts and make it current, unless it would equal the current one.

    The releases folder is reconciled first: a release a crash left unswitched is switched to
    (or discarded, and so rebuilt here, when it is incomplete), dead runs' build folders go.
    `force` builds a new release even when nothing changed (`practice check --repair` replaces a
    current release whose files no longer agree with its manifest). With `actor`, a new release
    is recorded in the audit log (`record_release`) under that name, with `note`.
    """
    from index.embed_service import cached_vectors
    from index.release import build_release, latest_fingerprint, release_fingerprint
    from index.release_heal import reconcile

    heal = reconcile(releases_root).to_json()
    artefacts, payloads = release_payloads(store, include_candidates)
    texts = [keyword_text(a) for a in artefacts]
    vectors, computed = cached_vectors(store, [dense_text(a) for a in artefacts], embed, model_id)
    crash_point("publish:embedded")
    if not artefacts:
        vectors = np.zeros((0, _dimension(embed)), dtype=np.float32)
    fingerprint = release_fingerprint(
        payloads, vectors, model_id, texts, index_type=index_type, include_candidates=include_candidates
    )
    if not force and fingerprint == latest_fingerprint(releases_root):
        return PublishReport(False, None, len(artefacts), computed, "nothing changed since the current release", heal)
    before = _current_or_none(releases_root) if actor is not None else None
    manifest = build_release(
        releases_root, payloads, vectors, texts, model_id, index_type, include_candidates, keep=keep
    )
    if actor is not None:
        record_release(store, actor, "publish", before, manifest, note)
    return PublishReport(True, manifest.release_id, len(artefacts), computed, heal=heal)


def _current_or_none(releases_root: Path) -> Any:
    """The current release's manifest, or None when there is none or it is gone (a repair replaces it)."""
    from index.release import ReleaseError, current_release

    try:
        return current_release(releases_root)
    except ReleaseError:
        return None


def release_payloads(store: Store, include_candidates: bool) -> tuple[list[Artefact], list[dict[str, Any]]]:
    """The artefacts a publish would release now, and their payloads (what search serves)."""
    artefacts = [a for a in store.artefacts() if publishable(a, include_candidates) and a.evidence]
    passages = store.passages_by_id(e.passage_id for a in artefacts for e in a.evidence)
    # Invariant 4: only artefacts citing at least one real passage, every quote verbatim in it.
    artefacts = [a for a in artefacts if _cites_real_passages(a, passages)]
    sources = {s.id: s for s in store.list_sources()}
    return artefacts, [payload(a, passages, sources) for a in artefacts]


def record_release(store: Store, actor: str, action: str, before: Any, after: Any, note: str | None = None) -> None:
    """Log a publish or a rollback in the audit log: which release was current before and after.

    The event's artefact_id is the release id now current (a release, not an artefact)."""
    def side(m: Any) -> dict[str, Any] | None:
        # No counts: a release's totals would tell a reviewer outside a group that restricted artefacts exist.
        return None if m is None else {"release_id": m.release_id, "created_at": m.created_at,
                                       "include_candidates": m.include_candidates}  # fmt: skip

    event = ReviewEvent(actor=actor, action=action, artefact_id=after.release_id, before=side(before), after=side(after), note=note)
    store.save_review([], [event])


def _cites_real_passages(a: Artefact, passages: dict[str, Passage]) -> bool:
    return all(e.passage_id in passages and e.quote in passages[e.passage_id].text for e in a.evidence)


def _dimension(embed: Callable[[list[str]], np.ndarray]) -> int:
    return int(embed(["dimension probe"]).shape[1])
