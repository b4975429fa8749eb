"""Chat exports in JSON: Discord (DiscordChatExporter) and Matrix/Element ("Export chat" as JSON).

**Discord** (one channel or thread a file)::

    {"guild": {"name": ...}, "channel": {"id", "type", "name", "category"},
     "messages": [{"id", "type": "Default"|"Reply"|..., "timestamp", "content",
                   "author": {"name", "nickname", "isBot"}, "reactions": [{"emoji": {"name"}, "count"}],
                   "reference": {"messageId"}, "mentions": [{"id", "name", "nickname"}]}]}

A reply's `reference.messageId` becomes its `reply_to`, and threads are the reply chains
(`jsonl_threads.resolve_threads`); a file exported from a thread channel (`type` ending in
"Thread") is one thread named after the channel. System messages (joins, pins, "thread created")
and bots (unless asked for) are skipped; `<@id>` mentions are written as `@name`.

**Matrix** (Element)::

    {"room_name", "topic", "messages": [{"type": "m.room.message", "event_id", "sender",
     "origin_server_ts", "content": {"msgtype", "body", "m.relates_to": {...}}}]}

`m.relates_to` gives the structure: `rel_type: "m.thread"` puts a message in the thread of its
root event, `m.in_reply_to` makes it a reply (its quoted fallback, the leading `> ` lines, is
dropped); `m.reaction` events count on their target; an edit (`m.replace`) replaces the text of
the message it edits; state events (joins, topic changes) are skipped. The author is the sender's
user name (`@ana:matrix.org` → `ana`).
"""

from __future__ import annotations

import json
import re
from pathlib import PurePosixPath
from typing import Any

from pipeline.models import PassageDraft, PassageKind, SourceKind
from pipeline.sources.base import Bundle, Parsed, ParseOptions, SourceError, decode_text
from pipeline.sources.jsonl_threads import parse_timestamp, resolve_threads

_DISCORD_KEPT = frozenset({"Default", "Reply", "ThreadStarterMessage"})
_MENTION = re.compile(r"<@!?(\d+)>")
_MATRIX_TEXT = frozenset({"m.text", "m.notice", "m.emote"})


def _load_json(bundle: Bundle, warnings: list[str] | None = None) -> Any:
    try:
        return json.loads(decode_text(bundle.read(""), "file", warnings))
    except json.JSONDecodeError as exc:
        raise SourceError(f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None


def _json_head(bundle: Bundle) -> bytes:
    """The first 4 KiB of a single .json file (b"" for anything else): enough to sniff an export."""
    try:
        if bundle.members() != [""] or PurePosixPath(bundle.name.replace("\\", "/")).suffix.lower() != ".json":
            return b""
        return bundle.read("")[:4096]
    except (SourceError, OSError):
        return b""


def _finish(drafts: list[PassageDraft], explicit: dict[str, str | None], kind_name: str) -> list[PassageDraft]:
    """Set every draft's thread from its reply chain (or its explicit thread)."""
    if not drafts:
        raise SourceError(f"no {kind_name} messages with text in the export")
    threads = resolve_threads({d.message_id: d.reply_to for d in drafts}, explicit)
    for d in drafts:
        d.thread_id = threads[d.message_id]
    return drafts


class DiscordParser:
    """DiscordChatExporter JSON: one channel or thread, replies, reactions."""

    name = "discord"
    kind = SourceKind.thread
    version = "1"

    def sniff(self, bundle: Bundle) -> bool:
        """A single .json file with `channel` and `messages` near its start."""
        head = _json_head(bundle)
        return b'"channel"' in head and b'"messages"' in head and b'"guild"' in head

    def parse(self, bundle: Bundle, options: ParseOptions) -> Parsed:
        """Messages with replies as reply_to; a thread channel's messages share one thread."""
        warnings: list[str] = []
        data = _load_json(bundle, warnings)
        if not isinstance(data, dict) or not isinstance(data.get("messages"), list):
            raise SourceError("not a DiscordChatExporter JSON export: no 'messages' list")
        channel = data.get("channel") if isinstance(data.get("channel"), dict) else {}
        in_thread = str(channel.get("type", "")).endswith("Thread")
        names = {str(m.get("id")): _display(m) for msg in data["messages"] if isinstance(msg, dict)
                 for m in msg.get("mentions") or [] if isinstance(m, dict)}  # fmt: skip
        drafts: list[PassageDraft] = []
        skipped = {"system": 0, "bot": 0, "empty": 0}
        for k, msg in enumerate(data["messages"]):
            if not isinstance(msg, dict) or not msg.get("id"):
                warnings.append(f"message {k}: not a message object with an id; skipped")
                continue
            author = msg.get("author") if isinstance(msg.get("author"), dict) else {}
            if msg.get("type", "Default") not in _DISCORD_KEPT:
                skipped["system"] += 1
                continue
            if author.get("isBot") and not options.include_bots:
                skipped["bot"] += 1
                continue
            text = _MENTION.sub(lambda m: "@" + names.get(m.group(1), m.group(1)), str(msg.get("content") or "")).strip()
            if not text:
                skipped["empty"] += 1  # an attachment or embed alone
                continue
            drafts.append(self._draft(msg, k, text, author, channel, warnings))
        for what, n in skipped.items():
            if n:
                warnings.append(f"{n} {what} message(s) skipped")
        thread = str(channel.get("id")) if in_thread and channel.get("id") else None
        return Parsed(self.kind, self.name, _finish(drafts, {d.message_id: thread for d in drafts}, "Discord"), warnings)

    @staticmethod
    def _draft(msg: dict, k: int, text: str, author: dict, channel: dict, warnings: list[str]) -> PassageDraft:
        timestamp = None
        try:
            timestamp = parse_timestamp(msg["timestamp"]) if msg.get("timestamp") else None
        except ValueError as exc:
            warnings.append(f"message {msg['id']}: timestamp not understood ({exc}); left empty")
        reference = msg.get("reference") if isinstance(msg.get("reference"), dict) else {}
        reactions = {
            str((r.get("emoji") or {}).get("name")): int(r.get("count") or 0)
            for r in msg.get("reactions") or [] if isinstance(r, dict) and isinstance(r.get("emoji"), dict)
        }  # fmt: skip
        extra = {key: channel[key] for key in ("name", "category") if isinstance(channel.get(key), str)}
        extra = {("channel" if key == "name" else key): value for key, value in extra.items()}
        return PassageDraft(
            kind=PassageKind.message, text=text, author=_display(author) or None, timestamp=timestamp,
            message_id=str(msg["id"]), reply_to=str(reference["messageId"]) if reference.get("messageId") else None,
            reactions=reactions, extra=extra,
        )  # fmt: skip


def _display(person: dict) -> str:
    return str(person.get("nickname") or person.get("name") or "").strip()


class MatrixParser:
    """Matrix room exported by Element as JSON: threads, replies, reactions, edits."""

    name = "matrix"
    kind = SourceKind.thread
    version = "1"

    def sniff(self, bundle: Bundle) -> bool:
        """A single .json file with `messages` of Matrix events (`event_id`, `origin_server_ts`)."""
        head = _json_head(bundle)
        return b'"messages"' in head and (b'"room_name"' in head or b'"origin_server_ts"' in head)

    def parse(self, bundle: Bundle, options: ParseOptions) -> Parsed:
        """Room messages with Matrix threads and replies; reactions and edits applied."""
        warnings: list[str] = []
        data = _load_json(bundle, warnings)
        events = data.get("messages") if isinstance(data, dict) else None
        if not isinstance(events, list):
            raise SourceError("not a Matrix/Element JSON export: no 'messages' list of events")
        events = [e for e in events if isinstance(e, dict) and e.get("event_id")]
        reactions: dict[str, dict[str, int]] = {}
        edits: dict[str, str] = {}
        for e in events:
            rel = _relation(e)
            if e.get("type") == "m.reaction" and rel.get("event_id") and rel.get("key"):
                counts = reactions.setdefault(rel["event_id"], {})
                counts[rel["key"]] = counts.get(rel["key"], 0) + 1
            elif rel.get("rel_type") == "m.replace" and rel.get("event_id"):
                new = (e.get("content") or {}).get("m.new_content") or {}
                if isinstance(new.get("body"), str):
                    edits[rel["event_id"]] = new["body"]  # the last edit wins
        drafts: list[PassageDraft] = []
        explicit: dict[str, str | None] = {}
        for e in events:
            content = e.get("content") if isinstance(e.get("content"), dict) else {}
            rel = _relation(e)
            if e.get("type") != "m.room.message" or content.get("msgtype") not in _MATRIX_TEXT:
                continue
            if rel.get("rel_type") == "m.replace":
                continue  # applied to the message it edits
            reply = (rel.get("m.in_reply_to") or {}).get("event_id")
            text = edits.get(e["event_id"], content.get("body") or "")
            text = _drop_reply_fallback(text) if reply else text
            if not isinstance(text, str) or not text.strip():
                continue
            explicit[e["event_id"]] = rel["event_id"] if rel.get("rel_type") == "m.thread" else None
            timestamp = None
            if isinstance(e.get("origin_server_ts"), (int, float)):
                timestamp = parse_timestamp(e["origin_server_ts"] / 1000)
            drafts.append(
                PassageDraft(
                    kind=PassageKind.message, text=text.strip(), author=_localpart(e.get("sender")),
                    timestamp=timestamp, message_id=e["event_id"], reply_to=reply,
                    reactions=reactions.get(e["event_id"], {}),
                    extra={"channel": data["room_name"]} if isinstance(data.get("room_name"), str) else {},
                )
            )  # fmt: skip
        return Parsed(self.kind, self.name, _finish(drafts, explicit, "Matrix"), warnings)


def _relation(event: dict) -> dict:
    content = event.get("content") if isinstance(event.get("content"), dict) else {}
    rel = content.get("m.relates_to")
    return rel if isinstance(rel, dict) else {}


def _drop_reply_fallback(body: str) -> str:
    """A Matrix reply's body without the quoted original it starts with (`> <@ana:x> ...`)."""
    lines = body.split("\n")
    k = 0
    while k < len(lines) and lines[k].startswith(">"):
        k += 1
    return "\n".join(lines[k:]).strip() if k else body


def _localpart(sender: Any) -> str | None:
    if not isinstance(sender, str) or not sender:
        return None
    return sender[1:].split(":", 1)[0] if sender.startswith("@") else sender


PARSERS: list = [DiscordParser(), MatrixParser()]
