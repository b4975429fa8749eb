"""`practice serve` under load: first query after start, and 20 concurrent clients on loopback.

Starts `practice serve` as a subprocess on a free loopback port over a PRACTICE_HOME that already
holds a release (bench/search_bench.py `default_search` builds one), then:
  - start-up: seconds from starting the process to its first answered /api/search (the server
    warms the release and model before it listens, web/state.py `warm`), and that first query's
    own latency once the port accepts connections;
  - load: `clients` threads, each with its own keep-alive connection, each sending `per_client`
    queries one after another (a bounded loop: clients × per_client requests in all); latency
    p50/p99 of every request, errors (non-200 answers and failed connections), requests per second,
    and the server's CPU milliseconds per request (from /proc: steadier than wall time on a shared
    machine).

Every request of a run asks a different question (the first query, the one-client run and the
concurrent run take disjoint slices of `queries`), so no answer can come from a cache of earlier
ones; `--repeat` instead cycles the concurrent run over the first `clients` questions (a result
cache's best case, reported beside, never instead).

Stdlib only (http.client, threads): the client must not be what is measured.

    .venv/bin/python bench/http_load.py HOME [--clients 20] [--per-client 25] [--repeat] [--code CHECKOUT]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def search_once(conn: http.client.HTTPConnection, query: str) -> int:
    """One GET /api/search on an open connection; the status code (the body is read in full)."""
    conn.request("GET", "/api/search?" + urllib.parse.urlencode({"q": query, "k": 10}))
    response = conn.getresponse()
    response.read()
    return response.status


def start_server(home: Path, port: int, code: Path = ROOT) -> subprocess.Popen[bytes]:
    """`practice serve` on 127.0.0.1:port over `home`, running the checkout at `code` (default:
    this one; another one measures a baseline with the same client); its stderr goes to HOME/serve.log."""
    env = {**os.environ, "PRACTICE_HOME": str(home), "PYTHONPATH": str(code)}
    env.pop("PRACTICE_CONFIG", None)  # the default settings
    command = [sys.executable, "-m", "pipeline.cli", "serve", "--port", str(port), "--log-level", "warning"]
    with open(home / "serve.log", "wb") as log:
        return subprocess.Popen(command, env=env, cwd=home, stdout=subprocess.DEVNULL, stderr=log)


def warm_seconds(home: Path) -> float | None:
    """The warm-up's seconds as `practice serve` reported them ("ready in N s: ..."), if it did."""
    import re

    found = re.search(r"ready in ([0-9.]+) s", (home / "serve.log").read_text(errors="replace"))
    return float(found.group(1)) if found else None


def first_query(
    home: Path, query: str, timeout: float = 300.0, code: Path = ROOT
) -> tuple[subprocess.Popen[bytes], int, dict[str, float]]:
    """Start the server and time its first answer: (process, port, {"to_first_answer_s", "first_query_ms",
    "warm_s"}), warm_s being the part of the start the server spent loading release and model."""
    port = free_port()
    started = time.perf_counter()
    server = start_server(home, port, code)
    while not _listening(port):
        if server.poll() is not None:
            raise RuntimeError(f"practice serve exited with {server.returncode} before listening")
        if time.perf_counter() - started > timeout:
            server.terminate()
            raise RuntimeError(f"practice serve did not listen within {timeout:.0f} s")
        time.sleep(0.02)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    t0 = time.perf_counter()
    status = search_once(conn, query)
    answered = time.perf_counter()
    conn.close()
    if status != 200:
        server.terminate()
        raise RuntimeError(f"the first query answered {status}")
    timings = {"to_first_answer_s": answered - started, "first_query_ms": (answered - t0) * 1000, "warm_s": warm_seconds(home)}
    return server, port, timings


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds a process has used so far (Linux /proc), None where unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load(port: int, queries: list[str], clients: int, per_client: int, pid: int | None = None) -> dict[str, Any]:
    """`clients` concurrent keep-alive clients, `per_client` queries each: latencies, errors, rate,
    and (given the server's `pid`) its CPU ms per request. Client c sends queries[c*per_client + i]
    (modulo len(queries)): distinct questions when there are enough of them."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients)

    def client(c: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        barrier.wait()  # all clients start together
        for i in range(per_client):
            q = queries[(c * per_client + i) % len(queries)]
            t0 = time.perf_counter()
            try:
                status = search_once(conn, q)
                error = None if status == 200 else f"HTTP {status}"
            except (OSError, http.client.HTTPException) as exc:
                error, conn = f"{type(exc).__name__}: {exc}", http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            took = (time.perf_counter() - t0) * 1000
            with lock:
                latencies.append(took)
                if error:
                    errors.append(error)
        conn.close()

    threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
    cpu0 = cpu_seconds(pid) if pid is not None else None
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    cpu1 = cpu_seconds(pid) if pid is not None else None
    ms = np.array(latencies)
    return {
        "clients": clients, "requests": len(latencies), "errors": len(errors), "first_errors": errors[:3],
        "p50": float(np.percentile(ms, 50)), "p99": float(np.percentile(ms, 99)), "per_s": len(latencies) / wall,
        "distinct": len(set(queries[(c * per_client + i) % len(queries)] for c in range(clients) for i in range(per_client))),
        "server_cpu_ms": None if cpu0 is None or cpu1 is None else (cpu1 - cpu0) * 1000 / len(latencies),
    }  # fmt: skip


def serve_figures(
    home: Path, queries: list[str], clients: int = 20, per_client: int = 25, repeat: bool = False, code: Path = ROOT
) -> dict[str, Any]:
    """Start-up, then one client alone (the baseline), then `clients` at once, against one server;
    each request a question not asked before (`queries` needs 1 + max(20, per_client) +
    clients × per_client of them). With `repeat`, also the concurrent run over `clients` questions
    asked again and again ("repeated")."""
    n_alone = max(20, per_client)
    need = 1 + n_alone + clients * per_client
    if len(set(queries[:need])) < need:
        raise ValueError(f"{need} distinct queries needed, {len(set(queries[:need]))} given")
    server, port, first = first_query(home, queries[0], code=code)
    try:
        alone = load(port, queries[1 : 1 + n_alone], 1, n_alone, server.pid)
        crowd = load(port, queries[1 + n_alone : need], clients, per_client, server.pid)
        again = load(port, queries[1 : 1 + clients], clients, per_client, server.pid) if repeat else None
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {**first, "alone": alone, "concurrent": crowd, **({"repeated": again} if again else {})}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("home", type=Path)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--per-client", type=int, default=25)
    parser.add_argument("--repeat", action="store_true", help="also the concurrent run over the same few questions")
    parser.add_argument("--code", type=Path, default=ROOT, help="the checkout to serve (a baseline: e.g. `git worktree add`)")
    a = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from embed_backends import texts_of

    queries = texts_of("short", 1 + max(20, a.per_client) + a.clients * a.per_client)
    print(json.dumps(serve_figures(a.home, queries, a.clients, a.per_client, a.repeat, a.code.resolve()), indent=2))


if __name__ == "__main__":
    main()
