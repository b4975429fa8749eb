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
from dataclasses import dataclass
from datetime import datetime
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from pathlib import PurePosixPath

from pipeline.models import PassageDraft, PassageKind, SourceKind, short_hash
from pipeline.sources.base import Bundle, ParseOptions, Parsed, SourceError
from pipeline.sources.stackexchange import html_to_text

__all__ = ["PARSERS", "MboxParser", "clean_body", "normalize_subject", "split_mbox"]

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


def normalize_subject(subject: str | None) -> str:
    """A subject without reply/forward markers and [list] tags, for grouping unlinked mails."""
    text = subject or ""
    while True:
        stripped = _SUBJECT_PREFIX.sub("", text, count=1)
        if stripped == text:
            break
        text = stripped
    return re.sub(r"\s+", " ", text).strip().casefold()


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


_ATTRIBUTION_END = re.compile(
    r"(wrote|writes|schrieb|a écrit|escribió|scrisse|schreef|escreveu|skrev|napisał|kirjoitti)\s*:\s*$",
    re.IGNORECASE,
)
_ATTRIBUTION_START = re.compile(r"^\W{0,2}(on|am|le|el|il|op|em|den|quoting)\b", re.IGNORECASE)
# Archives mangle non-ASCII into "?", so a divider may carry a stray leading character.
_FORWARD_DIVIDER = re.compile(r"^\s*\W?\s*-{2,}\s*(original message|forwarded message)\s*-{2,}\s*$", re.I)
_MOBILE_FOOTER = re.compile(r"^\s*(sent from (my|outlook|mail|yahoo)|get outlook for)\b", re.IGNORECASE)
_UNDERSCORES = re.compile(r"^\s*_{10,}\s*$")
_HEADERISH = re.compile(r"^\s*[^\s:]{1,30}:\s")
_FOOTERISH = re.compile(r"mailing list|listinfo|posting guide|minimal, self-contained|reproducible code", re.I)
_SCRUBBED = re.compile(r"^\s*\[\[alternative (html )?version deleted\]\]\s*$", re.IGNORECASE)
_FOOTER_TAIL = re.compile(r"^\s*(https?://|and provide)")
_NEXT_PART = re.compile(r"^-+ next part -+$")


def _is_quote(line: str, prefixes: tuple[str, ...]) -> bool:
    return line.lstrip().startswith(prefixes)


def _attribution_start(lines: list[str], end: int, prefixes: tuple[str, ...]) -> int:
    """The first line of a (possibly wrapped) "On <date>, <who> wrote:" ending at `end`."""
    for start in range(max(0, end - 2), end + 1):
        span = lines[start : end + 1]
        if all(x.strip() and not _is_quote(x, prefixes) for x in span) and _ATTRIBUTION_START.match(span[0]):
            return start
    return end


def clean_body(text: str, is_reply: bool) -> str:
    """What the author wrote: without list footers, signatures and (in replies) quoted mail.

    Quoted text is only removed from replies: a thread starter that quotes something (a CRAN
    message, a policy) is quoting material that appears nowhere else in the archive.
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
        prefixes: tuple[str, ...] = (">",)
        # Some clients quote with "| " (e.g. Emacs VM): accept it when an attribution leads into it.
        for i, line in enumerate(lines):
            if _ATTRIBUTION_END.search(line):
                following = next((x for x in lines[i + 1 :] if x.strip()), "")
                if following.lstrip().startswith("|"):
                    prefixes = (">", "|")
                    break
        out: list[str] = []
        for i, line in enumerate(lines):
            if _is_quote(line, prefixes):
                continue
            if _ATTRIBUTION_END.search(line):
                start = _attribution_start(lines, i, prefixes)
                following = next((x for x in lines[i + 1 :] if x.strip()), None)
                if following is None or _is_quote(following, prefixes):
                    del out[len(out) - (i - start) :]
                    continue
                if _ATTRIBUTION_START.match(lines[start]):
                    # "On ..., X wrote:" followed by unquoted text: an inline copy of the parent.
                    del out[len(out) - (i - start) :]
                    break
            out.append(line)
        lines = out

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
    version: str = "1"

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
        passages: list[PassageDraft] = []
        for mail, thread_id, is_reply in zip(mails, thread_ids, continues):
            label = f"mail #{mail.index}" + (f" {mail.message_id}" if mail.message_id else "")
            try:
                body, _ = _body(mail.msg, label, warnings)
            except Exception as exc:  # noqa: BLE001 - a broken MIME structure only loses this mail
                warnings.append(f"{label}: malformed body, skipped ({type(exc).__name__}: {exc})")
                continue
            text = clean_body(body, is_reply or bool(mail.in_reply_to or mail.references))
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
