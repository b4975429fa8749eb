"""The HTML rendering of scribed IRC minutes (W3C's scribe.perl / RRSAgent "minutes" pages).

Such a page is the same meeting as its `irc.log`, rendered: `<h3>` per topic, a spoken turn as
`<p class="phone"><cite>Name:</cite> text<br>... more</p>`, a line someone typed in IRC as
`<p class="irc">&lt;<cite>nick</cite>&gt; text</p>`, resolutions and actions as paragraphs starting
`RESOLUTION:` / `ACTION:`. Read as a plain HTML document, the transcript extractor never saw a
speaker; here each paragraph is turned back into the IRC line the scribe typed and read by the
minutes reader of `pipeline.sources.irc` (one set of rules for topics, speakers, queue lines,
decisions and actions). The summaries at the end (`ActionSummary`, `ResolutionSummary`) repeat
the meeting and are skipped; so is everything before the first topic or meeting section
(attendees, agenda links).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from pipeline.models import SourceKind
from pipeline.sources.base import Bundle, Parsed, ParseOptions, SourceError, decode_text
from pipeline.sources.irc import IrcLine, minutes_turns

_EXTENSIONS = (".html", ".htm")
_SCRIBE = "minutes-scribe"  # the nick the rendered turns are given back to (no one has it)
_DESIGNATION = re.compile(r"(?i)^scribe(?:nick)?\s*:?\s")
_SUMMARIES = ("actionsummary", "resolutionsummary")
_FINGERPRINTS = (b"scribe.perl", b"ActionSummary", b"ResolutionSummary", b"RRSAgent")


class _Minutes(HTMLParser):
    """Collects (kind, cite, text) per paragraph and topic headings, in page order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.items: list[tuple[str, str, str]] = []  # ("topic"|"p", cite, text)
        self.started = self.stopped = False
        self._tag: str | None = None  # "p" or "h3" being read
        self._cite: list[str] | None = None
        self._cites: list[str] = []
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: (v or "") for k, v in attrs}
        marks = f"{values.get('id', '')} {values.get('name', '')}".lower()
        if any(s in marks for s in _SUMMARIES):
            self.stopped = True
        if "meeting" in values.get("class", "").split() or values.get("id") == "meeting":
            self.started = True
        if self.stopped:
            return
        if tag in ("p", "h3"):
            self.started = self.started or tag == "h3"
            self._tag, self._cites, self._text = tag, [], []
        elif tag == "cite" and self._tag:
            self._cite = []
        elif tag == "br" and self._tag:
            self._text.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "cite" and self._cite is not None:
            self._cites.append("".join(self._cite))
            self._text.append("\x00")  # where the cite stood
            self._cite = None
        elif tag == self._tag:
            text = re.sub(r"[ \t\r\f\v]+", " ", "".join(self._text))
            if self.started and not self.stopped:
                self.items.append(("topic" if tag == "h3" else "p", self._cites[0] if self._cites else "", text))
            self._tag = None

    def handle_data(self, data: str) -> None:
        data = data.replace("\n", " ")  # a line break in the HTML source is a space; <br> breaks lines
        if self._cite is not None:
            self._cite.append(data)
        elif self._tag:
            self._text.append(data)


def irc_lines(html: str) -> list[IrcLine]:
    """The page's paragraphs as the IRC lines the scribe and participants typed.

    Rendered turns come back as lines of one scribe (`_SCRIBE`, a nick no one has), so the minutes
    reader gives `Name: text` to Name and `... text` to the speaker above. What participants typed
    comes back under their nick; the page's own scribe designations are dropped (the page already
    applied them), and the scribe speaking (`<cite>scribe:</cite>`) is the speaker "scribe".
    """
    page = _Minutes()
    page.feed(html)
    page.close()
    lines = [IrcLine(0, _SCRIBE, f"scribe: {_SCRIBE}")]

    def add(nick: str, text: str) -> None:
        lines.append(IrcLine(len(lines), nick, text))

    for kind, cite, text in page.items:
        if kind == "topic":
            add(_SCRIBE, f"Topic: {' '.join(text.split())}")
            continue
        before, _, after = text.partition("\x00") if cite else ("", "", text)
        rows = [re.sub(r"^(?:\.\.\.|…)\s*", "", row.strip()) for row in after.split("\n") if row.strip()]
        rows = [row for row in rows if row]
        cite = " ".join(cite.split()).rstrip(":").strip()
        if not rows:
            continue
        typed = None
        if cite and before.strip().endswith("<"):  # &lt;<cite>nick</cite>&gt; typed in IRC
            typed, rows[0] = cite, re.sub(r"^>\s*", "", rows[0])
        elif cite.startswith("<") and cite.endswith(">"):  # <cite>&lt;nick&gt;</cite> (newer pages)
            typed = cite[1:-1].strip()
        if typed is not None:
            for row in rows:
                if row and not _DESIGNATION.match(row):
                    add(typed, row)
        elif cite.lower() in ("scribe", "scribenick"):
            for row in rows:
                add("scribe", row)
        else:  # said, as the scribe wrote it; no cite: the speaker above goes on (or RESOLUTION:)
            add(_SCRIBE, f"{cite}: {rows[0]}" if cite else rows[0])
            for row in rows[1:]:
                add(_SCRIBE, f"... {row}")
    return lines


class IrcMinutesHtmlParser:
    """scribe.perl / RRSAgent minutes pages (.html): turns under topics, decisions and actions."""

    name = "irc-minutes-html"
    kind = SourceKind.transcript
    version = "1"

    def sniff(self, bundle: Bundle) -> bool:
        """A single .html/.htm file with `<cite>` speakers and a scribe.perl/RRSAgent fingerprint."""
        try:
            if bundle.members() != [""] or not bundle.name.lower().endswith(_EXTENSIONS):
                return False
            data = bundle.read("")
        except (SourceError, OSError):
            return False
        return b"<cite>" in data and any(mark in data for mark in _FINGERPRINTS)

    def parse(self, bundle: Bundle, options: ParseOptions) -> Parsed:
        """The minutes' turns, as the IRC minutes reader makes them from the typed lines."""
        warnings: list[str] = []
        html = decode_text(bundle.read(""), "file", warnings)
        turns = minutes_turns([(line, None, None) for line in irc_lines(html)])
        if not turns:
            raise SourceError("minutes page without a spoken turn (no <cite> speakers or paragraphs found)")
        return Parsed(kind=self.kind, format=self.name, passages=turns, warnings=warnings)


PARSERS: list = [IrcMinutesHtmlParser()]
