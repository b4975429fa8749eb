"""`practice eval search`: dense / BM25 / hybrid retrieval metrics on labelled FAQs."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from pipeline.cli_eval_search import search_command
from pipeline.eval_search import EvalInputError, evaluate_search, load_qrels, ranking_metrics

FAQS = [
    {"faq_id": "f1", "question": "How do I delete my account?", "answers": ["Go to settings and press delete."]},
    {"faq_id": "f2", "question": "Strikethrough in GitHub markdown", "answers": ["Use ~~tildes~~."]},
    {"faq_id": "f3", "question": "How to undo the last git commit?", "answers": ["git reset HEAD~1"]},
]
QRELS = [
    ("f1_q0", "erase the profile", "f1"),
    ("f2_q0", "cross out text on github markdown", "f2"),
    ("f3_q0", "revert last commit in git", "f3"),
    ("f3_q1", "undo a commit", "f3"),
]
TOPIC = {"account": 0, "delete": 0, "erase": 0, "profile": 0, "markdown": 1, "strikethrough": 1, "cross": 1, "commit": 2, "git": 2, "undo": 2}


def topic_embed(texts: list[str]) -> np.ndarray:
    """A fake embedder that knows the three topics (so dense finds every paraphrase)."""
    out = np.full((len(texts), 4), 1e-3, dtype=np.float32)
    for i, text in enumerate(texts):
        for word in text.lower().replace("?", " ").split():
            if word in TOPIC:
                out[i, TOPIC[word]] += 1
    return out / np.linalg.norm(out, axis=1, keepdims=True)


@pytest.fixture
def tiny(tmp_path: Path) -> tuple[Path, Path]:
    faqs = tmp_path / "faqs.jsonl"
    faqs.write_text("".join(json.dumps(f) + "\n" for f in FAQS))
    qrels = tmp_path / "qrels.tsv"
    qrels.write_text("query_id\tquery\trelevant_faq_id\n" + "".join("\t".join(r) + "\n" for r in QRELS))
    return faqs, qrels


def test_ranking_metrics_by_hand() -> None:
    m = ranking_metrics([["a", "b"], ["x", "y", "b"], ["z"]], ["a", "b", "q"])
    # ranks 1, 3, none
    assert m["mrr"] == round((1 + 1 / 3) / 3, 4)
    assert m["recall@1"] == round(1 / 3, 4) and m["recall@5"] == round(2 / 3, 4) and m["recall@10"] == round(2 / 3, 4)
    assert m["ndcg@10"] == round((1 + 1 / math.log2(4)) / 3, 4)


def test_tiny_fixture_three_modes(tiny: tuple[Path, Path]) -> None:
    report = evaluate_search(*tiny, embed=topic_embed, model_id="topics")
    assert report["faqs"] == 3 and report["queries"] == 4
    assert set(report["results"]) == {"dense", "bm25", "hybrid", "hybrid_rrf"}
    assert report["results"]["dense"]["recall@1"] == 1.0 and report["results"]["hybrid"]["ndcg@10"] == 1.0
    # "erase the profile" shares no word with FAQ f1: BM25 misses it
    assert report["results"]["bm25"]["recall@10"] < 1.0
    for metrics in report["results"].values():
        assert set(metrics) == {"mrr", "recall@1", "recall@5", "recall@10", "ndcg@10"}
        assert all(0.0 <= v <= 1.0 for v in metrics.values())


def test_bad_inputs_are_named(tiny: tuple[Path, Path], tmp_path: Path) -> None:
    faqs, qrels = tiny
    with pytest.raises(EvalInputError, match="missing.jsonl"):
        evaluate_search(tmp_path / "missing.jsonl", qrels, embed=topic_embed)
    bad = tmp_path / "bad.tsv"
    bad.write_text("a\tb\n1\t2\n")
    with pytest.raises(EvalInputError, match="columns"):
        load_qrels(bad)
    unknown = tmp_path / "unknown.tsv"
    unknown.write_text("query_id\tquery\trelevant_faq_id\nq\tsomething\tf9\n")
    with pytest.raises(EvalInputError, match="f9"):
        evaluate_search(faqs, unknown, embed=topic_embed)
    result = CliRunner().invoke(search_command, ["--faqs", str(tmp_path / "missing.jsonl"), "--qrels", str(qrels)])
    assert result.exit_code != 0 and "missing.jsonl" in result.output


def test_cli_json_on_tiny_fixture(tiny: tuple[Path, Path]) -> None:
    faqs, qrels = tiny
    result = CliRunner().invoke(search_command, ["--faqs", str(faqs), "--qrels", str(qrels), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["queries"] == 4 and report["model_id"] == "all-MiniLM-L6-v2"
    table = CliRunner().invoke(search_command, ["--faqs", str(faqs), "--qrels", str(qrels)])
    assert table.exit_code == 0 and "dense only" in table.output and "NDCG@10" in table.output


@pytest.mark.integration
def test_stackfaq_hybrid_is_at_least_as_good_as_dense(corpus: Path) -> None:
    derived = corpus / "retrieval" / "stackfaq" / "derived"
    report = evaluate_search(derived / "faqs.jsonl", derived / "queries_qrels.tsv")
    res = report["results"]
    for mode in ("dense", "bm25", "hybrid", "hybrid_rrf"):
        m = res[mode]
        print(f"{mode:12} MRR {m['mrr']:.4f}  R@1 {m['recall@1']:.4f}  R@5 {m['recall@5']:.4f}  "
              f"R@10 {m['recall@10']:.4f}  NDCG@10 {m['ndcg@10']:.4f}")  # fmt: skip
    assert report["faqs"] == 125 and report["queries"] >= 1200
    assert res["dense"]["ndcg@10"] >= 0.97  # the bundled model on its own
    assert res["hybrid"]["ndcg@10"] >= 0.97
    assert res["hybrid"]["ndcg@10"] >= res["dense"]["ndcg@10"]  # fusion must not make it worse
    assert res["bm25"]["ndcg@10"] < res["dense"]["ndcg@10"]
