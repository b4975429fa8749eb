"""The parent-death tie used for Prefect's ephemeral server, checked on a plain child (no Prefect).

A middle process starts `sleep` through `_TiedPopen`, prints its pid, and is then killed with
SIGKILL: the sleep must go with it. Started from a worker thread that ends, the child must stay
(Linux signals the death of the forking *thread*, so those children are left untied).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

MIDDLE = """
import sys, threading, time
from flows.prefect_env import _TiedPopen
children = []
def start():
    children.append(_TiedPopen(["sleep", "120"]))
if sys.argv[1] == "thread":
    t = threading.Thread(target=start); t.start(); t.join()
else:
    start()
print(children[0].pid, flush=True)
time.sleep(120)
"""


def _alive(pid: int) -> bool:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return text[text.rindex(")") + 2] != "Z"


def _middle_then_kill(how: str) -> int:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    middle = subprocess.Popen([sys.executable, "-c", MIDDLE, how], env=env, stdout=subprocess.PIPE, text=True)
    try:
        child = int(middle.stdout.readline())  # type: ignore[union-attr]
        assert _alive(child)
    finally:
        middle.kill()
        middle.wait(timeout=30)
    return child


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux-only")
def test_a_tied_child_dies_with_its_killed_parent() -> None:
    child = _middle_then_kill("main")
    deadline = time.monotonic() + 30  # a bound on waiting, not a claim about speed
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.2)
    alive = _alive(child)
    if alive:
        os.kill(child, signal.SIGKILL)
    assert not alive


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux-only")
def test_a_child_started_from_a_worker_thread_is_not_tied() -> None:
    """Otherwise it would die when that thread ends, under a live parent."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    middle = subprocess.Popen([sys.executable, "-c", MIDDLE, "thread"], env=env, stdout=subprocess.PIPE, text=True)
    try:
        child = int(middle.stdout.readline())  # type: ignore[union-attr]  # the thread has ended by now
        time.sleep(1)
        assert _alive(child)
    finally:
        middle.kill()
        middle.wait(timeout=30)
        if _alive(child):
            os.kill(child, signal.SIGKILL)
