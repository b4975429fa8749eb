"""A whole `practice run` (the command, its Prefect flow included) on PostgreSQL ends in the state of
the clean SQLite run on the same inputs: the outcome does not depend on the store."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.test_crash_consistency import ROOT, _base_env, clean_state, corpus_dir, snapshot  # noqa: F401  (fixtures)

pytestmark = pytest.mark.integration


def test_practice_run_on_postgresql_equals_the_sqlite_run(
    pg_url: str, corpus_dir: Path, clean_state: dict[str, Any], tmp_path: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    home = tmp_path / "home"
    env = {**_base_env(), "PRACTICE_DATABASE_URL": pg_url, "PRACTICE_HOME": str(home), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "run", str(corpus_dir), "--config", str(corpus_dir / "practice.toml"), "--json"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    monkeypatch.setenv("PRACTICE_DATABASE_URL", pg_url)
    state = snapshot(home)
    for key in clean_state:
        assert state[key] == clean_state[key], f"{key} differ between the PostgreSQL run and the SQLite run"
