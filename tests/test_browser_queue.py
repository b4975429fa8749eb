"""The review queue at 230 artefacts in a real browser (issue 13, "Show it"): pages with correct
totals at 1366 and 390 px, every artefact reachable exactly once through the page links.

The home holds 230 distinct questions (a JSONL export of one message each, a fake extractor making
each message a FAQ, deduplicated with the tests' bag-of-words embedder: nothing folds); the server is
the real `practice serve` of `tests/test_browser.py`'s fixtures, in Debian's Chromium."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

import tests.test_browser as tb
from tests.test_browser import ARTIFACTS, VIEWPORTS, browser, log_in, server  # noqa: F401  (fixtures)

pytestmark = pytest.mark.integration

N = 230
_SYLLABLES = "ka lo mi nu pe ri so tu va ze bo di fa gu hi jo".split()


def _questions(n: int) -> list[str]:
    """n questions, each naming four made-up words no other question uses (so the dedup folds none:
    the test embedder hashes words into 256 buckets, and two shared buckets of four stay far apart)."""
    words = [a + b + c for a in _SYLLABLES for b in _SYLLABLES for c in _SYLLABLES]
    random.Random(230).shuffle(words)
    return [f"how do we handle the {' '.join(words[4 * i : 4 * i + 4])} rollout?" for i in range(n)]


def _home_with_230(home: Path) -> str:
    from pipeline.artefacts import dedupe
    from pipeline.extract import extract_all
    from pipeline.ingest import IngestOptions, ingest_paths
    from pipeline.store import open_store
    from pipeline.users import add_user
    from tests.extractors.test_threads_extractor import fake_embed
    from tests.test_api import THRESHOLDS
    from tests.test_artefacts import QuestionPerMessage

    export = home.parent / "queue230.jsonl"
    rows = [
        {"id": f"m{i}", "thread": f"t{i}", "author": f"user{i % 17}", "text": q,
         "timestamp": f"2026-09-{1 + i % 28:02d}T{10 + i % 9:02d}:00:00Z"}
        for i, q in enumerate(_questions(N))
    ]  # fmt: skip
    export.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    store = open_store(home)
    try:
        ingest_paths(store, [export], IngestOptions(community="platform"))
        extract_all(store, [QuestionPerMessage()])
        dedupe(store, fake_embed, "fake-bow", THRESHOLDS)
        assert len(store.artefacts(kind="faq")) == N  # the world this test needs: nothing folded
        _, token = add_user(store, "rae", "reviewer")
    finally:
        store.close()
    return token


_with_230_artefacts = tb.served_home(_home_with_230)  # the reused `server` fixture serves this home


@pytest.mark.parametrize("size", sorted(VIEWPORTS))
def test_a_queue_of_230_is_paged_with_correct_totals(server: tuple[str, str], browser: object, size: str) -> None:  # noqa: F811
    from playwright.sync_api import expect

    base, token = server
    context = browser.new_context(viewport=VIEWPORTS[size])  # type: ignore[attr-defined]
    page = context.new_page()
    page.set_default_timeout(60_000)
    log_in(page, base, token)
    page.goto(f"{base}/queue")
    seen: list[str] = []
    for first in range(1, N + 1, 50):
        last = min(first + 49, N)
        expect(page.locator("body")).to_contain_text(f"Showing {first}–{last} of {N}")
        ids = [str(r.get_attribute("data-id")) for r in page.locator("#queue tbody tr.row").all()]
        assert len(ids) == last - first + 1
        seen += ids
        if first == 1:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"queue-230-{size}.png"))
        if last < N:
            page.get_by_role("link", name="Next 50").click()
    assert len(seen) == N and len(set(seen)) == N  # every artefact once, across the five pages
    context.close()
