"""Search and evidence in a real browser (Playwright + Debian's Chromium against `practice serve`).

Reuses tests/test_browser.py's server and browser fixtures, over a small home instead of the demo:
a 3-thread chat export run through the stages with the bundled model (so the calibrated relevance
floor applies), plus one approved FAQ whose quotes come from those 3 conversations
(tests/evidence_world.py). At 1366×768 and 390×844: a gibberish query is
answered with "no good match"; the FAQ's evidence shows each conversation once, its quotes
highlighted and the rest collapsed, with human dates and no server path. Screenshots go to
test-artifacts/search-*.png.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import tests.test_browser as tb
from tests.evidence_world import THREADS, add_three_conversation_faq, write_export
from tests.test_browser import ARTIFACTS, browser, server  # noqa: F401  (fixtures used below)

pytestmark = pytest.mark.integration
VIEWPORTS = {"wide": {"width": 1366, "height": 768}, "narrow": {"width": 390, "height": 844}}
HOMES: list[Path] = []


def _home_with_three_conversations(home: Path) -> str:
    """Instead of the demo corpus (a minute and a half to build): the 3-thread chat export through
    ingest → extract → dedupe → publish with the bundled model, then the 3-conversation FAQ; a reviewer's token."""
    from pipeline.ingest import IngestOptions, ingest_paths
    from pipeline.settings import Settings
    from pipeline.stages import run_dedupe, run_extract, run_publish
    from pipeline.store import open_store
    from pipeline.users import add_user

    export = write_export(home.parent / "platform-chat.jsonl")
    settings = Settings()
    store = open_store(home)
    try:
        ingest_paths(store, [export], IngestOptions(community="platform"))
        _, token = add_user(store, "rae", "reviewer")
    finally:
        store.close()
    run_extract(settings.extract.extractors, home=home)
    run_dedupe(settings, home)
    run_publish(settings, home, include_candidates=True)
    add_three_conversation_faq(home, export)  # after dedupe, so nothing folds into it; in the store, not the release
    HOMES.append(home)
    return token


_with_three_conversations = tb.served_home(_home_with_three_conversations)  # the reused `server` fixture serves this home


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_gibberish_is_answered_with_no_good_match(server: tuple[str, str], browser: object, size: str) -> None:  # noqa: F811
    from playwright.sync_api import expect

    base, _ = server
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport=VIEWPORTS[size])  # type: ignore[attr-defined]
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(f"{base}/search")
    page.fill("input[type=search]", "asdfghjkl qwerty")
    page.keyboard.press("Enter")
    expect(page.locator(".no-match h2")).to_have_text("No good match")
    assert page.locator("article.hit").count() == 0
    page.screenshot(path=str(ARTIFACTS / f"search-no-good-match-{size}.png"), full_page=True)
    # a question the demo answers is shown with a readable label, not a fused rank score
    page.fill("input[type=search]", "how do we stop flaky tests blocking deploys")
    page.keyboard.press("Enter")
    expect(page.locator("article.hit .match").first).to_have_text("strong match")
    assert "score 0.500" not in page.content()
    page.screenshot(path=str(ARTIFACTS / f"search-strong-match-{size}.png"))
    context.close()


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_three_conversations_each_shown_once(server: tuple[str, str], browser: object, size: str) -> None:  # noqa: F811
    from playwright.sync_api import expect

    base, _ = server
    context = browser.new_context(viewport=VIEWPORTS[size])  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(f"{base}/artefacts/faq-three-conversations")  # anonymous: the FAQ is public
    conversations = page.locator("section.conversation")
    expect(conversations).to_have_count(3)
    titles = [t.strip() for t in page.locator(".conv-title").all_inner_texts()]
    assert titles == [THREADS[t][0][2] for t in ("ci", "deploy", "retro")]
    expect(page.locator("section.conversation mark")).to_have_count(5)
    collapsed = page.locator("section.conversation details")
    expect(collapsed).to_have_count(5)
    assert all(not d.evaluate("e => e.open") for d in collapsed.all())
    expect(page.locator("section.conversation mark").first).to_be_visible()
    text = page.locator("article.main-item").inner_text()
    assert "21 Sep 2026, 08:07" in text and "2026-09-21T" not in text
    assert str(HOMES[0].parent) not in page.content()
    assert page.locator("a.source-link").count() == 0  # anonymous: no link into a login wall
    box = page.locator("section.conversation").first.bounding_box()
    assert box is not None and box["width"] <= VIEWPORTS[size]["width"]
    page.screenshot(path=str(ARTIFACTS / f"search-evidence-{size}.png"), full_page=True)
    collapsed.first.locator("summary").click()
    expect(collapsed.first.locator("li").first).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / f"search-evidence-expanded-{size}.png"), full_page=True)
    context.close()
