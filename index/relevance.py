"""Whether a search has a good answer at all: a relevance floor and readable match labels.

The fused rank score of hybrid search says only how a hit ranks *within* its query (the top hit of
weighted RRF always scores the same), so it cannot tell a good answer from the least bad one. The
signal used here is the hit's **dense cosine** with the query: one model, one scale, comparable
across queries. Two thresholds on it, both chosen on labelled data (`pipeline.eval_floor`,
``practice eval floor``), never guessed:

* ``floor``: a hit whose cosine is below it is not shown as an answer; a query whose best hit is
  below it has **no good match**. Chosen on a dev split to maximise F1 of "the index holds an
  answer to this query" (answerable StackFAQ paraphrases against unanswerable ones: paraphrases of
  FAQs left out of the index, other datasets' questions, gibberish).
* ``strong``: at or above it a hit is a **strong match**; chosen on the same dev split as the
  lowest cosine at which the top hit is the right answer with precision >= ``STRONG_PRECISION``.
  Between the two: a **possible match**.

Thresholds belong to an embedding model (cosines of another model live on another scale), so the
calibrated values are kept per model (`CALIBRATED`); ``[search] floor`` / ``strong`` in
practice.toml override them, and a model without calibration gets no floor.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "CALIBRATED",
    "MATCH_TEXT",
    "NO_MATCH",
    "STRONG_PRECISION",
    "Relevance",
    "choose_floor",
    "choose_strong",
    "for_model",
    "judge",
    "match_label",
    "overall",
    "rates",
]

STRONG_PRECISION = 0.95  # "strong": the top hit is the right answer at least this often (dev split)
NO_MATCH = "none"
MATCH_TEXT = {"strong": "strong match", "possible": "possible match", NO_MATCH: "no good match"}


@dataclass(frozen=True)
class Relevance:
    """A relevance floor and a strong-match threshold on the dense cosine of a hit with its query."""

    floor: float
    strong: float
    source: str = "config"  # where the values come from (a calibration, or practice.toml)

    def __post_init__(self) -> None:
        if not -1.0 <= self.floor <= self.strong <= 1.0:
            raise ValueError(f"relevance thresholds need -1 <= floor <= strong <= 1; got floor {self.floor}, strong {self.strong}")

    def label(self, cosine: float | None) -> str:
        """"strong", "possible" or "none" (below the floor, or no dense score to judge by)."""
        return match_label(cosine, self.floor, self.strong)


# Chosen by `practice eval floor` (pipeline.eval_floor; figures in its docstring and the README).
CALIBRATED: dict[str, Relevance] = {
    # test split: "has a good answer" precision 0.875, recall 0.929 (F1 0.901); strong: the top hit
    # is the answer with precision 0.906; gibberish, SemEval and QMSum queries: none shown an answer.
    "all-MiniLM-L6-v2": Relevance(floor=0.58, strong=0.64, source="practice eval floor, StackFAQ dev split"),
}


def judge(hits: list[Any], relevance: Relevance | None) -> list[Any]:
    """Label each hit (``hit.match``, ``hit.relevance``) and drop those below the floor.

    A hit is judged by its own dense cosine; a hybrid hit that only BM25 ranked has none (its
    cosine is below the dense list's last), so it is judged "none". Without thresholds, or for
    hits with no dense score at all (BM25-only search), nothing is dropped or labelled.
    """
    if relevance is None or all(h.dense_score is None for h in hits):
        return hits
    kept = []
    for h in hits:
        h.relevance = h.dense_score
        h.match = relevance.label(h.dense_score)
        if h.match != NO_MATCH:
            kept.append(h)
    return kept


def overall(matches: Sequence[str | None], judged: bool) -> str | None:
    """A search's verdict from its hits' labels: "strong", "possible" or "none" (no good match);
    None when nothing was judged (no thresholds for this release)."""
    if not judged:
        return None
    if "strong" in matches:
        return "strong"
    return "possible" if "possible" in matches else NO_MATCH


def for_model(model_id: str | None) -> Relevance | None:
    """The calibrated thresholds of an embedding model (with or without its hub prefix), if any."""
    if not model_id:
        return None
    name = str(model_id)
    return CALIBRATED.get(name) or CALIBRATED.get(name.rsplit("/", 1)[-1])


def match_label(cosine: float | None, floor: float, strong: float) -> str:
    """"strong" at or above ``strong``, "possible" at or above ``floor``, else "none"."""
    if cosine is None or cosine != cosine:  # None or NaN: nothing to judge by
        return NO_MATCH
    if cosine >= strong:
        return "strong"
    return "possible" if cosine >= floor else NO_MATCH


def rates(scores: Sequence[float], labels: Sequence[bool], threshold: float) -> dict[str, float]:
    """Precision, recall and F1 of "label is true" when predicted as ``score >= threshold``."""
    if len(scores) != len(labels):
        raise ValueError(f"{len(scores)} scores but {len(labels)} labels")
    tp = sum(1 for s, y in zip(scores, labels) if s >= threshold and y)
    fp = sum(1 for s, y in zip(scores, labels) if s >= threshold and not y)
    fn = sum(1 for s, y in zip(scores, labels) if s < threshold and y)
    precision = tp / (tp + fp) if tp + fp else 1.0  # nothing predicted: no false claim made
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"threshold": threshold, "precision": precision, "recall": recall, "f1": f1, "tp": tp, "fp": fp, "fn": fn}


def _candidates(scores: Sequence[float], step: float) -> list[float]:
    """Thresholds to try: a grid of ``step`` over the scores' range (a grid, not every score, so
    the chosen value is a round number that does not sit exactly on one dev example)."""
    lo = min(scores)
    hi = max(scores)
    start = round(lo / step) * step
    out = []
    t = start
    while t <= hi + step:
        out.append(round(t, 6))
        t += step
    return out


def choose_floor(scores: Sequence[float], labels: Sequence[bool], step: float = 0.01) -> dict[str, float]:
    """The threshold with the best F1 of ``labels`` (ties: the higher threshold, fewer false answers)."""
    if not scores or not any(labels) or all(labels):
        raise ValueError("choosing a floor needs scores with both labels")
    best = max((rates(scores, labels, t) for t in _candidates(scores, step)), key=lambda r: (r["f1"], r["threshold"]))
    return best


def choose_strong(
    scores: Sequence[float], labels: Sequence[bool], min_precision: float = STRONG_PRECISION, step: float = 0.01,
    at_least: float = -1.0,
) -> dict[str, float]:
    """The lowest threshold (not below ``at_least``, the floor) at which ``labels`` hold with
    precision >= ``min_precision`` for every threshold above it too (so "strong" never gets less
    precise as the cosine rises)."""
    if not scores or not any(labels):
        raise ValueError("choosing a strong threshold needs scores with some true labels")
    grid = [t for t in _candidates(scores, step) if t >= at_least - 1e-9] or [round(at_least, 6)]
    chosen = rates(scores, labels, grid[-1])
    for t in reversed(grid):
        r = rates(scores, labels, t)
        if r["tp"] and r["precision"] < min_precision:
            break
        if r["tp"]:
            chosen = r
    return chosen
