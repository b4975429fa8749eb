"""A run killed (SIGKILL) at each named crash point, then run again, ends exactly where a clean run ends.

The killed run is a real child process that dies at `PRACTICE_CRASH_AT`; it runs the stages of
`practice run` in order without Prefect's server (half a minute per start-up, and no part of what
is tested here: `tests/test_run_kill.py` kills the real CLI). The re-run and the clean reference
run in this process, so the embedding model loads once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"

# (point, what the killed run has done by then). Every point the stages pass through on this corpus.
POINTS = [
    "ingest:source-saved",  # the first of four sources written, the others not
    "ingest:sources-saved",  # every source written, visibility not yet re-derived
    "extract:source-replaced",  # one source's candidates replaced, the rest not
    "embed:cached",  # dedupe's first new vectors cached, nothing folded
    "dedupe:grouped",  # grouped, nothing written
    "dedupe:before-write",
    "dedupe:suggestions-written",  # suggestions written, artefacts not
    "dedupe:artefacts-written",
    "publish:embedded",
    "publish:build",  # indexes written in .tmp-*, no manifest
    "publish:recorded",  # PUBLISHED names it, folder still .tmp-*
    "publish:switch",  # folder in place, CURRENT not switched
    "publish:switched",  # current, older releases not pruned
    "run:done",
]

CONFIG = """
[extract]
extractors = ["threads", "transcripts", "documents"]

[publish]
include_candidates = true
"""


def write_corpus(src: Path) -> Path:
    """Two JSONL channels, a Markdown guide and a VTT meeting: four sources of three kinds."""
    (src / "chat").mkdir(parents=True)
    (src / "docs").mkdir()
    (src / "chat" / "team.jsonl").write_text((FIXTURES / "jsonl" / "threads.jsonl").read_text())
    (src / "chat" / "standups.jsonl").write_text(
        '{"id": "q1", "author": "eve", "text": "How do you keep standups under fifteen minutes?"}\n'
        '{"id": "q2", "reply_to": "q1", "author": "finn", "text": "We walk the board right to left and park discussions for after the standup."}\n'
        '{"id": "q3", "author": "gus", "text": "How do you keep the daily standup short?"}\n'
        '{"id": "q4", "reply_to": "q3", "author": "hal", "text": "Park long discussions until after the standup and walk the board."}\n'
    )  # fmt: skip
    (src / "docs" / "retro-guide.md").write_text((FIXTURES / "documents" / "retro-guide.md").read_text())
    (src / "docs" / "retro.vtt").write_text((FIXTURES / "transcripts" / "retro.vtt").read_text())
    (src / "practice.toml").write_text(CONFIG)
    return src


def run_stages(src: Path, home: Path) -> dict[str, Any]:
    """The stages of `practice run` in its order (flows/run.py), then its last crash point."""
    from index.release_heal import reconcile
    from pipeline.check import check_home
    from pipeline.faults import crash_point
    from pipeline.ingest import IngestOptions, ingest_paths
    from pipeline.settings import load_settings
    from pipeline.stages import releases_root, run_dedupe, run_extract, run_publish
    from pipeline.store import open_store

    settings = load_settings(src / "practice.toml")
    reconcile(releases_root(home))
    store = open_store(home)
    try:
        ingest_paths(store, [src], IngestOptions.build(), prune_missing=True)
    finally:
        store.close()
    run_extract(settings.extract.extractors, home=home)
    run_dedupe(settings, home)
    run_publish(settings, home)
    check = check_home(settings, home).to_json()
    crash_point("run:done")
    return check


def snapshot(home: Path) -> dict[str, Any]:
    """What must agree with a clean run: store rows (without timestamps) and the published set."""
    from index.release import current_release, read_payloads
    from pipeline.stages import releases_root
    from pipeline.store import open_store

    store = open_store(home)
    try:
        state = {
            "sources": sorted((s.id, s.uri, s.status.value, s.content_hash, s.passage_count) for s in store.list_sources()),
            "passages": sorted((p.id, p.source_id, p.text) for p in store.passages()),
            "candidates": sorted(
                (c.id, c.source_id, c.extractor, c.kind.value, c.title, c.body, tuple(e.passage_id for e in c.evidence))
                for c in store.candidates()
            ),  # fmt: skip
            "artefacts": sorted(
                (a.id, a.kind.value, a.status.value, tuple(a.candidate_ids), a.title, a.body,
                 tuple((e.passage_id, e.role, e.quote) for e in a.evidence))
                for a in store.artefacts()
            ),  # fmt: skip
            "suggestions": sorted((min(x, y), max(x, y), round(s, 4)) for x, y, s in store.suggestions()),
        }
    finally:
        store.close()
    current = current_release(releases_root(home))
    payloads = read_payloads(current.path) if current and current.path else []
    state["published"] = sorted((p["id"], p["status"], len(p["citations"])) for p in payloads)
    return state


def leftovers(home: Path) -> list[str]:
    """Build folders, owner files and release folders without a manifest: what a crash must not leave."""
    from pipeline.stages import releases_root

    root = releases_root(home)
    found = [p.name for p in root.iterdir() if p.name.startswith(".tmp-")]
    found += [p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(".") and not (p / "manifest.json").is_file()]
    return sorted(found)


def crash_at(point: str, src: Path, home: Path, env: dict[str, str]) -> None:
    """Run the stages in a child process that SIGKILLs itself at `point`."""
    code = "import sys; from pathlib import Path; from tests.test_crash_consistency import run_stages; run_stages(Path(sys.argv[1]), Path(sys.argv[2]))"
    child = subprocess.run(
        [sys.executable, "-c", code, str(src), str(home)], cwd=ROOT, text=True, capture_output=True, timeout=600,
        env={**env, "PYTHONPATH": str(ROOT), "PRACTICE_CRASH_AT": point, "PRACTICE_HOME": str(home)},
    )  # fmt: skip
    assert child.returncode == -signal.SIGKILL, f"the run did not die at {point}: {child.returncode}\n{child.stderr[-3000:]}"


def _base_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "PRACTICE_"))}


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("crash") / "src")


@pytest.fixture(scope="module")
def clean_state(corpus_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The reference: one clean run on the same inputs (SQLite; the store kind does not change the outcome)."""
    home = tmp_path_factory.mktemp("clean")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("PRACTICE_DATABASE_URL", raising=False)
        check = run_stages(corpus_dir, home)
        state = snapshot(home)
    assert check["drift"] == 0, check
    assert state["artefacts"] and state["published"] and state["suggestions"]  # a corpus that exercises every stage
    return state


def assert_recovers(point: str, src: Path, home: Path, env: dict[str, str], clean: dict[str, Any]) -> None:
    """Kill at `point`, run again, and compare with the clean run."""
    crash_at(point, src, home, env)
    check = run_stages(src, home)
    assert check["drift"] == 0, check
    state = snapshot(home)
    for key in clean:
        assert state[key] == clean[key], f"after a crash at {point}: {key} differ from a clean run"
    assert leftovers(home) == []


@pytest.mark.parametrize("point", POINTS)
def test_a_run_killed_at_a_crash_point_ends_as_a_clean_run(
    point: str, corpus_dir: Path, clean_state: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PRACTICE_DATABASE_URL", raising=False)
    assert_recovers(point, corpus_dir, tmp_path / "home", _base_env(), clean_state)
