"""The source-level thread units of the extraction gold (bench/gold/threads.jsonl), read without the product.

The gold labels units of the sources themselves, so it stays valid when the product's parsers and
extractors change; this module is the one place that says what a unit is and how its messages are keyed:

- mbox: threads by Message-ID / In-Reply-To / References (Python's ``mailbox``), key = the root's Message-ID.
- Racket Slack XML: one unit per ``conversation_id`` (the dataset's disentanglement), key = that id.
- Gitter: one unit per dash-separated conversation, key = "<file>#<0-based index>".
- Stack Exchange: one unit per question post, key = its Id; answers are posts with that ParentId.

`sample(fmt, n, seed)` is the seeded draw the labeller read (bench/gold/sample_units.py prints it).
"""

from __future__ import annotations


import hashlib
import mailbox
import random
import re
import xml.etree.ElementTree as ET
from email.header import decode_header, make_header
from html import unescape
from pathlib import Path

MBOX = "chat/mailing_list_r-package-devel/2024q3.mbox"
SLACK = "chat/slack_disentangled/racket-general-2019.xml"
GITTER_DIR = "chat/gitter_livechat_manual/manual"
SE_DIR = "threads/stackexchange/quantumcomputing.stackexchange.com"
SE_POSTS = f"{SE_DIR}/Posts.xml"
FAQS_SOURCE = "retrieval/stackfaq/derived/faqs.jsonl"
QUERIES_SOURCE = "retrieval/stackfaq/derived/queries_qrels.tsv"
SEED = 20261130
# ../shared/corpus seen from the worktree root (the layout every helper and the lead use).
DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
_MSG_ID = re.compile(r"<[^<>\s]+>")
_GITTER_LINE = re.compile(r"^(?:\d+ ?)?\[(?P<ts>[^\]]+)\] <(?P<nick>[^>]*)> ?(?P<text>.*)$")
_DASHES = re.compile(r"^-{20,}\s*$")

Unit = dict  # {"source", "format", "thread_key", "messages": [{"key", "author", "text", ...}]}


def _header(msg: mailbox.mboxMessage, name: str) -> str:
    value = msg.get(name)
    if value is None:
        return ""
    try:
        return str(make_header(decode_header(str(value))))
    except Exception:  # noqa: BLE001 - a reading aid: show the raw header
        return str(value)


def _mail_text(msg: mailbox.mboxMessage) -> str:
    part = msg
    if msg.is_multipart():
        part = next((p for p in msg.walk() if p.get_content_type() == "text/plain"), None)
        if part is None:
            return ""
    payload = part.get_payload(decode=True) or b""
    text = payload.decode(part.get_content_charset() or "utf-8", errors="replace")
    # Quoted parent text repeats what the reader has just read: keep only the new lines.
    lines = [ln for ln in text.splitlines() if not ln.startswith(">")]
    return "\n".join(lines).strip()


def mbox_units(corpus: Path = DEFAULT_CORPUS) -> list[Unit]:
    """Threads of the mailing list, in file order of their roots."""
    mails = list(mailbox.mbox(str(corpus / MBOX)))
    ids = [(_MSG_ID.findall(m.get("Message-ID", "")) or [f"#{i}"])[0] for i, m in enumerate(mails)]
    index = {mid: i for i, mid in enumerate(ids)}
    parent = list(range(len(mails)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, m in enumerate(mails):
        for ref in _MSG_ID.findall(m.get("References", "") + " " + m.get("In-Reply-To", "")):
            if ref in index:
                a, b = find(i), find(index[ref])
                parent[max(a, b)] = min(a, b)  # the earlier mail stays the root
    # A reply whose client dropped the linking headers still reads "Re: <same subject>": a reader
    # sees one thread, so it joins the earliest thread with that subject.
    first: dict[str, int] = {}
    for i, m in enumerate(mails):
        subject = re.sub(r"^(\s*(re|aw|sv)\s*:\s*)+", "", _header(m, "Subject").replace("\n", " "), flags=re.I)
        subject = re.sub(r"\s+", " ", subject).strip().lower()
        linked = _MSG_ID.findall(m.get("References", "") + " " + m.get("In-Reply-To", ""))
        if subject in first and not linked:
            a, b = find(i), find(first[subject])
            parent[max(a, b)] = min(a, b)
        first.setdefault(subject, i)
    groups: dict[int, list[int]] = {}
    for i in range(len(mails)):
        groups.setdefault(find(i), []).append(i)
    return [
        {
            "source": MBOX, "format": "mbox", "thread_key": ids[root],
            "subject": _header(mails[root], "Subject"),
            "messages": [
                {"key": ids[i], "author": _header(mails[i], "From"), "date": _header(mails[i], "Date"),
                 "text": _mail_text(mails[i])}
                for i in members
            ],
        }
        for root, members in groups.items()
    ]  # fmt: skip


def slack_units(corpus: Path = DEFAULT_CORPUS) -> list[Unit]:
    """Conversations of the Racket Slack #general (conversation_id), in first-message order."""
    root = ET.parse(corpus / SLACK).getroot()
    convs: dict[str, list[dict]] = {}
    for m in root.iter("message"):
        convs.setdefault(m.get("conversation_id", ""), []).append(
            {"key": m.findtext("ts", ""), "author": m.findtext("user", ""), "text": m.findtext("text", "")}
        )
    return [{"source": SLACK, "format": "slack_xml", "thread_key": cid, "messages": msgs} for cid, msgs in convs.items()]


def gitter_units(corpus: Path = DEFAULT_CORPUS) -> list[Unit]:
    """Every conversation of every Gitter room, keyed "<file>#<0-based index among dash-separated blocks>"."""
    units = []
    for path in sorted((corpus / GITTER_DIR).glob("*.txt")):
        rel = f"{GITTER_DIR}/{path.name}"
        blocks = gitter_blocks(path)
        for i, msgs in enumerate(blocks):
            if msgs:
                units.append({"source": rel, "format": "gitter", "thread_key": f"{rel}#{i}", "messages": msgs})
    return units


def gitter_blocks(path: Path) -> list[list[dict]]:
    """All dash-separated blocks in order, empty ones included, so indexes match the file."""
    blocks: list[list[dict]] = [[]]
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if _DASHES.match(line):
            blocks.append([])
            continue
        m = _GITTER_LINE.match(line)
        if m:
            blocks[-1].append({"key": f"{m['ts']} {m['nick']}", "author": m["nick"], "ts": m["ts"], "text": m["text"]})
        elif line.strip() and blocks[-1]:
            blocks[-1][-1]["text"] += "\n" + line
    return blocks


def _html(text: str) -> str:
    text = re.sub(r"<pre[^>]*>", "\n```\n", text)
    text = text.replace("</pre>", "\n```\n")
    return unescape(re.sub(r"<[^>]+>", "", text)).strip()


def se_units(corpus: Path = DEFAULT_CORPUS) -> list[Unit]:
    """Question posts with their answers (by ParentId), in Id order."""
    posts = [dict(r.attrib) for r in ET.parse(corpus / SE_DIR / "Posts.xml").getroot().iter("row")]
    answers: dict[str, list[dict]] = {}
    for p in posts:
        if p.get("PostTypeId") == "2":
            answers.setdefault(p.get("ParentId", ""), []).append(p)
    units = []
    for q in posts:
        if q.get("PostTypeId") != "1":
            continue
        msgs = [{"key": q["Id"], "author": q.get("OwnerUserId", ""), "text": q.get("Title", "") + "\n" + _html(q.get("Body", ""))}]
        for a in answers.get(q["Id"], []):
            accepted = " ACCEPTED" if a["Id"] == q.get("AcceptedAnswerId") else ""
            msgs.append({"key": a["Id"], "author": f"score={a.get('Score')}{accepted}", "text": _html(a.get("Body", ""))})
        units.append({"source": SE_POSTS, "format": "stackexchange", "thread_key": q["Id"], "messages": msgs})
    return units


LOADERS = {"mbox": mbox_units, "slack_xml": slack_units, "gitter": gitter_units, "stackexchange": se_units}


def sample(fmt: str, n: int, seed: int = SEED, corpus: Path = DEFAULT_CORPUS) -> list[Unit]:
    """A seeded random sample of n units of one format (the whole list, shuffled, when n exceeds it)."""
    units = LOADERS[fmt](corpus)
    rng = random.Random(f"{seed}:{fmt}")
    return rng.sample(units, min(n, len(units)))




def gold_split(key: str) -> str:
    """'heldout' for a fixed fifth of the gold (a seeded hash of the unit key), 'dev' for the rest."""
    digest = hashlib.sha256(f"practice-gold-{SEED}:{key}".encode("utf-8")).hexdigest()
    return "heldout" if int(digest, 16) % 5 == 0 else "dev"
