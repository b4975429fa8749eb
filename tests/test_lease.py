"""The writer lease at the edge (pipeline/lease.py): wait, refuse with the holder named, take over
from a dead run, renew while alive, give up at the end. No test depends on how long anything takes."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from pipeline import lease as lease_mod
from pipeline.lease import StoreBusy, writer_lease
from pipeline.store_base import Lease
from pipeline.store_sqlite import SQLiteStore


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "practice.sqlite3"


def _opener(db: Path):  # type: ignore[no-untyped-def]
    return lambda: SQLiteStore(db)


def _plant(db: Path, holder: str, host: str, pid: int, expires_at: float) -> None:
    store = SQLiteStore(db)
    store.acquire_lease(Lease("writer", holder, host, pid, 1000.0, expires_at), now=0.0)
    store.close()


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_live_holder_is_refused_with_host_pid_run_and_start(db: Path) -> None:
    _plant(db, "run-other", "elsewhere", 4242, expires_at=4102444800.0)  # year 2100, on another machine
    with pytest.raises(StoreBusy) as busy:
        with writer_lease(_opener(db), wait=0):
            pytest.fail("the lease was held by another live run")
    message = str(busy.value)
    for part in ("run-other", "elsewhere", "pid 4242", "1970-01-01T00:16:40+00:00", "--wait"):
        assert part in message
    assert SQLiteStore(db).current_lease("writer").holder == "run-other"  # type: ignore[union-attr]


def test_the_second_writer_waits_for_the_first_to_finish(db: Path) -> None:
    order: list[str] = []
    first_holds, first_may_end = threading.Event(), threading.Event()

    def first() -> None:
        with writer_lease(_opener(db), wait=0, run_id="run-1"):
            first_holds.set()
            first_may_end.wait()
            order.append("first done")

    def second() -> None:
        with writer_lease(_opener(db), wait=600, run_id="run-2") as held:
            order.append(f"second got {held.holder}")

    t1 = threading.Thread(target=first)
    t1.start()
    first_holds.wait()
    t2 = threading.Thread(target=second)
    t2.start()
    first_may_end.set()
    t1.join()
    t2.join()
    assert order == ["first done", "second got run-2"]
    assert SQLiteStore(db).current_lease("writer") is None  # both gave it up


def test_a_dead_process_on_this_host_is_taken_over_at_once(db: Path) -> None:
    _plant(db, "run-crashed", socket.gethostname(), _dead_pid(), expires_at=4102444800.0)
    with writer_lease(_opener(db), wait=0, run_id="run-next") as held:
        assert SQLiteStore(db).current_lease("writer").holder == held.holder == "run-next"  # type: ignore[union-attr]


def test_an_expired_lease_from_another_machine_is_taken_over(db: Path) -> None:
    _plant(db, "run-gone", "elsewhere", 4242, expires_at=1.0)
    with writer_lease(_opener(db), wait=0, run_id="run-next"):
        assert SQLiteStore(db).current_lease("writer").holder == "run-next"  # type: ignore[union-attr]


def test_the_lease_is_given_up_when_the_command_fails(db: Path) -> None:
    with pytest.raises(RuntimeError):
        with writer_lease(_opener(db), wait=0):
            raise RuntimeError("stage failed")
    assert SQLiteStore(db).current_lease("writer") is None


class _Beats:
    """A stop event that lets the heartbeat loop run `n` times, then stops it."""

    def __init__(self, n: int) -> None:
        self.n = n

    def wait(self, timeout: float) -> bool:
        self.n -= 1
        return self.n < 0


def test_the_heartbeat_pushes_the_expiry_forward(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = SQLiteStore(db)
    mine = Lease("writer", "run-a", "h", 1, 1000.0, 1060.0)
    store.acquire_lease(mine, now=1000.0)
    monkeypatch.setattr(lease_mod.time, "time", lambda: 5000.0)
    lease_mod._heartbeat(store, mine, 60.0, _Beats(2))  # type: ignore[arg-type]
    assert store.current_lease("writer").expires_at == 5060.0  # type: ignore[union-attr]


def test_the_heartbeat_renews_from_its_own_thread_on_sqlite(db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    # writer_lease opens the store on the caller's thread and renews from another: a SQLite
    # connection used from a thread other than its own raised on every renewal.
    store = SQLiteStore(db)
    mine = Lease("writer", "run-a", "h", 1, 1000.0, 1060.0)
    store.acquire_lease(mine, now=1000.0)
    monkeypatch.setattr(lease_mod.time, "time", lambda: 5000.0)
    beat = threading.Thread(target=lease_mod._heartbeat, args=(store, mine, 60.0, _Beats(2)))
    beat.start()
    beat.join()
    assert "could not renew" not in capsys.readouterr().err
    assert store.current_lease("writer").expires_at == 5060.0  # type: ignore[union-attr]


def test_the_heartbeat_stops_when_another_run_took_the_lease(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = SQLiteStore(db)
    mine = Lease("writer", "run-a", "h", 1, 1000.0, 1060.0)
    store.acquire_lease(Lease("writer", "run-b", "h", 2, 1000.0, 9e9), now=0.0)
    lease_mod._heartbeat(store, mine, 60.0, _Beats(5))  # type: ignore[arg-type]
    assert "run-a lost the writer lease" in capsys.readouterr().err
    assert store.current_lease("writer").holder == "run-b"  # type: ignore[union-attr]


def test_review_actions_go_through_while_a_run_holds_the_lease(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from pipeline.cli import main
    from pipeline.models import ArtefactStatus
    from tests.store.data import artefact

    monkeypatch.setenv("PRACTICE_HOME", str(tmp_path))
    monkeypatch.delenv("PRACTICE_DATABASE_URL", raising=False)
    db = tmp_path / "practice.sqlite3"
    SQLiteStore(db).save_artefacts([artefact("A1")])
    _plant(db, "run-busy", "elsewhere", 4242, expires_at=4102444800.0)
    result = CliRunner().invoke(main, ["review", "reject", "A1", "--reason", "duplicate of the wiki page", "--as", "rita"])
    assert result.exit_code == 0, result.output
    assert SQLiteStore(db).get_artefact("A1").status == ArtefactStatus.rejected  # type: ignore[union-attr]
    assert SQLiteStore(db).current_lease("writer").holder == "run-busy"  # type: ignore[union-attr]
