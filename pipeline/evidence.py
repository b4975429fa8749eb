"""Evidence as a reader judges it: grouped by conversation, human times, links to the original.

An artefact's quotes often come from a few conversations, several quotes each; shown one by one,
the same thread is repeated under every quote. `conversations` groups the evidence rows of
`web.views.detail` by source and conversation (thread, meeting or document): each conversation
once, its quoted passages highlighted, the passages between them collapsed.

`original_link` points at the original where the source has an address a reader can open (a Stack
Exchange post); otherwise it names what to look for (a mail's Message-ID, a Slack message, a page
or a time). `source_name` is what a reader sees of a source: its file or site name, never the
server path it was read from.
"""

from __future__ import annotations

import re
from pathlib import PurePath
from typing import Any

from pipeline.citations import clock, human_time
from pipeline.models import Passage, Source

__all__ = ["conversations", "original_link", "source_name", "time_range"]

# Stack Exchange network sites, as their data dumps are named (site.stackexchange.com, stackoverflow.com...)
_SE_SITE = re.compile(r"^([a-z0-9-]+\.)*(stackexchange\.com|stackoverflow\.com|superuser\.com|serverfault\.com|askubuntu\.com|mathoverflow\.net|stackapps\.com)$")


def time_range(first: str, last: str) -> str | None:
    """Two times as one span: "21 Sep 2026, 08:07–08:12" on one day, both in full otherwise."""
    a, b = human_time(first), human_time(last)
    if a is None or b is None or a == b:
        return a or b
    day_a, _, clock_a = a.rpartition(", ")
    day_b, _, clock_b = b.rpartition(", ")
    return f"{day_a}, {clock_a}–{clock_b}" if day_a == day_b else f"{a} – {b}"


def _se_site(source: Source | None) -> str | None:
    if source is None:
        return None
    for part in reversed(PurePath(source.uri).parts):
        name = re.sub(r"\.7z$|\.zip$", "", part.lower())
        if _SE_SITE.match(name):
            return name
    return None


def source_name(source: Source | None) -> str | None:
    """A source as a reader names it: the Stack Exchange site, else the file name (no folders)."""
    if source is None:
        return None
    return _se_site(source) or PurePath(source.uri.rstrip("/")).name or source.id


def original_link(p: Passage, source: Source | None) -> dict[str, str | None] | None:
    """Where the original of a passage is: {"url", "label"}; url None when the source has no address."""
    fmt = source.format if source is not None else None
    mid = p.message_id or ""
    site = _se_site(source) if fmt == "stackexchange" else None
    if site and ":" in mid:
        what, post = mid.split(":", 1)
        if what == "comment":
            return {"url": f"https://{site}/posts/comments/{post}", "label": f"comment on {site}"}
        is_question = p.element_type == "question"
        return {"url": f"https://{site}/{'q' if is_question else 'a'}/{post}", "label": f"{'question' if is_question else 'answer'} on {site}"}
    permalink = p.extra.get("permalink") if isinstance(p.extra, dict) else None
    if isinstance(permalink, str) and permalink.startswith("https://"):
        return {"url": permalink, "label": "message in Slack"}
    if fmt == "mbox" and mid:
        return {"url": None, "label": f"Message-ID {mid}"}
    if fmt == "slack" and p.extra.get("channel"):
        return {"url": None, "label": f"Slack #{p.extra['channel']}, {human_time(p.timestamp) or 'message'}"}
    if p.page is not None:
        return {"url": None, "label": f"page {p.page}"}
    if p.start is not None:
        return {"url": None, "label": f"at {clock(p.start)} in the recording"}
    return None


def _key(row: dict[str, Any]) -> tuple[str, str]:
    """A conversation: a thread of a source, else the whole source (a meeting, a document)."""
    source = row.get("source_id") or row.get("source") or f"restricted:{row.get('passage_id')}"
    return str(source), str(row.get("thread") or "")


def _segments(context: list[dict[str, Any]], quotes: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Quoted passages one by one; each run of unquoted passages between them as one collapsed segment."""
    out: list[dict[str, Any]] = []
    for c in context:
        rows = quotes.get(c["passage_id"])
        if rows:
            out.append({"kind": "quote", "passage": c, "quotes": rows, "roles": sorted({r["role"] for r in rows})})
        elif out and out[-1]["kind"] == "more":
            out[-1]["passages"].append(c)
        else:
            out.append({"kind": "more", "passages": [c]})
    return out


def conversations(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Evidence rows (with ``context``) grouped by conversation, in the order they are first cited.

    Each group: ``source`` (a name), ``source_kind``, ``title`` (the conversation's first line),
    ``when`` (first and last quoted time, human), ``quotes`` (how many), ``original`` and ``viewer``
    (links of its first quote) and ``segments`` (`_segments`; a quote without context, from a
    restricted source, is a segment of its own).
    """
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        g = groups.setdefault(_key(row), {"rows": [], "context": {}})
        g["rows"].append(row)
        for c in row.get("context") or []:
            g["context"].setdefault(c["passage_id"], c)
    return [_conversation(g["rows"], g["context"]) for g in groups.values()]


def _conversation(rows: list[dict[str, Any]], context: dict[str, dict[str, Any]]) -> dict[str, Any]:
    ordered = sorted(context.values(), key=lambda c: (c.get("seq") is None, c.get("seq") or 0))
    quotes: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        quotes.setdefault(r["passage_id"], []).append(r)
    segments = _segments(ordered, quotes)
    shown = {c["passage_id"] for c in ordered}
    for r in rows:  # no context to show it in (restricted source, missing passage): the quote alone
        if r["passage_id"] not in shown:
            shown.add(r["passage_id"])
            segments.append({"kind": "quote", "passage": None, "quotes": quotes[r["passage_id"]], "roles": [r["role"]]})
    times = sorted(t for t in (r.get("timestamp") for r in rows) if t)
    first = rows[0]
    title = (ordered[0]["text"] if ordered else first.get("quote") or "").strip().split("\n", 1)[0]
    return {
        "source": first.get("source"),
        "source_kind": first.get("source_kind"),
        "source_restricted": bool(first.get("source_restricted")),
        "title": title[:160] + ("…" if len(title) > 160 else ""),
        "when": time_range(times[0], times[-1]) if times else None,
        "quotes": len(rows),
        "original": first.get("original"),
        "viewer": first.get("location"),
        "segments": segments,
    }
