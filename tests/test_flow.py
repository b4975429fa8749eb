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


def _api(url: str, body: bytes | None = None) -> object:
    import urllib.request

    request = urllib.request.Request(url, data=body, headers={"content-type": "application/json"})
    return json.loads(urllib.request.urlopen(request, timeout=10).read())


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> object:
    """A real Prefect server on loopback, for the runs that PREFECT_API_URL sends elsewhere."""
    import time
    import urllib.request

    home = tmp_path_factory.mktemp("prefect-server")
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false")
    server = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
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
        yield api
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_ingest_flow_is_recorded_on_a_prefect_server(prefect_server: str, tmp_path: Path) -> None:
    """With PREFECT_API_URL set, the run goes to that server (here a real one on loopback)."""
    write_good_files(tmp_path / "src")
    result = run_practice("ingest", str(tmp_path / "src"), "--flow", "--json", home=tmp_path / "home", api_url=prefect_server)
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout)["counts"]["new"] == 3
    runs = _api(f"{prefect_server}/flow_runs/filter", b"{}")
    assert [r["state_type"] for r in runs if r["name"]] and all(r["state_type"] == "COMPLETED" for r in runs)
    assert "temporary server" not in result.stderr  # it used our server, not an ephemeral one


def test_schedule_registers_a_deployment_with_the_configured_cron(prefect_server: str, tmp_path: Path) -> None:
    """`practice schedule` serves the whole flow on the cron from practice.toml (it runs until stopped)."""
    import time

    write_good_files(tmp_path / "src")
    config = tmp_path / "practice.toml"
    config.write_text('[[sources]]\npath = "src"\ncommunity = "sre"\n\n[schedule]\ncron = "15 2 * * *"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PRACTICE_HOME=str(tmp_path / "home"), PREFECT_API_URL=prefect_server)
    serving = subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "schedule", "--config", str(config)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        deployments: list[dict[str, object]] = []
        while not deployments and time.monotonic() < deadline and serving.poll() is None:
            time.sleep(2)
            deployments = [d for d in _api(f"{prefect_server}/deployments/filter", b"{}") if d["name"] == "practice-scheduled"]  # type: ignore[union-attr, index]
        assert deployments, serving.stdout.read() if serving.poll() is not None else "no deployment registered"
        (deployment,) = deployments
        crons = [s["schedule"]["cron"] for s in deployment["schedules"]]  # type: ignore[index]
        assert crons == ["15 2 * * *"]
        assert deployment["parameters"]["config"] == str(config.resolve())  # type: ignore[index]
    finally:
        serving.terminate()
        serving.wait(timeout=30)
