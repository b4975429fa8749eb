"""The review queue in pages: totals, a stable order across pages, filters kept by the page links,
and the keyboard flow staying on the next row after an action (it used to go back to row 1)."""

from __future__ import annotations

import html
import re

from pipeline import review
from pipeline.store import open_store
from pipeline.users import User, can_see

# the API tests' small world (three communities, one restricted source, one merge done), a private copy per test
from tests.test_api import World, auth, client_for, csrf_of, login, template, world  # noqa: F401

REVIEWER = User(name="rev", role="reviewer")


def test_pages_cover_the_queue_once_in_order_with_the_total(world: World) -> None:
    store = open_store(world.home)
    try:
        waiting = [a.id for a in store.artefacts(status="candidate") if can_see(REVIEWER, a.visibility)]
        pages = [review.queue_page(store, REVIEWER, limit=2, offset=o) for o in range(0, len(waiting) + 2, 2)]
        whole = review.queue_page(store, REVIEWER, limit=1000)
    finally:
        store.close()
    assert len(waiting) >= 3  # enough for two pages of two
    assert {p.total for p in pages} == {len(waiting)}
    assert [a.id for p in pages for a in p.items] == [a.id for a in whole.items]
    assert sorted(a.id for a in whole.items) == sorted(waiting)


def test_api_queue_pages_and_counts(world: World) -> None:
    with client_for(world) as c:
        first = c.get("/api/queue", params={"limit": 2}, headers=auth(world, "reviewer"))
        second = c.get("/api/queue", params={"limit": 2, "offset": 2}, headers=auth(world, "reviewer"))
    total = int(first.headers["X-Total-Count"])
    assert total >= 3 and second.headers["X-Total-Count"] == str(total)
    assert len(first.json()) == 2 and len(second.json()) == min(2, total - 2)
    assert not {r["id"] for r in first.json()} & {r["id"] for r in second.json()}


def _links(page: str) -> dict[str, str]:
    return {rel: html.unescape(href) for href, rel in re.findall(r'<a href="([^"]+)" rel="(prev|next)"', page)}


def test_queue_page_shows_totals_and_page_links_that_keep_the_filters(world: World) -> None:
    with client_for(world) as c:
        login(c, world.tokens["reviewer"])
        page = c.get("/queue", params={"limit": 2, "kind": "faq"}).text
        total = int(re.search(r"Showing 1–2 of (\d+)", page).group(1))  # type: ignore[union-attr]
        assert total >= 4
        assert "prev" not in _links(page)
        nxt = _links(page)["next"]
        assert "offset=2" in nxt and "kind=faq" in nxt and "limit=2" in nxt and "status=candidate" in nxt
        second = c.get(nxt).text
        assert f"Showing 3–4 of {total}" in second
        assert "offset" not in _links(second)["prev"] and "kind=faq" in _links(second)["prev"]


def _rows(page: str) -> list[str]:
    return re.findall(r'<tr data-id="([^"]+)"', page)


def _selected(page: str) -> str:
    return re.search(r'<tr data-id="([^"]+)" data-href="[^"]*" class="row selected"', page).group(1)  # type: ignore[union-attr]


def test_an_action_mid_list_comes_back_with_the_next_row_selected(world: World) -> None:
    with client_for(world) as c:
        login(c, world.tokens["reviewer"])
        page = c.get("/queue", params={"limit": 4}).text
        rows = _rows(page)
        assert _selected(page) == rows[0]
        form = re.search(rf'action="/artefacts/{rows[1]}/reject".*?name="return_to" value="([^"]+)"', page, re.S)
        back = html.unescape(form.group(1))  # type: ignore[union-attr]
        after = c.post(f"/artefacts/{rows[1]}/reject",
                       data={"csrf_token": csrf_of(page), "reason": "off topic", "return_to": back})  # fmt: skip
        assert after.status_code == 200 and "Rejected" in after.text
        assert rows[1] not in _rows(after.text)
        assert _selected(after.text) == rows[2]  # the row after the rejected one, not row 1
