"""Each stage as one call over the store under PRACTICE_HOME: what the CLI, the flows and the API run.

These are the edges: they open the store, load the embedding model once per process, and call
the pure stage functions.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.config import practice_home
from pipeline.extract import ExtractReport, extract_all
from pipeline.heap import bound_heap, release_freed
from pipeline.models import Source
from pipeline.settings import Settings, load_settings
from pipeline.store import open_store

if TYPE_CHECKING:
    import numpy as np

    from index.embed_service import EmbeddingService

# texts -> (n, dim) float32 rows in input order (index.embeddings.Embedder.encode's shape)
Encode = Callable[[list[str]], "np.ndarray"]


def releases_root(home: Path | None = None) -> Path:
    """Where index releases live: $PRACTICE_HOME/releases."""
    return (home or practice_home()) / "releases"


def shared_service(settings: Settings | None, store: object = None, encode: Encode | None = None) -> "EmbeddingService":
    """The process's one embedding service for the configured model and backend, over `store`.

    `encode` computes the vectors elsewhere (a Dask cluster: flows/fanout.py) under the same
    model and backend names, so the cache keys stay those of the configured encoder.
    """
    from index.embed_service import EmbeddingService, RemoteEncoder
    from index.embeddings import shared_embedder

    e = (settings or Settings()).embeddings
    encoder = shared_embedder(e.model, e.backend)
    if encode is not None:
        encoder = RemoteEncoder(encoder, encode)
    return EmbeddingService(encoder, store)  # type: ignore[arg-type]


def run_extract(
    names: list[str] | None = None,
    llm_model: str | None = None,
    home: Path | None = None,
    progress: Callable[[Source], None] | None = None,
    settings: Settings | None = None,
) -> ExtractReport:
    """Build the named extractors (default: the offline ones) and run them over the store.

    What a source's embedding freed goes back to the system before the next source (pipeline.heap)."""
    from extractors.registry import build_extractors, embed_config, extractor_classes

    def done(source: Source) -> None:
        release_freed()
        if progress:
            progress(source)

    bound_heap()
    store = open_store(home)
    try:
        service = shared_service(settings or load_settings(), store)
        config = {**embed_config(extractor_classes(), service), "llm": {"model": llm_model, "cache": store.cache("llm")}}
        return extract_all(store, build_extractors(names, **config), done)
    finally:
        store.close()


def run_dedupe(settings: Settings, home: Path | None = None, encode: Encode | None = None) -> object:
    """Fold new candidates into artefacts with the configured model and thresholds.

    `encode` embeds texts elsewhere (a Dask cluster: flows/fanout.py); default: in this process.
    """
    from pipeline.artefacts import Thresholds, dedupe, duplicate_pair_scorer, questions_only_scorer

    d = settings.dedupe
    thresholds = Thresholds(d.faq_merge, d.faq_suggest, d.pattern_merge, d.pattern_suggest)
    scorer = duplicate_pair_scorer if d.answer_agreement else questions_only_scorer
    bound_heap()
    store = open_store(home)
    try:
        service = shared_service(settings, store, encode)
        return dedupe(store, service, service.model_name, thresholds, scorer)
    finally:
        store.close()
        release_freed()


def run_publish(
    settings: Settings, home: Path | None = None, include_candidates: bool | None = None, force: bool = False,
    encode: Encode | None = None, actor: str | None = "pipeline",
) -> object:  # fmt: skip
    """Publish a release of the publishable artefacts (no new release when nothing changed, unless `force`).

    `encode` as for `run_dedupe`; a new release goes to the audit log under `actor` (None: not logged)."""
    from pipeline.publish import publish

    p = settings.publish
    bound_heap()
    store = open_store(home)
    try:
        service = shared_service(settings, store, encode)
        return publish(
            store, service, service.model_name, releases_root(home),
            p.include_candidates if include_candidates is None else include_candidates, p.index, p.keep, force,
            actor=actor,
        )  # fmt: skip
    finally:
        store.close()
        release_freed()
