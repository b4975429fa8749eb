"""Prefect settings that must be in the environment before `prefect` is imported, and the
ephemeral server tied to the process that starts it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import types
from collections.abc import Callable
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
    are left untied (they are not ours to start; see `tie_ephemeral_server`).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if threading.current_thread() is threading.main_thread() and kwargs.get("preexec_fn") is None:
            kwargs["preexec_fn"] = _parent_death_signal()
        super().__init__(*args, **kwargs)


def tie_ephemeral_server() -> int | None:
    """Start Prefect's ephemeral server now, from the main thread, so it dies with this process.

    Prefect 3.8.8 starts it lazily (`SubprocessASGIServer.start`, a `python -m uvicorn` child) and
    stops it only at a clean exit (atexit): a `practice run` killed with SIGKILL left it running,
    orphaned, at about 230 MB each. Here the server module's `subprocess` is replaced by one whose
    Popen sets PR_SET_PDEATHSIG in the child, and the server is started on the main thread; every
    later use in this process finds it running and reuses it. Returns the server's pid, or None
    when runs go to a configured server (PREFECT_API_URL) or not from the main thread.
    """
    from prefect.settings import PREFECT_API_URL

    if PREFECT_API_URL.value() or threading.current_thread() is not threading.main_thread():
        return None
    from prefect.server.api import server as prefect_server

    if prefect_server.subprocess is subprocess:  # not yet replaced
        shim = types.ModuleType("subprocess", "subprocess, with Popen tied to its parent process")
        shim.__dict__.update(vars(subprocess))
        shim.Popen = _TiedPopen  # type: ignore[attr-defined]
        prefect_server.subprocess = shim  # type: ignore[attr-defined]
    server = prefect_server.SubprocessASGIServer()
    server.start()
    return server.server_process.pid if server.server_process else None
