"""The review audit log as a reader pages through it: filters, pages with totals, before/after as a diff.

Pure apart from the two store reads (`review_event_keys`, then one page of `review_events_by_id`):
the filter becomes the store's `where`, visibility is the caller's predicate, and the diff of two
snapshots is computed from the snapshots alone.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from pipeline.models import ReviewEvent

PER_PAGE = 50
# Snapshot fields that change with every action and say nothing a reader needs in a diff.
QUIET_FIELDS = frozenset({"updated_at", "version"})
TEXT_FIELDS = ("question", "answer", "name", "context", "problem", "recommendation")


@dataclass(frozen=True)
class AuditFilter:
    """What the audit page was asked for; empty fields do not filter. Dates are inclusive days (UTC)."""

    actor: str = ""
    action: str = ""
    artefact_id: str = ""
    since: date | None = None
    until: date | None = None

    def where(self) -> dict[str, str]:
        """The store's `review_event_keys` filter for this one."""
        out = {k: v for k, v in (("actor", self.actor), ("action", self.action), ("artefact_id", self.artefact_id)) if v}
        if self.since is not None:
            out["at_from"] = self.since.isoformat()
        if self.until is not None:
            out["at_to"] = (self.until + timedelta(days=1)).isoformat()  # the whole of the last day
        return out


@dataclass
class AuditPage:
    """One page of matching events the viewer may see, newest first, with the totals."""

    events: list[ReviewEvent]
    total: int
    page: int
    pages: int
    per_page: int = PER_PAGE
    first: int = field(init=False)
    last: int = field(init=False)

    def __post_init__(self) -> None:
        self.first = (self.page - 1) * self.per_page + 1 if self.events else 0
        self.last = self.first + len(self.events) - 1 if self.events else 0


def audit_page(
    store: Any, f: AuditFilter, may_see: Callable[[str, str], bool], page: int = 1, per_page: int = PER_PAGE
) -> AuditPage:
    """Page `page` (from 1; past the end gives the last) of the events matching `f` that
    `may_see(artefact_id, action)` allows (asked once per artefact id and action). Totals count only
    what the viewer may see, so paging never shows a gap."""
    seen: dict[tuple[str, str], bool] = {}
    keys = []
    for event_id, artefact_id, action in store.review_event_keys(f.where()):
        if (artefact_id, action) not in seen:
            seen[(artefact_id, action)] = may_see(artefact_id, action)
        if seen[(artefact_id, action)]:
            keys.append(event_id)
    pages = max(1, math.ceil(len(keys) / per_page))
    page = min(max(1, page), pages)
    chunk = keys[(page - 1) * per_page : page * per_page]
    return AuditPage(store.review_events_by_id(chunk), len(keys), page, pages, per_page)


def snapshot_diff(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[dict[str, Any]]:
    """What an action changed, field by field: `{"field", "before", "after", "words"}` for each field
    whose value differs (quiet bookkeeping fields left out). Text fields also get `words`: the
    word-level diff as `(op, text)` pairs, op one of "same", "del", "ins"; lists show their length."""
    before, after = before or {}, after or {}
    out = []
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if name in QUIET_FIELDS or old == new:
            continue
        row: dict[str, Any] = {"field": name, "before": _shown(old), "after": _shown(new), "words": None}
        if name in TEXT_FIELDS and isinstance(old, str | None) and isinstance(new, str | None):
            row["words"] = word_diff(old or "", new or "")
        out.append(row)
    return out


def word_diff(old: str, new: str) -> list[tuple[str, str]]:
    """Word-level diff of two texts: `(op, text)` runs, op "same", "del" or "ins" (spaces kept).

    Changed words separated only by spaces read as one change ("<del>a b</del><ins>c d</ins>"),
    not as alternating fragments."""
    a, b = re.findall(r"\s+|\S+", old), re.findall(r"\s+|\S+", new)  # words and the spaces between
    out: list[tuple[str, str]] = []
    dels: list[str] = []
    inss: list[str] = []

    def flush() -> None:
        out.extend((op, "".join(parts)) for op, parts in (("del", dels), ("ins", inss)) if parts)
        dels.clear()
        inss.clear()

    codes = difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes()
    for n, (tag, i1, i2, j1, j2) in enumerate(codes):
        same = "".join(a[i1:i2]) if tag == "equal" else ""
        if tag == "equal" and not (same.isspace() and (dels or inss) and n < len(codes) - 1):
            flush()
            out.append(("same", same))
        elif tag == "equal":  # a space between two changes joins them
            dels.append(same)
            inss.append(same)
        else:
            dels.extend(a[i1:i2])
            inss.extend(b[j1:j2])
    flush()
    return out


def _shown(value: Any) -> str:
    """A snapshot value as a reader sees it in the diff."""
    if value is None:
        return "—"
    if isinstance(value, list):
        return f"{len(value)} item{'' if len(value) == 1 else 's'}"
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items())
    return str(value)
