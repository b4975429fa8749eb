"""pipeline.heap: glibc's malloc tuned where it exists, nothing done (and nothing raised) elsewhere."""

from __future__ import annotations

import platform
import sys

import pytest

from pipeline import heap


def test_bound_heap_takes_effect_on_glibc() -> None:
    glibc = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"
    assert (heap._libc() is not None) == glibc
    assert heap.bound_heap() is glibc  # mallopt answers 1 when it accepted the setting
    heap.release_freed()


def test_without_glibc_both_calls_are_no_ops(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(heap, "_libc", lambda: None)
    heap.bound_heap.cache_clear()
    try:
        assert heap.bound_heap() is False
        assert heap.release_freed() is None
    finally:
        heap.bound_heap.cache_clear()
