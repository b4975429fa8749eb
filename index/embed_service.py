"""The one embedding service every stage asks: deduplicated by text hash, cached by (hash, model, backend).

Extraction (answer ranking), dedup, publish and search queries all embed through an
`EmbeddingService`: repeated texts are embedded once, and with a store, vectors are kept in its
embedding cache so a text is embedded once in its life, not once per stage, thread or run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from index.embed_backends import TORCH, Encoder
from index.embeddings import embed_cached
from pipeline.store_base import Store


class EmbeddingService:
    """Embeds through one encoder; `store` (optional) caches vectors across stages and runs."""

    def __init__(self, encoder: Encoder, store: Store | None = None) -> None:
        self.encoder = encoder
        self.store = store

    @property
    def model_name(self) -> str:
        """The model's name (the cache key and what a release records)."""
        return self.encoder.model_name

    @property
    def backend(self) -> str:
        """The backend's name (the other half of the cache key)."""
        return self.encoder.backend

    @property
    def dimension(self) -> int:
        """Vector width."""
        return self.encoder.dimension

    def with_store(self, store: Store | None) -> "EmbeddingService":
        """The same encoder over another store (the model stays loaded once)."""
        return EmbeddingService(self.encoder, store)

    def embed(self, texts: list[str], store: Store | None = None) -> tuple[np.ndarray, int]:
        """(vectors in input order, how many texts were embedded now): cached ones are read, repeats embedded once."""
        store = store or self.store
        if store is None:
            return embed_cached(texts, self.encoder.encode, self.model_name, lambda hashes, model: {}, lambda m, v: None)
        return embed_cached(
            texts, self.encoder.encode, self.model_name,
            lambda hashes, model: store.get_embeddings(hashes, model, self.backend),
            lambda model, vectors: store.put_embeddings(model, vectors, self.backend),
        )  # fmt: skip

    def __call__(self, texts: list[str]) -> np.ndarray:
        """Vectors for `texts` (the `EmbedFn` shape extractors take)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self.embed(texts)[0]


@dataclass
class _PlainEncoder:
    """A bare embedding function (tests' fakes, eval scripts) seen as a torch-keyed encoder."""

    fn: Callable[[list[str]], np.ndarray]
    model_name: str
    backend: str = TORCH

    @property
    def dimension(self) -> int:
        return int(np.asarray(self.fn(["dimension probe"])).shape[1])

    def encode(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self.fn(texts), dtype=np.float32)


@dataclass
class RemoteEncoder:
    """An encoder whose vectors come from `encode` (a Dask cluster) under `local`'s model and backend names."""

    local: Encoder
    encode: Callable[[list[str]], np.ndarray]

    @property
    def model_name(self) -> str:
        return self.local.model_name

    @property
    def backend(self) -> str:
        return self.local.backend

    @property
    def dimension(self) -> int:
        return self.local.dimension


def cached_vectors(
    store: Store, texts: list[str], embed: Callable[[list[str]], np.ndarray], model_id: str
) -> tuple[np.ndarray, int]:
    """What dedup and publish call: through the service when given one, else `embed` keyed as torch."""
    service = embed if isinstance(embed, EmbeddingService) else EmbeddingService(_PlainEncoder(embed, model_id))
    return service.embed(texts, store)
