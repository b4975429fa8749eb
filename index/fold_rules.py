"""When two items may be folded at all, whatever their score: the rules that keep distinct knowledge apart.

Pure functions over texts and conversation keys, shared by the planner (``index.dedupe``), the
re-fold of existing artefacts (``index.refold``) and the dedupe stage (``pipeline.artefacts``).

A high duplicate score is necessary but not sufficient for an automatic merge. Two kinds of pair
are refused however close they score, because the score cannot see what makes them distinct:

* **Two items of one conversation** (one thread, one meeting, one curated document). The author of
  a FAQ page or a handbook page wrote its entries as distinct entries ("What is GitOps?" and "Why
  should I use GitOps?" are two questions, though the model scores them close); the questions of
  one thread are its opening question and its follow-ups. They fold only when their normalised
  texts are (near-)identical: the same question extracted twice, or repeated verbatim.
* **A question too generic to stand alone** ("Any ideas?", "Am I missing something?", "What should
  I do?"): its wording says nothing about the problem, so two such questions score as duplicates
  across unrelated threads. It is compared through the problem statement it carries when the
  extractor gives one (``compare_text`` in the dedupe stage puts it first); a text that is still
  generic then is never merged automatically nor suggested.
"""

from __future__ import annotations

import re
from typing import Protocol

from index.duplicates import char_similarity

__all__ = [
    "NEAR_IDENTICAL",
    "FoldFacts",
    "conversation_key",
    "may_fold",
    "near_identical",
    "normalise_question",
]

#: Character 4-gram Jaccard of two normalised texts at or above which they count as the same
#: wording (a typo, a trailing word, a changed article), not a rephrasing.
NEAR_IDENTICAL: float = 0.9

_NON_WORD = re.compile(r"[^0-9a-z]+")


class FoldFacts(Protocol):
    """What the rules read of an item (``index.dedupe.DedupItem`` has these fields)."""

    text: str
    conversations: frozenset[str]
    generic: bool


def normalise_question(text: str) -> str:
    """Lower-case, punctuation and runs of spaces folded to one space, trimmed."""
    return _NON_WORD.sub(" ", (text or "").lower()).strip()


def near_identical(a: str, b: str) -> bool:
    """Whether two texts are the same wording once normalised (equal, or 4-gram Jaccard ≥ ``NEAR_IDENTICAL``)."""
    na, nb = normalise_question(a), normalise_question(b)
    return na == nb or char_similarity(na, nb) >= NEAR_IDENTICAL


def conversation_key(source_id: str, thread_id: str | None, own_id: str | None, kind: str | None) -> str:
    """The conversation a passage belongs to: a thread, a meeting or a whole document.

    ``kind`` is the source kind (thread | transcript | document). A document is one conversation
    (its curated entries are distinct); a thread message belongs to its thread (``thread_id``),
    or stands alone (``own_id``) when the source has no threads; a transcript is one meeting unless
    the source names meetings (``thread_id``).
    """
    if kind == "document":
        return source_id
    if kind == "thread":
        return f"{source_id}#{thread_id or own_id or ''}"
    return f"{source_id}#{thread_id or ''}"


def may_fold(a: FoldFacts, b: FoldFacts) -> bool:
    """Whether the rules above allow `a` and `b` to be merged (or suggested) at all."""
    if a.generic or b.generic:
        return False
    if a.conversations & b.conversations:
        return near_identical(a.text, b.text)
    return True

