"""Live Slack pull against a local stub of the Web API serving recorded, real-shaped responses.

The stub answers from tests/fixtures/slack_live/api.json (no network: slack_sdk's WebClient is
pointed at 127.0.0.1 through `base_url`). Two pulls: the first fetches the channel's history over
two pages and both threads; the second asks only for what is newer than the checkpoint, re-fetches
the thread that is still active (not the old one), and waits out an HTTP 429.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from click.testing import CliRunner

from pipeline.settings import SlackSettings
from pipeline.slack_pull import CHECKPOINTS, SlackPullError, make_client, pull_slack
from pipeline.sources.base import DirBundle, ParseOptions
from pipeline.sources.slack import SlackExportParser
from pipeline.store_memory import MemoryStore

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "slack_live" / "api.json"
KEYS = ("channel", "cursor", "oldest", "ts")
PULL1_NOW = 1700000600.0  # just after the last message of pull 1
PULL2_NOW = 1700086400.0  # a day later: the deploy-keys thread is active, the CI one (Oct) is not
DEPLOY_ROOT, CI_ROOT, FREEZE = "1700000100.000100", "1698272000.000100", "1700000300.000300"


class StubSlack:
    """Serves one phase ("pull1", "pull2") of the recorded responses and logs every request."""

    def __init__(self) -> None:
        self.recorded = json.loads(FIXTURE.read_text(encoding="utf-8"))
        self.phase = "pull1"
        self.requests: list[tuple[str, str, int]] = []  # (method, key, HTTP status)
        self.limited: dict[str, int] = {}

    def use(self, phase: str) -> None:
        self.phase, self.requests = phase, []
        self.limited = dict(self.recorded[phase].get("rate_limited", {}))

    def answer(self, method: str, params: dict[str, str]) -> tuple[int, dict[str, str], dict[str, Any]]:
        key = "&".join(f"{k}={params[k]}" for k in KEYS if params.get(k))
        if self.limited.get(method):
            self.limited[method] -= 1
            self.requests.append((method, key, 429))
            return 429, {"Retry-After": "3"}, {"ok": False, "error": "ratelimited"}
        self.requests.append((method, key, 200))
        body = self.recorded[self.phase].get(method, {}).get(key)
        return 200, {}, body if body is not None else {"ok": False, "error": f"unexpected request {method} {key}"}


@pytest.fixture()
def stub() -> Iterator[tuple[StubSlack, str]]:
    slack = StubSlack()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            url = urlparse(self.path)
            params = {k: v[0] for k, v in parse_qs(url.query).items()}
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                params.update({k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()})
            status, headers, body = slack.answer(url.path.rsplit("/", 1)[-1], params)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _serve

        def log_message(self, *args: Any) -> None:  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield slack, f"http://127.0.0.1:{server.server_address[1]}/api/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture()
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The rate-limit handler's sleeps, recorded instead of slept."""
    import slack_sdk.http_retry.builtin_handlers as handlers

    slept: list[float] = []
    monkeypatch.setattr(handlers, "time", SimpleNamespace(sleep=slept.append))
    return slept


def _passages(folder: Path) -> dict[str, Any]:
    parsed = SlackExportParser().parse(DirBundle(folder), ParseOptions())
    return {p.message_id: p for p in parsed.passages}


def test_two_pulls_fetch_only_new_messages_and_the_active_thread(stub: tuple[StubSlack, str], waits: list[float], tmp_path: Path) -> None:
    slack, base_url = stub
    settings = SlackSettings(channels=["general", "#no-such-channel"], active_days=7)
    store, folder = MemoryStore(), tmp_path / "slack-live"
    client = make_client("xoxb-test", base_url)

    slack.use("pull1")
    first = pull_slack(settings, store, folder, now=PULL1_NOW, client=client)
    assert ("conversations.history", "channel=C0GENERAL&cursor=bmV4dF90czoxNjk4MjcyMDAw", 200) in slack.requests
    assert first.threads_fetched == 2 and any("no-such-channel" in w for w in first.warnings)
    passages = _passages(folder)
    assert set(passages) == {f"general:{ts}" for ts in (CI_ROOT, "1698272060.000200", DEPLOY_ROOT, "1700000200.000200", FREEZE)}
    reply = passages["general:1700000200.000200"]
    assert reply.author == "Bob Ruiz" and reply.reply_to == f"general:{DEPLOY_ROOT}" and "@alice" in reply.text
    checkpoint = json.loads(store.cache(CHECKPOINTS)["C0GENERAL"])
    assert checkpoint == {"newest": FREEZE, "threads": {DEPLOY_ROOT: "1700000200.000200"}}

    slack.use("pull2")
    second = pull_slack(settings, store, folder, now=PULL2_NOW, client=client)
    history = [(key, status) for method, key, status in slack.requests if method == "conversations.history"]
    assert history == [(f"channel=C0GENERAL&oldest={FREEZE}", 429), (f"channel=C0GENERAL&oldest={FREEZE}", 200)]
    assert waits and waits[0] >= 3  # waited at least the Retry-After the API asked for
    replies = [key for method, key, _ in slack.requests if method == "conversations.replies"]
    assert replies == [f"channel=C0GENERAL&ts={DEPLOY_ROOT}"]  # the October thread is not active
    assert second.channels == {"general": 4} and len(second.warnings) == 1  # only the unknown channel again
    passages = _passages(folder)
    assert passages["general:1700000500.000500"].reply_to == f"general:{DEPLOY_ROOT}"
    assert passages["general:1700000400.000400"].author == "cara"
    assert passages["general:1700000200.000200"].author == "Bob Ruiz"  # users.json keeps earlier users
    assert len(passages) == 7
    assert json.loads(store.cache(CHECKPOINTS)["C0GENERAL"])["newest"] == "1700000400.000400"


def test_a_channel_the_bot_is_not_in_is_a_warning_and_the_others_are_pulled(stub: tuple[StubSlack, str], tmp_path: Path) -> None:
    slack, base_url = stub
    slack.use("pull1")
    store = MemoryStore()
    report = pull_slack(SlackSettings(channels=["ops", "general"]), store, tmp_path, now=PULL1_NOW, client=make_client("x", base_url))
    assert [w for w in report.warnings if "#ops" in w and "not_in_channel" in w]
    assert list(report.channels) == ["general"] and "C0OPS" not in store.cache(CHECKPOINTS)
    assert not (tmp_path / "ops").exists() and (tmp_path / "general").is_dir()


def test_a_refused_token_is_a_clear_error(stub: tuple[StubSlack, str], tmp_path: Path) -> None:
    slack, base_url = stub
    slack.use("revoked")
    with pytest.raises(SlackPullError, match="invalid_auth"):
        pull_slack(SlackSettings(channels=["general"]), MemoryStore(), tmp_path, now=PULL1_NOW, client=make_client("x", base_url))


def test_no_token_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("MY_SLACK_TOKEN", raising=False)
    with pytest.raises(SlackPullError, match="MY_SLACK_TOKEN"):
        pull_slack(SlackSettings(token_env="MY_SLACK_TOKEN", channels=["general"]), MemoryStore(), tmp_path)


def test_cli_pull_slack_reads_the_token_from_the_env_and_writes_an_export(
    stub: tuple[StubSlack, str], waits: list[float], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline.cli import main

    slack, base_url = stub
    slack.use("pull1")
    (tmp_path / "practice.toml").write_text(
        f'[slack]\ntoken_env = "TEST_SLACK_TOKEN"\nchannels = ["general"]\nfolder = "live"\nbase_url = "{base_url}"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("PRACTICE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TEST_SLACK_TOKEN", "xoxb-from-env")
    result = CliRunner().invoke(main, ["pull", "slack", "--config", str(tmp_path / "practice.toml"), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["channels"] == {"general": 6}  # 4 in history (a join among them), 2 replies
    assert (tmp_path / "live" / "channels.json").is_file() and (tmp_path / "live" / "general" / "2023-11-14.json").is_file()
    assert "xoxb-from-env" not in (tmp_path / "practice.toml").read_text() + result.output
    ingested = CliRunner().invoke(main, ["ingest", str(tmp_path / "live"), "--json"])
    assert ingested.exit_code == 0, ingested.output
    report = json.loads(ingested.output)
    # one Slack source; the channel_join event is not a passage
    assert report["counts"]["new"] == 1 and report["passages_written"] == 5
    assert [s["format"] for s in report["sources"]] == ["slack"]


def test_merge_replaces_a_message_fetched_again_and_keeps_day_files_in_time_order() -> None:
    from pipeline.sources.slack_live import merge_into_export

    existing = {"general/2023-11-14.json": [{"ts": "1700000300.000300", "text": "b"}, {"ts": "1700000100.000100", "text": "a"}]}
    fetched = [
        {"ts": "1700000100.000100", "text": "a, edited", "edited": {"user": "U1", "ts": "1700000150.0"}},
        {"ts": "1700000200.000200", "text": "new"},
        {"ts": "1700086400.000000", "text": "next day"},  # 2023-11-15 22:13:20 UTC
    ]
    merged = merge_into_export(existing, "general", fetched)
    assert sorted(merged) == ["general/2023-11-14.json", "general/2023-11-15.json"]
    assert [m["text"] for m in merged["general/2023-11-14.json"]] == ["a, edited", "new", "b"]


def test_an_unreadable_stored_checkpoint_starts_the_channel_afresh() -> None:
    from pipeline.sources.slack_live import ChannelCheckpoint

    assert ChannelCheckpoint.from_json(["not", "a", "dict"]) == ChannelCheckpoint()
    assert ChannelCheckpoint.from_json({"newest": "yesterday", "threads": {"1.0": "2.0", "3.0": "soon"}}) == ChannelCheckpoint(
        newest=None, threads={"1.0": "2.0"}
    )
