"""The crash test of `tests/test_crash_consistency.py` on PostgreSQL: a fresh database per crash point.

The clean reference is the SQLite run: the outcome must not depend on the store.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.test_crash_consistency import POINTS, _base_env, assert_recovers, clean_state, corpus_dir  # noqa: F401  (fixtures)

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("point", POINTS)
def test_a_run_killed_at_a_crash_point_ends_as_a_clean_run_on_postgresql(
    point: str, pg_url: str, corpus_dir: Path, clean_state: dict[str, Any], tmp_path: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("PRACTICE_DATABASE_URL", pg_url)  # the re-run, here; the killed run gets it below
    assert_recovers(point, corpus_dir, tmp_path / "home", {**_base_env(), "PRACTICE_DATABASE_URL": pg_url}, clean_state)
