"""Stack Exchange dump parser: exact output on a small fixture, and the real quantumcomputing dump."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest

from pipeline.models import PassageKind
from pipeline.sources.base import DirBundle, MemoryBundle, ParseOptions, SourceError
from pipeline.sources.stackexchange import PARSERS, StackExchangeParser, html_to_text

PARSER = PARSERS[0]


def _rows(text: str) -> bytes:
    return f'<?xml version="1.0" encoding="utf-8"?>\n<posts>\n{text}\n</posts>\n'.encode()


def test_registry_entry() -> None:
    assert isinstance(PARSER, StackExchangeParser)
    assert PARSER.name == "stackexchange" and PARSER.kind.value == "thread"


def test_sniff(fixtures: Path, tmp_path: Path) -> None:
    assert PARSER.sniff(DirBundle(fixtures / "stackexchange" / "site"))
    assert PARSER.sniff(DirBundle(fixtures / "stackexchange"))  # dump one folder down
    assert PARSER.sniff(MemoryBundle("dump", {"Posts.xml": b"", "Users.xml": b""}))
    assert not PARSER.sniff(MemoryBundle("dump", {"Comments.xml": b""}))
    assert not PARSER.sniff(MemoryBundle("notes.txt", {"": b"hello"}))
    assert PARSER.sniff(MemoryBundle("some/Posts.xml", {"": b""}))


def test_fixture_exact_output(fixtures: Path) -> None:
    parsed = PARSER.parse(DirBundle(fixtures / "stackexchange" / "site"), ParseOptions())
    got = [p.model_dump(exclude_defaults=True) for p in parsed.passages]
    msg = PassageKind.message
    assert got == [
        {
            "kind": msg,
            "text": 'How to run remote retrospectives?\n\nOur retros feel stale.\n\n```\ndef retro():\n    return "same"\n```',
            "author": "user:10",
            "timestamp": "2024-01-01T10:00:00.000",
            "message_id": "post:1",
            "thread_id": "post:1",
            "score": 7,
            "element_type": "question",
            "extra": {
                "title": "How to run remote retrospectives?",
                "tags": ["retrospectives", "remote"],
                "accepted_answer_id": "post:3",
                "duplicate_of": [],
                "related": ["post:4"],
            },
        },
        {"kind": msg, "text": "Which tool do you use?", "author": "user:12", "timestamp": "2024-01-01T11:00:00.000",
         "message_id": "comment:100", "thread_id": "post:1", "reply_to": "post:1", "score": 2, "element_type": "comment"},
        # Answers in CreationDate order: post 3 was written before post 2.
        {"kind": msg, "text": "Use a shared board:\n\n- silent writing\n- dot voting", "author": "user:12",
         "timestamp": "2024-01-02T10:00:00.000", "message_id": "post:3", "thread_id": "post:1", "reply_to": "post:1",
         "score": 5, "accepted": True, "element_type": "answer"},
        {"kind": msg, "text": "Dot voting works & scales.", "author": "user:10", "timestamp": "2024-01-02T11:00:00.000",
         "message_id": "comment:101", "thread_id": "post:1", "reply_to": "post:3", "score": 0, "element_type": "comment"},
        {"kind": msg, "text": "Rotate the facilitator.", "author": "user:11", "timestamp": "2024-01-03T10:00:00.000",
         "message_id": "post:2", "thread_id": "post:1", "reply_to": "post:1", "score": 1, "accepted": False,
         "element_type": "answer"},
        {
            "kind": msg,
            "text": "Remote retro ideas\n\nSame as before?",
            "author": "Guest",
            "timestamp": "2024-02-01T10:00:00.000",
            "message_id": "post:4",
            "thread_id": "post:4",
            "score": -1,
            "element_type": "question",
            "extra": {
                "title": "Remote retro ideas",
                "tags": ["retrospectives"],
                "accepted_answer_id": None,
                "duplicate_of": ["post:1"],
                "related": [],
            },
        },
        {"kind": msg, "text": "Duplicate, see the first one.", "author": "Mod", "timestamp": "2024-02-01T12:00:00.000",
         "message_id": "comment:103", "thread_id": "post:4", "reply_to": "post:4", "score": 1, "element_type": "comment"},
    ]
    assert parsed.warnings == [
        "1 answer(s) dropped: their question is not in Posts.xml (ids 5)",
        "1 comment(s) dropped: the post they comment on is not a question or answer in Posts.xml (ids 102)",
    ]
    assert parsed.format == "stackexchange"


def test_posts_only_dump() -> None:
    bundle = MemoryBundle("dump", {"Posts.xml": _rows('<row Id="1" PostTypeId="1" Title="T" Body="&lt;p&gt;B&lt;/p&gt;" />')})
    parsed = PARSER.parse(bundle, ParseOptions())
    assert [(p.text, p.author, p.extra["tags"]) for p in parsed.passages] == [("T\n\nB", None, [])]
    assert parsed.warnings == []


def test_malformed_xml_names_file_and_position() -> None:
    good = _rows('<row Id="1" PostTypeId="1" Title="T" Body="b" />')
    bad = b'<?xml version="1.0"?>\n<comments>\n  <row Id="1" PostId="1" Text="x" \n</comments>'
    with pytest.raises(SourceError, match=r"Comments\.xml: malformed XML at line \d+, column \d+"):
        PARSER.parse(MemoryBundle("dump", {"Posts.xml": good, "Comments.xml": bad}), ParseOptions())
    with pytest.raises(SourceError, match=r"Posts\.xml: malformed XML at line 3"):
        PARSER.parse(MemoryBundle("dump", {"Posts.xml": b"<posts>\n<row Id='1'/>\n<row"}), ParseOptions())


def test_entity_declarations_refused() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE posts [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b'<posts><row Id="1" PostTypeId="1" Title="&b;" Body="" /></posts>'
    )
    with pytest.raises(SourceError, match="DTD"):
        PARSER.parse(MemoryBundle("dump", {"Posts.xml": bomb}), ParseOptions())


def test_no_questions_is_an_error() -> None:
    with pytest.raises(SourceError, match="no questions"):
        PARSER.parse(MemoryBundle("dump", {"Posts.xml": _rows("")}), ParseOptions())


def test_html_to_text() -> None:
    html = (
        "<p>Intro with <code>x()</code> and a <a href='http://e.org'>link</a>.</p>"
        "<ol><li>one</li><li>two</li></ol><pre><code>if x:\n    y()\n</code></pre>"
        "<p>a<br>b</p><script>alert(1)</script>"
    )
    assert html_to_text(html) == "Intro with x() and a link.\n\n1. one\n2. two\n\n```\nif x:\n    y()\n```\n\na\nb"
    assert html_to_text("") == ""
    assert html_to_text("<p>keep</p><blockquote>quoted</blockquote>", drop_quotes=True) == "keep"
    assert html_to_text("<p>keep</p><blockquote>quoted</blockquote>") == "keep\n\nquoted"


# --------------------------------------------------------------------------- real dump


@pytest.fixture(scope="module")
def qc(corpus: Path) -> tuple[Path, list]:
    folder = corpus / "threads" / "stackexchange" / "quantumcomputing.stackexchange.com"
    parsed = PARSER.parse(DirBundle(folder), ParseOptions())
    return folder, parsed


def test_real_dump_matches_independent_read(qc: tuple[Path, object]) -> None:
    folder, parsed = qc
    rows = [r.attrib for r in ET.parse(folder / "Posts.xml").getroot().iter("row")]
    questions = {r["Id"]: r for r in rows if r["PostTypeId"] == "1"}
    answers = {r["Id"]: r for r in rows if r["PostTypeId"] == "2"}
    assert (len(questions), len(answers)) == (612, 1060)

    by_type = Counter(p.element_type for p in parsed.passages)
    assert by_type["question"] == 612 and by_type["answer"] == 1060
    assert parsed.warnings == []  # no orphans in this dump

    current_question = None
    for p in parsed.passages:
        if p.element_type == "question":
            current_question = p.message_id
            assert p.thread_id == p.message_id
            q = questions[p.message_id.removeprefix("post:")]
            assert p.text.startswith(q["Title"])
            assert p.extra["accepted_answer_id"] == (f"post:{q['AcceptedAnswerId']}" if "AcceptedAnswerId" in q else None)
        elif p.element_type == "answer":
            a = answers[p.message_id.removeprefix("post:")]
            # Each answer directly follows its own question's block, and points at it.
            assert p.reply_to == p.thread_id == current_question == f"post:{a['ParentId']}"
            assert p.accepted == (questions[a["ParentId"]].get("AcceptedAnswerId") == a["Id"])
        else:
            assert p.thread_id == current_question

    accepted = {p.message_id for p in parsed.passages if p.accepted}
    expected = {f"post:{q['AcceptedAnswerId']}" for q in questions.values() if "AcceptedAnswerId" in q}
    assert accepted == expected and len(accepted) == 389


def test_real_dump_links_and_comments(qc: tuple[Path, object]) -> None:
    folder, parsed = qc
    links = [r.attrib for r in ET.parse(folder / "PostLinks.xml").getroot().iter("row")]
    dup_pairs = {(f"post:{r['PostId']}", f"post:{r['RelatedPostId']}") for r in links if r["LinkTypeId"] == "3"}
    questions = {p.message_id: p for p in parsed.passages if p.element_type == "question"}
    got_pairs = {(qid, target) for qid, p in questions.items() for target in p.extra["duplicate_of"]}
    assert got_pairs == {pair for pair in dup_pairs if pair[0] in questions}
    assert len(got_pairs) >= 10
    assert sum(len(p.extra["related"]) for p in questions.values()) > 250

    comment_count = len(ET.parse(folder / "Comments.xml").getroot())
    comments = [p for p in parsed.passages if p.element_type == "comment"]
    assert len(comments) == comment_count
    assert sum("```" in p.text for p in questions.values()) > 0
