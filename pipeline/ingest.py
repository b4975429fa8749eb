"""Ingestion: find sources under paths, parse what is new or changed, store it, prune what vanished.

Incremental by content hash: an unchanged source (same bytes, same parser version, same
settings) is not parsed and nothing is written for it. Every failure stays with its source:
it is recorded with the reason and the run goes on (DESIGN.md invariant 5).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pipeline.faults import crash_point
from pipeline.discovery import Candidate, discover, source_uri  # noqa: F401  (re-exported)
from pipeline.models import Passage, Source, SourceKind, SourceStatus, utcnow
from pipeline.parse_budget import budget_from_env, parse_within_budget
from pipeline.sources import detect
from pipeline.sources.base import (
    Bundle,
    FileBundle,
    Limits,
    ParseOptions,
    SourceError,
    ZipBundle,
    open_regular_file,
)
from pipeline.sources.limits import crash_reason
from pipeline.store import Store

log = logging.getLogger(__name__)

# Inside a folder, a file no parser recognises is skipped unless its extension says it was
# meant to be a source: a broken `.vtt` is a failure to report, a stray `.png` is not.
SOURCE_EXTENSIONS = frozenset(
    ".vtt .srt .txt .json .jsonl .ndjson .mbox .zip .md .markdown .erb .html .htm "
    ".docx .pptx .pdf .eml .msg .rtf .odt".split()
)


@dataclass(frozen=True)
class IngestOptions:
    """Settings of one ingestion run.

    `community` and `visibility` left as None keep what each source already has (a new source:
    no community, public), so re-reading a restricted source never silently makes it public.
    """

    community: str | None = None
    visibility: str | None = None
    kind: SourceKind | None = None  # force parsers of one kind
    limits: Limits = field(default_factory=Limits)
    parse: ParseOptions = field(default_factory=ParseOptions)

    @classmethod
    def build(
        cls,
        community: str | None = None,
        visibility: str | None = None,
        kind: str | None = None,
        max_source_bytes: int | None = None,
        include_bots: bool = False,
    ) -> "IngestOptions":
        """Options from plain values, as the CLI and the flow receive them."""
        return cls(
            community=community,
            visibility=visibility,
            kind=SourceKind(kind) if kind else None,
            limits=Limits(
                max_source_bytes=max_source_bytes or Limits().max_source_bytes, **budget_from_env()
            ),
            parse=ParseOptions(include_bots=include_bots),
        )


@dataclass
class Outcome:
    """What happened to one source in a run."""

    uri: str
    status: str  # new | changed | unchanged | failed | removed | skipped
    source_id: str | None = None
    kind: str | None = None
    format: str | None = None
    passages: int = 0
    error: str | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass
class IngestReport:
    """The outcome of every source in a run, with counts for the summary."""

    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        keys = ("new", "changed", "unchanged", "failed", "removed", "skipped")
        counts = dict.fromkeys(keys, 0)
        for o in self.outcomes:
            counts[o.status] += 1
        return counts

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    @property
    def passages_written(self) -> int:
        return sum(o.passages for o in self.outcomes if o.status in ("new", "changed"))

    @classmethod
    def from_json(cls, data: dict[str, object]) -> "IngestReport":
        """Rebuild a report from its JSON shape (what the Prefect flow returns)."""
        return cls([Outcome(**o) for o in data["sources"]])  # type: ignore[union-attr]

    def to_json(self) -> dict[str, object]:
        """The documented `--json` shape of `practice ingest`."""
        return {
            "counts": self.counts,
            "passages_written": self.passages_written,
            "sources": [asdict(o) for o in self.outcomes],
        }


# --- discovery (file-system edge: pipeline.discovery) ------------------------------------------


def fingerprint(bundle: Bundle, limits: Limits) -> tuple[str, int]:
    """The content hash and size of a bundle, refusing sources over the size cap."""
    h = hashlib.sha256()
    total = 0
    if isinstance(bundle, (FileBundle, ZipBundle)):
        total = bundle.path.stat().st_size
        _check_size(total, limits)
        with open_regular_file(bundle.path) as fh:  # never blocks on a file swapped for a pipe
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        return h.hexdigest(), total
    for member in bundle.members():
        data = bundle.read(member)
        total += len(data)
        _check_size(total, limits)
        h.update(member.encode() + b"\0" + hashlib.sha256(data).digest())
    return h.hexdigest(), total


def _check_size(size: int, limits: Limits) -> None:
    if size > limits.max_source_bytes:
        raise SourceError(
            f"too large: {size / 2**20:.1f} MiB, over the {limits.max_source_bytes / 2**20:.1f} MiB cap "
            "(raise --max-mb / PRACTICE_MAX_SOURCE_MB to ingest it)"
        )


# --- ingestion (pure over a Store) -----------------------------------------------------------


def ingest_candidate(store: Store, cand: Candidate, options: IngestOptions) -> Outcome:
    """Ingest one discovered source: skip it if unchanged, else parse and store it.

    Never raises for bad input: the failure is recorded on the source and returned.
    """
    if cand.bundle is None:
        return Outcome(cand.uri, "skipped" if cand.skip else "failed", error=cand.problem)
    existing = store.get_source(cand.uri)
    source_id = Source.id_for(cand.uri)
    try:
        content_hash, size = fingerprint(cand.bundle, options.limits)
    except FileNotFoundError:
        return Outcome(cand.uri, "failed", error="vanished: the file was deleted during the run")
    except (SourceError, OSError) as exc:
        if str(exc).startswith("vanished"):
            return Outcome(cand.uri, "failed", error=str(exc))
        return _record_failure(store, cand.uri, source_id, "", 0, existing, _reason(exc), settings=source_settings(options, existing))
    try:
        parser = detect(cand.bundle, options.kind)
    except (RecursionError, MemoryError) as exc:  # a sniffer peeking into hostile content
        reason = crash_reason("format-recognition", exc)
        return _record_failure(
            store, cand.uri, source_id, content_hash, size, existing, reason, settings=source_settings(options, existing)
        )
    except SourceError as exc:
        if not cand.explicit and existing is None and not _looks_like_source(cand.uri):
            # A stray file in a folder (a LICENSE, an image) is skipped, not an error.
            return Outcome(cand.uri, "skipped", error=str(exc))
        return _record_failure(
            store, cand.uri, source_id, content_hash, size, existing, str(exc), settings=source_settings(options, existing)
        )

    settings = source_settings(options, existing)
    if (
        existing is not None
        and existing.status != SourceStatus.removed
        and existing.content_hash == content_hash
        and existing.parser_version == f"{parser.name}/{parser.version}"
        and (existing.community, existing.visibility) == settings
    ):
        status = "failed" if existing.status == SourceStatus.failed else "unchanged"
        return Outcome(
            cand.uri, status, source_id, _kind(existing.kind), existing.format,
            existing.passage_count, existing.error, existing.warnings,
        )  # fmt: skip

    try:
        parsed = parse_within_budget(parser, cand.bundle, options.parse, options.limits)
        if not parsed.passages:
            raise SourceError("no text found: the source parsed but holds no passages")
    except SourceError as exc:
        return _record_failure(
            store, cand.uri, source_id, content_hash, size, existing, str(exc),
            parser_version=f"{parser.name}/{parser.version}", kind=parser.kind, fmt=parser.name, settings=settings,
        )  # fmt: skip
    except Exception as exc:  # a parser bug must not take the run down either
        log.exception("parser %s crashed on %s", parser.name, cand.uri)
        return _record_failure(
            store, cand.uri, source_id, content_hash, size, existing,
            crash_reason(parser.name, exc),
            parser_version=f"{parser.name}/{parser.version}", kind=parser.kind, fmt=parser.name, settings=settings,
        )  # fmt: skip

    passages = [Passage.from_draft(d, source_id, seq) for seq, d in enumerate(parsed.passages)]
    source = Source(
        id=source_id,
        kind=parsed.kind,
        format=parsed.format,
        uri=cand.uri,
        content_hash=content_hash,
        community=settings[0],
        visibility=settings[1],
        ingested_at=utcnow(),
        status=SourceStatus.ok,
        parser_version=f"{parser.name}/{parser.version}",
        passage_count=len(passages),
        size_bytes=size,
        warnings=parsed.warnings,
    )
    store.save_source(source, passages)
    crash_point("ingest:source-saved")  # the first source written, the others not yet
    status = "new" if existing is None or existing.status == SourceStatus.removed else "changed"
    return Outcome(
        cand.uri, status, source_id, parsed.kind.value, parsed.format, len(passages),
        None, parsed.warnings,
    )  # fmt: skip


def source_settings(options: IngestOptions, existing: Source | None) -> tuple[str | None, str]:
    """(community, visibility) a source gets: what the run says, else what it had, else none/public."""
    community = options.community if options.community is not None else (existing.community if existing else None)
    visibility = options.visibility if options.visibility is not None else (existing.visibility if existing else "public")
    return community, visibility


def ingest_all(
    store: Store,
    candidates: Iterable[Candidate],
    options: IngestOptions,
    progress: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Ingest each discovered source, then re-derive the artefacts of every source whose community
    or visibility this run changed (in the same run: search stops showing them at once)."""
    from pipeline.visibility import rederive_artefacts

    outcomes, moved = [], []
    for cand in candidates:
        before = store.get_source(cand.uri)
        outcome = ingest_candidate(store, cand, options)
        after = store.get_source(cand.uri) if before is not None else None
        if after is not None and (after.community, after.visibility) != (before.community, before.visibility):  # type: ignore[union-attr]
            moved.append(after.id)
        outcomes.append(outcome)
        if progress:
            progress(outcome)
    crash_point("ingest:sources-saved")
    rederive_artefacts(store, moved)
    return outcomes


def _record_failure(
    store: Store,
    uri: str,
    source_id: str,
    content_hash: str,
    size: int,
    existing: Source | None,
    reason: str,
    parser_version: str = "",
    kind: SourceKind | None = None,
    fmt: str | None = None,
    settings: tuple[str | None, str] | None = None,
) -> Outcome:
    """Store a failed source with its reason, keeping any passages a previous good run stored.

    `settings` (community, visibility) apply even so: a restriction must cover the kept passages."""
    community, visibility = settings or (existing.community if existing else None, existing.visibility if existing else "public")
    source = Source(
        id=source_id,
        kind=kind or (existing.kind if existing else None),
        format=fmt or (existing.format if existing else None),
        uri=uri,
        content_hash=content_hash,
        community=community,
        visibility=visibility,
        status=SourceStatus.failed,
        error=reason,
        parser_version=parser_version,
        passage_count=existing.passage_count if existing else 0,
        size_bytes=size,
    )
    store.save_source(source)  # passages untouched: a corrupt update loses nothing already stored
    return Outcome(uri, "failed", source_id, _kind(source.kind), source.format, 0, reason)


def prune(store: Store, roots: Iterable[Path | str], seen: set[str]) -> list[Outcome]:
    """Mark as removed every stored source under `roots` that this run did not see."""
    prefixes = [source_uri(Path(r)) for r in roots if Path(r).is_dir()]
    gone = [
        s
        for s in store.list_sources()
        if s.status != SourceStatus.removed
        and s.uri not in seen
        and any(s.uri.startswith(p.rstrip("/") + "/") for p in prefixes)
    ]
    store.mark_removed(s.id for s in gone)
    return [Outcome(s.uri, "removed", s.id, _kind(s.kind), s.format) for s in gone]


def ingest_paths(
    store: Store,
    paths: Iterable[Path | str],
    options: IngestOptions | None = None,
    *,
    prune_missing: bool = False,
    progress: Callable[[Outcome], None] | None = None,
) -> IngestReport:
    """Ingest every source under `paths` (files or folders), incrementally."""
    options = options or IngestOptions()
    paths = list(paths)
    report = IngestReport(ingest_all(store, discover(paths, options.limits), options, progress))
    if prune_missing:
        # A file that vanished during the run is gone: prune it now, not on the next run.
        seen = {o.uri for o in report.outcomes if not (o.error or "").startswith("vanished")}
        report.outcomes.extend(prune(store, paths, seen))
    return report


def _looks_like_source(uri: str) -> bool:
    path = Path(uri)
    return path.is_dir() or path.suffix.lower() in SOURCE_EXTENSIONS


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return f"cannot read: {exc.strerror or exc}"
    return str(exc)


def _kind(kind: SourceKind | None) -> str | None:
    return kind.value if kind else None
