"""The relevance floor: thresholds chosen on labels, hits below the floor hidden, readable match labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from index.release import build_release
from index.relevance import CALIBRATED, Relevance, choose_floor, choose_strong, for_model, match_label, overall, rates
from index.search import Searcher
from pipeline.eval_floor import FloorQuery, floor_set, gibberish
from pipeline.settings import PublishSettings, SearchSettings, Settings, load_settings
from tests.extractors.test_threads_extractor import fake_embed
from tests.test_api import World, build_world
from web import create_app

# --- pure thresholds ---------------------------------------------------------------------------


def test_match_labels_at_and_around_the_thresholds() -> None:
    assert match_label(0.70, floor=0.5, strong=0.7) == "strong"
    assert match_label(0.69, floor=0.5, strong=0.7) == "possible"
    assert match_label(0.50, floor=0.5, strong=0.7) == "possible"
    assert match_label(0.49, floor=0.5, strong=0.7) == "none"
    assert match_label(None, floor=0.5, strong=0.7) == "none"
    assert match_label(float("nan"), floor=0.5, strong=0.7) == "none"


def test_overall_verdict_of_a_search() -> None:
    assert overall(["possible", "strong"], judged=True) == "strong"
    assert overall(["possible"], judged=True) == "possible"
    assert overall([], judged=True) == "none"
    assert overall([None, None], judged=False) is None


def test_thresholds_must_be_ordered() -> None:
    with pytest.raises(ValueError, match="floor <= strong"):
        Relevance(floor=0.8, strong=0.5)


def test_rates_count_by_hand() -> None:
    # scores >= 0.5 predicted answerable: TP = 0.9, 0.6; FP = 0.55; FN = 0.3
    r = rates([0.9, 0.6, 0.55, 0.3, 0.1], [True, True, False, True, False], 0.5)
    assert (r["tp"], r["fp"], r["fn"]) == (2, 1, 1)
    assert r["precision"] == pytest.approx(2 / 3) and r["recall"] == pytest.approx(2 / 3)


def test_choose_floor_separates_the_labels() -> None:
    answerable = [0.81, 0.74, 0.69, 0.66, 0.62]
    unanswerable = [0.12, 0.33, 0.41, 0.47, 0.52]
    chosen = choose_floor(answerable + unanswerable, [True] * 5 + [False] * 5)
    # every threshold in (0.52, 0.62] separates them perfectly; ties go to the highest
    assert chosen["f1"] == 1.0 and chosen["threshold"] == pytest.approx(0.62)


def test_choose_strong_is_the_lowest_precise_enough_threshold() -> None:
    # top-hit cosines with "the top hit is the answer": a wrong one at 0.7 breaks precision below it
    scores = [0.95, 0.9, 0.85, 0.8, 0.75, 0.7, 0.65, 0.6]
    right = [True, True, True, True, True, False, True, False]
    chosen = choose_strong(scores, right, min_precision=0.9)
    assert chosen["threshold"] == pytest.approx(0.71)  # 0.70 would let the wrong one in: precision 5/6
    assert choose_strong(scores, right, min_precision=0.5, at_least=0.8)["threshold"] == pytest.approx(0.8)  # never below the floor


def test_calibrated_thresholds_are_looked_up_with_or_without_the_hub_prefix() -> None:
    assert for_model("sentence-transformers/all-MiniLM-L6-v2") is CALIBRATED["all-MiniLM-L6-v2"]
    assert for_model("fake-bow") is None and for_model(None) is None


# --- the calibration set -----------------------------------------------------------------------


def test_floor_set_splits_by_faq_and_holds_out_half_the_index(tmp_path: Path) -> None:
    faqs = tmp_path / "faqs.jsonl"
    faqs.write_text("".join(f'{{"faq_id": "f{i}", "question": "question {i}", "answers": ["a"]}}\n' for i in range(4)))
    qrels = tmp_path / "qrels.tsv"
    qrels.write_text("query_id\tquery\trelevant_faq_id\n" + "".join(f"q{i}{j}\tparaphrase {j} of {i}\tf{i}\n" for i in range(4) for j in range(2)))
    indexed, queries = floor_set(faqs, qrels, None, {"gibberish": ["zzq", "xxv"]})
    assert [f["faq_id"] for f in indexed] == ["f0", "f2"]
    by_text = {q.text: q for q in queries}
    assert by_text["paraphrase 0 of 0"] == FloorQuery("paraphrase 0 of 0", True, "stackfaq", "dev", "f0")
    assert by_text["paraphrase 1 of 1"].answerable is False and by_text["paraphrase 1 of 1"].relevant is None
    assert by_text["paraphrase 0 of 2"].split == "test"  # FAQ f2: the second indexed FAQ
    assert {q.split for q in queries if q.group == "gibberish"} == {"dev", "test"}
    assert gibberish(5, seed=1) == gibberish(5, seed=1) and len(gibberish(5)) == 5


# --- the Searcher applies it --------------------------------------------------------------------


@pytest.fixture()
def tiny_release(tmp_path: Path) -> Path:
    vectors = np.array([[1.0, 0.0, 0.0], [0.6, 0.8, 0.0]], dtype=np.float32)
    payloads = [{"id": "a", "kind": "faq", "status": "approved"}, {"id": "b", "kind": "faq", "status": "approved"}]
    build_release(tmp_path / "releases", payloads, vectors, ["alpha", "beta"], "fake")
    return tmp_path / "releases"


QUERIES = {"near a": [1.0, 0.0, 0.0], "off topic": [0.0, 0.0, 1.0]}


def _embed(texts: list[str]) -> np.ndarray:
    return np.array([QUERIES[t] for t in texts], dtype=np.float32)


def test_searcher_hides_hits_below_the_floor_and_labels_the_rest(tiny_release: Path) -> None:
    s = Searcher.open(tiny_release, embed=_embed, relevance=Relevance(floor=0.5, strong=0.9))
    hits = s.search("near a", k=5)
    # cosines: a 1.0 (strong), b 0.6 (possible)
    assert [(h.id, h.match) for h in hits] == [("a", "strong"), ("b", "possible")]
    assert hits[1].to_dict()["relevance"] == pytest.approx(0.6) and hits[1].to_dict()["match"] == "possible"
    assert s.search("off topic", k=5) == []  # cosine 0 with both: no good match
    unjudged = Searcher.open(tiny_release, embed=_embed)
    assert len(unjudged.search("off topic", k=5)) == 2 and unjudged.search("near a")[0].match is None


def test_practice_toml_thresholds_reach_the_searcher(tiny_release: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "practice.toml"
    cfg.write_text("[search]\nfloor = 0.7\nstrong = 0.95\n")
    s = Searcher.open(tiny_release, embed=_embed, **load_settings(cfg).search.searcher_options())
    assert s.relevance == Relevance(0.7, 0.95, source="practice.toml [search]")
    assert [h.id for h in s.search("near a", k=5)] == ["a"]  # b's 0.6 is now below the floor
    with pytest.raises(ValueError, match="floor and strong go together"):
        SearchSettings(floor=0.5)


# --- the API says "no good match" --------------------------------------------------------------

JUDGED = Settings(publish=PublishSettings(include_candidates=True), search=SearchSettings(floor=0.3, strong=0.8))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return build_world(tmp_path_factory.mktemp("relevance-world"))


def test_gibberish_gets_no_good_match_from_the_api_and_the_page(world: World) -> None:
    with TestClient(create_app(world.home, embed=fake_embed, model_id="fake-bow", settings=JUDGED)) as c:
        body = c.get("/api/search", params={"q": "asdfghjkl qwerty"}).json()
        assert body["match"] == "none" and body["match_text"] == "no good match" and body["hits"] == []
        good = c.get("/api/search", params={"q": "how do we quarantine flaky integration tests"}).json()
        assert good["match"] == "strong" and good["hits"][0]["match"] == "strong"
        assert all(h["match"] in ("strong", "possible") for h in good["hits"])
        page = c.get("/search", params={"q": "asdfghjkl qwerty"}).text
        assert "No good match" in page and 'class="card hit"' not in page
        page = c.get("/search", params={"q": "how do we quarantine flaky integration tests"}).text
        assert "strong match" in page and "score 0.500" not in page


def test_evaluate_floor_chooses_on_dev_and_reports_test(tmp_path: Path) -> None:
    from pipeline.eval_floor import evaluate_floor

    topics = ["kubernetes pod eviction", "terraform state locking", "postgres vacuum tuning", "grafana dashboard sharing",
              "kafka consumer lag", "python packaging wheels", "docker layer caching", "nginx rate limiting"]  # fmt: skip
    faqs = tmp_path / "faqs.jsonl"
    faqs.write_text("".join(f'{{"faq_id": "f{i}", "question": "how to handle {t}", "answers": ["see the runbook"]}}\n' for i, t in enumerate(topics)))
    qrels = tmp_path / "qrels.tsv"
    qrels.write_text("query_id\tquery\trelevant_faq_id\n" + "".join(
        f"q{i}{j}\t{t} {extra}\tf{i}\n" for i, t in enumerate(topics) for j, extra in enumerate(["question", "help please"])))  # fmt: skip
    indexed, queries = floor_set(faqs, qrels, None, {"gibberish": gibberish(8)})
    report = evaluate_floor(indexed, queries, fake_embed, "fake-bow")
    # indexed topics share most words with their queries; left-out topics and gibberish share none
    assert report["signals"]["cosine"]["test"]["recall"] == 1.0
    assert report["signals"]["cosine"]["test"]["precision"] == 1.0
    assert report["test_by_group"]["gibberish"]["shown_an_answer"] == 0.0
    assert report["floor"] == report["signals"]["cosine"]["dev"]["threshold"]
    assert report["floor"] <= report["strong"]
