"""The extract flow: Prefect wiring over `pipeline.extract` (no logic here)."""

from __future__ import annotations

from pathlib import Path

from flows import prefect_env  # noqa: F401  (Prefect's home and telemetry before prefect loads)
from prefect import flow, task
from prefect.cache_policies import NONE

from pipeline.settings import Settings
from pipeline.stages import run_extract


@task(name="extract-candidates", cache_policy=NONE)
def extract_candidates(
    extractors: list[str] | None, llm_model: str | None, home: str | None, settings: Settings | None = None
) -> dict[str, object]:
    """Run the extractors over every source they have not seen (one task: the model loads once).

    `settings` (the run's config) choose the embedding backend; default: the config found as usual."""
    return run_extract(extractors, llm_model, home=Path(home) if home else None, settings=settings).to_json()


@flow(name="extract", log_prints=True)
def extract_flow(
    extractors: list[str] | None = None, llm_model: str | None = None, home: str | None = None
) -> dict[str, object]:
    """Extract FAQ and pattern candidates into the store under `home` (default $PRACTICE_HOME)."""
    report = extract_candidates(extractors, llm_model, home)
    print(f"extract: {report['counts']}, {report['candidates_created']} candidates created")
    return report
