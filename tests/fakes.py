"""Test doubles shared by several test modules (no model is loaded by any of them)."""

from __future__ import annotations

import hashlib
import re

import numpy as np


def signed_hash_embed(texts: list[str], dim: int) -> np.ndarray:
    """Fake embedding: signed hashing of words into `dim` slots, L2-normalised (shared words → higher cosine)."""
    out = np.zeros((len(texts), dim), dtype=np.float32)
    for i, text in enumerate(texts):
        for word in re.findall(r"[a-z0-9]+", text.lower()):
            h = int(hashlib.md5(word.encode()).hexdigest(), 16)
            out[i, h % dim] += 1.0 if (h >> 8) % 2 else -1.0
        norm = np.linalg.norm(out[i])
        out[i] = out[i] / norm if norm else out[i]
    return out
