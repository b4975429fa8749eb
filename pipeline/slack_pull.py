"""`practice pull slack`: the edges of a live Slack pull — token, client, folder and checkpoints.

The pulled messages are filed into a Slack-export folder (`[slack] folder`), which a `[[sources]]`
entry names so `practice run` reads it with the export parser. Checkpoints live in the store's
key-value table (namespace "slack-checkpoint", key = channel id), written only after the day
files: a pull that dies in between fetches the same messages again, and merging them is idempotent.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.settings import SlackSettings
from pipeline.sources.slack_live import ChannelCheckpoint, day_of, merge_into_export, pull

CHECKPOINTS = "slack-checkpoint"


class SlackPullError(Exception):
    """A pull that cannot start (no token, no channels configured, a token Slack refuses)."""


@dataclass
class PullReport:
    """What `practice pull slack` did, for the CLI and its --json."""

    folder: str
    channels: dict[str, int] = field(default_factory=dict)  # channel name -> distinct messages fetched
    threads_fetched: int = 0
    files_written: int = 0
    warnings: list[str] = field(default_factory=list)


def make_client(token: str, base_url: str | None = None, max_retries: int = 5) -> Any:
    """A slack_sdk WebClient that waits out HTTP 429 for the Retry-After the API asks for."""
    from slack_sdk import WebClient
    from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

    kwargs = {"base_url": base_url} if base_url else {}
    client = WebClient(token=token, **kwargs)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=max_retries))
    return client


def _write_json(path: Path, data: Any) -> None:
    # Write then rename, so an ingest running meanwhile never reads half a day file.
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(path)


def _read_list(path: Path, warnings: list[str]) -> list[Any]:
    if not path.is_file():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        warnings.append(f"{path}: unreadable ({exc}); rewritten from what this pull fetched")
        return []
    return data if isinstance(data, list) else []


def _merge_by_id(old: list[Any], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    merged = {e["id"]: e for e in old if isinstance(e, dict) and isinstance(e.get("id"), str)}
    merged.update({e["id"]: e for e in new if isinstance(e.get("id"), str)})
    return sorted(merged.values(), key=lambda e: e["id"])


def pull_slack(settings: SlackSettings, store: Any, folder: Path, now: float | None = None, client: Any = None) -> PullReport:
    """Pull the configured channels into `folder` (a Slack-export layout) and advance the checkpoints."""
    from slack_sdk.errors import SlackApiError

    if not settings.channels:
        raise SlackPullError("no channels to pull: set [slack] channels = [\"general\", ...] in practice.toml")
    if client is None:
        token = os.environ.get(settings.token_env, "").strip()
        if not token:
            raise SlackPullError(f"no Slack token: set the environment variable {settings.token_env} (a bot token, xoxb-...)")
        client = make_client(token, settings.base_url)
    saved = store.cache(CHECKPOINTS)
    checkpoints = {cid: ChannelCheckpoint.from_json(json.loads(raw)) for cid, raw in saved.items()}
    try:
        result = pull(client, settings.channels, checkpoints, now if now is not None else time.time(), settings.active_days, SlackApiError)
    except SlackApiError as exc:  # listing channels or users failed: nothing can be pulled
        error = exc.response.get("error") if exc.response is not None else exc
        needed = exc.response.get("needed") if exc.response is not None else None
        raise SlackPullError(f"Slack refused the pull: {error}" + (f" (the token needs the scope {needed})" if needed else "")) from None

    report = PullReport(folder=str(folder), threads_fetched=result.threads_fetched, warnings=list(result.warnings))
    for channel, messages in result.messages.items():
        report.channels[channel] = len({m["ts"] for m in messages})  # a thread root comes twice
        changed = merge_into_export(_existing_days(folder, channel, messages, report.warnings), channel, messages)
        for member, day in changed.items():
            _write_json(folder / member, day)
        report.files_written += len(changed)
    _write_json(folder / "users.json", _merge_by_id(_read_list(folder / "users.json", report.warnings), result.users))
    _write_json(folder / "channels.json", _merge_by_id(_read_list(folder / "channels.json", report.warnings), result.channels))
    for cid, checkpoint in result.checkpoints.items():
        saved[cid] = json.dumps(checkpoint.to_json())
    return report


def _existing_days(folder: Path, channel: str, messages: list[dict[str, Any]], warnings: list[str]) -> dict[str, list[Any]]:
    """The day files these messages fall into, as stored now."""
    members = {f"{channel}/{day_of(m['ts'])}.json" for m in messages}
    return {member: _read_list(folder / member, warnings) for member in members}
