"""The re-fold of an existing store (the edge of ``index.refold``): members that no longer belong leave.

Run by the dedupe stage once, on the first run after the grouping rules changed
(``index.refold.FOLD_VERSION``). An artefact keeps its id and status (an approved one stays
approved); only members that are not duplicates of its canonical text and of each other leave
(for a reviewed artefact, whose text a reviewer may have written, of its best-formed member).
They are folded again with this run's new candidates, and each is suggested back to the artefact
it left, so its reviewer can undo the split with one merge. Members a reviewer merged in stay.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from index.dedupe import DedupItem
from index.refold import refold_members
from pipeline.artefacts import Thresholds, form_score
from pipeline.dedup_items import REVIEWED, compare_text, dedup_item
from pipeline.models import Artefact, ArtefactStatus, Candidate, CandidateKind
from pipeline.store import Store

# (kind, items, answers) -> (vectors, pair scorer or None for the cosine)
ScorerFor = Callable[
    [CandidateKind, list[DedupItem], list[str]], tuple[np.ndarray, Callable[[np.ndarray, np.ndarray], np.ndarray] | None]
]


def reviewer_merged_members(store: Store) -> dict[str, set[str]]:
    """Target artefact id -> the candidate ids a reviewer's merge brought into it (from the review log)."""
    out: dict[str, set[str]] = {}
    for a in store.artefacts(status=ArtefactStatus.merged.value):
        event = next((e for e in store.review_events(a.id) if e.action == "merge"), None) if a.merged_into else None
        if event and event.before:
            out.setdefault(a.merged_into or "", set()).update(event.before.get("candidate_ids") or [])
    return out


def refold_existing(
    store: Store,
    artefacts: dict[str, Artefact],
    changed: dict[str, Artefact],
    live: dict[str, Candidate],
    conv: dict[str, frozenset[str]],
    scorer_for: ScorerFor,
    thresholds: Thresholds,
) -> dict[str, tuple[str, float]]:
    """Re-fold every artefact with more than one live member; returns candidate -> (artefact it left, score).

    `artefacts` and `changed` are updated in place: an artefact that lost members is there with
    the members that stay.
    """
    protected = reviewer_merged_members(store)
    left: dict[str, tuple[str, float]] = {}
    for kind in CandidateKind:
        multi = [a for a in artefacts.values() if a.kind == kind and sum(c in live for c in a.candidate_ids) > 1]
        if not multi:
            continue
        items: list[DedupItem] = []
        answers: list[str] = []
        spans: list[tuple[Artefact, int, int]] = []
        for a in multi:
            members = [live[c] for c in a.candidate_ids if c in live]
            spans.append((a, len(items), len(members)))
            # The anchor is the canonical text; a reviewer's text stands for the members it was
            # approved over (as in index.dedupe), so there the best-formed member anchors instead.
            anchor: Artefact | Candidate = max(members, key=form_score) if a.status in REVIEWED else a
            items.append(dedup_item(kind, a.id, True, compare_text(kind, anchor.title, anchor.body, anchor.problem), frozenset()))
            answers.append(anchor.body)
            for c in members:
                text = compare_text(kind, c.title, c.body, c.problem)
                items.append(dedup_item(kind, c.id, False, text, conv.get(c.id, frozenset())))
                answers.append(c.body)
        vectors, scorer = scorer_for(kind, items, answers)
        merge, _ = thresholds.for_kind(kind)
        for a, start, m in spans:

            def score(ra: np.ndarray, rb: np.ndarray, start: int = start) -> np.ndarray:
                ra, rb = ra + start, rb + start
                if scorer is not None:
                    return scorer(ra, rb)
                return np.einsum("ij,ij->i", vectors[ra], vectors[rb])

            r = refold_members(items[start], items[start + 1 : start + 1 + m], score, merge, frozenset(protected.get(a.id, ())))
            if r.leave:
                stays = a.model_copy(update={"candidate_ids": [c for c in a.candidate_ids if c not in r.leave]})
                artefacts[a.id] = changed[a.id] = stays
                left.update({cid: (a.id, s) for cid, s in r.leave.items()})
    return left
