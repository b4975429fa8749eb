"""Undo of a reviewer's last action, and bulk actions on a filtered set (count, then confirm by token):
in the review core, the JSON API, the web UI's forms and the CLI.

Expected sets are written out from the small world's story (tests/test_api.py), not read from the
code under test.
"""

from __future__ import annotations

import html
import re

import pytest
from click.testing import CliRunner

from pipeline import review
from pipeline.cli import main
from pipeline.models import ArtefactStatus
from pipeline.review_bulk import Filters, PlanChanged, plan_bulk, run_bulk
from pipeline.review_undo import NothingToUndo, last_action, undo
from pipeline.store import open_store
from pipeline.users import Role, User

# the API tests' small world (three communities, one restricted source, one merge done), a private copy per test
from tests.test_api import World, auth, client_for, csrf_of, login, template, world  # noqa: F401

REV = User(name="rev", role=Role.reviewer)
S = ArtefactStatus


@pytest.fixture()
def store(world: World):  # type: ignore[no-untyped-def]
    s = open_store(world.home)
    yield s
    s.close()


def _status(store, artefact_id: str) -> S:  # type: ignore[no-untyped-def]
    return store.get_artefact(artefact_id).status


# --- undo in the core -------------------------------------------------------------------------------


def test_undo_puts_back_a_reject_as_an_audited_inverse_once(world: World, store) -> None:  # type: ignore[no-untyped-def]
    tid = world.ids["terraform"]
    before = store.get_artefact(tid)
    review.reject(store, tid, "rev", "off topic")
    outcome = undo(store, "rev")
    after = store.get_artefact(tid)
    assert outcome.changed and "reject" in outcome.message and "terraform" in outcome.message
    assert after.status == S.candidate and after.updated_at == before.updated_at  # back in its place in the queue
    event = review.audit_log(store, tid, 1)[0]
    assert (event.action, event.actor, event.before["status"], event.after["status"]) == ("undo", "rev", "rejected", "candidate")
    assert [e.action for e in review.audit_log(store, tid)][:2] == ["undo", "reject"]  # the reject stays in the log
    with pytest.raises(review.NotAllowed, match="one level of undo"):
        undo(store, "rev")


def test_undo_of_an_edit_restores_the_text(world: World, store) -> None:  # type: ignore[no-untyped-def]
    fid = world.ids["flaky"]
    review.edit(store, fid, "rev", {"question": "How do we handle flaky tests?"})
    undo(store, "rev")
    a = store.get_artefact(fid)
    assert a.question == "how do we quarantine flaky integration tests" and not a.text_edited


def test_undo_takes_back_only_the_reviewers_own_last_action(world: World, store) -> None:  # type: ignore[no-untyped-def]
    review.reject(store, world.ids["terraform"], "rev", "off topic")
    review.reject(store, world.ids["retro"], "ada", "duplicate of a wiki page")
    assert "terraform" in undo(store, "rev").message
    assert _status(store, world.ids["terraform"]) == S.candidate
    assert _status(store, world.ids["retro"]) == S.rejected  # ada's action is ada's to undo
    with pytest.raises(NothingToUndo):
        undo(store, "nobody")


def test_undo_refuses_what_someone_else_changed_since(world: World, store) -> None:  # type: ignore[no-untyped-def]
    tid = world.ids["terraform"]
    review.reject(store, tid, "rev", "off topic")
    review.approve(store, tid, "ada")  # overturned meanwhile
    with pytest.raises(review.NotAllowed, match="changed since"):
        undo(store, "rev")
    assert _status(store, tid) == S.approved


def test_undo_of_a_merge_is_an_unmerge(world: World, store) -> None:  # type: ignore[no-untyped-def]
    source, target = world.ids["flaky_unit"], world.ids["flaky"]
    members_before = store.get_artefact(target).candidate_ids
    review.merge(store, source, target, "rev")
    outcome = undo(store, "rev")
    assert "merge" in outcome.message and "unmerged" in outcome.message
    assert _status(store, source) == S.candidate and store.get_artefact(source).merged_into is None
    assert store.get_artefact(target).candidate_ids == members_before
    assert last_action(store, "rev").action == "unmerge"  # logged as what it is
    with pytest.raises(review.NotAllowed, match="unmerge is not undone"):
        undo(store, "rev")


def test_a_bulk_action_is_one_action_to_undo(world: World, store) -> None:  # type: ignore[no-untyped-def]
    ids = [world.ids["terraform"], world.ids["retro"], world.ids["flaky_unit"]]
    review.act_many(store, "reject", ids, "rev", "not for this index")
    assert last_action(store, "rev").describe() == "reject of 3 artefacts"
    assert undo(store, "rev").message == "Undone: reject of 3 artefacts"
    assert {_status(store, i) for i in ids} == {S.candidate}


def test_the_last_action_is_found_behind_many_of_other_reviewers(world: World, store) -> None:  # type: ignore[no-untyped-def]
    review.act_many(store, "reject", [world.ids["terraform"], world.ids["retro"]], "rev", "off topic")
    for n in range(60):  # another reviewer's busy hour comes after it in the log
        review.edit(store, world.ids["flaky"], "ada", {"answer": f"draft {n}"})
    assert last_action(store, "rev").describe() == "reject of 2 artefacts"
    undo(store, "rev")
    assert {_status(store, world.ids[n]) for n in ("terraform", "retro")} == {S.candidate}


# --- bulk on a filtered set in the core -------------------------------------------------------------


def test_a_filtered_bulk_action_counts_then_does_exactly_that_set(world: World, store) -> None:  # type: ignore[no-untyped-def]
    search = {world.ids["flaky"], world.ids["flaky_unit"], world.ids["retro"]}  # the search community's candidates
    plan = plan_bulk(store, REV, "reject", Filters(community="search"), "not for this index")
    assert set(plan.ids) == search and plan.matching == 3
    assert plan.question() == "Reject 3 artefacts matching status candidate, community search?"
    assert {_status(store, i) for i in search} == {S.candidate}  # counting wrote nothing
    with pytest.raises(PlanChanged):
        run_bulk(store, REV, "rev", "reject", Filters(community="search"), "0" * 16, "not for this index")
    outcomes = run_bulk(store, REV, "rev", "reject", Filters(community="search"), plan.token, "not for this index")
    assert sum(o.changed for o in outcomes) == 3
    assert {_status(store, i) for i in search} == {S.rejected}
    assert _status(store, world.ids["terraform"]) == S.candidate  # payments only: not in the set
    undo(store, "rev")
    assert {_status(store, i) for i in search} == {S.candidate}


def test_a_set_that_changed_after_the_count_is_refused(world: World, store) -> None:  # type: ignore[no-untyped-def]
    plan = plan_bulk(store, REV, "approve", Filters(community="search"))
    review.reject(store, world.ids["retro"], "ada", "off topic")  # one leaves the set meanwhile
    with pytest.raises(PlanChanged, match="Approve 2 artefacts"):
        run_bulk(store, REV, "rev", "approve", Filters(community="search"), plan.token)
    assert _status(store, world.ids["flaky"]) == S.candidate  # nothing done


def test_bulk_counts_only_what_the_viewer_sees_and_says_what_it_leaves(world: World, store) -> None:  # type: ignore[no-untyped-def]
    # rev is not in secret-team: of the 7 candidates, zanzibar, quokka and kumquat are not counted
    visible = {world.ids[n] for n in ("flaky", "flaky_unit", "terraform", "retro")}
    assert set(plan_bulk(store, REV, "stale", Filters()).ids) == visible
    with pytest.raises(review.ReviewError, match="needs a reason"):
        plan_bulk(store, REV, "reject", Filters(), "  ")
    review.reject(store, world.ids["terraform"], "rev", "off topic")
    plan = plan_bulk(store, REV, "approve", Filters(status="merged"))
    assert plan.ids == [] and world.ids["retro_board"] in plan.skipped and "unmerge it first" in plan.skipped[world.ids["retro_board"]]


# --- the API and the web UI -------------------------------------------------------------------------


def test_api_bulk_filter_and_undo(world: World) -> None:
    h = auth(world, "reviewer")
    with client_for(world) as c:
        body = {"action": "reject", "community": "search", "reason": "not for this index"}
        plan = c.post("/api/review/bulk-filter", json=body, headers=h).json()
        assert (plan["count"], plan["done"]) == (3, False) and plan["question"].startswith("Reject 3 artefacts")
        assert c.post("/api/review/bulk-filter", json={**body, "confirm": "f" * 16}, headers=h).status_code == 409
        done = c.post("/api/review/bulk-filter", json={**body, "confirm": plan["token"]}, headers=h).json()
        assert (done["done"], done["changed"]) == (True, 3)
        r = c.post("/api/review/undo", headers=h)
        assert r.status_code == 200 and r.json()["message"] == "Undone: reject of 3 artefacts"
        assert {a["status"] for a in r.json()["artefacts"]} == {"candidate"}
        again = c.post("/api/review/undo", headers=h)
        assert again.status_code == 409 and "one level of undo" in again.json()["detail"]


def test_queue_offers_undo_and_a_counted_bulk_action(world: World) -> None:
    tid = world.ids["terraform"]
    with client_for(world) as c:
        login(c, world.tokens["reviewer"])
        q = c.get("/queue").text
        assert 'id="undo"' not in q  # nothing done yet
        c.post(f"/artefacts/{tid}/reject", data={"csrf_token": csrf_of(q), "reason": "off topic"})
        q = html.unescape(c.get("/queue").text)
        assert "Your last action: reject of “terraform state locking with dynamodb”" in q and 'id="undo"' in q
        r = c.post("/queue/undo", data={"csrf_token": csrf_of(q), "return_to": f"/queue?status=candidate&at={tid}"})
        assert "Undone: reject" in html.unescape(r.text)
        assert re.search(rf'data-id="{tid}"[^>]*class="row selected"', r.text)  # back, and selected

        form = {"csrf_token": csrf_of(q), "action": "approve", "community": "search", "status": "candidate"}
        confirm = html.unescape(c.post("/queue/bulk-filter", data=form).text)
        assert "Approve 3 artefacts matching status candidate, community search?" in confirm
        assert _queue_statuses(world, "search") == {"candidate"}  # the count changed nothing
        token = re.search(r'name="confirm" value="(\w+)"', confirm).group(1)
        done = c.post("/queue/bulk-filter", data={**form, "confirm": token})
        assert "Approve: 3 artefact(s) matching status candidate, community search." in html.unescape(done.text)
        assert _queue_statuses(world, "search") == {"approved"}


def _queue_statuses(world: World, community: str) -> set[str]:
    s = open_store(world.home)
    try:
        return {a.status.value for a in s.artefacts() if community in a.communities and a.status != S.merged}
    finally:
        s.close()


# --- the CLI -----------------------------------------------------------------------------------------


def test_cli_bulk_asks_before_acting_and_undo_takes_it_back(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRACTICE_HOME", str(world.home))
    runner = CliRunner()
    args = ["review", "bulk", "stale", "--community", "search", "--as", "rita"]
    declined = runner.invoke(main, args, input="n\n")
    assert declined.exit_code == 0 and "Mark stale 3 artefacts matching status candidate, community search?" in declined.output
    assert "Nothing done." in declined.output and _queue_statuses(world, "search") == {"candidate"}
    done = runner.invoke(main, [*args, "--yes"])
    assert done.exit_code == 0 and "Done: 3 artefact(s)" in done.output, done.output
    assert _queue_statuses(world, "search") == {"stale"}
    undone = runner.invoke(main, ["review", "undo", "--as", "rita"])
    assert undone.exit_code == 0 and "Undone: stale of 3 artefacts" in undone.output
    assert _queue_statuses(world, "search") == {"candidate"}
    refused = runner.invoke(main, ["review", "undo", "--as", "rita"])
    assert refused.exit_code == 1 and "one level of undo" in refused.output
