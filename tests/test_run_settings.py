"""`[run]` in practice.toml and the split of extraction into compute (workers) and write (the flow)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.extract import Extracted, compute_source, extract_all, live_sources, write_extracted
from pipeline.settings import load_settings
from pipeline.store import SQLiteStore
from tests.test_extract import EchoExtractor, store  # noqa: F401  (fixture)


def test_run_section_selects_dask_on_an_existing_cluster(tmp_path: Path) -> None:
    from flows.fanout import dask_task_runner

    cfg = tmp_path / "practice.toml"
    cfg.write_text('[run]\ntask_runner = "dask"\ndask_address = "tcp://scheduler:8786"\nextract_batch = 3\n')
    run = load_settings(cfg).run
    assert (run.task_runner, run.dask_address, run.extract_batch, run.dask_workers) == ("dask", "tcp://scheduler:8786", 3, 2)
    assert dask_task_runner(run).address == "tcp://scheduler:8786"  # nothing started: no cluster here


@pytest.mark.parametrize("body", ['task_runner = "spark"', "dask_workers = 0", "extract_batch = 0", "workers = 2"])
def test_bad_run_section_names_the_file(tmp_path: Path, body: str) -> None:
    cfg = tmp_path / "practice.toml"
    cfg.write_text(f"[run]\n{body}\n")
    with pytest.raises(ValueError, match="practice.toml"):
        load_settings(cfg)


def test_computing_writes_nothing_and_writing_after_equals_extracting(store: SQLiteStore, tmp_path: Path) -> None:  # noqa: F811
    computed = [r for s in live_sources(store) for r in compute_source(store, s, [EchoExtractor()])]
    assert store.candidates() == [] and all(isinstance(r, Extracted) for r in computed)
    outcomes = write_extracted(store, computed)

    reference = SQLiteStore(tmp_path / "reference.sqlite3")
    from pipeline.ingest import ingest_paths

    ingest_paths(reference, [tmp_path / "src"])
    expected = extract_all(reference, [EchoExtractor()]).outcomes
    assert outcomes == expected
    assert sorted(c.id for c in store.candidates()) == sorted(c.id for c in reference.candidates())
