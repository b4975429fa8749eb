"""Slack workspace export: a folder or .zip with users.json, channels.json and day files.

Layout (as Slack's "Export data" writes it, possibly under one top folder inside a zip)::

    users.json  channels.json  [groups.json dms.json mpims.json]
    general/2019-01-01.json    <- a JSON list of message objects
    general/2019-01-02.json
    random/2019-01-01.json

Each human message becomes one passage. Threads are kept through Slack's `thread_ts`:
`thread_id` is "<channel>:<root ts>" and a reply's `reply_to` is the root's message id.
System events (joins, topic changes, pins...), deleted messages and, unless asked for,
bot messages are left out. A broken day file is skipped with a warning naming it; the
rest of the export still ingests.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from pipeline.models import PassageDraft, PassageKind, SourceKind
from pipeline.sources.base import Bundle, ParseOptions, Parsed, SourceError, decode_text

_DAY_FILE = re.compile(r"^(?P<channel>[^/]+)/(?P<day>\d{4}-\d{2}-\d{2})\.json$")
_TS = re.compile(r"^\d+(\.\d+)?$")
_CHANNEL_LISTS = ("channels.json", "groups.json", "dms.json", "mpims.json")

# Subtypes that carry something a person wrote; every other subtype is a system event
# (channel_join, channel_topic, pinned_item, bot_add, huddle_thread...). A whitelist,
# because Slack keeps inventing new event subtypes and none of them is practice knowledge.
_HUMAN_SUBTYPES = {None, "", "thread_broadcast", "reply_broadcast", "file_share", "me_message", "file_comment"}
_DELETED_SUBTYPES = {"tombstone", "message_deleted"}

# <@U123>, <@U123|name>, <#C123|general>, <!here>, <http://x|label>, <mailto:a@b|a@b>
_TOKEN = re.compile(r"<([^<>]+)>")


@dataclass
class _Export:
    """What the metadata files of an export say: where it starts and who/what ids name."""

    root: str  # "" or "top/" inside a zip
    users: dict[str, str] = field(default_factory=dict)  # user id -> display name
    channels: dict[str, str] = field(default_factory=dict)  # channel id -> name
    warnings: list[str] = field(default_factory=list)


def _find_root(members: list[str]) -> str | None:
    """The folder holding channels.json (the export root), shallowest first, or None."""
    roots = sorted(
        (m[: -len("channels.json")] for m in members if m == "channels.json" or m.endswith("/channels.json")),
        key=lambda r: r.count("/"),
    )
    for root in roots:
        if root.count("/") > 1:
            break  # deeper than one folder: not an export layout we recognise
        if any(_DAY_FILE.match(m[len(root) :]) for m in members if m.startswith(root)):
            return root
    return None


def ts_to_iso(ts: str) -> str:
    """Slack's "1546232817.053700" (epoch seconds as a string) as ISO 8601 UTC.

    Split rather than float() so microseconds survive exactly.
    """
    seconds, _, fraction = ts.partition(".")
    micros = int((fraction + "000000")[:6]) if fraction else 0
    moment = datetime.fromtimestamp(int(seconds), tz=timezone.utc) + timedelta(microseconds=micros)
    return moment.isoformat()


def _ts_key(ts: str) -> Decimal:
    try:
        return Decimal(ts)
    except InvalidOperation:
        return Decimal(0)


def _name_of(entry: dict[str, Any]) -> str | None:
    """Display name, else real name, else handle, from a users.json entry or a user_profile."""
    profile = entry.get("profile") if isinstance(entry.get("profile"), dict) else {}
    for value in (
        profile.get("display_name"),
        entry.get("display_name"),
        profile.get("real_name"),
        entry.get("real_name"),
        entry.get("name"),
    ):
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _load_json(bundle: Bundle, member: str, warnings: list[str]) -> Any:
    """A member parsed as JSON; SourceError with the reason (the caller names the member)."""
    text = decode_text(bundle.read(member), what="the file", warnings=warnings)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceError(f"not valid JSON ({exc.msg}: line {exc.lineno} column {exc.colno})") from None


def _read_metadata(bundle: Bundle, members: set[str], root: str) -> _Export:
    export = _Export(root=root)
    users_member = root + "users.json"
    if users_member in members:
        try:
            users = _load_json(bundle, users_member, export.warnings)
            if not isinstance(users, list):
                raise SourceError("not a list of users")
            for entry in users:
                if isinstance(entry, dict) and isinstance(entry.get("id"), str):
                    name = _name_of(entry)
                    if name:
                        export.users[entry["id"]] = name
        except SourceError as exc:
            export.warnings.append(f"{users_member}: {exc}; authors are shown as raw user ids")
    else:
        export.warnings.append("users.json is missing; authors are shown as raw user ids")
    for listing in _CHANNEL_LISTS:
        member = root + listing
        if member not in members:
            continue  # groups/dms/mpims are only in some exports
        try:
            channels = _load_json(bundle, member, export.warnings)
        except SourceError as exc:
            export.warnings.append(f"{member}: {exc}; channel mentions keep their ids")
            continue
        if not isinstance(channels, list):
            export.warnings.append(f"{member}: not a list of channels; channel mentions keep their ids")
            continue
        for entry in channels:
            if isinstance(entry, dict) and isinstance(entry.get("id"), str) and isinstance(entry.get("name"), str):
                export.channels[entry["id"]] = entry["name"]
    return export


def clean_text(text: str, users: dict[str, str], channels: dict[str, str]) -> str:
    """Slack markup as plain text: mentions by name, links with their label, entities unescaped."""

    def replace(match: re.Match[str]) -> str:
        body = match.group(1)
        target, _, label = body.partition("|")
        if target.startswith("@"):
            uid = target[1:]
            return "@" + (users.get(uid) or label or uid)
        if target.startswith("#"):
            cid = target[1:]
            return "#" + (label or channels.get(cid) or cid)
        if target.startswith("!"):
            # <!here>, <!channel>, <!subteam^S1|@team>, <!date^...|fallback text>
            if label:
                return label
            return "@" + target[1:].split("^", 1)[0]
        if target.startswith("mailto:"):
            return label or target[len("mailto:") :]
        if label and label != target and label != re.sub(r"^[a-z]+://", "", target):
            return f"{label} ({target})"
        return target

    # Tokens first: a literal "<" typed by a user is escaped as &lt;, so every real "<" is markup.
    resolved = _TOKEN.sub(replace, text)
    return resolved.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _rich_text(blocks: Any) -> str:
    """Plain text from rich_text blocks, for messages whose `text` field is empty."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "text" and isinstance(node.get("text"), str):
                parts.append(node["text"])
            for key in ("elements", "blocks"):
                walk(node.get(key))
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(blocks)
    return "".join(parts)


def _is_bot(msg: dict[str, Any]) -> bool:
    return msg.get("subtype") == "bot_message" or bool(msg.get("bot_id"))


class SlackExportParser:
    """Slack workspace export (folder or zip) → one message passage per human message."""

    name = "slack"
    kind = SourceKind.thread
    version = "1"

    def sniff(self, bundle: Bundle) -> bool:
        """channels.json at the root (or one folder deep) next to `<channel>/YYYY-MM-DD.json` files.

        A SourceError from listing the bundle (a zip bomb, a broken zip) is not swallowed:
        the user should see that reason, not "unsupported format".
        """
        members = bundle.members()
        if members == [""]:
            return False
        # channels.json alone is enough to claim it: an export with no readable day files
        # should fail as "Slack export has no messages", not as an unknown format.
        return _find_root(members) is not None or any(
            m.count("/") <= 1 and m.rsplit("/", 1)[-1] == "channels.json" for m in members
        )

    def parse(self, bundle: Bundle, options: ParseOptions) -> Parsed:
        """Read every day file of every channel into passages ordered by channel, then time."""
        members = bundle.members()
        root = _find_root(members)
        if root is None:
            raise SourceError("Slack export has no messages (no channels.json with <channel>/YYYY-MM-DD.json files)")
        member_set = set(members)
        export = _read_metadata(bundle, member_set, root)
        warnings = export.warnings

        raw: list[tuple[str, str, dict[str, Any]]] = []  # (day file, channel, message)
        for member in members:
            if not member.startswith(root):
                continue
            match = _DAY_FILE.match(member[len(root) :])
            if not match:
                continue
            try:
                day = _load_json(bundle, member, warnings)
            except SourceError as exc:
                warnings.append(f"{member}: skipped this day file, {exc}")
                continue
            if not isinstance(day, list):
                warnings.append(f"{member}: skipped this day file, not a JSON list of messages")
                continue
            bad = 0
            for msg in day:
                if isinstance(msg, dict) and isinstance(msg.get("ts"), str) and _TS.match(msg["ts"]):
                    raw.append((member, match.group("channel"), msg))
                else:
                    bad += 1
            if bad:
                warnings.append(f"{member}: skipped {bad} entries that are not messages with a ts")

        users = dict(export.users)
        for _, _, msg in raw:
            # Messages carry the author's profile; it names users missing from users.json.
            uid = msg.get("user")
            profile = msg.get("user_profile")
            if isinstance(uid, str) and uid not in users and isinstance(profile, dict):
                name = _name_of(profile)
                if name:
                    users[uid] = name

        # Keyed by (channel, ts) so an edit event replaces the message it edits.
        kept: dict[tuple[str, str], tuple[dict[str, Any], bool]] = {}
        deleted: set[tuple[str, str]] = set()
        for _, channel, msg in raw:
            subtype = msg.get("subtype")
            edited = bool(msg.get("edited"))
            if subtype == "message_changed":
                inner = msg.get("message")
                if not isinstance(inner, dict) or not _TS.match(str(inner.get("ts", ""))):
                    continue
                msg, subtype, edited = inner, inner.get("subtype"), True
            elif subtype == "message_deleted":
                if isinstance(msg.get("deleted_ts"), str):
                    deleted.add((channel, msg["deleted_ts"]))
                continue
            if subtype in _DELETED_SUBTYPES:
                continue
            if _is_bot(msg):
                if not options.include_bots:
                    continue
            elif subtype not in _HUMAN_SUBTYPES:
                continue
            if msg.get("hidden") and not edited:
                continue
            key = (channel, msg["ts"])
            if key in kept and not edited:
                continue  # a plain duplicate never overrides an edit already seen
            kept[key] = (msg, edited)

        passages: list[PassageDraft] = []
        for (channel, ts), (msg, edited) in sorted(kept.items(), key=lambda kv: (kv[0][0], _ts_key(kv[0][1]))):
            if (channel, ts) in deleted:
                continue
            draft = self._draft(channel, ts, msg, edited, users, export.channels)
            if draft is not None:
                passages.append(draft)

        if not passages:
            detail = f" ({len(warnings)} warnings: {warnings[0]})" if warnings else ""
            raise SourceError(f"Slack export has no messages{detail}")
        return Parsed(kind=self.kind, format=self.name, passages=passages, warnings=warnings)

    def _draft(
        self,
        channel: str,
        ts: str,
        msg: dict[str, Any],
        edited: bool,
        users: dict[str, str],
        channels: dict[str, str],
    ) -> PassageDraft | None:
        text = msg.get("text") if isinstance(msg.get("text"), str) else ""
        if not text.strip():
            text = _rich_text(msg.get("blocks"))
        text = clean_text(text, users, channels).strip()
        files = [
            f.get("name") or f.get("title")
            for f in msg.get("files") or []
            if isinstance(f, dict) and (f.get("name") or f.get("title"))
        ]
        if not text:
            return None  # nothing to search or quote (an image with no comment)

        bot = _is_bot(msg)
        uid = msg.get("user")
        if bot:
            bot_profile = msg.get("bot_profile") if isinstance(msg.get("bot_profile"), dict) else {}
            author = (
                msg.get("username") or bot_profile.get("name") or (users.get(uid) if isinstance(uid, str) else None) or msg.get("bot_id") or uid
            )
        elif isinstance(uid, str):
            author = users.get(uid, uid)
        else:
            author = None

        thread_ts = msg.get("thread_ts") if _TS.match(str(msg.get("thread_ts", ""))) else ts
        message_id = f"{channel}:{ts}"
        thread_id = f"{channel}:{thread_ts}"
        reactions: dict[str, int] = {}
        for reaction in msg.get("reactions") or []:
            if isinstance(reaction, dict) and isinstance(reaction.get("name"), str):
                count = reaction.get("count")
                if not isinstance(count, int):
                    count = len(reaction.get("users") or [])
                reactions[reaction["name"]] = count

        extra: dict[str, Any] = {"channel": channel, "edited": edited}
        if files:
            extra["files"] = files
        if bot:
            extra["bot"] = True
        if msg.get("subtype"):
            extra["subtype"] = msg["subtype"]
        return PassageDraft(
            kind=PassageKind.message,
            text=text,
            author=author,
            timestamp=ts_to_iso(ts),
            message_id=message_id,
            thread_id=thread_id,
            reply_to=thread_id if thread_ts != ts else None,
            reactions=reactions,
            extra=extra,
        )


PARSERS: list = [SlackExportParser()]
