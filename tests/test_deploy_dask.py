"""`practice deploy` end to end: a real `prefect server`, a `prefect worker` on a process work pool,
and the deployed run's extraction and embedding on a 2-process Dask LocalCluster; the store it
leaves equals a local sequential run's over the same slice of the shared corpus.

Everything started here, with its descendants, is killed at the end, pass or fail.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import CORPUS
from tests.store.pg_server import _free_port
from tests.test_crash_consistency import run_stages, snapshot

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# Three short guides: three sources, one per extraction task, over two workers.
SLICE = [CORPUS / "docs" / "google_eng_practices" / "review" / "reviewer" / f for f in ("pushback.md", "speed.md", "standard.md")]
CONFIG = """
[[sources]]
path = "."

[publish]
include_candidates = true

[run]
task_runner = "dask"
dask_workers = 2
extract_batch = 1
embed_batch = 64
"""


def wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float = 240.0) -> None:
    """Poll the server's health endpoint until it answers (fail if the server died first)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"prefect server exited with {proc.returncode}"
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(1)
    raise AssertionError(f"prefect server at {url} not healthy after {timeout:g} s")


def kill_all(procs: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM these children and every descendant, then SIGKILL what is left after 15 s.

    Descendants are listed first, while they still hang under their parents: Prefect starts each
    flow run in a session of its own (and the run its Dask cluster), out of reach of a group signal.
    """
    import psutil

    tree: list[psutil.Process] = []
    for proc in procs:
        try:
            top = psutil.Process(proc.pid)
            tree += [top, *top.children(recursive=True)]
        except psutil.NoSuchProcess:
            continue
    for p in tree:
        try:
            p.terminate()
        except psutil.NoSuchProcess:
            pass
    _, alive = psutil.wait_procs(tree, timeout=15)
    for p in alive:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(alive, timeout=15)
    for proc in procs:
        proc.wait(timeout=15)


@pytest.fixture
def started() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes the test starts; they and their descendants are killed at the end whatever happened."""
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    kill_all(procs)


def test_a_deployed_run_on_a_work_pool_and_dask_equals_a_local_run(
    tmp_path: Path, started: list[subprocess.Popen[bytes]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PRACTICE_DATABASE_URL", raising=False)  # the local reference run: SQLite under tmp_path
    src = tmp_path / "src"
    src.mkdir()
    for f in SLICE:
        (src / f.name).write_bytes(f.read_bytes())
    (src / "practice.toml").write_text(CONFIG)

    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "PRACTICE_"))}
    env.update({
        "PREFECT_HOME": str(tmp_path / "prefect"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_API_URL": api, "PRACTICE_HOME": str(tmp_path / "deployed"), "PYTHONPATH": str(ROOT),
    })  # fmt: skip
    logs = tmp_path / "logs"
    logs.mkdir()

    def start(name: str, *args: str) -> subprocess.Popen[bytes]:
        out = open(logs / f"{name}.log", "wb")  # noqa: SIM115 (closed with the process)
        proc = subprocess.Popen(args, cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT)
        started.append(proc)
        return proc

    server = start("server", str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port))
    wait_healthy(api, server)
    practice = [sys.executable, "-m", "pipeline.cli"]
    deployed = subprocess.run(
        [*practice, "deploy", "--pool", "practice-test", "--no-schedule", "--config", str(src / "practice.toml")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert deployed.returncode == 0, deployed.stderr[-3000:]
    assert "on work pool 'practice-test'" in deployed.stdout
    start("worker", str(BIN / "prefect"), "worker", "start", "--pool", "practice-test", "--type", "process")
    watch = start(
        "run", str(BIN / "prefect"), "deployment", "run", "practice-run/practice-scheduled", "--watch", "--watch-timeout", "600"
    )
    local = tmp_path / "local"
    run_stages(src, local)  # the local reference while the deployed run goes on
    watched = watch.wait(timeout=700)
    ran, worker_log = ((logs / f"{n}.log").read_text(errors="replace") for n in ("run", "worker"))
    assert watched == 0, f"{ran[-2000:]}\nworker:\n{worker_log[-4000:]}"
    assert "Completed" in ran
    assert "distributed.scheduler" in worker_log  # the run's tasks went to a Dask scheduler

    want, got = snapshot(local), snapshot(tmp_path / "deployed")
    assert want["artefacts"] and want["published"]  # a slice that exercises every stage
    for key in want:
        assert got[key] == want[key], f"{key} differ between the deployed Dask run and the local run"
