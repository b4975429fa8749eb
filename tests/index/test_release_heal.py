"""Releases that heal: a crash at the switch is finished, dead runs' build folders go at once.

The crashes are real: a child process builds a release with PRACTICE_CRASH_AT set and kills
itself with SIGKILL at that point, so nothing in it gets to clean up.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np

from index.release import (
    CURRENT_FILE,
    PUBLISHED_FILE,
    current_release,
    latest_fingerprint,
    list_releases,
    rollback,
)
from index.release_heal import reconcile
from index.release_owner import build_folder, remove_dead_builds
from index.search import Searcher
from tests.index.test_release import DIM, publish

ROOT = Path(__file__).resolve().parents[2]

CHILD = """
import sys
from pathlib import Path
from tests.index.test_release import publish
publish(Path(sys.argv[1]), generation=int(sys.argv[2]))
"""


def crash_while_publishing(root: Path, point: str, generation: int = 2) -> None:
    """Publish from a child process that SIGKILLs itself at `point`."""
    env = {**os.environ, "PRACTICE_CRASH_AT": point, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", CHILD, str(root), str(generation)], env=env, timeout=300)
    assert done.returncode == -signal.SIGKILL  # it died at the crash point, with no clean-up


def generations(root: Path) -> set[int]:
    s = Searcher.open(root, embed=lambda t: np.ones((len(t), DIM), np.float32))
    return {p["generation"] for p in s.payloads}


def test_a_crash_at_the_switch_is_finished_by_the_next_run(tmp_path: Path) -> None:
    old = publish(tmp_path, generation=1)
    crash_while_publishing(tmp_path, "publish:switch", generation=2)
    new = list_releases(tmp_path)[-1]
    assert new.release_id != old.release_id  # the new release is complete on disk...
    assert current_release(tmp_path).release_id == old.release_id  # type: ignore[union-attr]  # ...but not served

    report = reconcile(tmp_path)
    assert report.switched_to == new.release_id and not report.discarded
    assert current_release(tmp_path).release_id == new.release_id  # type: ignore[union-attr]
    assert generations(tmp_path) == {2}
    assert reconcile(tmp_path).switched_to is None  # once healed, nothing more to do


def test_a_first_publish_that_never_switched_is_served(tmp_path: Path) -> None:
    crash_while_publishing(tmp_path, "publish:switch", generation=3)
    assert not (tmp_path / CURRENT_FILE).exists()
    assert reconcile(tmp_path).switched_to == list_releases(tmp_path)[0].release_id
    assert generations(tmp_path) == {3}


def test_a_corrupt_unswitched_release_is_discarded_so_publish_rebuilds_it(tmp_path: Path) -> None:
    old = publish(tmp_path, generation=1)
    crash_while_publishing(tmp_path, "publish:switch", generation=2)
    broken = list_releases(tmp_path)[-1]
    (tmp_path / broken.release_id / "payloads.jsonl").write_text("torn\n")

    report = reconcile(tmp_path)
    assert report.discarded == [broken.release_id] and "checksum mismatch" in report.reasons[0]
    assert not (tmp_path / broken.release_id).exists()
    assert current_release(tmp_path).release_id == old.release_id  # type: ignore[union-attr]
    assert (tmp_path / PUBLISHED_FILE).read_text().strip() == old.release_id
    # the newest release is the old one again, so an unchanged publish of generation 2 is not skipped
    assert latest_fingerprint(tmp_path) == old.fingerprint != broken.fingerprint


def test_a_rollback_is_not_undone(tmp_path: Path) -> None:
    first = publish(tmp_path, generation=1)
    publish(tmp_path, generation=2)
    rollback(tmp_path, first.release_id)
    report = reconcile(tmp_path)
    assert report.switched_to is None and not report.discarded
    assert current_release(tmp_path).release_id == first.release_id  # type: ignore[union-attr]


def test_folders_from_before_the_record_heal_by_time(tmp_path: Path) -> None:
    """No PUBLISHED file (an older version crashed): a release built after CURRENT last changed is adopted."""
    first = publish(tmp_path, generation=1)
    second = publish(tmp_path, generation=2)
    (tmp_path / PUBLISHED_FILE).unlink()

    # CURRENT last written before the second release was built: a crash between build and switch
    (tmp_path / CURRENT_FILE).write_text(first.release_id + "\n")
    os.utime(tmp_path / CURRENT_FILE, (0, 0))
    assert reconcile(tmp_path).switched_to == second.release_id

    # CURRENT written after every build (what an old rollback did): left alone
    (tmp_path / PUBLISHED_FILE).unlink()
    (tmp_path / CURRENT_FILE).write_text(first.release_id + "\n")
    assert reconcile(tmp_path).switched_to is None
    assert current_release(tmp_path).release_id == first.release_id  # type: ignore[union-attr]


def test_a_dead_runs_build_folder_is_removed_at_once(tmp_path: Path) -> None:
    publish(tmp_path, generation=1)
    crash_while_publishing(tmp_path, "publish:build", generation=2)
    left = sorted(p.name for p in tmp_path.glob(".tmp-*"))
    assert len(left) == 2 and left[1] == left[0] + ".owner"  # the folder and its owner record
    assert '"pid"' in (tmp_path / left[1]).read_text()

    report = reconcile(tmp_path)  # minutes, not 24 hours, after the crash
    assert report.builds_removed == [left[0]]
    assert not list(tmp_path.glob(".tmp-*"))
    assert len(list_releases(tmp_path)) == 1


def test_a_live_runs_build_folder_is_left_alone(tmp_path: Path) -> None:
    with build_folder(tmp_path) as live:
        (live / "payloads.jsonl").write_text("half written\n")
        assert remove_dead_builds(tmp_path) == ([], [live.name])
        assert (live / "payloads.jsonl").exists()
    assert not list(tmp_path.glob(".tmp-*"))  # the owner cleans up after itself
