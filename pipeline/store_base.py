"""The store contract: the `Store` protocol every backend implements, and the logic they share.

Backends: `store_memory.MemoryStore` (the reference), `store_sqlite.SQLiteStore` (the embedded
default) and `store_pg.PostgresStore`; tests/store runs one contract suite against all three.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, replace
from typing import Any, Protocol

import numpy as np

from pipeline.models import Artefact, Candidate, Passage, ReviewEvent, Source


# Redo a writer's change on the artefact as stored now (None: it is gone; return None to give up).
Rebase = Callable[[Artefact | None, Artefact], Artefact | None]


class ArtefactConflict(Exception):
    """An artefact changed between a writer's read and its write (optimistic concurrency)."""

    def __init__(self, ids: list[str]) -> None:
        super().__init__(f"artefacts changed meanwhile: {', '.join(ids)}")
        self.ids = ids


class DuplicateUser(ValueError):
    """A user name (or token hash) that is already taken."""


@dataclass(frozen=True)
class Lease:
    """Who holds a named lease (the writer lease: one run writes a store at a time) and until when.

    Times are seconds since the epoch on the holder's clock; `holder` is the run id.
    """

    name: str
    holder: str
    host: str
    pid: int
    acquired_at: float
    expires_at: float

    def renewed(self, expires_at: float) -> Lease:
        """The same lease with a later expiry."""
        return replace(self, expires_at=expires_at)


class Store(Protocol):
    """What the pipeline needs from persistence."""

    def get_source(self, uri: str) -> Source | None:
        """The source stored for a URI, if any."""

    def list_sources(self) -> list[Source]:
        """Every source, in URI order."""

    def sources_by_id(self, ids: Iterable[str]) -> dict[str, Source]:
        """The sources with the given ids (missing ids are left out)."""

    def save_source(self, source: Source, passages: list[Passage] | None = None) -> None:
        """Insert or update a source; when `passages` is given they replace its old ones, atomically."""

    def mark_removed(self, source_ids: Iterable[str]) -> int:
        """Mark sources removed and drop their passages and candidates; returns how many changed."""

    def passages(self, source_id: str | None = None) -> list[Passage]:
        """Passages of one source (or all), in source and reading order."""

    def count_passages(self, source_id: str | None = None) -> int:
        """How many passages are stored (of one source, or in all)."""

    def passages_in_range(self, source_id: str, first_seq: int, last_seq: int) -> list[Passage]:
        """The passages of one source between two positions (inclusive), in order."""

    def thread_passages(self, source_id: str, thread_id: str, limit: int = 400) -> list[Passage]:
        """The messages of one thread of a source, in order."""

    def extracted_hash(self, source_id: str, extractor: str) -> str | None:
        """The source content hash an extractor last processed, if any."""

    def replace_candidates(
        self, source_id: str, extractor: str, content_hash: str, candidates: list[Candidate]
    ) -> tuple[int, int]:
        """Make `candidates` the extractor's output for a source; returns (created, deleted)."""

    def candidates(
        self,
        kind: str | None = None,
        status: str | None = None,
        source_id: str | None = None,
        extractor: str | None = None,
    ) -> list[Candidate]:
        """Stored candidates, filtered, in creation order."""

    def passages_by_id(self, ids: Iterable[str]) -> dict[str, Passage]:
        """The passages with the given ids (missing ids are absent from the result)."""

    def cache(self, namespace: str) -> MutableMapping[str, str]:
        """A persistent key-value cache (used for LLM responses)."""

    def get_embeddings(self, text_hashes: Iterable[str], model: str, backend: str = "torch") -> dict[str, np.ndarray]:
        """Cached vectors by text hash for one model and embedding backend (missing hashes are absent)."""

    def put_embeddings(self, model: str, vectors: dict[str, np.ndarray], backend: str = "torch") -> None:
        """Cache vectors by text hash for one model and embedding backend."""

    def unassigned_candidates(self) -> list[Candidate]:
        """Candidates not yet folded into any artefact."""

    def artefacts(self, kind: str | None = None, status: str | None = None) -> list[Artefact]:
        """Stored artefacts, filtered."""

    def get_artefact(self, artefact_id: str) -> Artefact | None:
        """One artefact by id."""

    def versioned_artefacts(self, ids: Iterable[str] | None = None) -> dict[str, tuple[Artefact, int]]:
        """Artefacts (all, or those with the given ids) with the version each was read at."""

    def artefact_ids_for_sources(self, source_ids: Iterable[str]) -> list[str]:
        """Artefacts with at least one member candidate from the given sources."""

    def save_artefacts(self, artefacts: Iterable[Artefact], expected_versions: Mapping[str, int] | None = None) -> list[str]:
        """Insert or update artefacts and their candidate membership, atomically; returns the conflicts.

        Without `expected_versions` every artefact is written. With it, each is written only if its
        stored version still is the one given (0 or absent: it must not exist yet); the ids that
        changed meanwhile are not written and are returned.
        """

    def update_artefacts(
        self, artefacts: Iterable[Artefact], expected_versions: Mapping[str, int], rebase: Rebase, attempts: int = 5
    ) -> list[str]:
        """Optimistic write: `save_artefacts` with versions, retried on conflict; returns the ids given up.

        On a conflict the stored artefact is read again and `rebase(current, attempted)` redoes the
        writer's change on it (None: give up on that artefact; a later run redoes the work).
        """

    def replace_suggestions(self, pairs: Iterable[tuple[str, str, float]]) -> None:
        """Replace the possible-duplicate suggestions."""

    def suggestions(self, artefact_id: str | None = None) -> list[tuple[str, str, float]]:
        """Possible-duplicate pairs (optionally only those involving one artefact), best first."""

    def save_review(
        self, artefacts: list[Artefact], events: list[ReviewEvent], expected_versions: Mapping[str, int] | None = None
    ) -> None:
        """Write reviewed artefacts and their audit events in one transaction.

        With `expected_versions`, raises `ArtefactConflict` (writing nothing) if any artefact
        changed since it was read."""

    def review_events(self, artefact_id: str | None = None, limit: int = 200) -> list[ReviewEvent]:
        """Audit events, newest first."""

    def review_event_keys(self, where: Mapping[str, str]) -> list[tuple[int, str, str]]:
        """(id, artefact_id, action) of every audit event matching `where`, newest first: equality on `actor`,
        `action`, `artefact_id`; `at_from` ≤ at < `at_to` (ISO 8601 strings). Cheap (no snapshots),
        so a caller can filter by visibility and count before reading one page with `review_events_by_id`."""

    def review_events_by_id(self, ids: Sequence[int]) -> list[ReviewEvent]:
        """The audit events with these ids, newest first."""

    def add_user(self, name: str, role: str, groups: list[str], token_hash: str) -> None:
        """Create a user; raises `DuplicateUser` if the name or the token hash is taken."""

    def user_by_token_hash(self, token_hash: str) -> dict[str, Any] | None:
        """The user row a token hash belongs to."""

    def users(self) -> list[dict[str, Any]]:
        """Every user row (no token hashes)."""

    def revoke_user(self, name: str) -> bool:
        """Revoke a user's token; False if no such user."""

    def acquire_lease(self, lease: Lease, now: float) -> Lease:
        """Take `lease.name` for `lease.holder` if it is free, expired at `now`, or already this holder's
        (atomically); returns the lease as held afterwards: `lease` on success, else the holder's."""

    def take_over_lease(self, lease: Lease, stale_holder: str) -> bool:
        """Take `lease.name` from `stale_holder` (a dead run) if that run still holds it; True if taken."""

    def renew_lease(self, name: str, holder: str, expires_at: float) -> bool:
        """Push this holder's expiry to `expires_at`; False if the lease is no longer this holder's."""

    def release_lease(self, name: str, holder: str) -> bool:
        """Give the lease up (only its holder can); True if it was held."""

    def current_lease(self, name: str) -> Lease | None:
        """The lease as stored (expired or not), or None when nobody holds it."""

    def reopen(self) -> Store:
        """Another connection to the same data, for another thread (the memory store returns itself)."""

    def close(self) -> None:
        """Release the connection."""


class ArtefactRetry:
    """`update_artefacts` on top of a backend's `save_artefacts` and `versioned_artefacts`."""

    def update_artefacts(
        self, artefacts: Iterable[Artefact], expected_versions: Mapping[str, int], rebase: Rebase, attempts: int = 5
    ) -> list[str]:
        """Optimistic write retried on conflict (see `Store.update_artefacts`); returns the ids given up."""
        pending, versions, given_up = list(artefacts), dict(expected_versions), []
        for attempt in range(attempts):
            conflicts = set(self.save_artefacts(pending, versions))  # type: ignore[attr-defined]
            if not conflicts:
                break
            current = self.versioned_artefacts(conflicts)  # type: ignore[attr-defined]
            retry = []
            for attempted in (a for a in pending if a.id in conflicts):
                stored, version = current.get(attempted.id, (None, 0))
                redone = rebase(stored, attempted) if attempt + 1 < attempts else None
                if redone is None:
                    given_up.append(attempted.id)
                else:
                    retry.append(redone)
                    versions[attempted.id] = version
            pending = retry
        return given_up


class Reentrant:
    """A re-entrant transaction: only the outermost block commits or rolls back, so a method that
    writes in a transaction can be composed into a larger one (a review action and its log entry)."""

    _depth = 0

    def _outer_transaction(self) -> AbstractContextManager[Any]:
        """Begin, commit on success, roll back on error (the backend's own transaction)."""
        raise NotImplementedError

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self._depth = 1
        try:
            with self._outer_transaction():
                yield
        finally:
            self._depth = 0
