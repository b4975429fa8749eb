"""Ingestion throughput on the shared corpus, side by side with baselines, in one run.

For each group of real sources it prints passages/s and MB/s of a full first ingest (parse + store),
next to two baselines measured in the same run:
  - floor: reading and hashing the same bytes (what any ingester pays), and
  - rerun: the incremental second run over unchanged sources (what a scheduled run pays).
Ratios say how far parsing is above the I/O floor and how much the incremental check saves.

    .venv/bin/python bench/ingest_throughput.py [--corpus ../shared/corpus] [--parse-seconds 0] [--group G]

`--parse-seconds 0` parses in-process: compare with the default to see the parse worker's overhead.
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
import time
from pathlib import Path

import pipeline.config  # noqa: F401
from pipeline.ingest import IngestOptions, discover, ingest_paths
from pipeline.sources.base import Limits
from pipeline.store import SQLiteStore

GROUPS = {
    "transcripts": ["meetings/qmsum/test.jsonl", "meetings/zoom_vtt", "meetings/vtt_edge_cases"],
    "threads": [
        "threads/stackexchange/quantumcomputing.stackexchange.com",
        "chat/mailing_list_r-package-devel/2024q3.mbox",
    ],
    "markdown guides": ["docs/google_eng_practices", "docs/gds_way"],
    "office/pdf/html": ["docs/formats_unstructured"],
}


def read_and_hash(paths: list[Path]) -> tuple[float, int]:
    """The I/O floor: read and hash every file of every source."""
    start, total = time.perf_counter(), 0
    for cand in discover(paths):
        if cand.bundle is None:
            continue
        for member in cand.bundle.members():
            data = cand.bundle.read(member)
            total += len(data)
            hashlib.sha256(data).digest()
    return time.perf_counter() - start, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "corpus")
    parser.add_argument("--parse-seconds", type=float, default=Limits().parse_seconds,
                        help="per-file parse budget; 0 parses in-process (to measure the worker's overhead)")
    parser.add_argument("--group", action="append", choices=list(GROUPS), help="only these groups")
    args = parser.parse_args()
    options = IngestOptions(limits=Limits(parse_seconds=args.parse_seconds))

    print(f"{'group':18} {'sources':>7} {'passages':>9} {'MB':>7} {'first s':>8} {'pass/s':>8} {'MB/s':>7}"
          f" {'floor s':>8} {'x floor':>8} {'rerun s':>8} {'speedup':>8}")
    for name, rel in GROUPS.items():
        if args.group and name not in args.group:
            continue
        paths = [args.corpus / r for r in rel]
        floor_s, nbytes = read_and_hash(paths)
        with tempfile.TemporaryDirectory() as tmp:
            store = SQLiteStore(Path(tmp) / "practice.sqlite3")
            t0 = time.perf_counter()
            report = ingest_paths(store, paths, options)
            first_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            again = ingest_paths(store, paths, options)
            rerun_s = time.perf_counter() - t0
            assert again.passages_written == 0
            passages = store.count_passages()
            store.close()
        mb = nbytes / 1e6
        print(f"{name:18} {len(report.outcomes):7d} {passages:9d} {mb:7.2f} {first_s:8.2f} {passages / first_s:8.0f}"
              f" {mb / first_s:7.2f} {floor_s:8.3f} {first_s / floor_s:8.1f} {rerun_s:8.3f} {first_s / rerun_s:8.1f}")
        for o in report.failures:
            print(f"    failed: {Path(o.uri).name}: {o.error}")


if __name__ == "__main__":
    main()
