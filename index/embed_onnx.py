"""The ONNX Runtime backend: an exported (optionally int8-quantised) model, with no torch in the process.

Tokenised by the `tokenizers` library from the model's own tokenizer.json; pooled in numpy exactly as
the model's `1_Pooling/config.json` says (mean of the real tokens for all-MiniLM-L6-v2), then
L2-normalised, like `SentenceTransformer.encode(normalize_embeddings=True)`. The export itself
(which needs torch) lives in `index.embed_export` and runs in its own step.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index.embeddings import ATTENTION_BUDGET, MIN_BATCH

#: Padding budget: every batch keeps at least this share of its slots for real tokens.
MIN_REAL_TOKENS = 0.9


@dataclass(frozen=True)
class Pooling:
    """Which of sentence-transformers' pooling modes the model uses (only mean and CLS here)."""

    mode: str  # "mean" | "cls"

    @classmethod
    def from_model_dir(cls, model_dir: Path) -> "Pooling":
        """Read `1_Pooling/config.json`; a mode this backend cannot reproduce is an error, not a guess."""
        config = json.loads((model_dir / "1_Pooling" / "config.json").read_text())
        if config.get("pooling_mode_mean_tokens"):
            return cls("mean")
        if config.get("pooling_mode_cls_token"):
            return cls("cls")
        raise ValueError(f"{model_dir}: pooling {config} is not supported by the onnx backend")


def pool(hidden: np.ndarray, mask: np.ndarray, pooling: Pooling) -> np.ndarray:
    """Sentence vectors from token states (batch, seq, dim) and the attention mask, L2-normalised."""
    if pooling.mode == "cls":
        vectors = hidden[:, 0, :]
    else:
        m = mask[:, :, None].astype(np.float32)
        vectors = (hidden * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.clip(norms, 1e-12, None)).astype(np.float32)


def length_buckets(
    lengths: list[int], max_batch: int, min_real: float = MIN_REAL_TOKENS, attention_budget: int | None = None
) -> list[list[int]]:
    """Indices grouped into batches, longest first, so each batch is ≥ `min_real` real tokens.

    Sorted by length, a batch is padded to its first (longest) member; a shorter text joins only
    while real tokens stay at least `min_real` of the batch's slots. With `attention_budget`, a
    batch also holds at most budget / width² texts (at least MIN_BATCH): attention memory grows with
    batch × width², and ONNX Runtime keeps its largest batch's buffers for the rest of the process
    (64 texts at 256 tokens took ~1 GB here).
    """
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    batches: list[list[int]] = []
    current: list[int] = []
    real = 0
    for i in order:
        if current:
            width = lengths[current[0]]
            fits = (real + lengths[i]) >= min_real * width * (len(current) + 1)
            cap = max_batch if attention_budget is None else max(MIN_BATCH, min(max_batch, attention_budget // max(1, width * width)))
            if len(current) >= cap or not fits:
                batches.append(current)
                current, real = [], 0
        current.append(i)
        real += lengths[i]
    if current:
        batches.append(current)
    return batches


def session_options(threads: int | None = None) -> Any:
    """ONNX Runtime session options: `threads` intra-op threads (None: one per core), no spinning.

    ORT's own thread pool busy-waits between runs by default (OMP_WAIT_POLICY does not reach it),
    taking cores from the other threads of a loaded machine; idle threads sleep instead.
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    return options


class OnnxEmbedder:
    """Encodes texts with an ONNX model file; same contract as `index.embeddings.Embedder`."""

    def __init__(
        self, onnx_path: Path, model_dir: Path, model_name: str, backend: str,
        batch_size: int = 64, max_seq_length: int | None = None, threads: int | None = None,
    ) -> None:  # fmt: skip
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.model_name = model_name
        self.backend = backend
        self.batch_size = batch_size
        self.pooling = Pooling.from_model_dir(model_dir)
        limit = max_seq_length or _max_seq_length(model_dir)
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(limit)
        self.tokenizer.no_padding()
        options = session_options(threads)
        self.session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self.session.get_inputs()}
        self._dimension = int(json.loads((model_dir / "1_Pooling" / "config.json").read_text())["word_embedding_dimension"])
        self._lock = threading.Lock()  # one run at a time: ORT already uses every core per run

    @property
    def dimension(self) -> int:
        """Vector width of the model."""
        return self._dimension

    def encode(self, texts: list[str]) -> np.ndarray:
        """Embed texts; returns an (n, dim) float32 array in input order."""
        out = np.zeros((len(texts), self._dimension), dtype=np.float32)
        if not texts:
            return out
        encodings = self.tokenizer.encode_batch(list(texts))
        lengths = [len(e.ids) for e in encodings]
        for batch in length_buckets(lengths, self.batch_size, attention_budget=ATTENTION_BUDGET):
            out[batch] = self._run([encodings[i] for i in batch])
        return out

    def _run(self, encodings: list[Any]) -> np.ndarray:
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        types = np.zeros_like(ids)
        for row, e in enumerate(encodings):
            n = len(e.ids)
            ids[row, :n] = e.ids
            mask[row, :n] = 1
            types[row, :n] = e.type_ids
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        with self._lock:
            hidden = self.session.run(None, {k: v for k, v in feed.items() if k in self._inputs})[0]
        return pool(hidden, mask, self.pooling)


def _max_seq_length(model_dir: Path) -> int:
    """The model's own limit (sentence_bert_config.json), as sentence-transformers applies it."""
    path = model_dir / "sentence_bert_config.json"
    return int(json.loads(path.read_text()).get("max_seq_length", 512)) if path.exists() else 512
