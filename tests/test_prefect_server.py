"""The ephemeral Prefect server `practice` commands start (flows/prefect_env.py), with a stand-in app.

Real processes: the server is started both ways (forked, and as `python -m uvicorn`), answers on
loopback with the settings it must run with, and is gone when the block that started it ends. The
real Prefect app is exercised by tests/test_run_kill.py and the CLI run tests.
"""

from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path

import pytest

from flows import prefect_env
from flows.prefect_env import EphemeralServer, prefect_api

ROOT = Path(__file__).resolve().parent.parent
FAKE_APP = "tests.fake_prefect_app:create_app"
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _get(url: str) -> bytes:
    with NO_PROXY.open(url, timeout=10) as response:
        return response.read()


@pytest.fixture
def fake_app(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prefect_env, "SERVER_APP", FAKE_APP)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # the uvicorn child imports the stand-in from here
    monkeypatch.delenv("PREFECT_API_URL", raising=False)


@pytest.mark.parametrize("fork", [True, False], ids=["forked", "uvicorn-command"])
def test_the_server_runs_with_its_settings_and_is_reaped_on_stop(fake_app: None, fork: bool) -> None:
    server = EphemeralServer(fork=fork)
    pid = server.pid
    try:
        server.wait_ready(timeout=60)
        env = json.loads(_get(f"{server.api_url}/env"))
    finally:
        server.stop()
    assert env["PREFECT__SERVER_EPHEMERAL"] == "1" and env["PREFECT_UI_ENABLED"] == "0"
    assert env["PREFECT_API_BLOCKS_REGISTER_ON_START"] == "false"
    assert env["PREFECT_MEMOIZE_BLOCK_AUTO_REGISTRATION"] == "false"
    assert pid is not None and not Path(f"/proc/{pid}").exists()  # stopped and reaped, no zombie left


def test_prefect_api_points_prefect_at_its_server_inside_and_stops_it_after(fake_app: None) -> None:
    from prefect.settings import PREFECT_API_URL

    with prefect_api() as url:
        assert url is not None and url.startswith("http://127.0.0.1:")
        assert os.environ["PREFECT_API_URL"] == url and PREFECT_API_URL.value() == url
        assert _get(f"{url}/health") == b"true"
    assert "PREFECT_API_URL" not in os.environ and PREFECT_API_URL.value() is None
    with pytest.raises(OSError):  # nothing listens there any more
        _get(f"{url}/health")


def test_a_configured_prefect_api_starts_no_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREFECT_API_URL", "http://prefect.example:4200/api")
    from prefect.context import refresh_global_settings_context

    refresh_global_settings_context()
    monkeypatch.setattr(prefect_env, "EphemeralServer", None)  # starting one would fail
    try:
        with prefect_api() as url:
            assert url == "http://prefect.example:4200/api"
    finally:
        monkeypatch.undo()
        refresh_global_settings_context()
