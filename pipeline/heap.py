"""Keep the process's heap from holding on to freed memory (glibc's malloc; a no-op elsewhere).

Why: embedding a source's texts allocates and frees tensors of megabytes each, from torch's
threads. glibc raises its mmap threshold after the first such block is freed (up to 32 MB), so
later tensors come from the heap instead of their own mappings, and a fragmented heap (one arena
per thread, trimmed only from its top) keeps what was freed. Measured on the 10k-message chat
built by bench/scale_run.py, its first source (8,334 messages, 4,698 texts embedded, torch
backend): the process held 859 MB after the embedding and peaked at 988 MB during it; with the
threshold fixed (`bound_heap`) 608 MB and 799 MB. Capping the number of arenas
(MALLOC_ARENA_MAX=2) changed nothing. `release_freed` (malloc_trim) gives back what a stage
freed, before the next stage's peak stacks on it.
"""

from __future__ import annotations

import ctypes
import functools
from typing import Any

M_MMAP_THRESHOLD = -3  # <malloc.h>
# Blocks from this size up get their own mapping, unmapped when freed. glibc's starting value;
# fixing it (any mallopt call does) stops glibc from raising it. Smaller blocks stay on the heap.
MMAP_THRESHOLD = 128 * 1024


@functools.cache
def _libc() -> Any:
    """The C library's malloc tuning calls, or None where they do not exist (not glibc)."""
    try:
        libc = ctypes.CDLL(None)
        libc.mallopt, libc.malloc_trim  # noqa: B018  (both or neither)
    except (OSError, AttributeError):
        return None
    return libc


@functools.cache
def bound_heap() -> bool:
    """Fix glibc's mmap threshold for the rest of the process (once); whether it took effect."""
    libc = _libc()
    return bool(libc and libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))


def release_freed() -> None:
    """Return the heap's free pages to the system (after a source or a stage)."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
