"""Duplicate-scoring evaluation: metrics by hand, the readers, the CLI, and the real SemEval run."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import pipeline.eval_duplicates as ev
from pipeline.cli_eval_duplicates import duplicates_command
from pipeline.eval_duplicates import (
    EvalInputError,
    average_precision,
    best_f1_threshold,
    evaluate_semeval,
    load_semeval_pairs,
    mean_average_precision,
    precision_at_recall,
    prf_at,
    read_mrpc,
    read_pairs_tsv,
    recall_at_precision,
    threshold_at_precision,
)
from tests.index.test_duplicates import fake_embed

T, F = True, False
SCORES = [0.9, 0.8, 0.7, 0.6, 0.5]
LABELS = [T, F, T, F, T]


# --------------------------------------------------------------------------- metrics


def test_prf_at_by_hand() -> None:
    m = prf_at(SCORES, LABELS, 0.7)  # predicted: .9 .8 .7 → 2 of 3 right, 2 of 3 duplicates found
    assert (m["precision"], m["recall"], m["tp"], m["predicted"]) == (pytest.approx(2 / 3), pytest.approx(2 / 3), 2, 3)
    assert m["f1"] == pytest.approx(2 / 3)
    nothing = prf_at(SCORES, LABELS, 2.0)
    assert (nothing["precision"], nothing["recall"], nothing["f1"]) == (1.0, 0.0, 0.0)


def test_average_precision_by_hand_and_ties_are_pessimistic() -> None:
    assert average_precision(SCORES, LABELS) == pytest.approx((1 / 1 + 2 / 3 + 3 / 5) / 3)
    assert average_precision([0.5, 0.5], [T, F]) == pytest.approx(0.5)  # the tie puts the miss first
    assert average_precision([0.1, 0.2], [F, F]) == 0.0


def test_threshold_metrics_by_hand() -> None:
    best = best_f1_threshold(SCORES, LABELS)  # cuts: P/R = 1/.33, .5/.33, .67/.67, .5/.67, .6/1 → F1 .5,.4,.67,.57,.75
    assert best["threshold"] == 0.5 and best["f1"] == pytest.approx(0.75)
    assert threshold_at_precision(SCORES, LABELS, 0.9) == 0.9
    assert threshold_at_precision(SCORES, LABELS, 0.6) == 0.5  # the lowest cut still at ≥ 0.6
    assert threshold_at_precision([0.9, 0.8], [F, T], 0.9) is None
    assert recall_at_precision(SCORES, LABELS, 0.9) == pytest.approx(1 / 3)
    assert recall_at_precision([0.9], [F], 0.9) == 0.0
    assert precision_at_recall(SCORES, LABELS, 0.5) == pytest.approx(2 / 3)
    assert precision_at_recall(SCORES, LABELS, 0.25) == 1.0


def test_mean_average_precision_follows_the_official_scorer() -> None:
    groups = ["q1", "q1", "q1", "q2", "q2", "q3"]
    relevant = [F, T, T, T, F, F]
    scores = [0.9, 0.8, 0.1, 0.2, 0.7, 0.5]
    # q1: ranks F T T → (1/2 + 2/3) / 2; q2: F T → 1/2; q3: no relevant item → 0 (kept by default)
    q1, q2 = (1 / 2 + 2 / 3) / 2, 1 / 2
    assert mean_average_precision(groups, relevant, scores) == pytest.approx((q1 + q2 + 0) / 3)
    assert mean_average_precision(groups, relevant, scores, ignore_noanswer=True) == pytest.approx((q1 + q2) / 2)
    # ties keep input order (the search engine's order when the input is in that order)
    assert mean_average_precision(["g", "g"], [F, T], [1.0, 1.0]) == pytest.approx(0.5)
    # only the top 10 count
    assert mean_average_precision(["g"] * 11, [F] * 10 + [T], list(range(11, 0, -1))) == 0.0


# --------------------------------------------------------------------------- readers


def test_read_pairs_tsv_fixture(fixtures: Path) -> None:
    ps = read_pairs_tsv(fixtures / "pairs" / "mini.tsv")
    assert len(ps) == 4 and ps.kind == "faq"
    assert ps.ids_a == ["a1", "a2", "a3", "a4"] and ps.ids_b == ["b1", "b2", "b3", "b4"]
    assert ps.labels == [T, T, F, F]
    assert ps.bodies_a[0].startswith("Hi all, where can I rent")
    assert read_pairs_tsv(fixtures / "pairs" / "mini.tsv", kind="pattern").kind == "pattern"


def test_read_pairs_tsv_without_header_and_errors(tmp_path: Path) -> None:
    f = tmp_path / "p.tsv"
    f.write_text("# comment\nx\tone\ty\ttwo\t1\n\nz\tthree\tw\tfour\t0\n", encoding="utf-8")
    assert read_pairs_tsv(f).labels == [T, F]
    f.write_text("x\tone\ty\ttwo\t1\nz\tthree\tw\tfour\tyes\n", encoding="utf-8")
    with pytest.raises(EvalInputError, match=r"p.tsv:2: label must be 0 or 1"):
        read_pairs_tsv(f)
    f.write_text("x\tone\ty\t1\n", encoding="utf-8")
    with pytest.raises(EvalInputError, match="expected 5 tab-separated fields"):
        read_pairs_tsv(f)
    f.write_text("id1\ttext1\tid2\ttext2\tlabel\n", encoding="utf-8")
    with pytest.raises(EvalInputError, match="no pairs"):
        read_pairs_tsv(f)
    with pytest.raises(EvalInputError, match="no such file"):
        read_pairs_tsv(tmp_path / "missing.tsv")
    with pytest.raises(EvalInputError, match="unknown kind"):
        read_pairs_tsv(f, kind="recipe")


def test_read_mrpc_with_the_glued_line_of_the_distributed_file(tmp_path: Path) -> None:
    f = tmp_path / "mrpc.txt"
    f.write_text(
        "\ufeffQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\n"
        "1\t1\t2\tThe cat sat.\tA cat was sitting.\n"
        "0\t3\t4\tBonds rose.\tBonds fell late Wednesday.0\t5\t6\tRovers act as geologists.\tRovers move on wheels.\n",
        encoding="utf-8",
    )
    ps = read_mrpc(f)
    assert ps.kind == "pattern" and ps.labels == [T, F, F]
    assert ps.ids_a == ["1", "3", "5"] and ps.bodies_b[1] == "Bonds fell late Wednesday."
    assert ps.bodies_a[2] == "Rovers act as geologists."


def test_load_semeval_pairs_fixture(fixtures: Path) -> None:
    ps = load_semeval_pairs(fixtures / "semeval" / "mini.xml")
    assert ps.ids_a == ["Q1", "Q2"] and ps.ids_b == ["Q1_R1", "Q2_R1"]
    assert ps.labels == [T, F]  # PerfectMatch is a duplicate, Relevant is not
    assert ps.relevant == [T, T] and ps.group == ["Q1", "Q2"] and ps.engine_rank == [1, 1]
    assert ps.titles_a == ["car rental", "visa"] and ps.titles_b[0] == "Monthly car rental price?"


def test_load_semeval_pairs_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_text("<root><OrgQuestion>", encoding="utf-8")
    with pytest.raises(EvalInputError, match="not valid XML"):
        load_semeval_pairs(bad)
    bad.write_text("<root/>", encoding="utf-8")
    with pytest.raises(EvalInputError, match="no RelQuestion"):
        load_semeval_pairs(bad)


# --------------------------------------------------------------------------- CLI


@pytest.fixture
def fake_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ev, "_default_encode", lambda: fake_embed)


def test_cli_pairs_table_json_and_out(fixtures: Path, tmp_path: Path, fake_model: None) -> None:
    tsv = fixtures / "pairs" / "mini.tsv"
    runner = CliRunner()
    res = runner.invoke(duplicates_command, ["--pairs", str(tsv)])
    assert res.exit_code == 0, res.output
    assert "4 pairs, 2 duplicates" in res.output and "ours at merge" in res.output and "cosine" in res.output

    res = runner.invoke(duplicates_command, ["--pairs", str(tsv), "--kind", "pattern", "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.output)
    assert report["kind"] == "pattern" and "pairs_scored" not in report
    all_ = report["results"]["all"]
    assert all_["pairs"] == 4 and all_["duplicates"] == 2
    assert set(all_["ours"]) >= {"average_precision", "at_merge", "at_suggest", "best_f1", "calibration"}

    out = tmp_path / "scores.tsv"
    res = runner.invoke(duplicates_command, ["--pairs", str(tsv), "--out", str(out)])
    assert res.exit_code == 0, res.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "set\tid1\tid2\tlabel\tscore\tcosine\tlexical\tdecision" and len(lines) == 5
    first = lines[1].split("\t")
    assert first[1:4] == ["a1", "b1", "1"] and first[7] in ("merge", "suggest", "distinct")
    # the duplicates outscore the distinct pairs even with the fake embedding
    scores = [float(x.split("\t")[4]) for x in lines[1:]]
    assert min(scores[:2]) > max(scores[2:])


def test_cli_semeval_reports_ranking_and_combined(fixtures: Path, fake_model: None) -> None:
    xml = fixtures / "semeval" / "mini.xml"
    res = CliRunner().invoke(duplicates_command, ["--semeval", str(xml), "--semeval", str(xml), "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.output)
    assert set(report["results"]) == {"mini.xml", "combined"}
    rk = report["results"]["combined"]["ranking"]
    assert set(rk) >= {"ours", "cosine", "search_engine"} and rk["queries"] == 2
    table = CliRunner().invoke(duplicates_command, ["--semeval", str(xml)])
    assert table.exit_code == 0 and "search_engine" in table.output and "MAP-ans" in table.output


def test_cli_usage_and_input_errors(tmp_path: Path, fake_model: None) -> None:
    runner = CliRunner()
    res = runner.invoke(duplicates_command, [])
    assert res.exit_code == 2 and "exactly one of" in res.output
    res = runner.invoke(duplicates_command, ["--pairs", str(tmp_path / "missing.tsv")])
    assert res.exit_code == 1 and "no such file" in res.output


# --------------------------------------------------------------------------- real data


@pytest.mark.integration
@pytest.mark.parametrize("backend", ["torch", "torch-bf16"])
def test_semeval_parts_1_and_2_reach_the_targets(corpus: Path, backend: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Real SemEval-2016 subtask B, train parts 1 + 2 (thresholds calibrated on part 1 only, with fp32 torch).

    Every target on both backends, but the calibration check itself (precision ≥ 0.90 on part 1 at
    the merge threshold), which holds on the backend the threshold was calibrated on: the threshold
    is part 1's lowest score with precision 0.90 (9 of 10 pairs), and torch-bf16 moves the 10th pair
    0.0004 under it (8 of 9: 0.889).

    Reached: ranking MAP ≥ 0.87 (issue 4 asked 0.88; 0.8783 since issue 10's shared toolkit) over parts 1+2 (questions with a relevant related question, the
    scorer's --ignore_noanswer, the convention the target was set on) above plain cosine and the
    search engine; more recall than plain cosine at precision ≥ 0.90; precision ≥ 0.90 at the
    merge threshold on part 1. NOT reached (reported, not asserted): precision ≥ 0.90 with recall
    ≥ 0.25 — at the merge threshold parts 1+2 give P ≈ 0.87 at R ≈ 0.09.
    """
    monkeypatch.setenv("PRACTICE_EMBEDDING_BACKEND", backend)
    folder = corpus / "threads" / "semeval2016"
    parts = [folder / "SemEval2016-Task3-CQA-QL-train-part1.xml", folder / "SemEval2016-Task3-CQA-QL-train-part2.xml"]
    t0 = time.perf_counter()
    report = evaluate_semeval(parts)
    elapsed = time.perf_counter() - t0
    both, part1 = report["results"]["combined"], report["results"][parts[0].name]
    rk = both["ranking"]
    # Issue 4's target was 0.88 (0.8802 then); the shared text toolkit of issue 10 (one stop list and
    # stemmer for the whole product) gives 0.8783, and issue 10 allows a fall of at most 0.01.
    assert rk["ours"]["map_answerable"] >= 0.87
    assert rk["ours"]["map_answerable"] > rk["cosine"]["map_answerable"] > rk["search_engine"]["map_answerable"]
    assert rk["ours"]["map"] > rk["cosine"]["map"]  # also with the official default convention
    if backend == "torch":
        assert part1["ours"]["at_merge"]["precision"] >= 0.90  # calibration data
    # 0.867 before issue 10's shared text toolkit, 0.833 after: 18 predicted pairs (15 true, 3 false,
    # against 13 and 2 before), so one pair moves it by about 0.05.
    assert both["ours"]["at_merge"]["precision"] >= 0.80
    assert both["ours"]["recall_at_precision_0.90"] > both["cosine"]["recall_at_precision_0.90"]
    assert both["ours"]["average_precision"] > both["cosine"]["average_precision"]
    assert elapsed < 600


def test_faq_report_shows_the_merges_the_merge_guard_leaves() -> None:
    """`at_merge_guarded`: the pairs the dedupe stage merges (index.same_ask), next to the bare score's."""
    others = ["How do I reset my router password?", "Which laptop battery lasts longest?",
              "Why does my bread not rise?", "Where can I renew a passport?"]  # fmt: skip
    ps = ev.PairSet(name="guard", kind="faq")
    # Shared frame, different thing asked about; the embeddings are far apart (cosine 0.71).
    ps.add("a", "What precisely is annealing?", "", "b", "What precisely is reverse annealing?", "", False)
    ps.add("c", others[0], "", "d", others[1], "", False)
    ps.add("e", others[2], "", "f", others[3], "", False)

    def encode(texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), 8), dtype=np.float32)
        for i, t in enumerate(texts):
            if "reverse" in t:
                out[i, 0], out[i, 1] = 0.71, float(np.sqrt(1 - 0.71**2))
            elif "annealing" in t:
                out[i, 0] = 1.0
            else:
                out[i, 2 + others.index(t.split("\n")[0])] = 1.0
        return out

    report = ev.classification_report(ps, ev.score_pairset(ps, ev.DuplicateScorer(), encode), ev.DuplicateScorer())
    assert report["ours"]["at_merge"]["predicted"] == 1  # 0.71 + 0.3 · shared rare words: over the threshold
    assert report["ours"]["at_merge_guarded"]["predicted"] == 0  # the guard leaves it a suggestion
