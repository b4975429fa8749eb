"""Slack workspace export parser: a hand-written export, its zipped forms, bombs and a real channel."""

from __future__ import annotations

import calendar
import json
import re
import shutil
import xml.etree.ElementTree as ET
import zipfile
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from pipeline.models import PassageKind, SourceKind
from pipeline.sources.base import DirBundle, FileBundle, MemoryBundle, ParseOptions, SourceError, ZipBundle
from pipeline.sources.slack import PARSERS, SlackExportParser, clean_text, ts_to_iso

PARSER = SlackExportParser()


@pytest.fixture()
def export_dir(fixtures: Path) -> Path:
    return fixtures / "slack" / "export"


def _dump(passages: list[Any]) -> list[dict[str, Any]]:
    return [p.model_dump(mode="json", exclude_defaults=True) for p in passages]


def _zip_folder(folder: Path, target: Path, prefix: str = "") -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, prefix + path.relative_to(folder).as_posix())
    return target


def _bundle_of(files: dict[str, Any]) -> MemoryBundle:
    return MemoryBundle(
        "export", {k: v if isinstance(v, bytes) else json.dumps(v).encode() for k, v in files.items()}
    )


EXPECTED = [
    {
        "kind": "message",
        "text": "How do you run retros with a remote team? See #retros and #retros.",
        "author": "Alice",
        "timestamp": "2024-03-01T09:00:00.000100+00:00",
        "message_id": "general:1709283600.000100",
        "thread_id": "general:1709283600.000100",
        "reactions": {"+1": 2, "eyes": 1},
        "extra": {"channel": "general", "edited": False},
    },
    {
        "kind": "message",
        "text": "@Alice try this board (https://example.com/retro) & timebox it <3",
        "author": "Bob Builder",  # empty display_name falls back to real_name
        "timestamp": "2024-03-01T09:10:00.000200+00:00",
        "message_id": "general:1709284200.000200",
        "thread_id": "general:1709283600.000100",
        "reply_to": "general:1709283600.000100",
        "extra": {"channel": "general", "edited": False},
    },
    {
        "kind": "message",
        "text": "We rotate the facilitator every sprint.",
        "author": "carol",  # no profile names: the handle
        "timestamp": "2024-03-02T09:00:00.000100+00:00",
        "message_id": "general:1709370000.000100",
        "thread_id": "general:1709283600.000100",
        "reply_to": "general:1709283600.000100",
        "reactions": {"tada": 1},
        "extra": {"channel": "general", "edited": False},
    },
    {
        "kind": "message",
        "text": "Fixed link: https://example.com/guide",
        "author": "Alice",
        "timestamp": "2024-03-02T09:16:40.000200+00:00",
        "message_id": "general:1709371000.000200",
        "thread_id": "general:1709371000.000200",
        "extra": {"channel": "general", "edited": True},
    },
    {
        "kind": "message",
        "text": "Our template: http://x.org/t",
        "author": "Dave Doe",  # not in users.json: from the message's user_profile
        "timestamp": "2024-03-01T10:46:40.000100+00:00",
        "message_id": "retros:1709290000.000100",
        "thread_id": "retros:1709290000.000100",
        "extra": {"channel": "retros", "edited": False, "files": ["template.pdf"], "subtype": "file_share"},
    },
    {
        "kind": "message",
        "text": "Start, stop, continue",  # the message_changed text, not the typo
        "author": "Alice",
        "timestamp": "2024-03-01T11:03:20.000200+00:00",
        "message_id": "retros:1709291000.000200",
        "thread_id": "retros:1709291000.000200",
        "extra": {"channel": "retros", "edited": True},
    },
    {
        "kind": "message",
        "text": "@here retro notes are in team@example.com",
        "author": "U05",  # unknown everywhere: the raw id
        "timestamp": "2024-03-05T09:13:20.000200+00:00",
        "message_id": "retros:1709630000.000200",
        "thread_id": "retros:1709630000.000200",
        "extra": {"channel": "retros", "edited": False},
    },
]


def test_registered() -> None:
    assert [p.name for p in PARSERS] == ["slack"]
    assert PARSERS[0].kind == SourceKind.thread


def test_sniff(export_dir: Path, tmp_path: Path) -> None:
    assert PARSER.sniff(DirBundle(export_dir))
    assert not PARSER.sniff(FileBundle(export_dir / "users.json"))
    # channels.json without day files is still claimed: parse then says it has no messages
    assert PARSER.sniff(_bundle_of({"channels.json": [], "notes/readme.json": []}))
    with pytest.raises(SourceError, match="no messages"):
        PARSER.parse(_bundle_of({"channels.json": [], "notes/readme.json": []}), ParseOptions())
    assert not PARSER.sniff(_bundle_of({"a/b/channels.json": [], "a/b/general/2024-01-01.json": []}))
    assert PARSER.sniff(_bundle_of({"top/channels.json": [], "top/general/2024-01-01.json": []}))


def test_parse_fixture_exact(export_dir: Path) -> None:
    parsed = PARSER.parse(DirBundle(export_dir), ParseOptions())
    assert parsed.kind == SourceKind.thread
    assert parsed.format == "slack"
    assert _dump(parsed.passages) == EXPECTED
    # The join, topic, pin, tombstone and both bot messages are gone; the broken day is named.
    assert len(parsed.warnings) == 1
    assert "general/2024-03-03.json" in parsed.warnings[0]
    assert "not valid JSON" in parsed.warnings[0]


def test_include_bots(export_dir: Path) -> None:
    parsed = PARSER.parse(DirBundle(export_dir), ParseOptions(include_bots=True))
    bots = [p for p in parsed.passages if p.extra.get("bot")]
    assert [(b.author, b.text) for b in bots] == [
        ("deploybot", "Deploy finished"),
        ("Alice", "Reminder: retro at 3pm"),  # an app posting as a user: named after the user
    ]
    assert len(parsed.passages) == len(EXPECTED) + 2


@pytest.mark.parametrize("prefix", ["", "slack-export/"])
def test_zip_gives_same_passages(export_dir: Path, tmp_path: Path, prefix: str) -> None:
    archive = _zip_folder(export_dir, tmp_path / "export.zip", prefix)
    bundle = ZipBundle(archive)
    assert PARSER.sniff(bundle)
    parsed = PARSER.parse(bundle, ParseOptions())
    assert _dump(parsed.passages) == EXPECTED
    assert [w.replace(prefix, "", 1) for w in parsed.warnings] == PARSER.parse(
        DirBundle(export_dir), ParseOptions()
    ).warnings


def test_zip_bomb_refused(export_dir: Path, tmp_path: Path) -> None:
    archive = _zip_folder(export_dir, tmp_path / "bomb.zip")
    zeros = bytes(1024 * 1024)
    with zipfile.ZipFile(archive, "a", zipfile.ZIP_DEFLATED) as zf:
        # Streamed in 1 MB writes: 50 MB of zeros never sits in memory at once.
        with zf.open("general/2024-03-09.json", "w") as member:
            for _ in range(50):
                member.write(zeros)
    bundle = ZipBundle(archive)
    with pytest.raises(SourceError, match="bomb"):
        PARSER.sniff(bundle)
    with pytest.raises(SourceError, match="bomb"):
        PARSER.parse(bundle, ParseOptions())


def test_missing_users_json_uses_raw_ids(export_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "export"
    shutil.copytree(export_dir, folder)
    (folder / "users.json").unlink()
    parsed = PARSER.parse(DirBundle(folder), ParseOptions())
    assert [p.author for p in parsed.passages] == ["U01", "U02", "U03", "U01", "Dave Doe", "U01", "U05"]
    assert parsed.passages[1].text.startswith("@U01 try")
    assert any("users.json is missing" in w for w in parsed.warnings)


def test_optional_channel_lists_and_dms() -> None:
    bundle = _bundle_of(
        {
            "users.json": [{"id": "U1", "name": "ann"}],
            "channels.json": [],
            "groups.json": [{"id": "G1", "name": "leads"}],
            "dms.json": [{"id": "D1", "members": ["U1", "U2"]}],
            "D1/2024-01-01.json": [{"type": "message", "ts": "1704103200.000001", "user": "U1", "text": "see <#G1>"}],
        }
    )
    parsed = PARSER.parse(bundle, ParseOptions())
    assert _dump(parsed.passages) == [
        {
            "kind": "message",
            "text": "see #leads",
            "author": "ann",
            "timestamp": "2024-01-01T10:00:00.000001+00:00",
            "message_id": "D1:1704103200.000001",
            "thread_id": "D1:1704103200.000001",
            "extra": {"channel": "D1", "edited": False},
        }
    ]
    assert parsed.warnings == []


def test_day_file_not_a_list_is_skipped_with_warning() -> None:
    bundle = _bundle_of(
        {
            "users.json": [],
            "channels.json": [{"id": "C1", "name": "general"}],
            "general/2024-01-01.json": {"ts": "1704103200.000001", "text": "an object, not a list"},
            "general/2024-01-02.json": b"\xff\xfe\x00broken",
            "general/2024-01-03.json": [{"ts": "1704276000.000001", "user": "U9", "text": "still here"}],
        }
    )
    parsed = PARSER.parse(bundle, ParseOptions())
    assert [p.text for p in parsed.passages] == ["still here"]
    assert len(parsed.warnings) == 2
    assert "general/2024-01-01.json" in parsed.warnings[0] and "not a JSON list" in parsed.warnings[0]
    assert "general/2024-01-02.json" in parsed.warnings[1]


def test_message_deleted_event_removes_message() -> None:
    bundle = _bundle_of(
        {
            "users.json": [],
            "channels.json": [],
            "general/2024-01-01.json": [
                {"ts": "1704103200.000001", "user": "U1", "text": "oops"},
                {"ts": "1704103300.000001", "user": "U1", "text": "kept"},
                {"subtype": "message_deleted", "ts": "1704103400.000001", "deleted_ts": "1704103200.000001", "hidden": True},
            ],
        }
    )
    assert [p.text for p in PARSER.parse(bundle, ParseOptions()).passages] == ["kept"]


@pytest.mark.parametrize(
    "days",
    [
        {"general/2024-01-01.json": [{"subtype": "channel_join", "ts": "1704103200.000001", "user": "U1", "text": "<@U1> has joined"}]},
        {"general/2024-01-01.json": b"{not json"},
        {"general/2024-01-01.json": []},
    ],
)
def test_no_messages_is_an_error(days: dict[str, Any]) -> None:
    bundle = _bundle_of({"users.json": [], "channels.json": [], **days})
    with pytest.raises(SourceError, match="Slack export has no messages"):
        PARSER.parse(bundle, ParseOptions())


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("hi <@U1>", "hi @Ann"),
        ("hi <@U7|zed>", "hi @zed"),
        ("hi <@U7>", "hi @U7"),
        ("in <#C1|general> and <#C1> and <#C9>", "in #general and #general and #C9"),
        ("<http://x|label>", "label (http://x)"),
        ("<http://x>", "http://x"),
        ("<https://example.com|example.com>", "https://example.com"),
        ("<!channel> <!subteam^S1|@devs> <!date^1392734382^{date}|Feb 18, 2014>", "@channel @devs Feb 18, 2014"),
        ("a &amp; b &lt;tag&gt; &amp;lt;", "a & b <tag> &lt;"),
        ("```x -&gt; y```", "```x -> y```"),
    ],
)
def test_clean_text(raw: str, expected: str) -> None:
    assert clean_text(raw, {"U1": "Ann"}, {"C1": "general"}) == expected


def test_ts_to_iso_keeps_microseconds() -> None:
    assert ts_to_iso("1546232817.053700") == "2018-12-31T05:06:57.053700+00:00"
    assert ts_to_iso("1546232817") == "2018-12-31T05:06:57+00:00"


# --- integration: a real Slack channel -------------------------------------------------------


def _epoch_ts(iso: str) -> str:
    moment = datetime.fromisoformat(iso)  # the corpus times are UTC without a zone
    return f"{calendar.timegm(moment.timetuple())}.{moment.microsecond:06d}"


def test_real_racket_channel_as_export(corpus: Path, tmp_path: Path) -> None:
    """Parse a Slack export converted from real Racket #general messages.

    The corpus holds the channel as disentangled XML (`<message conversation_id>` with
    `<ts>`, `<user>`, `<text>`), not as an export, so the test converts it: users.json lists
    the distinct users (ids U0000..., the original name as display name, or for every other
    user only as real name), channels.json has the one channel "general", messages go into
    `general/YYYY-MM-DD.json` by date, and every message of a conversation after its first
    becomes a thread reply with thread_ts = the first message's ts. `<@Name>` mentions are
    rewritten to user ids so the parser has to resolve them back.
    """
    root = ET.parse(corpus / "chat" / "slack_disentangled" / "racket-general-2019.xml").getroot()
    messages = root.findall("message")
    names = sorted({m.findtext("user") or "" for m in messages})
    ids = {name: f"U{i:04d}" for i, name in enumerate(names)}

    export = tmp_path / "racket"
    (export / "general").mkdir(parents=True)
    users = [
        {"id": uid, "name": name.lower(), "profile": {"display_name": name if i % 2 == 0 else "", "real_name": name}}
        for i, (name, uid) in enumerate(ids.items())
    ]
    (export / "users.json").write_text(json.dumps(users))
    (export / "channels.json").write_text(json.dumps([{"id": "C0001", "name": "general"}]))

    roots: dict[str, str] = {}  # conversation id -> ts of its first message
    expected: list[tuple[str, str, str | None]] = []  # (ts, author, root ts for replies)
    days: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for m in messages:
        text = m.findtext("text") or ""
        ts = _epoch_ts(m.findtext("ts") or "")
        conversation = m.get("conversation_id") or ""
        user = m.findtext("user") or ""
        thread_ts = roots.setdefault(conversation, ts)
        text = re.sub(r"<@([^<>|]+)>", lambda g: f"<@{ids.get(g.group(1), g.group(1))}>", text)
        record: dict[str, Any] = {"type": "message", "ts": ts, "user": ids[user], "text": text}
        if thread_ts != ts:
            record["thread_ts"] = thread_ts
        days[(m.findtext("ts") or "")[:10]].append(record)
        if text.strip():
            expected.append((ts, user, thread_ts if thread_ts != ts else None))
    for day, records in days.items():
        (export / "general" / f"{day}.json").write_text(json.dumps(records))

    bundle = DirBundle(export)
    assert PARSER.sniff(bundle)
    parsed = PARSER.parse(bundle, ParseOptions())

    assert parsed.warnings == []
    assert len(parsed.passages) == len(expected) == 5706
    expected.sort(key=lambda e: float(e[0]))
    for passage, (ts, user, root_ts) in zip(parsed.passages, expected):
        assert passage.kind == PassageKind.message
        assert passage.message_id == f"general:{ts}"
        assert passage.author == user
        assert passage.reply_to == (f"general:{root_ts}" if root_ts else None)
        assert passage.thread_id == f"general:{root_ts or ts}"
    assert sum(p.reply_to is not None for p in parsed.passages) == len(messages) - len(roots)

    by_ts = {p.message_id: p for p in parsed.passages}
    first = by_ts[f"general:{_epoch_ts('2018-12-31T05:16:43.054200')}"]
    assert first.text == "@Priscila I can help. What do I need to do?"
    assert first.timestamp == "2018-12-31T05:16:43.054200+00:00"
    link = by_ts[f"general:{_epoch_ts('2018-12-31T05:17:11.054600')}"]
    assert link.text == "Go to: https://stackoverflow.com/questions/53937982/source-code-documentation-in-racket-scheme"
    code = by_ts[f"general:{_epoch_ts('2019-01-01T17:15:36.057700')}"]
    assert "(pict->bitmap (dc" in code.text
