"""Two `practice run` processes at once on one SQLite store: one runs, the other refuses at once,
naming the run that holds the store. The first run is held at a known point (after it took the
writer lease) by the test-only PRACTICE_TEST_HOLD_LEASE file, so nothing depends on timing."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "examples" / "docs" / "platform-handbook.md"


def _practice(*args: str, env: dict[str, str], **kw: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", *args], env=env, cwd=ROOT, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw,  # type: ignore[call-overload]
    )  # fmt: skip


def test_a_second_run_on_the_same_store_refuses_and_the_first_finishes_cleanly(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(DOC, src / DOC.name)
    env = {**os.environ, "PRACTICE_HOME": str(tmp_path / "home"), "PYTHONPATH": str(ROOT)}
    env.pop("PRACTICE_DATABASE_URL", None)
    go = tmp_path / "go"

    first = _practice("run", str(src), "--community", "platform", env={**env, "PRACTICE_TEST_HOLD_LEASE": str(go)})
    try:
        while not Path(f"{go}.held").exists():  # the first run holds the lease (a wait, not a timed assertion)
            assert first.poll() is None, first.communicate()
            time.sleep(0.1)

        second = _practice("run", str(src), "--community", "platform", "--wait", "0", env=env)
        out, err = second.communicate(timeout=600)
        assert second.returncode == 1, (out, err)
        assert "another run is writing this store" in err and f"on host {socket.gethostname()} (pid {first.pid})" in err
        assert "run run-" in err
        assert "ingest:" not in out  # it did no work
    finally:
        go.touch()
    out, err = first.communicate(timeout=1800)
    assert first.returncode == 0, err
    assert "publish: release" in out and "failed:" not in out and "Traceback" not in err


def test_a_scheduled_run_takes_the_lease_inside_the_flow(tmp_path: Path) -> None:
    """`practice schedule` serves `run_flow` with `lease_wait`: a held store stops it before any work."""
    from prefect.testing.utilities import prefect_test_harness

    from flows.run import run_flow
    from pipeline.lease import StoreBusy
    from pipeline.store_base import Lease
    from pipeline.store_sqlite import SQLiteStore

    home = tmp_path / "home"
    store = SQLiteStore(home / "practice.sqlite3")
    store.acquire_lease(Lease("writer", "run-busy", "elsewhere", 4242, 1000.0, 4102444800.0), now=0.0)
    with prefect_test_harness(server_startup_timeout=300), pytest.raises(StoreBusy, match="run run-busy on host elsewhere"):
        run_flow(paths=[str(DOC)], community="platform", home=str(home), lease_wait=0)
    assert store.list_sources() == []
