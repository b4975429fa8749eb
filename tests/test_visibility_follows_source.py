"""Visibility follows the source, always (issue 9, item 1).

* `practice ingest F --visibility sre` on an unchanged, already published file restricts its
  artefacts at once (anonymous /api/search and /api/artefacts stop returning the quotes) and the
  change reaches the next release although no text changed;
* `practice run F` keeps a source's stored or configured visibility (it used to make it public);
* counts shown to a caller (/api/runs) cover only what that caller may see.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from index.release import current_release_path, read_payloads
from web import create_app
from pipeline.cli import main
from pipeline import review
from pipeline.extract import extract_all
from pipeline.ingest import IngestOptions, ingest_paths
from pipeline.models import ArtefactStatus, Source
from pipeline.publish import publish
from pipeline.settings import Settings, SourceEntry, run_entries
from pipeline.stages import releases_root
from pipeline.store import open_store
from pipeline.users import add_user
from tests.extractors.test_threads_extractor import fake_embed
from tests.test_api import SETTINGS, World, build_world, login
from tests.test_artefacts import QuestionPerMessage, run_dedupe, write_thread

SECRETS = ("zanzibar launch codes rotate every tuesday", "quokka migration plan for the billing cluster")


def _cli(*args: str) -> None:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output


def _extract_dedupe_publish(home: Path) -> bool:
    store = open_store(home)
    try:
        extract_all(store, [QuestionPerMessage()])
        run_dedupe(store)
        return publish(store, fake_embed, "fake-bow", releases_root(home), include_candidates=True).published
    finally:
        store.close()


def _seen_by(client: TestClient, headers: dict[str, str]) -> str:
    """Everything search and the artefact list show a caller about the secret phrases."""
    texts = [json.dumps(client.get("/api/search", params={"q": q, "k": 50}, headers=headers).json()["hits"]) for q in SECRETS]
    texts.append(json.dumps(client.get("/api/artefacts", params={"limit": 500}, headers=headers).json()["items"]))
    return "\n".join(texts)


def test_reingest_with_visibility_restricts_published_artefacts_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("PRACTICE_HOME", str(home))
    f = tmp_path / "ops.jsonl"
    write_thread(f, [("eve", SECRETS[0]), ("fay", SECRETS[1])])
    _cli("ingest", str(f), "--community", "ops")
    assert _extract_dedupe_publish(home)
    store = open_store(home)
    _, token = add_user(store, "sam", "reader", ["sre"])
    store.close()
    member = {"Authorization": f"Bearer {token}"}

    with TestClient(create_app(home, embed=fake_embed, model_id="fake-bow", settings=SETTINGS)) as c:
        assert all(s in _seen_by(c, {}) for s in SECRETS)  # public so far

        _cli("ingest", str(f), "--visibility", "sre")  # the same bytes, restricted
        store = open_store(home)
        source = store.get_source(str(f.resolve()))
        assert (source.visibility, source.community) == ("sre", "ops")  # the community was kept
        assert {a.visibility for a in store.artefacts()} == {"sre"}  # in the same run
        events = store.review_events()  # and in the audit log, as an admin's widening would be
        assert len(events) == len(store.artefacts()) and {e.action for e in events} == {"source_visibility"}
        assert {(e.before["visibility"], e.after["visibility"]) for e in events} == {("public", "sre")}
        store.close()
        assert not any(s in _seen_by(c, {}) for s in SECRETS)  # anonymous: gone at once
        assert not any(s in c.get(f"/sources/{source.id}").text for s in SECRETS)  # (a login page)

        assert _extract_dedupe_publish(home)  # a new release, though no text changed
        payloads = read_payloads(current_release_path(releases_root(home)))
        assert payloads and {p["visibility"] for p in payloads} == {"sre"}
        assert not any(s in _seen_by(c, {}) for s in SECRETS)
        assert all(s in _seen_by(c, member) for s in SECRETS)  # a member of sre still sees them

        _cli("ingest", str(f))  # read again with no --visibility: it stays restricted
        assert not _extract_dedupe_publish(home)
        assert not any(s in _seen_by(c, {}) for s in SECRETS)


def test_community_change_reaches_the_artefacts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("PRACTICE_HOME", str(home))
    f = tmp_path / "ops.jsonl"
    write_thread(f, [("eve", SECRETS[0])])
    _cli("ingest", str(f), "--community", "ops")
    _extract_dedupe_publish(home)
    _cli("ingest", str(f), "--community", "platform")
    store = open_store(home)
    (artefact,) = store.artefacts()
    assert artefact.communities == ["platform"] and artefact.support.communities == 1
    store.close()
    assert _extract_dedupe_publish(home)
    assert [p["communities"] for p in read_payloads(current_release_path(releases_root(home)))] == [["platform"]]


def test_a_removed_restricted_source_leaves_its_stale_artefacts_restricted(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    write_thread(src / "ops.jsonl", [("eve", SECRETS[0])])
    store = open_store(tmp_path / "home")
    ingest_paths(store, [src], IngestOptions(visibility="sre"))
    extract_all(store, [QuestionPerMessage()])
    run_dedupe(store)
    (src / "ops.jsonl").unlink()
    ingest_paths(store, [src], prune_missing=True)
    assert run_dedupe(store).stale == 1
    (artefact,) = store.artefacts()
    assert artefact.status == ArtefactStatus.stale and artefact.question == SECRETS[0]
    assert artefact.visibility == "sre" and not review.visible(artefact, None)  # its text still came from sre
    again = run_dedupe(store)
    assert (again.updated, again.stale) == (0, 0)  # and a later run leaves it alone
    store.close()


def test_run_entries_keep_configured_or_stored_visibility(tmp_path: Path) -> None:
    (tmp_path / "ops" / "deep").mkdir(parents=True)
    settings = Settings(
        sources=[SourceEntry(path="ops", community="ops", visibility="sre"), SourceEntry(path="docs")],
        base_dir=str(tmp_path),
    )
    inside, elsewhere = str(tmp_path / "ops" / "deep" / "f.jsonl"), str(tmp_path / "other.jsonl")
    assert run_entries(settings, [inside, elsewhere]) == [(inside, "ops", "sre", None), (elsewhere, None, None, None)]
    assert run_entries(settings, [inside], visibility="sre,security")[0][2] == "sre,security"  # explicit wins
    assert [e[2] for e in run_entries(settings)] == ["sre", None]  # left out of the config: kept as stored


@pytest.mark.integration
def test_practice_run_keeps_a_restricted_source_restricted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`practice ingest F --visibility sre; practice run F`: a reader outside sre sees nothing of F."""
    from prefect.testing.utilities import prefect_test_harness

    from flows.run import run_flow

    home = tmp_path / "home"
    monkeypatch.setenv("PRACTICE_HOME", str(home))
    f = tmp_path / "ops.jsonl"
    write_thread(f, [("eve", "how do we rotate the zanzibar launch codes every tuesday?"), ("fay", "with the quokka tool")])
    _cli("ingest", str(f), "--visibility", "sre")
    f.write_text(f.read_text() + json.dumps({"id": "m9", "author": "gus", "text": "quokka migration plan"}) + "\n")
    with prefect_test_harness(server_startup_timeout=300):  # a loaded machine starts it slowly
        report = run_flow(paths=[str(f)], home=str(home), include_candidates=True)
    assert report["ingest"]["counts"]["changed"] == 1 and report["publish"]["published"]
    store = open_store(home)
    assert store.get_source(str(f.resolve())).visibility == "sre"
    artefacts = store.artefacts()
    assert artefacts and {a.visibility for a in artefacts} == {"sre"}
    store.close()
    with TestClient(create_app(home, embed=fake_embed, model_id="fake-bow", settings=SETTINGS)) as c:
        store = open_store(home)
        _, token = add_user(store, "rita", "reader", ["payments"])
        store.close()
        login(c, token)  # a signed-in reader outside sre
        page = c.get(f"/sources/{Source.id_for(str(f.resolve()))}")
        assert page.status_code == 404 and "zanzibar" not in page.text
        assert c.get("/api/artefacts").json()["total"] == 0
        for q in ("zanzibar launch codes", "quokka migration plan"):
            assert c.get("/api/search", params={"q": q}).json()["hits"] == []


def test_counts_cover_only_what_the_caller_may_see(tmp_path: Path) -> None:
    """/api/runs release counts, dashboard totals and the queue's duplicate badges."""
    w: World = build_world(tmp_path)
    restricted = {w.ids["zanzibar"], w.ids["quokka"], w.ids["kumquat"]}
    payloads = read_payloads(current_release_path(releases_root(w.home)))
    published = {p["id"] for p in payloads}
    assert restricted <= published
    with TestClient(create_app(w.home, embed=fake_embed, model_id="fake-bow", settings=SETTINGS)) as c:
        for who, expected in (("reader", len(published - restricted)), ("member", len(published))):
            headers = {"Authorization": f"Bearer {w.tokens[who]}"}  # /api/runs is for signed-in readers
            (release,) = c.get("/api/runs", headers=headers).json()["releases"]
            assert release["artefacts"] == expected, who
            assert sum(release["counts_by_status"].values()) == sum(release["counts_by_kind"].values()) == expected
            listed = c.get("/api/artefacts", params={"limit": 500}, headers=headers).json()["total"]
            assert c.get("/api/dashboard", headers=headers).json()["totals"]["artefacts"] == listed

    store = open_store(w.home)
    store.replace_suggestions([(w.ids["terraform"], w.ids["zanzibar"], 0.7)])  # public ~ restricted
    store.close()
    for who, badge in (("reviewer", False), ("member_reviewer", True)):
        with TestClient(create_app(w.home, embed=fake_embed, model_id="fake-bow", settings=SETTINGS)) as c:
            login(c, w.tokens[who])
            page = c.get("/queue", params={"limit": 500}).text
            assert w.ids["terraform"] in page
            assert ("possible duplicate" in page) is badge, who
