"""The whole flow: ingest → extract → dedupe → publish, as one Prefect flow with the stages as subflows and tasks.

Wiring only: every stage is a function in `pipeline/`; this module decides nothing but order.
"""

from __future__ import annotations

from pathlib import Path

from flows import prefect_env  # noqa: F401  (Prefect's home and telemetry before prefect loads)
from prefect import flow, task
from prefect.cache_policies import NONE

from flows.extract import extract_candidates
from flows.ingest import ingest_flow
from index.release_heal import reconcile
from pipeline.faults import crash_point
from pipeline.ingest import IngestReport
from pipeline.settings import Settings, load_settings, run_entries
from pipeline.stages import Encode, releases_root, run_dedupe, run_publish


@task(name="dedupe", cache_policy=NONE)
def dedupe_task(settings: Settings, home: str | None, encode: Encode | None = None) -> dict[str, object]:
    """Fold new candidates into artefacts (embedding with `encode`, default in this process)."""
    return run_dedupe(settings, Path(home) if home else None, encode).to_json()  # type: ignore[attr-defined]


@task(name="publish", cache_policy=NONE)
def publish_task(
    settings: Settings, home: str | None, include_candidates: bool | None, encode: Encode | None = None
) -> dict[str, object]:
    """Publish a release if anything publishable changed."""
    h = Path(home) if home else None
    return run_publish(settings, h, include_candidates, encode=encode).to_json()  # type: ignore[attr-defined]


@flow(name="heavy-stages")
def heavy_stages(settings: Settings, home: str | None, include_candidates: bool | None) -> list[dict[str, object]]:
    """Extract, dedupe and publish with extraction and embedding as tasks on this flow's task runner (Dask).

    Dedupe and publish run here; only their embedding goes out (flows/fanout.py)."""
    from flows.fanout import extract_fanned_out, fanned_out_encode

    extract = extract_fanned_out(settings, home)
    encode = fanned_out_encode(settings.embeddings.model, settings.embeddings.backend, settings.run.embed_batch)
    return [extract, dedupe_task(settings, home, encode), publish_task(settings, home, include_candidates, encode)]


@task(name="check", cache_policy=NONE)
def check_task(settings: Settings, home: str | None) -> dict[str, object]:
    """Reconcile: report any drift between store and release (repairing is `practice check --repair`)."""
    from pipeline.check import check_home

    return check_home(settings, Path(home) if home else None).to_json()


@flow(name="practice-run", log_prints=True)
def run_flow(
    paths: list[str] | None = None,
    community: str | None = None,
    config: str | None = None,
    home: str | None = None,
    include_candidates: bool | None = None,
    visibility: str | None = None,
    lease_wait: float | None = None,
) -> dict[str, object]:
    """Run every stage over the given paths, or over the sources named in practice.toml.

    Each source keeps its configured or stored community and visibility unless `community` /
    `visibility` say otherwise (see `pipeline.settings.run_entries`). With `lease_wait` (scheduled
    runs) the flow takes the store's writer lease first, waiting up to that many seconds;
    `practice run` takes it at the command line instead."""
    if lease_wait is not None:
        from pipeline.lease import writer_lease
        from pipeline.store import open_store

        with writer_lease(lambda: open_store(Path(home) if home else None), lease_wait):
            return _stages(paths, community, config, home, include_candidates, visibility)
    return _stages(paths, community, config, home, include_candidates, visibility)


def _stages(
    paths: list[str] | None, community: str | None, config: str | None, home: str | None,
    include_candidates: bool | None, visibility: str | None,
) -> dict[str, object]:  # fmt: skip
    """The stages in order (see `run_flow`)."""
    settings = load_settings(Path(config) if config else None)
    # Before anything else: serve the release a crashed run left unswitched, drop dead builds.
    heal = reconcile(releases_root(Path(home) if home else None)).to_json()
    ingest = IngestReport()
    for path, comm, vis, kind in run_entries(settings, paths, community, visibility):
        part = ingest_flow(paths=[path], community=comm, visibility=vis, kind=kind, prune_missing=True, home=home)
        ingest.outcomes.extend(IngestReport.from_json(part).outcomes)
    if settings.run.task_runner == "dask":
        from flows.fanout import dask_task_runner

        # The cluster lives as long as this subflow: a LocalCluster starts and stops with it.
        heavy = heavy_stages.with_options(task_runner=dask_task_runner(settings.run))
        extract, dedupe, publish = heavy(settings, home, include_candidates)
    else:
        extract = extract_candidates(settings.extract.extractors, settings.extract.llm_model, home, settings)
        dedupe = dedupe_task(settings, home)
        publish = publish_task(settings, home, include_candidates)
    check = check_task(settings, home)
    crash_point("run:done")  # every stage done, the report not yet printed
    print(
        f"run: ingest {ingest.counts}; {extract['candidates_created']} candidates created; "
        f"{dedupe['folded']} folded, {dedupe['embeddings_computed']} + {publish['embeddings_computed']} embeddings; "
        f"release {publish['release_id'] or 'unchanged'}; {check['drift']} drift"
    )
    return {"heal": heal, "ingest": ingest.to_json(), "extract": extract, "dedupe": dedupe, "publish": publish, "check": check}


def serve_scheduled(cron: str, config: str | None = None, timezone: str = "UTC") -> None:
    """Serve `run_flow` as a deployment on a cron schedule (blocks; each run is a real Prefect run)."""
    from prefect.schedules import Cron

    run_flow.serve(
        name="practice-scheduled",
        schedules=[Cron(cron, timezone=timezone)],
        # a scheduled run that finds another run writing waits for it up to ten minutes, then fails naming it
        parameters={"config": str(Path(config).resolve()) if config else None, "lease_wait": 600.0},
        description="Scheduled ingestion: ingest, extract, dedupe and publish the configured sources.",
        tags=["practice-index"],
    )
