"""Evaluate the answer ranker (extractors.answer_ranking) on real labelled threads.

Two evaluations, each next to baselines computed in the same run:

* **SemEval-2016 Task 3, subtask A** (Qatar Living forum): every ``RelQuestion`` (subject + body)
  with its ``RelComment``s in thread order is one thread; a comment is relevant iff
  ``RELC_RELEVANCE2RELQ == "Good"`` (PotentiallyUseful and Bad are not). Metrics follow the
  official scorer (``MAP_scripts/ev.py`` + ``metrics.py`` of the task): per thread, average
  precision over the top 10 = mean of the precision at each Good comment's rank; MAP is the mean
  over **all** threads, and a thread with no Good comment counts as AP = 0 (the scorer's default:
  ``--ignore_noanswer`` is off, as in the published 2016 scores). MRR and P@1 likewise count
  such threads as 0. We also report MAP over answerable threads only, clearly labelled.
  Baselines: chronological order (the organisers' baseline) and random order (mean of 20 seeded
  shuffles).

  Nothing is learned from these labels. The ranker's weights were set by principle and checked
  on development data only: train part 1 (which has no comment-vs-thread labels; its
  comment-vs-original-question labels on *PerfectMatch* threads serve as a proxy) and the first
  20 % of part-2 threads (``dev``). The remaining 80 % (``heldout``) were never used to choose
  anything; ``full`` is all of part 2 and therefore includes the dev slice.

  Reached: MAP 0.7445 full, 0.7475 held-out, 0.7326 dev (chronological 0.61, random 0.49). The
  issue's 0.77 was not reached. Tried on dev and rejected (no gain that held on both dev sets
  and on Stack Exchange): per-thread z / rank / min-max normalisation of signals and reciprocal
  rank fusion (all worse: raw cosine scale carries information); subject / body / sentence-level
  relevance (max, mean, first sentence, question-sentence max; all below whole-text cosine);
  consensus as top-k centrality or score-weighted graph smoothing (worse); length, author post
  count, first post of an author, URL / digits / phone, "?" count, mentions of other commenters,
  question-type × answer-type matches (±0.003, noise); larger hand-written prototype sets (single
  signal better, combined mixed); asker follow-ups added to the query (worse); restoring the
  commas the corpus turned into ";" (no change). Coordinate ascent on either dev set reaches
  ~0.75 in-sample but does not transfer to the other (p1-tuned weights drop part-2 dev to 0.68),
  and the two tweaks that did carry over (asks_back -0.5, a first-reply bonus: dev 0.740,
  held-out 0.755) cut the Stack Exchange share from 0.547 to 0.500, so they were not adopted.

* **Stack Exchange** (a site dump): for each question, candidates are its answers with votes and
  the accepted flag hidden from the ranker (``score=None, accepted=None``); comments stay visible
  as context (the asker's "thanks, that worked" under an answer is legitimate evidence). Reported:
  share of questions whose top-ranked answer is the accepted one, over questions with an accepted
  answer and ≥2 answers (and ≥1), next to "first answer" and random (expected 1/n).
"""

from __future__ import annotations

import json
import random
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from extractors.answer_ranking import RankingWeights, Reply, embedding_texts, rank_replies

__all__ = [
    "CachedEmbed",
    "EvalInputError",
    "SemEvalThread",
    "average_precision",
    "evaluate_semeval",
    "evaluate_stackexchange",
    "load_semeval",
    "load_stackexchange",
    "mean_average_precision",
    "mean_reciprocal_rank",
    "precision_at_1",
]

TOP_K = 10  # the official scorer's cut-off
DEV_FRACTION = 0.2
RANDOM_RUNS = 20


class EvalInputError(Exception):
    """The evaluation input cannot be read (missing file, bad XML, no threads)."""


# --------------------------------------------------------------------------- metrics


def average_precision(relevant: Sequence[bool], k: int = TOP_K) -> float:
    """Average precision of one ranked list, as the SemEval scorer computes it.

    Mean of precision@i over the ranks i ≤ k holding a relevant item; 0 if there is none."""
    hits, precisions = 0, []
    for i, rel in enumerate(list(relevant)[:k], start=1):
        if rel:
            hits += 1
            precisions.append(hits / i)
    return sum(precisions) / len(precisions) if precisions else 0.0


def mean_average_precision(rankings: Sequence[Sequence[bool]], k: int = TOP_K) -> float:
    """MAP over all lists (lists with no relevant item count as 0, as in the official scorer)."""
    return sum(average_precision(r, k) for r in rankings) / len(rankings) if rankings else 0.0


def mean_reciprocal_rank(rankings: Sequence[Sequence[bool]], k: int = TOP_K) -> float:
    """MRR over all lists: 1/rank of the first relevant item within k, else 0."""
    total = 0.0
    for r in rankings:
        for i, rel in enumerate(list(r)[:k], start=1):
            if rel:
                total += 1.0 / i
                break
    return total / len(rankings) if rankings else 0.0


def precision_at_1(rankings: Sequence[Sequence[bool]]) -> float:
    """Share of lists whose first item is relevant."""
    return sum(1 for r in rankings if r and r[0]) / len(rankings) if rankings else 0.0


def _metrics(rankings: Sequence[Sequence[bool]]) -> dict[str, float]:
    answerable = [r for r in rankings if any(r)]
    return {
        "map": mean_average_precision(rankings),
        "mrr": mean_reciprocal_rank(rankings),
        "p_at_1": precision_at_1(rankings),
        "map_answerable_only": mean_average_precision(answerable),
        "threads": len(rankings),
    }


# --------------------------------------------------------------------------- embedding


class CachedEmbed:
    """An embed function with a text → vector cache: prefetch everything in one batched call
    (far faster than one call per thread), then serve look-ups; misses are embedded on demand."""

    def __init__(self, encode: Callable[[list[str]], np.ndarray]) -> None:
        self.encode = encode
        self.cache: dict[str, np.ndarray] = {}
        self.calls = 0

    def prefetch(self, texts: Sequence[str]) -> None:
        missing = list(dict.fromkeys(t for t in texts if t not in self.cache))
        if missing:
            self.calls += 1
            vecs = np.asarray(self.encode(missing), dtype=np.float32)
            self.cache.update(zip(missing, vecs))

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.prefetch(texts)
        return np.stack([self.cache[t] for t in texts]) if texts else np.zeros((0, 0), dtype=np.float32)


def _default_encode() -> Callable[[list[str]], np.ndarray]:
    from index.embeddings import shared_embedder

    return shared_embedder().encode


# --------------------------------------------------------------------------- SemEval


@dataclass
class SemEvalThread:
    """One RelQuestion with its comments in thread order and their gold labels."""

    id: str
    question: str
    asker: str | None
    replies: list[Reply]
    gold: dict[str, bool]  # comment id → Good
    skip_same_as: str | None = None  # SubtaskA_Skip_Because_Same_As_RelQuestion_ID
    extra: dict[str, Any] = field(default_factory=dict)


def load_semeval(path: Path | str) -> list[SemEvalThread]:
    """Read a SemEval-2016 Task 3 XML file (streamed with iterparse; the files are large)."""
    from lxml import etree

    path = Path(path)
    if not path.is_file():
        raise EvalInputError(f"{path}: no such file")
    threads: list[SemEvalThread] = []
    try:
        for _, th in etree.iterparse(
            str(path), events=("end",), tag="Thread", resolve_entities=False, no_network=True, huge_tree=True
        ):
            rq = th.find("RelQuestion")
            if rq is None:
                th.clear()
                continue
            subject = (rq.findtext("RelQSubject") or "").strip()
            body = (rq.findtext("RelQBody") or "").strip()
            question = f"{subject}. {body}" if subject and body else subject or body
            replies, gold = [], {}
            for pos, c in enumerate(th.findall("RelComment")):
                cid = c.get("RELC_ID") or f"{th.get('THREAD_SEQUENCE')}_C{pos + 1}"
                replies.append(
                    Reply(
                        id=cid,
                        text=(c.findtext("RelCText") or "").strip(),
                        author=c.get("RELC_USERID"),
                        author_name=c.get("RELC_USERNAME"),
                        position=pos,
                        timestamp=c.get("RELC_DATE"),
                    )
                )
                gold[cid] = c.get("RELC_RELEVANCE2RELQ") == "Good"
            labelled = any(c.get("RELC_RELEVANCE2RELQ") in ("Good", "Bad", "PotentiallyUseful") for c in th.findall("RelComment"))
            threads.append(
                SemEvalThread(
                    id=rq.get("RELQ_ID") or th.get("THREAD_SEQUENCE") or str(len(threads)),
                    question=question,
                    asker=rq.get("RELQ_USERID"),
                    replies=replies,
                    gold=gold,
                    skip_same_as=th.get("SubtaskA_Skip_Because_Same_As_RelQuestion_ID"),
                    extra={"labelled": labelled, "asker_name": rq.get("RELQ_USERNAME")},
                )
            )
            th.clear()
    except etree.XMLSyntaxError as exc:
        raise EvalInputError(f"{path}: not well-formed XML ({exc})") from exc
    except OSError as exc:
        raise EvalInputError(f"{path}: cannot read ({exc})") from exc
    if not threads:
        raise EvalInputError(f"{path}: no <Thread> with a <RelQuestion> found (is this a SemEval-2016 Task 3 file?)")
    if not any(t.extra["labelled"] for t in threads):
        raise EvalInputError(
            f"{path}: no comment carries a RELC_RELEVANCE2RELQ label (train part 1 has none; use part 2)"
        )
    return threads


def _random_rankings(threads: Sequence[SemEvalThread], runs: int, seed: int) -> list[list[list[bool]]]:
    out = []
    for run in range(runs):
        rng = random.Random(seed + run)
        per_run = []
        for t in threads:
            ids = [r.id for r in t.replies]
            rng.shuffle(ids)
            per_run.append([t.gold[i] for i in ids])
        out.append(per_run)
    return out


def evaluate_semeval(
    path: Path | str,
    encode: Callable[[list[str]], np.ndarray] | None = None,
    weights: RankingWeights | None = None,
    random_runs: int = RANDOM_RUNS,
    seed: int = 0,
    dev_fraction: float = DEV_FRACTION,
) -> dict[str, Any]:
    """Rank every thread of a SemEval file; return metrics for ours / chronological / random on
    the full file, the dev slice (first `dev_fraction` of threads in file order) and the held-out
    rest, plus the rankings (comment ids best first, with scores)."""
    t0 = time.perf_counter()
    threads = [t for t in load_semeval(path) if t.extra["labelled"]]
    embed = CachedEmbed(encode or _default_encode())
    texts = [x for t in threads for x in embedding_texts(t.question, t.replies)]
    t1 = time.perf_counter()
    embed.prefetch(texts)
    t2 = time.perf_counter()

    ours, chrono, rankings = [], [], {}
    for t in threads:
        ranked = rank_replies(t.question, t.asker, t.replies, embed, weights)
        ours.append([t.gold[r.id] for r in ranked])
        chrono.append([t.gold[r.id] for r in sorted(t.replies, key=lambda r: r.position)])
        rankings[t.id] = [{"id": r.id, "score": round(r.score, 6), "good": t.gold[r.id]} for r in ranked]
    rand_runs = _random_rankings(threads, random_runs, seed)
    t3 = time.perf_counter()

    n_dev = int(round(len(threads) * dev_fraction))
    slices = {"full": slice(0, len(threads)), "dev": slice(0, n_dev), "heldout": slice(n_dev, len(threads))}
    results: dict[str, Any] = {}
    for name, sl in slices.items():
        if sl.stop <= sl.start:
            continue
        rnd = [_metrics(run[sl]) for run in rand_runs]
        results[name] = {
            "ours": _metrics(ours[sl]),
            "chronological": _metrics(chrono[sl]),
            "random": {k: float(np.mean([r[k] for r in rnd])) for k in rnd[0]} if rnd else {},
        }
    return {
        "dataset": "semeval2016-task3-subtaskA",
        "file": str(path),
        "threads": len(threads),
        "threads_without_good": sum(1 for r in ours if not any(r)),
        "dev_threads": n_dev,
        "convention": "MAP@10 over all threads; threads with no Good comment count as AP=0 (official scorer default)",
        "results": results,
        "rankings": rankings,
        "timing_s": {
            "load": round(t1 - t0, 2),
            "embed": round(t2 - t1, 2),
            "rank": round(t3 - t2, 2),
            "texts_embedded": len(embed.cache),
        },
        "weights": (weights or RankingWeights()).as_dict(),
    }


# --------------------------------------------------------------------------- Stack Exchange


@dataclass
class SEQuestion:
    """A Stack Exchange question: its answers (candidates), comments (context), accepted id."""

    id: str
    question: str
    asker: str | None
    replies: list[Reply]  # answers (candidate) and comments (candidate=False), in thread order
    accepted_id: str | None


def load_stackexchange(path: Path | str) -> list[SEQuestion]:
    """Read a Stack Exchange dump folder with the project's parser; votes and accepted flags are
    dropped from the replies (the ranker must not see them) and kept only as gold."""
    from pipeline.sources.base import DirBundle, ParseOptions, SourceError
    from pipeline.sources.stackexchange import PARSERS

    path = Path(path)
    if not path.is_dir():
        raise EvalInputError(f"{path}: not a folder (expected a Stack Exchange dump with Posts.xml)")
    try:
        parsed = PARSERS[0].parse(DirBundle(path), ParseOptions())
    except SourceError as exc:
        raise EvalInputError(f"{path}: {exc}") from exc
    by_thread: dict[str, list[Any]] = defaultdict(list)
    for p in parsed.passages:
        by_thread[p.thread_id or ""].append(p)
    out = []
    for tid, passages in by_thread.items():
        q = next((p for p in passages if p.element_type == "question"), None)
        if q is None:
            continue
        replies = []
        for pos, p in enumerate(passages):
            if p.element_type not in ("answer", "comment"):
                continue
            if p.element_type == "comment" and p.reply_to == q.message_id:
                continue  # comments on the question itself neither answer nor credit an answer
            replies.append(
                Reply(
                    id=p.message_id or f"{tid}:{pos}",
                    text=p.text,
                    author=p.author,
                    position=pos,
                    timestamp=p.timestamp,
                    score=None,  # hidden
                    accepted=None,  # hidden
                    reply_to=p.reply_to if p.element_type == "comment" else None,
                    candidate=p.element_type == "answer",
                )
            )
        out.append(
            SEQuestion(
                id=tid,
                question=q.text,
                asker=q.author,
                replies=replies,
                accepted_id=(q.extra or {}).get("accepted_answer_id"),
            )
        )
    if not out:
        raise EvalInputError(f"{path}: no questions found")
    return out


def evaluate_stackexchange(
    path: Path | str,
    encode: Callable[[list[str]], np.ndarray] | None = None,
    weights: RankingWeights | None = None,
) -> dict[str, Any]:
    """Share of questions whose top-ranked answer is the accepted one (accepted flags and votes
    hidden), next to "first answer" and random (expected 1/n), for ≥2 and ≥1 answers."""
    t0 = time.perf_counter()
    questions = load_stackexchange(path)
    embed = CachedEmbed(encode or _default_encode())
    usable = []
    for q in questions:
        answers = [r for r in q.replies if r.candidate]
        if q.accepted_id and any(a.id == q.accepted_id for a in answers):
            usable.append((q, answers))
    embed.prefetch([x for q, _ in usable for x in embedding_texts(q.question, q.replies)])
    t1 = time.perf_counter()
    rows = []
    for q, answers in usable:
        ranked = rank_replies(q.question, q.asker, q.replies, embed, weights)
        first = min(answers, key=lambda a: a.position)
        rows.append(
            {
                "n": len(answers),
                "ours": ranked[0].id == q.accepted_id,
                "first": first.id == q.accepted_id,
                "random": 1.0 / len(answers),
                "self_answer": any(a.id == q.accepted_id and a.author == q.asker for a in answers),
            }
        )

    def summary(min_answers: int) -> dict[str, float]:
        sel = [r for r in rows if r["n"] >= min_answers]
        if not sel:
            return {"questions": 0, "ours": 0.0, "first_answer": 0.0, "random": 0.0}
        return {
            "questions": len(sel),
            "ours": sum(r["ours"] for r in sel) / len(sel),
            "first_answer": sum(r["first"] for r in sel) / len(sel),
            "random": sum(r["random"] for r in sel) / len(sel),
            "accepted_self_answers": sum(r["self_answer"] for r in sel),
        }

    return {
        "dataset": "stackexchange-accepted-answer",
        "folder": str(path),
        "questions": len(questions),
        "with_accepted_answer": len(usable),
        "convention": "top-1 = accepted answer; votes and accepted flags hidden from the ranker",
        "results": {"min_2_answers": summary(2), "min_1_answer": summary(1)},
        "timing_s": {"total": round(time.perf_counter() - t0, 2), "embed_and_load": round(t1 - t0, 2)},
        "weights": (weights or RankingWeights()).as_dict(),
    }


def write_rankings(report: dict[str, Any], out: Path | str) -> None:
    """Write {thread id: [{id, score, good}, ...best first]} as JSON."""
    Path(out).write_text(json.dumps(report["rankings"], indent=1), encoding="utf-8")
