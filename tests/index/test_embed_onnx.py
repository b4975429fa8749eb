"""The ONNX Runtime backend: length bucketing and pooling by hand, no torch in its process, close to fp32."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from index.embed_onnx import Pooling, length_buckets, pool, session_options

ROOT = Path(__file__).resolve().parents[2]


def test_buckets_keep_at_least_ninety_percent_real_tokens_and_every_text_once() -> None:
    lengths = [5, 128, 7, 120, 64, 6, 60, 130, 9, 8, 62, 125]
    batches = length_buckets(lengths, max_batch=3)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    for b in batches:
        assert len(b) <= 3
        assert sum(lengths[i] for i in b) >= 0.9 * max(lengths[i] for i in b) * len(b)
    # sorted longest first and capped at 3: the three longest (130, 128, 125) fill the first batch
    assert any(sorted(b) == sorted([7, 1, 11]) for b in batches)


def test_mean_pooling_counts_only_real_tokens_and_normalises() -> None:
    hidden = np.array([[[3.0, 0.0], [1.0, 0.0], [100.0, 100.0]]], dtype=np.float32)  # third is padding
    mask = np.array([[1, 1, 0]])
    out = pool(hidden, mask, Pooling("mean"))
    assert out.tolist() == [[1.0, 0.0]]  # mean (2, 0), unit length


def test_cls_pooling_takes_the_first_token() -> None:
    hidden = np.array([[[0.0, 2.0], [5.0, 5.0]]], dtype=np.float32)
    assert pool(hidden, np.array([[1, 1]]), Pooling("cls")).tolist() == [[0.0, 1.0]]


def test_unsupported_pooling_is_an_error_naming_the_model(tmp_path: Path) -> None:
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_max_tokens": True}))
    with pytest.raises(ValueError, match=str(tmp_path)):
        Pooling.from_model_dir(tmp_path)


_NO_TORCH = """
import sys
from index.embeddings import shared_embedder
e = shared_embedder(backend="onnx-int8")
v = e.encode(["how do you run a remote retrospective?", "short"])
assert v.shape == (2, 384), v.shape
print("torch" in sys.modules, "sentence_transformers" in sys.modules, e.backend)
"""


def test_the_onnx_backend_never_imports_torch() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", _NO_TORCH], env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["False", "False", "onnx-int8"]


@pytest.mark.integration
def test_int8_vectors_stay_close_to_fp32_on_real_texts(corpus: Path) -> None:
    from index.embed_backends import load_encoder
    from index.embed_export import GUARD_TOLERANCE, guard_texts
    from index.embeddings import Embedder

    texts = [t for kind in guard_texts(corpus, per_kind=40).values() for t in kind]
    fp32 = Embedder().encode(texts)
    int8 = load_encoder("all-MiniLM-L6-v2", "onnx-int8").encode(texts)
    cos = (fp32 * int8).sum(axis=1)
    assert cos.mean() >= 1 - GUARD_TOLERANCE, cos.mean()
    assert cos.min() >= 0.95, cos.min()


def test_with_an_attention_budget_long_texts_go_in_smaller_batches() -> None:
    lengths = [256] * 20 + [32] * 100
    batches = length_buckets(lengths, max_batch=64, attention_budget=64 * 128 * 128)
    assert sorted(i for b in batches for i in b) == list(range(120))
    # 64 x 128² / 256² = 16 texts of 256 tokens a batch; the short ones 64 at a time
    assert [len(b) for b in batches] == [16, 4, 64, 36]


def test_session_threads_sleep_instead_of_spinning_between_runs() -> None:
    # ORT spins by default (config key unset); on a loaded 2-core machine spinning steals cores.
    options = session_options(threads=2)
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    assert options.get_session_config_entry("session.inter_op.allow_spinning") == "0"
    assert options.intra_op_num_threads == 2
