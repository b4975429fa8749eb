"""A `practice run` killed with SIGKILL: it leaves no Prefect server behind, and a run killed at the
release switch has its release served by the next run.

Real processes throughout: the CLI in a child process, Prefect's ephemeral server as its child.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from index.release import current_release, list_releases

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parent.parent
SERVER_MARK = "prefect.server.api.server:create_app"
SERVER_NAME = "prefect-server"


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "PRACTICE_"))}
    return {**env, "PRACTICE_HOME": str(home), "PYTHONPATH": str(ROOT), **extra}


def _practice(*args: str, env: dict[str, str], **kw: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", *args], env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, ppid) of a process, or None when it no longer exists."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return fields[0], int(fields[1])


def _alive(pid: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[0] != "Z"  # a zombie is dead, only not yet reaped


def _server_children(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (_stat(int(entry.name)) or ("", 0))[1] == parent:
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                comm = (entry / "comm").read_text().strip()
            except OSError:
                continue
            if SERVER_MARK in cmdline or comm == SERVER_NAME:  # started as `uvicorn`, or forked and named
                found.append(int(entry.name))
    return found


def _write_chat(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "chat.jsonl").write_text(
        '{"id": "1", "author": "ana", "text": "How do you run retrospectives with a remote team?"}\n'
        '{"id": "2", "reply_to": "1", "author": "ben", "text": "We use a shared board and timebox each column."}\n'
    )
    return folder


def test_a_killed_run_leaves_no_prefect_server(tmp_path: Path) -> None:
    cli = _practice("run", str(_write_chat(tmp_path / "src")), env=_env(tmp_path / "home"))
    servers: list[int] = []
    try:
        deadline = time.monotonic() + 300  # generous: imports and migrations on a loaded machine
        while not servers:
            if cli.poll() is not None:
                pytest.fail(f"the run ended before its server was seen: {cli.stderr.read()[-2000:]}")  # type: ignore[union-attr]
            if time.monotonic() > deadline:
                pytest.fail("no Prefect server child appeared")
            servers = _server_children(cli.pid)
            time.sleep(0.2)
        os.kill(cli.pid, signal.SIGKILL)
        cli.wait(timeout=30)

        deadline = time.monotonic() + 60  # a bound on waiting, not a claim about speed
        while any(_alive(pid) for pid in servers) and time.monotonic() < deadline:
            time.sleep(0.5)
        survivors = [pid for pid in servers if _alive(pid)]
        assert not survivors, f"Prefect server {survivors} outlived the killed run"
    finally:
        if cli.poll() is None:
            cli.kill()
        for pid in servers:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)  # only the server this test's run started


def test_a_run_killed_at_the_switch_is_served_by_the_next_run(tmp_path: Path) -> None:
    src, home = tmp_path / "src", tmp_path / "home"
    shutil.copytree(ROOT / "examples" / "slack", src / "slack")
    args = ("run", str(src), "--include-candidates", "--json")

    crashed = _practice(*args, env=_env(home, PRACTICE_CRASH_AT="publish:switch"))
    _, err = crashed.communicate(timeout=900)
    assert crashed.returncode == -signal.SIGKILL, err[-3000:]
    releases = list_releases(home / "releases")
    assert len(releases) == 1 and current_release(home / "releases") is None  # built, never switched

    again = _practice(*args, env=_env(home))
    out, err = again.communicate(timeout=900)
    assert again.returncode == 0, err[-3000:]
    report = json.loads(out)
    assert report["heal"]["switched_to"] == releases[0].release_id
    assert not report["publish"]["published"]  # nothing changed since: the healed release is it
    assert current_release(home / "releases").release_id == releases[0].release_id  # type: ignore[union-attr]

    search = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "search", "flaky tests", "--json"],
        env=_env(home), capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert search.returncode == 0, search.stderr[-3000:]
    result = json.loads(search.stdout)
    assert result["release"] == releases[0].release_id and result["hits"]
