"""Which embedding backend encodes: "torch" (sentence-transformers, fp32), "torch-bf16" (the same model with
its matrix products in bfloat16) or "onnx-int8" (ONNX Runtime).

`[embeddings] backend` in practice.toml (or $PRACTICE_EMBEDDING_BACKEND) picks one; "auto" takes the
default recorded when the export was built (the fastest backend that passed the quality guard, see
`index.embed_export`). Nothing here imports torch unless the torch backend is chosen: torch and ONNX
Runtime in one process slowed each other by up to 2× on this machine.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Protocol

import numpy as np

log = logging.getLogger(__name__)

TORCH = "torch"
TORCH_BF16 = "torch-bf16"
ONNX_INT8 = "onnx-int8"
BACKENDS = (TORCH, TORCH_BF16, ONNX_INT8)
AUTO = "auto"


class Encoder(Protocol):
    """What every backend offers: the model's name, the backend's name, the width, and encode."""

    model_name: str
    backend: str

    @property
    def dimension(self) -> int: ...

    def encode(self, texts: list[str]) -> np.ndarray: ...


def configured_backend(backend: str | None = None) -> str:
    """The asked-for backend: the argument unless "auto"/None, else $PRACTICE_EMBEDDING_BACKEND, else "auto"."""
    name = backend if backend not in (None, AUTO) else os.environ.get("PRACTICE_EMBEDDING_BACKEND") or AUTO
    if name not in (*BACKENDS, AUTO):
        raise ValueError(f"unknown embedding backend {name!r}: use one of {', '.join((AUTO, *BACKENDS))}")
    return name


def export_manifest(model_name: str, build: bool = True) -> dict[str, Any] | None:
    """The export's manifest for a model, built (in a subprocess, so torch stays out) when missing."""
    from index.embed_export import MANIFEST, export_dir
    from index.embeddings import resolve_model_path

    model_dir = Path(resolve_model_path(model_name))
    if not (model_dir / "tokenizer.json").exists():
        return None  # not a local model folder: only torch can load it (by name)
    path = export_dir(model_dir) / MANIFEST
    if not path.exists() and build:
        log.warning("building the quantised embedding backends of %s once (export + guard, a few minutes)", model_name)
        env = {**os.environ, "PRACTICE_EMBEDDING_MODEL": model_name}
        done = subprocess.run([sys.executable, "-m", "index.embed_export"], env=env, capture_output=True, text=True)
        if done.returncode != 0:
            log.warning("embedding export failed, using torch: %s", done.stderr.strip().splitlines()[-1:] or done.returncode)
    return json.loads(path.read_text()) if path.exists() else None


def resolve_backend(model_name: str, backend: str | None = None) -> str:
    """The concrete backend for "auto" (the guard's choice; torch when there is no export)."""
    name = configured_backend(backend)
    if name != AUTO:
        return name
    manifest = export_manifest(model_name)
    if manifest is None:
        log.info("embedding backend: torch (no quantised export of %s)", model_name)
        return TORCH
    if manifest["default"] == TORCH:
        log.info("embedding backend: torch (%s)", manifest.get("reason", ""))
    return str(manifest["default"])


def load_encoder(model_name: str, backend: str | None = None) -> Encoder:
    """An encoder for the model on the resolved backend (the onnx one never imports torch)."""
    name = resolve_backend(model_name, backend)
    if name in (TORCH, TORCH_BF16):
        from index.embeddings import Embedder

        return Embedder(model_name, bf16=name == TORCH_BF16)
    from index.embed_export import export_dir
    from index.embed_onnx import OnnxEmbedder
    from index.embeddings import resolve_model_path

    manifest = export_manifest(model_name)
    if manifest is None or name not in manifest.get("files", {}):
        raise RuntimeError(f"embedding backend {name!r} has no export of {model_name}: run `python -m index.embed_export`")
    model_dir = Path(resolve_model_path(model_name))
    return OnnxEmbedder(export_dir(model_dir) / manifest["files"][name], model_dir, model_name, name)
