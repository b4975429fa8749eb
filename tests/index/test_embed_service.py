"""The one embedding service: deduplicated, cached per (model, backend), and batched per source in extraction."""

from __future__ import annotations

import numpy as np

from extractors.threads import ThreadExtractor
from extractors.answer_ranking import Reply, pre_embedded, rank_replies
from index.embed_service import EmbeddingService, cached_vectors
from index.embeddings import attention_batches
from pipeline.store_memory import MemoryStore
from tests.extractors.test_threads_extractor import FLAKY, OPEN, SOURCE, _thread, fake_embed


class CountingEncoder:
    """A fake backend that records every call it gets."""

    def __init__(self, backend: str = "torch", model_name: str = "fake") -> None:
        self.backend, self.model_name, self.calls = backend, model_name, []

    @property
    def dimension(self) -> int:
        return 256

    def encode(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        return fake_embed(texts)


def test_repeated_texts_are_embedded_once_and_cached_runs_embed_nothing() -> None:
    store, enc = MemoryStore(), CountingEncoder()
    service = EmbeddingService(enc, store)
    vectors, computed = service.embed(["a cat sat", "dog days", "a cat sat"])
    assert computed == 2 and sorted(enc.calls[0]) == ["a cat sat", "dog days"]
    assert np.allclose(vectors, fake_embed(["a cat sat", "dog days", "a cat sat"]), atol=1e-6)
    again, computed = service.embed(["dog days", "a cat sat"])
    assert computed == 0 and len(enc.calls) == 1
    assert np.allclose(again, fake_embed(["dog days", "a cat sat"]), atol=1e-6)


def test_another_backend_does_not_reuse_the_vectors_of_the_first() -> None:
    store = MemoryStore()
    EmbeddingService(CountingEncoder("torch"), store).embed(["a cat sat"])
    int8 = CountingEncoder("onnx-int8")
    _, computed = EmbeddingService(int8, store).embed(["a cat sat"])
    assert computed == 1 and int8.calls == [["a cat sat"]]
    assert {k[2] for k in store.embeddings} == {"torch", "onnx-int8"}  # (hash, model, backend)


def test_a_plain_function_is_cached_under_torch_as_before() -> None:
    store = MemoryStore()
    _, computed = cached_vectors(store, ["x y z"], fake_embed, "fake")
    assert computed == 1 and {k[2] for k in store.embeddings} == {"torch"}
    assert cached_vectors(store, ["x y z"], fake_embed, "fake")[1] == 0


RETRO = _thread(
    [
        ("r1", "ana", "How do you run retrospectives for a remote team across time zones?", {}),
        ("r2", "joe", "We use an async board for a week, then a short call to pick two actions.", {"+1": 2}),
        ("r3", "ana", "Thanks, we will try the async board.", {}),
    ]
)


def test_extraction_embeds_every_thread_of_a_source_in_one_call() -> None:
    passages = [*FLAKY, *OPEN, *RETRO]
    enc = CountingEncoder()
    result = ThreadExtractor(embed=EmbeddingService(enc, MemoryStore())).run(SOURCE, passages)
    # both answered threads and the ranker's prototypes, one model call (it was one call per thread)
    assert len(enc.calls) == 1 and len(result.candidates) >= 2
    assert [c.model_dump() for c in result.candidates] == [c.model_dump() for c in ThreadExtractor(embed=fake_embed).run(SOURCE, passages).candidates]


def test_pre_embedded_vectors_rank_as_embedding_each_thread_alone() -> None:
    replies = [Reply(id="a", text="Pin the version in the lock file.", author="joe", position=1),
               Reply(id="b", text="thanks!", author="ana", position=2)]  # fmt: skip
    calls: list[list[str]] = []
    table = pre_embedded(lambda t: (calls.append(t), fake_embed(t))[1], [("How do I pin a version?", replies)])
    alone = rank_replies("How do I pin a version?", "ana", replies, fake_embed)
    assert rank_replies("How do I pin a version?", "ana", replies, table) == alone
    assert len(calls) == 1  # the ranker's texts and prototypes were all in the one call
    assert np.allclose(table(["a text nobody asked for"]), fake_embed(["a text nobody asked for"]))  # a miss is embedded


def test_long_texts_are_embedded_in_smaller_batches_and_every_text_once() -> None:
    # 20 texts of 2,000 characters (past the 256-token limit) among 100 short ones, interleaved
    lengths = [2000 if i % 6 == 0 else 100 for i in range(120)]
    batches = attention_batches(lengths, max_batch=64, max_tokens=256)
    assert sorted(i for b in batches for i in b) == list(range(120))
    # 64 x 128² tokens² of attention a batch: 16 texts at 256 tokens, the short ones 64 at a time
    assert [len(b) for b in batches] == [16, 16, 64, 24]
    assert all(lengths[i] == 2000 for i in batches[0]) and lengths[batches[1][3]] == 2000
