"""Per-process state of the server: where the data lives, settings, the searcher, sessions, releases."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from fastapi import Request

from pipeline.config import practice_home
from pipeline.settings import Settings, load_settings
from pipeline.shapes import source_run_json
from pipeline.stages import releases_root
from pipeline.store import open_store
from pipeline.users import User, can_see
from web.auth import Need, Sessions, Web, api_request, html_request


class QueryBatcher:
    """Query texts that arrive while the model is busy go into its next call together.

    With concurrent readers, one model call per query runs them side by side (threads fighting
    over the cores) or queued one by one; one call for every waiting query costs little more than
    a single one (short texts: the per-call overhead dominates), so throughput grows with the queue.
    """

    def __init__(self, embed: Callable[[list[str]], np.ndarray]) -> None:
        self._embed = embed
        self._running = threading.Lock()  # one model call at a time
        self._queue_lock = threading.Lock()
        self._queue: list[_Ask] = []

    def __call__(self, texts: list[str]) -> np.ndarray:
        """Vectors for `texts` (in order), computed in one call with whatever else is waiting."""
        if not texts:
            return self._embed([])
        ask = _Ask(list(texts))
        with self._queue_lock:
            self._queue.append(ask)
        with self._running:
            if not ask.done:  # nobody took it into their call while we waited: take the queue
                with self._queue_lock:
                    batch, self._queue = self._queue, []
                _embed_batch(self._embed, batch)
        if ask.error is not None:
            raise ask.error
        return ask.vectors  # type: ignore[return-value]


class _Ask:
    def __init__(self, texts: list[str]) -> None:
        self.texts = texts
        self.vectors: np.ndarray | None = None
        self.error: BaseException | None = None
        self.done = False


def _embed_batch(embed: Callable[[list[str]], np.ndarray], batch: list[_Ask]) -> None:
    try:
        vectors = embed([t for ask in batch for t in ask.texts])
    except Exception as exc:  # every asker in the batch gets the error, not only the one who ran it
        for ask in batch:
            ask.error, ask.done = exc, True
        return
    start = 0
    for ask in batch:
        ask.vectors, ask.done = vectors[start : start + len(ask.texts)], True
        start += len(ask.texts)


class PracticeWeb:
    """Per-process state of the server: where the data lives, the searcher, the sessions."""

    def __init__(
        self,
        home: Path | None,
        embed: Callable[[list[str]], np.ndarray] | None,
        model_id: str | None,
        settings: Settings | None,
        config: Path | None,
    ) -> None:
        self.home = Path(home) if home is not None else practice_home()
        self._embed = embed
        self._model_id = model_id
        self._settings = settings
        self._config = config
        self.sessions = Sessions()
        self.templates: Any = None  # set by create_app
        self._searcher: Any = None
        self._query_embed: QueryBatcher | None = None  # readers' queries, batched while the model is busy
        self._lock = threading.Lock()
        self._release_rows: dict[str, list[tuple[str, str, str]]] = {}  # release id -> (visibility, kind, status)
        self._readers = threading.local()  # per worker thread: the store kept for read-only requests

    # -- resources ------------------------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        """The practice.toml settings (read once, on first use)."""
        if self._settings is None:
            self._settings = load_settings(self._config)
        return self._settings

    @property
    def config_source(self) -> str:
        """Which practice.toml the settings come from (`--config`, $PRACTICE_CONFIG, ./practice.toml), or 'built-in defaults'."""
        from pipeline.settings import config_path

        found = config_path(self._config)
        return str(found.resolve()) if found is not None else "built-in defaults"

    @property
    def releases(self) -> Path:
        """The directory of index releases."""
        return releases_root(self.home)

    def embedder(self) -> tuple[Callable[[list[str]], np.ndarray], str]:
        """The embedding function and its model id (injected in tests)."""
        if self._embed is not None:
            return self._embed, self._model_id or "injected"
        from pipeline.stages import shared_service

        e = shared_service(self.settings)  # queries: deduplicated, not cached in the store (a reader)
        return e, e.model_name

    def warm(self) -> float:
        """Open the current release and embed a probe query, so the first search is fast; seconds taken."""
        started = time.perf_counter()
        searcher = self.searcher()
        if searcher is not None:
            # The path a reader's query takes, visibility filter included: its list of values is
            # computed over every payload on first use (0.1 s at 100k artefacts), not per request.
            searcher.search("warm up", k=1, visibility=searcher.visibilities)
        else:
            self.embedder()[0](["warm up"])
        return time.perf_counter() - started

    def searcher(self) -> Any:
        """The Searcher over the current release (reopened when CURRENT moves), or None."""
        from index.release import current_release_path
        from index.search import Searcher

        path = current_release_path(self.releases)
        if path is None:
            return None
        with self._lock:
            if self._searcher is None or self._searcher.path != path:
                if self._query_embed is None:
                    self._query_embed = QueryBatcher(self._embed if self._embed is not None else self.embedder()[0])
                self._searcher = Searcher.open(self.releases, embed=self._query_embed, **self.settings.search.searcher_options())
            return self._searcher

    def api(self, request: Request, need: Need = None, reader: bool = False) -> AbstractContextManager[tuple[Any, User | None]]:
        """The store and the bearer's user for one API request (see web.auth); `reader`: a
        read-only request, served from `reader_store`."""
        return api_request(self, request, need, reader)

    @contextmanager
    def reader_store(self) -> Iterator[Any]:
        """The store for a read-only request: one per worker thread, kept open between requests.

        Opening one per request (connection, pragmas, schema check) was ~4 % of a search's server
        CPU under 20 clients. Keeping it is safe because neither store holds a snapshot between
        calls (SQLite reads outside a transaction, PostgreSQL in autocommit): the next request sees
        every write committed meanwhile, a narrowed visibility or a revoked token included. A
        request that fails drops the store, so a broken connection is not kept.
        """
        store = getattr(self._readers, "store", None)
        if store is None:
            store = self._readers.store = open_store(self.home)
        try:
            yield store
        except BaseException:
            self._readers.store = None
            store.close()
            raise

    def web(self, request: Request, need: Need = None, csrf: str | None = None, check_csrf: bool = False) -> AbstractContextManager[Web]:
        """The session, user and store for one HTML request (see web.auth)."""
        return html_request(self, request, need, csrf, check_csrf)

    # -- releases -------------------------------------------------------------------------------

    def release_rows(self, manifest: Any) -> list[tuple[str, str, str]]:
        """(visibility, kind, status) of every artefact of a release (cached: releases are immutable)."""
        from index.release import read_payloads

        rows = self._release_rows.get(manifest.release_id)
        if rows is None:
            payloads = read_payloads(manifest.path)
            rows = [(p.get("visibility") or "public", str(p.get("kind")), str(p.get("status"))) for p in payloads]
            self._release_rows[manifest.release_id] = rows
        return rows

    def release_counts(self, manifest: Any, user: User | None) -> dict[str, Any]:
        """A release's artefact counts over what the viewer may see (a manifest's totals would reveal
        that hidden artefacts exist)."""
        seen = [(kind, status) for vis, kind, status in self.release_rows(manifest) if can_see(user, vis)]
        return {
            "artefacts": len(seen),
            "counts_by_kind": dict(sorted(Counter(k for k, _ in seen).items())),
            "counts_by_status": dict(sorted(Counter(s for _, s in seen).items())),
        }

    def runs(self, store: Any, user: User | None) -> dict[str, Any]:
        """Index releases (newest first) and source ingestions the viewer may see."""
        from index.release import current_release_path, list_releases

        current = current_release_path(self.releases)
        releases = [
            {
                "release_id": m.release_id,
                "created_at": m.created_at,
                **self.release_counts(m, user),
                "model_id": m.model_id,
                "index_type": m.index_type,
                "include_candidates": m.include_candidates,
                "current": current is not None and m.release_id == current.name,
            }
            for m in reversed(list_releases(self.releases))
        ]
        ingestions = [
            source_run_json(s)
            for s in sorted(store.list_sources(), key=lambda s: s.ingested_at, reverse=True)
            if can_see(user, s.visibility)
        ]
        return {"releases": releases, "ingestions": ingestions[:200]}

    def _publish_options(self, include_candidates: bool | None) -> Any:
        p = self.settings.publish  # the same [publish] settings `practice publish` reads
        return p if include_candidates is None else p.model_copy(update={"include_candidates": include_candidates})

    def preview(self, store: Any, user: User | None) -> Any:
        """What a publish with the configured options would change, as `user` may see it (pipeline.publish_preview)."""
        from pipeline.publish_preview import preview_publish

        return preview_publish(store, self.releases, self._publish_options(None).include_candidates).seen_by(user)

    def publish(self, include_candidates: bool | None, actor: str, token: str | None = None) -> dict[str, Any]:
        """Publish a release with the configured options (`include_candidates` overrides), audited
        under `actor`; with `token`, only while the preview it names still holds."""
        from pipeline.publish_preview import confirm_publish

        embed, model_id = self.embedder()
        store = open_store(self.home)
        try:
            options = self._publish_options(include_candidates)
            report = confirm_publish(store, embed, model_id, self.releases, options, actor, token)
        finally:
            store.close()
        return report.to_json()

    def rollback(self, user: User, release_id: str | None = None) -> dict[str, Any]:
        """Make the previous release (or `release_id`) current again, audited; search follows."""
        from pipeline.publish_preview import rollback_release

        store = open_store(self.home)
        try:
            manifest = rollback_release(store, self.releases, user.name, release_id)
        finally:
            store.close()
        counts = self.release_counts(manifest, user)["artefacts"]
        return {"release_id": manifest.release_id, "artefacts": counts, "created_at": manifest.created_at}


def practice(request: Request) -> PracticeWeb:
    """The server state of the app handling a request."""
    return request.app.state.practice  # type: ignore[no-any-return]


__all__ = ["PracticeWeb", "QueryBatcher", "practice"]
