"""The ingest flow, run for real on Prefect's local ephemeral server."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.store import open_store
from tests.test_ingest import write_good_files

pytestmark = pytest.mark.integration


def test_ingest_flow_runs_on_the_ephemeral_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    from prefect.testing.utilities import prefect_test_harness

    from flows.ingest import ingest_flow

    write_good_files(tmp_path / "src")
    (tmp_path / "src" / "empty.vtt").write_text("")
    home = tmp_path / "home"
    with prefect_test_harness():
        state = ingest_flow(paths=[str(tmp_path / "src")], home=str(home), return_state=True)
        assert state.is_completed(), state
        report = state.result()
        assert report["counts"]["new"] == 3 and report["counts"]["failed"] == 1

        again = ingest_flow(paths=[str(tmp_path / "src")], home=str(home))
        assert again["counts"]["unchanged"] == 3 and again["passages_written"] == 0

    store = open_store(home)
    assert len(store.list_sources()) == 4 and store.count_passages() > 0
