"""Peak memory and time of ingesting the hostile-input set, beside as many good files.

Each run happens in a fresh child process, so its figures are its own: peak RSS of the run
process and of the parse worker (the largest of its children), and wall time. Their sum is
an upper bound of the run's peak (the two peaks need not coincide). The goal is a
hostile run under 1 GB; the ratio says what the bad files cost over a clean run of the same size.

    PYTHONPATH=. .venv/bin/python bench/hostile_ingest.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

_RUN = r"""
import json, resource, sys, time
from pathlib import Path
from pipeline.ingest import IngestOptions, ingest_paths
from pipeline.parse_budget import shutdown_workers
from pipeline.sources.base import Limits
from pipeline.store import SQLiteStore
from tests.hostile import HOSTILE_MAX_BYTES

paths, home = json.loads(sys.argv[1]), Path(sys.argv[2])
limits = Limits(max_source_bytes=HOSTILE_MAX_BYTES, parse_seconds=20, parse_memory_bytes=1 << 30)
t0 = time.perf_counter()
report = ingest_paths(SQLiteStore(home / "practice.sqlite3"), paths, IngestOptions(limits=limits))
seconds = time.perf_counter() - t0
shutdown_workers()  # the worker is waited for, so its peak RSS counts among the children
# VmHWM, not ru_maxrss: the latter survives exec and would count the bench's own peak.
hwm_kib = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(json.dumps({"seconds": seconds, "self_mb": hwm_kib / 1024,
                  "worker_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
                  "counts": report.counts,
                  "unexpected": [f"{o.uri}: {o.error}" for o in report.failures if "/good/" in o.uri or "/baseline/" in o.uri],
                  "files": len(report.outcomes)}))
"""


def run(paths: list[Path], home: Path) -> dict:
    """Ingest `paths` in a fresh process; its figures as a dict."""
    out = subprocess.run(
        [sys.executable, "-c", _RUN, json.dumps([str(p) for p in paths]), str(home)],
        check=True, capture_output=True, text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.hostile import write_good_set, write_hostile_set

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        hs = write_hostile_set(root / "hostile")
        n = len(hs.bad) + len(hs.good)
        write_good_set(root / "baseline", n)
        hostile = run(hs.paths, root / "home-hostile")
        baseline = run([root / "baseline"], root / "home-baseline")
    print(f"{'run':10} {'files':>6} {'seconds':>8} {'run MB':>7} {'worker MB':>9} {'peak sum MB':>11}  counts")
    for name, r in (("hostile", hostile), ("baseline", baseline)):
        total = r["self_mb"] + r["worker_mb"]
        print(f"{name:10} {r['files']:6d} {r['seconds']:8.1f} {r['self_mb']:7.0f} {r['worker_mb']:9.0f} "
              f"{total:11.0f}  {r['counts']}")
    for r in (hostile, baseline):
        for line in r["unexpected"]:
            print("  good file failed:", line)
    h_total, b_total = (r["self_mb"] + r["worker_mb"] for r in (hostile, baseline))
    print(f"hostile/baseline: time x{hostile['seconds'] / baseline['seconds']:.2f}, "
          f"peak memory x{h_total / b_total:.2f}; goal peak <= 1024 MB: "
          f"{'met' if h_total <= 1024 else 'NOT met'} ({h_total:.0f} MB)")


if __name__ == "__main__":
    main()
