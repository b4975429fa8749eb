"""Stack Exchange data dumps: a folder with Posts.xml (and optionally Comments.xml, PostLinks.xml).

Every question becomes a thread: the question passage, its comments, then each answer (oldest
first) followed by that answer's comments. Post and comment ids are namespaced as
``post:<Id>`` and ``comment:<Id>``; cross references in ``extra`` (accepted answer,
duplicates, related questions) use the same ``post:<Id>`` form so they can be looked up
directly against ``message_id``.
"""

from __future__ import annotations

import io
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath

import lxml.html
from lxml import etree

from pipeline.models import PassageDraft, PassageKind, SourceKind
from pipeline.sources.base import Bundle, ParseOptions, Parsed, SourceError
from pipeline.sources.limits import refuse_xml_dtd

__all__ = ["PARSERS", "StackExchangeParser", "html_to_text"]

# --------------------------------------------------------------------------- HTML to text

_BLOCK_TAGS = frozenset(
    "p div section article header footer main nav aside blockquote ul ol dl dt dd table thead "
    "tbody tfoot tr caption h1 h2 h3 h4 h5 h6 hr figure figcaption details summary form "
    "address center fieldset".split()
)
_SKIP_TAGS = frozenset("head title script style noscript template".split())
_PRE_MARK = "\x00PRE{}\x00"
_PRE_LINE = re.compile(r"^\x00PRE(\d+)\x00$")
_SPACES = re.compile(r"[ \t\r\n\f\v]+")


class _HtmlRenderer:
    """Walks an lxml tree, emitting text with paragraph breaks and fenced code blocks."""

    def __init__(self, drop_quotes: bool) -> None:
        self.parts: list[str] = []
        self.pre_blocks: list[str] = []
        self.drop_quotes = drop_quotes

    def _break(self, n: int) -> None:
        """End the current line with at least `n` newlines in a row (block spacing, not additive)."""
        have = 0
        for part in reversed(self.parts):
            stripped = part.rstrip(" ")
            have += len(stripped) - len(stripped.rstrip("\n"))
            if stripped.strip("\n"):
                break
        if have < n:
            self.parts.append("\n" * (n - have))

    def _text(self, text: str | None) -> None:
        if text:
            self.parts.append(_SPACES.sub(" ", text))

    def walk(self, el: etree._Element) -> None:
        tag = el.tag if isinstance(el.tag, str) else None
        if tag is None:  # comment or processing instruction: only its tail is content
            self._text(el.tail)
            return
        tag = tag.lower()
        if tag in _SKIP_TAGS or (self.drop_quotes and _is_mail_quote(el, tag)):
            self._text(el.tail)
            return
        if tag == "pre":
            # Code keeps its layout; a placeholder protects it from whitespace clean-up.
            self._break(2)
            self.parts.append(_PRE_MARK.format(len(self.pre_blocks)))
            self.pre_blocks.append(el.text_content().strip("\n"))
            self._break(2)
        elif tag == "br":
            self._break(1)
        elif tag == "img":
            alt = el.get("alt") or ""
            if alt.strip().lower() not in _PLACEHOLDER_ALTS:  # the editor's default says nothing
                self._text(alt)
        else:
            block = tag in _BLOCK_TAGS
            if block:
                self._break(2 if tag not in ("tr", "dt", "dd") else 1)
            if tag == "li":
                self._break(1)
                parent = el.getparent()
                if parent is not None and parent.tag == "ol":
                    self.parts.append(f"{list(parent).index(el) + 1}. ")
                else:
                    self.parts.append("- ")
            self._text(el.text)
            for child in el:
                self.walk(child)
            if tag in ("td", "th"):
                self.parts.append(" ")
            if block or tag == "li":
                self._break(2 if block and tag not in ("tr", "dt", "dd") else 1)
        self._text(el.tail)

    def result(self) -> str:
        lines: list[str] = []
        for line in "".join(self.parts).split("\n"):
            line = re.sub(" {2,}", " ", line.strip())
            if not line and (not lines or not lines[-1]):
                continue  # collapse runs of blank lines
            match = _PRE_LINE.match(line)
            if match:
                lines.extend(["```", self.pre_blocks[int(match.group(1))], "```"])
            else:
                lines.append(line)
        return "\n".join(lines).strip()


def _is_mail_quote(el: etree._Element, tag: str) -> bool:
    """Quoted earlier mails in HTML bodies (Gmail, Thunderbird, Outlook conventions)."""
    if tag == "blockquote":
        return True
    classes = (el.get("class") or "").split()
    return "gmail_quote" in classes or "moz-cite-prefix" in classes or el.get("id") == "divRplyFwdMsg"


#: Alt texts an editor fills in by itself ("enter image description here" on Stack Exchange).
_PLACEHOLDER_ALTS = frozenset({"enter image description here", "image", "screenshot"})


def html_to_text(html: str, *, drop_quotes: bool = False) -> str:
    """Convert HTML (a fragment or a whole document) to plain text.

    Paragraphs and list items become lines, <pre> blocks are kept verbatim inside ``` fences,
    and scripts/styles are dropped. With ``drop_quotes`` (mail bodies), blockquotes and
    mail-client quote containers are removed because they repeat earlier messages.
    """
    if not html or not html.strip():
        return ""
    try:
        root = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        return _SPACES.sub(" ", re.sub(r"<[^>]*>", " ", html)).strip()
    renderer = _HtmlRenderer(drop_quotes)
    renderer.walk(root)
    return renderer.result()


# --------------------------------------------------------------------------- XML rows

def _rows(data: bytes, member: str) -> Iterator[dict[str, str]]:
    """The attributes of each <row> in a dump file, streamed.

    Dumps never carry a DTD; refusing one outright (wherever in the prolog it sits) is
    simpler and safer than trusting libxml2's entity limits (it expands internal entities
    in attributes even with resolve_entities=False).
    """
    refuse_xml_dtd(data, member)
    events = etree.iterparse(
        io.BytesIO(data),
        events=("end",),
        tag="row",
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
    )
    try:
        for _, el in events:
            yield dict(el.attrib)
            el.clear(keep_tail=True)
            parent = el.getparent()
            while parent is not None and el.getprevious() is not None:
                del parent[0]  # keep memory flat on big dumps
    except etree.XMLSyntaxError as exc:
        line, column = exc.position
        raise SourceError(f"{member}: malformed XML at line {line}, column {column}: {exc.msg}") from None


# --------------------------------------------------------------------------- parser


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _tags(value: str | None) -> list[str]:
    """Tags as the dump spells them: `<a><b>` (older dumps) or `|a|b|` (newer)."""
    if not value:
        return []
    if "<" in value:
        return re.findall(r"<([^<>]+)>", value)
    return [t for t in value.split("|") if t]


def _author(row: dict[str, str], name_key: str, id_key: str) -> str | None:
    if row.get(name_key):
        return row[name_key]
    if row.get(id_key):
        return f"user:{row[id_key]}"
    return None


def _sort_key(row: dict[str, str]) -> tuple[str, int]:
    return (row.get("CreationDate", ""), _int(row.get("Id")) or 0)


def _id_list(ids: list[str], limit: int = 10) -> str:
    shown = ", ".join(ids[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


@dataclass(frozen=True)
class StackExchangeParser:
    """Stack Exchange data dump folder → question threads (question, answers, comments)."""

    name: str = "stackexchange"
    kind: SourceKind = SourceKind.thread
    version: str = "2"  # 2: an image's placeholder alt text ("enter image description here") is left out

    @staticmethod
    def _locate(bundle: Bundle) -> tuple[str, str] | None:
        """(member holding Posts.xml, folder prefix for its sibling files), or None."""
        members = bundle.members()
        if members == [""]:
            if PurePosixPath(bundle.name.replace("\\", "/")).name.lower() == "posts.xml":
                return "", ""
            return None
        candidates = [m for m in members if PurePosixPath(m).name == "Posts.xml"]
        if not candidates:
            return None
        best = min(candidates, key=lambda m: (m.count("/"), m))
        return best, best[: -len("Posts.xml")]

    def sniff(self, bundle: Bundle) -> bool:
        """True for a folder (or archive) holding Posts.xml, or a lone Posts.xml file."""
        return self._locate(bundle) is not None

    def parse(self, bundle: Bundle, options: ParseOptions) -> Parsed:
        """Read the dump into question threads; raise SourceError for missing or malformed XML."""
        located = self._locate(bundle)
        if located is None:
            raise SourceError("not a Stack Exchange dump: no Posts.xml")
        posts_member, prefix = located
        members = set(bundle.members())
        warnings: list[str] = []

        questions: dict[str, dict[str, str]] = {}
        answers: dict[str, list[dict[str, str]]] = defaultdict(list)
        orphan_answers: list[str] = []
        answer_rows: list[dict[str, str]] = []
        malformed = 0
        for row in _rows(bundle.read(posts_member), posts_member or "Posts.xml"):
            post_type, post_id = row.get("PostTypeId"), row.get("Id")
            if not post_id:
                malformed += 1
            elif post_type == "1":
                questions[post_id] = row
            elif post_type == "2":
                answer_rows.append(row)
            # Other post types (tag wikis, moderator nominations...) are not Q&A content.
        if not questions and not answer_rows:
            raise SourceError(f"{posts_member or 'Posts.xml'}: no questions or answers in the dump")
        for row in answer_rows:
            if row.get("ParentId") in questions:
                answers[row["ParentId"]].append(row)
            else:
                orphan_answers.append(row["Id"])
        if malformed:
            warnings.append(f"{malformed} post row(s) without an Id skipped")
        if orphan_answers:
            warnings.append(
                f"{len(orphan_answers)} answer(s) dropped: their question is not in Posts.xml "
                f"(ids {_id_list(orphan_answers)})"
            )

        post_question: dict[str, str] = {qid: qid for qid in questions}
        for qid, rows in answers.items():
            for row in rows:
                post_question[row["Id"]] = qid

        comments: dict[str, list[dict[str, str]]] = defaultdict(list)
        comments_member = prefix + "Comments.xml"
        if comments_member in members:
            orphan_comments: list[str] = []
            for row in _rows(bundle.read(comments_member), comments_member):
                if row.get("PostId") in post_question:
                    comments[row["PostId"]].append(row)
                else:
                    orphan_comments.append(row.get("Id", "?"))
            if orphan_comments:
                warnings.append(
                    f"{len(orphan_comments)} comment(s) dropped: the post they comment on is not "
                    f"a question or answer in Posts.xml (ids {_id_list(orphan_comments)})"
                )

        duplicates: dict[str, list[str]] = defaultdict(list)
        related: dict[str, list[str]] = defaultdict(list)
        links_member = prefix + "PostLinks.xml"
        if links_member in members:
            for row in _rows(bundle.read(links_member), links_member):
                source, target = row.get("PostId"), row.get("RelatedPostId")
                if not source or not target:
                    continue
                table = {"3": duplicates, "1": related}.get(row.get("LinkTypeId", ""))
                if table is not None and f"post:{target}" not in table[source]:
                    table[source].append(f"post:{target}")

        passages: list[PassageDraft] = []
        empty: list[str] = []
        for qid, q in questions.items():
            thread = f"post:{qid}"
            body = html_to_text(q.get("Body", ""))
            title = q.get("Title", "").strip()
            accepted_id = q.get("AcceptedAnswerId")
            passages.append(
                PassageDraft(
                    kind=PassageKind.message,
                    text=f"{title}\n\n{body}".strip(),
                    author=_author(q, "OwnerDisplayName", "OwnerUserId"),
                    timestamp=q.get("CreationDate"),
                    message_id=thread,
                    thread_id=thread,
                    score=_int(q.get("Score")),
                    element_type="question",
                    extra={
                        "title": title,
                        "tags": _tags(q.get("Tags")),
                        "accepted_answer_id": f"post:{accepted_id}" if accepted_id else None,
                        "duplicate_of": duplicates.get(qid, []),
                        "related": related.get(qid, []),
                    },
                )
            )
            passages.extend(self._comments(comments.get(qid, []), thread))
            for a in sorted(answers.get(qid, []), key=_sort_key):
                text = html_to_text(a.get("Body", ""))
                if not text:
                    empty.append(a["Id"])
                    continue
                passages.append(
                    PassageDraft(
                        kind=PassageKind.message,
                        text=text,
                        author=_author(a, "OwnerDisplayName", "OwnerUserId"),
                        timestamp=a.get("CreationDate"),
                        message_id=f"post:{a['Id']}",
                        thread_id=thread,
                        reply_to=thread,
                        score=_int(a.get("Score")),
                        accepted=a["Id"] == accepted_id,
                        element_type="answer",
                    )
                )
                passages.extend(self._comments(comments.get(a["Id"], []), thread))
        if empty:
            warnings.append(f"{len(empty)} answer(s) with an empty body skipped (ids {_id_list(empty)})")
        return Parsed(kind=self.kind, format=self.name, passages=passages, warnings=warnings)

    @staticmethod
    def _comments(rows: list[dict[str, str]], thread: str) -> list[PassageDraft]:
        return [
            PassageDraft(
                kind=PassageKind.message,
                text=row["Text"].strip(),
                author=_author(row, "UserDisplayName", "UserId"),
                timestamp=row.get("CreationDate"),
                message_id=f"comment:{row.get('Id')}",
                thread_id=thread,
                reply_to=f"post:{row['PostId']}",
                score=_int(row.get("Score")),
                element_type="comment",
            )
            for row in sorted(rows, key=_sort_key)
            if row.get("Text", "").strip()
        ]


PARSERS: list = [StackExchangeParser()]
