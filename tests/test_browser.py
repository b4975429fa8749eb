"""The web UI in a real browser: Playwright driving Debian's Chromium (headless) against `practice serve`.

On the demo corpus (examples/, through the same stage functions `practice run` calls), a reviewer
logs in, opens the queue, approves one artefact with the keyboard, merges two possible duplicates
from the artefact page, publishes, finds the approved artefact on the search page and opens the
dashboard's charts. Screenshots go to test-artifacts/ (git-ignored).

Needs `apt-get install chromium` (/usr/bin/chromium) and the `playwright` Python package; a
missing browser fails the test (it is part of `make test`), it does not skip it.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any
from pathlib import Path

import pytest

from tests.demo_home import prepare_demo_home

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _prepare_demo_home(home: Path) -> str:
    """The demo corpus through ingest → publish into `home`; returns a reviewer's token."""
    from pipeline.store import open_store
    from pipeline.users import add_user

    prepare_demo_home(home)
    store = open_store(home)
    try:
        _, token = add_user(store, "rae", "reviewer")
    finally:
        store.close()
    return token


def served_home(build: Callable[[Path], str]) -> Any:
    """An autouse, module-scoped fixture for another browser module: the `server` fixture it reuses
    serves a home that `build(home) -> reviewer token` prepares instead of the demo corpus (autouse,
    so it is in place before `server` builds its home)."""

    @pytest.fixture(scope="module", autouse=True)
    def _served_home() -> Iterator[None]:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(sys.modules[__name__], "_prepare_demo_home", build)
            yield

    return _served_home


# The home each running server serves, by base URL (for fixtures that add to it, such as admin_token).
SERVED_HOMES: dict[str, Path] = {}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """`practice serve` on a free loopback port over a prepared demo home: (base URL, reviewer token).

    Other browser test modules import this fixture (and `browser`) by name: it depends on no other."""
    home = tmp_path_factory.mktemp("browser") / "home"
    token = _prepare_demo_home(home)
    port = _free_port()
    env = {**os.environ, "PRACTICE_HOME": str(home)}
    env.pop("PRACTICE_CONFIG", None)  # publish only approved artefacts (the default)
    log = open(home / "server.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli_serve", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        cwd=home, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    SERVED_HOMES[base] = home
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/login", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"practice serve did not start: {(home / 'server.log').read_text(errors='replace')[-2000:]}")
            time.sleep(0.2)
        yield base, token
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def admin_token(server: tuple[str, str]) -> str:
    """An admin's token in the served home (added beside the running server, as `practice users add` would)."""
    from pipeline.store import open_store
    from pipeline.users import add_user

    store = open_store(SERVED_HOMES[server[0]])
    try:
        return add_user(store, "ada", "admin")[1]
    finally:
        store.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium) for the browser tests")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the playwright package is missing: pip install playwright==1.65.2 (browsers come from apt, not playwright install)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def test_reviewer_session_in_a_real_browser(server: tuple[str, str], browser: object) -> None:
    from playwright.sync_api import expect

    base, token = server
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1366, "height": 860})  # type: ignore[attr-defined]
    page = context.new_page()
    page.set_default_timeout(60_000)  # the first search and publish load the embedding model
    expect.set_options(timeout=30_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)

    def shot(name: str, full: bool = False) -> None:
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full)

    # log in: the token goes into a server-side session; the cookie is HttpOnly
    page.goto(f"{base}/queue")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.fill("input[name=token]", token)
    page.click("button[type=submit].primary")
    expect(page).to_have_url(re.compile(r"/queue$"))
    cookie = next(c for c in context.cookies() if c["name"] == "practice_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    rows = page.locator("#queue tbody tr.row")
    assert rows.count() >= 5
    shot("01-queue")

    # approve the selected (first, highest-impact) row with the keyboard: j then k then a
    page.keyboard.press("j")
    expect(rows.nth(1)).to_have_class(re.compile("selected"))
    expect(rows.nth(1)).to_be_focused()  # focus follows the keyboard selection
    page.keyboard.press("k")
    expect(rows.nth(0)).to_have_class(re.compile("selected"))
    expect(rows.nth(0)).to_be_focused()
    approved_title = rows.nth(0).locator("a.title").inner_text().strip()
    approved_id = rows.nth(0).get_attribute("data-id")
    page.keyboard.press("a")
    expect(page.locator(".flash.ok")).to_contain_text("Approved")
    assert page.locator(f'#queue tr[data-id="{approved_id}"]').count() == 0  # it left the candidate queue
    shot("02-approved")

    # merge two: open an item with possible duplicates, compare side by side, fold the other in
    page.locator("#queue tr.row:has(.badge.dup) a.title").first.click()
    expect(page.locator(".side-by-side").first).to_be_visible()
    expect(page.locator("ol.context li.hit mark").first).to_be_visible()  # quote in its context
    target_id = page.url.rsplit("/", 1)[-1]
    other_title = page.locator(".side-by-side .pane.other strong").first.inner_text().strip()
    shot("03-artefact-duplicates", full=True)
    page.locator("button.merge-here").first.click()
    expect(page.locator(".flash.ok")).to_contain_text("Merged")
    expect(page).to_have_url(re.compile(rf"/artefacts/{target_id}$"))
    expect(page.locator("text=Merged into this one")).to_be_visible()
    assert other_title in page.locator("article.main-item").inner_text()
    shot("04-merged", full=True)

    # a source link opens the source at the quoted passage
    page.locator("a.source-link").first.click()
    expect(page.locator("ol.passages li.anchor")).to_be_visible()
    page.go_back()

    # publish, then find the approved artefact on the search page
    page.goto(f"{base}/queue")
    page.click("#publish")
    page.click("#confirm-publish")  # publish shows its preview first (tests/test_browser_review.py)
    expect(page.locator(".flash.ok")).to_contain_text("Published release")
    page.goto(f"{base}/search")
    page.fill("input[type=search]", approved_title)
    page.keyboard.press("Enter")
    hit = page.locator(f'article.hit[data-id="{approved_id}"]')
    expect(hit).to_be_visible()
    expect(hit.locator(".badge.status-approved")).to_be_visible()
    shot("05-search")
    hit.locator("details.citations summary").click()
    expect(hit.locator(".citations blockquote").first).to_be_visible()

    # the dashboard's server-rendered SVG charts
    page.goto(f"{base}/dashboard")
    charts = page.locator("svg.chart")
    assert charts.count() >= 5
    for section in ("#chart-faq-first", "#chart-pattern-first", "#chart-last-said", "#chart-throughput", "#chart-open", "#chart-practices"):
        expect(page.locator(f"{section} svg.chart")).to_be_visible()
    assert page.locator("#chart-throughput svg rect").count() >= 2  # the approve and merge just done
    assert page.locator("#chart-practices svg rect").count() >= 1
    shot("06-dashboard", full=True)

    assert not errors, f"browser console errors: {errors}"
    context.close()


def test_keyboard_reject_mid_list_stays_in_place(server: tuple[str, str], browser: object) -> None:
    """Rejecting the third row with the keyboard comes back with the fourth selected (it used to
    reload at row 1), and the rejected row offers no second Reject anywhere."""
    from playwright.sync_api import expect

    base, token = server
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1366, "height": 768})  # type: ignore[attr-defined]
    page = context.new_page()
    expect.set_options(timeout=30_000)
    page.goto(f"{base}/login")
    page.fill("input[name=token]", token)
    page.click("button[type=submit].primary")
    page.goto(f"{base}/queue")
    rows = page.locator("#queue tbody tr.row")
    assert rows.count() >= 4
    rejected_id, after_id = rows.nth(2).get_attribute("data-id"), rows.nth(3).get_attribute("data-id")
    page.keyboard.press("j")
    page.keyboard.press("j")
    expect(rows.nth(2)).to_have_class(re.compile("selected"))
    page.keyboard.press("r")
    page.keyboard.type("off topic for this community")
    page.keyboard.press("Enter")
    expect(page.locator(".flash.ok")).to_contain_text("Rejected")
    expect(page.locator("#queue tr.row.selected")).to_have_attribute("data-id", str(after_id))
    assert page.locator(f'#queue tr[data-id="{rejected_id}"]').count() == 0
    page.screenshot(path=str(ARTIFACTS / "07-reject-mid-list.png"))
    page.goto(f"{base}/artefacts/{rejected_id}")
    expect(page.locator(f'form[action="/artefacts/{rejected_id}/approve"]')).to_be_visible()
    assert page.locator(f'form[action="/artefacts/{rejected_id}/reject"]').count() == 0
    context.close()


def test_audit_log_filters_to_one_artefact_and_shows_the_change_as_a_diff(server: tuple[str, str], browser: object) -> None:
    """Approve one artefact, then filter the audit log by that artefact and the action: exactly its
    event, whose status change reads candidate → approved in the diff."""
    from playwright.sync_api import expect

    base, token = server
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1366, "height": 768})  # type: ignore[attr-defined]
    page = context.new_page()
    expect.set_options(timeout=30_000)
    log_in(page, base, token)
    row = page.locator("#queue tbody tr.row").first
    artefact_id = str(row.get_attribute("data-id"))
    row.locator("form.approve-form button").click()
    expect(page.locator(".flash.ok")).to_contain_text("Approved")
    page.goto(f"{base}/audit")
    page.select_option("select[name=action]", "approve")
    page.fill("input[name=artefact]", artefact_id)
    page.click("form.filters button[type=submit]")
    expect(page.locator("#audit-total")).to_have_text("Showing 1–1 of 1")
    page.locator("details.diff summary").click()
    status = page.locator("details.diff dt", has_text="status").locator("xpath=following-sibling::dd[1]")
    expect(status.locator("del")).to_have_text("candidate")
    expect(status.locator("ins")).to_have_text("approved")
    page.screenshot(path=str(ARTIFACTS / "08-audit-diff.png"))
    context.close()


# -- accessibility: axe-core in every page, at a laptop's and a phone's size -------------------------

AXE_JS = ROOT / ".cache" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
VIEWPORTS = {"1366": {"width": 1366, "height": 768}, "390": {"width": 390, "height": 844}}


@pytest.fixture(scope="module")
def axe_source() -> str:
    """axe-core's script, installed by `make test` (the Makefile's axe target)."""
    if not AXE_JS.exists():
        pytest.fail(f"{AXE_JS} is missing: run `make axe` (npm install of the pinned axe-core) for the accessibility test")
    return AXE_JS.read_text(encoding="utf-8")


def log_in(page: Any, base: str, token: str) -> None:
    """Sign in through the login form (the session cookie then rides on the page's context)."""
    page.goto(f"{base}/login")
    page.fill("input[name=token]", token)
    page.click("button[type=submit].primary")
    page.wait_for_url(re.compile(r"/(queue|search)"))


def axe_serious(page: Any, axe: str) -> list[str]:
    """The serious and critical axe-core violations of the page, one line each (rule: targets)."""
    # evaluate runs over the DevTools protocol, outside the page's CSP (which forbids inline scripts)
    page.evaluate(axe)
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} · " + "; ".join(" ".join(n["target"]) for n in v["nodes"][:4])
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


# Form fields whose only name is a placeholder or a title (axe accepts those; a reader should not have to).
UNLABELLED_JS = """() => Array.from(document.querySelectorAll('input, select, textarea'))
  .filter(el => el.type !== 'hidden' && !el.labels.length && !el.getAttribute('aria-labelledby')
          && !(el.type === 'checkbox' && el.getAttribute('aria-label')))
  .map(el => el.outerHTML.slice(0, 120))"""


def unlabelled(page: Any) -> list[str]:
    """The page's form fields with no label element (checkboxes may carry an aria-label instead)."""
    return [f"field without a label: {html}" for html in page.evaluate(UNLABELLED_JS)]


FIRST_FOCUSABLE_JS = """() => document.querySelector(
  'a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]:not([tabindex="-1"])'
).getAttribute('href')"""


def skip_link_works(page: Any) -> bool:
    """The first focusable element is a "skip to content" link; focused, it shows inside the viewport,
    and Enter on it puts the focus on <main>. (Pages such as search autofocus their field, so the
    check does not rely on the very first Tab.)"""
    if page.evaluate(FIRST_FOCUSABLE_JS) != "#main":
        return False
    link = page.locator("a.skip")
    link.focus()
    box = link.bounding_box()
    if box is None or box["y"] < 0:
        return False
    page.keyboard.press("Enter")
    return bool(page.evaluate("() => document.activeElement.id === 'main'"))


def overflow_x(page: Any) -> int:
    """How many CSS pixels the page is wider than the viewport (0: nothing off-screen)."""
    return int(page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth"))


def a11y_pages(page: Any, base: str) -> dict[str, str]:
    """Every kind of page a reviewer meets, by name: URL (ids read from the running server)."""
    page.goto(f"{base}/queue")
    artefact = page.locator("#queue a.title").first.get_attribute("href")
    page.goto(f"{base}/sources")
    source = page.locator("table.plain a[href^='/sources/']").first.get_attribute("href")
    return {
        "search": f"{base}/search",
        "search-results": f"{base}/search?q=flaky+tests",
        "queue": f"{base}/queue",
        "artefact": f"{base}{artefact}",
        "dashboard": f"{base}/dashboard",
        "audit": f"{base}/audit",
        "sources": f"{base}/sources",
        "source": f"{base}{source}",
        "not-found": f"{base}/artefacts/no-such-artefact",  # the error page
    }


@pytest.mark.parametrize("size", sorted(VIEWPORTS))
def test_every_page_passes_axe_and_fits(
    server: tuple[str, str], browser: object, axe_source: str, admin_token: str, size: str
) -> None:
    """axe-core finds no serious or critical violation on any page, and nothing sticks out sideways,
    at 1366×768 and at 390×844 (screenshots of each page at each size in test-artifacts/)."""
    base, _ = server
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport=VIEWPORTS[size])  # type: ignore[attr-defined]
    page = context.new_page()
    page.set_default_timeout(60_000)
    found: dict[str, list[str]] = {}
    page.goto(f"{base}/login")
    found["login"] = axe_serious(page, axe_source) + unlabelled(page)
    page.screenshot(path=str(ARTIFACTS / f"a11y-{size}-login.png"), full_page=True)
    log_in(page, base, admin_token)  # an admin sees every page a reviewer does, and the users page
    for name, url in {**a11y_pages(page, base), "users": f"{base}/users"}.items():
        page.goto(url)
        found[name] = axe_serious(page, axe_source) + unlabelled(page)
        if not skip_link_works(page):
            found[name].append("the first Tab does not reach a working skip link")
        if overflow_x(page) > 0:
            found[name].append(f"page is {overflow_x(page)} px wider than the {size} px viewport")
        page.screenshot(path=str(ARTIFACTS / f"a11y-{size}-{name}.png"))  # the first screenful
    context.close()
    problems = {name: v for name, v in found.items() if v}
    assert not problems, "\n".join(f"{name}: {line}" for name, lines in problems.items() for line in lines)


def test_every_artefact_page_fits_a_phone(server: tuple[str, str], browser: object, admin_token: str) -> None:
    """At 390 px no artefact page is wider than the screen, whatever its evidence holds (a mail's
    long Message-ID once widened three of them by up to 106 px)."""
    base, _ = server
    context = browser.new_context(viewport=VIEWPORTS["390"])  # type: ignore[attr-defined]
    page = context.new_page()
    page.set_default_timeout(60_000)
    log_in(page, base, admin_token)
    links: list[str] = []
    for status in ("candidate", "approved", "rejected", "merged"):
        page.goto(f"{base}/queue?status={status}")
        links += [a.get_attribute("href") for a in page.locator("#queue a.title").all()]
    assert len(links) >= 20  # the demo corpus's artefacts, not an empty queue
    wide = {}
    for href in links:
        page.goto(f"{base}{href}")
        if overflow_x(page) > 0:
            wide[href] = overflow_x(page)
    context.close()
    assert not wide, wide
