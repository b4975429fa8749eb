"""Extraction and embedding fanned out as Prefect tasks on a Dask cluster (`[run] task_runner = "dask"`).

Wiring only: the tasks call `pipeline.extract.compute_source` and `Embedder.encode`; what they
compute is what the sequential run computes.

Who writes: the workers compute and return data; the flow process alone writes the store.
Workers only read (a source's passages, the extraction state), which SQLite in WAL mode and
PostgreSQL both serve to any number of processes. Several processes writing one SQLite file
would queue on its single write lock (busy timeouts, retries) for no gain, since the writes are
small next to the extraction; the writes also stay in the same order as in a sequential run,
which keeps the reports and the crash points (pipeline/faults.py) the same. The run's writer
lease (pipeline/lease.py) is held by the flow process, the only writer. One exception: with an
LLM extractor, workers add to the store's LLM answer cache (small idempotent rows; SQLite's busy
timeout queues them), so that a re-run does not pay for the same prompt twice.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from flows import prefect_env  # noqa: F401  (Prefect's home and telemetry before prefect loads)
from prefect import task
from prefect.cache_policies import NONE

from pipeline.extract import Extracted, ExtractOutcome, ExtractReport, compute_source, live_sources, write_extracted
from pipeline.models import Source
from pipeline.settings import RunSettings, Settings
from pipeline.store import open_store


def dask_task_runner(run: RunSettings) -> Any:
    """A prefect-dask DaskTaskRunner on `run.dask_address`, or on a LocalCluster of `run.dask_workers` processes."""
    from prefect_dask import DaskTaskRunner

    if run.dask_address:
        return DaskTaskRunner(address=run.dask_address)
    # One thread per worker process: the processes are what use the cores. The workers record
    # their task runs on this run's Prefect API: without its URL each worker process would start
    # an ephemeral Prefect server of its own (seen: one per worker). A remote cluster's workers
    # need PREFECT_API_URL set where they start (README, "Several machines").
    return DaskTaskRunner(
        cluster_class="distributed.LocalCluster",
        cluster_kwargs={
            "n_workers": run.dask_workers, "threads_per_worker": 1, "processes": True,
            "dashboard_address": None, "env": {"PREFECT_API_URL": _api_url()},
        },
    )  # fmt: skip


def _api_url() -> str:
    """The Prefect API this process talks to: $PREFECT_API_URL or its ephemeral server."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return str(client.api_url)


@task(name="extract-batch", cache_policy=NONE)
def extract_batch(sources: list[Source], settings: Settings, home: str | None) -> list[ExtractOutcome | Extracted]:
    """Compute a batch of sources' candidates on a worker, reading the store at `home` / $PRACTICE_DATABASE_URL.

    Embeds as the sequential run does (the configured backend, one batched call per source), but
    without the store's embedding cache: workers do not write (see the module docstring)."""
    from extractors.registry import build_extractors, embed_config, extractor_classes
    from pipeline.stages import shared_service

    e = settings.extract
    store = open_store(Path(home) if home else None)
    try:
        service = shared_service(settings, None)
        config = {**embed_config(extractor_classes(), service), "llm": {"model": e.llm_model, "cache": store.cache("llm")}}
        built = build_extractors(e.extractors, **config)
        return [r for source in sources for r in compute_source(store, source, built)]
    finally:
        store.close()


def extract_fanned_out(settings: Settings, home: str | None) -> dict[str, object]:
    """Extract every live source in batches of `[run] extract_batch` on the task runner; write here."""
    store = open_store(Path(home) if home else None)
    try:
        sources = live_sources(store)
        size = settings.run.extract_batch
        futures = [extract_batch.submit(sources[i : i + size], settings, home) for i in range(0, len(sources), size)]
        report = ExtractReport()
        for future in futures:  # in submission order: the same writes, in the same order, as sequentially
            report.outcomes.extend(write_extracted(store, future.result()))
        return report.to_json()
    finally:
        store.close()


@task(name="embed-batch", cache_policy=NONE)
def embed_batch(texts: list[str], model: str, backend: str) -> np.ndarray:
    """Embed a batch of texts on a worker (the model loads once per worker process)."""
    from index.embeddings import shared_embedder

    return shared_embedder(model, backend).encode(texts)


def fanned_out_encode(model: str, backend: str, batch: int) -> Callable[[list[str]], np.ndarray]:
    """An `encode` that embeds in batches of `batch` texts as tasks on the flow's task runner.

    The caller (index.embeddings.embed_cached) sorts texts longest first; a batch that is a
    multiple of the model's own batch (64) keeps the model's batches what they are in one call.
    """

    def encode(texts: list[str]) -> np.ndarray:
        # no texts: one task still, which answers with the model's (0, dim) shape
        futures = [embed_batch.submit(texts[i : i + batch], model, backend) for i in range(0, max(len(texts), 1), batch)]
        return np.concatenate([f.result() for f in futures])

    return encode
