"""`practice run` on a big chat built from real threads: wall time, peak memory, the unchanged second run.

The chat is built deterministically from the shared corpus's chat material (Racket Slack
conversations, Gitter conversations, the R package developers' mailing-list threads; see
`pipeline.gold_units`): its threads are repeated in a fixed order, each copy with new message and
thread ids and later timestamps, until there are N messages. Copies after the first have a short
copy tag (" (r2)") appended to every message, so no two messages share a text: a real channel
seldom repeats itself word for word, and identical texts would make the embedding cache look better
than it is (`--verbatim` keeps the texts as they are). The chat is written as a year of monthly
generic-JSONL files (`--files`, default 12, a fixed number of messages per file, so a 10k slice is
the first 10k messages of the 100k chat) under a temporary folder, never into the repository.

Each run is `practice run` in a child process, as users run it: a fresh PRACTICE_HOME holding a
`practice.toml` whose one `[[sources]]` entry is the chat folder (the configuration's defaults
otherwise). Wall seconds and CPU seconds (user + system of the process and the children it
waited for: less sensitive than wall time to other work on a shared machine). Peak memory is the largest sum of RSS over the process and its children (the parse
worker, Prefect's ephemeral server), polled every 0.2 s. The second run, over the same unchanged
files and store, is reported as a share of the first.

    .venv/bin/python bench/scale_run.py [--messages 100000] [--code PATH] [--no-second] [--keep DIR] [--timeline FILE]

`--code PATH` runs another checkout's code on the same chat (for the old-code baseline:
`git worktree add /tmp/old-code <sha>`). `run(messages)` is the same measurement, importable.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.gold_units import DEFAULT_CORPUS, gitter_units, mbox_units, slack_units  # noqa: E402

START = datetime(2025, 1, 1, tzinfo=timezone.utc)


def real_threads(corpus: Path = DEFAULT_CORPUS) -> list[list[dict]]:
    """Every thread of the corpus's chat material with 2+ non-empty messages, Slack, Gitter, then mail."""
    units = slack_units(corpus) + gitter_units(corpus) + mbox_units(corpus)
    threads = [[m for m in u["messages"] if m["text"].strip()] for u in units]
    return [t for t in threads if len(t) >= 2]


def chat_messages(n: int, threads: list[list[dict]], verbatim: bool = False) -> list[dict]:
    """N generic-JSONL messages: the threads repeated in order, new ids and times for each copy."""
    out: list[dict] = []
    copy, i = 0, 0
    moment = START
    while len(out) < n:
        thread = threads[i]
        tid = f"c{copy}t{i}"
        tag = "" if verbatim or copy == 0 else f" (r{copy + 1})"
        for j, m in enumerate(thread):
            if len(out) == n:
                break
            out.append({
                "id": f"{tid}m{j}", "thread": tid, "reply_to": f"{tid}m0" if j else None,
                "author": m["author"] or "anonymous", "timestamp": (moment + timedelta(seconds=40 * j)).isoformat(),
                "text": m["text"] + tag, "channel": "general",
            })  # fmt: skip
        moment += timedelta(minutes=58)  # ~9,000 threads: a year
        i += 1
        if i == len(threads):
            i, copy = 0, copy + 1
    return out


def write_chat(folder: Path, messages: list[dict], per_file: int) -> list[Path]:
    """Messages into `chat-MM.jsonl` files of `per_file` messages each (a thread may span two)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for k in range(0, len(messages), per_file):
        path = folder / f"chat-{k // per_file + 1:02d}.jsonl"
        path.write_text("".join(json.dumps({a: b for a, b in m.items() if b is not None}) + "\n" for m in messages[k : k + per_file]))
        files.append(path)
    return files


def _role(proc: object, root: int) -> str:
    """Which process of the run's tree: main (the CLI), server (Prefect's), parse (the parse worker), other."""
    if proc.pid == root:  # type: ignore[attr-defined]
        return "main"
    cmd = " ".join(proc.cmdline())  # type: ignore[attr-defined]
    if "pipeline.parse_budget" in cmd:
        return "parse"
    return "server" if "prefect" in cmd or "uvicorn" in cmd else "other"


def _tree_rss(pid: int) -> dict[str, int]:
    """RSS bytes of the process tree under `pid`, by role (see `_role`)."""
    import psutil

    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return {}
    rss: dict[str, int] = {}
    for p in procs:
        try:
            role = _role(p, pid)
            rss[role] = rss.get(role, 0) + p.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return rss


def practice_run(home: Path, code: Path, timeout: float, timeline: Path | None = None) -> dict:
    """One `practice run` (sources from $PRACTICE_HOME/practice.toml): wall s, peak tree RSS MB, its JSON.

    Also each role's own peak (`_role`); with `timeline`, every poll's RSS by role as JSON lines
    there (seconds since start, MB) and the run's stderr (Prefect's stage logs) beside it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "PRACTICE_"))}
    env.update({"PRACTICE_HOME": str(home), "PYTHONPATH": str(code), "PRACTICE_CONFIG": str(home / "practice.toml")})
    cmd = [sys.executable, "-m", "pipeline.cli", "run", "--json"]
    peak, peaks, rows = 0, {}, []
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=code, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    done = threading.Event()

    def poll() -> None:
        nonlocal peak
        while not done.is_set():
            rss = _tree_rss(proc.pid)
            peak = max(peak, sum(rss.values()))
            for role, b in rss.items():
                peaks[role] = max(peaks.get(role, 0), b)
            rows.append({"t": round(time.perf_counter() - start, 1), **{r: round(b / 2**20) for r, b in rss.items()}})
            time.sleep(0.2)

    watcher = threading.Thread(target=poll, daemon=True)
    watcher.start()
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        done.set()
        watcher.join()
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the tree's waited-for processes
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if timeline is not None:
        timeline.write_text("".join(json.dumps(r) + "\n" for r in rows))
        timeline.with_suffix(".stderr").write_text(err)
    if proc.returncode != 0:
        raise RuntimeError(f"practice run failed ({proc.returncode}): {err[-2000:]}")
    report = json.loads(out[out.index("{") :])
    return {"seconds": round(wall, 1), "cpu_s": round(cpu, 1), "peak_rss_mb": round(peak / 2**20),
            "peak_rss_mb_by_process": {r: round(b / 2**20) for r, b in sorted(peaks.items())}, "report": report}  # fmt: skip


def summary(report: dict) -> dict:
    """The counts worth printing from a run's JSON."""
    ingest, extract, dedupe, publish = (report.get(k, {}) for k in ("ingest", "extract", "dedupe", "publish"))
    return {
        "ingest": ingest.get("counts"), "passages": ingest.get("passages_written"),
        "candidates_created": extract.get("candidates_created"),
        "folded": dedupe.get("folded"), "embeddings": (dedupe.get("embeddings_computed") or 0) + (publish.get("embeddings_computed") or 0),
        "release": publish.get("release_id"),
    }  # fmt: skip


def run(messages: int, code: Path = ROOT, second: bool = True, verbatim: bool = False, files: int = 12,
        keep: Path | None = None, timeout: float = 4 * 3600, backend: str | None = None,
        timeline: Path | None = None) -> dict:  # fmt: skip
    """Build the chat of `messages` messages, `practice run` it (twice unless `second` is False); the figures.

    `backend` sets `[embeddings] backend` (left out: the configuration's default); `timeline`: the
    first run's RSS by process over time (see `practice_run`)."""
    work = Path(tempfile.mkdtemp(prefix="scale-run-")) if keep is None else keep
    try:
        per_file = -(-100_000 // files)  # fixed per file: a slice is a prefix of the 100k chat
        paths = write_chat(work / "chat", chat_messages(messages, real_threads(), verbatim), per_file)
        home = work / "home"
        home.mkdir(parents=True, exist_ok=True)
        embeddings = f'\n[embeddings]\nbackend = "{backend}"\n' if backend else ""
        (home / "practice.toml").write_text(f'[[sources]]\npath = "{work / "chat"}"\ncommunity = "racket"\n{embeddings}')
        first = practice_run(home, code, timeout, timeline)
        result = {
            "messages": messages, "files": len(paths), "code": str(code), "verbatim": verbatim, "backend": backend or "default",
            "first_s": first["seconds"], "first_cpu_s": first["cpu_s"], "first_peak_rss_mb": first["peak_rss_mb"],
            "first_peak_rss_mb_by_process": first["peak_rss_mb_by_process"], "first": summary(first["report"]),
        }  # fmt: skip
        if second:
            again = practice_run(home, code, timeout)
            result.update({
                "second_s": again["seconds"], "second_cpu_s": again["cpu_s"], "second_peak_rss_mb": again["peak_rss_mb"],
                "second_share": round(again["seconds"] / first["seconds"], 4), "second": summary(again["report"]),
            })  # fmt: skip
        return result
    finally:
        if keep is None:
            shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=100_000)
    ap.add_argument("--code", type=Path, default=ROOT, help="checkout whose code runs (default: this one)")
    ap.add_argument("--no-second", action="store_true", help="skip the second, unchanged run")
    ap.add_argument("--verbatim", action="store_true", help="repeat texts word for word (no copy tag)")
    ap.add_argument("--files", type=int, default=12, help="files the 100k chat is split into (default 12)")
    ap.add_argument("--backend", help="[embeddings] backend for the run (default: the configuration's default)")
    ap.add_argument("--keep", type=Path, help="work folder to keep (chat and PRACTICE_HOME)")
    ap.add_argument("--timeline", type=Path, help="JSON-lines file for the first run's RSS by process over time")
    ap.add_argument("--baseline", type=float, help="old code's seconds for the same messages, for the ratio")
    args = ap.parse_args()
    res = run(args.messages, args.code.resolve(), not args.no_second, args.verbatim, args.files, args.keep, backend=args.backend,
              timeline=args.timeline)  # fmt: skip
    if args.baseline:
        res["speedup_vs_baseline"] = round(args.baseline / res["first_s"], 2)
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
