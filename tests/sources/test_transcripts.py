"""Transcript parsers: VTT, SRT, QMSum JSON and plain speaker-turn text."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pipeline.models import PassageKind, SourceKind
from pipeline.sources.base import FileBundle, MemoryBundle, Parsed, ParseOptions, SourceError
from pipeline.sources.transcripts import (
    PARSERS,
    QmsumParser,
    SrtParser,
    TranscriptTextParser,
    VttParser,
    looks_like_name,
    parse_timestamp,
)

OPTS = ParseOptions()


def mem(name: str, data: bytes | str) -> MemoryBundle:
    """A single-file bundle holding `data`."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return MemoryBundle(name=name, files={"": raw})


def fixture(fixtures: Path, name: str) -> MemoryBundle:
    """A fixture file read into memory under its own name."""
    return mem(name, (fixtures / "transcripts" / name).read_bytes())


def turns(parsed: Parsed) -> list[tuple[str | None, str, float | None, float | None]]:
    """(author, text, start, end) of every passage."""
    return [(p.author, p.text, p.start, p.end) for p in parsed.passages]


def sniffers(bundle: MemoryBundle | FileBundle) -> list[str]:
    """Names of the transcript parsers that claim the bundle."""
    return [p.name for p in PARSERS if p.sniff(bundle)]


# ---------------------------------------------------------------------------- helpers


def test_parsers_follow_the_contract() -> None:
    assert [p.name for p in PARSERS] == ["vtt", "srt", "qmsum", "transcript-text"]
    for parser in PARSERS:
        assert parser.kind == SourceKind.transcript
        assert parser.version


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("00:00:01.500", 1.5),
        ("01:02.250", 62.25),
        ("1:00:00,001", 3600.001),
        ("00:01:02", 62.0),
        ("10:30", 630.0),
    ],
)
def test_parse_timestamp(value: str, seconds: float) -> None:
    assert parse_timestamp(value) == seconds


@pytest.mark.parametrize("value", ["", "abc", "00:0", "00:61.000", "1:75:00"])
def test_parse_timestamp_rejects(value: str) -> None:
    assert parse_timestamp(value) is None


@pytest.mark.parametrize(
    "name", ["Ann", "Andrew Knight", "Jan van der Berg", "Dr. O'Neil", "Speaker 2", "Q"]
)
def test_names(name: str) -> None:
    assert looks_like_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "Note",
        "Action items",
        "10",
        "https",
        "So the reason is",
        "one two three four five",
        "www.example.com",
        "a",
    ],
)
def test_not_names(name: str) -> None:
    assert not looks_like_name(name)


# ---------------------------------------------------------------------------- WebVTT


def test_vtt_bom_header_blocks_voices_settings_and_entities(fixtures: Path) -> None:
    bundle = fixture(fixtures, "retro.vtt")
    assert sniffers(bundle) == ["vtt"]
    parsed = VttParser().parse(bundle, OPTS)
    assert parsed.kind == SourceKind.transcript and parsed.format == "vtt"
    assert parsed.warnings == []
    assert turns(parsed) == [
        ("Alice", "Welcome to the retro & thanks for coming. We have > 3 topics today.", 1.0, 7.0),
        ("Bob", "I'll start with the flaky tests.", 8.0, 10.25),
        ("Alice", "Go ahead, Bob.", 10.25, 12.0),
    ]
    assert all(p.kind == PassageKind.turn for p in parsed.passages)


def test_vtt_zoom_names_without_mistaking_labels_times_or_urls(fixtures: Path) -> None:
    parsed = VttParser().parse(fixture(fixtures, "zoom.vtt"), OPTS)
    assert turns(parsed) == [
        ("Ann Lee", "Morning everyone. Note: the build is red.", 1.0, 5.0),
        ("Raj", "The fix lands at 10:30 today.", 6.0, 8.0),
        (None, "10:30: that is too late", 8.0, 9.0),
        ("Raj", "See https://ci.example.com/job/42 for the log.", 9.5, 11.0),
        (None, "Note: someone joined", 12.0, 13.0),
    ]


def test_vtt_rolling_captions_are_deduplicated(fixtures: Path) -> None:
    parsed = VttParser().parse(fixture(fixtures, "rolling.vtt"), OPTS)
    assert turns(parsed) == [(None, "so we moved to pairing every day", 0.0, 4.01)]


def test_vtt_truncated_last_cue_keeps_the_rest_with_a_warning(fixtures: Path) -> None:
    parsed = VttParser().parse(fixture(fixtures, "truncated.vtt"), OPTS)
    assert turns(parsed) == [("Ann", "First point. Second point.", 1.0, 3.5)]
    assert len(parsed.warnings) == 1 and "line 9" in parsed.warnings[0]


def test_vtt_last_cue_without_text_warns() -> None:
    data = "WEBVTT\n\n00:01.000 --> 00:02.000\nHello there.\n\n00:03.000 --> 00:04.000\n"
    parsed = VttParser().parse(mem("t.vtt", data), OPTS)
    assert turns(parsed) == [(None, "Hello there.", 1.0, 2.0)]
    assert "truncated" in parsed.warnings[0]


def test_vtt_multiple_voices_in_one_cue_and_missing_blank_line() -> None:
    data = (
        "WEBVTT\n\n"
        "00:00:01.000 --> 00:00:02.000\n<v Ann>Ready?</v>\n<v Bob>Yes.</v>\n"
        "00:00:02.000 --> 00:00:03.000\n<v Bob>Let's go.\n"
    )
    parsed = VttParser().parse(mem("t.vtt", data), OPTS)
    assert turns(parsed) == [("Ann", "Ready?", 1.0, 2.0), ("Bob", "Yes. Let's go.", 1.0, 3.0)]


def test_vtt_whitespace_only_separator_line() -> None:
    data = (
        "WEBVTT\n\n1\n00:01.000 --> 00:02.000\nAnn: One.\n  \n"
        "2\n00:02.000 --> 00:03.000\nAnn: Two.\n"
    )
    parsed = VttParser().parse(mem("t.vtt", data), OPTS)
    assert turns(parsed) == [("Ann", "One. Two.", 1.0, 3.0)]


def test_vtt_speakerless_turns_split_on_pause_and_length() -> None:
    sentence = "word " * 60  # 300 characters
    cues = [(0, "First."), (1, "Second."), (10, "After a pause.")]
    cues += [(11 + i, sentence) for i in range(5)]
    data = "WEBVTT\n\n" + "".join(
        f"00:00:{s:02d}.000 --> 00:00:{s:02d}.900\n{text}\n\n" for s, text in cues
    )
    parsed = VttParser().parse(mem("t.vtt", data), OPTS)
    assert parsed.passages[0].text == "First. Second."
    assert parsed.passages[1].text.startswith("After a pause. word word")
    assert parsed.passages[0].end == 1.9 and parsed.passages[1].start == 10.0
    assert all(p.author is None and len(p.text) <= 1000 for p in parsed.passages)
    assert len(parsed.passages) == 3  # 14 + 3 x 300 chars, then the rest
    all_words = " ".join(p.text for p in parsed.passages).split()
    assert all_words == " ".join(text for _, text in cues).split()


def test_vtt_identical_lines_kept_outside_rolling_captions() -> None:
    data = "WEBVTT\n\n00:01.000 --> 00:02.000\nAnn: Yes.\n\n00:02.000 --> 00:03.000\nAnn: Yes.\n"
    parsed = VttParser().parse(mem("t.vtt", data), OPTS)
    assert turns(parsed) == [("Ann", "Yes. Yes.", 1.0, 3.0)]


def test_vtt_sniff_by_content_and_not_other_files() -> None:
    assert VttParser().sniff(mem("captions.txt", "\ufeffWEBVTT\n\n00:01.000 --> 00:02.000\nhi\n"))
    assert not VttParser().sniff(mem("notes.txt", "Just some notes.\n"))
    assert not VttParser().sniff(MemoryBundle(name="export", files={"a.vtt": b"WEBVTT\n"}))


def test_vtt_utf16_is_decoded() -> None:
    data = "WEBVTT\n\n00:01.000 --> 00:02.000\n<v Zoë>Grüße!\n".encode("utf-16")
    assert turns(VttParser().parse(mem("t.vtt", data), OPTS)) == [("Zoë", "Grüße!", 1.0, 2.0)]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty file"),
        (b"\xef\xbb\xbf \n\n", "empty file"),
        (b"1\n00:00:01.000 --> 00:00:02.000\nhello\n", "WEBVTT"),
        (b"WEBVTT\n\nNOTE nothing else here\n", "no readable cue"),
        (b"WEBVTT\n\n00:00:xx --> 00:00:02.000\nhello\n", "no readable cue"),
        (b"WEBVTT\n\n00:01.000 --> 00:02.000\n" + bytes(range(128, 256)) * 4 + b"\n", "no common encoding"),
    ],
)
def test_vtt_bad_input(data: bytes, reason: str) -> None:
    with pytest.raises(SourceError, match=reason):
        VttParser().parse(mem("bad.vtt", data), OPTS)


# ---------------------------------------------------------------------------- SRT


def test_srt_blocks_speakers_and_tags(fixtures: Path) -> None:
    bundle = fixture(fixtures, "standup.srt")
    assert sniffers(bundle) == ["srt"]
    parsed = SrtParser().parse(bundle, OPTS)
    assert parsed.format == "srt" and parsed.warnings == []
    assert turns(parsed) == [
        ("Ann", "Yesterday I fixed the login test. Today I pair with Raj.", 1.0, 6.5),
        ("Raj", "Sounds good.", 7.0, 9.0),
        (None, "Any blockers?", 9.0, 10.0),
    ]


@pytest.mark.parametrize(
    ("data", "reason"),
    [(b"", "empty file"), (b"hello\nworld\n", "no readable subtitle block")],
)
def test_srt_bad_input(data: bytes, reason: str) -> None:
    with pytest.raises(SourceError, match=reason):
        SrtParser().parse(mem("bad.srt", data), OPTS)


def test_srt_truncated_last_block_warns() -> None:
    data = "1\n00:00:01,000 --> 00:00:02,000\nAnn: Hi.\n\n2\n00:00:03,000 --> 00:0"
    parsed = SrtParser().parse(mem("t.srt", data), OPTS)
    assert turns(parsed) == [("Ann", "Hi.", 1.0, 2.0)]
    assert "line 6" in parsed.warnings[0]


# ---------------------------------------------------------------------------- QMSum JSON


def test_qmsum_json_keeps_every_labelled_turn(fixtures: Path) -> None:
    bundle = fixture(fixtures, "meeting.json")
    assert sniffers(bundle) == ["qmsum"]
    parsed = QmsumParser().parse(bundle, OPTS)
    assert [(p.author, p.text, p.start, p.end) for p in parsed.passages] == [
        ("Ann", "Welcome.", None, None),
        ("Ann", "First topic is flaky tests.", None, None),
        ("Raj", "We quarantine them.", None, None),
    ]
    assert {p.thread_id for p in parsed.passages} == {"guild-2024-05"}
    assert [p.extra for p in parsed.passages] == [
        {"meeting": 0, "turn": 0},
        {"meeting": 0, "turn": 1},
        {"meeting": 0, "turn": 3},
    ]
    assert parsed.warnings == ["guild-2024-05: 1 empty turn(s) skipped"]


def test_qmsum_jsonl_meetings(fixtures: Path) -> None:
    parsed = QmsumParser().parse(fixture(fixtures, "meetings.jsonl"), OPTS)
    assert [(p.thread_id, p.author, p.text, p.extra) for p in parsed.passages] == [
        ("meeting-1", "A", "Hi.", {"meeting": 0, "turn": 0}),
        ("meeting-1", "B", "Hello.", {"meeting": 0, "turn": 2}),
        ("design review", "Marketing", "Okay .", {"meeting": 1, "turn": 0}),
    ]
    assert parsed.warnings == ["meeting-1: 1 empty turn(s) skipped"]


def test_qmsum_malformed_json_names_the_line(fixtures: Path) -> None:
    with pytest.raises(SourceError, match="line 2"):
        QmsumParser().parse(fixture(fixtures, "broken.jsonl"), OPTS)
    with pytest.raises(SourceError, match="line 3"):
        QmsumParser().parse(mem("m.json", '{\n "meeting_transcripts": [\n  {"speaker": }]}'), OPTS)
    with pytest.raises(SourceError, match="no meeting transcript turns"):
        QmsumParser().parse(mem("m.json", '{"meeting_transcripts": []}'), OPTS)


def test_qmsum_sniff_needs_the_key() -> None:
    assert not QmsumParser().sniff(mem("faqs.jsonl", '{"question": "q", "answer": "a"}\n'))


# ---------------------------------------------------------------------------- plain text


def test_text_transcript_with_continuations(fixtures: Path) -> None:
    bundle = fixture(fixtures, "chat.txt")
    assert sniffers(bundle) == ["transcript-text"]
    parsed = TranscriptTextParser().parse(bundle, OPTS)
    assert turns(parsed) == [
        (None, "Weekly guild sync", None, None),
        ("Ann", "Did anyone try contract tests?", None, None),
        ("Raj", "Yes, with Pact. It took a week to set up but it was worth it.", None, None),
        ("Ann", "Thanks! Note: we should write this down.", None, None),
    ]


def test_text_transcript_with_timestamps(fixtures: Path) -> None:
    bundle = fixture(fixtures, "timed.txt")
    assert sniffers(bundle) == ["transcript-text"]
    parsed = TranscriptTextParser().parse(bundle, OPTS)
    assert turns(parsed) == [
        ("Ann", "Let's start.", 5.0, 12.0),
        ("Raj", "Sure.", 12.0, 62.5),
        ("Kim", "I have one question.", 62.5, 70.0),
        ("Ann", "Go on.", 70.0, None),
    ]


def test_text_document_is_not_sniffed(fixtures: Path) -> None:
    assert sniffers(fixture(fixtures, "notes.txt")) == []
    assert sniffers(mem("essay.txt", "We met.\nIt went well: everyone agreed.\nThe end.\n")) == []
    # Only .txt: a markdown file with speaker lines is the document parser's.
    assert sniffers(mem("chat.md", (fixtures / "transcripts" / "chat.txt").read_text())) == []


def test_text_bad_input() -> None:
    with pytest.raises(SourceError, match="empty file"):
        TranscriptTextParser().parse(mem("t.txt", "  \n"), OPTS)
    with pytest.raises(SourceError, match="no 'Name: text' turns"):
        TranscriptTextParser().parse(mem("t.txt", "just prose\n"), OPTS)
    assert not TranscriptTextParser().sniff(mem("t.txt", b"\xff\xfe\x00bad"))


# ---------------------------------------------------------------------------- real corpus


@pytest.mark.integration
def test_qmsum_corpus_turn_counts(corpus: Path) -> None:
    path = corpus / "meetings" / "qmsum" / "test.jsonl"
    expected = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            meeting = json.loads(line)
            expected.append(sum(1 for t in meeting["meeting_transcripts"] if t["content"].strip()))
    assert len(expected) == 35

    bundle = FileBundle(path)
    assert sniffers(bundle) == ["qmsum"]
    parsed = QmsumParser().parse(bundle, OPTS)
    counts: dict[int, int] = {}
    for p in parsed.passages:
        counts[p.extra["meeting"]] = counts.get(p.extra["meeting"], 0) + 1
        assert p.thread_id == f"meeting-{p.extra['meeting'] + 1}"
        assert p.text and p.start is None and p.end is None
    assert [counts.get(i, 0) for i in range(35)] == expected


@pytest.mark.integration
def test_zoom_corpus_transcript(corpus: Path) -> None:
    path = corpus / "meetings" / "zoom_vtt" / "meeting001_transcript.vtt"
    bundle = FileBundle(path)
    assert sniffers(bundle) == ["vtt"]
    parsed = VttParser().parse(bundle, OPTS)
    assert parsed.warnings == []
    speakers = {"Andrew Knight", "George Harrison", "John Lennon", "Paul McCartney", "Ringo Starr"}
    assert {p.author for p in parsed.passages} - {None} == speakers

    starts = [p.start for p in parsed.passages]
    assert starts == sorted(starts)
    assert all(p.start <= p.end for p in parsed.passages)
    authors = [p.author for p in parsed.passages]
    assert all(a != b for a, b in zip(authors, authors[1:])), "consecutive cues of a speaker merge"

    # Every cue's text (read independently here) survives in some turn.
    text = path.read_text(encoding="utf-8")
    cue_texts = [
        line.strip()
        for line in text.splitlines()[1:]
        if line.strip() and "-->" not in line and not line.strip().isdigit()
    ]
    assert len(cue_texts) == 300
    prefix = re.compile(rf"^(?:{'|'.join(map(re.escape, speakers))}): ")
    turn_texts = [p.text for p in parsed.passages]
    for cue in cue_texts:
        body = " ".join(prefix.sub("", cue).split())
        assert any(body in t for t in turn_texts), body


@pytest.mark.integration
def test_youtube_corpus_captions(corpus: Path) -> None:
    path = corpus / "meetings" / "vtt_edge_cases" / "youtube_dl.vtt"
    parsed = VttParser().parse(FileBundle(path), OPTS)
    text = " ".join(p.text for p in parsed.passages)
    assert text == "yeah what this will happen is I'm telling"
    assert "<" not in text and ">" not in text
    assert parsed.passages[0].start == 286.07 and parsed.passages[-1].end == 305.4


@pytest.mark.integration
def test_corpus_text_documents_are_not_taken_for_transcripts(corpus: Path) -> None:
    sniffed = {
        path.relative_to(corpus).as_posix()
        for path in sorted(corpus.rglob("*.txt"))
        if TranscriptTextParser().sniff(FileBundle(path))
    }
    # The Zoom chat log ("00:21:14<TAB>Name:<TAB>text") is the one speaker-turn text file.
    assert sniffed == {"meetings/zoom_vtt/meeting001_chat.txt"}
