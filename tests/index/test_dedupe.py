"""plan_dedup on hand-made vectors: folding, the suggestion band, and existing artefacts kept apart."""

from __future__ import annotations

import numpy as np

from index.dedupe import DedupItem, plan_dedup


def unit(*xs: float) -> np.ndarray:
    v = np.array(xs, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_close_candidates_fold_and_the_band_is_suggested() -> None:
    items = [DedupItem("c1", False, "a"), DedupItem("c2", False, "a'"), DedupItem("c3", False, "b")]
    vectors = np.stack([unit(1, 0, 0), unit(1, 0.1, 0), unit(1, 1, 0)])  # c1·c2 ≈ 0.995, c1·c3 ≈ 0.71
    plan = plan_dedup(items, vectors, merge_threshold=0.9, suggest_threshold=0.6)
    groups = sorted(sorted(g) for g in plan.groups)
    assert groups == [["c1", "c2"], ["c3"]]
    assert len(plan.suggestions) == 1 and {"c3"} <= set(plan.suggestions[0][:2])
    assert 0.6 <= plan.suggestions[0][2] < 0.9


def test_two_existing_artefacts_are_never_joined_automatically() -> None:
    items = [DedupItem("a1", True, "x"), DedupItem("a2", True, "x"), DedupItem("c1", False, "x")]
    vectors = np.stack([unit(1, 0), unit(1, 0.05), unit(1, 0.02)])
    plan = plan_dedup(items, vectors, merge_threshold=0.9, suggest_threshold=0.5)
    groups = [sorted(g) for g in plan.groups]
    assert sum("a1" in g for g in groups) == 1 and not any({"a1", "a2"} <= set(g) for g in groups)
    assert ["a1", "c1"] in groups or ["a2", "c1"] in groups  # the candidate joins one of them
    # the two artefacts end in different groups, so they are suggested to a reviewer instead
    assert any({a, b} == {"a1", "a2"} for a, b, _ in plan.suggestions)


def test_rescoring_function_decides_over_cosine() -> None:
    items = [DedupItem("c1", False, "a"), DedupItem("c2", False, "b")]
    vectors = np.stack([unit(1, 0), unit(1, 0.01)])
    plan = plan_dedup(items, vectors, 0.9, 0.5, score_pairs=lambda a, b: np.zeros(len(a)))
    assert sorted(sorted(g) for g in plan.groups) == [["c1"], ["c2"]] and plan.suggestions == []


def test_groups_match_an_all_pairs_baseline_on_random_clusters() -> None:
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(30, 16))
    vectors, truth = [], []
    for c, centre in enumerate(centres):
        for _ in range(4):
            vectors.append(centre + rng.normal(scale=0.05, size=16))
            truth.append(c)
    v = np.array(vectors, dtype=np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    items = [DedupItem(f"c{i}", False, "") for i in range(len(v))]
    plan = plan_dedup(items, v, merge_threshold=0.95, suggest_threshold=0.9)
    found = sorted(sorted(int(i[1:]) for i in g) for g in plan.groups)
    expected = sorted(sorted(i for i, t in enumerate(truth) if t == c) for c in range(30))
    assert found == expected
