"""Batch the embeddings of a whole source before per-thread extraction asks for them one thread at a time.

An extractor that takes an `embed` function (the thread extractor's answer ranker) embeds a few texts
per thread: hundreds of small model calls per source. Here the extractor first runs over the source
with a `Recorder` (placeholder vectors, so no model call) to learn every text it will ask for; the
embedding service embeds those in one deduplicated, length-bucketed, cached call; the real run then
finds each of its per-thread requests in the cache. Extraction stays pure and unchanged: the dry run
costs the extractor's own Python once more, which is small next to the model calls it batches.
"""

from __future__ import annotations

import inspect
import logging
from typing import Any

from extractors.base import Extractor, ExtractionResult
from index.embed_service import EmbeddingService, Recorder
from pipeline.models import Passage, Source

log = logging.getLogger(__name__)


class PrefetchingExtractor:
    """An extractor whose embedding requests for a source are embedded in one batch first."""

    def __init__(self, inner: Any, service: EmbeddingService) -> None:
        self.inner = inner
        self.service = service
        self.name, self.version, self.source_kinds = inner.name, inner.version, inner.source_kinds

    def run(self, source: Source, passages: list[Passage]) -> ExtractionResult:
        """Dry run to collect the texts, one batched embedding call, then the real run."""
        recorder = Recorder(self.service.dimension)
        try:
            type(self.inner)(embed=recorder).run(source, passages)
        except Exception:  # the real run below reports the failure with its context
            log.debug("dry run of %s failed on %s", self.name, source.uri, exc_info=True)
        if recorder.texts:
            self.service(recorder.texts)
        return self.inner.run(source, passages)


def takes_embed(cls: type) -> bool:
    """Whether an extractor class accepts an injected `embed` function."""
    return "embed" in inspect.signature(cls.__init__).parameters


def embed_config(classes: dict[str, type], service: EmbeddingService) -> dict[str, dict[str, Any]]:
    """`build_extractors` config giving the service to every extractor that takes `embed`."""
    return {name: {"embed": service} for name, cls in classes.items() if takes_embed(cls)}


def prefetching(extractor: Extractor, service: EmbeddingService) -> Extractor:
    """Wrap an extractor built with `embed_config` (it takes `embed`); others stay as they are."""
    return PrefetchingExtractor(extractor, service) if takes_embed(type(extractor)) else extractor  # type: ignore[return-value]
