"""Microsoft Teams transcripts downloaded as Word (.docx).

Teams writes a title block (meeting name, date, duration), then one block per turn: a line with
the speaker's name and the time from the start of the recording, then what they said::

    Ana López   0:03
    We decided to pin the runner images.
    Ben Smith   1:02:15
    Sounds good. Who updates them?

Each block becomes a transcript turn (`start` in seconds; `end` is the next turn's start). The
title block is kept as the meeting's name in `extra`. A .docx with fewer than two speaker lines,
or with them under a quarter of its lines, is an ordinary document, left to the document parser.
(Teams' .vtt download is read by the VTT parser: its `<v Name>` voice tags give the speakers.)

Only word/document.xml is read, with the standard library, after the archive passed the
decompression-bomb check.
"""

from __future__ import annotations

import io
import re
import zipfile
from xml.etree import ElementTree

from pipeline.models import PassageDraft, PassageKind, SourceKind
from pipeline.sources.base import Bundle, Limits, Parsed, ParseOptions, SourceError, check_zip_bomb
from pipeline.sources.transcripts import looks_like_name, parse_timestamp

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_SNIFF_PARAGRAPHS = 300
_HEADER = re.compile(r"^(?P<name>\S.{0,59}?)(?:\s{2,}|\t)\s*(?P<ts>(?:\d+:)?\d{1,2}:\d{2})\s*$")


def docx_paragraphs(data: bytes, limit: int | None = None, limits: Limits | None = None) -> list[str]:
    """The text of the paragraphs of a .docx body (tabs and breaks kept as \\t and \\n), the
    first `limit` of them when given: the XML is read as a stream, so sniffing a long handbook
    stops early."""
    paragraphs: list[str] = []
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            check_zip_bomb(zf.infolist(), limits or Limits())
            with zf.open("word/document.xml") as xml:
                for _, node in ElementTree.iterparse(xml):
                    if node.tag != f"{_W}p":
                        continue
                    paragraphs.append("".join(_pieces(node)))
                    node.clear()
                    if limit is not None and len(paragraphs) >= limit:
                        break
    except (zipfile.BadZipFile, KeyError) as exc:
        raise SourceError(f"not a readable .docx ({exc})") from None
    except ElementTree.ParseError as exc:
        raise SourceError(f"word/document.xml is not valid XML ({exc})") from None
    return paragraphs


def _pieces(paragraph: ElementTree.Element) -> list[str]:
    parts = []
    for node in paragraph.iter():
        if node.tag == f"{_W}t" and node.text:
            parts.append(node.text)
        elif node.tag == f"{_W}tab":
            parts.append("\t")
        elif node.tag in (f"{_W}br", f"{_W}cr"):
            parts.append("\n")
    return parts


def speaker_line(text: str) -> tuple[str, float] | None:
    """(speaker, seconds) for a Teams turn header ("Ana López   0:03"), else None."""
    m = _HEADER.match(text.strip())
    if not m or not looks_like_name(m.group("name")):
        return None
    start = parse_timestamp(m.group("ts"))
    return (m.group("name").strip(), start) if start is not None else None


def _lines(paragraphs: list[str]) -> list[str]:
    return [line.strip() for p in paragraphs for line in p.split("\n") if line.strip()]


def looks_like_teams(paragraphs: list[str]) -> bool:
    """At least two speaker lines, and a quarter of the lines (a turn is a header and its text)."""
    lines = _lines(paragraphs)
    headers = sum(speaker_line(line) is not None for line in lines)
    return headers >= 2 and headers >= len(lines) / 4


class TeamsDocxParser:
    """Teams transcripts saved as .docx: speaker lines with times, then what was said."""

    name = "teams-docx"
    kind = SourceKind.transcript
    version = "1"

    def sniff(self, bundle: Bundle) -> bool:
        """A single .docx whose paragraphs read as a Teams transcript."""
        try:
            if bundle.members() != [""] or not bundle.name.lower().endswith(".docx"):
                return False
            return looks_like_teams(docx_paragraphs(bundle.read(""), limit=_SNIFF_PARAGRAPHS))
        except (SourceError, OSError):
            return False

    def parse(self, bundle: Bundle, options: ParseOptions) -> Parsed:
        """One turn per speaker line; lines before the first one name the meeting."""
        warnings: list[str] = []
        turns: list[PassageDraft] = []
        title: list[str] = []
        for line in _lines(docx_paragraphs(bundle.read(""))):
            header = speaker_line(line)
            if header is not None:
                turns.append(PassageDraft(kind=PassageKind.turn, text="", author=header[0], start=header[1]))
            elif turns:
                turns[-1].text = f"{turns[-1].text} {line}".strip()
            else:
                title.append(line)
        if not turns:
            raise SourceError("no Teams speaker lines ('Name   0:03') found: not a Teams transcript")
        for turn, following in zip(turns, turns[1:]):
            turn.end = following.start
        empty = sum(not t.text for t in turns)
        if empty:
            warnings.append(f"{empty} speaker line(s) without text skipped")
        turns = [t for t in turns if t.text]
        for t in turns:
            t.extra = {"meeting": " / ".join(title)} if title else {}
        return Parsed(kind=self.kind, format=self.name, passages=turns, warnings=warnings)


PARSERS: list = [TeamsDocxParser()]
