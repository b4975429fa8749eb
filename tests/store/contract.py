"""The store contract, part 1: sources, passages, candidates, cache, embeddings.

One class per behaviour; tests/store/test_backends.py runs every class against every backend by
overriding one `store` fixture. Expected values are written here by hand, never read back from
the store under test.
"""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.artefacts import union_evidence
from pipeline.models import ArtefactStatus, Evidence, SourceStatus
from pipeline.store import Store
from tests.store.data import candidate, passages, source


class _Exploding(list):  # type: ignore[type-arg]
    """A passage list that fails after its first item, like a write that dies half-way."""

    def __iter__(self):  # type: ignore[no-untyped-def]
        yield self[0]
        raise RuntimeError("disk full")


class Sources:
    def test_round_trip_keeps_every_field(self, store: Store) -> None:
        src = source(warnings=["skipped 1 bot message"], community="sre", visibility="sre,ops", size_bytes=5_000_000_000)
        ps = passages(src.id, ["hello", "world"], thread="t1")
        store.save_source(src, ps)
        assert store.get_source(src.uri) == src
        assert store.passages(src.id) == ps

    def test_upsert_twice_is_the_same_as_once(self, store: Store) -> None:
        src = source()
        for _ in range(2):
            store.save_source(src, passages(src.id, ["a", "b"]))
        assert store.list_sources() == [src]
        assert store.count_passages() == 2

    def test_listing_is_in_uri_order_and_unknown_is_none(self, store: Store) -> None:
        for uri in ("/c/z.vtt", "/c/B.vtt", "/c/a.vtt"):
            store.save_source(source(uri))
        assert [s.uri for s in store.list_sources()] == ["/c/B.vtt", "/c/a.vtt", "/c/z.vtt"]  # byte order
        assert store.get_source("/nowhere") is None

    def test_sources_by_id_returns_only_the_asked_ones(self, store: Store) -> None:
        a, b, c = source("/c/a.vtt"), source("/c/b.vtt", visibility="sre"), source("/c/c.vtt")
        for s in (a, b, c):
            store.save_source(s)
        assert store.sources_by_id([b.id, "missing", a.id, b.id]) == {a.id: a, b.id: b}
        assert store.sources_by_id([]) == {}

    def test_saving_the_source_alone_keeps_its_passages(self, store: Store) -> None:
        src = source()
        store.save_source(src, passages(src.id, ["a", "d"]))
        store.save_source(src.model_copy(update={"status": SourceStatus.failed, "error": "boom"}))
        assert [p.text for p in store.passages(src.id)] == ["a", "d"]
        assert store.get_source(src.uri).error == "boom"  # type: ignore[union-attr]

    def test_mark_removed_takes_passages_candidates_and_extraction_state(self, store: Store) -> None:
        a, b = source("/c/a.vtt"), source("/c/b.vtt")
        store.save_source(a, passages(a.id, ["1", "2"]))
        store.save_source(b, passages(b.id, ["3"]))
        store.replace_candidates(a.id, "threads", "h1", [candidate("ca", a.id)])
        assert store.mark_removed([a.id, "no-such-source"]) == 1
        assert store.mark_removed([]) == 0
        got = store.get_source(a.uri)
        assert got is not None and got.status == SourceStatus.removed and got.passage_count == 0
        assert [p.text for p in store.passages()] == ["3"]
        assert store.candidates(source_id=a.id) == [] and store.extracted_hash(a.id, "threads") is None

    def test_passages_are_counted_per_source(self, store: Store) -> None:
        a, b = source("/c/a.vtt"), source("/c/b.vtt")
        store.save_source(a, passages(a.id, ["1", "2"]))
        store.save_source(b, passages(b.id, ["3"]))
        assert (store.count_passages(a.id), store.count_passages(b.id), store.count_passages("nothing")) == (2, 1, 0)
        assert store.count_passages() == 3


class Passages:
    def test_new_passages_replace_the_old_ones(self, store: Store) -> None:
        src = source()
        store.save_source(src, passages(src.id, ["a", "b", "c"]))
        store.save_source(src.model_copy(update={"content_hash": "h2"}), passages(src.id, ["a", "d"]))
        assert [p.text for p in store.passages(src.id)] == ["a", "d"]
        assert store.count_passages() == 2

    def test_a_replacement_that_fails_half_way_changes_nothing(self, store: Store) -> None:
        src = source()
        old = passages(src.id, ["a", "b", "c"])
        store.save_source(src, old)
        with pytest.raises(RuntimeError, match="disk full"):
            store.save_source(src.model_copy(update={"content_hash": "h2"}), _Exploding(passages(src.id, ["x", "y"])))
        assert store.passages(src.id) == old
        assert store.get_source(src.uri).content_hash == "h1"  # type: ignore[union-attr]

    def test_lookups_by_range_thread_and_id(self, store: Store) -> None:
        a, b = source("/c/b.vtt"), source("/c/a.vtt")
        pa = passages(a.id, ["0", "1", "2", "3"], thread="t1")
        pb = passages(b.id, ["x"], thread="t2")
        store.save_source(a, pa)
        store.save_source(b, pb)
        assert [p.text for p in store.passages_in_range(a.id, 1, 2)] == ["1", "2"]
        assert [p.text for p in store.thread_passages(a.id, "t1", limit=3)] == ["0", "1", "2"]
        assert store.thread_passages(a.id, "t2") == []
        assert store.passages_by_id([pa[3].id, pb[0].id, "missing", pa[3].id]) == {pa[3].id: pa[3], pb[0].id: pb[0]}
        assert [p.text for p in store.passages()] == ["x", "0", "1", "2", "3"]  # sources in uri order


    def test_lookups_of_more_ids_than_one_sql_statement_takes(self, store: Store) -> None:
        src = source()
        many = passages(src.id, [f"p{i}" for i in range(1201)])
        store.save_source(src, many)
        assert len(store.passages_by_id(p.id for p in many)) == 1201
        store.put_embeddings("mini", {f"h{i}": np.full(2, i, dtype=np.float32) for i in range(1201)})
        got = store.get_embeddings((f"h{i}" for i in range(1201)), "mini")
        assert len(got) == 1201 and got["h1200"].tolist() == [1200.0, 1200.0]


class Candidates:
    def test_replace_reports_created_and_deleted_and_is_idempotent(self, store: Store) -> None:
        src = source()
        store.save_source(src)
        first = [candidate("c1", src.id), candidate("c2", src.id, minutes=1)]
        assert store.replace_candidates(src.id, "threads", "h1", first) == (2, 0)
        assert store.replace_candidates(src.id, "threads", "h1", first) == (0, 0)
        assert store.extracted_hash(src.id, "threads") == "h1"
        assert store.replace_candidates(src.id, "threads", "h2", [first[1], candidate("c3", src.id, minutes=2)]) == (1, 1)
        assert [c.id for c in store.candidates()] == ["c2", "c3"]
        assert store.extracted_hash(src.id, "threads") == "h2"

    def test_a_kept_candidate_keeps_its_stored_state(self, store: Store) -> None:
        src = source()
        store.save_source(src)
        store.replace_candidates(src.id, "threads", "h1", [candidate("c1", src.id)])
        changed = candidate("c1", src.id, status=ArtefactStatus.rejected)
        store.replace_candidates(src.id, "threads", "h2", [changed])
        assert store.candidates()[0].status == ArtefactStatus.candidate

    def test_extractors_are_independent_and_filters_combine(self, store: Store) -> None:
        a, b = source("/c/a.vtt"), source("/c/b.vtt")
        store.save_source(a)
        store.save_source(b)
        store.replace_candidates(a.id, "threads", "h1", [candidate("c1", a.id, minutes=3)])
        store.replace_candidates(a.id, "llm", "h1", [candidate("c2", a.id, minutes=1, extractor="llm")])
        store.replace_candidates(b.id, "threads", "h1", [candidate("c3", b.id, minutes=2)])
        store.replace_candidates(a.id, "llm", "h2", [])
        assert [c.id for c in store.candidates()] == ["c3", "c1"]  # creation order
        assert [c.id for c in store.candidates(source_id=a.id, extractor="threads")] == ["c1"]
        assert store.candidates(kind="pattern") == [] and len(store.candidates(kind="faq", status="candidate")) == 2
        assert store.extracted_hash(a.id, "llm") == "h2" and store.extracted_hash(b.id, "llm") is None

    def test_evidence_round_trips_and_unions_across_sources(self, store: Store) -> None:
        a, b = source("/c/a.vtt"), source("/c/b.vtt")
        store.save_source(a)
        store.save_source(b)
        shared = Evidence(passage_id="p9", quote="restart the pager", role="answer", score=0.25)
        c1 = candidate("c1", a.id).model_copy(update={"evidence": [shared, Evidence(passage_id="p1", quote="q", role="question")]})
        c2 = candidate("c2", b.id, minutes=1).model_copy(update={"evidence": [shared]})
        store.replace_candidates(a.id, "threads", "h", [c1])
        store.replace_candidates(b.id, "threads", "h", [c2])
        stored = store.candidates()
        assert [c.evidence for c in stored] == [c1.evidence, c2.evidence]
        assert union_evidence(stored) == [shared, Evidence(passage_id="p1", quote="q", role="question")]


class Cache:
    def test_namespaces_keep_keys_apart(self, store: Store) -> None:
        llm, other, tricky = store.cache("llm"), store.cache("LLM"), store.cache("a_%")
        llm["k1"], llm["k2"], other["k1"], tricky["x"] = "v1", "v2", "other", "t"
        llm["k1"] = "v1b"  # overwrite
        assert (llm["k1"], other["k1"], len(llm), sorted(llm)) == ("v1b", "other", 2, ["k1", "k2"])
        assert sorted(store.cache("a_")) == [] and sorted(tricky) == ["x"]
        del llm["k2"]
        with pytest.raises(KeyError):
            llm["k2"]
        with pytest.raises(KeyError):
            del llm["k2"]
        assert store.cache("llm").get("k1") == "v1b"  # a new view sees the same table


class Embeddings:
    def test_vectors_come_back_exactly_per_model(self, store: Store) -> None:
        v1, v2 = np.array([0.1, -2.5, 3.0], dtype=np.float32), np.array([1e-7, 0.0, 7.25], dtype=np.float32)
        store.put_embeddings("mini", {"h1": v1, "h2": v2})
        store.put_embeddings("other", {"h1": v2})
        store.put_embeddings("mini", {"h2": v1})  # overwrite
        got = store.get_embeddings(["h1", "h2", "h3", "h1"], "mini")
        assert sorted(got) == ["h1", "h2"]
        assert got["h1"].dtype == np.float32 and got["h1"].tolist() == v1.tolist() and got["h2"].tolist() == v1.tolist()
        assert store.get_embeddings(["h1"], "other")["h1"].tolist() == v2.tolist()
        assert store.get_embeddings([], "mini") == {}

    def test_each_backend_keeps_its_own_vectors(self, store: Store) -> None:
        fp32, int8 = np.array([0.5, 0.5], dtype=np.float32), np.array([0.49, 0.51], dtype=np.float32)
        store.put_embeddings("mini", {"h1": fp32}, backend="torch")
        store.put_embeddings("mini", {"h1": int8, "h2": int8}, backend="onnx-int8")
        assert store.get_embeddings(["h1", "h2"], "mini", backend="torch")["h1"].tolist() == fp32.tolist()
        assert sorted(store.get_embeddings(["h1", "h2"], "mini", backend="torch")) == ["h1"]
        got = store.get_embeddings(["h1", "h2"], "mini", backend="onnx-int8")
        assert got["h1"].tolist() == int8.tolist() and got["h2"].tolist() == int8.tolist()
        assert store.get_embeddings(["h1"], "mini", backend="openvino-int8") == {}
        assert store.get_embeddings(["h1"], "mini")["h1"].tolist() == fp32.tolist()  # torch is the default key
