"""The reference store: the contract in plain Python dictionaries, for tests and as the spec.

Thread-safe (one re-entrant lock) and transactional: a write works on copies of the tables and
installs them only when it succeeds, so a failed write leaves nothing behind and a reader sees
each write whole or not at all. Models are copied in and out, so callers never share state.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator, Mapping, MutableMapping, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import numpy as np
from pydantic import BaseModel

from pipeline.models import Artefact, Candidate, Passage, ReviewEvent, Source, SourceStatus, utcnow
from pipeline.store_base import ArtefactConflict, ArtefactRetry, DuplicateUser, Lease, Reentrant

M = TypeVar("M", bound=BaseModel)
# The attributes that hold tables (trailing _: the name of the method that reads them is taken).
_TABLES = "sources passages_ candidates_ extracted cache_ embeddings artefacts_ members suggestions_ users_ events".split()


def _copy(model: M) -> M:
    return model.model_copy(deep=True)


class MemoryStore(ArtefactRetry, Reentrant):
    """Every table a dict (the review log a list), guarded by one lock."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.sources: dict[str, Source] = {}
        self.passages_: dict[str, list[Passage]] = {}
        self.candidates_: dict[str, tuple[Candidate, str]] = {}  # id -> (candidate, extractor)
        self.extracted: dict[tuple[str, str], str] = {}
        self.cache_: dict[str, str] = {}
        self.embeddings: dict[tuple[str, str, str], bytes] = {}  # (text hash, model, backend)
        self.artefacts_: dict[str, tuple[Artefact, int]] = {}
        self.members: dict[str, str] = {}
        self.suggestions_: dict[tuple[str, str], float] = {}
        self.users_: dict[str, dict[str, Any]] = {}
        self.events: list[ReviewEvent] = []
        self.leases: dict[str, Lease] = {}  # not transactional: a lease is its own atomic step

    @contextmanager
    def _outer_transaction(self) -> Iterator[None]:
        # Work on shallow copies of the tables (stored models are never mutated in place) and
        # put the originals back if the write fails.
        saved = {n: getattr(self, n) for n in _TABLES}
        for n, table in saved.items():
            setattr(self, n, list(table) if isinstance(table, list) else dict(table))
        try:
            yield
        except BaseException:
            for n, table in saved.items():
                setattr(self, n, table)
            raise

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        with self._lock, Reentrant._transaction(self):
            yield

    # -- sources and passages --------------------------------------------------------------

    def get_source(self, uri: str) -> Source | None:
        with self._lock:
            return next((_copy(s) for s in self.sources.values() if s.uri == uri), None)

    def list_sources(self) -> list[Source]:
        with self._lock:
            return [_copy(s) for s in sorted(self.sources.values(), key=lambda s: s.uri)]

    def sources_by_id(self, ids: Iterable[str]) -> dict[str, Source]:
        with self._lock:
            return {i: _copy(self.sources[i]) for i in dict.fromkeys(ids) if i in self.sources}

    def save_source(self, source: Source, passages: list[Passage] | None = None) -> None:
        with self._transaction():
            if any(s.uri == source.uri and s.id != source.id for s in self.sources.values()):
                raise ValueError(f"source uri {source.uri!r} is stored under another id")
            self.sources[source.id] = _copy(source)
            if passages is not None:
                self.passages_[source.id] = [_copy(p) for p in passages]

    def mark_removed(self, source_ids: Iterable[str]) -> int:
        with self._transaction():
            ids = set(source_ids) & set(self.sources)
            for sid in ids:
                self.passages_.pop(sid, None)
                for cid in [c for c, (cand, _) in self.candidates_.items() if cand.source_id == sid]:
                    self._drop_candidate(cid)
                self.extracted = {k: v for k, v in self.extracted.items() if k[0] != sid}
                self.sources[sid] = self.sources[sid].model_copy(update={"status": SourceStatus.removed, "passage_count": 0})
            return len(ids)

    def passages(self, source_id: str | None = None) -> list[Passage]:
        with self._lock:
            if source_id is not None:
                return [_copy(p) for p in self.passages_.get(source_id, [])]
            ordered = sorted(self.passages_, key=lambda sid: self.sources[sid].uri)
            return [_copy(p) for sid in ordered for p in self.passages_[sid]]

    def count_passages(self, source_id: str | None = None) -> int:
        with self._lock:
            if source_id is not None:
                return len(self.passages_.get(source_id, []))
            return sum(len(ps) for ps in self.passages_.values())

    def passages_in_range(self, source_id: str, first_seq: int, last_seq: int) -> list[Passage]:
        return [p for p in self.passages(source_id) if first_seq <= p.seq <= last_seq]

    def thread_passages(self, source_id: str, thread_id: str, limit: int = 400) -> list[Passage]:
        return [p for p in self.passages(source_id) if p.thread_id == thread_id][:limit]

    def passages_by_id(self, ids: Iterable[str]) -> dict[str, Passage]:
        wanted = set(ids)
        with self._lock:
            return {p.id: _copy(p) for ps in self.passages_.values() for p in ps if p.id in wanted}

    # -- candidates, cache, embeddings -------------------------------------------------------

    def extracted_hash(self, source_id: str, extractor: str) -> str | None:
        with self._lock:
            return self.extracted.get((source_id, extractor))

    def replace_candidates(
        self, source_id: str, extractor: str, content_hash: str, candidates: list[Candidate]
    ) -> tuple[int, int]:
        with self._transaction():
            if source_id not in self.sources:
                raise KeyError(f"no source {source_id!r} for candidates")
            old = {cid for cid, (c, ex) in self.candidates_.items() if c.source_id == source_id and ex == extractor}
            new = {c.id: c for c in candidates}
            for cid in old - set(new):
                self._drop_candidate(cid)
            for cid, c in new.items():
                if cid not in self.candidates_:  # existing ids are left untouched (review state kept)
                    self.candidates_[cid] = (_copy(c), extractor)
            self.extracted[(source_id, extractor)] = content_hash
            return len(set(new) - old), len(old - set(new))

    def _drop_candidate(self, cid: str) -> None:
        self.candidates_.pop(cid, None)

    def candidates(
        self, kind: str | None = None, status: str | None = None, source_id: str | None = None, extractor: str | None = None
    ) -> list[Candidate]:
        with self._lock:
            rows = [
                c for c, ex in self.candidates_.values()
                if (kind is None or c.kind.value == kind) and (status is None or c.status.value == status)
                and (source_id is None or c.source_id == source_id) and (extractor is None or ex == extractor)
            ]  # fmt: skip
            return [_copy(c) for c in sorted(rows, key=lambda c: (c.created_at.isoformat(), c.id))]

    def unassigned_candidates(self) -> list[Candidate]:
        with self._lock:
            members = self._live_members()
            return [c for c in self.candidates() if c.id not in members]

    def _live_members(self) -> dict[str, str]:
        # Membership rows whose candidate is gone no longer count (SQL: the join finds nothing).
        return {cid: aid for cid, aid in self.members.items() if cid in self.candidates_}

    def cache(self, namespace: str) -> MutableMapping[str, str]:
        return _MemoryCache(self, f"{namespace}:")

    def get_embeddings(self, text_hashes: Iterable[str], model: str, backend: str = "torch") -> dict[str, np.ndarray]:
        with self._lock:
            found = {h: self.embeddings.get((h, model, backend)) for h in text_hashes}
            return {h: np.frombuffer(v, dtype=np.float32) for h, v in found.items() if v is not None}

    def put_embeddings(self, model: str, vectors: dict[str, np.ndarray], backend: str = "torch") -> None:
        with self._transaction():
            for h, v in vectors.items():
                self.embeddings[(h, model, backend)] = np.asarray(v, dtype=np.float32).tobytes()

    # -- artefacts ---------------------------------------------------------------------------

    def artefacts(self, kind: str | None = None, status: str | None = None) -> list[Artefact]:
        with self._lock:
            rows = [a for aid, (a, _) in sorted(self.artefacts_.items())]
            return [
                _copy(a) for a in rows
                if (kind is None or a.kind.value == kind) and (status is None or a.status.value == status)
            ]  # fmt: skip

    def get_artefact(self, artefact_id: str) -> Artefact | None:
        with self._lock:
            found = self.artefacts_.get(artefact_id)
            return _copy(found[0]) if found else None

    def versioned_artefacts(self, ids: Iterable[str] | None = None) -> dict[str, tuple[Artefact, int]]:
        with self._lock:
            keys = sorted(self.artefacts_) if ids is None else [i for i in dict.fromkeys(ids) if i in self.artefacts_]
            return {i: (_copy(self.artefacts_[i][0]), self.artefacts_[i][1]) for i in keys}

    def artefact_ids_for_sources(self, source_ids: Iterable[str]) -> list[str]:
        wanted = set(source_ids)
        with self._lock:
            members = self._live_members()
            return sorted({aid for cid, aid in members.items() if self.candidates_[cid][0].source_id in wanted})

    def save_artefacts(self, artefacts: Iterable[Artefact], expected_versions: Mapping[str, int] | None = None) -> list[str]:
        conflicts = []
        with self._transaction():
            for a in artefacts:
                stored = self.artefacts_.get(a.id)
                version = stored[1] if stored else 0
                if expected_versions is not None and expected_versions.get(a.id, 0) != version:
                    conflicts.append(a.id)
                    continue
                self.artefacts_[a.id] = (_copy(a), version + 1)
                self.members = {cid: aid for cid, aid in self.members.items() if aid != a.id}
                self.members.update({cid: a.id for cid in a.candidate_ids})
        return conflicts

    def replace_suggestions(self, pairs: Iterable[tuple[str, str, float]]) -> None:
        with self._transaction():
            self.suggestions_ = {(min(a, b), max(a, b)): float(s) for a, b, s in pairs}

    def suggestions(self, artefact_id: str | None = None) -> list[tuple[str, str, float]]:
        with self._lock:
            rows = [(a, b, s) for (a, b), s in self.suggestions_.items() if artefact_id in (None, a, b)]
            return sorted(rows, key=lambda r: (-r[2], r[0], r[1]))

    # -- review log and users ------------------------------------------------------------------

    def save_review(
        self, artefacts: list[Artefact], events: list[ReviewEvent], expected_versions: Mapping[str, int] | None = None
    ) -> None:
        with self._transaction():
            conflicts = self.save_artefacts(artefacts, expected_versions)
            if conflicts:
                raise ArtefactConflict(conflicts)
            for e in events:
                # Stored as the SQL stores return it: JSON round trip of before/after.
                before = json.loads(json.dumps(e.before, default=str)) if e.before is not None else None
                after = json.loads(json.dumps(e.after, default=str)) if e.after is not None else None
                self.events.append(e.model_copy(update={"id": len(self.events) + 1, "before": before, "after": after}))

    def review_events(self, artefact_id: str | None = None, limit: int = 200) -> list[ReviewEvent]:
        with self._lock:
            rows = [e for e in reversed(self.events) if artefact_id is None or e.artefact_id == artefact_id]
            return [_copy(e) for e in rows[:limit]]

    def review_event_keys(self, where: Mapping[str, str]) -> list[tuple[int, str, str]]:
        tests = {
            "actor": lambda e, v: e.actor == v, "action": lambda e, v: e.action == v,
            "artefact_id": lambda e, v: e.artefact_id == v,
            "at_from": lambda e, v: e.at.isoformat() >= v, "at_to": lambda e, v: e.at.isoformat() < v,
        }  # fmt: skip
        with self._lock:
            rows = [e for e in reversed(self.events) if all(tests[k](e, v) for k, v in where.items())]
            return [(int(e.id or 0), e.artefact_id, e.action) for e in rows]

    def review_events_by_id(self, ids: Sequence[int]) -> list[ReviewEvent]:
        wanted = set(ids)
        with self._lock:
            return [_copy(e) for e in reversed(self.events) if e.id in wanted]

    def add_user(self, name: str, role: str, groups: list[str], token_hash: str) -> None:
        with self._transaction():
            if name in self.users_ or any(u["token_hash"] == token_hash for u in self.users_.values()):
                raise DuplicateUser(f"user {name!r} or its token already exists")
            self.users_[name] = {"name": name, "role": role, "groups": sorted(set(groups)), "token_hash": token_hash,
                                 "revoked": False, "created_at": utcnow().isoformat()}  # fmt: skip

    def user_by_token_hash(self, token_hash: str) -> dict[str, Any] | None:
        with self._lock:
            found = next((u for u in self.users_.values() if u["token_hash"] == token_hash), None)
            return _public(found) if found else None

    def users(self) -> list[dict[str, Any]]:
        with self._lock:
            return [_public(self.users_[n]) for n in sorted(self.users_)]

    def revoke_user(self, name: str) -> bool:
        with self._transaction():
            if name not in self.users_:
                return False
            self.users_[name] = self.users_[name] | {"revoked": True}
            return True

    # -- leases ------------------------------------------------------------------------------

    def acquire_lease(self, lease: Lease, now: float) -> Lease:
        with self._lock:
            held = self.leases.get(lease.name)
            if held is None or held.expires_at <= now or held.holder == lease.holder:
                self.leases[lease.name] = held = lease
            return held

    def take_over_lease(self, lease: Lease, stale_holder: str) -> bool:
        with self._lock:
            held = self.leases.get(lease.name)
            if held is None or held.holder != stale_holder:
                return False
            self.leases[lease.name] = lease
            return True

    def renew_lease(self, name: str, holder: str, expires_at: float) -> bool:
        with self._lock:
            held = self.leases.get(name)
            if held is None or held.holder != holder:
                return False
            self.leases[name] = held.renewed(expires_at)
            return True

    def release_lease(self, name: str, holder: str) -> bool:
        with self._lock:
            held = self.leases.get(name)
            if held is None or held.holder != holder:
                return False
            del self.leases[name]
            return True

    def current_lease(self, name: str) -> Lease | None:
        with self._lock:
            return self.leases.get(name)

    def reopen(self) -> MemoryStore:
        return self  # one process, one lock: every thread shares it

    def close(self) -> None:
        """Nothing to release."""


def _public(user: dict[str, Any]) -> dict[str, Any]:
    return {k: (list(v) if isinstance(v, list) else v) for k, v in user.items() if k != "token_hash"}


class _MemoryCache(MutableMapping[str, str]):
    """A namespaced view of the store's key-value table."""

    def __init__(self, store: MemoryStore, prefix: str) -> None:
        self.store, self.prefix = store, prefix

    def __getitem__(self, key: str) -> str:
        with self.store._lock:
            return self.store.cache_[self.prefix + key]

    def __setitem__(self, key: str, value: str) -> None:
        with self.store._transaction():
            self.store.cache_[self.prefix + key] = value

    def __delitem__(self, key: str) -> None:
        with self.store._transaction():
            del self.store.cache_[self.prefix + key]

    def __iter__(self) -> Iterator[str]:
        with self.store._lock:
            return iter(sorted(k[len(self.prefix) :] for k in self.store.cache_ if k.startswith(self.prefix)))

    def __len__(self) -> int:
        return sum(1 for _ in self)
