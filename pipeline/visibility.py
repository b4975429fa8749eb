"""Visibility follows the source: when a source's community or visibility changes, every artefact
with evidence from it is re-derived at once (DESIGN.md invariant 7), without waiting for new text.

The write is optimistic (`Store.update_artefacts`): a review decision saved meanwhile is kept and
the re-derivation is redone on top of it.
"""

from __future__ import annotations

from collections.abc import Iterable

from pipeline.artefacts import refresh
from pipeline.models import Artefact, ArtefactStatus
from pipeline.store import Store


def rederive_artefacts(store: Store, source_ids: Iterable[str]) -> int:
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
    return len(derived) - len(given_up)
