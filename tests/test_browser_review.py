"""The review flows that must not mislead, in a real browser (Playwright + Debian's Chromium against
`practice serve`, the fixtures of tests/test_browser.py): publish with its preview and confirmation,
then a one-click rollback; a keyboard reject mid-list that stays in place, then undo.

The demo home was published with candidates included; the server publishes approved artefacts only
(its default configuration), so the preview must say that most of the release would go.
Screenshots go to test-artifacts/ (git-ignored).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.test_browser import ARTIFACTS, browser, server  # noqa: F401  (module fixtures)

pytestmark = pytest.mark.integration


def _page(browser: Any, base: str, token: str) -> tuple[Any, Any, list[str]]:
    """A signed-in reviewer's page at 1366×768 and the console errors and failed requests it collects."""
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    page.set_default_timeout(60_000)  # the first publish and search load the embedding model
    expect.set_options(timeout=30_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.goto(f"{base}/login")
    page.fill("input[name=token]", token)
    page.click("button[type=submit].primary")
    expect(page).to_have_url(re.compile(r"/queue$"))
    return context, page, errors


def _top_shot(page: Any, name: str) -> None:
    """The top of the page down to the selected row: the flash, the undo bar and the selection."""
    page.evaluate("window.scrollTo(0, 0)")
    bottom = page.evaluate("document.querySelector('#queue tr.row.selected').getBoundingClientRect().bottom")
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True, clip={"x": 0, "y": 0, "width": 1366, "height": bottom + 10})


def _hit_ids(page: Any, base: str, query: str) -> list[str]:
    page.goto(f"{base}/search?q={query}")
    return [h.get_attribute("data-id") for h in page.locator("article.hit").all()]


def test_publish_with_preview_and_confirmation_then_rollback(server: tuple[str, str], browser: Any) -> None:
    from playwright.sync_api import expect

    base, token = server
    context, page, errors = _page(browser, base, token)
    rows = page.locator("#queue tbody tr.row")
    approved_id = rows.nth(0).get_attribute("data-id")
    title = rows.nth(0).locator("a.title").inner_text().strip()
    page.keyboard.press("a")
    expect(page.locator(".flash.ok")).to_contain_text("Approved")
    before = _hit_ids(page, base, "flaky tests")  # the release published with candidates
    assert before

    page.goto(f"{base}/queue")
    page.click("#publish")
    expect(page).to_have_url(re.compile(r"/publish$"))
    preview = page.locator("#publish-preview")
    expect(preview.locator("#count-removed")).to_contain_text("removed")
    removed = int(re.search(r"\d+", preview.locator("#count-removed").inner_text()).group())
    assert removed >= 5  # the candidates would go: the preview says so before anything happens
    expect(preview.locator("#count-after")).to_have_text("1")  # only the approved artefact stays
    expect(preview.locator("details.preview-removed")).to_have_attribute("open", "")
    expect(preview.locator("[role=alert]").first).to_contain_text(f"removes {removed} of the")
    page.screenshot(path=str(ARTIFACTS / "10-publish-preview.png"), full_page=True)

    page.click("#confirm-publish")
    expect(page.locator(".flash.ok")).to_contain_text("Published release")
    expect(page.locator("#releases tr.current")).to_contain_text("1")
    after = _hit_ids(page, base, title)
    assert after == [approved_id]  # search serves the new, one-artefact release

    page.goto(f"{base}/publish")
    page.click("#rollback")
    expect(page.locator(".flash.ok")).to_contain_text("Rolled back")
    page.screenshot(path=str(ARTIFACTS / "11-rolled-back.png"), full_page=True)
    assert _hit_ids(page, base, "flaky tests") == before  # the previous release is served again

    page.goto(f"{base}/audit")
    expect(page.locator("table.plain tbody tr").nth(0)).to_contain_text("rollback")
    expect(page.locator("table.plain tbody tr").nth(1)).to_contain_text("publish")
    assert not errors, f"browser console errors: {errors}"
    context.close()


def test_keyboard_reject_mid_list_stays_in_place_then_undo(server: tuple[str, str], browser: Any) -> None:
    from playwright.sync_api import expect

    base, token = server
    context, page, errors = _page(browser, base, token)
    rows = page.locator("#queue tbody tr.row")
    assert rows.count() >= 5
    order = [r.get_attribute("data-id") for r in rows.all()]
    rejected_id, after_id = order[2], order[3]
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("r")
    page.keyboard.type("not about our practices")
    page.keyboard.press("Enter")
    expect(page.locator(".flash.ok")).to_contain_text("Rejected")
    expect(page.locator("#queue tr.row.selected")).to_have_attribute("data-id", str(after_id))
    assert page.locator(f'#queue tr[data-id="{rejected_id}"]').count() == 0
    expect(page.locator("#undo-form")).to_contain_text("Your last action: reject of")
    _top_shot(page, "12-rejected-mid-list")

    page.keyboard.press("u")
    expect(page.locator(".flash.ok")).to_contain_text("Undone: reject of")
    expect(page.locator("#queue tr.row.selected")).to_have_attribute("data-id", str(rejected_id))
    assert [r.get_attribute("data-id") for r in rows.all()] == order  # back in its place
    expect(page.locator("#undo")).to_have_count(0)  # one level: an undo is not undone
    _top_shot(page, "13-undone")

    # a bulk action on the filtered set asks first, with the count: cancelling changes nothing
    total = page.locator("#queue-total").inner_text()
    page.select_option("#bulk-filter select[name=action]", "stale")
    page.click("#bulk-filter button[type=submit]")
    matching = int(total.rsplit(" ", 1)[-1])  # "Showing 1–50 of 60"
    expect(page.locator("#bulk-confirm .question")).to_have_text(f"Mark stale {matching} artefacts matching status candidate?")
    page.screenshot(path=str(ARTIFACTS / "14-bulk-confirm.png"))
    page.click("#bulk-confirm a:has-text('Cancel')")
    expect(page.locator("#queue-total")).to_have_text(total)
    assert not errors, f"browser console errors: {errors}"
    context.close()
