"""Build a store over the demo corpus (examples/) through the same stage functions `practice run` calls."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def prepare_demo_home(home: Path, publish: bool = True) -> None:
    """Ingest → extract → dedupe (→ publish, candidates included) the demo corpus into `home`."""
    from pipeline.ingest import IngestOptions, ingest_paths
    from pipeline.settings import load_settings, source_paths
    from pipeline.stages import run_dedupe, run_extract, run_publish
    from pipeline.store import open_store

    settings = load_settings(ROOT / "examples" / "practice.toml")
    store = open_store(home)
    try:
        for path, entry in source_paths(settings):
            ingest_paths(store, [path], IngestOptions.build(community=entry.community, visibility=entry.visibility))
    finally:
        store.close()
    run_extract(settings.extract.extractors, home=home)
    run_dedupe(settings, home)
    if publish:
        run_publish(settings, home, include_candidates=True)  # the demo community starts unreviewed
