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
from pipeline.models import Source
from pipeline.settings import Settings
from pipeline.store import open_store

if TYPE_CHECKING:
    import numpy as np

# texts -> (n, dim) float32 rows in input order (index.embeddings.Embedder.encode's shape)
Encode = Callable[[list[str]], "np.ndarray"]


def releases_root(home: Path | None = None) -> Path:
    """Where index releases live: $PRACTICE_HOME/releases."""
    return (home or practice_home()) / "releases"


def run_extract(
    names: list[str] | None = None,
    llm_model: str | None = None,
    home: Path | None = None,
    progress: Callable[[Source], None] | None = None,
) -> ExtractReport:
    """Build the named extractors (default: the offline ones) and run them over the store."""
    from extractors.registry import build_extractors

    store = open_store(home)
    try:
        extractors = build_extractors(names, llm={"model": llm_model, "cache": store.cache("llm")})
        return extract_all(store, extractors, progress)
    finally:
        store.close()


def run_dedupe(settings: Settings, home: Path | None = None, encode: Encode | None = None) -> object:
    """Fold new candidates into artefacts with the configured model and thresholds.

    `encode` embeds texts elsewhere (a Dask cluster: flows/fanout.py); default: in this process.
    """
    from index.embeddings import shared_embedder
    from pipeline.artefacts import Thresholds, dedupe, duplicate_pair_scorer

    d = settings.dedupe
    thresholds = Thresholds(d.faq_merge, d.faq_suggest, d.pattern_merge, d.pattern_suggest)
    embedder = shared_embedder(settings.embeddings.model)
    scorer = duplicate_pair_scorer
    if not d.answer_agreement:
        scorer = lambda kind, items, vectors, *_: duplicate_pair_scorer(kind, items, vectors)  # noqa: E731
    store = open_store(home)
    try:
        return dedupe(store, encode or embedder.encode, embedder.model_name, thresholds, scorer)
    finally:
        store.close()


def run_publish(
    settings: Settings, home: Path | None = None, include_candidates: bool | None = None, force: bool = False,
    encode: Encode | None = None,
) -> object:  # fmt: skip
    """Publish a release of the publishable artefacts (no new release when nothing changed, unless `force`).

    `encode` as for `run_dedupe`."""
    from index.embeddings import shared_embedder
    from pipeline.publish import publish

    p = settings.publish
    embedder = shared_embedder(settings.embeddings.model)
    store = open_store(home)
    try:
        return publish(
            store, encode or embedder.encode, embedder.model_name, releases_root(home),
            p.include_candidates if include_candidates is None else include_candidates, p.index, p.keep, force,
        )  # fmt: skip
    finally:
        store.close()
