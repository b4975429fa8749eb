"""The one embedding service: deduplicated, cached per (model, backend), and batched per source in extraction."""

from __future__ import annotations

import numpy as np

from extractors.threads import ThreadExtractor
from index.embed_service import EmbeddingService, Recorder, cached_vectors
from index.embeddings import attention_batches
from pipeline.extract_prefetch import PrefetchingExtractor, prefetching
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


def test_recorder_answers_unit_vectors_and_keeps_the_texts() -> None:
    rec = Recorder(4)
    out = rec(["a", "b"])
    assert out.shape == (2, 4) and np.allclose(np.linalg.norm(out, axis=1), 1.0)
    assert rec.texts == ["a", "b"]


RETRO = _thread(
    [
        ("r1", "ana", "How do you run retrospectives for a remote team across time zones?", {}),
        ("r2", "joe", "We use an async board for a week, then a short call to pick two actions.", {"+1": 2}),
        ("r3", "ana", "Thanks, we will try the async board.", {}),
    ]
)


def test_prefetch_embeds_every_thread_of_a_source_in_one_call_with_the_same_result() -> None:
    passages = [*FLAKY, *OPEN, *RETRO]
    plain = ThreadExtractor(embed=fake_embed).run(SOURCE, passages)
    enc = CountingEncoder()
    service = EmbeddingService(enc, MemoryStore())
    wrapped = prefetching(ThreadExtractor(embed=service), service)
    assert isinstance(wrapped, PrefetchingExtractor)
    result = wrapped.run(SOURCE, passages)
    assert len(enc.calls) == 1  # both answered threads and the ranker's prototypes, one model call
    assert [c.model_dump() for c in result.candidates] == [c.model_dump() for c in plain.candidates]
    unbatched = CountingEncoder()
    ThreadExtractor(embed=EmbeddingService(unbatched, MemoryStore())).run(SOURCE, passages)
    assert len(unbatched.calls) > 1  # what the prefetch saves: one call per thread


def test_long_texts_are_embedded_in_smaller_batches_and_every_text_once() -> None:
    # 20 texts of 2,000 characters (past the 256-token limit) among 100 short ones, interleaved
    lengths = [2000 if i % 6 == 0 else 100 for i in range(120)]
    batches = attention_batches(lengths, max_batch=64, max_tokens=256)
    assert sorted(i for b in batches for i in b) == list(range(120))
    # 64 x 128² tokens² of attention a batch: 16 texts at 256 tokens, the short ones 64 at a time
    assert [len(b) for b in batches] == [16, 16, 64, 24]
    assert all(lengths[i] == 2000 for i in batches[0]) and lengths[batches[1][3]] == 2000
