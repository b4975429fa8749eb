"""Generic JSONL threads ("jsonl-thread"): the way in for any chat or forum we have no parser for.

A `.jsonl` (or `.ndjson`) file, UTF-8, one JSON object per line, one message per object::

    {"id": "m1", "thread": "t1", "author": "ana", "timestamp": "2024-03-01T09:00:00Z",
     "text": "How do you run retros with a remote team?", "title": "Remote retros", "channel": "agile"}
    {"id": "m2", "reply_to": "m1", "author": "ben", "timestamp": 1709283600,
     "text": "We use a shared board and timebox each column.", "reactions": {"+1": 3},
     "score": 5, "accepted": true}

Fields:

- `text` (required): the message body, a non-empty string.
- `id`: the message's id (string or number). Without it the message is called `line:<n>`.
- `thread`: the id of the thread, usually its root message. A message without it takes the
  thread of its `reply_to` target; if that target is not in the file, the `reply_to` id
  itself (the nearest known ancestor); with no `reply_to` either, it starts its own thread.
- `reply_to`: the id of the message this one answers.
- `author`: who wrote it.
- `timestamp`: ISO 8601 (a time without a zone is taken as UTC) or epoch seconds (number).
- `reactions`: {name: count}. `score`: votes (integer). `accepted`: accepted-answer flag.
- `title`, `channel`: kept in the passage's `extra`.

Other keys are ignored. Recognised by extension plus a first line that is an object with a
string `text`, the one required field (QMSum's JSONL, which has `meeting_transcripts`,
belongs to the transcript parser). A line that is not a valid
message is skipped with a warning naming its line number; a file with no valid line fails.
"""

from __future__ import annotations

import codecs
import json
from datetime import datetime, timezone
from typing import Any

from pipeline.models import PassageDraft, PassageKind, SourceKind
from pipeline.sources.base import Bundle, ParseOptions, Parsed, SourceError, decode_text

_EXTENSIONS = (".jsonl", ".ndjson")
_MAX_WARNINGS = 50  # a wholly wrong file should not produce one warning per line
_WALKING = "\x00walking"  # not an id: ids are stripped, non-empty strings from JSON


def _first_object(data: bytes) -> Any:
    """The first non-empty line parsed as JSON, or None when it is not JSON at all."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    for line in data.splitlines():
        if line.strip():
            try:
                return json.loads(decode_text(line))
            except (SourceError, json.JSONDecodeError):
                return None
    return None


def parse_timestamp(value: Any) -> str:
    """ISO 8601 string or epoch seconds → ISO 8601 UTC; ValueError if it is neither."""
    if isinstance(value, bool):
        raise ValueError("a boolean is not a time")
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, tz=timezone.utc).isoformat()
    if isinstance(value, str):
        moment = datetime.fromisoformat(value.strip())
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        return moment.isoformat()
    raise ValueError(f"expected an ISO 8601 string or epoch seconds, got {type(value).__name__}")


def _id(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (str, int)):
        text = str(value).strip()
        return text or None
    return None


def resolve_threads(parent: dict[str, str | None], explicit: dict[str, str | None]) -> dict[str, str]:
    """The thread of every message, in time linear in the number of messages.

    `parent` maps each message id in the file to its `reply_to` (or None), `explicit` to its own
    `thread` field (or None). A message takes the first explicit thread on its way up the reply
    chain; a chain that leaves the file ends at the id outside it (the nearest known ancestor);
    a chain with neither ends at its root. A message whose chain runs into a reply cycle before
    any of that is its own thread (bad data must not hang the run or merge unrelated messages).

    Each message is walked over once: a walk stops at the first message already resolved and
    hands its answer down the path it took, so a 1M-deep chain costs 1M steps, not 1M²/2.
    """
    resolved: dict[str, str | None] = {}  # None: the chain runs into a cycle
    path: list[str] = []
    for start in parent:
        if start in resolved:
            continue
        current: str | None = start
        answer: str | None
        while True:
            if current in resolved:
                # _WALKING marks this walk's own path: meeting it again means a cycle
                answer = resolved[current]
                answer = None if answer is _WALKING else answer
                break
            if current not in parent:
                answer = current  # a target outside the file
                break
            path.append(current)
            if explicit.get(current):
                answer = explicit[current]
                break
            resolved[current] = _WALKING
            current = parent[current]
            if not current:
                answer = path[-1]  # the root of its chain
                break
        for mid in path:
            resolved[mid] = answer
        path.clear()
    return {mid: resolved[mid] or mid for mid in parent}


class JsonlThreadParser:
    """One JSON message per line → message passages with thread structure."""

    name = "jsonl-thread"
    kind = SourceKind.thread
    version = "1"

    def sniff(self, bundle: Bundle) -> bool:
        """A single .jsonl/.ndjson file whose first line looks like a message (an object with `text`).

        A first line that is not JSON at all is claimed too, so a broken thread file fails
        with the line that is wrong instead of "unsupported format".
        """
        if bundle.members() != [""] or not bundle.name.lower().endswith(_EXTENSIONS):
            return False
        data = bundle.read("")
        first = _first_object(data)
        if first is None:
            return bool(data.strip())
        # Only `text` is required (README): `{"id": 1, "text": "..."}` alone is a message.
        return isinstance(first, dict) and isinstance(first.get("text"), str) and "meeting_transcripts" not in first

    def parse(self, bundle: Bundle, options: ParseOptions) -> Parsed:
        """Read each line into a message; resolve threads through `reply_to` where `thread` is absent."""
        warnings: list[str] = []
        text = decode_text(bundle.read(""), what=bundle.name, warnings=warnings)
        skipped = 0

        def skip(lineno: int, reason: str) -> None:
            nonlocal skipped
            skipped += 1
            if skipped <= _MAX_WARNINGS:
                warnings.append(f"line {lineno}: {reason}; skipped")

        rows: list[tuple[str, dict[str, Any], PassageDraft]] = []
        seen: set[str] = set()
        lines = text.splitlines()
        for lineno, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                skip(lineno, f"not valid JSON ({exc.msg})")
                continue
            if not isinstance(obj, dict):
                skip(lineno, "not a JSON object")
                continue
            body = obj.get("text")
            if not isinstance(body, str) or not body.strip():
                skip(lineno, "no text")
                continue
            mid = _id(obj.get("id")) or f"line:{lineno}"
            if mid in seen:
                skip(lineno, f"duplicate id {mid!r}")
                continue
            seen.add(mid)
            draft = self._draft(lineno, mid, obj, body, warnings)
            rows.append((mid, obj, draft))

        if skipped > _MAX_WARNINGS:
            warnings.append(f"... {skipped - _MAX_WARNINGS} more bad lines skipped")
        if not rows:
            if not any(line.strip() for line in lines):
                raise SourceError("empty file: no JSONL messages")
            raise SourceError(f"no valid JSONL messages ({warnings[0]})")

        explicit = {mid: _id(obj.get("thread")) for mid, obj, _ in rows}
        parent = {mid: draft.reply_to for mid, _, draft in rows}
        threads = resolve_threads(parent, explicit)

        passages = []
        for mid, _, draft in rows:
            draft.thread_id = threads[mid]
            passages.append(draft)
        return Parsed(kind=self.kind, format=self.name, passages=passages, warnings=warnings)

    def _draft(self, lineno: int, mid: str, obj: dict[str, Any], body: str, warnings: list[str]) -> PassageDraft:
        timestamp = None
        if obj.get("timestamp") is not None:
            try:
                timestamp = parse_timestamp(obj["timestamp"])
            except (ValueError, OverflowError, OSError) as exc:
                warnings.append(f"line {lineno}: timestamp {obj['timestamp']!r} not understood ({exc}); left empty")
        reactions: dict[str, int] = {}
        raw_reactions = obj.get("reactions")
        if isinstance(raw_reactions, dict):
            reactions = {
                str(k): v for k, v in raw_reactions.items() if isinstance(v, int) and not isinstance(v, bool)
            }
        elif raw_reactions is not None:
            warnings.append(f"line {lineno}: reactions should be an object {{name: count}}; ignored")
        score = obj.get("score")
        accepted = obj.get("accepted")
        author = obj.get("author")
        extra = {key: obj[key] for key in ("title", "channel") if isinstance(obj.get(key), str)}
        reply_to = _id(obj.get("reply_to"))
        return PassageDraft(
            kind=PassageKind.message,
            text=body.strip(),
            author=str(author) if isinstance(author, (str, int)) and not isinstance(author, bool) else None,
            timestamp=timestamp,
            message_id=mid,
            reply_to=reply_to if reply_to != mid else None,
            reactions=reactions,
            score=score if isinstance(score, int) and not isinstance(score, bool) else None,
            accepted=accepted if isinstance(accepted, bool) else None,
            extra=extra,
        )


PARSERS: list = [JsonlThreadParser()]
