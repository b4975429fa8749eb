"""Mailbox files (mbox): one passage per mail, threaded by Message-ID / In-Reply-To / References.

The file is split on From_ lines ourselves (``mailbox.mbox`` needs a path, and it splits on
*any* line starting with "From ", which cuts mails whose body has an unescaped "From the..."
line in two). A separator must follow a blank line (or start the file) and look like a real
From_ line: sender, then a date with a clock time.

Bodies are reduced to what the author wrote: quoted text, reply attributions, forwarded
copies, signatures and mailing-list footers are removed, so the same words are not indexed
once per reply.
"""

from __future__ import annotations

import codecs
import email
import email.policy
import email.utils
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from pathlib import PurePosixPath

from pipeline.models import PassageDraft, PassageKind, SourceKind, short_hash
from pipeline.sources.base import Bundle, ParseOptions, Parsed, SourceError
from pipeline.sources.stackexchange import html_to_text
from pipeline.text_clean import is_attribution

__all__ = ["PARSERS", "MboxParser", "clean_body", "display_subject", "normalize_subject", "split_mbox"]

# "From sender  Tue Jul  2 00:04:40 2024": a sender, then something with a clock time.
_FROM_LINE = re.compile(rb"^From \S.*\s\d{1,2}:\d\d(:\d\d)?\b")
_ESCAPED_FROM = re.compile(rb"^>(>*From )", re.MULTILINE)
_MSG_ID = re.compile(r"<[^<>\s]+>")


def split_mbox(data: bytes) -> list[tuple[bytes, bytes]]:
    """Split mbox bytes into (From_ line, message bytes) pairs, unescaping ">From " lines.

    Text before the first From_ line is ignored. Line endings may be LF or CRLF.
    """
    lines = data.splitlines(keepends=True)
    chunks: list[tuple[bytes, list[bytes]]] = []
    previous_blank = True
    for line in lines:
        if previous_blank and _FROM_LINE.match(line):
            chunks.append((line.rstrip(b"\r\n"), []))
        elif chunks:
            chunks[-1][1].append(line)
        previous_blank = not line.strip()
    return [(from_line, _ESCAPED_FROM.sub(rb"\1", b"".join(body))) for from_line, body in chunks]


# --------------------------------------------------------------------------- headers


def _raw_header(msg: Message, name: str) -> str | None:
    """A header's value, unfolded and RFC 2047-decoded, tolerant of malformed values.

    The default policy's structured headers turn obfuscated addresses such as
    "jane @end|ng |rom example.org (Jane)" into "<>", so values are read raw.
    """
    for key, value in msg.raw_items() if isinstance(msg, EmailMessage) else msg.items():
        if key.lower() == name.lower():
            value = re.sub(r"\r?\n[ \t]+", " ", str(value)).strip()
            try:
                return str(make_header(decode_header(value))).strip()
            except (ValueError, LookupError, UnicodeError):
                return value
    return None


def _author(from_value: str | None) -> str | None:
    """Display name from a From header ("Name <addr>" or "addr (Name)"), else the address."""
    if not from_value:
        return None
    angle = re.match(r'^\s*(.*?)\s*<([^<>]*)>\s*$', from_value)
    if angle:
        name = angle.group(1).strip().strip('"').strip()
        return name or angle.group(2).strip() or None
    comment = re.match(r"^(.*?)\s*\(([^()]*)\)\s*$", from_value)
    if comment and comment.group(2).strip():
        return comment.group(2).strip()
    return from_value.strip() or None


def _timestamp(date_value: str | None, from_line: bytes) -> str | None:
    """ISO 8601 from the Date header, else from the From_ line's asctime (no zone known)."""
    if date_value:
        try:
            return email.utils.parsedate_to_datetime(date_value).isoformat()
        except (TypeError, ValueError, IndexError):
            pass
    match = re.search(rb"(\w{3}) +(\w{3}) +(\d{1,2}) (\d{1,2}:\d\d:\d\d) (\d{4})", from_line)
    if match:
        try:
            stamp = b" ".join(match.groups()[1:]).decode("ascii")
            return datetime.strptime(stamp, "%b %d %H:%M:%S %Y").isoformat()
        except ValueError:
            pass
    return None


_SUBJECT_PREFIX = re.compile(
    r"^\s*(?:(?:re|aw|sv|antw|vs|fwd?|wg|tr)\s*(?:\[\d+\]|\(\d+\))?\s*:|\[[^\]]*\])\s*", re.IGNORECASE
)


def display_subject(subject: str | None) -> str:
    """A subject as a reader wants it: without reply/forward markers and [list] tags."""
    text = subject or ""
    while True:
        stripped = _SUBJECT_PREFIX.sub("", text, count=1)
        if stripped == text:
            break
        text = stripped
    return re.sub(r"\s+", " ", text).strip()


def normalize_subject(subject: str | None) -> str:
    """A subject without reply/forward markers and [list] tags, for grouping unlinked mails."""
    return display_subject(subject).casefold()


# --------------------------------------------------------------------------- bodies


def _decode_part(part: Message, label: str, warnings: list[str]) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset()
    if charset:
        try:
            codecs.lookup(charset)
        except LookupError:
            warnings.append(f"{label}: unknown charset {charset!r}, decoded as UTF-8 with replacements")
            return payload.decode("utf-8", errors="replace")
    encoding = charset or "utf-8"
    try:
        return payload.decode(encoding)
    except UnicodeDecodeError:
        warnings.append(f"{label}: body is not valid {encoding}, undecodable bytes replaced")
        return payload.decode(encoding, errors="replace")


def _body(msg: Message, label: str, warnings: list[str]) -> tuple[str, bool]:
    """(text, came from HTML): the first text/plain part, else the first text/html one."""
    plain = html = None
    for part in msg.walk():
        if part.is_multipart():
            continue
        if (part.get_content_disposition() or "") == "attachment":
            continue
        ctype = part.get_content_type()
        if ctype == "text/plain" and plain is None:
            plain = part
        elif ctype == "text/html" and html is None:
            html = part
    if plain is not None:
        return _decode_part(plain, label, warnings), False
    if html is not None:
        return html_to_text(_decode_part(html, label, warnings), drop_quotes=True), True
    return "", False


_ATTRIBUTION_START = re.compile(r"^\W{0,2}(on|am|le|el|il|op|em|den|quoting)\b", re.IGNORECASE)
_DATE_LINE = re.compile(r"\b\d{1,2}:\d\d\b")
# Archives mangle non-ASCII into "?", so a divider may carry a stray leading character.
_FORWARD_DIVIDER = re.compile(r"^\s*\W?\s*-{2,}\s*(original message|forwarded message)\s*-{2,}\s*$", re.I)
_MOBILE_FOOTER = re.compile(r"^\s*(sent from (my|outlook|mail|yahoo)|get outlook for)\b", re.IGNORECASE)
_UNDERSCORES = re.compile(r"^\s*_{10,}\s*$")
_HEADERISH = re.compile(r"^\s*[^\s:]{1,30}:\s")
_FOOTERISH = re.compile(r"mailing list|listinfo|posting guide|minimal, self-contained|reproducible code", re.I)
_SCRUBBED = re.compile(r"^\s*\[\[alternative (html )?version deleted\]\]\s*$", re.IGNORECASE)
_FOOTER_TAIL = re.compile(r"^\s*(https?://|and provide)")
_NEXT_PART = re.compile(r"^-+ next part -+$")


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _unquote(line: str) -> str:
    return re.sub(r"^\s*[>|]\s?", "", line, count=1)


# "> getOption(...)", "> x <- 1", "> library(Rcpp)": an R prompt line, not a quote.
_CONSOLE = re.compile(r"^>\s?(?:[\w.:$@\[\]]+\s*(?:<-|=|\(|\$|\[|\+)|#|[\w.]+\s*$)")


def _quoted_run_is_parent(run: list[str], after: str, parents: str | None, attributed: bool) -> bool:
    """Whether a run of ">" lines is quoted mail (else it is the author's own R console lines).

    Quoted: introduced by an attribution, nested ("> >"), or holding a quoted attribution. An R
    prompt line with its output right below it is the author's. Other prompt-like runs are the
    author's unless they are the parent's text (a quoted snippet of the parent's code); prose
    runs are quoted mail even when the quoted mail is missing from the archive.
    """
    content = [_unquote(x) for x in run if _unquote(x).strip()]
    if not content or attributed:
        return True
    if any(re.match(r"^\s*[>|]\s?[>|]", x) for x in run) or any(is_attribution(c) for c in content):
        return True
    prompts = [x for x in run if x.strip(" >")]
    if not all(_CONSOLE.match(x.lstrip()) for x in prompts):
        return True
    if after.strip() and not _is_quote(after, (">",)):
        return False  # a prompt line and its output right below it
    if parents is None:
        return False
    found = sum(len(c) for c in content if _norm(c) in parents)
    return found >= 0.6 * sum(len(c) for c in content)


def _copies_parent(rest: list[str], parents: str | None, attribution: str) -> bool:
    """Whether the unquoted text after an attribution is a copy of the parent mail: its first
    lines are the parent's text, or (parent not in the archive) an "On <date> …" attribution
    leads into it, as mail clients write it when they copy without quoting."""
    head = [_norm(x) for x in rest if x.strip()][:3]
    if parents is not None and head:
        return sum(1 for x in head if x in parents) * 2 > len(head)
    return bool(_ATTRIBUTION_START.match(attribution))


def _drop_quoted(lines: list[str], parents: Sequence[str]) -> list[str]:
    """A reply's lines without quoted parent mail and the attributions that introduce it."""
    prefixes: tuple[str, ...] = (">",)
    # Some clients quote with "| " (e.g. Emacs VM): accept it when an attribution leads into it.
    for i, line in enumerate(lines):
        if _attribution_at(lines, i) is not None:
            following = next((x for x in lines[i + 1 :] if x.strip()), "")
            if following.lstrip().startswith("|"):
                prefixes = (">", "|")
                break
    parent_text = _norm("\n".join(parents)) if parents else None
    out: list[str] = []
    attributed = False  # the last attribution introduced a quote that is still running
    i = 0
    while i < len(lines):
        line = lines[i]
        if _is_quote(line, prefixes):
            end = i
            while end < len(lines) and _is_quote(lines[end], prefixes):
                end += 1
            after = lines[end] if end < len(lines) else ""
            if not _quoted_run_is_parent(lines[i:end], after, parent_text, attributed):
                out.extend(lines[i:end])
            i = end
            continue
        start = _attribution_at(lines, i)
        if start is not None:
            following = next((x for x in lines[i + 1 :] if x.strip()), None)
            del out[len(out) - (i - start) :]
            if following is None or _is_quote(following, prefixes):
                attributed = True
                i += 1
                continue
            if _copies_parent(lines[i + 1 :], parent_text, lines[start]):
                break  # "On …, X wrote:" followed by an unquoted copy of the parent
            i += 1  # an attribution before the author's own words ("X wrote: <SNIP> I agree")
            continue
        if line.strip():
            attributed = False
        out.append(line)
        i += 1
    return out


def _attribution_at(lines: list[str], end: int) -> int | None:
    """The first line of a reply attribution ending at line `end` ("On <date>, X wrote:" in any
    language, possibly wrapped over three lines), or None when line `end` does not end one."""
    if not lines[end].strip().endswith((":", "：")) or _is_quote(lines[end], (">", "|")):
        return None
    for start in range(max(0, end - 2), end + 1):
        span = [x.strip() for x in lines[start : end + 1]]
        if not all(span) or any(_is_quote(x, (">", "|")) for x in lines[start:end]):
            continue
        # A wrapped attribution opens like one ("On …", "Am …") or with its date line.
        opens = start == end or _ATTRIBUTION_START.match(span[0]) or (_DATE_LINE.search(span[0]) and len(span[0]) < 80)
        if opens and is_attribution(" ".join(span)):
            return start
    return None


def _is_quote(line: str, prefixes: tuple[str, ...]) -> bool:
    return line.lstrip().startswith(prefixes)


def clean_body(text: str, is_reply: bool, parents: Sequence[str] = ()) -> str:
    """What the author wrote: without list footers, signatures and (in replies) quoted mail.

    Quoted text is only removed from replies: a thread starter that quotes something (a CRAN
    message, a policy) is quoting material that appears nowhere else in the archive. In a reply,
    quoted mail is recognised as the parent's text (`parents`: the bodies of the mails it
    replies to, when the archive has them), or by the attribution that introduces it, not by a
    leading ">" alone: R console lines ("> getOption(...)" followed by their output) stay.
    """
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]

    # Cut-offs: everything after a signature delimiter, a scrubbed attachment, or a forwarded
    # / Outlook-style copy of an earlier mail is someone else's text or boilerplate.
    cut = len(lines)
    for i, line in enumerate(lines):
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if line in ("-- ", "--") or _NEXT_PART.match(line) or _FORWARD_DIVIDER.match(line):
            cut = i
        elif _UNDERSCORES.match(line) and _HEADERISH.match(nxt) and not _FOOTERISH.search(nxt):
            cut = i
        elif re.match(r"^From: ", line) and any(re.match(r"^(Sent|Date): ", x) for x in lines[i + 1 : i + 3]):
            cut = i
        if cut == i:
            break
    lines = lines[:cut]

    # Mailing-list footers ("____ / R-package-devel at r-project.org mailing list / listinfo URL").
    kept: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if _UNDERSCORES.match(line) and any(_FOOTERISH.search(x) for x in lines[i + 1 : i + 3]):
            i += 1
            while i < len(lines) and (_FOOTERISH.search(lines[i]) or _FOOTER_TAIL.match(lines[i])):
                i += 1
            continue
        if not _SCRUBBED.match(line) and not _MOBILE_FOOTER.match(line):
            kept.append(line)
        i += 1
    lines = kept

    if is_reply:
        lines = _drop_quoted(lines, parents)
    text = "\n".join(lines)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


# --------------------------------------------------------------------------- threading


_SINGLE_MAIL_SUFFIXES = {".eml", ".msg"}


class _Threads:
    """Union-find over mails linked by In-Reply-To / References (and, failing those, subject)."""

    def __init__(self, size: int) -> None:
        self.parent = list(range(size))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)  # the earlier mail stays the representative


@dataclass
class _Mail:
    index: int  # 1-based position in the file, as warnings name it
    raw: bytes
    from_line: bytes
    msg: Message
    message_id: str | None
    in_reply_to: str | None
    references: list[str]
    subject: str | None


@dataclass(frozen=True)
class MboxParser:
    """An mbox file → one message passage per mail, threaded."""

    name: str = "mbox"
    kind: SourceKind = SourceKind.thread
    version: str = "2"  # 2: quoted mail recognised as the parent's text; attributions in any language

    def sniff(self, bundle: Bundle) -> bool:
        """True for a single file named *.mbox or starting with an mbox From_ line."""
        members = bundle.members()
        if len(members) != 1:
            return False
        names = (bundle.name, members[0])
        suffixes = {PurePosixPath(n.replace("\\", "/")).suffix.lower() for n in names if n}
        if ".mbox" in suffixes:
            return True
        if suffixes & _SINGLE_MAIL_SUFFIXES:
            # A single saved mail may start with a From_ line too; it is a document, not a list.
            return False
        head = bundle.read(members[0])[:1024]
        return bool(_FROM_LINE.match(head.split(b"\n", 1)[0]))

    def parse(self, bundle: Bundle, options: ParseOptions) -> Parsed:
        """Split the mailbox, clean each mail's body and rebuild threads."""
        members = bundle.members()
        if len(members) != 1:
            raise SourceError("an mbox source is a single file")
        chunks = split_mbox(bundle.read(members[0]))
        if not chunks:
            raise SourceError("not an mbox file: no 'From ' separator line found")

        warnings: list[str] = []
        mails: list[_Mail] = []
        for index, (from_line, raw) in enumerate(chunks, start=1):
            try:
                mails.append(self._read(index, from_line, raw))
            except Exception as exc:  # noqa: BLE001 - one broken mail must not sink the file
                warnings.append(f"mail #{index}: malformed, skipped ({type(exc).__name__}: {exc})")
        if not mails:
            raise SourceError(f"no readable mail among {len(chunks)} mbox chunk(s)")

        thread_ids, continues = self._thread_ids(mails)
        bodies: dict[int, str] = {}
        for mail in mails:
            label = f"mail #{mail.index}" + (f" {mail.message_id}" if mail.message_id else "")
            try:
                bodies[mail.index] = _body(mail.msg, label, warnings)[0]
            except Exception as exc:  # noqa: BLE001 - a broken MIME structure only loses this mail
                warnings.append(f"{label}: malformed body, skipped ({type(exc).__name__}: {exc})")
        by_id = {m.message_id: m.index for m in mails if m.message_id}
        passages: list[PassageDraft] = []
        for mail, thread_id, is_reply in zip(mails, thread_ids, continues):
            label = f"mail #{mail.index}" + (f" {mail.message_id}" if mail.message_id else "")
            if mail.index not in bodies:
                continue
            # The mails it answers, when the archive has them: their text is what a quote copies.
            ancestors = [*([mail.in_reply_to] if mail.in_reply_to else []), *reversed(mail.references)]
            parents = [bodies[by_id[a]] for a in dict.fromkeys(ancestors) if a in by_id and by_id[a] in bodies]
            text = clean_body(bodies[mail.index], is_reply or bool(mail.in_reply_to or mail.references), parents)
            if not text:
                warnings.append(f"{label}: empty after removing quoted text and signature, skipped")
                continue
            reply_to = mail.in_reply_to or (mail.references[-1] if mail.references else None)
            passages.append(
                PassageDraft(
                    kind=PassageKind.message,
                    text=text,
                    author=_author(_raw_header(mail.msg, "From")),
                    timestamp=_timestamp(_raw_header(mail.msg, "Date"), mail.from_line),
                    message_id=mail.message_id,
                    thread_id=thread_id,
                    reply_to=reply_to,
                    extra={"subject": mail.subject, "list": self._list(mail)},
                )
            )
        if not passages:
            raise SourceError(f"no mail with any text among {len(chunks)} mbox chunk(s)")
        return Parsed(kind=self.kind, format=self.name, passages=passages, warnings=warnings)

    @staticmethod
    def _read(index: int, from_line: bytes, raw: bytes) -> _Mail:
        if not raw.strip():
            raise ValueError("no headers or body")
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        if not msg.keys():
            raise ValueError("no mail headers")
        ids = _MSG_ID.findall(_raw_header(msg, "Message-ID") or "")
        in_reply_to = _MSG_ID.findall(_raw_header(msg, "In-Reply-To") or "")
        return _Mail(
            index=index,
            raw=raw,
            from_line=from_line,
            msg=msg,
            message_id=ids[0] if ids else None,
            in_reply_to=in_reply_to[0] if in_reply_to else None,
            references=_MSG_ID.findall(_raw_header(msg, "References") or ""),
            subject=_raw_header(msg, "Subject"),
        )

    @staticmethod
    def _list(mail: _Mail) -> str | None:
        list_id = _raw_header(mail.msg, "List-Id")
        if list_id:
            return list_id
        tag = re.match(r"^\s*(?:re\s*:\s*)*\[([^\]]+)\]", mail.subject or "", re.IGNORECASE)
        return tag.group(1) if tag else None

    @staticmethod
    def _thread_ids(mails: list[_Mail]) -> tuple[list[str], list[bool]]:
        """The thread root's Message-ID for every mail, and whether the mail continues a thread.

        Mails linked by In-Reply-To or References (to mails present in the file) share a
        thread; its root is the earliest mail in it that has no parent in the file. A mail
        whose ancestors are all outside the file starts its own thread. Mails with no linking
        headers at all fall back to joining the earliest mail with the same normalised subject.
        """
        by_id: dict[str, int] = {}
        for i, mail in enumerate(mails):
            if mail.message_id and mail.message_id not in by_id:
                by_id[mail.message_id] = i
        threads = _Threads(len(mails))
        has_parent = [False] * len(mails)
        first_by_subject: dict[str, int] = {}
        for i, mail in enumerate(mails):
            ancestors = [*mail.references, *([mail.in_reply_to] if mail.in_reply_to else [])]
            linked = [by_id[x] for x in ancestors if x in by_id and by_id[x] != i]
            for j in linked:
                threads.union(i, j)
            has_parent[i] = bool(linked)
            subject = normalize_subject(mail.subject)
            if not mail.in_reply_to and not mail.references and subject in first_by_subject:
                threads.union(i, first_by_subject[subject])
                has_parent[i] = True
            if subject:
                first_by_subject.setdefault(subject, i)

        root_of: dict[int, int] = {}
        for i in range(len(mails)):
            group = threads.find(i)
            if group not in root_of or (not has_parent[i] and has_parent[root_of[group]]):
                root_of[group] = i
        thread_id: dict[int, str] = {}  # root index -> thread id, hashed once per root (not per mail)
        for root in root_of.values():
            mail = mails[root]
            # A root without a Message-ID still needs a stable thread id: hash its bytes.
            thread_id[root] = mail.message_id or (
                f"<mbox-{short_hash(mail.from_line.decode('latin-1'), mail.raw.decode('latin-1'))}>"
            )
        roots = [root_of[threads.find(i)] for i in range(len(mails))]
        return [thread_id[r] for r in roots], [r != i for i, r in enumerate(roots)]


PARSERS: list = [MboxParser()]
