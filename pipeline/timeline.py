"""When a community said things: the first and last time an artefact's quoted messages were posted.

Pure functions over passages (their `timestamp`, ISO 8601 as the parsers write it). The dashboard
counts artefacts by these times, not by the day the pipeline happened to extract them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from statistics import median

from pipeline.models import Artefact, Passage

# Beyond this many weeks from the first to the last date, periods are months, not weeks.
WEEKS_MAX = 26


@dataclass(frozen=True)
class Said:
    """The first and last time an artefact's evidence was posted (UTC)."""

    first: datetime
    last: datetime


def said_at(p: Passage) -> datetime | None:
    """When a passage was posted, timezone-aware (naive times are taken as UTC); None when unknown."""
    if not p.timestamp:
        return None
    try:
        when = datetime.fromisoformat(p.timestamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def said(a: Artefact, passages: dict[str, Passage]) -> Said | None:
    """The first and last posting time of the artefact's quoted messages; None when none is dated
    (documents and recordings carry no posting time)."""
    times = [t for e in a.evidence if (p := passages.get(e.passage_id)) and (t := said_at(p))]
    return Said(min(times), max(times)) if times else None


def period_of(days: Iterable[date]) -> str:
    """"week" when the days span at most WEEKS_MAX weeks, else "month"."""
    ds = list(days)
    return "week" if not ds or (max(ds) - min(ds)) <= timedelta(weeks=WEEKS_MAX) else "month"


def period_start(day: date, period: str) -> date:
    """The Monday of the day's week, or the first of its month."""
    return day - timedelta(days=day.weekday()) if period == "week" else day.replace(day=1)


def periods_between(first: date, last: date, period: str) -> list[date]:
    """Every period start from `first`'s to `last`'s, gaps included (a quiet week is a zero bar)."""
    out, cur, end = [], period_start(first, period), period_start(last, period)
    while cur <= end:
        out.append(cur)
        cur = cur + timedelta(weeks=1) if period == "week" else (cur.replace(day=28) + timedelta(days=4)).replace(day=1)
    return out


def age_days(asked: datetime, now: datetime) -> int:
    """Whole days from when a question was asked to `now`."""
    return max(0, (now - asked).days)


def median_days(values: list[int]) -> int:
    """The median of whole-day ages (0 for none)."""
    return int(median(values)) if values else 0
