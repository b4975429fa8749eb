"""mbox parser: exact output on a small team-list fixture, and the real r-package-devel archive."""

from __future__ import annotations

import mailbox
import re
from pathlib import Path

import pytest

from pipeline.sources.base import FileBundle, MemoryBundle, ParseOptions, SourceError
from pipeline.sources.mbox import PARSERS, MboxParser, clean_body, normalize_subject, split_mbox

PARSER = PARSERS[0]
REAL = Path("chat") / "mailing_list_r-package-devel" / "2024q3.mbox"


def _mail(from_line: str, headers: str, body: str) -> bytes:
    return f"From {from_line}\n{headers.strip()}\n\n{body}\n".encode()


def test_registry_entry() -> None:
    assert isinstance(PARSER, MboxParser)
    assert PARSER.name == "mbox" and PARSER.kind.value == "thread"


def test_sniff(fixtures: Path) -> None:
    assert PARSER.sniff(FileBundle(fixtures / "mbox" / "team.mbox"))
    assert PARSER.sniff(MemoryBundle("archive", {"": b"From a@b.org Mon Jul  1 09:00:00 2024\nFrom: a\n\nx\n"}))
    assert PARSER.sniff(MemoryBundle("x.MBOX", {"": b""}))
    assert not PARSER.sniff(MemoryBundle("notes.txt", {"": b"From the start, we agreed.\n"}))
    assert not PARSER.sniff(MemoryBundle("dump", {"Posts.xml": b"", "Comments.xml": b""}))


def test_fixture_exact_output(fixtures: Path) -> None:
    parsed = PARSER.parse(FileBundle(fixtures / "mbox" / "team.mbox"), ParseOptions())
    got = [(p.author, p.timestamp, p.message_id, p.reply_to, p.thread_id, p.text, p.extra) for p in parsed.passages]
    flaky = "Re: [team-list] Flaky tests in CI"
    assert got == [
        # Root: ">From" unescaped, signature after "-- " removed, List-Id kept.
        ("Alice Example", "2024-07-01T09:00:00+02:00", "<root@example.org>", None, "<root@example.org>",
         "How do you deal with flaky tests?\nFrom the docs I learned about retries.",
         {"subject": "[team-list] Flaky tests in CI", "list": "Team list <team.example.org>"}),
        # Wrapped attribution, quoted text and the list footer removed.
        ("Bob Builder", "2024-07-01T10:00:00+02:00", "<bob@example.org>", "<root@example.org>", "<root@example.org>",
         "We quarantine them in a separate job.", {"subject": flaky, "list": "team-list"}),
        # multipart/alternative: the text/plain part wins; References' first id is the root.
        ("carol@example.org", "2024-07-01T11:00:00+02:00", "<carol@example.org>", "<bob@example.org>",
         "<root@example.org>", "And we track them on a dashboard.", {"subject": flaky, "list": "team-list"}),
        # In-Reply-To only, "addr (Name)" sender, ISO-8859-1 body.
        ("Dave Davis", "2024-07-01T12:00:00+02:00", "<dave@example.org>", "<bob@example.org>", "<root@example.org>",
         "Café talk: quarantine jobs need an owner.", {"subject": flaky, "list": "team-list"}),
        # No Message-ID and no linking headers: joins the thread through its normalised subject.
        ("Erin", "2024-07-01T13:00:00+02:00", None, None, "<root@example.org>",
         "Retries hide real bugs \ufffd be careful.", {"subject": "RE: Flaky tests in CI", "list": None}),
        # (Frank's mail is only a quote: skipped, reported below.)
        # HTML-only mail: converted, styles dropped, code kept.
        ("Grace", "2024-07-02T09:00:00+02:00", "<grace@example.org>", None, "<grace@example.org>",
         "Our release checklist:\n\n- freeze\n- tag\n\n```\nmake release\n  --sign\n```",
         {"subject": "[team-list] Release checklist", "list": "team-list"}),
        # The References root is not in the file: the earliest ancestor present is the root.
        ("Heidi", "2024-07-02T10:00:00+02:00", "<heidi@example.org>", "<missing@example.org>", "<grace@example.org>",
         "We also write release notes.", {"subject": "Re: [team-list] Release checklist", "list": "team-list"}),
        # No ancestor in the file: starts its own thread, but keeps the external reply_to.
        ("Ivan", "2024-07-02T11:00:00+02:00", "<ivan@example.org>", "<elsewhere@example.org>", "<ivan@example.org>",
         "Answering an older thread.", {"subject": "Re: Old topic", "list": None}),
    ]
    assert parsed.warnings == [
        "mail #5: body is not valid utf-8, undecodable bytes replaced",
        "mail #6 <frank@example.org>: empty after removing quoted text and signature, skipped",
    ]
    assert parsed.format == "mbox"


def test_split_only_on_real_from_lines() -> None:
    data = (
        b"From a@x.org Mon Jul  1 09:00:00 2024\nSubject: one\n\nHello\n\nFrom the CRAN policy:\n"
        b">From quoted\n\nFrom b@x.org Mon Jul  1 10:00:00 2024\nSubject: two\n\nBye\n"
    )
    chunks = split_mbox(data)
    assert [c[0] for c in chunks] == [b"From a@x.org Mon Jul  1 09:00:00 2024", b"From b@x.org Mon Jul  1 10:00:00 2024"]
    assert b"From the CRAN policy:\nFrom quoted\n" in chunks[0][1]


def test_malformed_chunk_is_a_warning_and_nothing_readable_is_an_error() -> None:
    good = _mail("a@x.org Mon Jul  1 09:00:00 2024", "From: A <a@x.org>\nMessage-ID: <a@x>", "Hello")
    empty_chunk = b"From b@x.org Mon Jul  1 10:00:00 2024\n\n"
    parsed = PARSER.parse(MemoryBundle("m.mbox", {"": empty_chunk + good}), ParseOptions())
    assert [p.text for p in parsed.passages] == ["Hello"]
    assert len(parsed.warnings) == 1 and parsed.warnings[0].startswith("mail #1: malformed")

    with pytest.raises(SourceError, match="no 'From ' separator"):
        PARSER.parse(MemoryBundle("m.mbox", {"": b"just text\n"}), ParseOptions())
    with pytest.raises(SourceError, match="no readable mail"):
        PARSER.parse(MemoryBundle("m.mbox", {"": empty_chunk}), ParseOptions())
    with pytest.raises(SourceError, match="no mail with any text"):
        PARSER.parse(MemoryBundle("m.mbox", {"": _mail("a@x.org Mon Jul  1 09:00:00 2024", "From: a", "-- \nsig")}),
                     ParseOptions())


def test_clean_body_variants() -> None:
    outlook = "Thanks!\n\n________________________________\nFrom: Someone <s@x.org>\nSent: Monday\n\nold text"
    assert clean_body(outlook, is_reply=True) == "Thanks!"
    unquoted_copy = "Agreed.\n\nOn 17/07/2024, \"X\" <x@y> wrote:\n\nthe whole parent, unquoted"
    assert clean_body(unquoted_copy, is_reply=True) == "Agreed."
    pipe_quotes = "On 28 July 2024 at 15:44, Duncan wrote:\n| quoted\n| more\n\nMy answer."
    assert clean_body(pipe_quotes, is_reply=True) == "My answer."
    console = "Running this:\n\n> f()\n[1] 2\n\n    [[alternative HTML version deleted]]"
    assert clean_body(console, is_reply=False) == "Running this:\n\n> f()\n[1] 2"  # a thread starter keeps quotes
    assert clean_body("Cheers\n\nSent from my iPhone", is_reply=False) == "Cheers"


def test_normalize_subject() -> None:
    assert normalize_subject("Re: [R-pkg-devel] RE: Fwd:  Is  R-Forge dead?") == "is r-forge dead?"
    assert normalize_subject(None) == ""


# --------------------------------------------------------------------------- real archive


def test_real_archive(corpus: Path) -> None:
    path = corpus / REAL
    parsed = PARSER.parse(FileBundle(path), ParseOptions())

    # Independent count: Python's mailbox splits on every line starting "From ", which cuts one
    # mail in this archive in two at an unescaped "From the CRAN Repository Policy file:" line.
    boxed = list(mailbox.mbox(str(path)))
    false_splits = [m for m in boxed if not re.search(r"\d{1,2}:\d\d", m.get_from())]
    assert len(boxed) == 177 and [m.get_from() for m in false_splits] == ["the CRAN Repository Policy file:"]
    skipped = [w for w in parsed.warnings if "empty after removing" in w]
    malformed = [w for w in parsed.warnings if "malformed" in w]
    assert not malformed
    assert len(parsed.passages) == len(boxed) - len(false_splits) - len(skipped) == 176
    assert any("From the CRAN Repository Policy file:" in p.text for p in parsed.passages)

    ids = {m["Message-ID"].strip() for m in boxed if m["Message-ID"]}
    by_id = {p.message_id: p for p in parsed.passages}
    checked = 0
    for m in boxed:
        parent = (m["In-Reply-To"] or "").strip()
        if parent in ids and m["Message-ID"]:
            child = by_id[m["Message-ID"].strip()]
            assert child.reply_to == parent
            assert child.thread_id == by_id[parent].thread_id
            checked += 1
    assert checked == 134

    # Every thread id names a mail of the file, and footers/signatures are gone.
    assert {p.thread_id for p in parsed.passages} <= set(by_id)
    assert len({p.thread_id for p in parsed.passages}) == 36
    assert not any("mailman/listinfo/r-package-devel\n" in p.text + "\n" for p in parsed.passages)
    assert not any(re.search(r"^-- ?$", p.text, re.M) for p in parsed.passages)
    assert all(p.author and p.timestamp for p in parsed.passages)


# --------------------------------------------------------------------------- quoted mail vs R console


def test_quoted_parent_goes_by_its_text_and_r_console_lines_stay() -> None:
    parent = (
        "When I set options in a function they are not reset:\n\n"
        "noset = function() {\n  opts = options()\n  on.exit(options(opts))\n}\n"
        "getOption(\"digits.secs\")\n\nIs this expected?"
    )
    reply = (
        "It is documented in ?options. Compare:\n\n"
        "> getOption(\"digits.secs\")\nNULL\n\n"
        "> noset2()\n$digits.secs\nNULL\n\n"
        "Greg\n\n"
        "> On 11 Jul 2024, at 06:08, John <john at x.org> wrote:\n"
        "> \n"
        "> When I set options in a function they are not reset:\n"
        "> noset = function() {\n"
        ">   opts = options()\n"
    )
    cleaned = clean_body(reply, is_reply=True, parents=[parent])
    assert "> getOption(\"digits.secs\")\nNULL" in cleaned  # prompt and output: the author's console
    assert "> noset2()\n$digits.secs" in cleaned
    assert "When I set options" not in cleaned and "wrote:" not in cleaned


def test_quoted_parent_in_the_middle_of_a_reply_is_recognised_by_its_text() -> None:
    parent = "Does anyone know why R CMD check flags my use of SET_TYPEOF?\nIt started last week."
    reply = (
        "> Does anyone know why R CMD check flags my use of SET_TYPEOF?\n\n"
        "It is not part of the API any more; use Rf_allocVector and copy.\n\n"
        "> x <- allocVector(VECSXP, 2)\n\n"
        "works in current R-devel."
    )
    cleaned = clean_body(reply, is_reply=True, parents=[parent])
    assert not cleaned.startswith("> Does anyone")
    assert "> x <- allocVector(VECSXP, 2)" in cleaned  # not the parent's text: the author's code


@pytest.mark.parametrize(
    "attribution",
    [
        "Op ma 19 aug 2024 om 14:54 schreef Dirk Eddelbuettel <edd at debian.org>:",
        "Am Mi., 25. Sept. 2024 um 22:58 Uhr schrieb Ben Bolker <bbolker at gmail.com>:",
        "Le 9 juil. 2024 ? 12:45, Ivan Krylov <ikrylov at disroot.org> a ?crit :",
        "2024年7月24日(水) 1:20 Josiah Parry <josiah.parry at gmail.com> 写道:",
        # an archive turned "在 …, … 写道:" into question marks, wrapped over two lines
        "? Fri, 12 Jul 2024 20:17:22 +0000\nDRC via R-package-devel <r-package-devel at r-project.org> ?????:",
    ],
)
def test_attribution_lines_in_any_language_are_removed(attribution: str) -> None:
    reply = f"Yes, declare it in Authors@R with role 'cph'.\n\n{attribution}\n\nthe parent mail, copied unquoted"
    parent = "Should co-authors get the cph role?\nthe parent mail, copied unquoted"
    assert clean_body(reply, is_reply=True, parents=[parent]) == "Yes, declare it in Authors@R with role 'cph'."
