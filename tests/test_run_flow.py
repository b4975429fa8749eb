"""The whole flow (ingest → extract → dedupe → publish) run for real through Prefect, twice.

Real parts: the SQLite store, the bundled embedding model, the offline extractors, FAISS/BM25
releases, and a Prefect server (the test harness's temporary one).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from index.release import list_releases
from pipeline.models import ArtefactStatus
from pipeline.store import open_store

pytestmark = pytest.mark.integration

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_second_run_is_free_and_removed_sources_leave_the_index(tmp_path: Path) -> None:
    from prefect.testing.utilities import prefect_test_harness

    from flows.run import run_flow
    from index.search import Searcher
    from pipeline.stages import releases_root

    src = tmp_path / "src"
    shutil.copytree(EXAMPLES / "slack", src / "slack")
    shutil.copytree(EXAMPLES / "docs", src / "docs")
    home = tmp_path / "home"
    with prefect_test_harness(server_startup_timeout=300):  # a loaded machine starts it slowly
        first = run_flow(paths=[str(src)], community="platform", home=str(home), include_candidates=True)
        assert first["extract"]["candidates_created"] > 20
        assert first["publish"]["published"] and first["dedupe"]["embeddings_computed"] > 0
        assert first["check"]["drift"] == 0 and first["check"]["checked"]["release_payloads"] > 0

        second = run_flow(paths=[str(src)], community="platform", home=str(home), include_candidates=True)
        assert second["ingest"]["counts"]["unchanged"] == first["ingest"]["counts"]["new"]
        assert second["extract"]["candidates_created"] == 0
        assert second["dedupe"]["embeddings_computed"] == 0 and second["publish"]["embeddings_computed"] == 0
        assert not second["publish"]["published"]
        assert len(list_releases(releases_root(home))) == 1

        # approve one artefact, then remove the documents: their artefacts go stale and leave the index
        store = open_store(home)
        doc_only = [a for a in store.artefacts() if a.support.sources == 1 and "documents" in a.extractors]
        thread_faq = next(a for a in store.artefacts() if a.extractors == ["threads"] and a.answer)
        store.save_artefacts([thread_faq.model_copy(update={"status": ArtefactStatus.approved})])
        store.close()
        shutil.rmtree(src / "docs")
        third = run_flow(paths=[str(src)], community="platform", home=str(home), include_candidates=True)
        assert third["ingest"]["counts"]["removed"] == 3
        assert third["dedupe"]["stale"] >= len(doc_only) > 0
        assert third["publish"]["published"]
        assert third["check"]["drift"] == 0  # the removal reconciled within the run

    store = open_store(home)
    assert store.get_artefact(thread_faq.id).status == ArtefactStatus.approved  # reviewer work kept
    stale_ids = {a.id for a in store.artefacts(status="stale")}
    assert {a.id for a in doc_only} <= stale_ids
    searcher = Searcher.open(releases_root(home))
    published = {p["id"] for p in searcher.payloads}
    assert not (published & stale_ids) and thread_faq.id in published
    hits = searcher.search("flaky tests quarantine", k=3)
    assert hits and all(h.payload["citations"] for h in hits)
