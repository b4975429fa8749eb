"""pipeline.heap: glibc's malloc tuned where glibc is, nothing done (and nothing raised) elsewhere."""

from __future__ import annotations

import platform
import sys

import pytest

from pipeline import heap

GLIBC = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"


def test_on_glibc_the_threshold_is_fixed_and_the_heap_trimmed() -> None:
    assert heap.bound_heap() is GLIBC  # mallopt answers 1 when it accepted the setting
    assert heap.release_freed() is GLIBC


def test_without_glibc_both_are_no_ops(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(heap, "_libc", lambda: None)
    heap.bound_heap.cache_clear()
    try:
        assert heap.bound_heap() is False
        assert heap.release_freed() is False
    finally:
        heap.bound_heap.cache_clear()
