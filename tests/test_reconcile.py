"""`practice check`: each kind of drift between store and release is found with its ids, and
`--repair` leaves none. A small hand-written world: two sources, two candidates, two artefacts
(one approved and published), one release built by the normal publish with a fake embedder.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from pipeline.artefacts import refresh
from pipeline.check import repair, run_check
from pipeline.models import Artefact, ArtefactStatus, Evidence, SourceStatus
from pipeline.publish import publish
from pipeline.store import Store
from tests.fakes import signed_hash_embed
from tests.store.data import candidate, passages, source

DIM = 16


def embed(texts: list[str]) -> np.ndarray:
    return signed_hash_embed(texts, DIM)


class World:
    """The fixture's store and releases folder, with the ids the tests refer to."""

    def __init__(self, store: Store, root: Path) -> None:
        self.store, self.root = store, root
        self.a, self.b = source("/c/a.vtt"), source("/c/b.vtt")
        self.pa = passages(self.a.id, ["restart the pager with pagerctl", "then check the queue", "done"])
        self.pb = passages(self.b.id, ["rotate keys every quarter", "agreed"])
        store.save_source(self.a.model_copy(update={"passage_count": 3}), self.pa)
        store.save_source(self.b.model_copy(update={"passage_count": 2}), self.pb)
        self.c1 = candidate("c1", self.a.id, self.pa[0].id, evidence=[Evidence(passage_id=self.pa[0].id, quote="restart the pager")])
        self.c2 = candidate("c2", self.b.id, self.pb[0].id, evidence=[Evidence(passage_id=self.pb[0].id, quote="rotate keys")])
        store.replace_candidates(self.a.id, "threads", "h1", [self.c1])
        store.replace_candidates(self.b.id, "threads", "h1", [self.c2])
        sources = {s.id: s for s in store.list_sources()}
        everything = store.passages_by_id(p.id for p in self.pa + self.pb)
        a1 = refresh(Artefact(id="A1", kind=self.c1.kind, status=ArtefactStatus.approved), [self.c1], everything, sources)
        a2 = refresh(Artefact(id="A2", kind=self.c2.kind), [self.c2], everything, sources)
        store.save_artefacts([a1, a2])
        assert self.publish().published

    def publish(self, force: bool = False, include_candidates: bool = False) -> object:
        """The normal publish stage (fake embedder): the only way releases are built."""
        return publish(self.store, embed, "fake", self.root, include_candidates, force=force)

    def check(self) -> dict[str, list[str]]:
        """Drift kind -> ids."""
        return {d.kind: d.ids for d in run_check(self.store, self.root).drifts}

    def repair(self) -> dict[str, list[str]]:
        """Repair, then the drift left by kind (empty when all is well)."""
        return {d.kind: d.ids for d in repair(self.store, self.root, lambda candidates: self.publish(True, candidates)).drifts}

    def artefact(self, aid: str) -> Artefact:
        found = self.store.get_artefact(aid)
        assert found is not None
        return found

    def release(self) -> Path:
        return self.root / (self.root / "CURRENT").read_text().strip()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    from pipeline.store_memory import MemoryStore

    yield World(MemoryStore(), tmp_path / "releases")


def test_a_clean_store_and_release_report_no_drift(world: World) -> None:
    report = run_check(world.store, world.root)
    assert report.total == 0 and report.drifts == []
    assert report.checked == {"sources": 2, "passages": 5, "candidates": 2, "artefacts": 2, "release_payloads": 1}
    assert world.repair() == {}


def test_passages_of_a_removed_source(world: World) -> None:
    # the source row says removed but its passages (and candidates) were left behind
    world.store.save_source(world.store.get_source("/c/b.vtt").model_copy(update={"status": SourceStatus.removed, "passage_count": 0}))  # type: ignore[union-attr]
    found = world.check()
    assert found["removed_source_passages"] == [world.b.id]
    assert found["candidate_orphan_source"] == ["c2"]
    assert world.repair() == {}
    assert world.store.passages(world.b.id) == [] and world.artefact("A2").status == ArtefactStatus.stale


def test_a_wrong_passage_count(world: World) -> None:
    world.store.save_source(world.store.get_source("/c/a.vtt").model_copy(update={"passage_count": 7}))  # type: ignore[union-attr]
    assert world.check() == {"passage_count": [world.a.id]}
    assert world.repair() == {}
    assert world.store.get_source("/c/a.vtt").passage_count == 3  # type: ignore[union-attr]


def test_candidates_whose_passage_is_gone(world: World) -> None:
    world.store.save_source(world.store.get_source("/c/a.vtt").model_copy(update={"passage_count": 2}), world.pa[1:])  # type: ignore[union-attr]
    found = world.check()
    assert found["candidate_missing_passage"] == ["c1"]
    assert found["artefact_missing_passage"] == ["A1"]
    assert found["published_not_publishable"] == ["A1"]  # its evidence no longer stands
    assert world.repair() == {}
    assert world.store.candidates(source_id=world.a.id) == []
    assert world.store.extracted_hash(world.a.id, "threads") == ""  # the extractor re-runs on it
    assert world.artefact("A1").status == ArtefactStatus.stale


def test_quotes_no_longer_verbatim(world: World) -> None:
    changed = [world.pa[0].model_copy(update={"text": "reboot the pager with pagerctl"}), *world.pa[1:]]
    world.store.save_source(world.store.get_source("/c/a.vtt"), changed)  # type: ignore[arg-type]
    found = world.check()
    assert found["candidate_quote_not_verbatim"] == ["c1"]
    assert found["artefact_quote_not_verbatim"] == ["A1"]
    assert world.repair() == {}


def test_artefact_members_that_do_not_exist(world: World) -> None:
    a2 = world.artefact("A2")
    world.store.save_artefacts([a2.model_copy(update={"candidate_ids": ["c2", "ghost"]})])
    assert world.check() == {"artefact_dangling_member": ["A2"]}
    assert world.repair() == {}
    assert world.artefact("A2").candidate_ids == ["c2"]


def test_an_artefact_with_no_member_left_not_marked_stale(world: World) -> None:
    world.store.replace_candidates(world.b.id, "threads", "h2", [])  # the candidate went; dedupe never ran
    found = world.check()
    assert found == {"artefact_dangling_member": ["A2"], "artefact_not_stale": ["A2"]}
    assert world.repair() == {}
    assert world.artefact("A2").status == ArtefactStatus.stale


def test_artefact_evidence_citing_a_missing_passage_or_a_changed_quote(world: World) -> None:
    a1, a2 = world.artefact("A1"), world.artefact("A2")
    world.store.save_artefacts([
        a1.model_copy(update={"evidence": [*a1.evidence, Evidence(passage_id="nowhere", quote="x")]}),
        a2.model_copy(update={"evidence": [Evidence(passage_id=world.pb[0].id, quote="rotate keys weekly")]}),
    ])  # fmt: skip
    found = world.check()
    assert found["artefact_missing_passage"] == ["A1"] and found["artefact_quote_not_verbatim"] == ["A2"]
    assert world.repair() == {}
    assert [e.passage_id for e in world.artefact("A1").evidence] == [world.pa[0].id]


def test_a_release_file_that_no_longer_matches_its_checksum(world: World) -> None:
    with open(world.release() / "bm25" / "vocab.index.json", "a") as fh:
        fh.write(" ")
    release_id = world.release().name
    assert world.check() == {"release_corrupt": [release_id]}
    assert world.repair() == {}
    assert world.release().name != release_id  # a new release, built by the normal publish


def test_manifest_counts_that_disagree_with_the_payloads(world: World) -> None:
    path = world.release() / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["count"], manifest["counts_by_status"] = 2, {"approved": 2}
    path.write_text(json.dumps(manifest))
    assert world.check() == {"release_manifest_counts": [world.release().name]}
    assert world.repair() == {}


def test_vector_ids_payload_rows_and_keyword_documents_disagree(world: World) -> None:
    from index.vectors import make_index

    folder = world.release()
    vectors = make_index("exact", DIM)
    vectors.add(np.array([0, 1], dtype=np.int64), embed(["one", "two"]))  # two vectors for one payload row
    vectors.save(folder / "vectors.faiss")
    found = world.check()
    assert found["release_index_ids"] == [folder.name] and found["release_corrupt"] == [folder.name]
    assert world.repair() == {}


def test_a_current_release_that_is_gone(world: World) -> None:
    import shutil

    shutil.rmtree(world.release())
    assert world.check() == {"release_missing": [(world.root / "CURRENT").read_text().strip()]}
    assert world.repair() == {}


def test_a_published_artefact_no_longer_approved_or_visible(world: World) -> None:
    a1 = world.artefact("A1")
    world.store.save_artefacts([a1.model_copy(update={"status": ArtefactStatus.rejected})])
    assert world.check() == {"published_not_publishable": ["A1"]}
    world.store.save_artefacts([a1.model_copy(update={"visibility": "sre"})])  # restricted since publish
    assert world.check() == {"published_not_publishable": ["A1"]}
    assert world.repair() == {}


def test_an_approved_artefact_missing_from_the_release(world: World) -> None:
    world.store.save_artefacts([world.artefact("A2").model_copy(update={"status": ArtefactStatus.approved})])
    assert world.check() == {"publishable_not_published": ["A2"]}
    assert world.repair() == {}


def test_a_rollback_is_not_drift_and_repair_does_not_undo_it(world: World) -> None:
    from index.release import rollback

    first = world.release().name
    world.store.save_artefacts([world.artefact("A2").model_copy(update={"status": ArtefactStatus.approved})])
    assert world.publish().published  # type: ignore[attr-defined]
    rollback(world.root, first)
    report = run_check(world.store, world.root)
    assert report.drifts == [] and report.notes  # the store is ahead of the release on purpose
    assert world.repair() == {} and world.release().name == first


def test_practice_check_command(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from pipeline.cli import main
    from pipeline.store_sqlite import SQLiteStore

    home = tmp_path / "home"
    monkeypatch.setenv("PRACTICE_HOME", str(home))
    monkeypatch.delenv("PRACTICE_DATABASE_URL", raising=False)
    home.mkdir()
    store = SQLiteStore(home / "practice.sqlite3")
    World(store, home / "releases")
    result = CliRunner().invoke(main, ["check", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["drift"] == 0
    store.replace_candidates(world.b.id, "threads", "h2", [])
    store.close()
    result = CliRunner().invoke(main, ["check"])
    assert result.exit_code == 1
    assert "drift artefact_not_stale: 1: A2" in result.output and "--repair: the artefact is refreshed" in result.output


def test_a_release_with_candidates_is_rebuilt_with_candidates(world: World) -> None:
    assert world.publish(include_candidates=True).published  # type: ignore[attr-defined]
    with open(world.release() / "payloads.jsonl", "a") as fh:
        fh.write("\n")  # a checksum that no longer holds; the payloads themselves still read the same
    assert world.check() == {"release_corrupt": [world.release().name]}
    assert world.repair() == {}
    assert json.loads((world.release() / "manifest.json").read_text())["count"] == 2  # A1 and the candidate A2


def test_the_real_stages_leave_no_drift_and_a_half_done_run_is_repaired(tmp_path: Path) -> None:
    """Ingest → extract → dedupe → publish (fake extractor and embedder): 0 drift after each full
    pass; a pass stopped after ingest removed a source leaves drift that --repair mends."""
    from pipeline.artefacts import dedupe
    from pipeline.extract import extract_all
    from pipeline.ingest import ingest_paths
    from pipeline.store import SQLiteStore
    from tests.extractors.test_threads_extractor import fake_embed
    from tests.test_artefacts import THRESHOLDS, QuestionPerMessage, _opts, write_thread

    src, root = tmp_path / "src", tmp_path / "releases"
    src.mkdir()
    write_thread(src / "payments.jsonl", [("ana", "how do we quarantine flaky tests"), ("bo", "terraform state locking")])
    write_thread(src / "search.jsonl", [("cy", "how do we quarantine flaky tests"), ("di", "remote retrospectives")])
    store = SQLiteStore(tmp_path / "practice.sqlite3")
    ingest_paths(store, [src], _opts("payments"))
    extract_all(store, [QuestionPerMessage()])
    dedupe(store, fake_embed, "fake-bow", THRESHOLDS)
    publish(store, fake_embed, "fake-bow", root, include_candidates=True)
    assert run_check(store, root).drifts == []

    (src / "search.jsonl").unlink()
    ingest_paths(store, [src], prune_missing=True)  # the run stops here: no dedupe, no publish
    found = {d.kind: d.ids for d in run_check(store, root).drifts}
    retro = next(a.id for a in store.artefacts() if "retrospectives" in (a.question or ""))
    assert found["artefact_not_stale"] == [retro] and retro in found["published_not_publishable"]
    report = repair(store, root, lambda c: publish(store, fake_embed, "fake-bow", root, c, force=True))
    assert report.drifts == [] and report.repaired["artefact_not_stale"] == 1
    assert store.get_artefact(retro).status == ArtefactStatus.stale  # type: ignore[union-attr]
    store.close()
