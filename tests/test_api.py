"""The JSON API and the web UI over a small real store (fake bag-of-words embedding, fake extractor).

* an authorization matrix: every API operation × {anonymous, reader, reviewer, admin, revoked
  token}; it fails when a route has no row (or a row has no route);
* a visibility test: nothing from a restricted source reaches a non-member through search hits,
  artefact lists, artefact pages, the audit log, sources or the dashboard; a member sees it;
* limits and errors (k, body size, malformed auth, clear JSON 4xx), sessions and CSRF in the UI.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from pipeline import review
from web import MAX_BODY_BYTES, SESSION_COOKIE, create_app
from pipeline.artefacts import Thresholds, dedupe
from pipeline.extract import extract_all
from pipeline.ingest import IngestOptions, ingest_paths
from pipeline.publish import publish
from pipeline.settings import PublishSettings, Settings
from pipeline.stages import releases_root
from pipeline.store import open_store
from pipeline.users import add_user, revoke_user
from tests.extractors.test_threads_extractor import fake_embed
from tests.test_artefacts import QuestionPerMessage

THRESHOLDS = Thresholds(faq_merge=0.9, faq_suggest=0.5, pattern_merge=0.9, pattern_suggest=0.5)
SETTINGS = Settings(publish=PublishSettings(include_candidates=True))
ROLES = ("anonymous", "reader", "reviewer", "admin", "revoked")

# What only the secret-team may see: each phrase appears in no public source.
SECRET_PHRASES = ("zanzibar launch codes", "quokka migration plan", "kumquat rollout checklist")


def _thread(path: Path, rows: list[tuple[str, str]]) -> Path:
    path.write_text(
        "\n".join(
            json.dumps({"id": f"m{i}", "thread": f"t{i}", "author": a, "text": t, "timestamp": f"2026-09-0{i + 1}T10:00:00Z"})
            for i, (a, t) in enumerate(rows)
        )
        + "\n"
    )
    return path


@dataclass
class World:
    home: Path
    tokens: dict[str, str]  # role (and "member") -> token
    ids: dict[str, str]  # name -> artefact id


def build_world(root: Path) -> World:
    """Three communities, one restricted source; deduped, one merge done, one release published."""
    src = root / "src"
    src.mkdir(parents=True)
    home = root / "home"
    payments = _thread(src / "payments.jsonl", [
        ("ana", "how do we quarantine flaky integration tests"),
        ("bo", "terraform state locking with dynamodb"),
        ("bo", "kumquat rollout checklist for canary deploys"),
    ])  # fmt: skip
    search = _thread(src / "search.jsonl", [
        ("cy", "how do we quarantine flaky integration tests"),
        ("di", "remote retrospectives across time zones"),
        ("di", "retrospectives for distributed teams on a shared miro board"),
        ("cy", "how do we quarantine flaky unit tests quickly"),
    ])  # fmt: skip
    secret = _thread(src / "secret.jsonl", [
        ("eve", "zanzibar launch codes rotate every tuesday"),
        ("fay", "quokka migration plan for the billing cluster"),
        ("eve", "kumquat rollout checklist for canary deploys"),
    ])  # fmt: skip
    store = open_store(home)
    try:
        ingest_paths(store, [payments], IngestOptions(community="payments"))
        ingest_paths(store, [search], IngestOptions(community="search"))
        ingest_paths(store, [secret], IngestOptions(community="secret", visibility="secret-team"))
        extract_all(store, [QuestionPerMessage()])
        dedupe(store, fake_embed, "fake-bow", THRESHOLDS)
        by_title = {a.title: a for a in store.artefacts()}

        def find(text: str) -> str:
            return next(a.id for t, a in by_title.items() if text in t)

        ids = {
            "flaky": find("quarantine flaky integration"),
            "flaky_unit": find("flaky unit tests"),
            "terraform": find("terraform"),
            "retro": find("remote retrospectives across time zones"),
            "retro_board": find("shared miro board"),
            "zanzibar": find("zanzibar"),
            "quokka": find("quokka"),
            "kumquat": find("kumquat"),
        }
        # one merge already done, so unmerge has something to undo
        review.merge(store, ids["retro_board"], ids["retro"], "seed")
        tokens = {}
        for role, name, groups in (
            ("reader", "rita", []),
            ("reviewer", "rev", []),
            ("admin", "ada", []),
            ("revoked", "old", []),
            ("member", "mia", ["secret-team"]),
            ("member_reviewer", "max", ["secret-team"]),
        ):
            user_role = {"revoked": "reviewer", "member": "reader", "member_reviewer": "reviewer"}.get(role, role)
            _, tokens[role] = add_user(store, name, user_role, groups)
        revoke_user(store, "old")
        publish(store, fake_embed, "fake-bow", releases_root(home), include_candidates=True)
    finally:
        store.close()
    return World(home, tokens, ids)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> World:
    return build_world(tmp_path_factory.mktemp("world"))


@pytest.fixture()
def world(template: World, tmp_path: Path) -> World:
    """A private copy of the world (store + releases) for tests that change it."""
    home = tmp_path / "home"
    shutil.copytree(template.home, home)
    return World(home, template.tokens, template.ids)


def client_for(world: World) -> TestClient:
    return TestClient(create_app(world.home, embed=fake_embed, model_id="fake-bow", settings=SETTINGS))


def auth(world: World, role: str) -> dict[str, str]:
    return {} if role == "anonymous" else {"Authorization": f"Bearer {world.tokens[role]}"}


# --- the authorization matrix ----------------------------------------------------------------------

Call = Callable[[dict[str, str]], tuple[str, dict[str, Any] | None]]  # ids -> (url, json body)
OPEN = {"anonymous": 200, "reader": 200, "reviewer": 200, "admin": 200, "revoked": 401}
SIGNED_IN = {"anonymous": 401, "reader": 200, "reviewer": 200, "admin": 200, "revoked": 401}
REVIEWERS = {"anonymous": 401, "reader": 403, "reviewer": 200, "admin": 200, "revoked": 401}
ADMINS = {"anonymous": 401, "reader": 403, "reviewer": 403, "admin": 200, "revoked": 401}

# (method, route path) -> (how to call it, expected status per role). Every /api route needs a row.
MATRIX: dict[tuple[str, str], tuple[Call, dict[str, int]]] = {
    ("GET", "/api/me"): (lambda i: ("/api/me", None), SIGNED_IN),
    ("GET", "/api/search"): (lambda i: ("/api/search?q=flaky+tests&k=5", None), OPEN),
    ("GET", "/api/artefacts"): (lambda i: ("/api/artefacts", None), OPEN),
    ("GET", "/api/artefacts/{artefact_id}"): (lambda i: (f"/api/artefacts/{i['flaky']}", None), OPEN),
    ("GET", "/api/artefacts/{artefact_id}/suggestions"): (lambda i: (f"/api/artefacts/{i['flaky']}/suggestions", None), OPEN),
    ("GET", "/api/queue"): (lambda i: ("/api/queue", None), REVIEWERS),
    ("POST", "/api/artefacts/{artefact_id}/approve"): (lambda i: (f"/api/artefacts/{i['flaky']}/approve", {"note": "ok"}), REVIEWERS),
    ("POST", "/api/artefacts/{artefact_id}/reject"): (lambda i: (f"/api/artefacts/{i['terraform']}/reject", {"reason": "off topic"}), REVIEWERS),
    ("POST", "/api/artefacts/{artefact_id}/edit"): (lambda i: (f"/api/artefacts/{i['flaky']}/edit", {"answer": "quarantine them"}), REVIEWERS),
    ("POST", "/api/artefacts/{artefact_id}/merge"): (lambda i: (f"/api/artefacts/{i['flaky_unit']}/merge", {"into": i["flaky"]}), REVIEWERS),
    ("POST", "/api/artefacts/{artefact_id}/unmerge"): (lambda i: (f"/api/artefacts/{i['retro_board']}/unmerge", None), REVIEWERS),
    ("POST", "/api/artefacts/{artefact_id}/stale"): (lambda i: (f"/api/artefacts/{i['terraform']}/stale", None), REVIEWERS),
    ("POST", "/api/artefacts/{artefact_id}/visibility"): (
        lambda i: (f"/api/artefacts/{i['terraform']}/visibility", {"visibility": "public", "note": "was public anyway"}), ADMINS),
    ("POST", "/api/review/bulk"): (lambda i: ("/api/review/bulk", {"action": "approve", "ids": [i["flaky"], i["retro"]]}), REVIEWERS),
    ("GET", "/api/audit"): (lambda i: ("/api/audit", None), REVIEWERS),
    ("POST", "/api/publish"): (lambda i: ("/api/publish", None), REVIEWERS),
    ("GET", "/api/publish/preview"): (lambda i: ("/api/publish/preview", None), REVIEWERS),
    # the world has one release: nothing before it to roll back to (409), once authorized
    ("POST", "/api/rollback"): (lambda i: ("/api/rollback", None), {**REVIEWERS, "reviewer": 409, "admin": 409}),
    # nobody has acted yet in the world: nothing to undo (409), once authorized
    ("POST", "/api/review/undo"): (lambda i: ("/api/review/undo", None), {**REVIEWERS, "reviewer": 409, "admin": 409}),
    ("POST", "/api/review/bulk-filter"): (lambda i: ("/api/review/bulk-filter", {"action": "approve", "community": "search"}), REVIEWERS),
    ("GET", "/api/sources"): (lambda i: ("/api/sources", None), SIGNED_IN),
    ("GET", "/api/runs"): (lambda i: ("/api/runs", None), SIGNED_IN),
    ("GET", "/api/dashboard"): (lambda i: ("/api/dashboard", None), SIGNED_IN),
    ("GET", "/api/users"): (lambda i: ("/api/users", None), ADMINS),
    ("POST", "/api/users"): (lambda i: ("/api/users", {"name": "newbie", "role": "reader", "groups": []}), {**ADMINS, "admin": 201}),
    ("POST", "/api/users/{name}/revoke"): (lambda i: ("/api/users/rita/revoke", None), ADMINS),
}  # fmt: skip


def api_operations() -> set[tuple[str, str]]:
    app = create_app(Path("/nonexistent-practice-home"))
    return {
        (method, route.path)
        for route in app.routes
        if isinstance(route, APIRoute) and route.path.startswith("/api")
        for method in route.methods
    }


def test_every_api_operation_has_a_row_in_the_authorization_matrix() -> None:
    ops = api_operations()
    missing = sorted(ops - set(MATRIX))
    assert not missing, f"API operations with no row in the authorization matrix: {missing}"
    extra = sorted(set(MATRIX) - ops)
    assert not extra, f"matrix rows for operations that do not exist: {extra}"
    for key, (_, expected) in MATRIX.items():
        assert set(expected) == set(ROLES), f"{key}: a row needs exactly the roles {ROLES}"


@pytest.mark.parametrize("op", sorted(MATRIX), ids=lambda op: f"{op[0]} {op[1]}")
def test_authorization_matrix(op: tuple[str, str], template: World, tmp_path: Path) -> None:
    call, expected = MATRIX[op]
    method, _ = op
    failures = []
    for role in ROLES:
        # a fresh copy of the world per cell: a mutating call by one role never decides another's
        if method == "GET":
            w = template
        else:
            home = tmp_path / role
            shutil.copytree(template.home, home)
            w = World(home, template.tokens, template.ids)
        url, body = call(w.ids)
        with client_for(w) as client:
            r = client.request(method, url, json=body, headers=auth(w, role))
        if r.status_code != expected[role]:
            failures.append(f"{role}: expected {expected[role]}, got {r.status_code} {r.text[:200]}")
        if r.status_code >= 400:
            assert isinstance(r.json().get("detail"), str) and r.json()["detail"], f"{role}: 4xx without a message"
    assert not failures, f"{method} {url}:\n" + "\n".join(failures)


# --- visibility ---------------------------------------------------------------------------------------


def _leaks(text: str) -> list[str]:
    low = text.lower()
    return [p for p in SECRET_PHRASES if p in low]


def test_restricted_quotes_never_reach_a_non_member(template: World) -> None:
    w = template
    restricted = [w.ids["zanzibar"], w.ids["quokka"], w.ids["kumquat"]]
    with client_for(w) as c:
        for role in ("anonymous", "reader", "reviewer"):  # none of them is in secret-team
            h = auth(w, role)
            seen: list[str] = []
            for q in ("zanzibar launch codes", "quokka migration", "kumquat rollout checklist canary", "tests"):
                r = c.get("/api/search", params={"q": q, "k": 100}, headers=h)
                assert r.status_code == 200
                seen.append(json.dumps(r.json()["hits"]))  # (the query itself is echoed)
                assert not {hit["id"] for hit in r.json()["hits"]} & set(restricted)
            r = c.get("/api/artefacts", params={"limit": 500}, headers=h)
            seen.append(r.text)
            assert not {a["id"] for a in r.json()["items"]} & set(restricted)
            for artefact_id in restricted:
                assert c.get(f"/api/artefacts/{artefact_id}", headers=h).status_code == 404
                assert c.get(f"/api/artefacts/{artefact_id}/suggestions", headers=h).status_code == 404
            for aid in (w.ids["flaky"], w.ids["retro"]):
                seen.append(c.get(f"/api/artefacts/{aid}", headers=h).text)
            if role != "anonymous":
                for path in ("/api/dashboard", "/api/sources", "/api/runs"):
                    seen.append(c.get(path, headers=h).text)
            if role == "reviewer":
                seen.append(c.get("/api/queue", params={"limit": 500}, headers=h).text)
                seen.append(c.get("/api/audit", headers=h).text)
                assert c.post(f"/api/artefacts/{w.ids['zanzibar']}/approve", headers=h).status_code == 404
            assert not _leaks("\n".join(seen)), f"{role} saw restricted text through the API"

        # the web UI, as a signed-in non-member reader
        login(c, w.tokens["reader"])
        pages = [c.get("/search", params={"q": q}).text for q in ("zanzibar", "quokka", "kumquat")]  # (q is echoed)
        pages.append(c.get("/dashboard").text)
        pages.append(c.get("/sources").text)
        for artefact_id in restricted:
            r = c.get(f"/artefacts/{artefact_id}")
            assert r.status_code == 404
            pages.append(r.text)
        assert not _leaks("\n".join(pages)), "a non-member saw restricted text in the web UI"

    # a member sees all of it
    with client_for(w) as c:
        h = auth(w, "member")
        r = c.get("/api/search", params={"q": "zanzibar launch codes", "k": 5}, headers=h)
        assert r.json()["hits"] and "zanzibar launch codes" in r.json()["hits"][0]["question"]
        assert any("zanzibar launch codes" in cit["quote"] for cit in r.json()["hits"][0]["citations"])
        ids = {a["id"] for a in c.get("/api/artefacts", params={"limit": 500}, headers=h).json()["items"]}
        assert set(restricted) <= ids
        kumquat = c.get(f"/api/artefacts/{w.ids['kumquat']}", headers=h).json()
        assert kumquat["visibility"] == "secret-team" and len(kumquat["evidence"]) == 2  # public + secret evidence
        assert all(e["context"] for e in kumquat["evidence"])
        login(c, w.tokens["member"])
        assert "zanzibar launch codes" in c.get("/search", params={"q": "zanzibar launch codes"}).text
        assert "kumquat rollout checklist" in c.get(f"/artefacts/{w.ids['kumquat']}").text
        assert c.get("/dashboard").status_code == 200


def test_admin_widens_visibility_with_an_audited_action(world: World) -> None:
    with client_for(world) as c:
        zid = world.ids["zanzibar"]
        assert c.get(f"/api/artefacts/{zid}", headers=auth(world, "reader")).status_code == 404
        r = c.post(f"/api/artefacts/{zid}/visibility", json={"visibility": "public", "note": "cleared by legal"},
                   headers=auth(world, "admin"))  # fmt: skip
        assert r.status_code == 200, r.text
        shown = c.get(f"/api/artefacts/{zid}", headers=auth(world, "reader")).json()
        assert shown["visibility"] == "public"
        # the quote is shown now; the restricted source (and its surrounding messages) still is not
        assert shown["evidence"][0]["source_restricted"] and shown["evidence"][0]["context"] == []
        events = c.get("/api/audit", params={"artefact_id": zid}, headers=auth(world, "admin")).json()
        assert events[0]["action"] == "widen_visibility" and events[0]["actor"] == "ada"
        assert events[0]["note"] == "cleared by legal"
        assert c.post(f"/api/artefacts/{zid}/visibility", json={"visibility": "no spaces allowed", "note": "x"},
                      headers=auth(world, "admin")).status_code == 422  # fmt: skip


# --- limits, errors and review through the API ---------------------------------------------------------


def test_k_limits_and_clear_errors(template: World) -> None:
    with client_for(template) as c:
        for k in (0, 101, -1):
            r = c.get("/api/search", params={"q": "flaky", "k": k})
            assert r.status_code == 422
            assert r.json()["detail"].startswith("k:"), r.json()
        assert c.get("/api/search", params={"q": "flaky", "k": 100}).status_code == 200
        r = c.get("/api/search")
        assert r.status_code == 422 and "q:" in r.json()["detail"]
        r = c.get("/api/artefacts/does-not-exist")
        assert r.status_code == 404 and r.json() == {"detail": "no artefact 'does-not-exist'"}
        r = c.get("/api/me", headers={"Authorization": "Basic abc"})
        assert r.status_code == 401 and "Bearer" in r.json()["detail"]
        assert r.headers["www-authenticate"] == "Bearer"
        r = c.get("/api/me", headers={"Authorization": "Bearer not-a-token"})
        assert r.status_code == 401 and r.json()["detail"] == "invalid or revoked token"
        assert c.get("/api/nothing-here").status_code == 404
        assert c.get("/openapi.json").json()["info"]["title"] == "Practice Index"
        assert c.get("/docs").status_code == 200


def test_request_body_limit(template: World) -> None:
    with client_for(template) as c:
        h = auth(template, "reviewer")
        big = {"note": "x" * (MAX_BODY_BYTES + 10)}
        r = c.post(f"/api/artefacts/{template.ids['flaky']}/approve", json=big, headers=h)
        assert r.status_code == 413 and "64 KiB" in r.json()["detail"]

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted while streaming
            yield b'{"note": "'
            for _ in range(80):
                yield b"y" * 1024
            yield b'"}'

        r = c.post(f"/api/artefacts/{template.ids['flaky']}/approve", content=chunks(),
                   headers={**h, "Content-Type": "application/json"})  # fmt: skip
        assert r.status_code == 413


def test_review_actions_reach_search_after_publish(world: World) -> None:
    with client_for(world) as c:
        h = auth(world, "reviewer")
        ids = world.ids
        assert c.post(f"/api/artefacts/{ids['flaky']}/approve", json={"note": "good"}, headers=h).json()["status"] == "approved"
        merged = c.post(f"/api/artefacts/{ids['flaky_unit']}/merge", json={"into": ids["flaky"]}, headers=h)
        assert merged.status_code == 200 and len(merged.json()["evidence"]) == 3
        again = c.post(f"/api/artefacts/{ids['flaky_unit']}/merge", json={"into": ids["flaky"]}, headers=h)
        assert again.status_code == 409 and "already merged" in again.json()["detail"]
        assert c.post(f"/api/artefacts/{ids['terraform']}/reject", json={}, headers=h).status_code == 422
        assert c.post(f"/api/artefacts/{ids['flaky']}/edit", json={"bogus": 1}, headers=h).status_code == 422
        assert c.post(f"/api/artefacts/{ids['flaky']}/edit", json={}, headers=h).status_code == 422
        assert c.post(f"/api/artefacts/{ids['terraform']}/unmerge", headers=h).status_code == 409
        pub = c.post("/api/publish", json={"include_candidates": False}, headers=h).json()
        assert pub["published"] and pub["artefacts"] == 1
        hits = c.get("/api/search", params={"q": "quarantine flaky tests"}).json()
        assert hits["release"] == pub["release_id"]  # the searcher followed CURRENT
        assert [hit["id"] for hit in hits["hits"]] == [ids["flaky"]]
        assert hits["hits"][0]["citations"][0]["location"] is None  # anonymous: the source viewer asks for a login
        signed_in = c.get("/api/search", params={"q": "quarantine flaky tests"}, headers=auth(world, "reader")).json()
        assert signed_in["hits"][0]["citations"][0]["location"].startswith("/sources/")
        detail = c.get(f"/api/artefacts/{ids['flaky']}", headers=h).json()
        assert [m["id"] for m in detail["merged_from"]] == [ids["flaky_unit"]]
        assert [e["action"] for e in detail["audit"]][:2] == ["merge", "approve"]
        runs = c.get("/api/runs", headers=h).json()
        assert runs["releases"][0]["current"] and runs["releases"][0]["release_id"] == pub["release_id"]
        queue = c.get("/api/queue", headers=h).json()
        assert ids["flaky"] not in {a["id"] for a in queue} and queue


def test_users_api(world: World) -> None:
    with client_for(world) as c:
        h = auth(world, "admin")
        r = c.post("/api/users", json={"name": "nia", "role": "reviewer", "groups": ["sre"]}, headers=h)
        assert r.status_code == 201 and r.json()["token"].startswith("pi_")
        token = r.json()["token"]
        assert c.get("/api/me", headers={"Authorization": f"Bearer {token}"}).json()["role"] == "reviewer"
        assert c.post("/api/users", json={"name": "nia", "role": "reader"}, headers=h).status_code == 409
        assert c.post("/api/users", json={"name": "bad name", "role": "reader"}, headers=h).status_code == 422
        assert c.post("/api/users", json={"name": "x", "role": "god"}, headers=h).status_code == 422
        assert c.post("/api/users/nobody/revoke", headers=h).status_code == 404
        assert c.post("/api/users/nia/revoke", headers=h).status_code == 200
        assert c.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
        assert all("token_hash" not in u for u in c.get("/api/users", headers=h).json())


# --- the web UI: sessions, CSRF, roles ------------------------------------------------------------


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no CSRF token in the page"
    return m.group(1)


def login(c: TestClient, token: str) -> None:
    page = c.get("/login")
    r = c.post("/login", data={"token": token, "csrf_token": csrf_of(page.text), "next": ""}, follow_redirects=False)
    assert r.status_code == 303, r.text


def test_login_sets_a_hardened_session_cookie_and_rotates_it(template: World) -> None:
    with client_for(template) as c:
        first = c.get("/login")
        before = c.cookies.get(SESSION_COOKIE)
        cookie = first.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
        r = c.post("/login", data={"token": "wrong", "csrf_token": csrf_of(first.text)})
        assert r.status_code == 401 and "Invalid or revoked token" in r.text
        r = c.post("/login", data={"token": template.tokens["reviewer"], "csrf_token": csrf_of(first.text)}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/queue"
        assert c.cookies.get(SESSION_COOKIE) != before  # a new session id on login
        assert "token" not in r.headers["set-cookie"].lower().split(";")[0].split("=")[0]
        q = c.get("/queue")
        assert q.status_code == 200 and "Review queue" in q.text
        assert "default-src 'self'" in q.headers["content-security-policy"]


def test_every_form_post_needs_the_csrf_token(world: World) -> None:
    with client_for(world) as c:
        login(c, world.tokens["reviewer"])
        fid = world.ids["flaky"]
        for token in ("", "forged"):
            r = c.post(f"/artefacts/{fid}/approve", data={"csrf_token": token})
            assert r.status_code == 403 and "CSRF" in r.text
        assert c.post("/publish", data={}).status_code == 403
        assert c.post("/logout", data={}).status_code == 403
        assert c.post("/queue/bulk", data={"action": "approve", "ids": [fid]}).status_code == 403
        page = c.get(f"/artefacts/{fid}")
        r = c.post(f"/artefacts/{fid}/approve", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False)
        assert r.status_code == 303
        assert "Approved" in c.get(r.headers["location"]).text
    # a POST with no session at all (a cross-site form) is refused as well
    with client_for(world) as c:
        assert c.post("/login", data={"token": world.tokens["admin"], "csrf_token": "x"}).status_code == 403


def test_web_roles(world: World) -> None:
    with client_for(world) as c:
        r = c.get("/queue", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/login?next=%2Fqueue"
        assert c.get("/dashboard", follow_redirects=False).status_code == 303
        assert c.get("/search").status_code == 200  # anonymous readers search public material
        assert c.get(f"/artefacts/{world.ids['flaky']}").status_code == 200
        login(c, world.tokens["reader"])
        assert c.get("/queue").status_code == 403
        assert c.get("/users").status_code == 403
        page = c.get(f"/artefacts/{world.ids['flaky']}")
        assert page.status_code == 200 and "/approve" not in page.text  # no review actions for readers
        r = c.post(f"/artefacts/{world.ids['flaky']}/approve", data={"csrf_token": csrf_of(page.text)})
        assert r.status_code == 403
        assert c.get("/dashboard").status_code == 200
    with client_for(world) as c:
        login(c, world.tokens["reviewer"])
        assert c.get("/users").status_code == 403
        assert c.get("/queue").status_code == 200
        # revoking a user ends their web session at the next request
        store = open_store(world.home)
        try:
            revoke_user(store, "rev")
        finally:
            store.close()
        assert c.get("/queue", follow_redirects=False).status_code == 303


def test_artefact_page_shows_quotes_in_context_with_source_links(template: World) -> None:
    with client_for(template) as c:
        login(c, template.tokens["reviewer"])
        page = c.get(f"/artefacts/{template.ids['flaky']}").text
        assert page.count("<mark>how do we quarantine flaky integration tests</mark>") == 2
        links = re.findall(r'href="(/sources/[^"]+)"', page)
        assert links
        src = c.get(links[0].replace("&amp;", "&"))
        assert src.status_code == 200 and 'class="anchor"' in src.text
        assert "Possible duplicates" in page and "flaky unit tests quickly" in page
        assert "Merge that into this" in page
        secret_sources = [s for s in c.get("/api/sources", headers=auth(template, "member")).json() if s["visibility"] != "public"]
        assert c.get(f"/sources/{secret_sources[0]['id']}").status_code == 404


def test_web_review_flow_queue_bulk_and_dashboard(world: World) -> None:
    with client_for(world) as c:
        login(c, world.tokens["reviewer"])
        q = c.get("/queue")
        token = csrf_of(q.text)
        ids = [world.ids["terraform"], world.ids["retro"]]
        r = c.post("/queue/bulk", data={"csrf_token": token, "action": "approve", "ids": ids, "return_to": "/queue"})
        assert r.status_code == 200 and "Approve: 2 artefact(s)." in r.text
        r = c.post(f"/artefacts/{world.ids['flaky_unit']}/merge",
                   data={"csrf_token": token, "into": world.ids["flaky"]})  # fmt: skip
        assert r.status_code == 200 and "Merged" in r.text
        preview = c.get("/publish").text  # publish shows its preview, then confirms it
        r = c.post("/publish", data={"csrf_token": token, "confirm": re.search(r'name="confirm" value="(\w+)"', preview).group(1)})
        assert "Published release" in r.text
        s = c.get("/search", params={"q": "terraform state locking"})
        assert "terraform state locking" in s.text
        d = c.get("/dashboard").text
        assert d.count("<svg") >= 5 and "Review throughput" in d
        assert "approve" in d  # throughput legend
        assert c.get("/audit").status_code == 200


def test_search_reads_only_the_rows_its_hits_need(template: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """A search reads the cited sources and the hits' artefacts in one query each, not every
    source and one artefact per hit (issue 12: per-request work in the server's search)."""
    from pipeline.store_sqlite import SQLiteStore

    calls: dict[str, int] = {"list_sources": 0, "get_artefact": 0}
    for name in calls:
        real = getattr(SQLiteStore, name)

        def counted(self: Any, *args: Any, _name: str = name, _real: Any = real) -> Any:
            calls[_name] += 1
            return _real(self, *args)

        monkeypatch.setattr(SQLiteStore, name, counted)
    with client_for(template) as c:
        for role in ("anonymous", "admin"):
            r = c.get("/api/search", params={"q": "quarantine flaky integration tests", "k": 10}, headers=auth(template, role))
            assert r.status_code == 200
            cited = [cit for hit in r.json()["hits"] for cit in hit["citations"]]
            assert cited and all(cit["source"] for cit in cited)  # the citations still name their sources
    assert calls == {"list_sources": 0, "get_artefact": 0}


def test_search_keeps_a_store_per_thread_and_sees_writes_at_once(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """/api/search reuses its worker thread's store instead of opening one per request, and what
    another connection commits meanwhile applies to the very next search (a revoked token is
    refused); a refused request drops the kept store."""
    from pipeline.store_sqlite import SQLiteStore

    store = open_store(world.home)  # the test's own connection, opened before counting
    opened: list[object] = []
    real_init = SQLiteStore.__init__

    def counting_init(self: SQLiteStore, path: Any) -> None:
        opened.append(path)
        real_init(self, path)

    monkeypatch.setattr(SQLiteStore, "__init__", counting_init)
    q = {"q": "zanzibar launch codes", "k": 5}
    try:
        with client_for(world) as c:
            member = auth(world, "member")
            assert "zanzibar launch codes" in c.get("/api/search", params=q, headers=member).json()["hits"][0]["question"]
            assert not any("zanzibar" in h["question"] for h in c.get("/api/search", params=q).json()["hits"])
            assert len(opened) == 1  # one store for both requests
            revoke_user(store, "mia")
            assert c.get("/api/search", params=q, headers=member).status_code == 401  # at once
            assert c.get("/api/search", params=q).status_code == 200
            assert len(opened) == 2  # the refusal dropped the kept store; the next request opened one
    finally:
        store.close()
