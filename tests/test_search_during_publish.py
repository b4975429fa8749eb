"""20 HTTP clients search `practice serve`'s API (real uvicorn on a free port) while releases are
published: 0 errors, and every answer comes wholly from one complete release.

Each answer names its release; answers naming the same release must be identical (a release is
immutable, so a mix of two would show as a second, different answer), every release named must be
complete (published, with its manifest), and the answers before the change must still hold the
artefact the change removes while those after must not.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
import uvicorn

from index.release import list_releases
from pipeline import review
from web import create_app
from pipeline.publish import publish
from pipeline.stages import releases_root
from pipeline.store import open_store
from tests.extractors.test_threads_extractor import fake_embed
from tests.store.pg_server import _free_port
from tests.test_api import SETTINGS, World, build_world

pytestmark = pytest.mark.integration

CLIENTS = 20
QUERY = "/api/search?q=quarantine+flaky+tests&k=10"


def serve(world: World, port: int) -> tuple[uvicorn.Server, threading.Thread]:
    """`practice serve`'s app on uvicorn in a thread of this process; returns once it listens."""
    app = create_app(world.home, embed=fake_embed, model_id="fake-bow", settings=SETTINGS)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", workers=1))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    return server, thread


def test_searches_during_publishes_see_one_complete_release_each(tmp_path: Path) -> None:
    world = build_world(tmp_path)
    port = _free_port()
    server, thread = serve(world, port)
    answers: list[tuple[str | None, tuple[str, ...]]] = []
    errors: list[str] = []
    stop = threading.Event()
    lock = threading.Lock()

    def client() -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            while not stop.is_set():
                try:
                    r = http.get(QUERY)
                    if r.status_code != 200:
                        raise RuntimeError(f"{r.status_code}: {r.text[:200]}")
                    body = r.json()
                    got = (body["release"], tuple(h["id"] for h in body["hits"]))
                except Exception as exc:  # every failure is counted, none stops the others
                    with lock:
                        errors.append(f"{type(exc).__name__}: {exc}")
                    continue
                with lock:
                    answers.append(got)

    clients = [threading.Thread(target=client) for _ in range(CLIENTS)]
    try:
        for c in clients:
            c.start()
        while len(answers) < CLIENTS:  # every client answered once from the first release
            time.sleep(0.05)
        # Each round removes one artefact from what the query finds, then publishes: a new release.
        store = open_store(world.home)
        try:
            for name in ("flaky", "flaky_unit"):
                review.reject(store, world.ids[name], "rev", "covered elsewhere")
                publish(store, fake_embed, "fake-bow", releases_root(world.home), include_candidates=True)
                seen = len(answers)
                while len(answers) < seen + CLIENTS:  # let the clients meet the new release
                    time.sleep(0.05)
        finally:
            store.close()
    finally:
        stop.set()
        for c in clients:
            c.join(timeout=60)
        server.should_exit = True
        thread.join(timeout=30)

    assert errors == [], f"{len(errors)} errors, first: {errors[:3]}"
    by_release: dict[str | None, set[tuple[str, ...]]] = {}
    for release, hits in answers:
        by_release.setdefault(release, set()).add(hits)
    complete = [m.release_id for m in list_releases(releases_root(world.home))]
    assert len(complete) == 3 and set(by_release) == set(complete), (by_release.keys(), complete)
    for release, variants in by_release.items():
        assert len(variants) == 1, f"release {release} answered {len(variants)} different ways"
    first, second, third = (next(iter(by_release[r])) for r in complete)
    assert world.ids["flaky"] in first and world.ids["flaky_unit"] in first
    assert world.ids["flaky"] not in second and world.ids["flaky_unit"] in second
    assert world.ids["flaky"] not in third and world.ids["flaky_unit"] not in third
    counts = Counter(r for r, _ in answers)
    print(f"{len(answers)} answers from {CLIENTS} clients, 0 errors; per release: {dict(counts)}")
