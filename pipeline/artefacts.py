"""The dedupe stage: fold candidates into artefacts, keep support counts, mark what lost its evidence stale.

Pure helpers (canonical choice, support, evidence union) take data and return data; `dedupe`
is the edge that reads and writes the store. Invariants kept here:
- an existing artefact keeps its id; an approved or rejected one keeps its reviewed text and
  status and only gains (or loses) evidence;
- an artefact left with no candidate is stale (it leaves the index at the next publish).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field

import numpy as np

from index.dedupe import DedupItem, plan_dedup
from index.refold import FOLD_VERSION
from pipeline.faults import crash_point
from pipeline.dedup_items import REVIEWED, artefact_items, compare_text, conversations_of, dedup_item, evidence_passage_ids
from pipeline.models import (
    Artefact,
    ArtefactStatus,
    Candidate,
    CandidateKind,
    Evidence,
    Passage,
    Source,
    Support,
    short_hash,
    utcnow,
)
from pipeline.store import Store



@dataclass(frozen=True)
class Thresholds:
    """Merge and suggestion thresholds on the duplicate score, per kind (see index/duplicates.py)."""

    faq_merge: float
    faq_suggest: float
    pattern_merge: float
    pattern_suggest: float

    def for_kind(self, kind: CandidateKind) -> tuple[float, float]:
        """(merge, suggest) for one kind."""
        if kind == CandidateKind.faq:
            return self.faq_merge, self.faq_suggest
        return self.pattern_merge, self.pattern_suggest


@dataclass
class DedupeReport:
    """What one dedupe run changed."""

    folded: int = 0  # candidates assigned to an artefact in this run
    created: int = 0  # new artefacts
    updated: int = 0  # existing artefacts that gained or lost evidence
    stale: int = 0  # artefacts left with no evidence
    deferred: int = 0  # artefacts a reviewer kept changing during the run: redone by the next run
    suggestions: int = 0
    refold_left: int = 0  # members that left an artefact in a re-fold (each suggested back to it)
    embeddings_computed: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        """The documented `--json` shape of `practice dedupe`."""
        return asdict(self)


def duplicate_pair_scorer(
    kind: CandidateKind,
    items: list[DedupItem],
    vectors: np.ndarray,
    answer_vectors: np.ndarray | None = None,
    has_answer: np.ndarray | None = None,
    merge_threshold: float | None = None,
) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """The calibrated duplicate score (cosine + lexical overlap of question cores) over item rows.

    FAQs with `answer_vectors` (rows aligned with `items`, embeddings of ``answer_text_for``) and
    `has_answer`: a pair whose questions are close and whose answers agree
    (``index.answer_agreement.agreement_merge``) scores at least the faq merge threshold.
    FAQ pairs that each ask something the other does not (``index.same_ask``) score below the
    merge threshold whatever lifted them: a suggestion at most."""
    from index.answer_agreement import boost_scores
    from index.duplicates import DuplicateScorer, compute_idf, texts_for
    from index.same_ask import cap_distinct_asks

    lexical = [texts_for(kind.value, it.text, None) for it in items]
    idf = compute_idf(lexical)
    scorer = DuplicateScorer()

    merge = merge_threshold if merge_threshold is not None else scorer.merge_threshold(kind.value)

    def score(rows_a: np.ndarray, rows_b: np.ndarray) -> np.ndarray:
        texts_a, texts_b = [lexical[i] for i in rows_a], [lexical[i] for i in rows_b]
        signals = scorer.signals(texts_a, texts_b, vectors[rows_a], vectors[rows_b], idf)
        q = scorer.combine(signals, kind.value)
        if answer_vectors is not None and has_answer is not None:
            a = np.einsum("ij,ij->i", answer_vectors[rows_a], answer_vectors[rows_b])
            q = boost_scores(q, a, has_answer[rows_a] & has_answer[rows_b], merge)
        if kind != CandidateKind.faq:
            return q
        return cap_distinct_asks(q, signals["cosine"], texts_a, texts_b, merge)

    return score


def form_score(c: Candidate | Artefact) -> float:
    """How well-formed an item reads: the best-formed candidate of a group becomes canonical."""
    title_words = len(c.title.split())
    score = float(getattr(c, "confidence", 0.5))
    if c.kind == CandidateKind.faq:
        score += 1.0 if c.answer else 0.0
        score += 0.3 if c.title.rstrip().endswith("?") else 0.0
        score += 0.3 if 4 <= title_words <= 30 else 0.0
        score += 0.2 * min(1.0, len((c.answer or "").split()) / 40)
    else:
        score += 0.5 if c.recommendation else 0.0
        score += 0.1 * min(5, len(c.items))
        score += 0.3 if 1 <= title_words <= 10 else 0.0
    return score


def union_evidence(candidates: Iterable[Candidate]) -> list[Evidence]:
    """All evidence of the candidates, each (passage, quote, role) once, in order."""
    seen: set[tuple[str, str, str]] = set()
    out = []
    for c in candidates:
        for e in c.evidence:
            key = (e.passage_id, e.quote, e.role)
            if key not in seen:
                seen.add(key)
                out.append(e)
    return out


def support_of(candidates: list[Candidate], passages: dict[str, Passage], sources: dict[str, Source]) -> Support:
    """Distinct candidates, conversations (threads, meetings, documents), sources, authors and
    communities behind an artefact. `passages` should hold the candidates' evidence passages."""
    authors = {
        passages[e.passage_id].author
        for c in candidates
        for e in c.evidence
        if e.passage_id in passages and passages[e.passage_id].author
    }
    source_ids = {c.source_id for c in candidates}
    communities = {sources[s].community for s in source_ids if s in sources and sources[s].community}
    conversations = set().union(*conversations_of(candidates, passages, sources).values()) if candidates else set()
    return Support(
        candidates=len(candidates), conversations=len(conversations), sources=len(source_ids),
        authors=len(authors), communities=len(communities),
    )  # fmt: skip


def visibility_of(source_ids: Iterable[str], sources: dict[str, Source]) -> str:
    """Visible to whoever may see all evidence (see pipeline.users.can_see for the format).

    Each restricted source contributes one clause (its groups, comma-separated: any of them may
    see it); the artefact's visibility is the clauses joined by ';' (all must be satisfied).
    """
    clauses = sorted({_clause(sources[s].visibility) for s in source_ids if s in sources} - {"public"})
    return ";".join(clauses) if clauses else "public"


def communities_of(members: Iterable[Candidate], sources: dict[str, Source]) -> list[str]:
    """The communities of the sources behind the members, sorted."""
    return sorted({sources[c.source_id].community for c in members if c.source_id in sources and sources[c.source_id].community})  # type: ignore[misc]


def follows_sources(a: Artefact, members: list[Candidate], sources: dict[str, Source]) -> bool:
    """Whether the artefact's visibility and communities still match its sources (they may change
    without any text changing: `practice ingest F --visibility sre`, a config edit)."""
    if not members:
        return True  # nothing left to derive from: it keeps what it had (see refresh)
    visibility = a.visibility_widened or visibility_of((c.source_id for c in members), sources)
    return a.visibility == visibility and a.communities == communities_of(members, sources)


def _clause(visibility: str) -> str:
    groups = sorted({g.strip() for g in visibility.replace(";", ",").split(",") if g.strip()})
    return "public" if not groups or "public" in groups else ",".join(groups)


def refresh(
    artefact: Artefact, members: list[Candidate], passages: dict[str, Passage], sources: dict[str, Source]
) -> Artefact:
    """Recompute what follows from an artefact's members: evidence, support, canonical text, status."""
    a = artefact.model_copy(deep=True)
    a.candidate_ids = [c.id for c in members]
    a.evidence = union_evidence(members)
    a.support = support_of(members, passages, sources)
    if members:  # with none left (a stale artefact) it keeps them: its text came from those sources
        a.communities = communities_of(members, sources)
        a.visibility = a.visibility_widened or visibility_of((c.source_id for c in members), sources)
    a.extractors = sorted({c.extractor for c in members})
    a.updated_at = utcnow()
    if not members:
        if a.status != ArtefactStatus.stale:
            a.status_before_stale, a.status = a.status, ArtefactStatus.stale
        return a
    if a.status == ArtefactStatus.stale and a.status_before_stale is not None:
        # evidence came back: so does the status it had (a reviewer's "stale" has none and stays)
        a.status, a.status_before_stale = a.status_before_stale, None
    if a.status not in REVIEWED and a.status != ArtefactStatus.stale and not a.text_edited:
        best = max(members, key=form_score)
        for name in ("question", "answer", "name", "context", "problem", "recommendation", "items", "confidence"):
            setattr(a, name, getattr(best, name))
    return a


def new_artefact(members: list[Candidate]) -> Artefact:
    """A fresh artefact for a group of candidates (id from its best-formed member)."""
    best = max(members, key=form_score)
    return Artefact(id=short_hash("artefact", best.id), kind=best.kind)


def dedupe(
    store: Store,
    embed: Callable[[list[str]], np.ndarray],
    model_id: str,
    thresholds: Thresholds,
    score_pairs: Callable[..., Callable[[np.ndarray, np.ndarray], np.ndarray]] | None = None,
) -> DedupeReport:
    """Fold unassigned candidates into artefacts and refresh artefacts whose candidates went away.

    On the first run after the grouping rules change (``index.refold.FOLD_VERSION``), existing
    artefacts are re-folded first: members that no longer belong leave (``pipeline.refold``)."""
    report = DedupeReport()
    sources = {s.id: s for s in store.list_sources()}
    live = {c.id: c for c in store.candidates()}
    read = store.versioned_artefacts()  # with the version each was read at: see the write below
    artefacts = {i: a for i, (a, _) in read.items() if a.status != ArtefactStatus.merged}
    changed: dict[str, Artefact] = {}

    # 1. Candidates that disappeared (their source changed or went) leave their artefacts; a
    # source whose visibility or community changed re-derives those of its artefacts.
    for a in artefacts.values():
        members = [live[cid] for cid in a.candidate_ids if cid in live]
        if len(members) != len(a.candidate_ids) or not follows_sources(a, members, sources):
            changed[a.id] = a  # refreshed below with the surviving members

    # 2. New candidates are compared with each other and with existing artefacts, per kind.
    unassigned = store.unassigned_candidates()
    fold_state = store.cache("dedupe")
    refold = fold_state.get("fold_version") != FOLD_VERSION
    conv: dict[str, frozenset[str]] = {}
    if unassigned or refold:  # nothing to compare otherwise: an unchanged run reads no passages
        conv_passages = store.passages_by_id(evidence_passage_ids([*unassigned, *live.values()]))
        conv = conversations_of([*unassigned, *live.values()], conv_passages, sources)
    left_from: dict[str, tuple[str, float]] = {}  # candidate -> (artefact it left, score) in a re-fold
    if refold:
        from pipeline.refold import refold_existing

        left_from = refold_existing(
            store, artefacts, changed, live, conv, lambda kind, items, answers: _pair_scorer(
                store, embed, model_id, thresholds, score_pairs, kind, items, answers, report
            ), thresholds,
        )  # fmt: skip
        unassigned = [*unassigned, *(live[c] for c in left_from)]
    groups: list[tuple[str | None, list[Candidate]]] = []
    suggestions: list[tuple[str, str, float]] = []
    for kind in CandidateKind:
        fresh = [c for c in unassigned if c.kind == kind]
        if not fresh:
            continue
        existing = [a for a in artefacts.values() if a.kind == kind]
        items, answers = artefact_items(kind, existing, live, conv)
        items += [dedup_item(kind, c.id, False, compare_text(kind, c.title, c.body, c.problem), conv.get(c.id, frozenset())) for c in fresh]
        answers += [c.body for c in fresh]
        merge, suggest = thresholds.for_kind(kind)
        vectors, scorer = _pair_scorer(store, embed, model_id, thresholds, score_pairs, kind, items, answers, report)
        plan = plan_dedup(items, vectors, merge, suggest, scorer)
        by_id = {c.id: c for c in fresh}
        for group in plan.groups:
            anchor = next((i for i in group if i in artefacts), None)
            new_members = [by_id[i] for i in group if i in by_id]
            if new_members:
                groups.append((anchor, new_members))
        suggestions += plan.suggestions
        report.by_kind[kind.value] = len(fresh)

    crash_point("dedupe:grouped")
    # 3. Apply: fold into the anchor artefact, or create one per group.
    member_of: dict[str, str] = {}
    for anchor, new_members in groups:
        if anchor is None:
            a = new_artefact(new_members)
            base: list[Candidate] = []
            report.created += 1
        else:
            a = changed.get(anchor, artefacts[anchor])
            base = [live[cid] for cid in a.candidate_ids if cid in live]
        changed[a.id] = a.model_copy(update={"candidate_ids": [c.id for c in base + new_members]})
        report.folded += len(new_members)
        for c in new_members:
            member_of[c.id] = a.id

    passages = store.passages_by_id(
        e.passage_id for a in changed.values() for cid in a.candidate_ids if cid in live for e in live[cid].evidence
    )
    refreshed = []
    for a in changed.values():
        r = refresh(a, [live[cid] for cid in a.candidate_ids if cid in live], passages, sources)
        if r.status == ArtefactStatus.stale and a.status != ArtefactStatus.stale:
            report.stale += 1
        refreshed.append(r)
    report.updated = sum(1 for a in refreshed if a.id in artefacts)
    added: dict[str, list[str]] = {}
    for cid, aid in member_of.items():
        added.setdefault(aid, []).append(cid)

    def rebase(current: Artefact | None, attempted: Artefact) -> Artefact | None:
        """Redo this run's change on what a reviewer saved meanwhile: their status and text stay."""
        if current is None or current.status == ArtefactStatus.merged:
            return None  # its new candidates stay unassigned: the next run folds them
        # A member this run placed elsewhere (it left in a re-fold) stays out.
        kept = [cid for cid in current.candidate_ids if cid in live and member_of.get(cid, attempted.id) == attempted.id]
        ids = kept + [cid for cid in added.get(attempted.id, []) if cid not in kept]
        members = [live[cid] for cid in ids]
        more = store.passages_by_id(e.passage_id for c in members for e in c.evidence)
        return refresh(current.model_copy(update={"candidate_ids": ids}), members, more, sources)

    # Suggestions name candidates or artefacts; store them between artefacts.
    # A member that left its artefact in a re-fold is suggested back to that artefact's reviewer.
    # Written before the artefacts: once a candidate is in an artefact the next run no longer
    # compares it, so suggestions written after could be lost for good by a crash in between.
    suggestions += [(artefact_id, c, s) for c, (artefact_id, s) in left_from.items()]
    report.refold_left = len(left_from)
    pairs = [(member_of.get(x, x), member_of.get(y, y), s) for x, y, s in suggestions]
    pairs = [(x, y, s) for x, y, s in pairs if x != y]
    crash_point("dedupe:before-write")
    store.replace_suggestions(_keep_live_suggestions(store.suggestions(), pairs, live_ids=set(artefacts) | set(member_of.values())))
    report.suggestions = len(pairs)
    crash_point("dedupe:suggestions-written")

    versions = {i: v for i, (_, v) in read.items()}
    report.deferred = len(store.update_artefacts(refreshed, versions, rebase))
    crash_point("dedupe:artefacts-written")
    if refold:
        fold_state["fold_version"] = FOLD_VERSION
    return report


def questions_only_scorer(
    kind: CandidateKind, items: list[DedupItem], vectors: np.ndarray,
    answer_vectors: np.ndarray | None = None, has_answer: np.ndarray | None = None, merge_threshold: float | None = None,
) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:  # fmt: skip
    """`duplicate_pair_scorer` without answer agreement (`[dedupe] answer_agreement = false`),
    under the same configured merge threshold (the merge guard caps pairs just below it)."""
    return duplicate_pair_scorer(kind, items, vectors, merge_threshold=merge_threshold)


def _pair_scorer(
    store: Store,
    embed: Callable[[list[str]], np.ndarray],
    model_id: str,
    thresholds: Thresholds,
    score_pairs: Callable[..., Callable[[np.ndarray, np.ndarray], np.ndarray]] | None,
    kind: CandidateKind,
    items: list[DedupItem],
    answers: list[str],
    report: DedupeReport,
) -> tuple[np.ndarray, Callable[[np.ndarray, np.ndarray], np.ndarray] | None]:
    """The items' vectors (cached embeddings) and the pair scorer over their rows (None: cosine)."""
    from index.embed_service import cached_vectors

    vectors, computed = cached_vectors(store, [it.text for it in items], embed, model_id)
    report.embeddings_computed += computed
    merge, _ = thresholds.for_kind(kind)
    answer_vectors = has_answer = None
    if kind == CandidateKind.faq and score_pairs:
        from index.answer_agreement import answer_text_for

        answer_texts = [answer_text_for(x) for x in answers]
        has_answer = np.array([bool(t) for t in answer_texts], dtype=bool)
        answered = [t for t in answer_texts if t]
        answer_vectors = np.zeros_like(vectors)
        if answered:
            av, computed = cached_vectors(store, answered, embed, model_id)
            answer_vectors[has_answer] = av
            report.embeddings_computed += computed
    return vectors, (score_pairs(kind, items, vectors, answer_vectors, has_answer, merge) if score_pairs else None)


def _keep_live_suggestions(
    old: list[tuple[str, str, float]], new: list[tuple[str, str, float]], live_ids: set[str]
) -> list[tuple[str, str, float]]:
    """Old suggestions between still-live artefacts plus this run's, best score per pair."""
    best: dict[tuple[str, str], float] = {}
    for a, b, s in [*old, *new]:
        if a in live_ids and b in live_ids:
            key = (min(a, b), max(a, b))
            best[key] = max(best.get(key, s), s)
    return [(a, b, s) for (a, b), s in best.items()]
