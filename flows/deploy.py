"""`practice deploy`: the scheduled whole flow registered on a Prefect work pool (process type).

Wiring only. A `prefect worker start --pool NAME` on any machine with this project and its
environment (PRACTICE_HOME, PRACTICE_DATABASE_URL, PREFECT_API_URL) picks the runs up.
"""

from __future__ import annotations

from pathlib import Path

from flows import prefect_env  # noqa: F401  (Prefect's home and telemetry before prefect loads)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENTRYPOINT = "flows/run.py:run_flow"
DEPLOYMENT = "practice-scheduled"


def ensure_process_pool(pool: str) -> bool:
    """Create the work pool `pool` (process type) unless it exists; True when it was created."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            client.read_work_pool(pool)
            return False
        except ObjectNotFound:
            client.create_work_pool(WorkPoolCreate(name=pool, type="process"))
            return True


def deploy_scheduled(
    pool: str, cron: str | None, config: str | None, timezone: str = "UTC", name: str = DEPLOYMENT,
    source: Path = PROJECT_ROOT,
) -> str:  # fmt: skip
    """Register `run_flow` from `source` on the work pool with a cron schedule (None: run on demand only).

    Returns the deployment's id. Scheduled runs take the writer lease, waiting up to ten minutes
    for a run that holds it (as `practice schedule`).
    """
    from prefect import flow
    from prefect.schedules import Cron

    ensure_process_pool(pool)
    remote = flow.from_source(source=str(source), entrypoint=ENTRYPOINT)
    # to_deployment + apply rather than Flow.deploy: prefect 3.8.8's deploy first lists the pool's
    # workers with limit=None, which its own server refuses (422); nothing is built or pushed
    # anyway, the code is on the workers' disk (process pool).
    deployment = remote.to_deployment(  # type: ignore[union-attr]
        name=name,
        work_pool_name=pool,
        schedules=[Cron(cron, timezone=timezone)] if cron else None,
        parameters={"config": str(Path(config).resolve()) if config else None, "lease_wait": 600.0},
        description="Scheduled ingestion: ingest, extract, dedupe and publish the configured sources.",
        tags=["practice-index"],
    )
    return str(deployment.apply(work_pool_name=pool))
