"""IRC logs: channel chat (irssi, weechat, ZNC, plain `<nick> text`) and scribed meeting minutes.

Line forms read (each optionally preceded by a time, bracketed or not, with or without a date):

    [12:18] <nick> text            irssi / ZNC            15:01:24 <nick> text    irssi, W3C irc.log
    [2016-12-29 13:13:53] <nick>   dated                  * nick waves            /me actions
    2024-01-05 12:00:00<TAB>nick<TAB>text                 weechat
    === / -!- / *** / --> / <-- lines                     joins, parts, renames: skipped

Dates come from irssi's `--- Log opened …` / `--- Day changed …` lines, a dated line, or a
`YYYY-MM-DD` in the file name; a time that goes backwards starts the next day.

**Minutes or chat** (the documented rule): a log is *meeting minutes* when it holds a scribe
marker: a `scribe:`/`scribenick:` line, a `Topic:` line, or a `RESOLVED:`/`ACTION:`/`DECISION:`
line. Minutes become transcript turns (`SourceKind.transcript`): a `Topic:` line names the section
(`section_path`) of the turns after it; what the scribe types as `Name: text` is Name's turn and
`… text` continues it; a marked line (`RESOLVED: …`, `ACTION: …`) is a turn of its own, its text
kept as written so the transcript extractor makes it a decision or action; queue and attendance
lines (`q+`, `ack ann`, `present+`) and meeting bots (Zakim, RRSAgent) are skipped. `start` is the
clock time in seconds after midnight of the meeting's first day, so a place reads "15:01:24".

Any other log is *unthreaded chat* (`SourceKind.thread`): one message a line, no thread ids, so
the thread extractor's disentangler (`extractors.chat_links`) builds its conversations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import PurePosixPath

from pipeline.models import PassageDraft, PassageKind, SourceKind
from pipeline.sources.base import Bundle, Parsed, ParseOptions, SourceError, decode_text
from pipeline.sources.transcripts import split_speaker

_EXTENSIONS = (".log", ".txt", ".irc")
_SAMPLE_LINES = 200
_DATE = r"(?P<date>\d{4}-\d{2}-\d{2})"
_CLOCK = r"(?P<time>\d{1,2}:\d{2}(?::\d{2})?)"
_STAMP = re.compile(rf"^\s*\[?(?:{_DATE}[ T])?{_CLOCK}\]?\s+")
_WEECHAT = re.compile(rf"^{_DATE} {_CLOCK}\t(?P<nick>[^\t]*)\t(?P<text>.*)$")
_SAY = re.compile(r"^<\s*[@+%~&!]?(?P<nick>[^\s<>]+)\s*>\s?(?P<text>.*)$")
_ACT = re.compile(r"^\*\s+(?P<nick>[^\s*]+)\s+(?P<text>.*)$")
_SYSTEM = re.compile(r"^(?:===|-!-|\*\*\*|-->|<--|--(?:\s|$)|-\w+-\s)")
_IRSSI_DAY = re.compile(r"^---\s+(?:Log opened|Day changed)\s+\w{3}\s+(?P<rest>.+)$")
_NAME_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")

_SCRIBE = re.compile(r"(?i)^scribe(?:nick)?\s*:\s*(?P<who>\S+)")
_TOPIC = re.compile(r"(?i)^(?:sub)?topic\s*:\s*(?P<topic>\S.*)$")
_MARKED = re.compile(r"(?i)^(?:RESOLVED|RESOLUTION|DECISION|DECIDED|AGREED|ACTION)\b\s*(?:\([^)]{0,40}\))?\s*:")
_QUEUE = re.compile(
    r"(?i)^(?:q\s*[+\-?]|queue\s*[+\-=?]|ack\s+\S|present\s*[+\-]|regrets\s*[+\-]|\+present\b|"
    r"(?:zakim|rrsagent|trackbot)\s*[,:]|(?:chair|agenda|meeting|date|present|regrets)\s*:)"
)
_CONTINUE = re.compile(r"^(?:\.\.\.|…)\s*")
_BOTS = frozenset({"zakim", "rrsagent", "trackbot", "github-bot", "ghurlbot"})


@dataclass
class IrcLine:
    """One message of a log: who said what, when (clock time, and the date where the line has it)."""

    lineno: int
    nick: str
    text: str
    time: str | None = None  # "HH:MM" or "HH:MM:SS" as written
    date: str | None = None  # "YYYY-MM-DD" when the line itself carries it
    action: bool = False  # a /me line


def parse_line(line: str, lineno: int = 0) -> IrcLine | str | None:
    """An IrcLine for a message, "system" for a join/part/rename line, None for anything else."""
    m = _WEECHAT.match(line)
    if m:
        nick = m.group("nick").strip()
        if nick in ("-->", "<--", "--", "=!=", ""):
            return "system"
        if nick == "*":
            nick, _, text = m.group("text").partition(" ")
            return IrcLine(lineno, nick, text.strip(), m.group("time"), m.group("date"), action=True)
        return IrcLine(lineno, nick.lstrip("@+%~&"), m.group("text").strip(), m.group("time"), m.group("date"))
    stamp = _STAMP.match(line)
    rest = line[stamp.end():] if stamp else line.strip()
    time, day = (stamp.group("time"), stamp.group("date")) if stamp else (None, None)
    if _SYSTEM.match(rest):
        return "system"
    for pattern, action in ((_SAY, False), (_ACT, True)):
        m = pattern.match(rest)
        if m:
            return IrcLine(lineno, m.group("nick"), m.group("text").strip(), time, day, action)
    return None


def _read_lines(bundle: Bundle, warnings: list[str] | None = None) -> list[str]:
    text = decode_text(bundle.read(""), "file", warnings).lstrip("\ufeff")
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def looks_like_irc(lines: list[str]) -> bool:
    """True if most non-empty lines of the sample are IRC messages or system lines (>= 60%),
    with at least two messages."""
    sample = [line for line in lines if line.strip()][:_SAMPLE_LINES]
    parsed = [parse_line(line) for line in sample]
    said = sum(isinstance(p, IrcLine) for p in parsed)
    known = said + sum(p == "system" or _IRSSI_DAY.match(line) is not None for p, line in zip(parsed, sample))
    return said >= 2 and known >= 0.6 * len(sample)


def is_minutes(messages: list[IrcLine]) -> bool:
    """The documented rule: scribe markers (`scribe:`, `Topic:`, `RESOLVED:`/`ACTION:`) make minutes."""
    return any(_SCRIBE.match(m.text) or _TOPIC.match(m.text) or _MARKED.match(m.text) for m in messages)


def unread_lines(lines: list[str]) -> str | None:
    """A warning naming how many non-empty lines are neither messages nor join/part/day lines."""
    unread = [k for k, line in enumerate(lines, 1)
              if line.strip() and parse_line(line) is None and not _IRSSI_DAY.match(line.strip())]  # fmt: skip
    if not unread:
        return None
    return f"{len(unread)} line(s) not read as IRC messages and skipped (first: line {unread[0]})"


def _clock_seconds(time: str) -> int:
    parts = [int(x) for x in time.split(":")]
    return parts[0] * 3600 + parts[1] * 60 + (parts[2] if len(parts) > 2 else 0)


def _header_date(line: str) -> date | None:
    m = _IRSSI_DAY.match(line.strip())
    if not m:
        return None
    words = m.group("rest").split()
    for fmt, picked in (("%b %d %H:%M:%S %Y", words[:4]), ("%b %d %Y", words[:3])):
        try:
            return datetime.strptime(" ".join(picked), fmt).date()
        except ValueError:
            continue
    return None


def _name_date(name: str) -> date | None:
    m = _NAME_DATE.search(PurePosixPath(name.replace("\\", "/")).name)
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None
    except ValueError:
        return None


def read_log(lines: list[str], name: str = "") -> list[tuple[IrcLine, datetime | None, int | None]]:
    """Every message with its moment (UTC; None without any date) and its clock seconds counted
    from midnight of the log's first day (None for a line without a time)."""
    day: date | None = _name_date(name)
    first_day: date | None = None
    last_clock = -1
    out: list[tuple[IrcLine, datetime | None, int | None]] = []
    for lineno, line in enumerate(lines, 1):
        header = _header_date(line)
        if header is not None:
            day, last_clock = header, -1
            continue
        parsed = parse_line(line, lineno)
        if not isinstance(parsed, IrcLine):
            continue
        clock = _clock_seconds(parsed.time) if parsed.time else None
        if parsed.date:
            day = date.fromisoformat(parsed.date)
        elif clock is not None and clock < last_clock and day is not None:
            day += timedelta(days=1)  # past midnight
        if clock is not None:
            last_clock = clock
        moment = None
        if clock is not None and day is not None:
            moment = datetime.combine(day, datetime.min.time(), tzinfo=timezone.utc) + timedelta(seconds=clock)
        first_day = first_day or day
        since = None
        if clock is not None:
            since = clock + (86400 * (day - first_day).days if day and first_day else 0)
        out.append((parsed, moment, since))
    return out


def chat_messages(log: list[tuple[IrcLine, datetime | None, int | None]]) -> list[PassageDraft]:
    """One message passage per line, without thread ids (the disentangler builds conversations)."""
    drafts = []
    for m, moment, _ in log:
        if not m.text:
            continue
        extra: dict = {"time": m.time} if m.time else {}
        if m.action:
            extra["action"] = True
        drafts.append(
            PassageDraft(
                kind=PassageKind.message,
                text=m.text,
                author=m.nick,
                timestamp=moment.isoformat() if moment else None,
                message_id=f"L{m.lineno}",
                extra=extra,
            )
        )
    return drafts


def minutes_turns(log: list[tuple[IrcLine, datetime | None, int | None]]) -> list[PassageDraft]:
    """Scribed minutes as speaker turns under their topics (see the module docstring)."""
    scribes: set[str] = set()
    topic: list[str] = []
    turns: list[PassageDraft] = []
    last_speaker: str | None = None
    for m, moment, since in log:
        text = m.text
        if not text or m.nick.lower() in _BOTS or _QUEUE.match(text):
            continue
        found = _SCRIBE.match(text)
        if found:
            scribes.add(found.group("who").lower().rstrip(","))
            continue
        found = _TOPIC.match(text)
        if found:
            topic, last_speaker = [found.group("topic").strip()], None
            continue
        speaker, marked = m.nick, bool(_MARKED.match(text))
        if m.nick.lower() in scribes and not marked:
            if _CONTINUE.match(text):
                speaker, text = last_speaker or m.nick, _CONTINUE.sub("", text)
            else:
                name, said = split_speaker(text)
                if name is not None:
                    speaker, text = name, said
                elif last_speaker:
                    speaker = last_speaker  # scribe.perl: an unlabelled scribe line continues the speaker
        if not text.strip():
            continue
        current = turns[-1] if turns else None
        if (current is not None and not marked and current.author == speaker
                and current.section_path == topic and not _MARKED.match(current.text)):  # fmt: skip
            current.text = f"{current.text} {text.strip()}"
            current.end = since if since is not None else current.end
        else:
            turns.append(
                PassageDraft(
                    kind=PassageKind.turn, text=text.strip(), author=speaker, start=since, end=since,
                    timestamp=moment.isoformat() if moment else None, section_path=list(topic),
                    extra={"time": m.time} if m.time else {},
                )
            )
        last_speaker = None if marked else speaker
    return turns


class IrcLogParser:
    """Unthreaded IRC channel logs (irssi, weechat, ZNC) from .log/.txt/.irc files."""

    name = "irc"
    kind = SourceKind.thread
    version = "1"
    minutes = False

    def sniff(self, bundle: Bundle) -> bool:
        """A single .log/.txt/.irc file whose first lines are mostly IRC messages, minutes or not
        as this parser reads them (`is_minutes` over the whole log)."""
        try:
            if bundle.members() != [""] or not bundle.name.lower().endswith(_EXTENSIONS):
                return False
            lines = _read_lines(bundle)
            if not looks_like_irc(lines[: _SAMPLE_LINES * 2]):
                return False
            return is_minutes([m for m, _, _ in read_log(lines)]) == self.minutes
        except (SourceError, OSError):
            return False

    def parse(self, bundle: Bundle, options: ParseOptions) -> Parsed:
        """The log's messages, one passage a line, without thread ids."""
        warnings: list[str] = []
        lines = _read_lines(bundle, warnings)
        log = read_log(lines, bundle.name)
        if not log:
            raise SourceError("no IRC messages found (expected lines like '[12:00] <nick> text')")
        if any(moment is None for _, moment, _ in log):
            warnings.append(
                "no date for some lines (no '--- Log opened' line, dated line or YYYY-MM-DD in the "
                "file name): their messages have no timestamp and are not linked into conversations"
            )
        warnings += [w for w in [unread_lines(lines)] if w]
        return Parsed(kind=self.kind, format=self.name, passages=chat_messages(log), warnings=warnings)


class IrcMinutesParser(IrcLogParser):
    """Scribed IRC minutes (W3C/IETF): turns under their topics, decisions and actions kept."""

    name = "irc-minutes"
    kind = SourceKind.transcript
    version = "1"
    minutes = True

    def parse(self, bundle: Bundle, options: ParseOptions) -> Parsed:
        """Speaker turns under `Topic:` sections (see the module docstring)."""
        warnings: list[str] = []
        lines = _read_lines(bundle, warnings)
        turns = minutes_turns(read_log(lines, bundle.name))
        warnings += [w for w in [unread_lines(lines)] if w]
        if not turns:
            raise SourceError("IRC minutes with scribe markers but no spoken turn")
        return Parsed(kind=self.kind, format=self.name, passages=turns, warnings=warnings)


PARSERS: list = [IrcMinutesParser(), IrcLogParser()]
