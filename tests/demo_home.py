"""Build a store over the demo corpus (examples/) through the same stage functions `practice run` calls."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Homes built in this process, by `publish`: the next test module that asks gets a copy (a minute
# of embedding on the 2-core test machine saved per browser test module).
_BUILT: dict[bool, Path] = {}


def prepare_demo_home(home: Path, publish: bool = True) -> None:
    """Ingest → extract → dedupe (→ publish, candidates included) the demo corpus into `home`.

    Built once per process (and `publish`); later calls copy that home."""
    if publish not in _BUILT:
        built = Path(tempfile.mkdtemp(prefix="demo-home-")) / "home"
        atexit.register(shutil.rmtree, built.parent, True)
        _build(built, publish)
        _BUILT[publish] = built
    shutil.copytree(_BUILT[publish], home, dirs_exist_ok=True)


def _build(home: Path, publish: bool) -> None:
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
