"""`practice run` over a slice of the shared corpus: sequential vs a 2-worker Dask LocalCluster.

Prints both wall times, their ratio (sequential / dask), and whether the two runs left the same
store (sources, passages, candidates, artefacts, suggestions, published set) and byte-identical
release vectors. Each run is a fresh `practice run` process with its own PRACTICE_HOME and
Prefect home, so both pay the same start-up (Prefect's ephemeral server, the model load).

    .venv/bin/python bench/dask_run.py [--corpus ../shared/corpus] [--workers 2] [PATH ...]

PATHs are relative to the corpus (default: the Google review guide, a Zoom meeting, a Gitter room).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_SLICE = ["docs/google_eng_practices", "meetings/zoom_vtt", "chat/gitter_livechat_manual/manual/Gitter.txt"]


def run(paths: list[Path], work: Path, name: str, runner: str, workers: int) -> tuple[float, Path]:
    """One `practice run` in a child process; its wall time and PRACTICE_HOME."""
    home, config = work / name, work / f"{name}.toml"
    config.write_text(
        f'[publish]\ninclude_candidates = true\n\n[run]\ntask_runner = "{runner}"\ndask_workers = {workers}\n'
        "extract_batch = 2\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "PRACTICE_"))}
    env.update({"PRACTICE_HOME": str(home), "PYTHONPATH": str(ROOT)})
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "run", *map(str, paths), "--config", str(config)],
        cwd=work, env=env, capture_output=True, text=True,
    )  # fmt: skip
    took = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{name} run failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return took, home


def vectors_digest(home: Path) -> str:
    """sha256 of the current release's FAISS index (the vectors, in id order)."""
    from index.release import current_release
    from pipeline.stages import releases_root

    current = current_release(releases_root(home))
    if current is None or current.path is None:
        return "no release"
    return hashlib.sha256((current.path / "vectors.faiss").read_bytes()).hexdigest()[:16]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("paths", nargs="*", default=DEFAULT_SLICE)
    args = parser.parse_args()
    from tests.test_crash_consistency import snapshot  # the store comparison the crash test uses

    paths = [args.corpus / p for p in args.paths]
    with tempfile.TemporaryDirectory(prefix="dask-bench-") as tmp:
        work = Path(tmp)
        seq_s, seq_home = run(paths, work, "sequential", "sequential", args.workers)
        dask_s, dask_home = run(paths, work, "dask", "dask", args.workers)
        seq, dsk = snapshot(seq_home), snapshot(dask_home)
        differ = [k for k in seq if seq[k] != dsk[k]]
        print(f"slice: {', '.join(args.paths)}")
        print(f"  {len(seq['sources'])} sources, {len(seq['passages'])} passages, {len(seq['candidates'])} candidates, "
              f"{len(seq['artefacts'])} artefacts, {len(seq['published'])} published")  # fmt: skip
        print(f"{'run':26} {'wall s':>8}")
        print(f"{'sequential':26} {seq_s:8.1f}")
        print(f"{f'dask LocalCluster x{args.workers}':26} {dask_s:8.1f}")
        print(f"ratio sequential/dask: {seq_s / dask_s:.2f}")
        print(f"store identical: {not differ}" + (f" (differ: {', '.join(differ)})" if differ else ""))
        v_seq, v_dask = vectors_digest(seq_home), vectors_digest(dask_home)
        print(f"release vectors identical: {v_seq == v_dask} ({v_seq} / {v_dask})")


if __name__ == "__main__":
    main()
