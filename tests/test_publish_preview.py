"""Publish with a preview and a confirmation, rollback to the previous release, both in the audit log;
and one configuration (practice.toml) read alike by the API, the web UI and `practice publish`.

The world is tests/test_api.py's: 8 artefacts, one merged, published with candidates included (7).
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from index.release import current_release, list_releases
from pipeline import review
from pipeline.cli import main
from pipeline.publish_preview import PreviewChanged, confirm_publish, preview_publish, rollback_release
from pipeline.settings import PublishSettings
from pipeline.stages import releases_root
from pipeline.store import open_store
from tests.extractors.test_threads_extractor import fake_embed
from tests.test_api import World, auth, client_for, csrf_of, login, template, world  # noqa: F401
from web import create_app

WITH_CANDIDATES = PublishSettings(include_candidates=True)


@pytest.fixture()
def store(world: World):  # type: ignore[no-untyped-def]
    s = open_store(world.home)
    yield s
    s.close()


def _ids(rows: list[dict[str, str]]) -> set[str]:
    return {r["id"] for r in rows}


def test_preview_names_what_a_publish_adds_removes_and_changes(world: World, store) -> None:  # type: ignore[no-untyped-def]
    root = releases_root(world.home)
    review.reject(store, world.ids["terraform"], "rev", "off topic")
    review.edit(store, world.ids["flaky"], "rev", {"question": "How do we handle flaky tests?"})
    review.unmerge(store, world.ids["retro_board"], "rev")
    p = preview_publish(store, root, include_candidates=True)
    assert (len(p.before), len(p.after)) == (7, 7)
    assert _ids(p.added) == {world.ids["retro_board"]}
    assert _ids(p.removed) == {world.ids["terraform"]}
    assert _ids(p.changed) == {world.ids["flaky"], world.ids["retro"]}  # retro gave back retro_board's evidence
    assert p.summary() == "+1 added, -1 removed, 2 changed: 7 → 7 artefacts"
    assert len(list_releases(root)) == 1  # a preview builds nothing
    only_approved = preview_publish(store, root, include_candidates=False)
    assert only_approved.after == [] and len(only_approved.removed) == 7
    warnings = only_approved.warnings()  # the 53 → 2 release: said before, not found after
    assert warnings[0] == "This publish removes 7 of the 7 artefacts search serves now."
    assert "current release includes unreviewed candidates" in warnings[1]
    assert p.warnings() == []


def test_a_confirmed_publish_is_the_previewed_one_and_is_audited(world: World, store) -> None:  # type: ignore[no-untyped-def]
    root = releases_root(world.home)
    first = current_release(root).release_id
    token = preview_publish(store, root, True).token
    review.reject(store, world.ids["terraform"], "ada", "off topic")  # changes the difference after the preview
    with pytest.raises(PreviewChanged, match="-1 removed"):
        confirm_publish(store, fake_embed, "fake-bow", root, WITH_CANDIDATES, "rev", token)
    assert current_release(root).release_id == first  # nothing published
    report = confirm_publish(store, fake_embed, "fake-bow", root, WITH_CANDIDATES, "rev", preview_publish(store, root, True).token)
    assert report.published and report.artefacts == 6
    event = review.audit_log(store, limit=1)[0]
    assert (event.action, event.actor, event.artefact_id) == ("publish", "rev", report.release_id)
    assert (event.before["release_id"], event.note) == (first, "confirmed after its preview")
    assert "artefacts" not in event.after  # no totals: they would count restricted artefacts


def test_rollback_goes_back_one_release_audited_and_a_confirmed_publish_comes_forward(world: World, store) -> None:  # type: ignore[no-untyped-def]
    root = releases_root(world.home)
    first = current_release(root).release_id
    review.reject(store, world.ids["terraform"], "rev", "off topic")
    second = confirm_publish(store, fake_embed, "fake-bow", root, WITH_CANDIDATES, "rev", None).release_id
    assert rollback_release(store, root, "rev").release_id == first
    assert current_release(root).release_id == first
    event = review.audit_log(store, limit=1)[0]
    assert (event.action, event.before["release_id"], event.after["release_id"]) == ("rollback", second, first)
    with pytest.raises(review.ReviewError, match="oldest"):
        rollback_release(store, root, "rev")
    p = preview_publish(store, root, True)
    assert p.rolled_back and _ids(p.removed) == {world.ids["terraform"]}
    third = confirm_publish(store, fake_embed, "fake-bow", root, WITH_CANDIDATES, "rev", p.token)
    assert third.published and current_release(root).release_id == third.release_id  # not "nothing changed"


def test_a_preview_shows_a_reviewer_only_what_they_may_see(world: World, store) -> None:  # type: ignore[no-untyped-def]
    root = releases_root(world.home)
    review.reject(store, world.ids["terraform"], "ada", "off topic")
    review.reject(store, world.ids["zanzibar"], "ada", "off topic")  # secret-team only
    full = preview_publish(store, root, True)
    assert _ids(full.removed) == {world.ids["terraform"], world.ids["zanzibar"]}
    with client_for(world) as c:
        seen = c.get("/api/publish/preview", headers=auth(world, "reviewer")).json()  # rev: not in secret-team
        assert [r["id"] for r in seen["removed"]] == [world.ids["terraform"]]
        # flaky, flaky_unit, terraform, retro are public; zanzibar, quokka, kumquat are not counted
        assert (seen["before"], seen["after"]) == (4, 3)
        assert seen["token"] == full.token  # confirming publishes the whole difference
        login(c, world.tokens["reviewer"])
        page = c.get("/publish").text
        assert "zanzibar" not in page.lower() and "terraform state locking" in page


def _toml(tmp_path: Path, include_candidates: bool) -> Path:
    path = tmp_path / "practice.toml"
    path.write_text(f"[publish]\ninclude_candidates = {str(include_candidates).lower()}\n")
    return path


def test_one_config_api_preview_publish_rollback_and_the_cli_dry_run(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = _toml(tmp_path, include_candidates=False)  # the world was published with candidates
    h = auth(world, "admin")  # sees every artefact, as the shell does
    with TestClient(create_app(world.home, embed=fake_embed, model_id="fake-bow", config=config)) as c:
        c.post(f"/api/artefacts/{world.ids['flaky']}/approve", headers=h)
        preview = c.get("/api/publish/preview", headers=h).json()
        assert preview["include_candidates"] is False
        assert preview["counts"] == {"added": 0, "removed": 6, "changed": 1} and preview["after"] == 1

        monkeypatch.setenv("PRACTICE_HOME", str(world.home))
        monkeypatch.setenv("PRACTICE_CONFIG", str(config))  # the CLI finds the same file by its variable
        dry = CliRunner().invoke(main, ["publish", "--dry-run", "--json"])
        assert dry.exit_code == 0, dry.output
        assert json.loads(dry.output) == preview  # the same preview, token included
        text = CliRunner().invoke(main, ["publish", "--dry-run"]).output
        assert "+0 added, -6 removed, 1 changed: 7 → 1 artefacts" in text and "Dry run: nothing published." in text
        assert "warning: This publish removes 6 of the 7 artefacts" in text

        assert c.post("/api/publish", json={"confirm": "0" * 16}, headers=h).status_code == 409
        pub = c.post("/api/publish", json={"confirm": preview["token"]}, headers=h).json()
        assert pub["published"] and pub["artefacts"] == 1
        hits = c.get("/api/search", params={"q": "terraform state locking"}, headers=h).json()["hits"]
        assert world.ids["terraform"] not in {x["id"] for x in hits}

        back = c.post("/api/rollback", headers=h).json()
        assert back["artefacts"] == 7
        hits = c.get("/api/search", params={"q": "terraform state locking"}, headers=h).json()["hits"]
        assert hits[0]["id"] == world.ids["terraform"]  # search serves the previous release at once
        actions = [(e["action"], e["artefact_id"]) for e in c.get("/api/audit", headers=h).json()][:2]
        assert actions == [("rollback", back["release_id"]), ("publish", pub["release_id"])]
        login(c, world.tokens["admin"])
        assert f"Configuration: {config.resolve()}" in c.get("/publish").text  # which file the UI publishes with


def test_publish_page_previews_then_confirms_and_rollback_is_one_click(world: World) -> None:
    root = releases_root(world.home)
    with client_for(world) as c:
        login(c, world.tokens["reviewer"])
        q = c.get("/queue").text
        c.post(f"/artefacts/{world.ids['terraform']}/reject", data={"csrf_token": csrf_of(q), "reason": "off topic"})
        unconfirmed = c.post("/publish", data={"csrf_token": csrf_of(q)})
        assert unconfirmed.url.path == "/publish" and len(list_releases(root)) == 1  # the preview, nothing built
        page = html.unescape(unconfirmed.text)
        counts = re.sub(r"<[^>]+>", "", re.search(r'<p class="counts">(.*?)</p>', page, re.S).group(1))
        # rev sees 4 of the 7 published artefacts (zanzibar, quokka and kumquat are secret-team's)
        assert " ".join(counts.split()) == "+0 added · −1 removed · 0 changed · 4 → 3 artefacts"
        assert "terraform state locking" in page  # named in the list of what goes
        token = re.search(r'name="confirm" value="(\w+)"', page).group(1)
        done = c.post("/publish", data={"csrf_token": csrf_of(page), "confirm": token, "return_to": "/publish"})
        assert "Published release" in done.text and 'id="rollback"' in done.text
        rolled = c.post("/rollback", data={"csrf_token": csrf_of(done.text)})
        assert "Rolled back" in rolled.text and "with 4 artefact(s)" in rolled.text
        audit = c.get("/audit").text
        assert audit.count("release <code>") == 2  # the publish and the rollback, named by release


def test_cli_rollback_is_audited(world: World, store, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    root = releases_root(world.home)
    first = current_release(root).release_id
    review.reject(store, world.ids["terraform"], "rev", "off topic")
    confirm_publish(store, fake_embed, "fake-bow", root, WITH_CANDIDATES, "rev", None)
    monkeypatch.setenv("PRACTICE_HOME", str(world.home))
    r = CliRunner().invoke(main, ["rollback", "--as", "rita"])
    assert r.exit_code == 0 and f"release {first} (7 artefacts) is current again" in r.output
    assert current_release(root).release_id == first
    assert (review.audit_log(store, limit=1)[0].action, review.audit_log(store, limit=1)[0].actor) == ("rollback", "rita")
    again = CliRunner().invoke(main, ["rollback"])
    assert again.exit_code == 1 and "oldest" in again.output
