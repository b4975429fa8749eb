"""Transcript sources: WebVTT, SRT, QMSum-shaped JSON and plain speaker-turn text.

Every format comes out as turns (`PassageKind.turn`): one speaker, the text they said and,
where the format has it, the time range in seconds. Caption formats (VTT, SRT) cut speech
into short cues, so consecutive cues of one speaker are merged into one turn; speakerless
cues are merged too, but split on long pauses or length so a turn stays passage-sized.
"""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from pipeline.models import PassageDraft, PassageKind, SourceKind
from pipeline.sources.base import Bundle, Parsed, ParseOptions, SourceError, decode_text
from pipeline.text import STOP_WORDS

# A speakerless turn is split when it would grow past this many characters, or when the
# pause before the next cue is longer than this many seconds.
MAX_SPEAKERLESS_CHARS = 1000
MAX_SPEAKERLESS_GAP = 5.0

_TS = r"(?:\d+:)?\d{1,2}:\d{2}(?:[.,]\d{1,3})?"
_TS_PARTS = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{2})(?:[.,](\d{1,3}))?$")
_TIMING = re.compile(r"^\s*(\S+)\s+-->\s+(\S+)(?:\s+(.*))?$")
_VOICE = re.compile(r"<v(?:\.[^\s>]*)?(?:\s+([^>]*))?>|</v\s*>", re.IGNORECASE)
_TIME_TAG = re.compile(r"<\d+(?::\d+)+(?:[.,]\d+)?>")
_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
_ASS_OVERRIDE = re.compile(r"\{\\[^}]*\}")  # {\an8} positioning codes found in SRT files
_SPACES = re.compile(r"\s+")
_SKIPPED_BLOCK = re.compile(r"^(NOTE|STYLE|REGION)(\s|$)")
_PREFIX = re.compile(r"^\s*([^:]{1,60}?)\s*:(?:\s+(.*))?$")

# Words that label a line ("Note: ...", "Update: ...") rather than name a speaker.
_LABELS = frozenset(
    """note notes nb ps p.s. warning caution important tip hint example e.g. i.e. edit update
    todo fixme summary agenda action actions decision decisions re fwd fw subject step reminder
    source sources link links url time date title author from to cc bcc description status
    result results answer question error usage output input info debug fyi tl;dr bonus
    definition location venue attendees participants topic goal goals outcome problem solution
    context recommendation pros cons key value price cost total version http https mailto
    file tel chapter section part page figure table name role team owner email phone address
    type category tags priority assignee reporter id""".split()
)
# Words that make a prefix read as a sentence ("So the reason is: ...") rather than a name: the
# product's stop words, less the ones that are also parts of names ("April May", "Thomas More",
# "J D Smith", "Duke of York"), plus words of talk.
_ALSO_IN_NAMES = frozenset({"may", "more", "most", "of"})
_TALK_WORDS = frozenset("because well okay ok um uh thing things reason point let's we're that's".split())
_FUNCTION_WORDS = _TALK_WORDS | {w for w in STOP_WORDS if (len(w) > 1 or w in "ai") and w not in _ALSO_IN_NAMES}
_BAD_NAME_CHARS = set(',;!?"<>[]{}=/\\|@#*~`^$%+')


def looks_like_name(candidate: str) -> bool:
    """True if `candidate` (the part before a colon) reads as a speaker's name.

    A name has at most four words, starts with a letter, is not a URL, a time or a label
    such as "Note", and does not read as the start of a sentence.
    """
    name = candidate.strip()
    if not name or len(name) > 50 or not name[0].isalpha():
        return False
    if "://" in name or name.lower().startswith("www.") or _BAD_NAME_CHARS & set(name):
        return False
    words = name.split()
    if len(words) > 4:
        return False
    lowered = [w.lower() for w in words]
    if lowered[0] in _LABELS or name.lower() in _LABELS:
        return False
    if len(words) == 1 and len(name) == 1:
        return name.isupper()  # "Q:" / "A:" in interviews
    return not any(w in _FUNCTION_WORDS for w in lowered)


def split_speaker(line: str) -> tuple[str | None, str]:
    """Split a `Name: text` line into (name, text); (None, line) when there is no name prefix."""
    m = _PREFIX.match(line)
    if m and looks_like_name(m.group(1)):
        return m.group(1).strip(), (m.group(2) or "").strip()
    return None, line


def parse_timestamp(value: str) -> float | None:
    """Seconds for `hh:mm:ss.ttt`, `mm:ss.ttt` or `hh:mm:ss,ttt`; None if it is not one."""
    m = _TS_PARTS.match(value.strip())
    if not m:
        return None
    hours, minutes, seconds, frac = m.groups()
    if int(seconds) >= 60 or (hours is not None and int(minutes) >= 60):
        return None
    total = int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds)
    if frac:
        total += int(frac) / 10 ** len(frac)
    return round(float(total), 3)


def _extension(bundle: Bundle) -> str:
    return PurePosixPath(bundle.name.replace("\\", "/")).suffix.lower()


def _is_single_file(bundle: Bundle) -> bool:
    try:
        return bundle.members() == [""]
    except SourceError:
        return False


def _clean_line(line: str, unescape: bool) -> str:
    """Strip markup from one caption line; only WebVTT escapes characters as HTML entities."""
    line = _TIME_TAG.sub("", line)
    line = _TAG.sub("", line)
    line = _ASS_OVERRIDE.sub("", line)
    if unescape:
        line = html.unescape(line)
    return _SPACES.sub(" ", line.replace("\xa0", " ")).strip()


@dataclass
class _Cue:
    """One caption cue: its time range and its lines as (speaker, text) pairs."""

    start: float
    end: float
    raw: list[str]
    lineno: int
    lines: list[tuple[str | None, str]] = field(default_factory=list)


def _cue_lines(raw: list[str], unescape: bool) -> list[tuple[str | None, str]]:
    """Clean a cue's raw lines into (speaker, text) pairs.

    The speaker comes from a voice tag (`<v Name>`) or else from a `Name: ` line prefix;
    a line without either continues the speaker of the line above it.
    """
    text = "\n".join(raw)
    # (speaker, text, whether the speaker came from a voice tag)
    chunks: list[tuple[str | None, str, bool]] = []
    pos, voice = 0, None
    for m in _VOICE.finditer(text):
        chunks.append((voice, text[pos : m.start()], voice is not None))
        closing = m.group(0).startswith("</")
        voice = None if closing else ((m.group(1) or "").strip() or None)
        pos = m.end()
    chunks.append((voice, text[pos:], voice is not None))

    out: list[tuple[str | None, str]] = []
    for speaker, chunk, from_voice in chunks:
        current = speaker
        for raw_line in chunk.split("\n"):
            line = _clean_line(raw_line, unescape)
            if not line:
                continue
            if not from_voice:
                name, rest = split_speaker(line)
                if name is not None:
                    current, line = name, rest
                    if not line:
                        continue
            out.append((current, line))
    return out


def _is_rolling(cues: list[_Cue]) -> bool:
    """Roll-up captions (YouTube auto-captions) re-display the previous line in the next cue."""
    if any(_TIME_TAG.search(line) for cue in cues for line in cue.raw):
        return True
    return any(
        len(cur.lines) >= 2 and prev.lines and cur.lines[0] == prev.lines[-1]
        for prev, cur in zip(cues, cues[1:])
    )


def _drop_repeats(cues: list[_Cue]) -> list[list[tuple[str | None, str]]]:
    """Each cue's lines without the leading lines that the previous cue already showed."""
    result: list[list[tuple[str | None, str]]] = []
    prev: list[tuple[str | None, str]] = []
    for cue in cues:
        cur = cue.lines
        overlap = 0
        for k in range(min(len(prev), len(cur)), 0, -1):
            if cur[:k] == prev[-k:]:
                overlap = k
                break
        result.append(cur[overlap:])
        prev = cur
    return result


def _merge_cues(cues: list[_Cue]) -> list[PassageDraft]:
    """Merge consecutive cue lines of one speaker into turns."""
    shown = _drop_repeats(cues) if _is_rolling(cues) else [cue.lines for cue in cues]
    turns: list[PassageDraft] = []
    current: PassageDraft | None = None
    for cue, lines in zip(cues, shown):
        if not lines and cue.lines and current is not None:
            # A roll-up cue that only re-displays text keeps it on screen: the turn lasts longer.
            current.end = max(current.end or cue.end, cue.end)
        for speaker, text in lines:
            if current is not None and current.author == speaker:
                if speaker is not None or (
                    cue.start - (current.end or 0.0) <= MAX_SPEAKERLESS_GAP
                    and len(current.text) + 1 + len(text) <= MAX_SPEAKERLESS_CHARS
                ):
                    current.text = f"{current.text} {text}"
                    current.end = max(current.end or cue.end, cue.end)
                    continue
            current = PassageDraft(
                kind=PassageKind.turn, text=text, author=speaker, start=cue.start, end=cue.end
            )
            turns.append(current)
    return turns


def _read_text(bundle: Bundle, warnings: list[str]) -> str:
    text = decode_text(bundle.read(), "file", warnings).lstrip("\ufeff")
    if not text.strip():
        raise SourceError("empty file")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _timing(line: str, lineno: int, warnings: list[str]) -> tuple[float, float] | None:
    m = _TIMING.match(line)
    start = parse_timestamp(m.group(1)) if m else None
    end = parse_timestamp(m.group(2)) if m else None
    if start is None or end is None:
        warnings.append(f"line {lineno}: unreadable cue timing {line.strip()!r}, cue skipped")
        return None
    if end < start:
        warnings.append(f"line {lineno}: cue ends before it starts, end set to its start")
        end = start
    return start, end


def _finish(cues: list[_Cue], warnings: list[str], unescape: bool) -> list[PassageDraft]:
    for cue in cues:
        cue.lines = _cue_lines(cue.raw, unescape)
    if cues and not cues[-1].lines:
        warnings.append(
            f"line {cues[-1].lineno}: the last cue has no text (the file may be truncated)"
        )
    return _merge_cues(cues)


class VttParser:
    """WebVTT captions: Zoom, Teams, YouTube (auto-captions included) and hand-made files."""

    name = "vtt"
    kind = SourceKind.transcript
    version = "1"

    def sniff(self, bundle: Bundle) -> bool:
        """A single `.vtt` file, or any single file whose text starts with `WEBVTT`."""
        if not _is_single_file(bundle):
            return False
        if _extension(bundle) == ".vtt":
            return True
        try:
            head = bundle.read()[:16]
        except (SourceError, OSError):
            return False
        return head.removeprefix(b"\xef\xbb\xbf").startswith(b"WEBVTT")

    def parse(self, bundle: Bundle, options: ParseOptions) -> Parsed:
        """Read the cues into speaker turns; raise SourceError if the file is not WebVTT."""
        warnings: list[str] = []
        text = _read_text(bundle, warnings)
        lines = text.split("\n")
        first = lines[0].strip()
        if not (first == "WEBVTT" or first.startswith(("WEBVTT ", "WEBVTT\t"))):
            raise SourceError("not a WebVTT file: the first line must be 'WEBVTT'")

        cues: list[_Cue] = []
        i = 1
        # The header runs to the first blank line (YouTube puts Kind/Language/Style there).
        while i < len(lines) and lines[i].strip() and "-->" not in lines[i]:
            i += 1
        while i < len(lines):
            line = lines[i]
            if not line.strip():
                i += 1
                continue
            block_start = i
            head = line.strip()
            if _SKIPPED_BLOCK.match(head):
                while i < len(lines) and lines[i].strip():
                    i += 1
                continue
            if "-->" not in head:  # a cue identifier: the timing must come next
                i += 1
                if i >= len(lines) or "-->" not in lines[i]:
                    warnings.append(
                        f"line {block_start + 1}: block without a cue timing skipped "
                        f"({head[:40]!r})"
                    )
                    while i < len(lines) and lines[i].strip():
                        i += 1
                    continue
            timing = _timing(lines[i], i + 1, warnings)
            timing_line = i + 1
            i += 1
            raw: list[str] = []
            # Cue text ends at a blank line or at a line holding the next timing.
            while i < len(lines) and lines[i] != "" and "-->" not in lines[i]:
                raw.append(lines[i])
                i += 1
            if (
                i < len(lines)
                and len(raw) >= 2
                and not raw[-2].strip()
                and raw[-1].strip().isdigit()
            ):
                # Blocks separated by a whitespace-only line: the number is the next cue's id.
                raw.pop()
            if timing is not None:
                cues.append(_Cue(timing[0], timing[1], raw, timing_line))

        if not cues:
            reason = f" ({warnings[0]})" if warnings else ""
            raise SourceError(f"no readable cue in the WebVTT file{reason}")
        turns = _finish(cues, warnings, unescape=True)
        if not turns:
            raise SourceError("the WebVTT file has cues but no caption text")
        return Parsed(kind=self.kind, format=self.name, passages=turns, warnings=warnings)


class SrtParser:
    """SubRip subtitles: numbered blocks with `00:00:01,000 --> 00:00:04,000` timings."""

    name = "srt"
    kind = SourceKind.transcript
    version = "1"

    def sniff(self, bundle: Bundle) -> bool:
        """A single `.srt` file."""
        return _extension(bundle) == ".srt" and _is_single_file(bundle)

    def parse(self, bundle: Bundle, options: ParseOptions) -> Parsed:
        """Read the subtitle blocks into speaker turns."""
        warnings: list[str] = []
        lines = _read_text(bundle, warnings).split("\n")
        cues: list[_Cue] = []
        current: _Cue | None = None
        stray: list[int] = []
        for lineno, line in enumerate(lines, 1):
            stripped = line.strip()
            if "-->" in stripped:
                if current is not None and current.raw and current.raw[-1].strip().isdigit():
                    current.raw.pop()  # the next block's number, when a blank line is missing
                timing = _timing(stripped, lineno, warnings)
                current = _Cue(timing[0], timing[1], [], lineno) if timing else None
                if current is not None:
                    cues.append(current)
                continue
            if not stripped:
                if current is not None and current.raw:
                    current = None
                continue
            if current is not None:
                current.raw.append(stripped)
            elif not stripped.isdigit():
                stray.append(lineno)
        if stray:
            warnings.append(
                f"{len(stray)} line(s) outside any subtitle block skipped (first: line {stray[0]})"
            )
        if not cues:
            raise SourceError(
                "no readable subtitle block (expected '00:00:01,000 --> 00:00:04,000' timings)"
            )
        turns = _finish(cues, warnings, unescape=False)
        if not turns:
            raise SourceError("the SRT file has subtitle blocks but no text")
        return Parsed(kind=self.kind, format=self.name, passages=turns, warnings=warnings)


class QmsumParser:
    """QMSum-shaped meetings: `{"meeting_transcripts": [{"speaker", "content"}]}`, .json or .jsonl.

    Each labelled turn stays one passage (they are the dataset's units). `thread_id` names
    the meeting ("meeting-1" for the first, unless it carries an id or name), and
    `extra = {"meeting": i, "turn": j}` gives 0-based positions in the file, so QMSum's
    `relevant_text_span` indices point straight at turns.
    """

    name = "qmsum"
    kind = SourceKind.transcript
    version = "1"

    def sniff(self, bundle: Bundle) -> bool:
        """A single .json/.jsonl file mentioning `meeting_transcripts`."""
        if _extension(bundle) not in (".json", ".jsonl") or not _is_single_file(bundle):
            return False
        try:
            return b'"meeting_transcripts"' in bundle.read()
        except (SourceError, OSError):
            return False

    def parse(self, bundle: Bundle, options: ParseOptions) -> Parsed:
        """Read every meeting's turns; raise SourceError naming the line of malformed JSON."""
        warnings: list[str] = []
        text = _read_text(bundle, warnings)
        meetings: list[tuple[int, object]] = []  # (line number, decoded value)
        if _extension(bundle) == ".jsonl":
            for lineno, line in enumerate(text.split("\n"), 1):
                if not line.strip():
                    continue
                try:
                    meetings.append((lineno, json.loads(line)))
                except json.JSONDecodeError as exc:
                    raise SourceError(
                        f"line {lineno}: invalid JSON ({exc.msg} at column {exc.colno})"
                    ) from None
        else:
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                raise SourceError(
                    f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
                ) from None
            items = value if isinstance(value, list) else [value]
            meetings = [(1, item) for item in items]

        passages: list[PassageDraft] = []
        index = 0
        for lineno, meeting in meetings:
            turns = meeting.get("meeting_transcripts") if isinstance(meeting, dict) else None
            if not isinstance(turns, list):
                warnings.append(f"line {lineno}: no 'meeting_transcripts' list, skipped")
                continue
            thread_id = _meeting_id(meeting, index)
            empty = 0
            for j, turn in enumerate(turns):
                content = turn.get("content") if isinstance(turn, dict) else None
                if not isinstance(content, str):
                    warnings.append(f"{thread_id}: turn {j} has no text content, skipped")
                    continue
                if not content.strip():
                    empty += 1
                    continue
                speaker = turn.get("speaker")
                passages.append(
                    PassageDraft(
                        kind=PassageKind.turn,
                        text=content.strip(),
                        author=str(speaker).strip() or None if speaker is not None else None,
                        thread_id=thread_id,
                        extra={"meeting": index, "turn": j},
                    )
                )
            if empty:
                warnings.append(f"{thread_id}: {empty} empty turn(s) skipped")
            index += 1
        if not passages:
            raise SourceError("no meeting transcript turns found (expected 'meeting_transcripts')")
        return Parsed(kind=self.kind, format=self.name, passages=passages, warnings=warnings)


def _meeting_id(meeting: dict, index: int) -> str:
    for key in ("meeting_id", "id", "name", "title"):
        value = meeting.get(key)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
            return str(value).strip()
    return f"meeting-{index + 1}"


_TURN_PATTERNS = (
    re.compile(rf"^\s*[\[(](?P<ts>{_TS})[\])]\s*(?P<name>[^:]+?)\s*:(?:\s+(?P<text>.*))?$"),
    re.compile(rf"^\s*(?P<ts>{_TS})\s+(?P<name>[^:]+?)\s*:(?:\s+(?P<text>.*))?$"),
    re.compile(rf"^\s*(?P<name>[^:()\[\]]+?)\s*[\[(](?P<ts>{_TS})[\])]\s*:(?:\s+(?P<text>.*))?$"),
    re.compile(r"^\s*(?P<name>[^:]{1,60}?)\s*:(?:\s+(?P<text>.*))?$"),
)


def match_turn(line: str) -> tuple[str, float | None, str] | None:
    """(speaker, start seconds or None, text) if `line` opens a turn in a plain-text transcript."""
    for pattern in _TURN_PATTERNS:
        m = pattern.match(line)
        if m and looks_like_name(m.group("name")):
            ts = m.groupdict().get("ts")
            start = parse_timestamp(ts) if ts else None
            if ts and start is None:
                continue
            return m.group("name").strip(), start, (m.group("text") or "").strip()
    return None


class TranscriptTextParser:
    """Plain-text transcripts: `Name: text` lines, optionally with `[00:01:02]` timestamps.

    Only `.txt` files whose lines mostly open turns are sniffed, so ordinary text documents
    fall through to the document parser. Each prefixed line is one turn (lines are the
    labelled units here, as in QMSum); lines without a prefix continue the current turn.
    """

    name = "transcript-text"
    kind = SourceKind.transcript
    version = "1"
    sample_lines = 400

    def sniff(self, bundle: Bundle) -> bool:
        """A single .txt file where most non-empty lines are speaker turns."""
        if _extension(bundle) != ".txt" or not _is_single_file(bundle):
            return False
        try:
            text = decode_text(bundle.read())
        except (SourceError, OSError):
            return False
        return looks_like_transcript(text, self.sample_lines)

    def parse(self, bundle: Bundle, options: ParseOptions) -> Parsed:
        """Read the turns; preamble lines before the first turn become a speakerless turn."""
        warnings: list[str] = []
        lines = _read_text(bundle, warnings).split("\n")
        turns: list[PassageDraft] = []
        preamble: list[str] = []
        for line in lines:
            stripped = _SPACES.sub(" ", line).strip()
            if not stripped:
                continue
            found = match_turn(line)
            if found is not None:
                speaker, start, text = found
                turns.append(
                    PassageDraft(kind=PassageKind.turn, text=text, author=speaker, start=start)
                )
            elif turns:
                turns[-1].text = f"{turns[-1].text} {stripped}".strip()
            else:
                preamble.append(stripped)
        if not turns:
            raise SourceError("no 'Name: text' turns found: not a speaker-turn transcript")
        empty = [t for t in turns if not t.text]
        if empty:
            warnings.append(f"{len(empty)} turn(s) without text skipped")
        for turn, following in zip(turns, turns[1:]):
            if turn.start is not None and following.start is not None:
                turn.end = following.start
        turns = [t for t in turns if t.text]
        if preamble:
            turns.insert(0, PassageDraft(kind=PassageKind.turn, text=" ".join(preamble)))
        return Parsed(kind=self.kind, format=self.name, passages=turns, warnings=warnings)


def looks_like_transcript(text: str, sample_lines: int = 400) -> bool:
    """True if the text reads as a conversation of `Name: text` turns.

    Many non-empty lines must open turns (at least 30%: continuation lines of wrapped
    turns count against) and it must look like a conversation: timestamps, or two or
    more speakers with someone speaking twice. A metadata block ("Owner: Ann",
    "Team: QA") has each key once and no times, so it is left to the document parser.
    """
    lines = [line for line in text.splitlines() if line.strip()][:sample_lines]
    found = [t for t in (match_turn(line) for line in lines) if t is not None]
    if len(found) < 2 or len(found) < 0.3 * len(lines):
        return False
    counts = Counter(speaker for speaker, _, _ in found)
    timed = sum(1 for _, start, _ in found if start is not None)
    return timed >= 2 or (len(counts) >= 2 and max(counts.values()) >= 2)


PARSERS: list = [VttParser(), SrtParser(), QmsumParser(), TranscriptTextParser()]
