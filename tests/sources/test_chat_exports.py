"""Discord (DiscordChatExporter JSON) and Matrix/Element JSON exports."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.models import PassageKind, SourceKind
from pipeline.sources import detect
from pipeline.sources.base import FileBundle, MemoryBundle, ParseOptions, SourceError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "chat_exports"


def _parse(name: str, options: ParseOptions = ParseOptions()):
    bundle = FileBundle(FIXTURES / name)
    parser = detect(bundle)
    return parser.name, parser.parse(bundle, options)


def test_discord_channel_replies_reactions_and_skips() -> None:
    name, parsed = _parse("discord-rust-help.json")
    assert (name, parsed.kind) == ("discord", SourceKind.thread)
    got = [(p.message_id, p.author, p.text, p.reply_to, p.thread_id) for p in parsed.passages]
    assert got == [
        ("1002", "Ana", "How do I share a struct between two threads?", None, "1002"),
        ("1003", "ben", "@Ana wrap it in an Arc<Mutex<T>> and clone the Arc into each thread", "1002", "1002"),
        ("1006", "Ana", "thanks, that worked!", "1003", "1002"),
        ("1007", "cid", "Anyone tried tokio-console?", None, "1007"),
    ]
    assert parsed.passages[1].reactions == {"👍": 3}
    assert parsed.passages[0].timestamp == "2026-01-05T09:00:05.120000+00:00"
    assert parsed.passages[0].extra == {"channel": "beginners", "category": "Help"}
    assert all(p.kind == PassageKind.message for p in parsed.passages)
    assert sorted(parsed.warnings) == ["1 bot message(s) skipped", "1 empty message(s) skipped", "1 system message(s) skipped"]


def test_discord_bots_when_asked_for() -> None:
    _, parsed = _parse("discord-rust-help.json", ParseOptions(include_bots=True))
    assert "Reminder: be kind" in [p.text for p in parsed.passages]


def test_discord_thread_export_is_one_thread() -> None:
    name, parsed = _parse("discord-thread.json")
    assert name == "discord"
    assert [(p.author, p.thread_id) for p in parsed.passages] == [("dee", "920"), ("ben", "920")]


def test_matrix_threads_replies_edits_reactions() -> None:
    name, parsed = _parse("matrix-room.json")
    assert (name, parsed.kind) == ("matrix", SourceKind.thread)
    got = [(p.message_id, p.author, p.text, p.reply_to, p.thread_id) for p in parsed.passages]
    assert got == [
        ("$q1", "ana", "How do I pin a dependency in pyproject?", None, "$q1"),
        ("$a1", "ben", "Use == with the exact version, and a lock file", "$q1", "$q1"),
        ("$a2", "cid", "uv lock does that for you", "$q1", "$q1"),
    ]
    assert parsed.passages[1].reactions == {"👍": 2}
    assert parsed.passages[0].timestamp == "2026-01-05T09:00:05+00:00"
    assert parsed.passages[0].extra == {"channel": "#python-help:example.org"}


def test_broken_export_names_the_reason() -> None:
    bundle = MemoryBundle("x.json", {"": b'{"guild": {}, "channel": {}, "messages": [\n{"id": '})
    with pytest.raises(SourceError, match="invalid JSON at line 2"):
        detect(bundle).parse(bundle, ParseOptions())
    empty = MemoryBundle("y.json", {"": b'{"guild": {}, "channel": {}, "messages": []}'})
    with pytest.raises(SourceError, match="no Discord messages"):
        detect(empty).parse(empty, ParseOptions())
