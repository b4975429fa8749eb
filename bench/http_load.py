"""`practice serve` under load: first query after start, and 20 concurrent clients on loopback.

Starts `practice serve` as a subprocess on a free loopback port over a PRACTICE_HOME that already
holds a release (bench/search_bench.py `default_search` builds one), then:
  - start-up: seconds from starting the process to its first answered /api/search (the server
    warms the release and model before it listens, web/state.py `warm`), and that first query's
    own latency once the port accepts connections;
  - load: `clients` threads, each with its own keep-alive connection, each sending `per_client`
    queries one after another (a bounded loop: clients × per_client requests in all); latency
    p50/p99 of every request, errors (non-200 answers and failed connections), requests per second.

Stdlib only (http.client, threads): the client must not be what is measured.

    .venv/bin/python bench/http_load.py HOME [--clients 20] [--per-client 25]
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


def start_server(home: Path, port: int) -> subprocess.Popen[bytes]:
    """`practice serve` on 127.0.0.1:port over `home`; its stderr goes to HOME/serve.log."""
    env = {**os.environ, "PRACTICE_HOME": str(home), "PYTHONPATH": str(ROOT)}
    env.pop("PRACTICE_CONFIG", None)  # the default settings
    command = [sys.executable, "-m", "pipeline.cli", "serve", "--port", str(port), "--log-level", "warning"]
    with open(home / "serve.log", "wb") as log:
        return subprocess.Popen(command, env=env, cwd=home, stdout=subprocess.DEVNULL, stderr=log)


def warm_seconds(home: Path) -> float | None:
    """The warm-up's seconds as `practice serve` reported them ("ready in N s: ..."), if it did."""
    import re

    found = re.search(r"ready in ([0-9.]+) s", (home / "serve.log").read_text(errors="replace"))
    return float(found.group(1)) if found else None


def first_query(home: Path, query: str, timeout: float = 300.0) -> tuple[subprocess.Popen[bytes], int, dict[str, float]]:
    """Start the server and time its first answer: (process, port, {"to_first_answer_s", "first_query_ms",
    "warm_s"}), warm_s being the part of the start the server spent loading release and model."""
    port = free_port()
    started = time.perf_counter()
    server = start_server(home, port)
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


def load(port: int, queries: list[str], clients: int, per_client: int) -> dict[str, Any]:
    """`clients` concurrent keep-alive clients, `per_client` queries each: latencies, errors, rate."""
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
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    ms = np.array(latencies)
    return {
        "clients": clients, "requests": len(latencies), "errors": len(errors), "first_errors": errors[:3],
        "p50": float(np.percentile(ms, 50)), "p99": float(np.percentile(ms, 99)), "per_s": len(latencies) / wall,
    }  # fmt: skip


def serve_figures(home: Path, queries: list[str], clients: int = 20, per_client: int = 25) -> dict[str, Any]:
    """Start-up, then one client alone (the baseline), then `clients` at once, against one server."""
    server, port, first = first_query(home, queries[0])
    try:
        alone = load(port, queries, 1, max(20, per_client))
        crowd = load(port, queries, clients, per_client)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {**first, "alone": alone, "concurrent": crowd}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("home", type=Path)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--per-client", type=int, default=25)
    a = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from embed_backends import texts_of

    print(json.dumps(serve_figures(a.home, texts_of("short", 400), a.clients, a.per_client), indent=2))


if __name__ == "__main__":
    main()
