"""The torch-bf16 backend: bf16 matrix products, fp32 norms, vectors that stay on fp32's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from index.embeddings import _autocast, _linear_to_bf16


def test_only_linear_weights_go_to_bf16() -> None:
    net = torch.nn.Sequential(torch.nn.Embedding(10, 8), torch.nn.Linear(8, 8), torch.nn.LayerNorm(8))
    _linear_to_bf16(net)
    assert net[1].weight.dtype == torch.bfloat16
    assert net[0].weight.dtype == torch.float32 and net[2].weight.dtype == torch.float32


def test_autocast_only_for_the_bf16_backend() -> None:
    linear = torch.nn.Linear(8, 8)
    _linear_to_bf16(torch.nn.Sequential(linear))
    with _autocast(True, "cpu"):
        assert linear(torch.randn(2, 8)).dtype == torch.bfloat16
    with _autocast(False, "cpu"):
        assert torch.nn.Linear(8, 8)(torch.randn(2, 8)).dtype == torch.float32


@pytest.mark.integration
def test_bf16_vectors_stay_on_fp32_s_and_are_unit_length(corpus: Path) -> None:
    from index.embed_backends import load_encoder
    from index.embed_export import guard_texts
    from index.embeddings import Embedder

    texts = [t for kind in guard_texts(corpus, per_kind=40).values() for t in kind]
    fp32 = Embedder().encode(texts)
    encoder = load_encoder("all-MiniLM-L6-v2", "torch-bf16")
    bf16 = encoder.encode(texts)
    assert encoder.backend == "torch-bf16" and bf16.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(bf16, axis=1), 1.0, atol=1e-5)
    cos = (fp32 * bf16).sum(axis=1)
    # bf16 keeps 8 bits of mantissa; with fp32 norms and softmax the vectors barely move (0.9999 here)
    assert cos.mean() >= 0.999, cos.mean()
    assert cos.min() >= 0.995, cos.min()


@pytest.mark.integration
def test_in_the_real_model_products_run_in_bf16_and_layer_norms_in_fp32() -> None:
    from index.embeddings import Embedder

    encoder = Embedder(bf16=True)
    seen: dict[str, set] = {"Linear": set(), "LayerNorm": set()}

    def record(module: torch.nn.Module, _inputs: object, output: torch.Tensor) -> None:
        seen[type(module).__name__].add(output.dtype)

    hooks = [m.register_forward_hook(record) for m in encoder.model.modules() if type(m).__name__ in seen]
    try:
        encoder.encode(["how do I pin a package version?"])
    finally:
        for h in hooks:
            h.remove()
    # the residual add promotes bf16 products back to fp32 before each norm
    assert seen == {"Linear": {torch.bfloat16}, "LayerNorm": {torch.float32}}
