"""`practice eval extraction`: the metric code on small hand-made fixtures, and one run on a slice of the real gold."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.eval_extraction import GoldError, faq_metrics, load_gold, merge_metrics, pattern_metrics
from pipeline.eval_extraction_run import gitter_jsonl, slack_jsonl
from pipeline.gold_units import FAQS_SOURCE, QUERIES_SOURCE, gold_split

SRC = "chat/list.mbox"


def _unit(key: str, is_q: bool, q: list[str], a: list[str], split: str = "dev") -> dict:
    return {"source": SRC, "format": "mbox", "thread_key": key, "is_question": is_q, "question_keys": q,
            "answer_keys": a, "answered": bool(a), "split": split}  # fmt: skip


def _faq(cid: str, q: str, a: list[str], conf: float = 0.5, source: str = SRC) -> dict:
    return {"id": cid, "kind": "faq", "open": not a, "confidence": conf,
            "evidence": {"question": [{"source": source, "key": q}], "answer": [{"source": source, "key": k} for k in a]}}  # fmt: skip


THREADS = [
    _unit("<u1>", True, ["<u1>"], ["<u1r1>"]),  # a question answered by its first reply
    _unit("<u2>", True, ["<u2>"], []),  # a question nobody answered
    _unit("<u3>", False, [], []),  # an announcement
]
UNIT_OF = {(SRC, k): u for u, ks in {"<u1>": ["<u1>", "<u1r1>", "<u1r2>"], "<u2>": ["<u2>"], "<u3>": ["<u3>"]}.items() for k in ks}


def test_faq_metrics_count_precision_recall_and_answers_by_hand():
    cands = [
        _faq("c1", "<u1>", ["<u1r1>"]),  # right question, right answer
        _faq("c2", "<u3>", []),  # the announcement taken for a FAQ
        _faq("c3", "<u1r2>", [], conf=0.9),  # a closer of u1: same unit, not the problem message
        _faq("c4", "<elsewhere>", []),  # outside every gold unit: not scored
    ]
    m = faq_metrics(THREADS, UNIT_OF, cands, "dev")
    assert (m["faq_precision"]["hits"], m["faq_precision"]["n"]) == (2, 3)
    assert (m["faq_precision_strict"]["hits"], m["faq_precision_strict"]["n"]) == (1, 3)
    assert (m["faq_recall"]["hits"], m["faq_recall"]["n"]) == (1, 2)
    # u1 is represented by c1 (on the problem message) although c3 is more confident.
    assert (m["answer_accuracy"]["hits"], m["answer_accuracy"]["n"]) == (1, 1)
    assert (m["answered_shown_open"]["hits"], m["answered_shown_open"]["n"]) == (0, 1)


def test_an_answered_question_shown_open_and_a_wrong_answer_are_counted():
    m = faq_metrics(THREADS, UNIT_OF, [_faq("c1", "<u1>", [])], "dev")
    assert (m["answered_shown_open"]["hits"], m["answer_accuracy"]["hits"]) == (1, 0)
    m = faq_metrics(THREADS, UNIT_OF, [_faq("c1", "<u1>", ["<u1r2>"])], "dev")
    assert (m["answered_shown_open"]["hits"], m["answer_accuracy"]["hits"], m["answer_accuracy"]["n"]) == (0, 0, 1)


def test_faq_metrics_keep_the_splits_apart():
    threads = [_unit("<u1>", True, ["<u1>"], ["<u1r1>"], split="heldout"), *THREADS[1:]]
    dev = faq_metrics(threads, UNIT_OF, [_faq("c1", "<u1>", ["<u1r1>"])], "dev")
    held = faq_metrics(threads, UNIT_OF, [_faq("c1", "<u1>", ["<u1r1>"])], "heldout")
    assert dev["faq_precision"]["n"] == 0 and dev["faq_recall"]["n"] == 1
    assert (held["faq_precision"]["hits"], held["faq_recall"]["hits"]) == (1, 1)


def _pattern(loc: dict) -> dict:
    return {"id": "p", "kind": "pattern", "evidence": {"recommendation": [loc]}}


def test_pattern_precision_matches_sections_spans_and_cues():
    sections = [
        {"source": "docs/a.md", "section": ["Guide", "Do This {#do}"], "label": "practice", "split": "dev"},
        {"source": "docs/a.md", "section": ["Guide", "Goals"], "label": "none", "split": "dev"},
    ]
    spans = [
        {"source": "meetings/qmsum/test.jsonl#3", "turns": [10, 12], "label": "decision", "split": "dev"},
        {"source": "meetings/z.vtt", "turns": ["00:01:00.000", "00:02:00.000"], "label": "none", "split": "dev"},
    ]
    patterns = [
        _pattern({"source": "docs/a.md", "section": ["do  this"]}),  # outer heading dropped, anchor and case normalised
        _pattern({"source": "docs/a.md", "section": ["Guide", "Goals"]}),  # a generic heading: wrong
        _pattern({"source": "meetings/qmsum/test.jsonl#3", "turn": 11}),
        _pattern({"source": "meetings/z.vtt", "time": 90.0}),
        _pattern({"source": "docs/a.md", "section": ["Elsewhere"]}),  # unlabelled: not scored
        _pattern({"source": "docs/a.md", "section": ["Guide", "Do This", "Step one"]}),  # a subsection of a practice
        _pattern({"source": "docs/a.md", "section": ["Guide", "Goals", "Practice inside"]}),  # deepest labelled section decides
    ]
    m = pattern_metrics(sections, spans, patterns, "dev")["pattern_precision"]
    assert (m["hits"], m["n"]) == (3, 6)
    sections.append({"source": "docs/a.md", "section": ["Guide", "Goals", "Practice inside"], "label": "checklist", "split": "dev"})
    m = pattern_metrics(sections, spans, patterns, "dev")["pattern_precision"]
    assert (m["hits"], m["n"]) == (4, 6)


def test_wrong_merges_come_from_pairs_and_known_distinct_items():
    faq = lambda k: {"source": FAQS_SOURCE, "key": k}  # noqa: E731
    query = {"source": QUERIES_SOURCE, "key": "faq0001_q00"}
    cands = [
        {"id": "a", "kind": "faq", "evidence": {"question": [faq("faq0001")]}},
        {"id": "b", "kind": "faq", "evidence": {"question": [faq("faq0002")]}},
        {"id": "c", "kind": "faq", "evidence": {"question": [query]}},
        {"id": "d", "kind": "faq", "evidence": {"question": [{"source": SRC, "key": "<u1>"}]}},
        {"id": "e", "kind": "faq", "evidence": {"question": [{"source": SRC, "key": "<u2>"}]}},
    ]
    pairs = [{"a": query, "b": faq("faq0001"), "same": True, "split": "dev"}]
    # A~C (paraphrase), B joined through the chain: A-B wrong (two entries of one FAQ page), B-C unjudged.
    # d and e: two gold questions folded together: wrong.
    arts = [{"id": "x", "kind": "faq", "members": ["a", "b", "c"]}, {"id": "y", "kind": "faq", "members": ["d", "e"]}]
    by_split = {s: merge_metrics(THREADS, pairs, UNIT_OF, cands, arts, s)["wrong_merge_rate"] for s in ("dev", "heldout")}
    expected_wrong = {"dev": 0, "heldout": 0}
    expected_total = {"dev": 1, "heldout": 0}  # the judged positive pair is in dev
    for pair in (("faq:faq0001", "faq:faq0002"), (f"unit:{SRC}#<u1>", f"unit:{SRC}#<u2>")):
        split = gold_split("|".join(sorted(pair)))
        expected_wrong[split] += 1
        expected_total[split] += 1
    for s in ("dev", "heldout"):
        assert (by_split[s]["hits"], by_split[s]["n"]) == (expected_wrong[s], expected_total[s])
    merged = merge_metrics(THREADS, pairs, UNIT_OF, cands, arts, "dev")["same_pairs_merged"]
    assert (merged["hits"], merged["n"]) == (1, 1)


def test_load_gold_names_the_file_and_line_of_a_bad_row(tmp_path):
    (tmp_path / "threads.jsonl").write_text(json.dumps(_unit("<u1>", True, [], [])) + "\n{\"split\": \"test\"}\n")
    with pytest.raises(GoldError, match=r"threads.jsonl:2: 'split'"):
        load_gold(tmp_path)
    with pytest.raises(GoldError, match="none of"):
        load_gold(tmp_path / "missing")


def test_chat_is_converted_without_its_conversation_boundaries(tmp_path):
    room = tmp_path / "room.txt"
    room.write_text(
        "[2016-12-02 10:00:05] <bob> second conversation starts\n"
        + "-" * 40 + "\n"
        + "[2016-12-01 09:00:00] <ann> how do I X?\n"
        + "3 [2016-12-01 09:00:00] <ann> (still ann, same second)\n"
    )
    gitter_jsonl(room, tmp_path / "room.jsonl")
    rows = [json.loads(line) for line in (tmp_path / "room.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == ["2016-12-01 09:00:00 ann", "2016-12-01 09:00:00 ann#2", "2016-12-02 10:00:05 bob"]
    assert all("thread" not in r and "reply_to" not in r for r in rows)
    corpus = tmp_path / "corpus"
    (corpus / "chat/slack_disentangled").mkdir(parents=True)
    (corpus / "chat/slack_disentangled/racket-general-2019.xml").write_text(
        '<slack><message conversation_id="7"><ts>2019-01-01T00:00:01.1</ts><user>Ann</user><text>Q?</text></message></slack>'
    )
    slack_jsonl(corpus, tmp_path / "slack.jsonl")
    row = json.loads((tmp_path / "slack.jsonl").read_text())
    assert row["id"] == "2019-01-01T00:00:01.1" and "thread" not in row and "7" not in json.dumps(row)


@pytest.mark.integration
def test_eval_extraction_on_a_slice_of_the_real_gold(tmp_path):
    """The command end to end on six mailing-list threads of bench/gold: the product's candidates map back to them."""
    from click.testing import CliRunner

    from pipeline.cli import main
    from pipeline.gold_units import DEFAULT_CORPUS

    if not DEFAULT_CORPUS.is_dir():
        pytest.fail(f"the shared corpus is missing: {DEFAULT_CORPUS}")
    gold = Path(__file__).resolve().parents[1] / "bench" / "gold" / "threads.jsonl"
    rows = [json.loads(line) for line in gold.read_text(encoding="utf-8").splitlines()]
    mbox = [r for r in rows if r["format"] == "mbox"]
    picked = [r for r in mbox if r["split"] == "dev"][:4] + [r for r in mbox if r["split"] == "heldout"][:2]
    (tmp_path / "gold").mkdir()
    (tmp_path / "gold" / "threads.jsonl").write_text("".join(json.dumps(r) + "\n" for r in picked))
    result = CliRunner().invoke(main, ["eval", "extraction", "--gold", str(tmp_path / "gold"), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    for split in ("dev", "heldout"):
        questions = sum(r["is_question"] for r in picked if r["split"] == split)
        res = report["results"][split]
        assert res["faq_recall"]["n"] == questions
        assert res["faq_precision"]["n"] >= 1  # provenance maps the product's questions back to the gold threads
        assert res["pattern_precision"]["n"] == 0  # no section or span gold in the slice


def test_faq_metrics_by_format_only_count_that_formats_units():
    from pipeline.eval_extraction import score_by_format

    other = {**_unit("7", True, ["7"], ["8"]), "source": "se/Posts.xml", "format": "stackexchange"}
    unit_of = {**UNIT_OF, ("se/Posts.xml", "7"): "7", ("se/Posts.xml", "8"): "7"}
    output = {"candidates": [_faq("c1", "<u1>", ["<u1r1>"]), _faq("c2", "7", [], source="se/Posts.xml")], "artefacts": []}
    res = score_by_format([*THREADS, other], unit_of, output)
    assert (res["mbox"]["dev"]["faq_recall"]["n"], res["mbox"]["dev"]["answered_shown_open"]["hits"]) == (2, 0)
    assert (res["stackexchange"]["dev"]["faq_recall"]["n"], res["stackexchange"]["dev"]["answered_shown_open"]["hits"]) == (1, 1)
