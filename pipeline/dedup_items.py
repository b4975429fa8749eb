"""What the dedupe stage compares: the text of each candidate and artefact, and the conversation it comes from.

Pure helpers over the data model, used by the stage (``pipeline.artefacts``) and the re-fold of
existing stores (``pipeline.refold``); the rules they feed are in ``index.fold_rules``.
"""

from __future__ import annotations

from collections.abc import Iterable

from index.dedupe import DedupItem
from pipeline.models import Artefact, ArtefactStatus, Candidate, CandidateKind, Evidence, Passage, Source

# Reviewer-owned states: the stage never changes their text or status.
REVIEWED = (ArtefactStatus.approved, ArtefactStatus.rejected)


def compare_text(kind: CandidateKind, title: str, body: str, problem: str | None = None) -> str:
    """What dedup embeds: the question of a FAQ (not its answer); name and recommendation of a pattern.

    A FAQ question too generic to stand alone ("Any ideas?") is compared through the problem
    statement its extractor gave (`problem`), placed before it."""
    from index.duplicates import embedding_text_for
    from pipeline.text import is_generic_question

    if kind == CandidateKind.faq:
        if problem and problem.strip() and is_generic_question(title):
            title = f"{problem.strip()} {title}"
        return embedding_text_for("faq", title, None)
    return embedding_text_for("pattern", title, body)


def dedup_item(
    kind: CandidateKind, item_id: str, is_artefact: bool, text: str, conversations: frozenset[str], linked: bool = True
) -> DedupItem:
    """One comparable item; a FAQ whose compared text is still a generic question is flagged so."""
    from pipeline.text import is_generic_question

    generic = kind == CandidateKind.faq and is_generic_question(text)
    return DedupItem(item_id, is_artefact, text, conversations, generic, linked)


def conversations_of(
    candidates: Iterable[Candidate], passages: dict[str, Passage], sources: dict[str, Source]
) -> dict[str, frozenset[str]]:
    """The conversation (thread, meeting, document) each candidate comes from, by candidate id.

    Read from its question evidence (else its first evidence): ``index.fold_rules.conversation_key``.
    """
    from index.fold_rules import conversation_key

    out: dict[str, frozenset[str]] = {}
    for c in candidates:
        ev = _key_evidence(c)
        p = passages.get(ev.passage_id) if ev else None
        src = sources.get(c.source_id)
        kind = src.kind.value if src and src.kind else None
        if p is None:
            out[c.id] = frozenset({c.source_id}) if kind == "document" else frozenset()
        else:
            out[c.id] = frozenset({conversation_key(c.source_id, p.thread_id, p.message_id or p.id, kind)})
    return out


def evidence_passage_ids(candidates: Iterable[Candidate]) -> list[str]:
    """The passage ids a candidate's conversation is read from (see `conversations_of`)."""
    return [ev.passage_id for ev in map(_key_evidence, candidates) if ev]


def _key_evidence(c: Candidate) -> Evidence | None:
    """The evidence that places a candidate: its question, else its first quote."""
    return next((e for e in c.evidence if e.role == "question"), c.evidence[0] if c.evidence else None)


def artefact_items(
    kind: CandidateKind, existing: list[Artefact], live: dict[str, Candidate], conv: dict[str, frozenset[str]]
) -> tuple[list[DedupItem], list[str]]:
    """The items of existing artefacts (their canonical text and each live member's text) and the
    FAQ answer behind each. The canonical text speaks for all of the artefact's conversations."""
    items: list[DedupItem] = []
    answers: list[str] = []
    for a in existing:
        members = [live[c] for c in a.candidate_ids if c in live]
        convs = frozenset().union(*(conv.get(c.id, frozenset()) for c in members))
        # A reviewer's text (approved, or edited) is vouched for by the reviewer: joining is checked
        # against the members.
        texts = {(compare_text(kind, a.title, a.body, a.problem), convs): (a.body, a.status not in REVIEWED and not a.text_edited)}
        for c in members:
            texts.setdefault((compare_text(kind, c.title, c.body, c.problem), conv.get(c.id, frozenset())), (c.body, True))
        for (text, convs_of_text), (body, linked) in sorted(texts.items(), key=lambda kv: (kv[0][0], sorted(kv[0][1]))):
            items.append(dedup_item(kind, a.id, True, text, convs_of_text, linked))
            answers.append(body)
    return items, answers
