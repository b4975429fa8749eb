"""Thread assembly time at 10k, 100k and 1M messages: linear, next to the old quadratic walk.

Synthetic messages in three shapes, each resolved to threads the way the parsers do it:
  - deep:  one reply chain (every message answers the one before; listed newest first, so no
           message can lean on an already-resolved parent by file order),
  - wide:  threads of 1,000 messages, every reply to its thread's root,
  - mixed: chains 50 deep, 1 in 10 messages naming its thread explicitly.
For JSONL (`resolve_threads`) the old walk (each message climbing to its root: n²/2 steps on a
deep chain) runs beside it as the baseline where it finishes in reasonable time (deep: 5k and
10k only), with the ratio old/new. The floor is one pass building a dict over the same ids: its
µs/message grows with size too (cache misses on big dicts), so new/floor is the flatness to read. For mbox (`_thread_ids`: union-find over In-Reply-To and
References) only the current code is timed; it was already near-linear.
Times are CPU seconds. Flat µs/message across sizes is what "linear" looks like.

    .venv/bin/python bench/thread_assembly.py [--sizes 10000,100000,1000000]
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable

from pipeline.sources.jsonl_threads import resolve_threads
from pipeline.sources.mbox import MboxParser, _Mail

Links = tuple[dict[str, str | None], dict[str, str | None]]
OLD_LIMIT = {"deep": 10_000, "wide": 1_000_000, "mixed": 1_000_000}  # the old walk's reach (20k deep: minutes)


def jsonl_shape(shape: str, n: int) -> Links:
    """parent (reply_to) and explicit (thread) maps for n messages of one shape, in file order."""
    if shape == "deep":
        parent = {f"m{i}": (f"m{i - 1}" if i else None) for i in reversed(range(n))}
        return parent, dict.fromkeys(parent)
    if shape == "wide":
        parent = {f"m{i}": (f"m{i - i % 1000}" if i % 1000 else None) for i in range(n)}
        return parent, dict.fromkeys(parent)
    parent = {f"m{i}": (f"m{i - 1}" if i % 50 else None) for i in range(n)}
    return parent, {m: (f"t{i}" if i % 10 == 0 else None) for i, m in enumerate(parent)}


def old_resolve(parent: dict[str, str | None], explicit: dict[str, str | None]) -> dict[str, str]:
    """The walk the JSONL parser used before (verbatim logic): every message climbs to its thread."""

    def thread_of(mid: str) -> str:
        current, visited = mid, set()
        while current not in visited:
            visited.add(current)
            if current not in parent:
                return current
            if explicit[current]:
                return explicit[current]  # type: ignore[return-value]
            if not parent[current]:
                return current
            current = parent[current]  # type: ignore[assignment]
        return mid

    return {mid: thread_of(mid) for mid in parent}


def mbox_shape(shape: str, n: int) -> list[_Mail]:
    """n mails linked by In-Reply-To and the last three References (as mail clients trim them)."""

    def mail(i: int, parent: int | None, ancestors: list[int]) -> _Mail:
        refs = [f"<{a}@x>" for a in ancestors[-3:]]
        return _Mail(i + 1, b"", b"", None, f"<{i}@x>", f"<{parent}@x>" if parent is not None else None, refs, f"s{i}")  # type: ignore[arg-type]

    if shape == "deep":
        return [mail(i, i - 1 if i else None, list(range(max(0, i - 3), i))) for i in range(n)]
    if shape == "wide":
        return [mail(i, i - i % 1000 if i % 1000 else None, [i - i % 1000] if i % 1000 else []) for i in range(n)]
    return [mail(i, i - 1 if i % 50 else None, list(range(max(i - i % 50, i - 3), i))) for i in range(n)]


def timed(fn: Callable[[], object], repeat: int = 1) -> float:
    """CPU seconds (not wall clock: on a shared machine the wait for a core is not our cost), the
    best of `repeat` runs, with the garbage collector off as timeit does."""
    best = float("inf")
    for _ in range(repeat):
        gc.disable()
        try:
            start = time.process_time()
            fn()
            best = min(best, time.process_time() - start)
        finally:
            gc.enable()
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="5000,10000,100000,1000000", help="comma-separated message counts")
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs for the new code and the floor")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    print(f"{'format':6} {'shape':6} {'messages':>9} {'new s':>8} {'µs/msg':>7} {'floor µs':>8} {'new/floor':>9}"
          f" {'old s':>9} {'old µs/msg':>10} {'old/new':>8}")
    for shape in ("deep", "wide", "mixed"):
        for n in sizes:
            parent, explicit = jsonl_shape(shape, n)
            floor_s = timed(lambda: {mid: mid for mid in parent}, args.repeat)
            new_s = timed(lambda: resolve_threads(parent, explicit), args.repeat)
            old = "-", "-", "-"
            if n <= OLD_LIMIT[shape]:
                assert old_resolve(parent, explicit) == resolve_threads(parent, explicit)
                old_s = timed(lambda: old_resolve(parent, explicit))
                old = f"{old_s:.3f}", f"{old_s / n * 1e6:.2f}", f"{old_s / new_s:.1f}x"
            print(f"{'jsonl':6} {shape:6} {n:>9} {new_s:>8.3f} {new_s / n * 1e6:>7.2f} {floor_s / n * 1e6:>8.2f}"
                  f" {new_s / floor_s:>8.1f}x {old[0]:>9} {old[1]:>10} {old[2]:>8}")
            del parent, explicit
    for shape in ("deep", "wide", "mixed"):
        for n in sizes:
            mails = mbox_shape(shape, n)
            floor_s = timed(lambda: {m.message_id: m.index for m in mails}, args.repeat)
            secs = timed(lambda: MboxParser._thread_ids(mails), args.repeat)
            print(f"{'mbox':6} {shape:6} {n:>9} {secs:>8.3f} {secs / n * 1e6:>7.2f} {floor_s / n * 1e6:>8.2f}"
                  f" {secs / floor_s:>8.1f}x {'-':>9} {'-':>10} {'-':>8}")
            del mails


if __name__ == "__main__":
    main()
