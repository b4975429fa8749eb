"""Generic JSONL thread parser: threads, replies without a thread field, bad lines, sniffing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pipeline.models import SourceKind
from pipeline.sources.base import DirBundle, FileBundle, MemoryBundle, ParseOptions, SourceError
from pipeline.sources import detect
from pipeline.sources.jsonl_threads import PARSERS, JsonlThreadParser, parse_timestamp, resolve_threads

PARSER = JsonlThreadParser()


def _lines(*objects: Any, name: str = "chat.jsonl") -> MemoryBundle:
    body = "\n".join(o if isinstance(o, str) else json.dumps(o) for o in objects)
    return MemoryBundle(name, {"": body.encode()})


def test_registered() -> None:
    assert [p.name for p in PARSERS] == ["jsonl-thread"]
    assert PARSERS[0].kind == SourceKind.thread


def test_parse_fixture_exact(fixtures: Path) -> None:
    parsed = PARSER.parse(FileBundle(fixtures / "jsonl" / "threads.jsonl"), ParseOptions())
    assert parsed.kind == SourceKind.thread
    assert parsed.format == "jsonl-thread"
    assert [p.model_dump(mode="json", exclude_defaults=True) for p in parsed.passages] == [
        {
            "kind": "message",
            "text": "How do you run retros with a remote team?",
            "author": "ana",
            "timestamp": "2024-03-01T09:00:00+00:00",
            "message_id": "m1",
            "thread_id": "t1",
            "extra": {"title": "Remote retros", "channel": "agile"},
        },
        {
            "kind": "message",
            "text": "We use a shared board and timebox each column.",
            "author": "ben",
            "timestamp": "2024-03-01T09:00:00+00:00",  # epoch seconds
            "message_id": "m2",
            "thread_id": "t1",  # inherited from m1 through reply_to
            "reply_to": "m1",
            "reactions": {"+1": 3},
            "score": 5,
            "accepted": True,
        },
        {
            "kind": "message",
            "text": "Timeboxing helped us too.",
            "author": "cy",
            "timestamp": "2024-03-01T10:30:00+00:00",  # no zone: UTC
            "message_id": "m3",
            "thread_id": "t1",  # two hops up: m2, then m1
            "reply_to": "m2",
        },
        {
            "kind": "message",
            "text": "Does anyone pair on test design?",
            "author": "dee",
            "message_id": "4",  # numeric ids become strings
            "thread_id": "4",  # no thread, no reply_to: its own thread
        },
        {
            "kind": "message",
            "text": "Yes, every Tuesday.",
            "author": "eli",
            "message_id": "m5",
            "thread_id": "4",
            "reply_to": "4",
            "score": -1,
        },
        {
            "kind": "message",
            "text": "Replying to a message from another file.",
            "author": "gus",
            "message_id": "m7",
            "thread_id": "elsewhere",  # target not in the file: the nearest known ancestor
            "reply_to": "elsewhere",
        },
    ]
    assert parsed.warnings == [
        "line 6: not valid JSON (Expecting value); skipped",
        "line 8: no text; skipped",
        "line 9: not a JSON object; skipped",
        "line 10: timestamp 'yesterday' not understood (Invalid isoformat string: 'yesterday'); left empty",
    ]


def test_reply_before_its_target_and_cycles() -> None:
    parsed = PARSER.parse(
        _lines(
            {"id": "b", "reply_to": "a", "text": "answer first"},
            {"id": "a", "thread": "T", "text": "question later"},
            {"id": "x", "reply_to": "y", "text": "x"},
            {"id": "y", "reply_to": "x", "text": "y"},
            {"text": "no id at all", "author": "z"},
        ),
        ParseOptions(),
    )
    assert [(p.message_id, p.thread_id, p.reply_to) for p in parsed.passages] == [
        ("b", "T", "a"),
        ("a", "T", None),
        ("x", "x", "y"),  # a reply cycle ends at the message itself rather than looping
        ("y", "y", "x"),
        ("line:5", "line:5", None),
    ]


def test_duplicate_ids_and_bad_fields() -> None:
    parsed = PARSER.parse(
        _lines(
            {"id": "a", "author": "ann", "text": "one", "reactions": ["+1"], "score": "high", "accepted": "yes"},
            {"id": "a", "author": "ann", "text": "two"},
        ),
        ParseOptions(),
    )
    assert [p.text for p in parsed.passages] == ["one"]
    first = parsed.passages[0]
    assert (first.reactions, first.score, first.accepted) == ({}, None, None)
    assert parsed.warnings == [
        "line 1: reactions should be an object {name: count}; ignored",
        "line 2: duplicate id 'a'; skipped",
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("not json\n[1]\n{\"id\": 1}\n", "no valid JSONL messages \\(line 1: not valid JSON"),
        ("\n\n  \n", "empty file"),
    ],
)
def test_all_lines_bad_is_an_error(body: str, message: str) -> None:
    with pytest.raises(SourceError, match=message):
        PARSER.parse(MemoryBundle("bad.jsonl", {"": body.encode()}), ParseOptions())


def test_a_legacy_encoded_log_is_read_with_a_warning() -> None:
    parsed = PARSER.parse(MemoryBundle("old.jsonl", {"": b'{"text": "caf\xe9 au lait?", "author": "a"}\n'}), ParseOptions())
    assert [p.text for p in parsed.passages] == ["café au lait?"]
    assert any("old.jsonl is not UTF-8: read as cp1252" in w for w in parsed.warnings), parsed.warnings


def test_bytes_no_encoding_explains_are_an_error() -> None:
    with pytest.raises(SourceError, match="no common encoding explains it"):
        PARSER.parse(MemoryBundle("bad.jsonl", {"": b'{"text": "' + bytes(range(128, 256)) * 4 + b'"}\n'}), ParseOptions())


def test_many_bad_lines_are_summarised() -> None:
    body = "\n".join(["oops"] * 120 + [json.dumps({"author": "a", "text": "fine"})])
    parsed = PARSER.parse(MemoryBundle("big.jsonl", {"": body.encode()}), ParseOptions())
    assert len(parsed.passages) == 1
    assert len(parsed.warnings) == 51
    assert parsed.warnings[-1] == "... 70 more bad lines skipped"


def test_sniff(fixtures: Path, corpus: Path) -> None:
    assert PARSER.sniff(FileBundle(fixtures / "jsonl" / "threads.jsonl"))
    assert PARSER.sniff(_lines("", {"text": "hi", "reply_to": "x"}, name="CHAT.NDJSON"))
    assert PARSER.sniff(MemoryBundle("c.jsonl", {"": b'\xef\xbb\xbf{"text": "hi", "author": "a"}\n'}))
    assert not PARSER.sniff(_lines({"text": "hi", "author": "a"}, name="chat.json"))
    assert PARSER.sniff(_lines({"text": "hi"}))  # `text` is the one required field (README)
    assert not PARSER.sniff(_lines({"text": 5, "id": 1}))
    assert not PARSER.sniff(_lines({"author": "a"}))
    # a .jsonl whose first line is not JSON is claimed, so it fails with the bad line's number
    assert PARSER.sniff(_lines("not json", {"text": "hi", "author": "a"}))
    assert not PARSER.sniff(_lines({"text": "t", "author": "a", "meeting_transcripts": []}))
    assert not PARSER.sniff(DirBundle(fixtures / "jsonl"))
    # The corpus' other JSONL files belong to other parsers.
    assert not PARSER.sniff(FileBundle(corpus / "meetings" / "qmsum" / "test.jsonl"))
    assert not PARSER.sniff(FileBundle(corpus / "retrieval" / "stackfaq" / "derived" / "faqs.jsonl"))


@pytest.mark.parametrize(
    ("value", "iso"),
    [
        ("2024-03-01T09:00:00Z", "2024-03-01T09:00:00+00:00"),
        ("2024-03-01T10:00:00+01:00", "2024-03-01T10:00:00+01:00"),
        (1709283600, "2024-03-01T09:00:00+00:00"),
        (1709283600.5, "2024-03-01T09:00:00.500000+00:00"),
    ],
)
def test_parse_timestamp(value: Any, iso: str) -> None:
    assert parse_timestamp(value) == iso


@pytest.mark.parametrize("value", [True, "soon", [1]])
def test_parse_timestamp_rejects(value: Any) -> None:
    with pytest.raises(ValueError):
        parse_timestamp(value)


def test_id_and_text_only_is_a_message_file() -> None:
    """The README asks for `text` only: a file of `{id, text}` lines is read, each its own thread."""
    bundle = _lines({"id": 1, "text": "How do we rotate secrets?"}, {"id": "n2", "text": "Weekly, by a job."})
    parser = detect(bundle)
    assert parser.name == "jsonl-thread"
    parsed = parser.parse(bundle, ParseOptions())
    assert [(p.message_id, p.thread_id, p.text) for p in parsed.passages] == [
        ("1", "1", "How do we rotate secrets?"),
        ("n2", "n2", "Weekly, by a job."),
    ]


def test_resolve_threads_chains_cycles_and_missing_parents() -> None:
    parent = {
        "c": "b", "b": "a", "a": None,  # a chain, replies listed before their targets
        "e": "d", "d": "out",  # d answers a message outside the file
        "g": "f", "f": "r", "r": None,  # f names its thread: g inherits it, r does not
        "x": "y", "y": "z", "z": "x",  # a cycle
        "t": "x",  # a reply into the cycle
    }  # fmt: skip
    explicit = {mid: None for mid in parent} | {"f": "F"}
    assert resolve_threads(parent, explicit) == {
        "c": "a", "b": "a", "a": "a",
        "e": "out", "d": "out",
        "g": "F", "f": "F", "r": "r",
        "x": "x", "y": "y", "z": "z", "t": "t",  # a chain that loops ends at the message itself
    }  # fmt: skip


def test_a_200k_deep_reply_chain_assembles() -> None:
    """Deep chains are walked without recursion and each message once (the old walk was n²/2 steps)."""
    depth = 200_000
    parent = {f"m{i}": (f"m{i - 1}" if i else None) for i in range(depth)}
    threads = resolve_threads(parent, dict.fromkeys(parent))
    assert set(threads.values()) == {"m0"} and len(threads) == depth


def test_a_deep_chain_in_a_file_parses_with_one_thread() -> None:
    rows = [{"id": i, "text": f"reply {i}", **({"reply_to": i - 1} if i else {"thread": "root"})} for i in range(20_000)]
    parsed = PARSER.parse(_lines(*reversed(rows)), ParseOptions())
    assert {p.thread_id for p in parsed.passages} == {"root"} and len(parsed.passages) == 20_000
