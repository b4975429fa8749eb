"""Index releases: immutable folders, checksummed manifest, atomic CURRENT, rollback, pruning."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from index.release import (
    CURRENT_FILE,
    Manifest,
    ReleaseError,
    build_release,
    current_release,
    current_release_path,
    latest_fingerprint,
    list_releases,
    prune_releases,
    read_payloads,
    release_fingerprint,
    rollback,
    verify_release,
)
from index.search import Searcher

DIM = 8


def artefacts(n: int, generation: int = 0, status: str = "approved") -> tuple[list[dict[str, Any]], np.ndarray, list[str]]:
    rng = np.random.default_rng(generation)
    vectors = rng.standard_normal((n, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    payloads = [
        {
            "id": f"a{i}",
            "kind": "faq" if i % 2 == 0 else "pattern",
            "status": status,
            "question": f"question {i} generation {generation}",
            "generation": generation,
            "communities": ["qa"],
            "source_kinds": ["thread"],
            "visibility": "public",
            "updated_at": "2024-05-01T00:00:00+00:00",
        }
        for i in range(n)
    ]
    texts = [f"question {i} generation g{generation}" for i in range(n)]
    return payloads, vectors, texts


def publish(root: Path, n: int = 6, generation: int = 0, **kw: Any) -> Manifest:
    payloads, vectors, texts = artefacts(n, generation)
    return build_release(root, payloads, vectors, texts, "test-model", **kw)


def test_build_writes_a_complete_verified_release(tmp_path: Path) -> None:
    root = tmp_path / "releases"
    m = publish(root, n=6)
    assert m.path == root / m.release_id and m.path.is_dir()
    assert current_release_path(root) == m.path
    assert (root / CURRENT_FILE).read_text().strip() == m.release_id
    for name in ("vectors.faiss", "payloads.jsonl", "manifest.json"):
        assert (m.path / name).is_file()
    assert (m.path / "bm25").is_dir()
    assert set(m.files) >= {"vectors.faiss", "payloads.jsonl", "bm25/keyword.json"}
    assert all(len(d) == 64 for d in m.files.values())
    assert m.count == 6 and m.counts_by_kind == {"faq": 3, "pattern": 3} and m.counts_by_status == {"approved": 6}
    assert m.model_id == "test-model" and m.dimension == DIM and m.index_type == "exact"
    on_disk = json.loads((m.path / "manifest.json").read_text())
    assert on_disk["release_id"] == m.release_id and on_disk["fingerprint"] == m.fingerprint
    assert verify_release(m.path) == Manifest.read(m.path)
    assert [p["id"] for p in read_payloads(m.path)] == [f"a{i}" for i in range(6)]
    assert not [p for p in root.iterdir() if p.name.startswith(".tmp-")]


def test_verify_detects_tampering(tmp_path: Path) -> None:
    m = publish(tmp_path)
    with open(m.path / "payloads.jsonl", "a") as fh:
        fh.write("{}\n")
    with pytest.raises(ReleaseError, match="payloads.jsonl: checksum mismatch"):
        verify_release(m.path)
    (m.path / "vectors.faiss").unlink()
    (m.path / "extra.txt").write_text("x")
    with pytest.raises(ReleaseError, match="vectors.faiss: missing.*extra.txt: not in the manifest"):
        verify_release(m.path)
    with pytest.raises(ReleaseError, match="no such release"):
        verify_release(tmp_path / "nope")


def test_only_publishable_statuses_are_published(tmp_path: Path) -> None:
    payloads, vectors, texts = artefacts(5)
    for p, status in zip(payloads, ["approved", "candidate", "rejected", "stale", "merged"]):
        p["status"] = status
    m = build_release(tmp_path / "a", payloads, vectors, texts, "m")
    assert m.count == 1 and m.excluded == 4 and [p["id"] for p in read_payloads(m.path)] == ["a0"]
    m = build_release(tmp_path / "b", payloads, vectors, texts, "m", include_candidates=True)
    assert m.count == 2 and m.counts_by_status == {"approved": 1, "candidate": 1}
    s = Searcher.open(tmp_path / "b", embed=lambda texts: vectors[:1].repeat(len(texts), 0))
    assert s.search("x", k=5, mode="dense")[0].id == "a0"


def test_empty_release_is_valid(tmp_path: Path) -> None:
    m = build_release(tmp_path, [], np.zeros((0, DIM), np.float32), [], "m")
    assert m.count == 0 and verify_release(m.path)
    s = Searcher.open(tmp_path, embed=lambda t: np.ones((len(t), DIM), np.float32))
    assert s.search("anything") == []


def test_rejects_inconsistent_input(tmp_path: Path) -> None:
    payloads, vectors, texts = artefacts(3)
    with pytest.raises(ValueError, match="must match"):
        build_release(tmp_path, payloads, vectors[:2], texts, "m")
    with pytest.raises(ValueError, match="twice"):
        build_release(tmp_path, payloads + payloads[:1], np.vstack([vectors, vectors[:1]]), texts + texts[:1], "m")
    with pytest.raises(ValueError, match="unknown index type"):
        build_release(tmp_path, payloads, vectors, texts, "m", index_type="annoy")
    assert list_releases(tmp_path) == [] and current_release(tmp_path) is None


@pytest.mark.parametrize("index_type", ["hnsw", "ivf", "numpy"])
def test_other_index_types(tmp_path: Path, index_type: str) -> None:
    payloads, vectors, texts = artefacts(100)
    m = build_release(tmp_path, payloads, vectors, texts, "m", index_type=index_type)
    assert m.index_type == index_type and m.index_settings["type"] == index_type
    s = Searcher.open(tmp_path, embed=lambda t: vectors[[7]].repeat(len(t), 0))
    assert s.search("x", k=1, mode="dense")[0].id == "a7"


def test_fingerprint_says_when_nothing_changed(tmp_path: Path) -> None:
    payloads, vectors, texts = artefacts(4)
    assert latest_fingerprint(tmp_path) is None
    m = build_release(tmp_path, payloads, vectors, texts, "m")
    assert release_fingerprint(payloads, vectors, "m", texts) == m.fingerprint == latest_fingerprint(tmp_path)
    assert release_fingerprint([dict(p) for p in payloads], vectors.copy(), "m", list(texts)) == m.fingerprint
    changed = [dict(p) for p in payloads]
    changed[0]["question"] = "edited"
    assert release_fingerprint(changed, vectors, "m", texts) != m.fingerprint
    assert release_fingerprint(payloads, vectors + 1e-3, "m", texts) != m.fingerprint
    assert release_fingerprint(payloads, vectors, "other-model", texts) != m.fingerprint
    assert release_fingerprint(payloads, vectors, "m", texts, index_type="hnsw") != m.fingerprint


def test_rollback_and_list(tmp_path: Path) -> None:
    first = publish(tmp_path, generation=1)
    second = publish(tmp_path, generation=2)
    assert [m.release_id for m in list_releases(tmp_path)] == [first.release_id, second.release_id]
    assert current_release(tmp_path).release_id == second.release_id  # type: ignore[union-attr]
    back = rollback(tmp_path, first.release_id)
    assert back.release_id == first.release_id
    assert current_release(tmp_path).release_id == first.release_id  # type: ignore[union-attr]
    # the newest build's fingerprint still counts as published: an unchanged run does not undo the rollback
    assert latest_fingerprint(tmp_path) == second.fingerprint
    with pytest.raises(ReleaseError):
        rollback(tmp_path, "20990101T000000000000Z-deadbeef")
    with pytest.raises(ReleaseError):
        rollback(tmp_path, "../elsewhere")
    # a corrupt release is refused
    (tmp_path / second.release_id / "payloads.jsonl").write_text("")
    with pytest.raises(ReleaseError, match="corrupt"):
        rollback(tmp_path, second.release_id)
    assert current_release(tmp_path).release_id == first.release_id  # type: ignore[union-attr]


def test_keep_count_never_deletes_current(tmp_path: Path) -> None:
    made = [publish(tmp_path, generation=g, keep=3) for g in range(5)]
    assert [m.release_id for m in list_releases(tmp_path)] == [m.release_id for m in made[-3:]]
    rollback(tmp_path, made[2].release_id)  # the oldest kept release becomes current
    assert prune_releases(tmp_path, keep=1) == [made[3].release_id]  # the newest stays, and the current one
    assert [m.release_id for m in list_releases(tmp_path)] == [made[2].release_id, made[4].release_id]
    newer = publish(tmp_path, generation=10, keep=2)  # current moves on: the old one may now go
    assert [m.release_id for m in list_releases(tmp_path)] == [made[4].release_id, newer.release_id]
    assert current_release(tmp_path).release_id == newer.release_id  # type: ignore[union-attr]
    with pytest.raises(ValueError):
        prune_releases(tmp_path, keep=0)


def test_readers_never_see_a_mix_or_a_missing_file(tmp_path: Path) -> None:
    """A reader opening CURRENT over and over while releases are published sees whole releases only."""
    root = tmp_path / "releases"
    publish(root, n=40, generation=0, keep=20)
    stop = threading.Event()
    seen: set[int] = set()
    errors: list[str] = []
    reads = 0

    def reader() -> None:
        nonlocal reads
        while not stop.is_set():
            try:
                path = current_release_path(root)
                assert path is not None
                manifest = verify_release(path)  # every file present and matching its checksum
                generations = {p["generation"] for p in read_payloads(path)}
                if len(generations) != 1:
                    errors.append(f"mixed generations {generations} in {path.name}")
                (gen,) = generations
                if manifest.count != 40:
                    errors.append(f"count {manifest.count}")
                searcher = Searcher(path, embed=lambda t: np.ones((len(t), DIM), np.float32))
                hits = searcher.search(f"g{gen}", k=3, mode="bm25")
                if not hits or any(h.payload["generation"] != gen for h in hits):
                    errors.append(f"search in {path.name} returned another generation")
                seen.add(gen)
                reads += 1
            except Exception as exc:  # noqa: BLE001 - any failure is what this test looks for
                errors.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        for generation in range(1, 9):
            publish(root, n=40, generation=generation, keep=20)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not errors, errors[:5]
    assert reads > 0 and len(seen) >= 2
    assert current_release(root).count == 40  # type: ignore[union-attr]


def test_concurrent_publishers_serialise(tmp_path: Path) -> None:
    errors: list[BaseException] = []

    def writer(g: int) -> None:
        try:
            publish(tmp_path, generation=g, keep=10)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(g,)) for g in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    releases = list_releases(tmp_path)
    assert len(releases) == 4 and len({m.release_id for m in releases}) == 4
    assert current_release(tmp_path) is not None
    for m in releases:
        verify_release(m.path)  # type: ignore[arg-type]
