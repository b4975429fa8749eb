"""Prefect's overhead: the same small run as plain function calls and as the `practice-run` flow.

Both sides run the same stages over the same real corpus sources, each in a fresh process with its
own empty PRACTICE_HOME and the same practice.toml:
  - plain: what `flows/run.py` wires, called directly (reconcile, `ingest_paths` per entry,
    `run_extract`, `run_dedupe`, `run_publish`, `check_home`); Prefect is never imported;
  - flow: what `practice run` does (`tie_ephemeral_server`, then `run_flow`).
Per side: the stages' seconds (inside the process, from the first stage to the report) and the
whole process's wall time (imports, Prefect's ephemeral server start and stop, model load). The
overhead is flow / plain − 1 for each. Rounds alternate plain and flow; the best of each is kept.

    .venv/bin/python bench/prefect_overhead.py [--rounds 1] [PATH ...]   (PATHs relative to the corpus)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# A Gitter room and a handbook page: a chat and a document, small enough for a bench.
QUICK_SLICE = ["chat/gitter_livechat_manual/manual/Gitter.txt", "docs/google_eng_practices/review/reviewer/speed.md"]
FULL_SLICE = [*QUICK_SLICE, "chat/gitter_livechat_manual/manual/Typescript.txt", "docs/google_eng_practices/review/developer"]
KEEP_ENV = ("PRACTICE_CORPUS", "PRACTICE_MODEL_CACHE")
CONFIG = "[publish]\ninclude_candidates = true\n"


def part_plain(paths: list[str], config: Path) -> dict[str, Any]:
    """The stages as plain calls (the order of `flows.run._stages`); seconds and the counts."""
    from index.release_heal import reconcile
    from pipeline.check import check_home
    from pipeline.ingest import IngestOptions, ingest_paths
    from pipeline.settings import load_settings, run_entries
    from pipeline.stages import releases_root, run_dedupe, run_extract, run_publish
    from pipeline.store import open_store

    t0 = time.perf_counter()
    settings = load_settings(config)
    reconcile(releases_root())
    for path, community, visibility, kind in run_entries(settings, paths):
        store = open_store()
        try:
            ingest_paths(store, [path], IngestOptions.build(community, visibility, kind), prune_missing=True)
        finally:
            store.close()
    extract = run_extract(settings.extract.extractors, settings.extract.llm_model, settings=settings)
    run_dedupe(settings)
    publish = run_publish(settings)
    check_home(settings)
    return {"stages_s": time.perf_counter() - t0, "candidates": extract.created,
            "artefacts": publish.to_json()["artefacts"]}  # type: ignore[attr-defined]  # fmt: skip


def part_flow(paths: list[str], config: Path) -> dict[str, Any]:
    """What `practice run` does: start the ephemeral server tied to us, then the flow."""
    t0 = time.perf_counter()
    from flows.prefect_env import tie_ephemeral_server
    from flows.run import run_flow

    imported = time.perf_counter()
    tie_ephemeral_server()
    started = time.perf_counter()
    report = run_flow(paths=paths, config=str(config))
    return {"import_s": imported - t0, "server_s": started - imported, "stages_s": time.perf_counter() - started,
            "candidates": report["extract"]["candidates_created"], "artefacts": report["publish"]["artefacts"]}  # fmt: skip


def one(side: str, paths: list[str], work: Path) -> dict[str, Any]:
    """One side in a fresh process and PRACTICE_HOME; its figures plus the process's wall seconds."""
    from report import child

    home = Path(tempfile.mkdtemp(prefix=f"{side}-", dir=work))
    config = work / "practice.toml"
    config.write_text(CONFIG)
    t0 = time.perf_counter()
    # no inherited Prefect server or PRACTICE_* settings: each side gets its own home (and Prefect database)
    drop = tuple(k for k in os.environ if k.startswith(("PREFECT_", "PRACTICE_")) and k not in KEEP_ENV)
    out = child(Path(__file__), [side, str(config), *paths], {"PRACTICE_HOME": str(home)}, drop=drop)
    return {**out, "process_s": time.perf_counter() - t0}


def overhead(paths: list[str], rounds: int = 1) -> dict[str, Any]:
    """Plain and flow `rounds` times each, alternating; the best stages and process seconds of each side."""
    runs: dict[str, list[dict[str, Any]]] = {"plain": [], "flow": []}
    with tempfile.TemporaryDirectory(prefix="bench-prefect-") as tmp:
        for _ in range(rounds):
            for side in ("plain", "flow"):
                runs[side].append(one(side, paths, Path(tmp)))
    best = {side: min(r, key=lambda x: x["stages_s"]) for side, r in runs.items()}
    return {
        "paths": paths, "rounds": rounds, "plain": best["plain"], "flow": best["flow"],
        "process_plain_s": min(x["process_s"] for x in runs["plain"]),
        "process_flow_s": min(x["process_s"] for x in runs["flow"]),
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--part", nargs="+", help="(child) plain|flow CONFIG PATH...")
    parser.add_argument("paths", nargs="*", default=QUICK_SLICE)
    a = parser.parse_args()
    if a.part:
        side, config, *paths = a.part
        print(json.dumps((part_plain if side == "plain" else part_flow)(paths, Path(config))))
        return
    from index.embed_export import corpus_root

    got = overhead([str(corpus_root() / p) for p in a.paths], a.rounds)
    print(f"slice: {', '.join(a.paths)} ({got['plain']['candidates']} candidates, {got['plain']['artefacts']} artefacts)")
    print(f"  stages, plain calls  : {got['plain']['stages_s']:7.1f} s")
    print(f"  stages, Prefect flow : {got['flow']['stages_s']:7.1f} s   overhead {got['flow']['stages_s'] / got['plain']['stages_s'] - 1:+.1%}")
    print(f"  process, plain       : {got['process_plain_s']:7.1f} s")
    print(f"  process, practice run: {got['process_flow_s']:7.1f} s   overhead {got['process_flow_s'] / got['process_plain_s'] - 1:+.1%}"
          f"   (Prefect import {got['flow']['import_s']:.1f} s, ephemeral server start {got['flow']['server_s']:.1f} s)")


if __name__ == "__main__":
    main()
