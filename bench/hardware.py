"""The machine's measured GEMM rate, and the FLOPs a BERT-style encoder spends per text.

Throughput read as a share of the hardware's limit: an embedding backend's achieved FLOP/s (the
matrix products its texts need, by the formula below, over the seconds it took) divided by the
fp32 matrix-multiply rate measured on the same machine in the same run.

FLOPs of one text of L real tokens through a BERT encoder (hidden size h, feed-forward size f,
N layers), counting a multiply-add as 2 FLOPs and only the matrix products:

    per layer, per token: Q, K, V and output projections 4·h·h, feed-forward 2·h·f  (multiply-adds)
    per layer, per text:  attention scores Q·Kᵀ and their use on V, 2·L·L·h          (multiply-adds)
    flops(L) = 2·N·(4h² + 2hf)·L + 4·N·h·L²

That is "2 × parameters per token plus attention" with the parameters of the layers' weight
matrices only: the token-embedding table (vocab × h, half of MiniLM-L6's 22.7M parameters) is a
lookup, not a product; biases, layer norms, softmax, GELU and pooling are O(L·h) and left out.
For all-MiniLM-L6-v2 (h=384, f=1536, N=6): 21.2 MFLOP per token + 9,216·L² per text. Only real
tokens count (padding is waste, not work), with L capped at the model's max_seq_length, as the
encoder truncates.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


@dataclass(frozen=True)
class EncoderShape:
    """The sizes of a BERT-style encoder that set its FLOPs."""

    layers: int
    hidden: int
    intermediate: int
    max_tokens: int = 512

    @classmethod
    def from_model_dir(cls, model_dir: str | Path) -> "EncoderShape":
        """Read a Hugging Face `config.json` (and sentence-transformers' max_seq_length when present)."""
        model_dir = Path(model_dir)
        config = json.loads((model_dir / "config.json").read_text())
        limit = int(config.get("max_position_embeddings", 512))
        st = model_dir / "sentence_bert_config.json"
        if st.exists():
            limit = min(limit, int(json.loads(st.read_text()).get("max_seq_length", limit)))
        return cls(int(config["num_hidden_layers"]), int(config["hidden_size"]), int(config["intermediate_size"]), limit)

    @property
    def matmul_params(self) -> int:
        """Weights of the layers' matrix products (no embedding table, no biases)."""
        return self.layers * (4 * self.hidden * self.hidden + 2 * self.hidden * self.intermediate)

    def text_flops(self, tokens: int) -> int:
        """FLOPs to encode one text of `tokens` real tokens (truncated at `max_tokens`)."""
        n = min(tokens, self.max_tokens)
        return 2 * self.matmul_params * n + 4 * self.layers * self.hidden * n * n

    def flops(self, token_counts: Iterable[int]) -> int:
        """FLOPs to encode texts of these token counts."""
        return sum(self.text_flops(n) for n in token_counts)


def gemm_gflops(matmul: Callable[[Any, Any], Any], a: Any, b: Any, min_seconds: float = 1.0) -> float:
    """GFLOP/s of `matmul(a, b)` (2·m·k·n FLOPs a call), best of repeated timings over ≥ `min_seconds`.

    Best, not mean: the figure stands for what the hardware can do, and other processes on a shared
    machine only ever slow a call down.
    """
    m, k = a.shape
    n = b.shape[1]
    matmul(a, b)  # first call allocates and spins up the thread pool
    best, spent = float("inf"), 0.0
    while spent < min_seconds:
        t0 = time.perf_counter()
        matmul(a, b)
        took = time.perf_counter() - t0
        best, spent = min(best, took), spent + took
    return 2.0 * m * k * n / best / 1e9


def numpy_gemm_gflops(size: int = 1024, min_seconds: float = 1.0, threads: int | None = None) -> float:
    """fp32 square matrix multiply rate through NumPy's BLAS, in GFLOP/s (on `threads` BLAS threads,
    default all of them)."""
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    a = rng.standard_normal((size, size), dtype=np.float32)
    b = rng.standard_normal((size, size), dtype=np.float32)
    with threadpool_limits(limits=threads, user_api="blas"):
        return gemm_gflops(np.matmul, a, b, min_seconds)


def torch_gemm_gflops(size: int = 1024, min_seconds: float = 1.0, dtype: str = "fp32") -> float:
    """Square matrix multiply rate through PyTorch on the CPU, in GFLOP/s (imports torch).

    `dtype` "bf16" is the rate the torch-bf16 embedding backend is read against (on CPUs with AMX
    or AVX-512 BF16 several times fp32's; emulated, and slower, elsewhere)."""
    import torch

    kind = {"fp32": torch.float32, "bf16": torch.bfloat16}[dtype]
    with torch.inference_mode():
        a, b = torch.randn(size, size, dtype=kind), torch.randn(size, size, dtype=kind)
        return gemm_gflops(torch.matmul, a, b, min_seconds)


def machine_gemm(size: int = 1024, min_seconds: float = 1.0, torch_rate: float | None = None) -> dict[str, float]:
    """fp32 GEMM through NumPy on all BLAS threads and on one, and `torch_rate` (PyTorch's, measured in
    a process of its own); "rate" is the best of them.

    On a shared machine a multi-threaded GEMM can fall far below a single thread (threads wait for
    each other's time slices), and libraries differ, so the rate the hardware gives now is the best.
    """
    all_threads = numpy_gemm_gflops(size, min_seconds)
    one = numpy_gemm_gflops(size, min_seconds, threads=1)
    rates = {"all_threads": all_threads, "one_thread": one, **({"torch": torch_rate} if torch_rate else {})}
    return {**rates, "rate": max(rates.values())}


def share(achieved_flops_per_s: float, gemm_gflops_rate: float) -> float:
    """Achieved FLOP/s as a share of a GEMM rate given in GFLOP/s."""
    return achieved_flops_per_s / (gemm_gflops_rate * 1e9) if gemm_gflops_rate > 0 else float("nan")


if __name__ == "__main__":  # `python bench/hardware.py --part torch SIZE SECONDS [bf16]`: torch's rate as JSON
    import sys

    _, _, _, size, seconds, *dtype = sys.argv
    import index  # noqa: F401  (the product's OpenMP settings, as in the processes it runs)

    print(json.dumps({"gflops": torch_gemm_gflops(int(size), float(seconds), *dtype)}))
