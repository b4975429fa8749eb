"""Calibrate the relevance floor (`index.relevance`) on labelled queries: which have a good answer?

The set (`floor_set`), built so that "no good answer" is as realistic as "a good answer":

* the index: half of the StackFAQ entries (even positions in ``faqs.jsonl``), indexed as
  `practice publish` indexes FAQs, plus distractor questions from another dataset (the titles of a
  Stack Exchange site's questions, e.g. quantumcomputing) so the index is not tiny;
* answerable queries: the StackFAQ paraphrases of the indexed entries (label True);
* unanswerable queries (label False): the paraphrases of the entries *left out* of the index (same
  style and domain: the hardest case), other datasets' questions (SemEval-2016 Qatar Living
  subjects, QMSum meeting queries) and seeded gibberish.

Split: StackFAQ queries by their FAQ (never two paraphrases of one FAQ on both sides), the others
by position; the floor and the strong threshold are chosen on ``dev`` only and reported on
``test``. The signal is the dense cosine of the best hit of hybrid search (what the Searcher
applies); the BM25 score of the top hit is reported beside it, chosen the same way, to show why a
per-query-comparable signal is needed.
"""

from __future__ import annotations

import csv
import json
import random
import string
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index.relevance import choose_floor, choose_strong, rates
from pipeline.eval_search import EvalInputError, load_faqs, load_qrels

__all__ = ["FloorQuery", "evaluate_floor", "floor_set", "gibberish", "read_qmsum_queries", "read_semeval_subjects"]


@dataclass(frozen=True)
class FloorQuery:
    """One labelled query: its text, whether the index answers it, its group and split."""

    text: str
    answerable: bool
    group: str  # "stackfaq", "stackfaq_left_out", "semeval", "qmsum", "gibberish"
    split: str  # "dev" or "test"
    relevant: str | None = None  # the FAQ id that answers it (answerable queries)


def gibberish(n: int, seed: int = 13) -> list[str]:
    """``n`` seeded nonsense queries: keyboard runs and random letter words, 1 to 4 words."""
    rng = random.Random(seed)
    rows = ["qwertyuiop", "asdfghjkl", "zxcvbnm", "1234567890"]
    out = []
    for _ in range(n):
        words = []
        for _ in range(rng.randint(1, 4)):
            if rng.random() < 0.4:
                row = rng.choice(rows)
                i = rng.randrange(len(row) - 3)
                words.append(row[i : i + rng.randint(3, len(row) - i)])
            else:
                words.append("".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(3, 10))))
        out.append(" ".join(words))
    return out


def read_semeval_subjects(paths: Sequence[Path], limit: int, seed: int = 13) -> list[str]:
    """Distinct question subjects of SemEval-2016 derived subtask B TSVs (a seeded sample of ``limit``)."""
    subjects: set[str] = set()
    for path in paths:
        try:
            with open(path, encoding="utf-8", newline="") as fh:
                for row in csv.DictReader(fh, delimiter="\t"):
                    for key in ("orgq_subject", "relq_subject"):
                        text = (row.get(key) or "").strip()
                        if len(text.split()) >= 2:
                            subjects.add(text)
        except (OSError, csv.Error) as exc:
            raise EvalInputError(f"{path}: cannot read SemEval subjects: {exc}") from exc
    if not subjects:
        raise EvalInputError(f"{', '.join(map(str, paths))}: no orgq_subject / relq_subject column with text")
    ordered = sorted(subjects)
    random.Random(seed).shuffle(ordered)
    return ordered[:limit]


def read_qmsum_queries(path: Path) -> list[str]:
    """The specific and general queries of a QMSum JSONL file."""
    out: list[str] = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise EvalInputError(f"{path}: cannot read QMSum queries: {exc}") from exc
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            out += [q["query"] for key in ("specific_query_list", "general_query_list") for q in row.get(key) or []]
        except (ValueError, KeyError, TypeError) as exc:
            raise EvalInputError(f"{path}: line {n} is not a QMSum meeting: {exc}") from exc
    return sorted(set(out))


def _titles(site: Path) -> list[dict[str, Any]]:
    """A Stack Exchange site's question titles as distractor FAQs."""
    path = Path(site) / "derived" / "questions_with_answers.jsonl"
    if not path.is_file():
        raise EvalInputError(f"{path}: no such file (expected a Stack Exchange site folder with derived/)")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [{"faq_id": f"distractor:{r['question_id']}", "question": r["title"], "answers": []} for r in rows if r.get("title")]


def floor_set(
    faqs_path: Path, qrels_path: Path, distractors: Path | None, off_topic: dict[str, list[str]]
) -> tuple[list[dict[str, Any]], list[FloorQuery]]:
    """The FAQs to index and the labelled queries (module docstring); off_topic: group -> queries."""
    faqs = load_faqs(faqs_path)
    position = {f["faq_id"]: i for i, f in enumerate(faqs)}
    indexed = [f for i, f in enumerate(faqs) if i % 2 == 0]
    queries = []
    for q in load_qrels(qrels_path):
        i = position.get(q["relevant_faq_id"])
        if i is None:
            raise EvalInputError(f"{qrels_path}: {q['query_id']} names FAQ {q['relevant_faq_id']!r}, not in {faqs_path}")
        answerable = i % 2 == 0
        split = "dev" if (i // 2) % 2 == 0 else "test"
        queries.append(FloorQuery(q["query"], answerable, "stackfaq" if answerable else "stackfaq_left_out", split,
                                  q["relevant_faq_id"] if answerable else None))  # fmt: skip
    for group, texts in off_topic.items():
        queries += [FloorQuery(t, False, group, "dev" if j % 2 == 0 else "test") for j, t in enumerate(texts)]
    return indexed + (_titles(distractors) if distractors is not None else []), queries


def _signals(faqs: list[dict[str, Any]], queries: list[FloorQuery], embed: Callable[[list[str]], np.ndarray], model_id: str) -> list[dict[str, Any]]:
    """Per query: the best hit's dense cosine, the top hit's BM25 score, and whether the top hit is right."""
    from index.release import build_release
    from index.search import Searcher
    from pipeline.eval_search import faq_payloads
    from pipeline.models import Artefact, CandidateKind
    from pipeline.publish import dense_text, keyword_text

    artefacts = [Artefact(id=f["faq_id"], kind=CandidateKind.faq, question=f["question"], answer="\n".join(f["answers"])) for f in faqs]
    vectors = embed([dense_text(a) for a in artefacts])
    with tempfile.TemporaryDirectory(prefix="practice-eval-floor-") as tmp:
        root = Path(tmp) / "releases"
        build_release(root, faq_payloads(faqs), vectors, [keyword_text(a) for a in artefacts], model_id, "exact")
        searcher = Searcher.open(root, embed=embed)  # no floor: the raw signals are what is measured
        hybrid = searcher.search_batch([q.text for q in queries], k=10)
        bm25 = searcher.search_batch([q.text for q in queries], k=1, mode="bm25")
    out = []
    for q, hits, b in zip(queries, hybrid, bm25):
        cosines = [h.dense_score for h in hits if h.dense_score is not None]
        out.append({
            "cosine": max(cosines) if cosines else -1.0,
            "top_cosine": hits[0].dense_score if hits and hits[0].dense_score is not None else -1.0,
            "top_right": bool(hits) and q.relevant is not None and hits[0].id == q.relevant,
            "bm25": b[0].score if b else 0.0,
        })  # fmt: skip
    return out


def _split(rows: list[tuple[FloorQuery, dict[str, Any]]], split: str) -> list[tuple[FloorQuery, dict[str, Any]]]:
    return [(q, s) for q, s in rows if q.split == split]


def _round(r: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in r.items()}


def evaluate_floor(
    faqs: list[dict[str, Any]], queries: list[FloorQuery], embed: Callable[[list[str]], np.ndarray], model_id: str
) -> dict[str, Any]:
    """Choose the floor and the strong threshold on dev; precision and recall on test (module docstring)."""
    rows = list(zip(queries, _signals(faqs, queries, embed, model_id)))
    dev, test = _split(rows, "dev"), _split(rows, "test")
    report: dict[str, Any] = {"model_id": model_id, "indexed": len(faqs), "signals": {}}
    report["queries"] = {
        split: {g: sum(1 for q, _ in part if q.group == g) for g in sorted({q.group for q, _ in rows})}
        for split, part in (("dev", dev), ("test", test))
    }
    for signal in ("cosine", "bm25"):
        chosen = choose_floor([s[signal] for _, s in dev], [q.answerable for q, _ in dev])
        held = rates([s[signal] for _, s in test], [q.answerable for q, _ in test], chosen["threshold"])
        report["signals"][signal] = {"dev": _round(chosen), "test": _round(held)}
    floor = report["signals"]["cosine"]["dev"]["threshold"]
    # "strong" is about the top hit being *the* answer, so it is chosen among answerable queries
    # and unanswerable ones alike (a confident wrong answer counts against it).
    strong = choose_strong([s["top_cosine"] for _, s in dev], [s["top_right"] for _, s in dev], at_least=floor)
    report["floor"] = floor
    report["strong"] = strong["threshold"]
    report["strong_dev"] = _round(strong)
    report["strong_test"] = _round(rates([s["top_cosine"] for _, s in test], [s["top_right"] for _, s in test], strong["threshold"]))
    report["test_by_group"] = {
        g: {
            "queries": len(part),
            "shown_an_answer": round(sum(s["cosine"] >= floor for _, s in part) / len(part), 4),
        }
        for g in sorted({q.group for q, _ in test})
        for part in [[(q, s) for q, s in test if q.group == g]]
    }
    return report
