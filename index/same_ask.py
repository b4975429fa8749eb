"""Whether two close questions ask the same thing, or only share a topic: the merge guard.

A high duplicate score says two questions are about the same thing; it cannot tell "What
precisely is quantum annealing?" from "What precisely is Reverse Annealing?", or "HHL09: Step 1 -
numerical example" from "HHL09: Step 2 - preparation": related questions of one community that
share nearly all their wording. Paraphrases of one question reword it ("encrypt emails sent
through Gmail" / "encrypt gmail messages"); related questions each *add* something the other does
not ask about, and what lifts them over the merge threshold is the lexical overlap of their
shared topic words ("Curry-Howard correspondence", "HHL09"), not the meaning of the whole
question. So a pair is refused an automatic merge (it stays a suggestion) when **each** side
carries content the other lacks (at least ``DISTINCT_SHARE`` of its content words,
``pipeline.text``, are absent from the other side) **and** the embeddings alone do not reach
``MERGE_COSINE``: then the lexical half of the score may not decide the merge.

Chosen on the dev split of ``bench/gold/pairs.jsonl`` only (162 pairs; cosine floor swept over
0.80–0.88, share over 0–0.4): at 0.84 / 0.3 the pair scorer's merges there go from 14 (4 wrong:
three "HHL09: Step n" questions, Curry-Howard) to 7 (0 wrong), recall of same pairs 0.29 → 0.21.
(Then with idf² weights; plain counts, ``unshared_share``, give the same dev figures.)

A second, simpler guard comes first: **shared words may confirm a pair, never carry it**. A pair
whose embeddings are below ``LEXICAL_LIFT_COSINE`` is not merged automatically however much
wording it shares: "What precisely is quantum annealing?" / "What precisely is Reverse
Annealing?" (cosine 0.71) differ in the one word that names what is asked about, and the
calibrated score (cosine + 0.3 · idf overlap) lifted them over the merge threshold on the
strength of the frame they share. The same holds for answer agreement (``index.answer_agreement``:
it may only confirm a pair that is already close). Chosen below the lowest cosine of a true merge
on SemEval-2016 subtask B parts 1+2 (0.760; the only merge below 0.75 there, "best laptop" /
"dell or hp", is not a duplicate: merge precision 15/18 → 15/17) and on the dev pairs of
bench/gold, where pairs under 0.75 scoring ≥ 0.80 are mostly not the same question (6 of 9).

Measured with ``practice eval extraction`` on bench/gold's pairs and Stack Exchange + mbox thread
units (dev split; the held-out fifth was read once, at the end): wrong merges 1/11 → 0/5,
same-labelled pairs merged 10/24 → 5/24. The price is the first rule's: among the dev pairs over
the merge threshold it demotes 1 wrong merge (Curry-Howard) and 4 paraphrases ("2 qubits
entangled" / "two-qubit state entangled"); the floor alone demotes 1 paraphrase and no wrong one
there. On SemEval parts 1+2 (``practice eval duplicates``, ``at_merge_guarded``) merges go
15/18 → 11/13 right: the floor removes the one wrong merge below it, the first rule 4 right ones.
A demoted pair is not lost: it stays a suggestion for a reviewer, while a wrong merge hides a
distinct question inside another's artefact.

Pure function; the dedupe stage's pair scorer (``pipeline.artefacts.duplicate_pair_scorer``)
applies it by capping such a pair's score just below the merge threshold.
"""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.text import content_words

import numpy as np

__all__ = ["DISTINCT_SHARE", "LEXICAL_LIFT_COSINE", "MERGE_COSINE", "cap_distinct_asks", "distinct_asks", "unshared_share"]

#: Share of a side's content words that the other side lacks, at or above which
#: that side asks something of its own (chosen on the dev pairs of bench/gold, see the module doc).
DISTINCT_SHARE: float = 0.3
#: Cosine of the two questions' embeddings at or above which the pair may merge however much
#: each side adds (a paraphrase whose meaning the model already sees as the same).
MERGE_COSINE: float = 0.84
#: Cosine below which a pair is never merged automatically, whatever the words it shares add
#: (see the module doc: shared wording confirms, it never carries a merge).
LEXICAL_LIFT_COSINE: float = 0.75


def unshared_share(a: str, b: str) -> tuple[float, float]:
    """(share of `a`'s distinct content words not in `b`, the same for `b`), each in [0, 1]
    (0 for no content word).

    Plain counts, not idf weights: whether two questions each ask something of their own must not
    depend on what else is in the store. Weighted by the collection's idf² (the first version), the
    Curry-Howard pair was refused over the Stack Exchange gold alone and merged once a year of
    programming chat made "program", "type" and "system" common words.
    """
    wa, wb = set(content_words(a)), set(content_words(b))

    def share(mine: set[str], other: set[str]) -> float:
        return len(mine - other) / len(mine) if mine else 0.0

    return share(wa, wb), share(wb, wa)


def distinct_asks(a: str, b: str, cosine: float) -> bool:
    """Whether `a` and `b` (question cores, ``index.duplicates.texts_for``) may not be merged on
    their score: embeddings (`cosine`) below ``LEXICAL_LIFT_COSINE``, or each side asks something
    the other does not with embeddings not close enough to say they mean the same."""
    if cosine < LEXICAL_LIFT_COSINE:
        return True
    return cosine < MERGE_COSINE and min(unshared_share(a, b)) >= DISTINCT_SHARE


def cap_distinct_asks(
    scores: np.ndarray,
    cosine: np.ndarray,
    texts_a: Sequence[str],
    texts_b: Sequence[str],
    merge_threshold: float,
) -> np.ndarray:
    """`scores` with every pair that ``distinct_asks`` capped just below `merge_threshold`: a
    suggestion at most, never an automatic merge (lower scores are left as they are)."""
    out = np.asarray(scores, dtype=np.float32).copy()
    below = np.nextafter(np.float32(merge_threshold), np.float32(-np.inf))
    for i in np.flatnonzero(out >= merge_threshold):
        if distinct_asks(texts_a[i], texts_b[i], float(cosine[i])):
            out[i] = min(out[i], below)
    return out
