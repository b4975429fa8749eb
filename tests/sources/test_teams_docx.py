"""Teams transcripts saved as .docx (the fixtures are written here with python-docx)."""

from __future__ import annotations

from pathlib import Path

import docx
import pytest

from pipeline.models import PassageKind, SourceKind
from pipeline.sources import detect
from pipeline.sources.base import FileBundle, MemoryBundle, ParseOptions
from pipeline.sources.teams_docx import speaker_line


def _docx(path: Path, paragraphs: list[str]) -> Path:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    document.save(str(path))
    return path


TEAMS = [
    "Platform guild sync-20260105_150000-Meeting Recording",
    "January 5, 2026, 3:00PM",
    "45m 3s",
    "Ana López   0:03",
    "We decided to pin the runner images.",
    "Every pipeline uses the pinned digest.",
    "Ben Smith (Guest)   1:02",
    "Sounds good. Who updates them?",
    "Ana López   1:01:15",
    "Renovate does, once a week.",
]


def test_teams_docx_turns(tmp_path: Path) -> None:
    bundle = FileBundle(_docx(tmp_path / "guild-sync.docx", TEAMS))
    parser = detect(bundle)
    parsed = parser.parse(bundle, ParseOptions())
    assert (parser.name, parsed.kind) == ("teams-docx", SourceKind.transcript)
    got = [(p.author, p.text, p.start, p.end) for p in parsed.passages]
    assert got == [
        ("Ana López", "We decided to pin the runner images. Every pipeline uses the pinned digest.", 3.0, 62.0),
        ("Ben Smith (Guest)", "Sounds good. Who updates them?", 62.0, 3675.0),
        ("Ana López", "Renovate does, once a week.", 3675.0, None),
    ]
    assert all(p.kind == PassageKind.turn for p in parsed.passages)
    assert parsed.passages[0].extra["meeting"].startswith("Platform guild sync")


def test_ordinary_docx_is_left_to_the_document_parser(tmp_path: Path) -> None:
    paragraphs = ["Release checklist", "Owner: Ann   0:30", "Tag the release.", "Write the changelog.",
                  "Announce it on the list.", "Close the milestone."]
    bundle = FileBundle(_docx(tmp_path / "checklist.docx", paragraphs))
    assert detect(bundle).name == "docx"


def test_speaker_line() -> None:
    assert speaker_line("Ana López   0:03") == ("Ana López", 3.0)
    assert speaker_line("Ana López\t1:02:15") == ("Ana López", 3735.0)
    assert speaker_line("Note   0:03") is None  # a label, not a name
    assert speaker_line("We met at 0:03") is None


def test_broken_docx_is_not_claimed() -> None:
    bundle = MemoryBundle("broken.docx", {"": b"PK\x03\x04 not really a zip"})
    assert detect(bundle).name == "docx"  # the document parser reports what is wrong with it


@pytest.mark.integration
def test_real_docx_files_stay_documents(corpus: Path) -> None:
    files = sorted((corpus / "docs" / "formats_unstructured").glob("*.docx"))
    assert files
    for path in files:
        assert detect(FileBundle(path)).name == "docx", path.name
