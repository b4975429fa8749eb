"""The merge guard: related questions that share their topic words are suggested, not merged."""

from __future__ import annotations

import numpy as np

from index.dedupe import DedupItem
from index.same_ask import cap_distinct_asks, distinct_asks, unshared_share
from pipeline.artefacts import duplicate_pair_scorer
from pipeline.models import CandidateKind

MERGE = 0.8935  # the calibrated faq merge threshold (index.duplicates.CALIBRATED)

APPLY = "How does the Curry-Howard correspondence apply to quantum programs?"
TYPES = "Does the Curry-Howard correspondence have a quantum-specific type system?"


# Other questions of the collection: the idf the scorer computes over it makes the pair's shared
# topic words rare, as they are in a real community (two items alone would make them common).
OTHERS = [
    "How do I reset my router password?",
    "Which laptop battery lasts longest?",
    "Why does my bread not rise?",
    "Where can I renew a passport?",
    "How to tune a guitar by ear?",
    "What is a good beginner telescope?",
]


def _items_and_vectors(a: str, b: str, cosine: float) -> tuple[list[DedupItem], np.ndarray]:
    """Items [a, b, *OTHERS] and unit vectors in which a·b is `cosine` (the others orthogonal to both)."""
    texts = [a, b, *OTHERS]
    vectors = np.zeros((len(texts), len(texts) + 1), dtype=np.float32)
    vectors[0, 0] = 1.0
    vectors[1, 0], vectors[1, 1] = cosine, float(np.sqrt(1 - cosine**2))
    for i in range(2, len(texts)):
        vectors[i, i] = 1.0
    return [DedupItem(id=str(i), is_artefact=False, text=t) for i, t in enumerate(texts)], vectors


def test_each_side_adding_its_own_words_is_distinct_below_the_cosine_floor() -> None:
    # "apply … programs" against "type system": each side holds half or more of its words alone.
    sa, sb = unshared_share(APPLY, TYPES)
    assert sa >= 0.3 and sb >= 0.3
    assert distinct_asks(APPLY, TYPES, cosine=0.82)


def test_embeddings_close_enough_say_the_same_whatever_the_words() -> None:
    assert not distinct_asks(APPLY, TYPES, cosine=0.90)


def test_one_side_contained_in_the_other_is_not_distinct() -> None:
    # Every word of the short side is in the long one: the short side adds nothing.
    assert unshared_share("Send a fax online", "How can I send a fax online quickly?")[0] == 0.0
    assert not distinct_asks("Send a fax online", "How can I send a fax online quickly?", cosine=0.80)


def test_cap_keeps_a_distinct_pair_in_the_suggestion_band_and_leaves_others() -> None:
    scores = np.array([0.99, 0.99, 0.70], dtype=np.float32)
    cosine = np.array([0.82, 0.90, 0.60], dtype=np.float32)
    out = cap_distinct_asks(scores, cosine, [APPLY] * 3, [TYPES] * 3, MERGE)
    assert out[0] < MERGE and out[0] > MERGE - 0.001  # demoted to just below: still a suggestion
    assert out[1] == np.float32(0.99)  # the embeddings alone say "same": kept
    assert out[2] == np.float32(0.70)  # already below: untouched


def test_the_dedupe_scorer_does_not_merge_related_questions_lifted_by_shared_topic_words() -> None:
    # cosine 0.82 alone is below the merge threshold; the shared "Curry-Howard correspondence
    # quantum" lexical overlap used to lift the pair over it.
    items, vectors = _items_and_vectors(APPLY, TYPES, 0.82)
    score = duplicate_pair_scorer(CandidateKind.faq, items, vectors, merge_threshold=MERGE)
    s = float(score(np.array([0]), np.array([1]))[0])
    assert 0.543 <= s < MERGE  # a suggestion for a reviewer, not an automatic merge
    # ...while a paraphrase whose embeddings are close still merges.
    a, b = "How can I send a fax online?", "What are my options for sending fax online?"
    items, vectors = _items_and_vectors(a, b, 0.86)
    score = duplicate_pair_scorer(CandidateKind.faq, items, vectors, merge_threshold=MERGE)
    assert float(score(np.array([0]), np.array([1]))[0]) >= MERGE


# "Reverse annealing" names a different thing from "annealing": the short side adds nothing the
# long side lacks (so the each-side-adds rule above cannot see it), and only the shared frame
# "What precisely is … annealing" lifts the pair.
ANNEALING = "What precisely is annealing?"
REVERSE = "What precisely is reverse annealing?"


def test_embeddings_far_apart_are_not_merged_on_shared_wording_alone() -> None:
    assert min(unshared_share(ANNEALING, REVERSE)) == 0.0  # nothing on one side: not "each side adds"
    assert distinct_asks(ANNEALING, REVERSE, cosine=0.71)
    assert not distinct_asks(ANNEALING, REVERSE, cosine=0.76)  # close enough: the words may confirm


def test_the_dedupe_scorer_keeps_a_low_cosine_pair_with_shared_wording_a_suggestion() -> None:
    items, vectors = _items_and_vectors(ANNEALING, REVERSE, 0.71)
    score = duplicate_pair_scorer(CandidateKind.faq, items, vectors, merge_threshold=MERGE)
    s = float(score(np.array([0]), np.array([1]))[0])
    assert 0.543 <= s < MERGE  # 0.71 + 0.3 · overlap was over the merge threshold: now a suggestion
    # A paraphrase just above the floor whose wording confirms it still merges.
    a, b = "How can I send a fax online?", "What are my options for sending fax online?"
    items, vectors = _items_and_vectors(a, b, 0.76)
    score = duplicate_pair_scorer(CandidateKind.faq, items, vectors, merge_threshold=MERGE)
    assert float(score(np.array([0]), np.array([1]))[0]) >= MERGE


def test_the_guard_does_not_depend_on_what_else_is_in_the_store() -> None:
    # A store full of programming chat makes "program", "type" and "system" common words; the
    # Curry-Howard pair still asks two different things, and must stay a suggestion there too.
    chat = [f"Which {w} should I use for my {n} program?" for w in ("type system", "type", "system") for n in ("first", "next", "old")]
    for others in (OTHERS, OTHERS + chat):
        texts = [APPLY, TYPES, *others]
        vectors = np.zeros((len(texts), len(texts) + 1), dtype=np.float32)
        vectors[0, 0], vectors[1, 0], vectors[1, 1] = 1.0, 0.82, float(np.sqrt(1 - 0.82**2))
        for i in range(2, len(texts)):
            vectors[i, i] = 1.0
        items = [DedupItem(id=str(i), is_artefact=False, text=t) for i, t in enumerate(texts)]
        score = duplicate_pair_scorer(CandidateKind.faq, items, vectors, merge_threshold=MERGE)
        s = float(score(np.array([0]), np.array([1]))[0])
        assert 0.543 <= s < MERGE, len(others)


def test_without_answer_agreement_the_guard_caps_below_the_configured_threshold() -> None:
    # [dedupe] answer_agreement = false and a lower faq_merge: a guarded pair must still not merge
    from pipeline.artefacts import questions_only_scorer

    items, vectors = _items_and_vectors(ANNEALING, REVERSE, 0.71)
    lower = 0.6
    score = questions_only_scorer(CandidateKind.faq, items, vectors, None, None, lower)
    assert float(score(np.array([0]), np.array([1]))[0]) < lower
