"""Scores of chat disentanglement: reply links and conversations against gold (pure functions).

A disentanglement is given as links: `parent[i]` is the earlier message that message `i` answers,
or `i` itself when it starts a new conversation (the convention of the Ubuntu IRC annotations,
Kummerfeld et al. 2019). Conversations are the connected groups of linked messages.

- **Link precision / recall / F1**: predicted (message, parent) pairs against the gold pairs, over
  the scored messages only (a gold message may have several parents, a prediction has one).
- **One-to-one overlap** (Elsner & Charniak 2008): pair gold and predicted conversations one to one
  so that the messages they share are as many as possible; the share of scored messages in a pair.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment


@dataclass(frozen=True)
class LinkScores:
    """Link-level figures with their counts."""

    precision: float
    recall: float
    f1: float
    correct: int
    predicted: int
    gold: int


def _ratio(a: int, b: int) -> float:
    return a / b if b else 0.0


def link_scores(predicted: Mapping[int, int], gold: Iterable[tuple[int, int]], scored: set[int]) -> LinkScores:
    """Precision, recall and F1 of `predicted` (message → parent) against the `gold` (message,
    parent) pairs, counting only messages in `scored`."""
    gold_pairs = {(i, j) for i, j in gold if i in scored}
    pred_pairs = {(i, j) for i, j in predicted.items() if i in scored}
    correct = len(gold_pairs & pred_pairs)
    p, r = _ratio(correct, len(pred_pairs)), _ratio(correct, len(gold_pairs))
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return LinkScores(p, r, f1, correct, len(pred_pairs), len(gold_pairs))


def conversations(links: Iterable[tuple[int, int]], messages: Iterable[int]) -> dict[int, int]:
    """Each message's conversation (the smallest message id of its connected group of links).

    `messages` lists every message to place: one in no link is a conversation of its own.
    """
    root: dict[int, int] = {m: m for m in messages}

    def find(x: int) -> int:
        root.setdefault(x, x)
        while root[x] != x:
            root[x] = root[root[x]]  # path halving keeps long chains cheap
            x = root[x]
        return x

    for a, b in links:
        ra, rb = find(a), find(b)
        if ra != rb:
            root[max(ra, rb)] = min(ra, rb)
    return {m: find(m) for m in list(root)}


def one_to_one(gold: Mapping[int, int], predicted: Mapping[int, int], scored: set[int]) -> float:
    """Elsner & Charniak's one-to-one overlap of two clusterings (message → conversation id),
    over the messages in `scored` (each must be in both mappings)."""
    if not scored:
        return 0.0
    g_ids = sorted({gold[m] for m in scored})
    p_ids = sorted({predicted[m] for m in scored})
    g_at = {c: k for k, c in enumerate(g_ids)}
    p_at = {c: k for k, c in enumerate(p_ids)}
    shared: dict[tuple[int, int], int] = {}
    for m in scored:
        key = (g_at[gold[m]], p_at[predicted[m]])
        shared[key] = shared.get(key, 0) + 1
    # Only conversations that share a message can gain from being paired: solve on those.
    rows = sorted({g for g, _ in shared})
    cols = sorted({p for _, p in shared})
    r_at, c_at = {g: k for k, g in enumerate(rows)}, {p: k for k, p in enumerate(cols)}
    cost = np.zeros((len(rows), len(cols)))
    for (g, p), n in shared.items():
        cost[r_at[g], c_at[p]] = -n
    picked_rows, picked_cols = linear_sum_assignment(cost)
    return float(-cost[picked_rows, picked_cols].sum()) / len(scored)


def same_conversation_links(predicted: Mapping[int, int], gold_conv: Mapping[int, int], scored: set[int]) -> LinkScores:
    """Link scores when the gold has conversations but no reply links (the Gitter set): a link is
    right when both ends are in the same gold conversation, a new-conversation link when the
    message is the first of its gold conversation. Every message has one gold and one predicted
    link, so precision = recall."""
    first: dict[int, int] = {}
    for m in sorted(gold_conv):
        first.setdefault(gold_conv[m], m)
    correct = 0
    for m in scored:
        parent = predicted[m]
        if parent == m:
            correct += first[gold_conv[m]] == m
        else:
            correct += gold_conv.get(parent) == gold_conv[m]
    p = _ratio(correct, len(scored))
    return LinkScores(p, p, p, correct, len(scored), len(scored))
