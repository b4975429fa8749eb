"""The ingest flow: Prefect wiring over `pipeline.ingest`, holding no logic of its own.

With no PREFECT_API_URL it runs on Prefect's local ephemeral server; with one set, the same
runs are recorded on that server and visible in its UI.
"""

from __future__ import annotations

from pathlib import Path

from flows import prefect_env  # noqa: F401  (Prefect's home and telemetry before prefect loads)
from prefect import flow, task
from prefect.cache_policies import NONE

from pipeline.ingest import Candidate, IngestOptions, IngestReport, Outcome, discover, ingest_all, prune
from pipeline.sources.base import Limits
from pipeline.store import open_store


# Candidates hold open bundles, not cacheable values: no input hashing (cache_policy NONE).
@task(name="discover-sources", cache_policy=NONE)
def discover_sources(paths: list[str], limits: Limits) -> list[Candidate]:
    """Find every source under the paths."""
    return list(discover(paths, limits))


@task(name="ingest-batch", cache_policy=NONE)
def ingest_batch(candidates: list[Candidate], options: IngestOptions, home: str | None) -> list[Outcome]:
    """Ingest a batch of sources (a batch, not one source, keeps Prefect's per-task overhead small)."""
    store = open_store(Path(home) if home else None)
    try:
        return ingest_all(store, candidates, options)
    finally:
        store.close()


@task(name="prune-removed", cache_policy=NONE)
def prune_removed(paths: list[str], seen: set[str], home: str | None) -> list[Outcome]:
    """Mark sources that vanished from the given folders as removed."""
    store = open_store(Path(home) if home else None)
    try:
        return prune(store, paths, seen)
    finally:
        store.close()


@flow(name="ingest", log_prints=True)
def ingest_flow(
    paths: list[str],
    community: str | None = None,
    visibility: str | None = None,
    kind: str | None = None,
    prune_missing: bool = False,
    max_source_bytes: int | None = None,
    include_bots: bool = False,
    home: str | None = None,
    batch_size: int = 25,
) -> dict[str, object]:
    """Ingest sources into the store under `home` (default $PRACTICE_HOME); returns the run report."""
    options = IngestOptions.build(community, visibility, kind, max_source_bytes, include_bots)
    candidates = discover_sources(paths, options.limits)
    report = IngestReport()
    for i in range(0, len(candidates), batch_size):
        report.outcomes.extend(ingest_batch(candidates[i : i + batch_size], options, home))
    if prune_missing:
        report.outcomes.extend(prune_removed(paths, {o.uri for o in report.outcomes}, home))
    print(f"ingest: {report.counts}")
    return report.to_json()

