"""The web pages' forms and the audit log, through FastAPI's test client on a small world.

Errors come back inline (the form kept, the message beside its field, not a full error page); the
audit log filters by actor, action, artefact and day, pages with totals and shows before/after as
a diff (`pipeline.audit`, the store's `review_event_keys`).
"""

from __future__ import annotations

import re
from datetime import date
from html import unescape

from fastapi.testclient import TestClient

from pipeline import review
from pipeline.audit import AuditFilter, audit_page, snapshot_diff, word_diff
from pipeline.store import open_store
from pipeline.store_memory import MemoryStore
from tests.test_api import World, client_for, csrf_of, login, template, world  # noqa: F401 (fixtures)

FULL_ERROR_PAGE = "Something is wrong with the request"


def _reviewer(w: World) -> TestClient:
    c = client_for(w)
    login(c, w.tokens["reviewer"])
    return c


def _field_error(html: str, form: str, field: str) -> str:
    """The message shown beside a field, asserting the field points at it (aria-describedby)."""
    m = re.search(rf'<span class="field-error" id="err-{form}-{field}" role="alert">([^<]+)</span>', html)
    assert m, f"no error beside {field}"
    assert f'aria-describedby="err-{form}-{field}"' in html
    return unescape(m.group(1))


def test_a_bad_date_on_the_search_page_is_shown_beside_the_field(template: World) -> None:  # noqa: F811
    with client_for(template) as c:
        r = c.get("/search", params={"q": "flaky tests", "since": "14/09/2026", "community": "payments"})
    assert r.status_code == 422 and FULL_ERROR_PAGE not in r.text
    assert "Not a date" in _field_error(r.text, "search", "since")
    assert 'value="flaky tests"' in r.text  # the form is kept as typed
    assert '<option value="payments" selected>' in r.text


def test_a_too_long_query_is_shown_beside_the_search_box(template: World) -> None:  # noqa: F811
    with client_for(template) as c:
        r = c.get("/search", params={"q": "flaky " * 300})
    assert r.status_code == 422 and FULL_ERROR_PAGE not in r.text
    assert "at most 1000 characters" in _field_error(r.text, "search", "q")


def test_a_bad_merge_id_keeps_the_merge_form_open_with_the_message_beside_it(world: World) -> None:  # noqa: F811
    with _reviewer(world) as c:
        page = c.get(f"/artefacts/{world.ids['flaky_unit']}")
        r = c.post(
            f"/artefacts/{world.ids['flaky_unit']}/merge",
            data={"csrf_token": csrf_of(page.text), "into": "no-such-artefact"},
        )  # fmt: skip
    assert r.status_code == 200 and r.url.path == f"/artefacts/{world.ids['flaky_unit']}"
    assert "No artefact 'no-such-artefact'" in _field_error(r.text, "merge", "into")
    assert 'value="no-such-artefact"' in r.text
    assert re.search(r"<details open>\s*<summary>Merge into another artefact", r.text)


def _events(world: World) -> None:
    """53 review actions by two reviewers: edits, approvals and rejections."""
    store = open_store(world.home)
    try:
        review.edit(store, world.ids["flaky"], "ana", {"answer": "quarantine them in a separate job"})
        for i in range(26):
            review.reject(store, world.ids["terraform"], "bo", f"off topic {i}")
            review.approve(store, world.ids["terraform"], "ana")
    finally:
        store.close()


def test_the_audit_page_filters_pages_with_totals_and_shows_a_diff(world: World) -> None:  # noqa: F811
    _events(world)
    with _reviewer(world) as c:
        everything = c.get("/audit")
        by_bo = c.get("/audit", params={"actor": "bo"})
        page2 = c.get("/audit", params={"page": 2})
        edits = c.get("/audit", params={"action": "edit", "artefact": world.ids["flaky"]})
        future = c.get("/audit", params={"since": "2999-01-01"})
        bad = c.get("/audit", params={"until": "yesterday"})
    # 53 new events plus the world's one merge (two events, one per artefact)
    assert "Showing 1–50 of 55" in everything.text and 'rel="next"' in everything.text
    assert "Showing 1–26 of 26" in by_bo.text and ">ana<" not in by_bo.text
    assert "Showing 51–55 of 55" in page2.text and 'rel="prev"' in page2.text and 'rel="next"' not in page2.text
    first_ids = set(re.findall(r'data-event="(\d+)"', everything.text))
    second_ids = set(re.findall(r'data-event="(\d+)"', page2.text))
    assert len(first_ids) == 50 and len(second_ids) == 5 and not first_ids & second_ids
    assert "No matching review action" in future.text
    assert "Showing 1–1 of 1" in edits.text
    assert "<del>" in edits.text and "<ins>quarantine them in a separate job</ins>" in edits.text
    assert bad.status_code == 422 and "Not a date" in _field_error(bad.text, "audit", "until")


def test_audit_page_counts_only_what_the_viewer_may_see() -> None:
    """Events about hidden artefacts are neither shown nor counted: page 2 starts where page 1 ended."""
    store = MemoryStore()
    from pipeline.models import ReviewEvent

    store.save_review([], [ReviewEvent(actor="a", action="approve", artefact_id=f"A{i % 3}") for i in range(9)])
    hidden = {"A1"}
    first = audit_page(store, AuditFilter(), lambda a, _: a not in hidden, page=1, per_page=4)
    second = audit_page(store, AuditFilter(), lambda a, _: a not in hidden, page=2, per_page=4)
    assert (first.total, first.pages, second.first, second.last) == (6, 2, 5, 6)
    assert {e.artefact_id for e in first.events + second.events} == {"A0", "A2"}
    assert len({e.id for e in first.events + second.events}) == 6


def test_audit_filter_days_are_inclusive() -> None:
    f = AuditFilter(actor="bo", since=date(2026, 9, 14), until=date(2026, 9, 14))
    assert f.where() == {"actor": "bo", "at_from": "2026-09-14", "at_to": "2026-09-15"}


def test_snapshot_diff_names_changed_fields_and_diffs_text_by_word() -> None:
    before = {"status": "candidate", "answer": "retry the flaky test twice", "updated_at": "x", "evidence": [1, 2]}
    after = {"status": "approved", "answer": "quarantine the flaky test", "updated_at": "y", "evidence": [1, 2, 3]}
    rows = {r["field"]: r for r in snapshot_diff(before, after)}
    assert set(rows) == {"status", "answer", "evidence"}  # updated_at is bookkeeping
    assert (rows["status"]["before"], rows["status"]["after"]) == ("candidate", "approved")
    assert (rows["evidence"]["before"], rows["evidence"]["after"]) == ("2 items", "3 items")
    assert word_diff("retry the flaky test twice", "quarantine the flaky test") == [
        ("del", "retry"), ("ins", "quarantine"), ("same", " the flaky test"), ("del", " twice"),
    ]  # fmt: skip
    assert word_diff("answer from ana", "quarantine them") == [("del", "answer from ana"), ("ins", "quarantine them")]


def test_release_events_are_shown_to_every_reviewer_and_hidden_artefacts_are_not() -> None:
    """Publish and rollback events name a release, not an artefact: no artefact lookup hides them."""
    from web.routers.audit import _may_see

    check = _may_see(MemoryStore(), None)
    assert check("20261130T180926Z-87b5e411", "publish") and check("20261130T180926Z-87b5e411", "rollback")
    assert not check("gone", "approve")  # an artefact that is not there is not shown
