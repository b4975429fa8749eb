"""Evaluate duplicate scoring (index.duplicates) on labelled pairs, next to plain-cosine baselines.

Inputs (readers below; every one yields a ``PairSet``):

* **Pairs TSV** (``--pairs FILE.tsv``), the project's own format, one pair a line, tab-separated::

      id1<TAB>text1<TAB>id2<TAB>text2<TAB>label

  ``label`` is 1 (duplicate) or 0 (distinct). An optional first line is a header (recognised
  because its last field is not 0/1). Blank lines and lines starting with ``#`` are skipped.
  Texts must not contain tabs or newlines (write them as spaces). ``--kind faq`` treats the texts
  as questions (``question_core`` for the lexical evidence), ``--kind pattern`` as statements.
* **SemEval-2016 Task 3 XML, subtask B** (``--semeval FILE.xml``, repeatable): each OrgQuestion
  with its RelQuestions; a pair's text is subject + body; ``RELQ_RELEVANCE2ORGQ == PerfectMatch``
  is a duplicate (Relevant and Irrelevant are not). Kind faq.
* **MRPC** (``--mrpc FILE``): ``Quality, #1 ID, #2 ID, #1 String, #2 String``, Quality 1 =
  paraphrase. Statements: kind pattern.

Reported for "ours" (``DuplicateScorer``) and the plain cosine of the same embeddings:
precision / recall / F1 at the configured merge and suggest thresholds (plain cosine has no
configured threshold: it is shown at its own best-F1 and 0.90-precision thresholds), average
precision of the pair ranking, the best-F1 threshold, the best precision at recall ≥ 0.25 and the
recall at precision ≥ 0.90, and the thresholds this data would calibrate (``calibration``).

SemEval also gets the official subtask-B ranking measure: for each original question, rank its
related questions; relevant = PerfectMatch or Relevant; AP over the top 10; MAP over questions.
The official scorer (``MAP_scripts/ev.py``) by default keeps questions with no relevant related
question, with AP = 0 (``--ignore_noanswer`` off), so ``map`` follows that; ``map_answerable``
drops them (the scorer's ``--ignore_noanswer``) and is the figure the project's targets are set on.
Baselines: the search engine's order (``RELQ_RANKING_ORDER``) and plain cosine. With several
files, each file is reported on its own (idf from that file's texts) and all together ("combined").
"""

from __future__ import annotations

import math
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from index.duplicates import DuplicateScorer, compute_idf, embedding_text_for, texts_for
# AP of one ranked list as the SemEval scorer computes it (shared with the answer-ranking evaluation)
from pipeline.eval_answers import TOP_K  # the official SemEval scorer's cut-off
from pipeline.eval_answers import average_precision as query_average_precision

__all__ = [
    "EvalInputError",
    "PairSet",
    "average_precision",
    "best_f1_threshold",
    "evaluate_mrpc",
    "evaluate_pairs",
    "evaluate_semeval",
    "load_semeval_pairs",
    "mean_average_precision",
    "precision_at_recall",
    "prf_at",
    "read_mrpc",
    "read_comments",
    "read_pairs_tsv",
    "recall_at_precision",
    "threshold_at_precision",
    "write_scores",
]

MIN_RECALL = 0.25
MIN_PRECISION = 0.90

Encode = Callable[[list[str]], np.ndarray]


class EvalInputError(Exception):
    """The evaluation input cannot be read (missing file, bad format, no pairs)."""


@dataclass
class PairSet:
    """Labelled pairs. `group` / `relevant` / `engine_rank` are set for ranking data (SemEval)."""

    name: str
    kind: str
    ids_a: list[str] = field(default_factory=list)
    ids_b: list[str] = field(default_factory=list)
    titles_a: list[str] = field(default_factory=list)
    bodies_a: list[str] = field(default_factory=list)
    titles_b: list[str] = field(default_factory=list)
    bodies_b: list[str] = field(default_factory=list)
    labels: list[bool] = field(default_factory=list)
    group: list[str] = field(default_factory=list)  # ranking query (original question id)
    relevant: list[bool] = field(default_factory=list)  # ranking relevance (PerfectMatch or Relevant)
    engine_rank: list[int] = field(default_factory=list)  # RELQ_RANKING_ORDER

    def __len__(self) -> int:
        return len(self.labels)

    def add(self, id_a: str, title_a: str, body_a: str, id_b: str, title_b: str, body_b: str, label: bool) -> None:
        self.ids_a.append(id_a)
        self.titles_a.append(title_a)
        self.bodies_a.append(body_a)
        self.ids_b.append(id_b)
        self.titles_b.append(title_b)
        self.bodies_b.append(body_b)
        self.labels.append(bool(label))

    @staticmethod
    def concat(name: str, sets: Sequence["PairSet"]) -> "PairSet":
        out = PairSet(name=name, kind=sets[0].kind if sets else "faq")
        for s in sets:
            for f in ("ids_a", "ids_b", "titles_a", "bodies_a", "titles_b", "bodies_b", "labels", "group", "relevant", "engine_rank"):
                getattr(out, f).extend(getattr(s, f))
        return out


# --------------------------------------------------------------------------- readers


def _read_text(path: Path | str) -> str:
    p = Path(path)
    if not p.is_file():
        raise EvalInputError(f"{p}: no such file")
    try:
        return p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise EvalInputError(f"{p}: not UTF-8 text ({exc})") from exc


def read_pairs_tsv(path: Path | str, kind: str = "faq") -> PairSet:
    """Read ``id1<TAB>text1<TAB>id2<TAB>text2<TAB>label`` (label 1 = duplicate; header optional)."""
    if kind not in ("faq", "pattern"):
        raise EvalInputError(f"unknown kind {kind!r} (faq | pattern)")
    ps = PairSet(name=Path(path).name, kind=kind)
    first = True
    for lineno, line in enumerate(_read_text(path).splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        is_first, first = first, False
        fields = line.split("\t")
        if len(fields) != 5:
            raise EvalInputError(f"{path}:{lineno}: expected 5 tab-separated fields (id1, text1, id2, text2, label), got {len(fields)}")
        label = fields[4].strip()
        if label not in ("0", "1"):
            if is_first:
                continue  # header line
            raise EvalInputError(f"{path}:{lineno}: label must be 0 or 1, got {label!r}")
        ps.add(fields[0].strip(), "", fields[1].strip(), fields[2].strip(), "", fields[3].strip(), label == "1")
    if not len(ps):
        raise EvalInputError(f"{path}: no pairs")
    return ps


def read_mrpc(path: Path | str) -> PairSet:
    """Read the MRPC TSV (``Quality, #1 ID, #2 ID, #1 String, #2 String``; header line skipped)."""
    ps = PairSet(name=Path(path).name, kind="pattern")
    for lineno, line in enumerate(_read_text(path).lstrip("\ufeff").splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split("\t")
        if lineno == 1 and not fields[0].strip().isdigit():
            continue
        for rec in _mrpc_records(fields):
            if len(rec) != 5 or rec[0].strip() not in ("0", "1"):
                raise EvalInputError(f"{path}:{lineno}: not an MRPC line (Quality, #1 ID, #2 ID, #1 String, #2 String)")
            ps.add(rec[1].strip(), "", rec[3].strip(), rec[2].strip(), "", rec[4].strip(), rec[0].strip() == "1")
    if not len(ps):
        raise EvalInputError(f"{path}: no pairs")
    return ps


def _mrpc_records(fields: list[str]) -> list[list[str]]:
    """One MRPC line's records. The distributed train file has a line where two records are glued
    (the newline before the next record's Quality digit is missing: "...late Wednesday.0<TAB>849568<TAB>...");
    such a line has 5 + 4k fields and is split back into k + 1 records."""
    if len(fields) <= 5 or (len(fields) - 5) % 4:
        return [fields]
    out, rec = [], fields[:4]
    rest = fields[4:]
    while len(rest) > 1:
        text, quality = rest[0][:-1], rest[0][-1:]
        if quality not in ("0", "1"):
            return [fields]  # not the known glitch: let the caller report it
        out.append(rec + [text])
        rec, rest = [quality] + rest[1:4], rest[4:]
    out.append(rec + rest)
    return out


def _semeval_root(path: Path | str) -> ET.Element:
    p = Path(path)
    if not p.is_file():
        raise EvalInputError(f"{p}: no such file")
    try:
        return ET.parse(p).getroot()
    except ET.ParseError as exc:
        raise EvalInputError(f"{p}: not valid XML ({exc})") from exc


def load_semeval_pairs(path: Path | str) -> PairSet:
    """Subtask-B pairs of a SemEval-2016 Task 3 XML file (PerfectMatch = duplicate)."""
    p = Path(path)
    root = _semeval_root(p)
    ps = PairSet(name=p.name, kind="faq")
    for oq in root.iter("OrgQuestion"):
        qid = oq.get("ORGQ_ID") or ""
        osub = (oq.findtext("OrgQSubject") or "").strip()
        obody = (oq.findtext("OrgQBody") or "").strip()
        for th in oq.findall("Thread"):
            rq = th.find("RelQuestion")
            if rq is None:
                continue
            label = rq.get("RELQ_RELEVANCE2ORGQ") or ""
            if label not in ("PerfectMatch", "Relevant", "Irrelevant"):
                continue
            rid = rq.get("RELQ_ID") or th.get("THREAD_SEQUENCE") or f"{qid}_{len(ps)}"
            ps.add(qid, osub, obody, rid, (rq.findtext("RelQSubject") or "").strip(),
                   (rq.findtext("RelQBody") or "").strip(), label == "PerfectMatch")  # fmt: skip
            ps.group.append(qid)
            ps.relevant.append(label in ("PerfectMatch", "Relevant"))
            try:
                ps.engine_rank.append(int(rq.get("RELQ_RANKING_ORDER") or 0))
            except ValueError:
                ps.engine_rank.append(0)
    if not len(ps):
        raise EvalInputError(f"{p}: no RelQuestion with a RELQ_RELEVANCE2ORGQ label (not a SemEval subtask-B file?)")
    return ps


def read_comments(path: Path | str) -> dict[str, list[str]]:
    """RELQ_ID → the texts of its thread's comments, in thread order (SemEval-2016 Task 3 XML)."""
    out: dict[str, list[str]] = {}
    for th in _semeval_root(path).iter("Thread"):
        rq = th.find("RelQuestion")
        if rq is None:
            continue
        rid = rq.get("RELQ_ID") or th.get("THREAD_SEQUENCE") or ""
        out[rid] = [t for c in th.findall("RelComment") if (t := (c.findtext("RelCText") or "").strip())]
    return out


# --------------------------------------------------------------------------- metrics


def prf_at(scores: Sequence[float], labels: Sequence[bool], threshold: float) -> dict[str, float]:
    """Precision, recall, F1 of "score ≥ threshold" (precision 1.0 when nothing is predicted)."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels, dtype=bool)
    pred = s >= threshold
    tp = int((pred & y).sum())
    npred, npos = int(pred.sum()), int(y.sum())
    p = tp / npred if npred else 1.0
    r = tp / npos if npos else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"threshold": float(threshold), "precision": p, "recall": r, "f1": f, "predicted": npred, "tp": tp}


def _curve(scores: Sequence[float], labels: Sequence[bool]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Precision and recall at each distinct score cut (descending), with the cut values."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels, dtype=bool)
    order = np.argsort(-s, kind="stable")
    s, y = s[order], y[order]
    tp = np.cumsum(y)
    n = np.arange(1, len(y) + 1)
    last = np.r_[s[1:] != s[:-1], True] if len(s) else np.zeros(0, bool)  # ties: cut after the tie block
    npos = max(int(y.sum()), 1)
    return (tp / n)[last], (tp / npos)[last], s[last]


def average_precision(scores: Sequence[float], labels: Sequence[bool]) -> float:
    """Average precision of the whole pair ranking (mean precision at each duplicate; ties broken pessimistically)."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels, dtype=bool)
    if not y.any():
        return 0.0
    # within a tie block, put non-duplicates first (no credit for lucky ties)
    order = np.lexsort((y, -s))
    yy = y[order]
    tp = np.cumsum(yy)
    return float((tp[yy] / (np.flatnonzero(yy) + 1)).mean())


def best_f1_threshold(scores: Sequence[float], labels: Sequence[bool]) -> dict[str, float]:
    """The cut with the best F1 (its threshold, precision, recall, F1)."""
    prec, rec, cut = _curve(scores, labels)
    if not len(cut):
        return prf_at(scores, labels, math.inf)
    f1 = np.where(prec + rec > 0, 2 * prec * rec / np.maximum(prec + rec, 1e-12), 0.0)
    i = int(np.argmax(f1))
    return prf_at(scores, labels, float(cut[i]))


def threshold_at_precision(scores: Sequence[float], labels: Sequence[bool], min_precision: float = MIN_PRECISION) -> float | None:
    """The lowest cut whose precision is ≥ `min_precision` (the most recall at that precision)."""
    prec, rec, cut = _curve(scores, labels)
    ok = np.flatnonzero(prec >= min_precision)
    if not len(ok):
        return None
    i = ok[np.argmax(rec[ok])]
    return float(cut[i])


def recall_at_precision(scores: Sequence[float], labels: Sequence[bool], min_precision: float = MIN_PRECISION) -> float:
    """The most recall any cut reaches with precision ≥ `min_precision` (0 if none does)."""
    prec, rec, _ = _curve(scores, labels)
    ok = prec >= min_precision
    return float(rec[ok].max()) if ok.any() else 0.0


def precision_at_recall(scores: Sequence[float], labels: Sequence[bool], min_recall: float = MIN_RECALL) -> float:
    """The best precision of any cut with recall ≥ `min_recall`."""
    prec, rec, _ = _curve(scores, labels)
    ok = rec >= min_recall
    return float(prec[ok].max()) if ok.any() else 0.0


def mean_average_precision(
    groups: Sequence[str], relevant: Sequence[bool], scores: Sequence[float], ignore_noanswer: bool = False, k: int = TOP_K
) -> float:
    """MAP of ranking each group's items by descending score (stable: ties keep input order).

    ``ignore_noanswer=False`` is the official scorer's default: a query with no relevant item
    counts as AP 0. ``True`` drops such queries (its ``--ignore_noanswer``)."""
    by: dict[str, list[tuple[float, int, bool]]] = defaultdict(list)
    for i, (g, r, s) in enumerate(zip(groups, relevant, scores)):
        by[g].append((-float(s), i, bool(r)))
    aps = []
    for items in by.values():
        if ignore_noanswer and not any(r for _, _, r in items):
            continue
        aps.append(query_average_precision([r for _, _, r in sorted(items)], k))
    return sum(aps) / len(aps) if aps else 0.0


# --------------------------------------------------------------------------- scoring


def _default_encode() -> Encode:
    from index.embeddings import shared_embedder

    return shared_embedder().encode


def _embed(texts: list[str], encode: Encode) -> np.ndarray:
    uniq = list(dict.fromkeys(texts))
    vecs = np.asarray(encode(uniq), dtype=np.float32)
    index = {t: i for i, t in enumerate(uniq)}
    return vecs[[index[t] for t in texts]]


def score_pairset(ps: PairSet, scorer: DuplicateScorer, encode: Encode) -> dict[str, np.ndarray]:
    """Embed once and score every pair: ``ours``, ``cosine`` (plain cosine baseline), ``lexical``;
    for FAQs also ``guarded``: ``ours`` capped below the merge threshold where the dedupe stage's
    merge guard (``index.same_ask``) refuses an automatic merge."""
    k = ps.kind
    emb_a = [embedding_text_for(k, t, b) for t, b in zip(ps.titles_a, ps.bodies_a)]
    emb_b = [embedding_text_for(k, t, b) for t, b in zip(ps.titles_b, ps.bodies_b)]
    vecs = _embed(emb_a + emb_b, encode)
    va, vb = vecs[: len(ps)], vecs[len(ps) :]
    lex_a = [texts_for(k, t, b) for t, b in zip(ps.titles_a, ps.bodies_a)]
    lex_b = [texts_for(k, t, b) for t, b in zip(ps.titles_b, ps.bodies_b)]
    idf = compute_idf(dict.fromkeys(emb_a + emb_b))  # document frequencies over the distinct items
    sig = scorer.signals(lex_a, lex_b, va, vb, idf)
    scores = {"ours": scorer.combine(sig, k), "cosine": sig["cosine"], "lexical": sig["lexical"]}
    if k == "faq":  # what the dedupe stage merges: the score with the merge guard (index.same_ask)
        from index.same_ask import cap_distinct_asks

        scores["guarded"] = cap_distinct_asks(scores["ours"], sig["cosine"], lex_a, lex_b, scorer.merge_threshold(k))
    return scores


def _r(x: float | None) -> float | None:
    return None if x is None else round(float(x), 4)


def _rounded(d: dict[str, Any]) -> dict[str, Any]:
    return {k: (_r(v) if isinstance(v, float) else v) for k, v in d.items()}


def classification_report(ps: PairSet, scores: dict[str, np.ndarray], scorer: DuplicateScorer) -> dict[str, Any]:
    """Pair-classification metrics of ours and plain cosine on one PairSet."""
    y = np.asarray(ps.labels, dtype=bool)
    out: dict[str, Any] = {"pairs": len(ps), "duplicates": int(y.sum())}
    for system in ("ours", "cosine"):
        s = scores[system]
        t90 = threshold_at_precision(s, y)
        m: dict[str, Any] = {
            "average_precision": _r(average_precision(s, y)),
            "precision_at_recall_0.25": _r(precision_at_recall(s, y, MIN_RECALL)),
            "recall_at_precision_0.90": _r(recall_at_precision(s, y, MIN_PRECISION)),
            "best_f1": _rounded(best_f1_threshold(s, y)),
            "calibration": {"merge_at_p90": _r(t90), "suggest_best_f1": _r(best_f1_threshold(s, y)["threshold"])},
        }
        if system == "ours":
            m["at_merge"] = _rounded(prf_at(s, y, scorer.merge_threshold(ps.kind)))
            m["at_suggest"] = _rounded(prf_at(s, y, scorer.suggest_threshold(ps.kind)))
            if "guarded" in scores:  # the automatic merges the product makes (FAQs)
                m["at_merge_guarded"] = _rounded(prf_at(scores["guarded"], y, scorer.merge_threshold(ps.kind)))
        else:  # no configured threshold: its own operating points on this same data
            m["at_p90_threshold"] = _rounded(prf_at(s, y, t90 if t90 is not None else math.inf))
        out[system] = m
    return out


def ranking_report(ps: PairSet, scores: dict[str, np.ndarray]) -> dict[str, Any]:
    """SemEval subtask-B MAP of ours, plain cosine and the search engine's order."""
    systems = {
        "ours": scores["ours"],
        "cosine": scores["cosine"],
        "search_engine": -np.asarray(ps.engine_rank, dtype=np.float64),
    }
    groups = list(dict.fromkeys(ps.group))
    answerable = {g for g, r in zip(ps.group, ps.relevant) if r}
    out: dict[str, Any] = {"queries": len(groups), "queries_without_relevant": len(groups) - len(answerable)}
    for name, s in systems.items():
        out[name] = {
            "map": _r(mean_average_precision(ps.group, ps.relevant, s, ignore_noanswer=False)),
            "map_answerable": _r(mean_average_precision(ps.group, ps.relevant, s, ignore_noanswer=True)),
        }
    return out


def _per_pair(ps: PairSet, scores: dict[str, np.ndarray], scorer: DuplicateScorer) -> list[dict[str, Any]]:
    decisions = scorer.decide(scores["ours"], ps.kind)
    return [
        {
            "set": ps.name, "id1": ps.ids_a[i], "id2": ps.ids_b[i], "label": int(ps.labels[i]),
            "score": round(float(scores["ours"][i]), 5), "cosine": round(float(scores["cosine"][i]), 5),
            "lexical": round(float(scores["lexical"][i]), 5), "decision": str(decisions[i]),
        }
        for i in range(len(ps))
    ]  # fmt: skip


def write_scores(rows: Sequence[dict[str, Any]], out: Path | str) -> None:
    """Per-pair scores as TSV: set, id1, id2, label, score, cosine, lexical, decision."""
    cols = ["set", "id1", "id2", "label", "score", "cosine", "lexical", "decision"]
    with Path(out).open("w", encoding="utf-8") as fh:
        fh.write("\t".join(cols) + "\n")
        for r in rows:
            fh.write("\t".join(str(r[c]) for c in cols) + "\n")


def _thresholds(scorer: DuplicateScorer, kind: str) -> dict[str, float]:
    return {"merge": scorer.merge_threshold(kind), "suggest": scorer.suggest_threshold(kind)}


def evaluate_pairs(
    ps: PairSet, scorer: DuplicateScorer | None = None, encode: Encode | None = None
) -> dict[str, Any]:
    """Pair classification on one PairSet (TSV or MRPC)."""
    scorer = scorer or DuplicateScorer()
    t0 = time.perf_counter()
    scores = score_pairset(ps, scorer, encode or _default_encode())
    report = {
        "dataset": ps.name,
        "kind": ps.kind,
        "thresholds": _thresholds(scorer, ps.kind),
        "results": {"all": classification_report(ps, scores, scorer)},
        "timing_s": round(time.perf_counter() - t0, 1),
        "pairs_scored": _per_pair(ps, scores, scorer),
    }
    return report


def evaluate_mrpc(path: Path | str, scorer: DuplicateScorer | None = None, encode: Encode | None = None) -> dict[str, Any]:
    """MRPC (statement paraphrases, kind pattern)."""
    return evaluate_pairs(read_mrpc(path), scorer, encode)


def evaluate_semeval(
    paths: Sequence[Path | str], scorer: DuplicateScorer | None = None, encode: Encode | None = None
) -> dict[str, Any]:
    """SemEval subtask B: classification (PerfectMatch) and ranking (MAP) per file and combined."""
    scorer = scorer or DuplicateScorer()
    encode = encode or _default_encode()
    t0 = time.perf_counter()
    sets = [load_semeval_pairs(p) for p in paths]
    scored = [score_pairset(ps, scorer, encode) for ps in sets]  # idf per file
    results: dict[str, Any] = {}
    rows: list[dict[str, Any]] = []
    for ps, sc in zip(sets, scored):
        results[ps.name] = {**classification_report(ps, sc, scorer), "ranking": ranking_report(ps, sc)}
        rows.extend(_per_pair(ps, sc, scorer))
    if len(sets) > 1:
        both = PairSet.concat("combined", sets)
        sc = {k: np.concatenate([s[k] for s in scored]) for k in scored[0]}
        results["combined"] = {**classification_report(both, sc, scorer), "ranking": ranking_report(both, sc)}
    return {
        "dataset": "SemEval-2016 Task 3 subtask B",
        "kind": "faq",
        "files": [str(p) for p in paths],
        "thresholds": _thresholds(scorer, "faq"),
        "results": results,
        "timing_s": round(time.perf_counter() - t0, 1),
        "pairs_scored": rows,
    }
