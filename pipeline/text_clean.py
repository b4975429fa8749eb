"""Clean message text for FAQs: what the author said, without the social and mail wrapping.

Removed from questions and answers (never from code: fenced blocks, inline code and indented
or console lines are left exactly as written):

- greetings ("Hi all,", "Dear list,") and closing thanks ("Thanks in advance", "TIA");
- sign-offs and the names under them ("Best,\\nJane Doe", "Cheers; Don", "-- \\nsignature");
- reply attribution lines in any language ("On … wrote:", "Am … schrieb …:", "Le … a écrit :",
  "… 写道:" — also when an archive replaced the non-ASCII characters with "?");
- chat markup: emoji shortcodes (":sweat_smile:") and Slack user tokens ("<@U123>", resolved
  to names when a directory is given).

Pure functions, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

__all__ = ["clean_message", "clean_question", "is_attribution", "strip_addressee", "strip_chat_markup"]

_GREETING = re.compile(
    r"^\s*(?:(?:hi|hello|hey|hiya|dear|greetings|good\s+(?:morning|afternoon|evening|day)|g'?day|howdy|salam|assalam\w*)"
    r"(?:\s+(?:all|everyone|everybody|guys|folks|friends|there|team|people|members|experts|mates?|y'?all|list"
    r"|r-package-devel|r-devel|colleagues))*"
    r"|(?:hi|hello|hey|dear)\s+[\w.-]+(?:\s+[A-Z][\w.-]*)?)\s*[,;:!.\-–—]+\s*",
    re.IGNORECASE,
)
_CLOSING = re.compile(
    r"(?:(?:^|(?<=[.!?;,:\n)\-]))\s*(?:"
    r"thanks?(?:\s+you)?(?:\s+(?:so|very)\s+much)?(?:\s+(?:in\s+advance|a\s+lot|all|everyone|guys|again))*"
    r"|thank\s+you(?:\s+(?:so|very)\s+much)?(?:\s+(?:in\s+advance|all|everyone|guys|again))*"
    r"|tia|thx|cheers|ty|many\s+thanks|much\s+appreciated|appreciate\s+(?:it|your\s+help|any\s+help)"
    r"|(?:best|kind|warm|many|with\s+best)?\s*regards|best\s+wishes|all\s+the\s+best|yours(?:\s+(?:truly|sincerely))?"
    r"|sincerely|best|cordially|ciao|greetings|hth|hope\s+(?:this|that)\s+helps"
    r"|have\s+a\s+(?:nice|good|great)\s+(?:day|weekend|one)"
    r")\s*[!.,;:)]*)"
    r"(?:[\s,;\-–—]+[A-Z][\w.'-]*(?:\s+[A-Z][\w.'-]*){0,2}\s*[.!]?)?\s*$",
    re.IGNORECASE,
)
_SIGNATURE = re.compile(r"\n--\s*\n.*$|\n-- .*$", re.DOTALL)
# A name alone on the last line(s) ("Jane", "Jane Doe", "-Jane", "JD"): a sign-off without the word.
# A greeting that is the whole first line: "Kevin,", "Dirk et al,", "Hi Chaofan and welcome!"
_GREETING_LINE = re.compile(
    r"^\s*(?:(?:hi|hello|hey|dear|greetings)\b[^\n]{0,80}[,!:]"
    r"|(?-i:[A-Z][\w.'?-]*(?:\s+(?:[A-Z][\w.'?-]*|et\s+al\.?))?)\s*,)\s*$",
    re.IGNORECASE,
)
# Mail archives replace non-ASCII letters with "?" ("Oehlschl?gel").
_NAME_LINE = re.compile(r"\n[ \t]*[-–—~]?[ \t]*[A-Z][\w.'?-]*(?:[ \t]+[A-Z][\w.'?-]*){0,2}[ \t]*$")

# Attribution: a line ending in ":" that carries an address or a date/time, or says who wrote.
_ATTR_VERB = re.compile(
    r"\b(?:wrote|writes|schrieb|a\s+\S?crit|escribi\S?|scrisse|schreef|escreveu|skrev|napisa\S?|kirjoitti)\s*[:：]\s*$"
    r"|(?:写道|寫道)\s*[:：]\s*$",
    re.IGNORECASE,
)
_ATTR_ADDRESS = re.compile(r"<[^<>\s]+(?:@|\s+at\s+)[^<>\s]+>|\b[\w.+-]+@[\w-]+\.[\w.]+\b|\b[\w.+-]+\s+at\s+[\w-]+\.[a-z]{2,}\b")
_ATTR_DATE = re.compile(r"\b\d{1,2}:\d\d\b|\b(?:19|20)\d\d\b")


def is_attribution(line: str) -> bool:
    """A reply attribution line ("On Tue, 2 Jul 2024, Jane <jane at x.org> wrote:"), in any
    language, also when a mail archive replaced its non-ASCII words with "?" ("… ?????:")."""
    s = line.strip()
    if not s.endswith((":", "：")) or len(s) > 300:
        return False
    if _ATTR_VERB.search(s):
        return True
    # Language-agnostic: an address and a date or time before the final colon.
    return bool(_ATTR_ADDRESS.search(s) and _ATTR_DATE.search(s))


# --------------------------------------------------------------------------- chat markup

_EMOJI = re.compile(r"[ \t]*(?<![\w:]):[a-z0-9+\-][a-z0-9_+\-]*:(?::skin-tone-\d:)?(?![\w:])")
# "<@U024BE7LH>", "<@U024BE7LH|jane>", and in exports that resolved ids, "<@Leticia>".
_SLACK_USER = re.compile(r"<@([\w.\-]+)(?:\|([^<>]+))?>")
# Who a chat message is addressed to, before what it says: "@jane ", "@jane, @omar: ", "Hi@all,".
_LEAD_MENTIONS = re.compile(r"^[ \t]*(?:(?:hi|hey|hello)\s*)?(?:@[\w.\-]+(?![\w.\-])[ \t]*[,:]?[ \t]*)+(?=\S)", re.IGNORECASE)


def strip_addressee(text: str, names: Iterable[str] = ()) -> str:
    """`text` without the addressee that opens it: @-mentions ("@jane, @omar: try…") and, when
    `names` (the conversation's participants) are given, a bare name with a colon or comma
    ("joeblew99: you can…"). Only a known name is taken: "Note: …" stays."""
    out = _LEAD_MENTIONS.sub("", text, count=1)
    known = {n.lower() for n in names if n}
    m = re.match(r"[ \t]*([\w.\-]+)[ \t]*[,:][ \t]+(?=\S)", out)
    if m and m.group(1).lower() in known:
        out = out[m.end() :]
    return out if out.strip() else text


def strip_chat_markup(text: str, users: Mapping[str, str] | None = None) -> str:
    """Emoji shortcodes removed, Slack user tokens as "@name" (code left alone)."""

    def prose(part: str) -> str:
        def user(m: re.Match[str]) -> str:
            return "@" + ((users or {}).get(m.group(1)) or m.group(2) or m.group(1))

        part = _SLACK_USER.sub(user, part)
        return _EMOJI.sub("", part)

    return _outside_code(text, prose)


# --------------------------------------------------------------------------- code protection

_FENCE = re.compile(r"```.*?(?:```|$)", re.DOTALL)
_INLINE = re.compile(r"`[^`\n]+`")


def _outside_code(text: str, fn) -> str:  # type: ignore[no-untyped-def]
    """Apply `fn` to the prose of `text`, leaving fenced and inline code untouched."""
    out, last = [], 0
    for m in _FENCE.finditer(text):
        out.append(_outside_inline(text[last : m.start()], fn))
        out.append(m.group(0))
        last = m.end()
    out.append(_outside_inline(text[last:], fn))
    return "".join(out)


def _outside_inline(text: str, fn) -> str:  # type: ignore[no-untyped-def]
    out, last = [], 0
    for m in _INLINE.finditer(text):
        out.append(fn(text[last : m.start()]))
        out.append(m.group(0))
        last = m.end()
    out.append(fn(text[last:]))
    return "".join(out)


# --------------------------------------------------------------------------- messages


def clean_question(text: str) -> str:
    """The question without its social wrapping (``clean_message``: greetings, closing thanks,
    sign-offs, attributions, signatures, chat markup)."""
    return clean_message(text)


def _drop_attributions(lines: list[str]) -> list[str]:
    """Lines without attributions, also one wrapped over two lines ("On <date>,\n<who> wrote:")."""
    out: list[str] = []
    for line in lines:
        if is_attribution(line):
            continue
        if out and line.strip().endswith((":", "：")) and is_attribution(out[-1].strip() + " " + line.strip()):
            out.pop()
            continue
        out.append(line)
    return out


def _is_code_line(line: str) -> bool:
    return line.startswith(("    ", "\t", ">", "+ ", "R> ")) or line.strip().startswith("```")


def _is_authors_name(line: str, author: str | None) -> bool:
    """A bare signature: the line is the author's name or part of it ("Duncan Murdoch", "Duncan.")."""
    names = {w.casefold() for w in re.findall(r"[^\W\d_]+", author or "") if len(w) > 1}
    said = [w.casefold() for w in re.findall(r"[^\W\d_?]+", line)]
    return bool(names) and 0 < len(said) <= 3 and all(w in names for w in said) and len(line.strip()) < 40


def _drop_sign_off(lines: list[str], author: str | None = None) -> list[str]:
    """Trailing sign-off lines removed: "Best," / "Thanks!" / "Regards, Jane", a name under a
    closing ("Cheers,\nJane Doe") or the author's bare name. A closing at the end of a sentence
    line is cut from it."""
    lines = list(lines)
    while lines and not lines[-1].strip():
        lines.pop()
    for _ in range(4):
        if not lines:
            break
        last = lines[-1].strip()
        # An indented "   cheers\n    Ben" is a sign-off, not code; console and fenced lines stay.
        sign_off_like = bool(_CLOSING.fullmatch(last) or _NAME_LINE.fullmatch("\n" + last))
        if _is_code_line(lines[-1]) and not (sign_off_like and not lines[-1].lstrip().startswith((">", "```", "+"))):
            break
        if _is_authors_name(last, author):
            lines.pop()
            while lines and not lines[-1].strip():
                lines.pop()
            continue
        above = [i for i, ln in enumerate(lines[:-1]) if ln.strip()]
        prev = lines[above[-1]].strip() if above else ""
        if _NAME_LINE.fullmatch("\n" + last) and prev and _CLOSING.fullmatch(prev) and len(last) < 40:
            lines = lines[: above[-1]]  # "Cheers,\nJane Doe"
        else:
            cut = _CLOSING.sub("", lines[-1]).rstrip()
            if cut == lines[-1].rstrip():
                break
            lines[-1] = cut.rstrip(";,:-–—")
        while lines and not lines[-1].strip():
            lines.pop()
    return lines


def clean_message(text: str, users: Mapping[str, str] | None = None, author: str | None = None) -> str:
    """A question's or answer's text as a reader wants it: no attribution lines, greeting,
    closing thanks, sign-off or the name under it, no emoji shortcodes; code as written.
    `author` (the writer's display name), when given, also takes a bare signature with their
    name ("Duncan Murdoch") off the end.

    Returns the stripped original when cleaning would leave nothing.
    """
    original = (text or "").strip()
    if not original:
        return ""
    body = strip_chat_markup(_SIGNATURE.sub("", original), users)
    lines = _drop_attributions([ln.rstrip() for ln in body.split("\n")])
    while lines and not lines[0].strip():
        lines.pop(0)
    if lines and not _is_code_line(lines[0]):
        lines[0] = strip_addressee(lines[0])
    # Greetings lead: "Hi all," on its own line or before the first sentence.
    for _ in range(2):
        if lines and not _is_code_line(lines[0]):
            lines[0] = "" if _GREETING_LINE.match(lines[0]) else _GREETING.sub("", lines[0], count=1)
        while lines and not lines[0].strip():
            lines.pop(0)
    lines = _drop_sign_off(lines, author)
    out = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return out if out else original
