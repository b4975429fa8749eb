"""The review state machine: each status offers exactly its actions, in the core, the API, the web
UI and the CLI alike; repeating an action is a no-op with a message, not a second audit row.

The expected action lists are written out here from the rules (not read from `review.ACTIONS`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline import review
from pipeline.cli import main
from pipeline.models import ArtefactStatus
from pipeline.store import open_store
from pipeline.users import Role, User
# the API tests' small world (three communities, one restricted source, one merge done), a private copy per test
from tests.test_api import World, auth, client_for, csrf_of, login, template, world  # noqa: F401

ADMIN = User(name="ada", role=Role.admin)
REVIEWER = User(name="rev", role=Role.reviewer)
READER = User(name="rita", role=Role.reader)


def _events(home: Path, artefact_id: str, action: str) -> int:
    store = open_store(home)
    try:
        return sum(1 for e in review.audit_log(store, artefact_id=artefact_id, limit=1000) if e.action == action)
    finally:
        store.close()


def _in(home: Path, status: ArtefactStatus, artefact_id: str) -> None:
    """Put one artefact in a status through the review actions."""
    store = open_store(home)
    try:
        if status == ArtefactStatus.rejected:
            review.reject(store, artefact_id, "seed", "off topic")
        elif status == ArtefactStatus.approved:
            review.approve(store, artefact_id, "seed")
        elif status == ArtefactStatus.stale:
            review.mark_stale(store, artefact_id, "seed")
    finally:
        store.close()


# --- the core -------------------------------------------------------------------------------------


def test_each_status_offers_its_actions_within_the_role(world: World) -> None:
    ids = world.ids
    _in(world.home, ArtefactStatus.rejected, ids["terraform"])
    _in(world.home, ArtefactStatus.approved, ids["flaky"])
    _in(world.home, ArtefactStatus.stale, ids["flaky_unit"])
    store = open_store(world.home)
    try:
        get = store.get_artefact
        assert review.offered(get(ids["retro"]), ADMIN) == ("approve", "reject", "stale", "edit", "merge", "visibility")
        assert review.offered(get(ids["retro"]), REVIEWER) == ("approve", "reject", "stale", "edit", "merge")
        assert review.offered(get(ids["retro"]), READER) == ()
        assert review.offered(get(ids["flaky"]), REVIEWER) == ("reject", "stale", "edit", "merge")
        assert review.offered(get(ids["terraform"]), REVIEWER) == ("approve", "edit")
        assert review.offered(get(ids["flaky_unit"]), REVIEWER) == ("approve", "reject", "edit", "merge")
        assert review.offered(get(ids["retro_board"]), ADMIN) == ("unmerge",)  # merged in the seed
    finally:
        store.close()


def test_a_repeated_action_is_a_no_op_with_a_message(world: World) -> None:
    rid = world.ids["terraform"]
    store = open_store(world.home)
    try:
        first = review.act(store, rid, "reject", "rev", reason="off topic")
        assert first.changed and first.result.status == ArtefactStatus.rejected
        again = review.act(store, rid, "reject", "rev", reason="still off topic")
        assert not again.changed and "already rejected" in again.message
        review.reject(store, rid, "rev", "and once more")  # the plain function is a no-op too
        review.approve(store, world.ids["flaky"], "rev")
        assert not review.act(store, world.ids["flaky"], "approve", "rev").changed
        text = store.get_artefact(world.ids["flaky"]).question
        assert not review.act(store, world.ids["flaky"], "edit", "rev", changes={"question": text}).changed
    finally:
        store.close()
    assert _events(world.home, rid, "reject") == 1
    assert _events(world.home, world.ids["flaky"], "approve") == 1
    assert _events(world.home, world.ids["flaky"], "edit") == 0


def test_actions_a_status_does_not_offer_are_refused(world: World) -> None:
    _in(world.home, ArtefactStatus.rejected, world.ids["terraform"])
    store = open_store(world.home)
    try:
        with pytest.raises(review.NotAllowed, match="merged into"):
            review.approve(store, world.ids["retro_board"], "rev")
        with pytest.raises(review.NotAllowed, match="rejected"):
            review.mark_stale(store, world.ids["terraform"], "rev")
        with pytest.raises(review.NotAllowed, match="not merged"):
            review.unmerge(store, world.ids["flaky"], "rev")
    finally:
        store.close()
    assert _events(world.home, world.ids["terraform"], "stale") == 0


# --- the API --------------------------------------------------------------------------------------


def test_api_lists_the_actions_and_answers_a_repeat_without_a_second_row(world: World) -> None:
    h = auth(world, "reviewer")
    rid = world.ids["terraform"]
    with client_for(world) as c:
        first = c.post(f"/api/artefacts/{rid}/reject", json={"reason": "off topic"}, headers=h)
        assert first.status_code == 200 and first.json()["changed"] is True
        assert first.json()["actions"] == ["approve", "edit"]
        again = c.post(f"/api/artefacts/{rid}/reject", json={"reason": "off topic"}, headers=h)
        assert again.status_code == 200 and again.json()["changed"] is False
        assert "already rejected" in again.json()["message"]
        assert c.get(f"/api/artefacts/{rid}", headers=h).json()["actions"] == ["approve", "edit"]
        merged = c.post(f"/api/artefacts/{world.ids['retro_board']}/approve", headers=h)
        assert merged.status_code == 409 and "unmerge" in merged.json()["detail"]
        assert c.get(f"/api/artefacts/{world.ids['flaky']}").json()["actions"] == []  # anonymous reader
    assert _events(world.home, rid, "reject") == 1


# --- the web UI -----------------------------------------------------------------------------------


def _row(html: str, artefact_id: str) -> str:
    m = re.search(rf'<tr data-id="{re.escape(artefact_id)}".*?</tr>', html, re.S)
    assert m, f"no queue row for {artefact_id}"
    return m.group(0)


def test_queue_and_artefact_page_offer_only_the_status_actions(world: World) -> None:
    rid, mid = world.ids["terraform"], world.ids["retro_board"]
    _in(world.home, ArtefactStatus.rejected, rid)
    with client_for(world) as c:
        login(c, world.tokens["reviewer"])
        rejected = _row(c.get("/queue", params={"status": "rejected"}).text, rid)
        assert f"/artefacts/{rid}/approve" in rejected and f"/artefacts/{rid}/reject" not in rejected
        merged = _row(c.get("/queue", params={"status": "merged"}).text, mid)
        assert f"/artefacts/{mid}/unmerge" in merged
        assert f"/artefacts/{mid}/approve" not in merged and f"/artefacts/{mid}/reject" not in merged
        page = c.get(f"/artefacts/{rid}").text
        assert f'action="/artefacts/{rid}/reject"' not in page and f'action="/artefacts/{rid}/stale"' not in page
        assert f'action="/artefacts/{rid}/approve"' in page
        r = c.post(f"/artefacts/{rid}/reject", data={"csrf_token": csrf_of(page), "reason": "again"})
        assert r.status_code == 200 and "already rejected" in r.text
    assert _events(world.home, rid, "reject") == 1


# --- the CLI --------------------------------------------------------------------------------------


def test_cli_lists_the_actions_and_a_repeat_says_so(world: World) -> None:
    runner, env = CliRunner(), {"PRACTICE_HOME": str(world.home)}
    rid = world.ids["terraform"]
    first = runner.invoke(main, ["review", "reject", rid, "--reason", "off topic", "--as", "rev"], env=env)
    assert first.exit_code == 0, first.output
    again = runner.invoke(main, ["review", "reject", rid, "--reason", "off topic", "--as", "rev"], env=env)
    assert again.exit_code == 0 and "already rejected" in again.output
    listed = runner.invoke(main, ["review", "queue", "--status", "rejected", "--json"], env=env)
    assert listed.exit_code == 0, listed.output
    assert next(r for r in json.loads(listed.output) if r["id"] == rid)["actions"] == ["approve", "edit", "visibility"]
    refused = runner.invoke(main, ["review", "stale", rid, "--as", "rev"], env=env)
    assert refused.exit_code != 0 and "not possible" in refused.output
    assert _events(world.home, rid, "reject") == 1
