"""The ingest flow, run for real on Prefect's local ephemeral server (no set-up, no network)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.store import open_store
from tests.test_ingest import write_good_files

pytestmark = pytest.mark.integration


def run_practice(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env["PRACTICE_HOME"] = str(home)
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args], env=env, capture_output=True, text=True, timeout=300
    )


def test_ingest_flow_runs_on_the_ephemeral_server(tmp_path: Path) -> None:
    write_good_files(tmp_path / "src")
    (tmp_path / "src" / "empty.vtt").write_text("")
    home = tmp_path / "home"  # does not exist yet: the flow must create what it needs

    first = run_practice("ingest", str(tmp_path / "src"), "--flow", "--json", home=home)
    assert first.returncode == 0, first.stderr[-3000:]
    report = json.loads(first.stdout)  # stdout is only the JSON report; Prefect logs go to stderr
    assert report["counts"]["new"] == 3 and report["counts"]["failed"] == 1
    assert "Finished in state Completed" in first.stderr
    assert (home / "prefect").is_dir()  # Prefect's own database sits beside our store

    again = json.loads(run_practice("ingest", str(tmp_path / "src"), "--flow", "--json", home=home).stdout)
    assert again["counts"]["unchanged"] == 3 and again["passages_written"] == 0

    store = open_store(home)
    assert len(store.list_sources()) == 4 and store.count_passages() == report["passages_written"]
