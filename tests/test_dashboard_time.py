"""The dashboard in the community's time: artefacts counted by when their quoted messages were posted
(first and last occurrence), open questions per community with their age, practices by conversations.

Every artefact below was extracted on the same day (T0 + 1 year): counted by extraction day, they
would all fall in one bar, which is what the dashboard used to show.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from pipeline import timeline
from pipeline.models import Artefact, CandidateKind, Evidence, Passage, PassageDraft, PassageKind, Support
from pipeline.store_memory import MemoryStore
from web import views
from web.routers.pages import dashboard_charts

EXTRACTED = datetime(2027, 1, 5, tzinfo=timezone.utc)
NOW = datetime(2026, 10, 1, tzinfo=timezone.utc)


def _msg(seq: int, when: str | None) -> Passage:
    draft = PassageDraft(kind=PassageKind.message, text=f"message {seq}", timestamp=when, message_id=f"m{seq}")
    return Passage.from_draft(draft, "S1", seq)


def _artefact(aid: str, evidence: list[Passage], answer: str | None, communities: list[str], **kw: object) -> Artefact:
    return Artefact(
        id=aid, kind=kw.pop("kind", CandidateKind.faq), question=f"question {aid}?", answer=answer,
        evidence=[Evidence(passage_id=p.id, quote=p.text) for p in evidence], communities=communities,
        created_at=EXTRACTED, updated_at=EXTRACTED, **kw,
    )  # type: ignore[arg-type]  # fmt: skip


def _store() -> MemoryStore:
    from pipeline.models import Source, SourceKind

    msgs = [
        _msg(0, "2026-09-01T10:00:00Z"),  # Tuesday of the week of Mon 31 Aug
        _msg(1, "2026-09-15T08:00:00+00:00"),  # week of Mon 14 Sep
        _msg(2, "2026-09-16T23:30:00-02:00"),  # 17 Sep 01:30 UTC, same week
        _msg(3, None),  # a message with no posting time
        _msg(4, "2026-09-21T12:00:00"),  # naive: taken as UTC, week of Mon 21 Sep
    ]
    store = MemoryStore()
    store.save_source(Source(id="S1", kind=SourceKind.thread, uri="/c/a.jsonl", content_hash="h"), msgs)
    store.save_artefacts([
        _artefact("A", [msgs[0], msgs[2]], "answered", ["payments"]),  # first 1 Sep, last 17 Sep
        _artefact("B", [msgs[1]], None, ["payments", "search"]),  # open since 15 Sep
        _artefact("C", [msgs[4]], None, ["payments"]),  # open since 21 Sep
        _artefact("D", [msgs[3]], None, ["search"]),  # open, undated
        _artefact("P1", [msgs[1]], None, ["search"], kind=CandidateKind.pattern, name="Pair on incidents",
                  support=Support(conversations=3, sources=1)),
        _artefact("P2", [msgs[4]], None, ["search"], kind=CandidateKind.pattern, name="Write runbooks",
                  support=Support(conversations=1, sources=2)),
    ])  # fmt: skip
    return store


def test_artefacts_are_counted_by_when_their_evidence_was_said() -> None:
    d = views.dashboard(_store(), None, now=NOW)
    assert d["period"] == "week"
    first = {(r["period"], r["kind"]): r["count"] for r in d["by_first_said"]}
    last = {(r["period"], r["kind"]): r["count"] for r in d["by_last_said"]}
    assert first == {("2026-08-31", "faq"): 1, ("2026-09-14", "faq"): 1, ("2026-09-14", "pattern"): 1,
                     ("2026-09-21", "faq"): 1, ("2026-09-21", "pattern"): 1}  # fmt: skip
    assert last == {("2026-09-14", "faq"): 2, ("2026-09-14", "pattern"): 1,
                    ("2026-09-21", "faq"): 1, ("2026-09-21", "pattern"): 1}  # fmt: skip
    assert d["undated"] == {"faq": 1, "pattern": 0}
    assert "2027" not in str(d["by_first_said"])  # the extraction day appears nowhere


def test_open_questions_per_community_carry_their_age() -> None:
    d = views.dashboard(_store(), None, now=NOW)
    rows = {r["community"]: r for r in d["open_questions"]}
    assert [r["community"] for r in d["open_questions"]] == ["payments", "search"]  # 2 each: by name
    # payments: B asked 15 Sep 08:00, 15 whole days before 1 Oct 00:00; C asked 21 Sep 12:00, 9 whole days
    assert rows["payments"] == {"community": "payments", "count": 2, "undated": 0, "oldest_asked": "2026-09-15",
                                "oldest_age_days": 15, "median_age_days": 12}  # fmt: skip
    # search: B, and D which has no posting time (counted, not aged)
    assert (rows["search"]["count"], rows["search"]["undated"], rows["search"]["oldest_age_days"]) == (2, 1, 15)


def test_practices_rank_by_conversations_and_the_charts_draw() -> None:
    d = views.dashboard(_store(), None, now=NOW)
    assert [p["name"] for p in d["most_supported_practices"]] == ["Pair on incidents", "Write runbooks"]
    svg = dashboard_charts(d)
    # three weeks from the first to the last message: three bars' labels, in order
    first = str(svg["faq_first"])
    assert first.index(">31 Aug<") < first.index(">14 Sep<") < first.index(">21 Sep<")
    assert "Pair on incidents: 3" in str(svg["practices"])


def test_a_long_span_is_counted_per_month_with_the_quiet_months_kept() -> None:
    days = [date(2019, 1, 30), date(2019, 12, 2)]
    assert timeline.period_of(days) == "month" and timeline.period_of([date(2019, 1, 1), date(2019, 6, 1)]) == "week"
    months = timeline.periods_between(date(2019, 1, 30), date(2019, 4, 2), "month")
    assert months == [date(2019, 1, 1), date(2019, 2, 1), date(2019, 3, 1), date(2019, 4, 1)]
    weeks = timeline.periods_between(date(2026, 9, 1), date(2026, 9, 21), "week")
    assert weeks == [date(2026, 8, 31), date(2026, 9, 7), date(2026, 9, 14), date(2026, 9, 21)]
    assert timeline.said_at(_msg(9, "not a time")) is None
    assert timeline.said_at(_msg(9, "2026-09-16T23:30:00-02:00")) == datetime(2026, 9, 17, 1, 30, tzinfo=timezone.utc)
    assert timedelta(0) == timeline.said_at(_msg(9, "2026-09-21T12:00:00")).utcoffset()  # type: ignore[union-attr]
