"""Live Slack: pull channels and threads through the Web API, incrementally, into export form.

The pull does not make passages itself: it returns the messages as Slack's API gives them,
and `merge_into_export` files them into day files of the layout Slack's "Export data"
writes (`<channel>/YYYY-MM-DD.json`, users.json, channels.json). That folder is then read by
`SlackExportParser` like any export, so there is one message → passage implementation.

Incremental by a checkpoint per channel: the newest top-level ts seen (history is asked only
for what is newer) and the threads still active — a thread whose latest reply is newer than
`active_days` is re-fetched on every pull, because a reply to an old root never shows up in a
channel's history. The client is anything with slack_sdk's `WebClient` methods
(`conversations_list`, `conversations_history`, `conversations_replies`, `users_list`)
returning dict-like responses; rate limits are the client's business (see `pipeline/slack_pull.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pipeline.sources.slack import _TS, _ts_key, ts_to_iso

PAGE_SIZE = 200  # Slack's recommended page size for history and lists


@dataclass
class ChannelCheckpoint:
    """How far one channel has been pulled: its newest top-level ts and its active threads."""

    newest: str | None = None
    threads: dict[str, str] = field(default_factory=dict)  # root ts -> latest reply ts

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict (the shape stored between pulls)."""
        return {"newest": self.newest, "threads": dict(self.threads)}

    @classmethod
    def from_json(cls, data: Any) -> ChannelCheckpoint:
        """Read a stored checkpoint; anything unreadable starts the channel afresh."""
        if not isinstance(data, dict):
            return cls()
        newest = data.get("newest") if _TS.match(str(data.get("newest", ""))) else None
        threads = data.get("threads") if isinstance(data.get("threads"), dict) else {}
        return cls(newest=newest, threads={str(k): str(v) for k, v in threads.items() if _TS.match(str(v))})


@dataclass
class Pull:
    """What one pull fetched: messages by channel name, the directory, new checkpoints, problems."""

    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # channel name -> messages
    users: list[dict[str, Any]] = field(default_factory=list)
    channels: list[dict[str, Any]] = field(default_factory=list)  # {"id", "name"} of pulled channels
    checkpoints: dict[str, ChannelCheckpoint] = field(default_factory=dict)  # channel id -> checkpoint
    threads_fetched: int = 0
    warnings: list[str] = field(default_factory=list)


def _pages(call: Callable[..., Any], key: str, **params: Any) -> Iterator[dict[str, Any]]:
    """Every item of a cursor-paginated Web API method."""
    cursor: str | None = None
    while True:
        response = call(**params, limit=PAGE_SIZE, **({"cursor": cursor} if cursor else {}))
        yield from (item for item in response.get(key) or [] if isinstance(item, dict))
        cursor = (response.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return


def _resolve_channels(client: Any, wanted: list[str], warnings: list[str]) -> list[dict[str, Any]]:
    """The configured channels (by name, "#name" or id) as {"id", "name"}; unknown ones warned about."""
    listed = list(_pages(client.conversations_list, "channels", types="public_channel,private_channel", exclude_archived=True))
    by_key = {c["id"]: c for c in listed if isinstance(c.get("id"), str)}
    by_key.update({c["name"]: c for c in listed if isinstance(c.get("name"), str)})
    found = []
    for raw in wanted:
        channel = by_key.get(raw.lstrip("#"))
        if channel is None:
            warnings.append(f"channel {raw!r}: not found among the channels this token can list; skipped")
        else:
            found.append({"id": channel["id"], "name": channel.get("name") or channel["id"]})
    return found


def _is_active(latest_reply: str, now: float, active_days: float) -> bool:
    return _ts_key(latest_reply) >= Decimal(str(now - active_days * 86400))


def _pull_channel(
    client: Any, channel_id: str, old: ChannelCheckpoint, now: float, active_days: float
) -> tuple[list[dict[str, Any]], ChannelCheckpoint, int]:
    """New history since the checkpoint plus every new or still-active thread, and the next checkpoint."""
    params: dict[str, Any] = {"channel": channel_id}
    if old.newest:
        params["oldest"] = old.newest  # exclusive: only what is newer
    history = [m for m in _pages(client.conversations_history, "messages", **params) if _TS.match(str(m.get("ts", "")))]
    roots = {m["ts"] for m in history if m.get("reply_count") or m.get("latest_reply")}
    roots |= {ts for ts, latest in old.threads.items() if _is_active(latest, now, active_days)}

    fetched = list(history)
    threads: dict[str, str] = {}
    for root in sorted(roots, key=_ts_key):
        replies = [m for m in _pages(client.conversations_replies, "messages", channel=channel_id, ts=root) if _TS.match(str(m.get("ts", "")))]
        fetched.extend(replies)
        latest = max((m["ts"] for m in replies), key=_ts_key, default=root)
        if _is_active(latest, now, active_days):
            threads[root] = latest  # still worth a look next time
    newest = max([m["ts"] for m in history] + ([old.newest] if old.newest else []), key=_ts_key, default=None)
    return fetched, ChannelCheckpoint(newest=newest, threads=threads), len(roots)


def pull(
    client: Any,
    channels: list[str],
    checkpoints: dict[str, ChannelCheckpoint],
    now: float,
    active_days: float = 7,
    on_error: type[Exception] | tuple[type[Exception], ...] = (),
) -> Pull:
    """Pull the named channels since their checkpoints (channel id -> checkpoint).

    `on_error`: the client's API error type(s); such an error on one channel (not_in_channel,
    missing scope...) becomes a warning naming it and the other channels are still pulled.
    """
    result = Pull()
    result.channels = _resolve_channels(client, channels, result.warnings)
    result.users = list(_pages(client.users_list, "members"))
    for channel in result.channels:
        old = checkpoints.get(channel["id"], ChannelCheckpoint())
        try:
            messages, checkpoint, n_threads = _pull_channel(client, channel["id"], old, now, active_days)
        except on_error as exc:  # type: ignore[misc]
            result.warnings.append(f"channel #{channel['name']} ({channel['id']}): {exc}; kept its old checkpoint")
            continue
        result.messages[channel["name"]] = messages
        result.checkpoints[channel["id"]] = checkpoint
        result.threads_fetched += n_threads
    return result


def day_of(ts: str) -> str:
    """The UTC day a Slack ts falls on, as the export names its day files (YYYY-MM-DD)."""
    return ts_to_iso(ts)[:10]


def merge_into_export(
    day_files: dict[str, list[dict[str, Any]]], channel: str, messages: list[dict[str, Any]]
) -> dict[str, list[dict[str, Any]]]:
    """Day files ("<channel>/YYYY-MM-DD.json" -> messages) with `messages` merged in; only changed files.

    A message already there (same ts) is replaced by the newer copy (an edit, a root whose reply
    count grew); each file stays in time order. `day_files` holds the existing files to merge into.
    """
    changed: dict[str, dict[str, dict[str, Any]]] = {}
    for msg in messages:
        member = f"{channel}/{day_of(msg['ts'])}.json"
        if member not in changed:
            changed[member] = {m["ts"]: m for m in day_files.get(member, []) if isinstance(m, dict) and "ts" in m}
        changed[member][msg["ts"]] = msg
    return {member: sorted(by_ts.values(), key=lambda m: _ts_key(m["ts"])) for member, by_ts in changed.items()}
