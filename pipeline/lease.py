"""One writer at a time: the writer lease a run holds on its store while it lives.

A run (or a single writing stage) takes the "writer" lease in the store before it writes and gives
it up when it ends; a heartbeat thread pushes the expiry forward meanwhile. A second run waits up
to its `wait` and then refuses with the holder's host, pid, run id and start. A lease left by a dead
run is taken over: once expired, or at once when it names this host and a pid that is gone. The
lease lives in the store, so runs on different machines sharing one PostgreSQL see each other.
Review actions do not take it: they write with optimistic concurrency instead.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from pipeline.store_base import Lease, Store

WRITER = "writer"
TTL_SECONDS = 60.0  # a dead run on another machine blocks the store at most this long
DEFAULT_WAIT_SECONDS = 10.0
HOLD_ENV = "PRACTICE_TEST_HOLD_LEASE"  # tests only: hold the lease until this file exists


class StoreBusy(Exception):
    """Another live run holds the writer lease."""

    def __init__(self, held: Lease, waited: float) -> None:
        super().__init__(
            f"another run is writing this store: run {held.holder} on host {held.host} (pid {held.pid}) "
            f"since {_iso(held.acquired_at)}, lease renewed until {_iso(held.expires_at)}; waited {waited:g} s. "
            "Try again when it ends, or pass --wait SECONDS to wait longer."
        )
        self.held = held


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, tz=timezone.utc).isoformat(timespec="seconds")


def pid_alive(pid: int) -> bool:
    """True if a process with this pid exists on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def new_lease(run_id: str | None = None, now: float | None = None, ttl: float = TTL_SECONDS) -> Lease:
    """A writer lease for this process, valid for `ttl` seconds from `now`."""
    now = time.time() if now is None else now
    run_id = run_id or f"run-{datetime.now(timezone.utc):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    return Lease(WRITER, run_id, socket.gethostname(), os.getpid(), now, now + ttl)


def try_acquire(store: Store, lease: Lease, now: float) -> Lease:
    """Take the lease if free, expired or held by a dead process on this host; returns the holder after."""
    held = store.acquire_lease(lease, now)
    if held.holder != lease.holder and held.host == lease.host and not pid_alive(held.pid):
        # Compare-and-swap on the dead holder's id: of two runs that both saw it dead, one wins.
        if store.take_over_lease(lease, held.holder):
            return lease
        held = store.current_lease(lease.name) or held
    return held


def _heartbeat(store: Store, lease: Lease, ttl: float, stop: threading.Event) -> None:
    """Renew the lease every third of its life until `stop` is set, on a connection of its own.

    The connection is opened here, in the heartbeat thread: a SQLite connection may only be used
    by the thread that opened it (opened by the caller, every renewal failed on SQLite)."""
    own = store.reopen()
    try:
        while not stop.wait(ttl / 3):
            try:
                if not own.renew_lease(lease.name, lease.holder, time.time() + ttl):
                    print(f"warning: run {lease.holder} lost the writer lease (another run took it over)", file=sys.stderr)
                    return
            except Exception as exc:  # a dropped connection must not kill the run; the lease expires
                print(f"warning: could not renew the writer lease: {exc}", file=sys.stderr)
    finally:
        if own is not store:
            own.close()


def _test_hold() -> None:
    """Tests only: announce the lease is held (FILE.held) and keep it until FILE exists."""
    target = os.environ.get(HOLD_ENV)
    if not target:
        return
    Path(target + ".held").write_text(str(os.getpid()), encoding="utf-8")
    while not Path(target).exists():
        time.sleep(0.05)


@contextmanager
def writer_lease(
    open_store: Callable[[], Store], wait: float = DEFAULT_WAIT_SECONDS, ttl: float = TTL_SECONDS,
    run_id: str | None = None,
) -> Iterator[Lease]:  # fmt: skip
    """Hold the writer lease for the block: wait up to `wait` seconds for it, else raise StoreBusy.

    One connection acquires and releases; the heartbeat thread renews on another (see `_heartbeat`).
    """
    store = open_store()
    deadline = time.monotonic() + max(wait, 0.0)
    lease = new_lease(run_id, ttl=ttl)
    try:
        while True:
            now = time.time()
            lease = Lease(lease.name, lease.holder, lease.host, lease.pid, now, now + ttl)
            held = try_acquire(store, lease, now)
            if held.holder == lease.holder:
                break
            left = deadline - time.monotonic()
            if left <= 0:
                raise StoreBusy(held, wait)
            time.sleep(min(1.0, left))
        stop = threading.Event()
        beat = threading.Thread(target=_heartbeat, args=(store, lease, ttl, stop), name="writer-lease", daemon=True)
        beat.start()
        try:
            _test_hold()
            yield lease
        finally:
            stop.set()
            beat.join()
            store.release_lease(lease.name, lease.holder)
    finally:
        store.close()
