"""IRC logs: channel chat (irssi, weechat, ZNC) and scribed W3C/IETF minutes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from extractors.chat_links import link_unthreaded
from extractors.transcripts import TranscriptExtractor
from pipeline.models import CandidateKind, Passage, PassageKind, Source, SourceKind
from pipeline.sources import detect
from pipeline.sources.base import FileBundle, MemoryBundle, ParseOptions
from pipeline.sources.irc import IrcLine, is_minutes, parse_line

OPTS = ParseOptions()
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "irc"


def _parse(name: str):
    bundle = FileBundle(FIXTURES / name)
    parser = detect(bundle)
    return parser, parser.parse(bundle, OPTS)


def test_line_forms() -> None:
    assert parse_line("[12:18] <tweaked> HrdwrBoB: ok") == IrcLine(0, "tweaked", "HrdwrBoB: ok", "12:18")
    assert parse_line("15:01:24 <@manu> hi") == IrcLine(0, "manu", "hi", "15:01:24")
    assert parse_line("[2017-01-17T19:28:52] <propaul> Hi guys") == IrcLine(0, "propaul", "Hi guys", "19:28:52", "2017-01-17")
    assert parse_line("* ana waves") == IrcLine(0, "ana", "waves", action=True)
    assert parse_line("=== GOwin [~M@1.2.3.4]  has left #ubuntu []") == "system"
    assert parse_line("-!- carl has quit") == "system"
    assert parse_line("Ann: this is a transcript line") is None


def test_scribed_minutes_become_turns_under_topics() -> None:
    parser, parsed = _parse("ccg-2026-03-03-irc.log")
    assert (parser.name, parsed.kind) == ("irc-minutes", SourceKind.transcript)
    got = [(p.author, p.text, p.section_path, p.start) for p in parsed.passages]
    topic = ["Release process for the test suite"]
    assert got == [
        ("manu", "We keep breaking implementers when the suite changes under them. "
                 "I propose we tag a release of the test suite every month.", topic, 15 * 3600 + 91),
        ("dlongley", "Monthly tags work if the changelog lists every changed test.", topic, 15 * 3600 + 135),
        ("kim", "RESOLVED: Tag a release of the test suite every month, with a changelog of changed tests.",
         topic, 15 * 3600 + 160),
        ("kim", "ACTION: manu to write the release checklist for the test suite.", topic, 15 * 3600 + 180),
        ("orie", "Triage stays on Tuesdays.", ["Issue triage"], 15 * 3600 + 210),
    ]  # fmt: skip
    assert all(p.kind == PassageKind.turn for p in parsed.passages)


def test_resolved_line_in_scribed_log_becomes_a_decision_candidate() -> None:
    _, parsed = _parse("ccg-2026-03-03-irc.log")
    source = Source(id="s", kind=SourceKind.transcript, uri=str(FIXTURES / "ccg-2026-03-03-irc.log"), content_hash="h")
    passages = [Passage.from_draft(d, "s", i) for i, d in enumerate(parsed.passages)]
    cands = TranscriptExtractor().run(source, passages).candidates
    patterns = [c for c in cands if c.kind == CandidateKind.pattern]
    quotes = [e.quote for c in patterns for e in c.evidence]
    assert any("Tag a release of the test suite every month" in q for q in quotes), quotes
    assert any("write the release checklist" in q for q in quotes), quotes


def test_weechat_log_is_unthreaded_chat_and_gets_linked() -> None:
    parser, parsed = _parse("weechat-2026-01-05.log")
    assert (parser.name, parsed.kind) == ("irc", SourceKind.thread)
    got = [(p.author, p.text, p.timestamp, p.thread_id) for p in parsed.passages]
    assert got == [
        ("ana", "how do I share a struct between two threads?", "2026-01-05T09:00:05+00:00", None),
        ("ben", "ana: wrap it in an Arc<Mutex<T>> and clone the Arc into each thread", "2026-01-05T09:00:40+00:00", None),
        ("ana", "tries that", "2026-01-05T09:01:02+00:00", None),
        ("ana", "thanks, that worked!", "2026-01-05T09:02:10+00:00", None),
    ]
    assert parsed.passages[2].extra["action"] is True
    passages = [Passage.from_draft(d, "s", i) for i, d in enumerate(parsed.passages)]
    linked = link_unthreaded(passages)
    assert linked[1].reply_to == parsed.passages[0].message_id  # the disentangler sees the answer


def test_irssi_day_header_and_midnight() -> None:
    parser, parsed = _parse("irssi-rust.log")
    assert parser.name == "irc"
    assert [p.timestamp for p in parsed.passages] == [
        "2026-01-05T23:58:00+00:00", "2026-01-05T23:59:00+00:00", "2026-01-06T00:01:00+00:00",
    ]
    assert parsed.passages[1].author == "ben"


def test_plain_chat_log_without_date_warns() -> None:
    bundle = MemoryBundle("channel.log", {"": b"[10:00] <a> how do I x?\n[10:01] <b> a: do y\n  stray\n"})
    parsed = detect(bundle).parse(bundle, OPTS)
    assert [p.timestamp for p in parsed.passages] == [None, None]
    assert any("no date" in w for w in parsed.warnings)
    assert "1 line(s) not read as IRC messages and skipped (first: line 3)" in parsed.warnings


def test_speaker_transcript_text_is_not_irc() -> None:
    bundle = MemoryBundle("call.txt", {"": b"Ann: hello all\nBob: hi Ann\nAnn: shall we start?\n"})
    assert detect(bundle).name == "transcript-text"


def test_minutes_rule() -> None:
    said = [IrcLine(1, "a", "how do I pin a version?"), IrcLine(2, "b", "use =")]
    assert not is_minutes(said)
    assert is_minutes(said + [IrcLine(3, "c", "Topic: pinning")])
    assert is_minutes(said + [IrcLine(3, "c", "RESOLVED: pin everything")])


@pytest.mark.integration
def test_ubuntu_irc_raw_logs(corpus: Path) -> None:
    dev = corpus / "chat" / "irc_disentanglement" / "dev"
    files = sorted(dev.glob("*.raw.txt"))
    assert files, f"no raw logs under {dev}"
    for path in files:
        lines = path.read_text(encoding="utf-8").splitlines()
        # a message or a /me action with some text (joins, parts and renames start with "===")
        said = [ln for ln in lines if re.match(r"^\[\d\d:\d\d\]\s+(?:<[^>]+>\s*|\* \S+\s+)\S", ln)]
        bundle = FileBundle(path)
        parser = detect(bundle)
        parsed = parser.parse(bundle, OPTS)
        assert (parser.name, parsed.kind) == ("irc", SourceKind.thread), path.name
        assert len(parsed.passages) == len(said), path.name
        assert all(p.timestamp and p.author and p.thread_id is None for p in parsed.passages), path.name


@pytest.mark.integration
def test_gitter_rooms_converted_to_channel_logs(corpus: Path, tmp_path: Path) -> None:
    """The hand-split Gitter rooms, converted to plain `[time] <nick> text` logs (message numbers,
    dashed separators and annotator notes dropped), read as dated unthreaded chat."""
    rooms = sorted((corpus / "chat" / "gitter_livechat_manual" / "manual").glob("*.txt"))
    assert rooms
    for room in rooms:
        said = [re.sub(r"^\d+ ", "", ln) for ln in room.read_text(encoding="utf-8").splitlines()
                if re.match(r"^(?:\d+ )?\[\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d\] <[^>]+>", ln)]  # fmt: skip
        log = tmp_path / f"{room.stem}.log"
        log.write_text("\n".join(said) + "\n", encoding="utf-8")
        bundle = FileBundle(log)
        parser = detect(bundle)
        parsed = parser.parse(bundle, OPTS)
        assert parser.name == "irc", room.name
        with_text = [ln for ln in said if re.match(r"^\[[^\]]+\] <[^>]+>\s*\S", ln)]
        assert len(parsed.passages) == len(with_text), room.name
        first = re.match(r"^\[(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d)\]", with_text[0]).groups()
        assert parsed.passages[0].timestamp == f"{first[0]}T{first[1]}+00:00", room.name


def test_html_minutes_page_becomes_turns_with_decisions() -> None:
    bundle = FileBundle(FIXTURES / "ccg-2026-03-10-minutes.html")
    parser = detect(bundle)
    parsed = parser.parse(bundle, OPTS)
    assert (parser.name, parsed.kind) == ("irc-minutes-html", SourceKind.transcript)
    topic = ["Test suite releases"]
    assert [(p.author, p.text, p.section_path) for p in parsed.passages] == [
        ("manu", "We keep breaking implementers when the suite changes under them. "
                 "I propose we tag a release every month.", topic),
        ("dlongley", "Monthly tags work if the changelog lists every changed test.", topic),
        ("orie", "+1 to monthly tags", topic),
        ("minutes-scribe", "RESOLUTION: Tag a release of the test suite every month, with a changelog of changed tests.", topic),
        ("minutes-scribe", "ACTION: manu to write the release checklist for the test suite.", topic),
        ("orie", "Triage stays on Tuesdays.", ["Issue triage"]),
        ("manu", "sounds right", ["Issue triage"]),
    ]  # fmt: skip
    source = Source(id="h", kind=SourceKind.transcript, uri=str(bundle.path), content_hash="h")
    passages = [Passage.from_draft(d, "h", i) for i, d in enumerate(parsed.passages)]
    quotes = [e.quote for c in TranscriptExtractor().run(source, passages).candidates
              if c.kind == CandidateKind.pattern for e in c.evidence]  # fmt: skip
    assert any("Tag a release of the test suite every month" in q for q in quotes), quotes


def test_ordinary_html_stays_a_document() -> None:
    page = b"<html><body><h1>Guide</h1><p>Quote: <cite>Knuth</cite> said so.</p></body></html>"
    assert detect(MemoryBundle("guide.html", {"": page})).name != "irc-minutes-html"
