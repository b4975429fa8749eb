"""Calibrate and evaluate the answer-agreement merge rule (index.answer_agreement) on SemEval-2016.

Run: ``.venv/bin/python -m pipeline.eval_answer_agreement [--part1 FILE] [--part2 FILE] [--json]``
(3–10 minutes on 2 CPUs: every thread's replies are ranked with the bundled model).

Labelled pairs (SemEval-2016 Task 3, subtask B files). Under one OrgQuestion every two distinct
RelQuestions form a pair:

* both ``PerfectMatch`` → **duplicate**. Derived, not annotated: each asks what the original asks,
  hence (transitively) each other. The derivation adds noise: annotators judged each RelQuestion
  against the original only.
* ``PerfectMatch`` × ``Irrelevant`` → **distinct** (one asks the original's question, the other
  does not).
* ``PerfectMatch`` × ``Relevant`` → its own group, **related**: a related but not identical
  question. Not in the precision denominator (the brief's strict reading), but reported: how many
  of them the rule merges, and precision if they were counted as errors (the reading under which
  the question-only merge threshold was calibrated).
* Relevant × Relevant, Relevant × Irrelevant and Irrelevant × Irrelevant carry no label for the
  pair (two questions off the original may or may not match each other) and are dropped.

A pair's *question score* is the calibrated faq duplicate score (``DuplicateScorer``: cosine of
``embedding_text_for`` + 0.3 · idf lexical overlap of ``texts_for``, idf over the file's
RelQuestions), as ``pipeline.eval_duplicates`` computes it. A RelQuestion's *answer* is its top
reply by ``extractors.answer_ranking.rank_replies`` when ``is_credible`` holds (what the thread
→ FAQ extractor stores as the answer; otherwise the FAQ is open and has no answer). Answer
similarity = cosine of the embeddings of ``answer_text_for(answer)``.

Other answer definitions tried on part 1 (average precision of the question-score band
[0.543, 0.8935), duplicate vs distinct, as a second signal): mean of all non-asker comments
(slightly better: it is not what an artefact has), first non-asker comment (worse), cross
relevance answer(A)·question(B) and idf overlap of answer words (no better). Part 2's
comment-level Good labels (mean of Good comments) were looked at as an oracle only.

Selection (part 1 only, then reported on both): ``A_MIN`` = the 95th percentile of answer
agreement over part-1 distinct pairs with both answers, rounded to 0.01; ``Q_MIN`` = the lowest
question score on a 0.02 grid from the suggest threshold up at which the rule's extra merges
(pairs below the question-only merge threshold) reach precision ≥ 0.90 on part 1. The table
prints the Q × A grid for both parts so the neighbourhood of the choice is visible.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from extractors.answer_ranking import Reply, embedding_texts, is_credible, rank_replies
from index.answer_agreement import A_MIN, Q_MIN, agreement_merge, answer_text_for
from index.duplicates import CALIBRATED, DuplicateScorer, compute_idf, embedding_text_for, texts_for

__all__ = [
    "PairData",
    "attach_answers",
    "calibrate",
    "counts_at",
    "load_pairs",
    "main",
    "report",
]

Encode = Callable[[list[str]], np.ndarray]

SEMEVAL_DIR = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "threads" / "semeval2016"
PART1 = SEMEVAL_DIR / "SemEval2016-Task3-CQA-QL-train-part1.xml"
PART2 = SEMEVAL_DIR / "SemEval2016-Task3-CQA-QL-train-part2.xml"

MERGE = CALIBRATED["faq"].merge  # question-only merge threshold (0.8935)
SUGGEST = CALIBRATED["faq"].suggest  # question-only suggest threshold (0.543)
TARGET_PRECISION = 0.90
A_PERCENTILE = 95.0
Q_GRID = tuple(round(0.56 + 0.02 * i, 2) for i in range(17))  # 0.56 … 0.88: from the suggest threshold (0.543) up
A_GRID = (0.0, 0.30, 0.40, 0.45, 0.50, 0.55, 0.60, 0.65, 0.70, 0.75)

DUPLICATE, DISTINCT, RELATED = "duplicate", "distinct", "related"


@dataclass
class Thread:
    subject: str
    body: str
    asker: str | None
    replies: list[Reply]


@dataclass
class PairData:
    """Labelled RelQuestion pairs of one file with their question scores (answers attached later)."""

    name: str
    threads: dict[str, Thread]
    ids_a: list[str] = field(default_factory=list)
    ids_b: list[str] = field(default_factory=list)
    group: list[str] = field(default_factory=list)  # duplicate | distinct | related
    q: np.ndarray = field(default_factory=lambda: np.zeros(0))
    a: np.ndarray = field(default_factory=lambda: np.zeros(0))  # NaN where not computed
    has: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))  # both answered
    answers: dict[str, str | None] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids_a)


def _default_encode() -> Encode:
    from index.embeddings import shared_embedder

    return shared_embedder().encode


class _CachedEncode:
    """Text → vector cache in front of an encoder: prefetch in one batched call, then look up."""

    def __init__(self, encode: Encode) -> None:
        self.encode = encode
        self.cache: dict[str, np.ndarray] = {}

    def prefetch(self, texts: Sequence[str]) -> None:
        missing = list(dict.fromkeys(t for t in texts if t not in self.cache))
        if missing:
            self.cache.update(zip(missing, np.asarray(self.encode(missing), dtype=np.float32)))

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.prefetch(texts)
        return np.stack([self.cache[t] for t in texts]) if texts else np.zeros((0, 0), np.float32)


def _pair_group(la: str, lb: str) -> str | None:
    labels = {la, lb}
    if labels == {"PerfectMatch"}:
        return DUPLICATE
    if labels == {"PerfectMatch", "Irrelevant"}:
        return DISTINCT
    if labels == {"PerfectMatch", "Relevant"}:
        return RELATED
    return None


def load_pairs(path: Path | str, encode: Encode | None = None) -> PairData:
    """Read a SemEval-2016 Task 3 file, build the labelled RelQuestion pairs and their question scores."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{p}: no such file")
    root = ET.parse(p).getroot()
    threads: dict[str, Thread] = {}
    groups: dict[str, list[tuple[str, str]]] = {}
    for oq in root.iter("OrgQuestion"):  # one element per (original, thread): group by ORGQ_ID
        members = groups.setdefault(oq.get("ORGQ_ID") or "", [])
        for th in oq.findall("Thread"):
            rq = th.find("RelQuestion")
            if rq is None:
                continue
            rid = rq.get("RELQ_ID") or th.get("THREAD_SEQUENCE") or ""
            members.append((rid, rq.get("RELQ_RELEVANCE2ORGQ") or ""))
            if rid in threads:
                continue
            replies = [
                Reply(id=c.get("RELC_ID") or f"{rid}_C{pos + 1}", text=(c.findtext("RelCText") or "").strip(),
                      author=c.get("RELC_USERID"), author_name=c.get("RELC_USERNAME"), position=pos,
                      timestamp=c.get("RELC_DATE"))
                for pos, c in enumerate(th.findall("RelComment"))
            ]  # fmt: skip
            threads[rid] = Thread((rq.findtext("RelQSubject") or "").strip(), (rq.findtext("RelQBody") or "").strip(),
                                  rq.get("RELQ_USERID"), replies)  # fmt: skip
    data = PairData(name=p.name, threads=threads)
    seen: set[tuple[str, str]] = set()
    for members in groups.values():
        for i in range(len(members)):
            for j in range(i + 1, len(members)):
                (a, la), (b, lb) = members[i], members[j]
                key = (min(a, b), max(a, b))
                g = _pair_group(la, lb)
                if a == b or key in seen or g is None:
                    continue
                seen.add(key)
                data.ids_a.append(a)
                data.ids_b.append(b)
                data.group.append(g)
    encode = encode or _default_encode()
    ids = list(threads)
    emb = {k: embedding_text_for("faq", threads[k].subject, threads[k].body) for k in ids}
    lex = {k: texts_for("faq", threads[k].subject, threads[k].body) for k in ids}
    idf = compute_idf(dict.fromkeys(emb.values()))  # as eval_duplicates: over the distinct items
    uniq = list(dict.fromkeys(emb.values()))
    vec = dict(zip(uniq, np.asarray(encode(uniq), dtype=np.float32)))
    scorer = DuplicateScorer()
    if len(data):
        sig = scorer.signals([lex[k] for k in data.ids_a], [lex[k] for k in data.ids_b],
                             np.stack([vec[emb[k]] for k in data.ids_a]), np.stack([vec[emb[k]] for k in data.ids_b]), idf)  # fmt: skip
        data.q = scorer.combine(sig, "faq").astype(np.float64)
    else:
        data.q = np.zeros(0)
    data.a = np.full(len(data), np.nan)
    data.has = np.zeros(len(data), dtype=bool)
    return data


def attach_answers(data: PairData, mask: np.ndarray | None = None, encode: Encode | None = None) -> PairData:
    """Rank the replies of the threads in the pairs selected by `mask` (default: all) and fill in
    each pair's answer similarity ``a`` and ``has`` (both threads have a credible answer)."""
    mask = np.ones(len(data), bool) if mask is None else np.asarray(mask, bool)
    need = sorted({k for i in np.flatnonzero(mask) for k in (data.ids_a[i], data.ids_b[i])} - set(data.answers))
    embed = _CachedEncode(encode or _default_encode())
    texts: list[str] = []
    for k in need:
        t = data.threads[k]
        if t.replies:
            texts += embedding_texts(_question(t), t.replies)
    embed.prefetch(texts)  # one batched call for every thread
    for k in need:
        t = data.threads[k]
        ranked = rank_replies(_question(t), t.asker, t.replies, embed) if t.replies else []
        best = ranked[0] if ranked and is_credible(ranked[0]) else None
        data.answers[k] = next(r.text for r in t.replies if r.id == best.id) if best else None
    answer_texts = {k: answer_text_for(v) for k, v in data.answers.items()}
    embed.prefetch([x for x in answer_texts.values() if x])
    for i in np.flatnonzero(mask):
        ta, tb = answer_texts.get(data.ids_a[i], ""), answer_texts.get(data.ids_b[i], "")
        if ta and tb:
            data.a[i] = float(embed.cache[ta] @ embed.cache[tb])
            data.has[i] = True
    return data


def _question(t: Thread) -> str:
    return f"{t.subject}. {t.body}" if t.subject and t.body else t.subject or t.body


def counts_at(data: PairData, q_min: float, a_min: float | None, merge: float = MERGE) -> dict[str, Any]:
    """What the rule merges beyond the question-only threshold (q < merge), per group.

    ``a_min=None`` is the question-only baseline "lower the threshold to q_min" (no answers needed)."""
    g = np.asarray(data.group)
    below = data.q < merge
    if a_min is None:
        fire = below & (data.q >= q_min)
    else:
        fire = below & agreement_merge(data.q, np.nan_to_num(data.a, nan=-np.inf), data.has, q_min, a_min)
    tp = int((fire & (g == DUPLICATE)).sum())
    fp = int((fire & (g == DISTINCT)).sum())
    rel = int((fire & (g == RELATED)).sum())
    pos = int((below & (g == DUPLICATE)).sum())
    return {
        "q_min": q_min, "a_min": a_min, "merged_duplicate": tp, "merged_distinct": fp, "merged_related": rel,
        "precision": tp / (tp + fp) if tp + fp else None,
        "recall": tp / pos if pos else 0.0, "duplicates_below_merge": pos,
        "precision_related_as_errors": tp / (tp + fp + rel) if tp + fp + rel else None,
        "related_pairs_answered": int(((g == RELATED) & data.has).sum()),
    }  # fmt: skip


def calibrate(part1: PairData) -> tuple[float, float]:
    """(Q_MIN, A_MIN) from part 1 alone (see the module docstring)."""
    g = np.asarray(part1.group)
    neg = (g == DISTINCT) & part1.has
    a_min = round(float(np.percentile(part1.a[neg], A_PERCENTILE)), 2)
    for q_min in Q_GRID:
        c = counts_at(part1, q_min, a_min)
        if c["precision"] is not None and c["precision"] >= TARGET_PRECISION:
            return q_min, a_min
    return math.inf, a_min


def _fmt(c: dict[str, Any]) -> str:
    p = "  -  " if c["precision"] is None else f"{c['precision']:.3f}"
    return f"{c['merged_duplicate']:3d}/{c['merged_duplicate'] + c['merged_distinct']:3d} {p}"


def report(part1: PairData, part2: PairData) -> dict[str, Any]:
    """The calibration table: group sizes, the Q × A grid on both parts, the chosen constants."""
    q_cal, a_cal = calibrate(part1)
    out: dict[str, Any] = {"calibrated": {"q_min": q_cal, "a_min": a_cal}, "shipped": {"q_min": Q_MIN, "a_min": A_MIN}}
    for d in (part1, part2):
        g = np.asarray(d.group)
        out[d.name] = {
            "pairs": {k: int((g == k).sum()) for k in (DUPLICATE, DISTINCT, RELATED)},
            "answered": {k: int(((g == k) & d.has).sum()) for k in (DUPLICATE, DISTINCT, RELATED)},
            "at_shipped": counts_at(d, Q_MIN, A_MIN),
            "question_only_at_q_min": counts_at(d, Q_MIN, None),
            "grid": [counts_at(d, q, a) for q in Q_GRID for a in A_GRID],
        }
    return out


def _print_table(rep: dict[str, Any], names: Sequence[str]) -> None:
    print("Answer agreement on SemEval-2016 Task 3 (pairs of RelQuestions under one OrgQuestion)")
    print(f"question-only merge threshold {MERGE}; extra merges = pairs below it that the rule merges")
    for n in names:
        r = rep[n]
        print(f"\n{n}: pairs {r['pairs']}  with both answers {r['answered']}")
    c = rep["calibrated"]
    print(f"\ncalibrated on part 1: A_MIN = p{A_PERCENTILE:g} of distinct-pair answer agreement = {c['a_min']}, "
          f"Q_MIN = lowest grid q with precision ≥ {TARGET_PRECISION} = {c['q_min']}")  # fmt: skip
    s = rep["shipped"]
    print(f"shipped in index/answer_agreement.py: Q_MIN = {s['q_min']}, A_MIN = {s['a_min']}")
    for n in names:
        r = rep[n]
        for label, k in (("rule", "at_shipped"), ("question only ≥ Q_MIN", "question_only_at_q_min")):
            x = r[k]
            p = "-" if x["precision"] is None else f"{x['precision']:.3f}"
            ph = "-" if x["precision_related_as_errors"] is None else f"{x['precision_related_as_errors']:.3f}"
            print(f"  {n[:40]:40s} {label:22s} merged dup {x['merged_duplicate']:3d} distinct {x['merged_distinct']:3d} "
                  f"related {x['merged_related']:3d} | precision {p} recall {x['recall']:.3f} "
                  f"(of {x['duplicates_below_merge']}) | precision counting related as errors {ph}")  # fmt: skip
    print("\ngrid: each cell 'duplicates merged / duplicate+distinct merged  precision', part 1 | part 2")
    head = "  Q \\ A   " + "".join(f"{a:^31}" for a in A_GRID)
    print(head)
    grids = [{(x["q_min"], x["a_min"]): x for x in rep[n]["grid"]} for n in names]
    for q in Q_GRID:
        row = f"  {q:.2f}   "
        for a in A_GRID:
            row += " " + " | ".join(_fmt(gr[(q, a)]) for gr in grids) + "  "
        print(row)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m pipeline.eval_answer_agreement", description=__doc__.split("\n")[0])
    ap.add_argument("--part1", default=str(PART1), help="calibration file (SemEval-2016 train part 1)")
    ap.add_argument("--part2", default=str(PART2), help="held-out file (SemEval-2016 train part 2)")
    ap.add_argument("--json", action="store_true", help="print the report as JSON instead of the table")
    args = ap.parse_args(argv)
    encode = _default_encode()
    parts = []
    for path in (args.part1, args.part2):
        print(f"scoring {path} …", file=sys.stderr)
        parts.append(attach_answers(load_pairs(path, encode), None, encode))
    rep = report(*parts)
    if args.json:
        print(json.dumps(rep, indent=1))
    else:
        _print_table(rep, [p.name for p in parts])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
