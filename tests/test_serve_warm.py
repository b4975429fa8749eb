"""`practice serve` loads the current release and the embedding model before the first reader asks."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.extractors.test_threads_extractor import fake_embed
from tests.test_api import SETTINGS, build_world
from web import create_app


class Counting:
    """fake_embed, counting the texts it is asked to embed."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        return fake_embed(texts)


def test_warm_opens_the_release_and_embeds_before_any_query(tmp_path: Path) -> None:
    world = build_world(tmp_path)
    embed = Counting()
    state = create_app(world.home, embed=embed, model_id="fake-bow", settings=SETTINGS).state.practice
    assert state._searcher is None and embed.calls == []  # nothing loaded at creation (tests build many apps)
    seconds = state.warm()
    assert seconds >= 0 and state._searcher is not None and embed.calls  # release open, embedder used
    searcher = state._searcher
    state.searcher()  # the first reader gets the warmed one, not a new open
    assert state._searcher is searcher
    # the visibility values every API query filters by were computed during the warm-up
    assert "visibilities" in vars(searcher)


def test_warm_without_a_release_still_loads_the_model(tmp_path: Path) -> None:
    embed = Counting()
    state = create_app(tmp_path / "empty", embed=embed, model_id="fake-bow", settings=SETTINGS).state.practice
    state.warm()
    assert state._searcher is None and embed.calls == [["warm up"]]
