"""The ingest flow, run for real on Prefect's local ephemeral server (no set-up, no network)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.store import open_store
from tests.test_ingest import write_good_files

pytestmark = pytest.mark.integration


def run_practice(*args: str, home: Path, api_url: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a fresh process, as a user would, with only our Prefect settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env["PRACTICE_HOME"] = str(home)
    if api_url:
        env["PREFECT_API_URL"] = api_url
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args], env=env, capture_output=True, text=True, timeout=300
    )


def test_ingest_flow_runs_on_the_ephemeral_server(tmp_path: Path) -> None:
    write_good_files(tmp_path / "src")
    (tmp_path / "src" / "empty.vtt").write_text("")
    home = tmp_path / "home"  # does not exist yet: the flow must create what it needs

    first = run_practice("ingest", str(tmp_path / "src"), "--flow", "--json", home=home)
    assert first.returncode == 0, first.stderr[-3000:]
    report = json.loads(first.stdout)  # stdout is only the JSON report; Prefect logs go to stderr
    assert report["counts"]["new"] == 3 and report["counts"]["failed"] == 1
    assert "Finished in state Completed" in first.stderr
    assert (home / "prefect").is_dir()  # Prefect's own database sits beside our store

    again = json.loads(run_practice("ingest", str(tmp_path / "src"), "--flow", "--json", home=home).stdout)
    assert again["counts"]["unchanged"] == 3 and again["passages_written"] == 0

    store = open_store(home)
    assert len(store.list_sources()) == 4 and store.count_passages() == report["passages_written"]


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_ingest_flow_is_recorded_on_a_prefect_server(tmp_path: Path) -> None:
    """With PREFECT_API_URL set, the run goes to that server (here a real one on loopback)."""
    import time
    import urllib.request

    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    server_env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    server_env.update(PREFECT_HOME=str(tmp_path / "server"), PREFECT_SERVER_ANALYTICS_ENABLED="false")
    (tmp_path / "server").mkdir()
    server = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=server_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"{api}/health", timeout=2).read()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail("the Prefect server did not start")
                time.sleep(1)
        write_good_files(tmp_path / "src")
        result = run_practice("ingest", str(tmp_path / "src"), "--flow", "--json", home=tmp_path / "home", api_url=api)
        assert result.returncode == 0, result.stderr[-3000:]
        assert json.loads(result.stdout)["counts"]["new"] == 3
        request = urllib.request.Request(
            f"{api}/flow_runs/filter", data=b"{}", headers={"content-type": "application/json"}
        )
        runs = json.loads(urllib.request.urlopen(request, timeout=10).read())
        assert [(r["state_type"]) for r in runs] == ["COMPLETED"]
        assert "temporary server" not in result.stderr  # it used our server, not an ephemeral one
    finally:
        server.terminate()
        server.wait(timeout=30)
