"""Pairwise duplicate scoring: is candidate B the same FAQ / pattern as candidate A?

Pure functions, no I/O, no model loading: callers embed the texts and pass the vectors in, so
dedup, the evaluation (pipeline/eval_duplicates.py) and the tests share one scoring core.

For each pair the scorer reads two signals with a fixed meaning:

cosine    cosine of the embeddings of the whole items (``embedding_text_for``: a FAQ's subject and
          body as posted). The model reads the topic, and a post's narrative says what it is about.
lexical   idf-weighted overlap of the content words of the *question cores* (``texts_for`` →
          ``question_core``: the subject line and the sentences that ask, without greetings,
          narrative and signatures): the names, places and products the embedding blurs
          ("NOC", "kennel", "QNB" vs "Doha Bank" are all "a bank" to the model).

score = w_cos · cosine + w_lex · lexical, per kind (``KindConfig``). Weights are hand-set from a
small grid and the thresholds calibrated on labelled data (``CALIBRATED``); nothing is trained.
On SemEval-2016 subtask B, isolating the question helped as *lexical* evidence but embedding the
core instead of the whole post lowered held-out ranking (MAP), so the embedding keeps the post.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from pipeline.text import asks as _asks
from pipeline.text import (
    content_words,
    is_generic_question,
    leans_on_previous,
    needs_antecedent,
    split_sentences,
    without_opener,
)
from pipeline.text_clean import clean_question

__all__ = [
    "CALIBRATED",
    "CALIBRATED_THRESHOLDS",
    "DuplicateScorer",
    "KindConfig",
    "char_similarity",
    "compute_idf",
    "content_words",
    "embedding_text_for",
    "lexical_similarity",
    "needs_antecedent",
    "question_core",
    "split_sentences",
    "texts_for",
]

# --------------------------------------------------------------------------- text helpers

def question_core(
    text: str, subject: str | None = None, max_sentences: int = 3, with_antecedent: bool = False
) -> str:
    """The question itself: the subject line plus the sentences that ask.

    `text` is the body (or the whole post when there is no subject). Greetings, thanks and
    signatures go first (``clean_question``); then the sentences with a '?', an interrogative
    opening ("how", "is there", "can I") or a request ("does anyone know", "looking for",
    "please advise") are kept, at most `max_sentences` of them (the first ones: later questions
    are usually follow-ups). Narrative ("I arrived last week, my wife...") is dropped. When no
    sentence asks, the first sentence of the cleaned body stands in for the question. The
    subject, when given, always leads (it is the poster's own summary).

    `with_antecedent`: the question must stand alone (a stored FAQ question): an asking
    sentence that leans on the one before it (``needs_antecedent``) keeps it, so the question
    says what "it" is, and a generic closer ("Any ideas?", ``is_generic_question``) gives way to
    the problem statement before it. Off for the pairwise duplicate score, whose weights were
    calibrated without it.
    """
    body = clean_question(text or "") if (text or "").strip() else ""
    sentences = split_sentences(body)
    asking = [i for i, s in enumerate(sentences) if _asks(s)]
    if with_antecedent:
        picked = _standalone_picks(sentences, asking, max_sentences)
    else:
        picked = asking[:max_sentences] if asking else [0][: len(sentences)]
    kept = [sentences[i] for i in picked]
    if with_antecedent and kept:
        kept[0] = without_opener(kept[0])  # "So how do I…?" stored alone reads "How do I…?"
    parts: list[str] = []
    subj = (subject or "").strip()
    if subj:
        parts.append(subj if subj[-1] in ".?!" else subj + ".")
    seen = {subj.lower().rstrip(".?! ")}
    for s in kept:
        key = s.lower().rstrip(".?! ")
        if key and key not in seen:
            parts.append(s)
            seen.add(key)
    out = " ".join(parts).strip()
    return out or (subj or (text or "").strip())


#: Sentences of problem statement a generic closer stands for ("I get X when Y. Any ideas?").
PROBLEM_SENTENCES = 2


def _standalone_picks(sentences: list[str], asking: list[int], max_sentences: int) -> list[int]:
    """Indices of the sentences that state the question on their own (see ``question_core``)."""
    specific = [i for i in asking if not is_generic_question(sentences[i])]
    picked: set[int] = set()
    for i in specific[:max_sentences]:
        picked.add(i)
        if i and (needs_antecedent(sentences[i]) or leans_on_previous(sentences[i])):
            picked.add(i - 1)
    if picked:
        return sorted(picked)
    # Only generic closers ask (or nothing asks): the problem is what was said before the first
    # closer; failing that, the first sentence.
    end = asking[0] if asking else len(sentences)
    before = [i for i in range(end) if not _asks(sentences[i])][-PROBLEM_SENTENCES:]
    if before:
        return before
    return [0][: len(sentences)]


def texts_for(kind: str, title: str | None, body: str | None) -> str:
    """The text two candidates are compared on.

    FAQs compare *questions*: the question core of title + body (an answer says nothing about
    whether two questions are the same). Patterns compare what they recommend: name + the
    recommendation (or checklist), cleaned of greetings only.
    """
    title = (title or "").strip()
    body = (body or "").strip()
    if kind == "faq":
        return question_core(body, subject=title) if body else question_core(title)
    if kind == "pattern":
        if title and body:
            return f"{title if title[-1] in '.?!:' else title + '.'} {body}"
        return title or body
    raise ValueError(f"unknown kind {kind!r} (faq | pattern)")


#: Characters of an item that are embedded (the model reads ~256 word pieces anyway).
MAX_EMBED_CHARS = 1200


def embedding_text_for(kind: str, title: str | None, body: str | None) -> str:
    """The text whose embedding the scorer's cosine compares.

    FAQ: the question as posted, subject then body (the answer is left out: two answers to one
    question differ, two phrasings of one question should meet). Pattern: the same text as
    ``texts_for``. Cut at ``MAX_EMBED_CHARS``.
    """
    if kind == "faq":
        text = " ".join(x for x in ((title or "").strip(), (body or "").strip()) if x)
    else:
        text = texts_for(kind, title, body)
    return (text or "(empty)")[:MAX_EMBED_CHARS]


# --------------------------------------------------------------------------- lexical


def compute_idf(texts: Iterable[str]) -> dict[str, float]:
    """Inverse document frequency of content words over `texts` (smoothed: log((N+1)/(df+0.5))).

    The entry ``""`` holds the idf of a word seen in no text (df = 0): ``lexical_similarity`` gives
    unseen words that weight, so a rare name shared by two new items still counts."""
    df: Counter[str] = Counter()
    n = 0
    for t in texts:
        n += 1
        df.update(set(content_words(t)))
    return {w: math.log((n + 1) / (c + 0.5)) for w, c in df.items()} | {"": math.log((n + 1) / 0.5)}


def _idf_of(idf: Mapping[str, float] | None, word: str) -> float:
    if not idf:
        return 1.0
    v = idf.get(word)
    return float(v) if v is not None else float(idf.get("", 1.0))  # unseen words are rare words


def lexical_similarity(a: str, b: str, idf: Mapping[str, float] | None = None) -> float:
    """IDF-weighted overlap of the content-word sets of `a` and `b`, in [0, 1].

    Cosine of binary bag-of-words vectors weighted by idf (idf², because each side carries one
    factor): Σ_shared idf² / sqrt(Σ_a idf² · Σ_b idf²). Without `idf` every word weighs 1 (set
    cosine). Rare shared words ("Pajju", "kennel", "NOC") count most; words every post uses
    count least. 0 when either side has no content word.
    """
    wa, wb = set(content_words(a)), set(content_words(b))
    if not wa or not wb:
        return 0.0
    w = {x: _idf_of(idf, x) ** 2 for x in wa | wb}
    shared = sum(w[x] for x in wa & wb)
    return float(shared / math.sqrt(sum(w[x] for x in wa) * sum(w[x] for x in wb)))


def _char_grams(text: str, n: int = 4) -> set[str]:
    t = " " + re.sub(r"[^a-z0-9]+", " ", (text or "").lower()).strip() + " "
    return {t[i : i + n] for i in range(max(0, len(t) - n + 1))}


def char_similarity(a: str, b: str, n: int = 4) -> float:
    """Jaccard of character n-gram sets (lower-case, punctuation folded to spaces), in [0, 1].

    Tolerates typos. Not part of the default score: on SemEval part 1 adding it to cosine +
    lexical did not raise precision or MAP (see CALIBRATED)."""
    ga, gb = _char_grams(a, n), _char_grams(b, n)
    if not ga or not gb:
        return 0.0
    return len(ga & gb) / len(ga | gb)


# --------------------------------------------------------------------------- scorer


@dataclass(frozen=True)
class KindConfig:
    """How pairs of one kind are scored and cut.

    score = w_cos · cosine(embedding vectors) + w_lex · lexical_similarity(texts, idf)
    At `merge` a pair is folded automatically; at `suggest` a reviewer is asked.
    """

    w_cos: float
    w_lex: float
    merge: float
    suggest: float


#: Calibrated on labelled data, not guessed — reproduce with the commands below (the JSON report's
#: ``calibration`` block prints both thresholds for the data it was given).
#:
#: faq: SemEval-2016 Task 3 subtask B, **train part 1 only** (613 pairs, 90 PerfectMatch = duplicate):
#:   ``practice eval duplicates --semeval ../shared/corpus/threads/semeval2016/SemEval2016-Task3-CQA-QL-train-part1.xml --json``
#:   w_lex = 0.3 maximised part-1 (precision at recall ≥ 0.25) + MAP over w_lex ∈ {0, .1, .2, .3, .5, .7, 1}.
#:   merge 0.8935 = the lowest score with precision ≥ 0.90 on part 1 (``merge_at_p90`` 0.8938: recall
#:   0.10 there); suggest 0.543 = part 1's best-F1 threshold (0.5435). Part 2 chose nothing: it is
#:   the held-out report.
#: pattern: MRPC train (3,676 statement pairs, 2,485 paraphrases):
#:   ``practice eval duplicates --mrpc ../shared/corpus/pairs/mrpc/msr_paraphrase_train.txt --json``
#:   w_lex = 0.5 (best AP and F1 over the same grid; ≥ 0.5 is a plateau); merge 1.25 = lowest score
#:   with precision ≥ 0.90 (1.2502, recall 0.42); suggest 0.891 = best-F1 threshold (0.8914).
#:   In-sample on MRPC train (no separate split was held out for patterns).
CALIBRATED: dict[str, KindConfig] = {
    "faq": KindConfig(w_cos=1.0, w_lex=0.3, merge=0.8935, suggest=0.543),
    "pattern": KindConfig(w_cos=1.0, w_lex=0.5, merge=1.25, suggest=0.891),
}
#: (merge, suggest) per kind, for callers that only need the cut-offs.
CALIBRATED_THRESHOLDS: dict[str, tuple[float, float]] = {k: (c.merge, c.suggest) for k, c in CALIBRATED.items()}


@dataclass
class DuplicateScorer:
    """Scores candidate pairs with per-kind weights and thresholds (defaults: ``CALIBRATED``)."""

    config: dict[str, KindConfig] = field(default_factory=lambda: dict(CALIBRATED))

    def _cfg(self, kind: str) -> KindConfig:
        try:
            return self.config[kind]
        except KeyError:
            raise ValueError(f"unknown kind {kind!r} (known: {', '.join(self.config)})") from None

    def merge_threshold(self, kind: str = "faq") -> float:
        """Score at or above which two items of `kind` are merged automatically."""
        return self._cfg(kind).merge

    def suggest_threshold(self, kind: str = "faq") -> float:
        """Score at or above which a merge is suggested to a reviewer."""
        return self._cfg(kind).suggest

    def decide(self, scores: np.ndarray, kind: str = "faq") -> np.ndarray:
        """'merge' | 'suggest' | 'distinct' for each score."""
        c = self._cfg(kind)
        s = np.asarray(scores)
        return np.where(s >= c.merge, "merge", np.where(s >= c.suggest, "suggest", "distinct"))

    @staticmethod
    def signals(
        texts_a: Sequence[str],
        texts_b: Sequence[str],
        vec_a: np.ndarray,
        vec_b: np.ndarray,
        idf: Mapping[str, float] | None = None,
    ) -> dict[str, np.ndarray]:
        """The raw signals of every pair i: ``cosine`` (vec_a[i]·vec_b[i]) and ``lexical``."""
        n = len(texts_a)
        if not (n == len(texts_b) == len(vec_a) == len(vec_b)):
            raise ValueError("texts_a, texts_b, vec_a and vec_b must have the same length")
        if n == 0:
            return {"cosine": np.zeros(0, np.float32), "lexical": np.zeros(0, np.float32)}
        va = np.asarray(vec_a, dtype=np.float32).reshape(n, -1)
        vb = np.asarray(vec_b, dtype=np.float32).reshape(n, -1)
        cos = np.einsum("ij,ij->i", va, vb).astype(np.float32)
        lex = np.fromiter((lexical_similarity(a, b, idf) for a, b in zip(texts_a, texts_b)), np.float32, n)
        return {"cosine": cos, "lexical": lex}

    def combine(self, signals: Mapping[str, np.ndarray], kind: str = "faq") -> np.ndarray:
        c = self._cfg(kind)
        return (c.w_cos * signals["cosine"] + c.w_lex * signals["lexical"]).astype(np.float32)

    def score_pairs(
        self,
        texts_a: Sequence[str],
        texts_b: Sequence[str],
        vec_a: np.ndarray,
        vec_b: np.ndarray,
        idf: Mapping[str, float] | None = None,
        kind: str = "faq",
    ) -> np.ndarray:
        """Duplicate scores of the pairs (texts_a[i], texts_b[i]), an (n,) float32 array.

        `texts_*` are what ``texts_for`` returns (lexical evidence), `vec_*` the L2-normalised
        embeddings of ``embedding_text_for`` (one row per pair), `idf` from ``compute_idf`` over
        the collection the pairs come from (None: every word weighs 1).
        """
        return self.combine(self.signals(texts_a, texts_b, vec_a, vec_b, idf), kind)
