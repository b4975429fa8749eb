"""The extractor contract: configuration in `__init__`, one source's passages in, candidates and failures out.

Extractors are pure: no database, no files. Anything with I/O (the embedding model, an LLM, a
cache) is injected or loaded lazily on first use, as in Haystack components. Failures are a
second output, not an exception.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from pipeline.models import CandidateDraft, Passage, Source, SourceKind

EmbedFn = Callable[[list[str]], np.ndarray]


@dataclass
class ExtractionFailure:
    """Something an extractor could not handle, with the reason (e.g. a malformed LLM answer)."""

    source_id: str
    reason: str
    passage_ids: list[str] = field(default_factory=list)


@dataclass
class ExtractionResult:
    """What one extractor produced for one source."""

    candidates: list[CandidateDraft] = field(default_factory=list)
    failures: list[ExtractionFailure] = field(default_factory=list)
    dropped: int = 0  # candidates the extractor itself discarded (e.g. a quote not found verbatim)
    # Why threads were or were not proposed (e.g. the FAQ-worthiness score and its features):
    # debug output for reviewers and tests, not stored.
    decisions: list[dict[str, object]] = field(default_factory=list)


@runtime_checkable
class Extractor(Protocol):
    """Turns the passages of one source into FAQ and pattern candidates."""

    name: str
    version: str
    source_kinds: frozenset[SourceKind]  # which sources it reads

    def run(self, source: Source, passages: list[Passage]) -> ExtractionResult:
        """Extract candidates; every evidence quote must occur verbatim in its passage."""


def quote_is_verbatim(quote: str, passage_text: str) -> bool:
    """True if the quote is a non-empty exact substring of the passage text (DESIGN.md invariant 4)."""
    return bool(quote.strip()) and quote in passage_text


def unverified_quotes(candidate: CandidateDraft, passages: dict[str, Passage]) -> list[str]:
    """The quotes of a candidate that do not occur verbatim in their passage (empty: all good)."""
    bad = []
    for ev in candidate.evidence:
        passage = passages.get(ev.passage_id)
        if passage is None or not quote_is_verbatim(ev.quote, passage.text):
            bad.append(ev.quote)
    return bad
