"""A per-file time and memory budget: parsers run in a worker process with resource limits.

No check up front can prove that a PDF's streams, an Office package's XML or a nested JSON
stay small once parsed. So parsing happens in one long-lived child process whose data
segment is capped (RLIMIT_DATA: heap and anonymous mappings, i.e. what parsing allocates,
not the shared libraries it maps) and whose every file gets a deadline. A file that breaches
either fails alone with the reason; the worker is replaced and the run goes on.

The worker lives for the whole run (one interpreter start and one import of `unstructured`
per run, not per file) and exits by itself when its parent goes away (its stdin closes).
"""

from __future__ import annotations

import atexit
import logging
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from typing import Any, BinaryIO

from pipeline.sources.base import Bundle, Limits, Parsed, ParseOptions, Parser, SourceError
from pipeline.sources.limits import crash_reason

__all__ = ["ParseWorker", "budget_from_env", "parse_within_budget", "shutdown_workers"]

log = logging.getLogger(__name__)

_HEADER = struct.Struct("!Q")
# A fresh worker's first file also pays for importing its parser's libraries (unstructured
# takes ~8 s alone, much more on a loaded machine): that is not the file's time.
WARMUP_SECONDS = 120.0
# An idle worker holds the parsing libraries in memory (~0.45 GiB with unstructured): between
# the runs of a long-lived process (`practice schedule`) it is stopped and started afresh.
IDLE_RESTART_SECONDS = 300.0
IDLE_EXIT_SECONDS = 600.0  # the worker's own backstop; above IDLE_RESTART_SECONDS on purpose


def budget_from_env() -> dict[str, Any]:
    """Budget fields for `Limits` from $PRACTICE_PARSE_SECONDS and $PRACTICE_PARSE_MEMORY_MB.

    0 seconds parses in-process with no budget (for debugging a parser with a debugger).
    """
    out: dict[str, Any] = {}
    if os.environ.get("PRACTICE_PARSE_SECONDS"):
        out["parse_seconds"] = float(os.environ["PRACTICE_PARSE_SECONDS"])
    if os.environ.get("PRACTICE_PARSE_MEMORY_MB"):
        out["parse_memory_bytes"] = int(float(os.environ["PRACTICE_PARSE_MEMORY_MB"]) * 2**20)
    return out


def parse_within_budget(parser: Parser, bundle: Bundle, options: ParseOptions, limits: Limits) -> Parsed:
    """Parse one source within the per-file budget of `limits`; breaches raise SourceError."""
    if limits.parse_seconds <= 0:
        try:
            return parser.parse(bundle, options)
        except SourceError:
            raise
        except (RecursionError, MemoryError) as exc:
            raise SourceError(crash_reason(parser.name, exc)) from None
    key = (limits.parse_seconds, limits.parse_memory_bytes)
    with _workers_lock:
        worker = _workers.get(key)
        if worker is None:
            worker = _workers[key] = ParseWorker(limits.parse_seconds, limits.parse_memory_bytes)
    return worker.parse(parser, bundle, options)


class ParseWorker:
    """One child process that parses sources on request, within a time and memory budget."""

    def __init__(self, seconds: float, memory_bytes: int) -> None:
        self.seconds = seconds
        self.memory_bytes = memory_bytes
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._last_used = 0.0

    def parse(self, parser: Parser, bundle: Bundle, options: ParseOptions) -> Parsed:
        """Parse in the worker; raise SourceError with the reason on any failure or breach."""
        request = pickle.dumps((parser, bundle, options), protocol=pickle.HIGHEST_PROTOCOL)
        with self._lock:
            if self._proc is not None and time.monotonic() - self._last_used > IDLE_RESTART_SECONDS:
                self._stop()  # never send to a worker that may be exiting on its own idle timer
            fresh = self._proc is None or self._proc.poll() is not None
            proc = self._ensure_started()
            deadline = time.monotonic() + self.seconds + (WARMUP_SECONDS if fresh else 0.0)
            try:
                _send(proc.stdin, request)  # type: ignore[arg-type]
                reply = _recv(proc.stdout, deadline)  # type: ignore[arg-type]
            except TimeoutError:
                self._stop()
                raise SourceError(
                    f"took longer than the {self.seconds:g} s parse budget per file, stopped "
                    "(raise PRACTICE_PARSE_SECONDS if the file is legitimately slow)"
                ) from None
            except (EOFError, BrokenPipeError):
                raise SourceError(self._death_reason(parser.name)) from None
            self._last_used = time.monotonic()
        status, value = reply
        if status == "ok":
            return value
        if status == "memory":
            self._stop()  # a worker that hit MemoryError may hold fragments: start afresh
        raise SourceError(value)

    def close(self) -> None:
        """Stop the worker process (it is started again on the next request)."""
        with self._lock:
            self._stop()

    def _ensure_started(self) -> subprocess.Popen[bytes]:
        if self._proc is None or self._proc.poll() is not None:
            env = dict(os.environ)
            # The child must import the same code as this process (a worktree, a test run).
            env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
            env.setdefault("OPENBLAS_NUM_THREADS", "1")  # each BLAS thread reserves memory
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "pipeline.parse_budget", str(self.memory_bytes), str(os.getpid())],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env=env,
            )
            self._last_used = time.monotonic()
        return self._proc

    def _stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        for stream in (proc.stdin, proc.stdout):
            if stream:
                stream.close()

    def _death_reason(self, parser_name: str) -> str:
        proc, rc = self._proc, None
        if proc is not None:
            rc = proc.wait()
        self._stop()
        how = f"killed by {signal.Signals(-rc).name}" if rc is not None and rc < 0 else f"exit code {rc}"
        return (
            f"the {parser_name} parser's process died on this file ({how}), probably over the "
            f"{self.memory_bytes / 2**20:.0f} MiB memory budget (PRACTICE_PARSE_MEMORY_MB)"
        )


_workers: dict[tuple[float, int], ParseWorker] = {}
_workers_lock = threading.Lock()


@atexit.register
def shutdown_workers() -> None:
    """Stop every worker of this process (also run at interpreter exit)."""
    with _workers_lock:
        workers = list(_workers.values())
        _workers.clear()
    for worker in workers:
        worker.close()


# --- framing ---------------------------------------------------------------------------------


def _send(stream: BinaryIO, payload: bytes) -> None:
    stream.write(_HEADER.pack(len(payload)))
    stream.write(payload)
    stream.flush()


def _recv(stream: BinaryIO, deadline: float | None = None) -> Any:
    """One framed pickle from `stream`; TimeoutError past `deadline`, EOFError if it closed."""
    header = _read_exactly(stream, _HEADER.size, deadline)
    (size,) = _HEADER.unpack(header)
    return pickle.loads(_read_exactly(stream, size, deadline))  # noqa: S301 - our own child


def _read_exactly(stream: BinaryIO, size: int, deadline: float | None) -> bytes:
    fd = stream.fileno()
    chunks: list[bytes] = []
    need = size
    while need:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError
        chunk = os.read(fd, min(need, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        need -= len(chunk)
    return b"".join(chunks)


# --- the worker side -------------------------------------------------------------------------


def _serve(memory_bytes: int, parent: int) -> None:
    """The worker loop: read a request, parse, reply; exit when the parent closes stdin."""
    import resource

    import pipeline.config  # noqa: F401  (offline environment, as in the parent)

    reply_stream = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a parser that prints must not corrupt the replies
    _exit_with_parent(parent)
    if memory_bytes > 0:
        resource.setrlimit(resource.RLIMIT_DATA, (memory_bytes, memory_bytes))
    while True:
        if not select.select([sys.stdin.buffer], [], [], IDLE_EXIT_SECONDS)[0]:
            return  # idle for long: the parent starts a fresh worker when it needs one
        try:
            parser, bundle, options = _recv(sys.stdin.buffer)
        except EOFError:
            return
        reply = _parse_one(parser, bundle, options)
        try:
            payload = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
        except MemoryError:
            payload = pickle.dumps(("memory", crash_reason(parser.name, MemoryError())))
        del reply
        _send(reply_stream, payload)


def _exit_with_parent(parent: int) -> None:
    """Exit as soon as the parent is gone, even in the middle of a parse (no orphan workers).

    A closed stdin only tells a worker that waits for work; a watchdog thread also covers a
    worker busy in a long parse when its parent is killed. The parent's pid comes from the
    command line: a parent killed while the worker was still starting is noticed too.
    """
    if os.getppid() != parent:
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()


def _parse_one(parser: Parser, bundle: Bundle, options: ParseOptions) -> tuple[str, Any]:
    try:
        return "ok", parser.parse(bundle, options)
    except SourceError as exc:
        return "error", str(exc)
    except MemoryError as exc:
        return "memory", crash_reason(parser.name, exc)
    except RecursionError as exc:
        return "error", crash_reason(parser.name, exc)
    except Exception as exc:  # noqa: BLE001 - a parser bug fails its file, not the run
        log.exception("parser %s crashed on %s", parser.name, getattr(bundle, "name", "?"))
        return "error", crash_reason(parser.name, exc)


if __name__ == "__main__":
    _serve(int(sys.argv[1]), int(sys.argv[2]))
