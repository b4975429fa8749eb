"""Prefect settings that must be in the environment before `prefect` is imported, and the
ephemeral server that `practice` commands start for their flows, tied to the process that starts it."""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from pipeline.config import apply_offline_env, practice_home

apply_offline_env()
# Keep Prefect's ephemeral database beside our store unless the user points Prefect elsewhere.
os.environ.setdefault("PREFECT_HOME", str((practice_home() / "prefect").resolve()))
# The ephemeral server gives up after 20 s by default; on a loaded 2-core machine its start
# (migrations on a fresh database included) can take longer than that.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
# Prefect creates its home without parents and then cannot open its database: make it here.
Path(os.environ["PREFECT_HOME"]).expanduser().mkdir(parents=True, exist_ok=True)

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
PR_SET_NAME = 15
SERVER_NAME = b"prefect-server"  # the forked server's name in ps/top (its command line is ours)


def _parent_death_signal() -> Callable[[], None] | None:
    """A preexec_fn asking Linux to SIGTERM the child when its parent dies; None elsewhere.

    libc's prctl is looked up here, in the parent: the child, between fork and exec, only calls it.
    """
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    parent = os.getpid()

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the request took effect
            os._exit(1)

    return preexec


class _TiedPopen(subprocess.Popen):  # type: ignore[type-arg]
    """Popen whose child gets SIGTERM when this process dies, when started from the main thread.

    Linux sends the parent-death signal when the *thread* that forked the child ends, so a
    child forked from a short-lived worker thread would be killed under a live process: those
    are left untied (`prefect_api` starts the server only from the main thread).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if threading.current_thread() is threading.main_thread() and kwargs.get("preexec_fn") is None:
            kwargs["preexec_fn"] = _parent_death_signal()
        super().__init__(*args, **kwargs)


SERVER_APP = "prefect.server.api.server:create_app"  # what Prefect's own ephemeral server runs
UVICORN_STARTUP_FAILURE = 3  # uvicorn's exit status when it cannot listen (e.g. the port was taken meanwhile)


# Loopback needs no proxy, whatever http_proxy says.
_LOOPBACK = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _free_port() -> int:
    """A loopback port nothing listens on now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _site_dir() -> str:
    """The folder holding the `prefect` package, found without importing it."""
    spec = importlib.util.find_spec("prefect")
    assert spec is not None and spec.submodule_search_locations, "prefect is not installed"
    return str(Path(next(iter(spec.submodule_search_locations))).parent)


# The server we start needs no block types registered (it serves no UI; a `prefect server` later
# pointed at the same database registers them itself), and checking the registry costs ~0.4 s of CPU.
SERVER_ENV = {
    "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1",
    "PREFECT_API_BLOCKS_REGISTER_ON_START": "false", "PREFECT_MEMOIZE_BLOCK_AUTO_REGISTRATION": "false",
}  # fmt: skip


def _serve(port: int, tie: Callable[[], None] | None) -> None:
    """(In a forked child) run Prefect's server app on `port`; `tie` (made in the parent) ties it to the parent."""
    if tie:
        tie()
        import ctypes

        ctypes.CDLL(None).prctl(PR_SET_NAME, ctypes.c_char_p(SERVER_NAME), 0, 0, 0)
    for key, value in SERVER_ENV.items():
        os.environ.setdefault(key, value)
    _refresh_prefect_settings()
    import uvicorn

    uvicorn.run(SERVER_APP, factory=True, host="127.0.0.1", port=port, log_level="error", lifespan="on")


class EphemeralServer:
    """Prefect's ephemeral API server (the app Prefect runs itself), started by us, tied to this process.

    Prefect 3.8.8 starts the same server lazily, at a flow's first API call, and waits for it there;
    the client then also imports the whole server package (~2 s of CPU) only to start it. Here the
    client imports none of it and the server proceeds beside the client until the first run needs the
    API (`wait_ready`). With `fork` (a process with Prefect imported and one thread) the server is a
    forked child that shares the Prefect already imported (~2 s of CPU less than a new interpreter);
    otherwise it is `python -m uvicorn`, the command Prefect uses.
    """

    def __init__(self, fork: bool = False) -> None:
        self.port = 0
        self._fork = fork
        self.process: subprocess.Popen[bytes] | multiprocessing.process.BaseProcess | None = None
        self._start()

    def _start(self) -> None:
        self.port = _free_port()
        if self._fork:
            # daemon: should `stop` never run, multiprocessing terminates it at exit instead of waiting for it
            self.process = multiprocessing.get_context("fork").Process(
                target=_serve, args=(self.port, _parent_death_signal()), name="prefect-server", daemon=True
            )
            self.process.start()
            return
        cmd = [sys.executable, "-m", "uvicorn", "--app-dir", _site_dir(), "--factory", SERVER_APP,
               "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "error", "--lifespan", "on"]  # fmt: skip
        self.process = _TiedPopen(cmd, env={**SERVER_ENV, **os.environ})

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def _exit_code(self) -> int | None:
        if isinstance(self.process, subprocess.Popen):
            return self.process.poll()
        assert self.process is not None
        return self.process.exitcode

    def wait_ready(self, timeout: float | None = None) -> None:
        """Block until the server answers /health (restarting it on another port if it could not listen)."""
        limit = timeout or float(os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"])
        deadline, restarts = time.monotonic() + limit, 0
        while time.monotonic() < deadline:
            code = self._exit_code()
            if code == UVICORN_STARTUP_FAILURE and restarts < 3:
                restarts += 1
                self._start()
                continue
            if code is not None:
                raise RuntimeError(f"Prefect's ephemeral server exited with status {code} before it was ready")
            try:
                with _LOOPBACK.open(f"{self.api_url}/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:  # not listening yet (URLError and connection errors are OSErrors)
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"Prefect's ephemeral server did not answer within {limit:.0f} s")

    def stop(self) -> None:
        """Terminate the server and reap it (killed if it has not stopped within 5 s)."""
        process, self.process = self.process, None
        if isinstance(process, subprocess.Popen):
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        elif process is not None:
            process.terminate()
            process.join(5)
            if process.exitcode is None:
                process.kill()
                process.join()


def _refresh_prefect_settings() -> None:
    """Make Prefect read its settings from the environment again (its documented hook for env changes)."""
    from prefect.context import refresh_global_settings_context

    refresh_global_settings_context()


def _drain_prefect_workers(timeout: float = 10) -> None:
    """Send the logs and events Prefect still holds (its workers send in the background) before the server stops."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=timeout)
    EventsWorker.drain_all(timeout=timeout)


@contextlib.contextmanager
def prefect_api(*preload: str) -> Iterator[str | None]:
    """Run flows inside on the configured Prefect API, else on an ephemeral server that lives as long as this block.

    With a configured server (PREFECT_API_URL in the environment, a Prefect profile or prefect.toml)
    nothing is started. Otherwise the server starts, `preload` (the flows to run) is imported while it
    starts, and the block waits for it only then. Inside, PREFECT_API_URL names it (child processes
    see it too). Prefect's pending logs and events are sent and the server stops when the block ends;
    it dies with this process if the process is killed. Off the main thread (where the tie would not
    hold) Prefect starts its own server as usual. Yields the API URL (None then).
    """
    from prefect.settings import PREFECT_API_URL

    configured = PREFECT_API_URL.value()  # the environment's, a profile's or prefect.toml's
    if configured or not _main_thread():
        yield configured
        return
    # One thread: safe to fork. More (a writer lease's heartbeat): a new interpreter instead.
    server = EphemeralServer(fork=threading.active_count() == 1 and sys.platform.startswith("linux"))
    try:
        for module in preload:  # the flows' imports, while the server starts
            importlib.import_module(module)
        server.wait_ready()
        os.environ["PREFECT_API_URL"] = server.api_url
        _refresh_prefect_settings()
        try:
            yield server.api_url
        finally:
            _drain_prefect_workers()
            os.environ.pop("PREFECT_API_URL", None)
            _refresh_prefect_settings()
    finally:
        server.stop()


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()
