"""A reviewer proposes a FAQ by hand (e.g. through an AI assistant): it enters the review queue as a candidate.

A proposal is stored like an extractor's output (one candidate per source its evidence comes from,
extractor `PROPOSED`) and folded into a new candidate artefact at once, so reviewers see it in the
queue before the next dedupe. It obeys the invariants every candidate does: each quote occurs
verbatim in a passage the proposer may see, and the artefact's visibility follows its sources.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from extractors.base import unverified_quotes
from pipeline.artefacts import new_artefact, refresh
from pipeline.models import Artefact, Candidate, CandidateDraft, CandidateKind, Evidence, ReviewEvent
from pipeline.review import NotAllowed, ReviewError
from pipeline.store import Store
from pipeline.users import User, can_review, can_see

PROPOSED = "proposed"  # the extractor name of hand-made proposals
PROPOSED_VERSION = "1"
MAX_TEXT = 4000


class BadProposal(ReviewError):
    """A proposal that cannot be taken (empty text, unknown passage, a quote not in its passage)."""


def propose_faq(
    store: Store, user: User | None, question: str, answer: str | None, evidence: Iterable[Mapping[str, str]], note: str | None = None
) -> Artefact:
    """Put a reviewer's FAQ (with evidence: passage ids and verbatim quotes) in the review queue.

    Returns the new candidate artefact. Raises NotAllowed for a non-reviewer, BadProposal for
    evidence the proposer cannot see or that does not stand, or a FAQ proposed already.
    """
    if user is None or not can_review(user):
        raise NotAllowed("only reviewers and admins may propose FAQs")
    question, answer = question.strip(), (answer or "").strip() or None
    if not question or len(question) > MAX_TEXT or (answer and len(answer) > MAX_TEXT):
        raise BadProposal(f"the question is required and question and answer hold at most {MAX_TEXT} characters")
    rows = [Evidence(passage_id=str(e.get("passage_id", "")), quote=str(e.get("quote", "")), role="support") for e in evidence]
    if not rows:
        raise BadProposal("cite at least one passage: evidence [{passage_id, quote}] (every artefact cites a real passage)")
    passages = store.passages_by_id(e.passage_id for e in rows)
    sources = {s.id: s for s in store.list_sources()}
    by_source: dict[str, list[Evidence]] = {}
    for e in rows:
        p = passages.get(e.passage_id)
        src = sources.get(p.source_id) if p is not None else None
        if p is None or src is None or not can_see(user, src.visibility):
            raise BadProposal(f"no passage {e.passage_id!r}")  # hidden and missing look the same
        by_source.setdefault(src.id, []).append(e)
    members = []
    for source_id, ev in by_source.items():
        draft = CandidateDraft(
            kind=CandidateKind.faq, question=question, answer=answer, evidence=ev,
            extractor=PROPOSED, extractor_version=PROPOSED_VERSION, confidence=1.0,
        )  # fmt: skip
        if bad := unverified_quotes(draft, passages):
            raise BadProposal(f"quote not found verbatim in its passage: {bad[0]!r}")
        members.append(Candidate.from_draft(draft, source_id))
    artefact = refresh(new_artefact(members), members, passages, sources)
    if store.get_artefact(artefact.id) is not None:
        raise BadProposal(f"this FAQ was proposed already: artefact {artefact.id}")
    for c in members:  # the source's earlier proposals stay: replace_candidates sets the whole list
        kept = [x for x in store.candidates(source_id=c.source_id, extractor=PROPOSED) if x.id != c.id]
        store.replace_candidates(c.source_id, PROPOSED, "", [*kept, c])
    event = ReviewEvent(actor=user.name, action="propose", artefact_id=artefact.id, after=artefact.model_dump(mode="json"), note=note)
    store.save_review([artefact], [event], {artefact.id: 0})
    return artefact
