"""The extract stage: run extractors over sources whose content they have not seen yet.

Incremental per (source, extractor): the state key is the source's content hash plus the
extractor version, so an unchanged source is not read again and creates no candidate. Every
quote is checked verbatim against its passage here, centrally, whatever the extractor.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace

from extractors.base import Extractor, unverified_quotes
from pipeline.faults import crash_point
from pipeline.models import Candidate, Source, SourceStatus
from pipeline.store import Store

log = logging.getLogger(__name__)


@dataclass
class ExtractOutcome:
    """One extractor over one source."""

    uri: str
    extractor: str
    status: str  # extracted | unchanged | failed
    candidates: int = 0  # the source's candidates from this extractor after the run
    created: int = 0
    deleted: int = 0
    dropped: int = 0  # discarded because a quote was not verbatim (by the extractor or here)
    failures: list[str] = field(default_factory=list)


@dataclass
class ExtractReport:
    """Every (source, extractor) outcome of a run."""

    outcomes: list[ExtractOutcome] = field(default_factory=list)

    @property
    def created(self) -> int:
        return sum(o.created for o in self.outcomes)

    @property
    def deleted(self) -> int:
        return sum(o.deleted for o in self.outcomes)

    @property
    def dropped(self) -> int:
        return sum(o.dropped for o in self.outcomes)

    @classmethod
    def from_json(cls, data: dict[str, object]) -> "ExtractReport":
        """Rebuild a report from its JSON shape (what the Prefect flow returns)."""
        return cls([ExtractOutcome(**o) for o in data["runs"]])  # type: ignore[union-attr]

    def to_json(self) -> dict[str, object]:
        """The documented `--json` shape of `practice extract`."""
        statuses = [o.status for o in self.outcomes]
        return {
            "counts": {s: statuses.count(s) for s in ("extracted", "unchanged", "failed")},
            "candidates_created": self.created,
            "candidates_deleted": self.deleted,
            "dropped_unverified": self.dropped,
            "runs": [asdict(o) for o in self.outcomes],
        }


def state_key(source: Source, extractor: Extractor) -> str:
    """What an extractor has 'seen' of a source: its content and the extractor's version."""
    return f"{source.content_hash}:{extractor.version}"


@dataclass
class Extracted:
    """One extractor's verified candidates for one source, computed but not yet written."""

    source_id: str
    key: str
    candidates: list[Candidate]
    outcome: ExtractOutcome  # created / deleted are filled in by `write_extracted`


def compute_source(store: Store, source: Source, extractors: Sequence[Extractor]) -> list[ExtractOutcome | Extracted]:
    """Run each applicable extractor over one source, unless it already saw this content; reads only.

    Split from the write so that workers on a Dask cluster can compute while one process writes
    (see flows/fanout.py); `extract_source` does both in one go.
    """
    results: list[ExtractOutcome | Extracted] = []
    passages = None
    for ex in extractors:
        if source.kind not in ex.source_kinds:
            continue
        key = state_key(source, ex)
        if store.extracted_hash(source.id, ex.name) == key:
            kept = len(store.candidates(source_id=source.id, extractor=ex.name))
            results.append(ExtractOutcome(source.uri, ex.name, "unchanged", candidates=kept))
            continue
        if passages is None:
            passages = store.passages(source.id)
        try:
            result = ex.run(source, passages)
        except Exception as exc:  # one extractor's bug must not stop the others or the run
            log.exception("extractor %s failed on %s", ex.name, source.uri)
            results.append(ExtractOutcome(source.uri, ex.name, "failed", failures=[f"{type(exc).__name__}: {exc}"]))
            continue
        by_id = {p.id: p for p in passages}
        verified = [d for d in result.candidates if d.evidence and not unverified_quotes(d, by_id)]
        dropped = result.dropped + len(result.candidates) - len(verified)
        candidates = list({c.id: c for c in (Candidate.from_draft(d, source.id) for d in verified)}.values())
        outcome = ExtractOutcome(
            source.uri, ex.name, "extracted", len(candidates), dropped=dropped, failures=[f.reason for f in result.failures]
        )
        results.append(Extracted(source.id, key, candidates, outcome))
    return results


def write_extracted(store: Store, results: list[ExtractOutcome | Extracted]) -> list[ExtractOutcome]:
    """Replace each computed source/extractor's candidates in the store; the outcomes in order."""
    outcomes = []
    for r in results:
        if isinstance(r, Extracted):
            created, deleted = store.replace_candidates(r.source_id, r.outcome.extractor, r.key, r.candidates)
            crash_point("extract:source-replaced")  # one source's candidates replaced, the rest not yet
            r = replace(r.outcome, created=created, deleted=deleted)
        outcomes.append(r)
    return outcomes


def extract_source(store: Store, source: Source, extractors: Sequence[Extractor]) -> list[ExtractOutcome]:
    """Run each applicable extractor over one source, unless it already saw this content, and write."""
    return write_extracted(store, compute_source(store, source, extractors))


def live_sources(store: Store) -> list[Source]:
    """The sources extraction reads, in store order (failed sources keep their last candidates)."""
    return [s for s in store.list_sources() if s.status == SourceStatus.ok]


def extract_all(
    store: Store,
    extractors: Sequence[Extractor],
    progress: Callable[[Source], None] | None = None,
) -> ExtractReport:
    """Run the extractors over every live source (failed sources keep their last candidates)."""
    report = ExtractReport()
    for source in live_sources(store):
        report.outcomes.extend(extract_source(store, source, extractors))
        if progress:
            progress(source)
    return report

