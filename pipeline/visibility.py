"""Visibility follows the source: when a source's community or visibility changes, every artefact
with evidence from it is re-derived at once (DESIGN.md invariant 7), without waiting for new text.

The write is optimistic (`Store.update_artefacts`): a review decision saved meanwhile is kept and
the re-derivation is redone on top of it. Every artefact whose visibility changed this way gets an
event in the audit log, so a source-level widening is as visible there as `practice review widen`.
"""

from __future__ import annotations

from collections.abc import Iterable

from pipeline.artefacts import refresh
from pipeline.models import Artefact, ArtefactStatus, ReviewEvent
from pipeline.store import Store


def rederive_artefacts(store: Store, source_ids: Iterable[str], actor: str = "ingest") -> int:
    """Recompute visibility, communities and support of the artefacts resting on these sources.

    Returns how many artefacts were written. An admin's widening (`visibility_widened`) still wins,
    as it does in dedupe; status and text stay the reviewers'.
    """
    ids = store.artefact_ids_for_sources(source_ids)
    if not ids:
        return 0
    read = store.versioned_artefacts(ids)
    sources = {s.id: s for s in store.list_sources()}
    live = {c.id: c for c in store.candidates()}

    def derive(a: Artefact | None, _attempted: Artefact | None = None) -> Artefact | None:
        if a is None or a.status == ArtefactStatus.merged:
            return None
        members = [live[cid] for cid in a.candidate_ids if cid in live]
        passages = store.passages_by_id(e.passage_id for c in members for e in c.evidence)
        return refresh(a, members, passages, sources)

    derived = [d for d in (derive(a) for a, _ in read.values()) if d is not None]
    versions = {i: v for i, (_, v) in read.items()}
    given_up = store.update_artefacts(derived, versions, derive)
    now = store.versioned_artefacts(ids)
    events = [
        ReviewEvent(
            actor=actor, action="source_visibility", artefact_id=i, before={"visibility": a.visibility},
            after={"visibility": now[i][0].visibility}, note="the visibility of a source it rests on changed",
        )  # fmt: skip
        for i, (a, _) in read.items()
        if i in now and now[i][0].visibility != a.visibility
    ]
    if events:
        store.save_review([], events)
    return len(derived) - len(given_up)
