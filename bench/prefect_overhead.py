"""Prefect's overhead: the same run as plain function calls and as `practice run`'s flow, whole process.

The input is a chat of N real messages (`bench/scale_run.py` builds it: the corpus's Slack, Gitter and
mailing-list threads repeated with new ids), so the run holds real work: parsing, extraction with the
embedding model, dedupe, a published index. Each side runs in a fresh process with its own PRACTICE_HOME
and the same practice.toml:
  - plain: what `flows/run.py` wires, called directly (reconcile, `ingest_paths` per entry,
    `run_extract`, `run_dedupe`, `run_publish`, `check_home`); Prefect is never imported;
  - lazy (the baseline, what `practice run` did before): `run_flow` with Prefect starting its own
    ephemeral server at the flow's first API call, the client waiting for it there;
  - flow (what `practice run` does now): `prefect_api("flows.run")` starts the same server before
    the client imports Prefect, waits for it only when the flow needs it, then `run_flow`.
Two Prefect homes: fresh (an empty PRACTICE_HOME: Prefect creates and migrates its database) and
existing (Prefect's database from an earlier start copied in, the store empty: a user's next run with
new material). Per side: the stages' seconds inside the process, and the whole process's wall and CPU
seconds (user + system of the process and the children it reaped: the server, the parse worker). The
overhead is flow / plain − 1.

    .venv/bin/python bench/prefect_overhead.py [--messages 10000] [--rounds 1]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

KEEP_ENV = ("PRACTICE_CORPUS", "PRACTICE_MODEL_CACHE")
CONFIG = "[publish]\ninclude_candidates = true\n"
SIDES = ("plain", "lazy", "flow")


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


def part_lazy(paths: list[str], config: Path) -> dict[str, Any]:
    """The flow with Prefect's own ephemeral server, started at the flow's first API call (the old way)."""
    from flows.run import run_flow

    t0 = time.perf_counter()
    report = run_flow(paths=paths, config=str(config))
    return {"stages_s": time.perf_counter() - t0, "candidates": report["extract"]["candidates_created"],
            "artefacts": report["publish"]["artefacts"]}  # fmt: skip


def _proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a live process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    """Pids of the live children of `pid`."""
    kids = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                kids.append(int(entry.name))
        except (OSError, IndexError):
            continue
    return kids


def part_flow(paths: list[str], config: Path) -> dict[str, Any]:
    """What `practice run` does: the server started, the flow imported meanwhile, then the flow.

    Also the server's CPU seconds when it was ready and at the end, and this process's own."""
    from flows.prefect_env import prefect_api

    t0 = time.perf_counter()
    with prefect_api("flows.run"):
        from flows.run import run_flow

        ready = time.perf_counter()
        (server,) = _children(os.getpid())  # the only child yet
        server_ready = _proc_cpu_s(server)
        report = run_flow(paths=paths, config=str(config))
        done = time.perf_counter()
        server_end = _proc_cpu_s(server)
    return {"ready_s": ready - t0, "stages_s": done - ready, "stop_s": time.perf_counter() - done,
            "server_ready_cpu_s": server_ready, "server_end_cpu_s": server_end, "client_cpu_s": time.process_time(),
            "candidates": report["extract"]["candidates_created"], "artefacts": report["publish"]["artefacts"]}  # fmt: skip


def part_seed() -> dict[str, Any]:
    """Start and stop the server once: Prefect's database created and migrated, as after a first run."""
    from flows.prefect_env import prefect_api

    with prefect_api() as url:
        return {"api": url}


def _child_env() -> tuple[str, ...]:
    """Variables each part drops: no inherited Prefect server or PRACTICE_* settings."""
    return tuple(k for k in os.environ if k.startswith(("PREFECT_", "PRACTICE_")) and k not in KEEP_ENV)


def one(side: str, paths: list[str], work: Path, prefect_db: Path | None) -> dict[str, Any]:
    """One side in a fresh process and PRACTICE_HOME (holding a copy of `prefect_db` if given).

    Its figures plus the process's wall seconds and CPU seconds (the process and the children it reaped)."""
    from report import child

    home = Path(tempfile.mkdtemp(prefix=f"{side}-", dir=work))
    if prefect_db is not None:
        shutil.copytree(prefect_db, home / "prefect")
    config = work / "practice.toml"
    config.write_text(CONFIG)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    out = child(Path(__file__), [side, str(config), *paths], {"PRACTICE_HOME": str(home)}, drop=_child_env())
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    shutil.rmtree(home, ignore_errors=True)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {**out, "process_s": wall, "cpu_s": cpu}


def seeded_prefect_home(work: Path) -> Path:
    """A PRACTICE_HOME whose Prefect database exists and is migrated; its `prefect` folder."""
    from report import child

    home = work / "seed"
    child(Path(__file__), ["seed"], {"PRACTICE_HOME": str(home)}, drop=_child_env())
    return home / "prefect"


def chat_paths(messages: int, work: Path) -> list[str]:
    """The N-message chat of bench/scale_run.py, written under `work`: its files."""
    from scale_run import chat_messages, real_threads, write_chat

    return [str(p) for p in write_chat(work / "chat", chat_messages(messages, real_threads()), -(-100_000 // 12))]


def overhead(messages: int, rounds: int = 1) -> dict[str, Any]:
    """Each side `rounds` times on a fresh and on an existing Prefect home; the best (least CPU) of each."""
    runs: dict[str, list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-prefect-") as tmp:
        work = Path(tmp)
        paths = chat_paths(messages, work)
        seed = seeded_prefect_home(work)
        for _ in range(rounds):
            runs.setdefault("plain", []).append(one("plain", paths, work, None))  # Prefect's home plays no part
            for home, db in (("fresh", None), ("existing", seed)):
                for side in ("lazy", "flow"):
                    runs.setdefault(f"{side} {home}", []).append(one(side, paths, work, db))
    best = {key: min(r, key=lambda x: x["cpu_s"]) for key, r in runs.items()}
    return {"messages": messages, "rounds": rounds, "load_average": os.getloadavg()[0], **best}


def _line(label: str, got: dict[str, Any], plain: dict[str, Any]) -> str:
    return (f"  {label:24s} wall {got['process_s']:7.1f} s ({got['process_s'] / plain['process_s']:5.3f}x)"
            f"   CPU {got['cpu_s']:7.1f} s ({got['cpu_s'] / plain['cpu_s']:5.3f}x)"
            f"   stages {got['stages_s']:7.1f} s ({got['stages_s'] / plain['stages_s']:5.3f}x)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--part", nargs="+", help="(child) plain|lazy|flow CONFIG PATH... | seed")
    a = parser.parse_args()
    if a.part:
        side, *rest = a.part
        if side == "seed":
            print(json.dumps(part_seed()))
            return
        config, *paths = rest
        part = {"plain": part_plain, "lazy": part_lazy, "flow": part_flow}[side]
        print(json.dumps(part(paths, Path(config))))
        return
    got = overhead(a.messages, a.rounds)
    plain = got["plain"]
    print(f"{got['messages']} messages: {plain['candidates']} candidates, {plain['artefacts']} artefacts; "
          f"best of {got['rounds']}; ratios to plain calls; load average {got['load_average']:.1f} at the end")  # fmt: skip
    print(_line("plain calls", plain, plain))
    for key in ("lazy fresh", "flow fresh", "lazy existing", "flow existing"):
        g = got[key]
        extra = (f"   [server ready after {g['ready_s']:.1f} s; its CPU {g['server_ready_cpu_s']:.1f} s then,"
                 f" {g['server_end_cpu_s']:.1f} s at the end]") if "ready_s" in g else ""  # fmt: skip
        print(_line(key, g, plain) + extra)


if __name__ == "__main__":
    main()
