"""Keep the process's heap from holding on to freed memory (glibc's malloc; a no-op elsewhere).

Why: embedding a source's texts allocates and frees tensors of megabytes each, from torch's
threads. glibc keeps what is freed for reuse: it raises its mmap threshold after the first large
block is freed (up to 32 MB), so later tensors come from the heap instead of mappings of their
own, and a heap (one arena per thread) shrinks by itself only from its top. So each source left
the run holding more: on the 30k-message chat of bench/scale_run.py the CLI process grew from
0.85 GB after its first source to 1.41 GB at the end.

`bound_heap` fixes the threshold, so tensors above it are mapped and unmapped whole;
`release_freed` (malloc_trim) after each source and stage gives back what the heap freed.
Trimming alone kept the process's floor flat but not its peaks (the heap's holes still grew:
1.10 GB at 10k messages, 1.34 GB at 30k). The price of the threshold: every tensor above it is
faulted in afresh. At glibc's starting value (128 KiB) that is nearly every tensor, and with the
torch-bf16 backend, whose products are fast, the page faults made the 100k-message run cost 572
CPU s. At 4 MiB, a batch's large activations (64 texts × 32 tokens × 1,536 × 4 bytes = 12.6 MB)
are still mapped whole but the many small tensors are not: 467 CPU s, with the tree's peak at
1.44 GB against 1.33 GB, both under issue 12's 1.5 GB; without a fixed threshold, 2.87 GB
(README "Whole run at scale"). Capping the arenas (MALLOC_ARENA_MAX=2) changed nothing.
"""

from __future__ import annotations

import ctypes
import functools
from typing import Any

M_MMAP_THRESHOLD = -3  # <malloc.h>
MMAP_THRESHOLD = 4 * 1024 * 1024  # fixing it stops glibc from raising it (to 32 MiB) after a large free


@functools.cache
def _libc() -> Any:
    """The C library, if it has glibc's `mallopt` and `malloc_trim`; else None."""
    try:
        libc = ctypes.CDLL(None)
        libc.mallopt, libc.malloc_trim  # noqa: B018  (raises where they do not exist)
    except (OSError, AttributeError):
        return None
    return libc


@functools.cache
def bound_heap() -> bool:
    """Fix glibc's mmap threshold for the rest of the process (once); whether glibc took it."""
    libc = _libc()
    return bool(libc is not None and libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))


def release_freed() -> bool:
    """Return the heap's free pages to the system (after a source or a stage); whether glibc did it."""
    libc = _libc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True
