"""The hostile-input set (tests/hostile.py): over 100 files, bombs of every container kind,
encodings, depth, size, names and special files, mixed with good files, in one run."""

from __future__ import annotations

import os
from pathlib import Path

from pipeline.ingest import IngestOptions, ingest_paths
from pipeline.sources.base import Limits
from pipeline.store import SQLiteStore
from tests.hostile import HOSTILE_MAX_BYTES, write_hostile_set

# Tight enough that the Flate-bomb PDF meets a limit quickly; generous for every good file.
LIMITS = Limits(max_source_bytes=HOSTILE_MAX_BYTES, parse_seconds=20, parse_memory_bytes=1 << 30)


def test_hostile_set_fails_each_bad_file_alone_and_ingests_every_good_one(tmp_path: Path) -> None:
    root = tmp_path / "hostile"
    hs = write_hostile_set(root)
    assert len(hs.bad) + len(hs.good) >= 100
    store = SQLiteStore(tmp_path / "home" / "practice.sqlite3")

    report = ingest_paths(store, hs.paths, IngestOptions(limits=LIMITS))  # no exception: not aborted

    found: dict[str, list] = {}
    for o in report.outcomes:
        found.setdefault(os.path.relpath(o.uri, root), []).append(o)
    for name in hs.good:
        assert [o.status for o in found.get(name, [])] == ["new"], (name, found.get(name))
    for name, word in hs.bad.items():
        explicit = name.startswith("explicit:")
        key = f"bad/special/{name.split(':', 1)[1]}" if explicit else name
        outcomes = [o for o in found.get(key, []) if (o.status == "failed") == explicit or not explicit]
        assert outcomes, f"{name}: not reported"
        outcome = outcomes[-1] if explicit else outcomes[0]
        assert outcome.status in ("failed", "skipped") and outcome.error, (name, outcome)
        assert word.lower() in outcome.error.lower(), (name, word, outcome.error)
    assert report.counts["new"] == len(hs.good)
