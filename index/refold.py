"""Re-fold an existing artefact: which of its members still belong under today's grouping rules.

Pure: an artefact's canonical text and members in, the members that stay and those that leave out.
Stores written before complete-link grouping (``index.dedupe``) hold artefacts that chains put
together (A~B, B~C: A and C in one artefact); the dedupe stage re-folds them once, on the first
run after ``FOLD_VERSION`` changes. The rule is the one new groups obey: a member stays when it is
a duplicate of the artefact's canonical text and of every other member that stays, and
``index.fold_rules.may_fold`` allows it. Members are taken closest to the canonical text first, so
what leaves is what strays furthest. A member a reviewer put there (a reviewer's merge) stays
whatever it scores: that decision is the reviewer's. An artefact is never emptied: when no
member qualifies (its text is a generic question, say), the closest one stays.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from index.dedupe import DedupItem
from index.fold_rules import may_fold

__all__ = ["FOLD_VERSION", "Refold", "refold_members"]

#: Bumped when the grouping rules change so that existing artefacts must be re-checked.
#: "2": complete-link groups, one conversation's entries and generic questions kept apart.
#: "3": FAQ pairs that each ask something the other does not, or whose embeddings are not close
#: (shared wording alone lifted them), are not merged (index.same_ask).
FOLD_VERSION = "3"


@dataclass
class Refold:
    """The outcome for one artefact."""

    keep: list[str] = field(default_factory=list)  # member ids that stay, in the order given
    # member id -> its duplicate score with the canonical text, for members that leave
    leave: dict[str, float] = field(default_factory=dict)


def refold_members(
    canonical: DedupItem,
    members: Sequence[DedupItem],
    score_pairs: Callable[[np.ndarray, np.ndarray], np.ndarray],
    merge_threshold: float,
    protected: frozenset[str] = frozenset(),
) -> Refold:
    """Split an artefact's `members` into those that stay and those that leave.

    `canonical` is the artefact's text (its ``conversations`` are ignored: it speaks for the whole
    artefact). `score_pairs(rows_a, rows_b)` scores rows of ``[canonical, *members]`` (row 0 is
    the canonical text). Members in `protected` (a reviewer merged them in) always stay and are
    not checked.
    """
    rows = len(members)
    if rows == 0:
        return Refold()
    idx = np.arange(1, rows + 1, dtype=np.int64)
    to_canonical = np.asarray(score_pairs(np.zeros(rows, dtype=np.int64), idx), dtype=np.float64)
    out = Refold()
    kept: list[int] = []  # rows of checked members that stay
    anchor = DedupItem(canonical.id, True, canonical.text, frozenset(), canonical.generic)
    for i in sorted(range(rows), key=lambda r: -to_canonical[r]):
        m = members[i]
        if m.id in protected:
            continue
        ok = to_canonical[i] >= merge_threshold and may_fold(anchor, m)
        if ok and kept:
            ok = all(may_fold(members[j], m) for j in kept)
            if ok:
                ks = np.asarray(score_pairs(np.array(kept, dtype=np.int64) + 1, np.full(len(kept), i + 1)), dtype=np.float64)
                ok = bool((ks >= merge_threshold).all())
        if ok:
            kept.append(i)
        else:
            out.leave[m.id] = float(to_canonical[i])
    if not kept and not any(m.id in protected for m in members):
        # An artefact is never emptied by a re-fold (it would go stale and leave the index): the
        # member closest to its text stays, as when that text is too generic to fold anything.
        out.leave.pop(members[int(np.argmax(to_canonical))].id, None)
    out.keep = [m.id for m in members if m.id not in out.leave]
    return out
