"""`practice eval search`: dense / BM25 / hybrid retrieval metrics on labelled FAQs."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from pipeline.cli_eval_search import search_command
from pipeline.eval_search import EvalInputError, RetrievalSet, evaluate_retrieval, evaluate_search, load_qrels, ranking_metrics
from pipeline.eval_search_dev import (
    combine_grids,
    load_semeval_questions,
    load_stackexchange_duplicates,
    rrf_grid,
    select_rrf,
)

ROWS = {"dense", "bm25", "hybrid", "hybrid_rrf", "hybrid_convex", "hybrid_rrf60"}

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


def test_ranking_metrics_several_relevant_by_hand() -> None:
    # query 1: relevant {a, c} at ranks 1 and 3; query 2: relevant {x, y, z}, only y, at rank 2
    m = ranking_metrics([["a", "b", "c"], ["q", "y"]], [{"a", "c"}, frozenset({"x", "y", "z"})])
    assert m["mrr"] == round((1 + 1 / 2) / 2, 4)
    assert m["recall@1"] == round((1 / 2 + 0) / 2, 4) and m["recall@5"] == round((1 + 1 / 3) / 2, 4)
    ndcg1 = (1 + 1 / math.log2(4)) / (1 + 1 / math.log2(3))
    ndcg2 = (1 / math.log2(3)) / (1 + 1 / math.log2(3) + 1 / math.log2(4))
    assert m["ndcg@10"] == round((ndcg1 + ndcg2) / 2, 4)
    assert ranking_metrics([["a"]], ["a"]) == ranking_metrics([["a"]], [{"a"}])  # a str is one id


def test_tiny_fixture_three_modes(tiny: tuple[Path, Path]) -> None:
    report = evaluate_search(*tiny, embed=topic_embed, model_id="topics")
    assert report["faqs"] == 3 and report["queries"] == 4
    assert set(report["results"]) == ROWS
    assert report["results"]["dense"]["recall@1"] == 1.0 and report["results"]["hybrid"]["ndcg@10"] == 1.0
    assert report["settings"]["fusion"] == "rrf" and report["results"]["hybrid"] == report["results"]["hybrid_rrf"]
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


def test_rrf_grid_matches_the_searcher(tiny: tuple[Path, Path]) -> None:
    """A grid point scored from the dense and BM25 lists equals the Searcher's own RRF at those settings."""
    from index.search import DEFAULT_RRF_K, DEFAULT_WEIGHTS

    faqs, qrels = tiny
    data = RetrievalSet("tiny", [json.loads(x) for x in faqs.read_text().splitlines()], [q for _, q, _ in QRELS],
                        [frozenset([f]) for _, _, f in QRELS])  # fmt: skip
    report = evaluate_retrieval(data, embed=topic_embed, model_id="topics", rrf_grid=[(60, 1.0), (DEFAULT_RRF_K, DEFAULT_WEIGHTS["rrf"]["bm25"])])
    textbook, default = report["rrf_grid"]
    assert textbook["weights"] == {"dense": 1.0, "bm25": 1.0}
    strip = lambda row: {k: v for k, v in row.items() if k not in ("rrf_k", "weights")}  # noqa: E731
    assert strip(textbook) == report["results"]["hybrid_rrf60"]
    assert strip(default) == report["results"]["hybrid_rrf"]


SE_QUESTIONS = [
    {"question_id": "1", "title": "How do I undo a git commit?", "question_text": "I committed too early.",
     "answers": [{"id": "11", "score": 1, "is_accepted": False, "text": "git revert"},
                 {"id": "12", "score": 5, "is_accepted": True, "text": "git reset HEAD~1"}]},
    {"question_id": "2", "title": "Delete my account", "question_text": "How?", "answers": []},
    {"question_id": "3", "title": "Strikethrough in markdown", "question_text": "", "answers": []},
    {"question_id": "4", "title": "Revert the last commit in git", "question_text": "Duplicate.", "answers": []},
    {"question_id": "5", "title": "Erase my profile and account", "question_text": "Please.", "answers": []},
]  # fmt: skip


@pytest.fixture
def se_site(tmp_path: Path) -> Path:
    derived = tmp_path / "site" / "derived"
    derived.mkdir(parents=True)
    (derived / "questions_with_answers.jsonl").write_text("".join(json.dumps(q) + "\n" for q in SE_QUESTIONS))
    (derived / "duplicate_links.tsv").write_text(
        "post_id\trelated_post_id\tpost_title\trelated_title\n4\t1\ta\tb\n5\t2\tc\td\n5\t3\te\tf\n5\t99\tg\th\n"
    )
    return tmp_path / "site"


def test_stackexchange_duplicates_as_queries(se_site: Path) -> None:
    data = load_stackexchange_duplicates(se_site)
    assert sorted(f["faq_id"] for f in data.faqs) == ["1", "2", "3"]  # the duplicates are not indexed
    assert next(f for f in data.faqs if f["faq_id"] == "1")["answers"] == ["git reset HEAD~1", "git revert"]
    assert dict(zip(data.queries, data.relevant)) == {
        "Revert the last commit in git": {"1"},
        "Erase my profile and account": {"2", "3"},  # 99 is no question of the site: dropped
    }
    with_body = load_stackexchange_duplicates(se_site / "derived", query_text="title_body")
    assert "Revert the last commit in git\nDuplicate." in with_body.queries
    with pytest.raises(EvalInputError, match="duplicate_links.tsv"):
        load_stackexchange_duplicates(se_site.parent)


SEMEVAL_XML = """<?xml version="1.0" encoding="UTF-8"?>
<xml>
<OrgQuestion ORGQ_ID="Q1"><OrgQSubject>Good bank</OrgQSubject><OrgQBody>Which bank in Doha?</OrgQBody>
 <Thread THREAD_SEQUENCE="Q1_R1"><RelQuestion RELQ_ID="Q1_R1" RELQ_RELEVANCE2ORGQ="PerfectMatch">
  <RelQSubject>Best bank</RelQSubject><RelQBody>Which bank is best?</RelQBody></RelQuestion>
  <RelComment RELC_ID="Q1_R1_C1"><RelCText>QNB</RelCText></RelComment></Thread></OrgQuestion>
<OrgQuestion ORGQ_ID="Q1"><OrgQSubject>Good bank</OrgQSubject><OrgQBody>Which bank in Doha?</OrgQBody>
 <Thread THREAD_SEQUENCE="Q1_R2"><RelQuestion RELQ_ID="Q1_R2" RELQ_RELEVANCE2ORGQ="Irrelevant">
  <RelQSubject>Car rental</RelQSubject><RelQBody>Cheap cars?</RelQBody></RelQuestion></Thread></OrgQuestion>
<OrgQuestion ORGQ_ID="Q2"><OrgQSubject>Rent a car</OrgQSubject><OrgQBody>Where to rent a car?</OrgQBody>
 <Thread THREAD_SEQUENCE="Q2_R1"><RelQuestion RELQ_ID="Q2_R1" RELQ_RELEVANCE2ORGQ="Relevant">
  <RelQSubject>Car rental</RelQSubject><RelQBody>Cheap cars?</RelQBody></RelQuestion></Thread></OrgQuestion>
<OrgQuestion ORGQ_ID="Q3"><OrgQSubject>Visa</OrgQSubject><OrgQBody>Visit visa?</OrgQBody>
 <Thread THREAD_SEQUENCE="Q3_R1"><RelQuestion RELQ_ID="Q3_R1" RELQ_RELEVANCE2ORGQ="Irrelevant">
  <RelQSubject>Best bank</RelQSubject><RelQBody>Which bank is best?</RelQBody></RelQuestion></Thread></OrgQuestion>
</xml>
"""


def test_semeval_subtask_b_as_retrieval(tmp_path: Path) -> None:
    xml = tmp_path / "semeval.xml"
    xml.write_text(SEMEVAL_XML)
    data = load_semeval_questions([xml])
    # identical RelQuestions are indexed once; Q3 has no relevant RelQuestion and is left out
    assert {f["faq_id"]: f["question"] for f in data.faqs} == {"0:Q1_R1": "Best bank. Which bank is best?", "0:Q1_R2": "Car rental. Cheap cars?"}
    assert next(f for f in data.faqs if f["faq_id"] == "0:Q1_R1")["answers"] == ["QNB"]
    assert dict(zip(data.queries, data.relevant)) == {
        "Good bank. Which bank in Doha?": {"0:Q1_R1"},
        "Rent a car. Where to rent a car?": {"0:Q1_R2"},
    }
    bad = tmp_path / "bad.xml"
    bad.write_text("<xml><OrgQuestion>")
    with pytest.raises(EvalInputError, match="bad.xml"):
        load_semeval_questions([bad])


def test_combine_grids_and_select_by_hand() -> None:
    def report(name: str, n: int, ndcgs: list[float]) -> dict:
        grid = [{"rrf_k": k, "weights": {"dense": 1.0, "bm25": w}, "mrr": v, "recall@1": v, "recall@5": v,
                 "recall@10": v, "ndcg@10": v} for (k, w), v in zip([(2, 0.5), (20, 1.0), (60, 1.0)], ndcgs)]  # fmt: skip
        return {"set": name, "queries": n, "rrf_grid": grid}

    # set A (10 queries) likes k=2; set B (90 queries) slightly prefers k=20
    combined = combine_grids([report("A", 10, [0.8, 0.5, 0.4]), report("B", 90, [0.50, 0.56, 0.55])])
    assert [r["mean"]["ndcg@10"] for r in combined] == [0.65, 0.53, 0.475]
    assert [r["pooled"]["ndcg@10"] for r in combined] == [0.53, 0.554, 0.535]  # pooled would pick k=20
    chosen = select_rrf(combined)
    assert (chosen["rrf_k"], chosen["weights"]["bm25"]) == (2, 0.5)  # each set counts once
    assert chosen["per_set"] == {"A": 0.8, "B": 0.5}
    tie = combine_grids([report("A", 1, [0.5, 0.5, 0.5])])
    assert select_rrf(tie)["rrf_k"] == 60  # equal NDCG and MRR: the larger k
    assert len(rrf_grid()) == 36


def test_cli_dev_set_and_grid(se_site: Path, tiny: tuple[Path, Path]) -> None:
    faqs, qrels = tiny
    runner = CliRunner()
    assert runner.invoke(search_command, ["--faqs", str(faqs)]).exit_code != 0  # --qrels missing
    no_dev = runner.invoke(search_command, ["--faqs", str(faqs), "--qrels", str(qrels), "--rrf-grid"])
    assert no_dev.exit_code != 0 and "never tunes on --faqs" in no_dev.output
    result = runner.invoke(search_command, ["--stackexchange", str(se_site), "--rrf-grid"])
    assert result.exit_code == 0, result.output
    assert "site duplicates: 2 queries over 3 FAQs" in result.output
    assert "[default]" in result.output and "hybrid: RRF k=1 (dense 1, bm25 0.3)" in result.output
    assert "hybrid: convex (dense 0.9, bm25 0.1)" in result.output and "chosen: k=" in result.output
    as_json = json.loads(runner.invoke(search_command, ["--stackexchange", str(se_site), "--rrf-grid", "--json"]).output)
    assert len(as_json["rrf_grid"]) == 36 and as_json["rrf_chosen"] in as_json["rrf_grid"]


@pytest.mark.integration
def test_stackfaq_hybrid_meets_the_floor(corpus: Path) -> None:
    """StackFAQ is held out: the default RRF's parameters were chosen on the dev sets only."""
    derived = corpus / "retrieval" / "stackfaq" / "derived"
    report = evaluate_search(derived / "faqs.jsonl", derived / "queries_qrels.tsv")
    res = report["results"]
    for mode in sorted(ROWS):
        m = res[mode]
        print(f"{mode:12} MRR {m['mrr']:.4f}  R@1 {m['recall@1']:.4f}  R@5 {m['recall@5']:.4f}  "
              f"R@10 {m['recall@10']:.4f}  NDCG@10 {m['ndcg@10']:.4f}")  # fmt: skip
    assert report["faqs"] == 125 and report["queries"] >= 1200
    assert report["settings"]["fusion"] == "rrf" and res["hybrid"] == res["hybrid_rrf"]
    assert res["dense"]["ndcg@10"] >= 0.97  # the bundled model on its own
    assert res["hybrid"]["ndcg@10"] >= 0.97  # the brief's floor (measured 0.9703; dense only 0.9768)
    assert res["bm25"]["ndcg@10"] < res["dense"]["ndcg@10"]
    assert res["hybrid"]["ndcg@10"] > res["hybrid_rrf60"]["ndcg@10"] + 0.03  # the textbook k = 60 does not
    # convex 0.9/0.1 is above dense only here, but its weights were set looking at this set
    assert res["hybrid_convex"]["ndcg@10"] >= res["dense"]["ndcg@10"]


@pytest.mark.integration
def test_rrf_defaults_are_what_the_dev_sets_select(corpus: Path) -> None:
    """DEFAULT_RRF_K / DEFAULT_WEIGHTS["rrf"] are reproducible from the dev sets alone (no StackFAQ)."""
    from index.search import DEFAULT_RRF_K, DEFAULT_WEIGHTS

    site = corpus / "threads" / "stackexchange" / "quantumcomputing.stackexchange.com"
    semeval = sorted((corpus / "threads" / "semeval2016").glob("SemEval2016-Task3-CQA-QL-train-part*.xml"))
    grid = rrf_grid()
    reports = [evaluate_retrieval(d, rrf_grid=grid) for d in (load_stackexchange_duplicates(site), load_semeval_questions(semeval))]
    chosen = select_rrf(combine_grids(reports))
    assert (chosen["rrf_k"], chosen["weights"]) == (DEFAULT_RRF_K, DEFAULT_WEIGHTS["rrf"])
    # On each dev set the chosen RRF is not below dense only by more than the 0.01 issue 10 allows
    # (Stack Exchange: 0.771 vs 0.773, one of its few queries a place lower).
    for r in reports:
        assert r["results"]["hybrid_rrf"]["ndcg@10"] >= r["results"]["dense"]["ndcg@10"] - 0.01
