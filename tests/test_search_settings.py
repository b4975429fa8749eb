"""`[search]` in practice.toml: fusion, RRF k, weights and depth reach the Searcher."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index.release import build_release
from index.search import DEFAULT_FUSION, DEFAULT_RRF_K, Searcher
from pipeline.settings import Settings, load_settings


def test_defaults_are_the_searchers() -> None:
    options = Settings().search.searcher_options()
    assert options == {"fusion": DEFAULT_FUSION, "rrf_k": DEFAULT_RRF_K, "weights": {}, "depth": None, "relevance": "model"}


def test_search_section_reaches_the_searcher(tmp_path: Path) -> None:
    cfg = tmp_path / "practice.toml"
    cfg.write_text('[search]\nfusion = "rrf"\nrrf_k = 5\nweights = { bm25 = 0.2 }\ndepth = 20\n')
    options = load_settings(cfg).search.searcher_options()
    assert options == {"fusion": "rrf", "rrf_k": 5, "weights": {"bm25": 0.2}, "depth": 20, "relevance": "model"}
    vectors = np.eye(2, dtype=np.float32)
    build_release(tmp_path / "releases", [{"id": "a"}, {"id": "b"}], vectors, ["alpha", "beta"], "fake")
    s = Searcher.open(tmp_path / "releases", embed=lambda t: np.tile(vectors[0], (len(t), 1)), **options)
    assert (s.fusion, s.rrf_k, s.weights, s.depth) == ("rrf", 5, {"dense": 1.0, "bm25": 0.2}, 20)


@pytest.mark.parametrize(
    "body",
    ['fusion = "max"', "rrf_k = -1", "weights = { sparse = 1.0 }", "weights = { bm25 = -0.5 }", "depth = 0", "fusoin = \"rrf\""],
)
def test_bad_search_section_names_the_file(tmp_path: Path, body: str) -> None:
    cfg = tmp_path / "practice.toml"
    cfg.write_text(f"[search]\n{body}\n")
    with pytest.raises(ValueError, match="practice.toml"):
        load_settings(cfg)


def test_web_searcher_uses_the_search_section(tmp_path: Path) -> None:
    from web.state import PracticeWeb
    from pipeline.settings import SearchSettings

    vectors = np.eye(2, dtype=np.float32)
    build_release(tmp_path / "releases", [{"id": "a"}, {"id": "b"}], vectors, ["alpha", "beta"], "fake")
    settings = Settings(search=SearchSettings(fusion="rrf", rrf_k=10, weights={"dense": 2.0}))
    web = PracticeWeb(tmp_path, lambda t: np.tile(vectors[0], (len(t), 1)), "fake", settings, None)
    s = web.searcher()
    assert (s.fusion, s.rrf_k, s.weights) == ("rrf", 10, {"dense": 2.0, "bm25": 0.3})
