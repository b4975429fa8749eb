"""What a viewer sees, as JSON: artefacts with evidence in context, search hits, facets, the dashboard.

Every function here filters by visibility; the shapes underneath are `pipeline.shapes`.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from starlette.exceptions import HTTPException

from index.relevance import MATCH_TEXT, NO_MATCH, overall
from pipeline import review as review_ops
from pipeline import timeline
from pipeline.citations import clock, format_citation, human_time
from pipeline.evidence import conversations, original_link, source_name
from pipeline.models import Artefact, ArtefactStatus, Passage, PassageKind, Source, SourceStatus, utcnow
from pipeline.shapes import event_json, item_json
from pipeline.users import User, can_review, can_see

LIVE = ("candidate", "approved")  # statuses that count as "in the index or on its way"


def visible_artefacts(store: Any, user: User | None, **filters: Any) -> list[Artefact]:
    """The artefacts (filtered as `store.artefacts`) the viewer may see."""
    return [a for a in store.artefacts(**filters) if review_ops.visible(a, user)]


def get_visible(store: Any, user: User | None, artefact_id: str) -> Artefact:
    """One artefact the viewer may see; 404 when missing or hidden (the two look the same)."""
    a = store.get_artefact(artefact_id)
    if a is None or not review_ops.visible(a, user):
        raise HTTPException(404, f"no artefact {artefact_id!r}")
    return a


def sources_by_id(store: Any) -> dict[str, Source]:
    """Every source by id."""
    return {s.id: s for s in store.list_sources()}


def item(a: Artefact, passages: dict[str, Passage], sources: dict[str, Source], user: User | None) -> dict[str, Any]:
    """The documented artefact JSON (`practice artefacts --json`) plus review fields."""
    data = item_json(a, passages, sources)
    data["merged_into"] = a.merged_into
    data["visibility_widened"] = getattr(a, "visibility_widened", None)
    data["created_at"] = a.created_at.isoformat()
    data["updated_at"] = a.updated_at.isoformat()
    data["url"] = f"/artefacts/{a.id}"
    data["actions"] = list(review_ops.offered(a, user))
    for row, ev in zip(data["evidence"], a.evidence):
        p = passages.get(ev.passage_id)
        src = sources.get(p.source_id) if p else None
        if src is not None and not can_see(user, src.visibility):
            # an admin widened this artefact: its quotes are shown, the restricted source is not
            row["source"] = None
            row["source_restricted"] = True
        row["source_id"] = src.id if src is not None and can_see(user, src.visibility) else None
        # readers see a source's name, never the server path it was read from; the source viewer
        # asks for a login, so anonymous readers get no link to it
        row["source"] = source_name(src) if row["source_id"] else None
        row["original"] = original_link(p, src) if (p is not None and row["source_id"]) else None
        row["when"] = human_time(row.get("timestamp"))
        row["location"] = location(p) if (p is not None and row["source_id"] and user is not None) else None
    return data


def items(store: Any, artefacts: list[Artefact], user: User | None) -> list[dict[str, Any]]:
    """`item` for many artefacts, with one read of their passages and sources."""
    passages = store.passages_by_id(e.passage_id for a in artefacts for e in a.evidence)
    sources = sources_by_id(store)
    return [item(a, passages, sources, user) for a in artefacts]


def detail(store: Any, a: Artefact, user: User | None) -> dict[str, Any]:
    """One artefact with every quote in its context, suggestions, merges and (for reviewers) the audit log."""
    passages = store.passages_by_id(e.passage_id for e in a.evidence)
    sources = sources_by_id(store)
    data = item(a, passages, sources, user)
    for row in data["evidence"]:
        p = passages.get(row["passage_id"])
        src = sources.get(p.source_id) if p is not None else None
        row["context"] = []
        if p is not None and row["source_id"]:
            row["context"] = [
                {
                    "passage_id": c.id,
                    "author": c.author,
                    "time": passage_time(c),
                    "timestamp": c.timestamp,
                    "section": " > ".join(c.section_path) or None,
                    "text": c.text,
                    "is_evidence": c.id == p.id,
                    "location": location(c) if user is not None else None,
                    "seq": c.seq,
                    "when": human_time(c.timestamp),
                    "original": original_link(c, src),
                }
                for c in _context(store, p)
            ]
    data["conversations"] = conversations(data["evidence"])
    data["suggestions"] = suggestions(store, a, user)
    data["merged_from"] = [
        {"id": m.id, "title": m.title, "body": m.body, "support": m.support.model_dump()}
        for m in store.artefacts(status=ArtefactStatus.merged.value)
        if m.merged_into == a.id and review_ops.visible(m, user)
    ]
    if user is not None and can_review(user):
        data["audit"] = [event_json(e) for e in review_ops.audit_log(store, artefact_id=a.id, limit=100)]
    return data


def suggestions(store: Any, a: Artefact, user: User | None) -> list[dict[str, Any]]:
    """Possible duplicates of an artefact the viewer may see (merged ones left out)."""
    out = []
    for x, y, score in store.suggestions(a.id):
        other = store.get_artefact(y if x == a.id else x)
        if other is None or other.status == ArtefactStatus.merged or not review_ops.visible(other, user):
            continue
        out.append(
            {
                "id": other.id,
                "score": round(score, 4),
                "kind": other.kind.value,
                "status": other.status.value,
                "title": other.title,
                "body": other.body,
                "support": other.support.model_dump(),
                "communities": other.communities,
                "url": f"/artefacts/{other.id}",
                "actions": list(review_ops.offered(other, user)),
            }
        )
    return out


def search(searcher: Any, store: Any, user: User | None, q: str, k: int, **filters: Any) -> dict[str, Any]:
    """Hits of the current release the viewer may see, with citations they may follow."""
    if searcher is None:
        return {"query": q, "release": None, "hits": [], "message": "no index release yet: publish one first"}
    allowed = [v for v in searcher.visibilities if can_see(user, v)]
    hits = searcher.search(q, k=k, visibility=allowed, **filters) if allowed else []
    # Only the rows these hits need, read now (not cached: an artefact's or a source's visibility
    # may narrow in the store while the release stays current, and must apply at once).
    passages = store.passages_by_id(c["passage_id"] for h in hits for c in h.payload.get("citations", []))
    sources = store.sources_by_id(p.source_id for p in passages.values())
    artefacts = store.versioned_artefacts([h.id for h in hits])
    out = []
    for h in hits:
        current = artefacts[h.id][0] if h.id in artefacts else None
        if current is not None and not review_ops.visible(current, user):
            continue  # visibility narrowed since the release was built
        hit = h.to_dict()
        hit["url"] = f"/artefacts/{h.id}" if current is not None else None
        for c in hit.get("citations", []):
            p = passages.get(c["passage_id"])
            src = sources.get(p.source_id) if p else None
            ok = src is not None and can_see(user, src.visibility)
            c["location"] = location(p) if ok and user is not None else None
            c["source"] = source_name(src) if ok else None
            c["original"] = original_link(p, src) if ok and p is not None else None
            c["cited"] = format_citation(c)
        out.append(hit)
    match = overall([h.get("match") for h in out], searcher.relevance is not None)
    result = {"query": q, "release": searcher.release_id, "match": match, "match_text": MATCH_TEXT.get(match or ""), "hits": out}
    r = searcher.relevance
    result["thresholds"] = {"floor": r.floor, "strong": r.strong} if r is not None else None
    if match == NO_MATCH:
        result["message"] = "No good match: nothing in the index answers this closely enough."
    return result


def facets(store: Any, user: User | None) -> dict[str, list[str]]:
    """Filter options a viewer may see: communities of visible artefacts and the release."""
    communities: set[str] = set()
    for a in visible_artefacts(store, user):
        communities.update(a.communities)
    return {
        "communities": sorted(communities),
        "kinds": ["faq", "pattern"],
        "statuses": [s.value for s in ArtefactStatus],
        "source_kinds": ["transcript", "thread", "document"],
    }


def dashboard(store: Any, user: User | None, now: datetime | None = None) -> dict[str, Any]:
    """Counts for the dashboard, over what the viewer may see only, in the community's time: artefacts
    by when their evidence was first and last said, open questions by community with their age,
    practices by the conversations that support them."""
    visible = visible_artefacts(store, user)
    by_id = {a.id: a for a in visible}
    passages = store.passages_by_id(e.passage_id for a in visible for e in a.evidence)
    spans = {a.id: timeline.said(a, passages) for a in visible}
    throughput: Counter[tuple[str, str]] = Counter(
        (week(e.at), e.action) for e in review_ops.audit_log(store, limit=100_000) if e.artefact_id in by_id
    )
    practices = sorted(
        (a for a in visible if a.kind.value == "pattern" and a.status.value in LIVE),
        key=lambda a: (-a.support.conversations, -a.support.communities, -a.support.sources, a.title),
    )[:10]
    failed = [
        {"id": s.id, "uri": s.uri, "kind": s.kind.value if s.kind else None, "error": s.error,
         "ingested_at": s.ingested_at.isoformat()}  # fmt: skip
        for s in store.list_sources()
        if s.status == SourceStatus.failed and can_see(user, s.visibility)
    ]
    totals = Counter(a.status.value for a in visible)
    open_rows = open_questions(visible, spans, now or utcnow())
    return {
        "totals": {"artefacts": len(visible), **{s.value: totals.get(s.value, 0) for s in ArtefactStatus}},
        **said_counts(visible, spans),
        "review_throughput": [{"week": w, "action": a, "count": n} for (w, a), n in sorted(throughput.items())],
        "open_questions": open_rows,
        "open_questions_by_community": {r["community"]: r["count"] for r in open_rows},
        "most_supported_practices": [
            {"id": a.id, "name": a.title, "support": a.support.model_dump(), "communities": a.communities}
            for a in practices
        ],
        "sources_with_errors": failed,
    }


def said_counts(visible: list[Artefact], spans: dict[str, timeline.Said | None]) -> dict[str, Any]:
    """Artefacts per period (week, or month over a long span) of their first and of their last
    occurrence, by kind and status; those resting only on undated material counted apart."""
    dated = [(a, sp) for a in visible if (sp := spans[a.id]) is not None]
    period = timeline.period_of(d for _, sp in dated for d in (sp.first.date(), sp.last.date()))
    first: Counter[tuple[str, str, str]] = Counter()
    last: Counter[tuple[str, str, str]] = Counter()
    for a, sp in dated:
        first[(timeline.period_start(sp.first.date(), period).isoformat(), a.kind.value, a.status.value)] += 1
        last[(timeline.period_start(sp.last.date(), period).isoformat(), a.kind.value, a.status.value)] += 1

    def rows(c: Counter[tuple[str, str, str]]) -> list[dict[str, Any]]:
        return [{"period": p, "kind": k, "status": st, "count": n} for (p, k, st), n in sorted(c.items())]

    undated = Counter(a.kind.value for a in visible if spans[a.id] is None)
    return {"period": period, "by_first_said": rows(first), "by_last_said": rows(last),
            "undated": {k: undated.get(k, 0) for k in ("faq", "pattern")}}  # fmt: skip


def open_questions(visible: list[Artefact], spans: dict[str, timeline.Said | None], now: datetime) -> list[dict[str, Any]]:
    """Open questions still waiting (candidate or approved) per community, most first, with the
    day the oldest was asked and the median age in days (of the dated ones)."""
    asked: dict[str, list[datetime | None]] = {}
    for a in visible:
        if a.is_open_question and a.status.value in LIVE:
            sp = spans[a.id]
            for c in a.communities or ["(no community)"]:
                asked.setdefault(c, []).append(sp.first if sp else None)
    out = []
    for c, times in asked.items():
        dated = sorted(t for t in times if t is not None)
        out.append({
            "community": c, "count": len(times), "undated": len(times) - len(dated),
            "oldest_asked": dated[0].date().isoformat() if dated else None,
            "oldest_age_days": timeline.age_days(dated[0], now) if dated else None,
            "median_age_days": timeline.median_days([timeline.age_days(t, now) for t in dated]) if dated else None,
        })  # fmt: skip
    return sorted(out, key=lambda r: (-r["count"], r["community"]))


def passage_time(p: Passage) -> str | None:
    """A passage's time in its recording (H:MM:SS–H:MM:SS), if it has one."""
    if p.start is None:
        return None
    return clock(p.start) + (f"–{clock(p.end)}" if p.end is not None else "")


def location(p: Passage) -> str:
    """The source page anchored at a passage (its time, message or section)."""
    return f"/sources/{p.source_id}?around={p.id}#p-{p.id}"


def week(when: datetime) -> str:
    """The Monday of a date's week (ISO)."""
    d = when.date() if isinstance(when, datetime) else when
    return (d - timedelta(days=d.weekday())).isoformat()


def _context(store: Any, p: Passage, radius: int = 2) -> list[Passage]:
    """The passages around one: its thread's messages, or the turns / elements next to it."""
    if p.kind == PassageKind.message and p.thread_id:
        thread = store.thread_passages(p.source_id, p.thread_id)
        idx = next((i for i, x in enumerate(thread) if x.id == p.id), None)
        if idx is not None:
            # the thread root, then a window around the message
            window = thread[max(0, idx - radius - 1) : idx + radius + 2]
            if thread and thread[0] not in window:
                window = [thread[0], *window]
            return window
    return store.passages_in_range(p.source_id, p.seq - radius, p.seq + radius)
