"""Answer ranking for the offline thread → FAQ extractor: which reply in a thread answers its question.

Pure functions, no I/O: the embedding function is injected (`embed(texts) -> (n, d)` array of
L2-normalised vectors), so tests pass a deterministic fake and the pipeline passes the bundled
sentence-transformers model.

The ranker is unsupervised. Every reply gets a handful of *signals*, each a number with a fixed
meaning (a cosine, a 0/1 flag, a share), and its score is a weighted sum of them
(`RankingWeights`). The weights were set by reasoning about what each signal means and checked
on a development set that is not the evaluation set (see `RankingWeights` and
`pipeline/eval_answers.py`): nothing is learned from evaluation labels.

Signals (all neutral — 0 — when the source does not carry them):

relevance      cosine between the (cleaned) question and the reply
lexical        share of the question's content words (idf-weighted, within the thread) the reply uses
consensus      mean cosine between the reply and the other non-asker replies (answers agree)
dialogue       how much more the reply resembles the previous reply than the question (max(0, ·))
asker          the reply was written by the asker (follow-ups, thanks, clarifications)
acknowledged   the asker thanked this reply ("thanks, that worked"): 1 explicit, 0.5 guessed
accepted       the source marks it as the accepted answer
answer_style   reads like an answer rather than banter (zero-shot prototypes, see below)
asks_back      share of the reply's sentences that are questions (a question is not an answer)
chit_chat      very short social replies: "thanks", "lol", "+1", "me too"
addressed      the reply opens by addressing another commenter ("@name", "Name; ...")
repeat         the author already replied earlier in the thread (later turns are mostly dialogue)
substance      length (log words, saturating), links, numbers, code: content an answer carries
position       earlier is a little better (1 for the first reply, 0 for the last)
votes          net votes relative to the best in the thread (0 when votes are unknown)
reactions      reactions relative to the best in the thread (0 when unknown)
"""

from __future__ import annotations

import math
import re
import weakref
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from pipeline.text import WORD as _WORD
from pipeline.text import content_words, is_question, sentence_is_question, split_sentences
from pipeline.text_clean import clean_question

__all__ = [
    "CONTINUES",
    "CREDIBLE_THRESHOLD",
    "RankedReply",
    "RankingWeights",
    "Reply",
    "clean_question",
    "embedding_texts",
    "is_credible",
    "is_question",
    "rank_replies",
]

Embed = Callable[[list[str]], np.ndarray]

#: Characters of a reply that are embedded (the model reads ~256 word pieces anyway; cutting
#: earlier keeps long posts from dominating run time without changing what the model sees).
MAX_EMBED_CHARS = 1200


@dataclass
class Reply:
    """One reply in a thread, as the ranker sees it.

    `score` (votes), `accepted` and `reactions` are optional evidence: None / 0 means "unknown"
    and leaves the score unchanged. `reply_to` is the id of the reply this one answers (when the
    source knows it); `author_name` is the display name others use to address the author.
    `candidate=False` marks context messages (e.g. Stack Exchange comments) that may credit a
    candidate but are not ranked themselves.
    """

    id: str
    text: str
    author: str | None = None
    position: int = 0
    timestamp: str | None = None
    reactions: int = 0
    score: int | None = None
    accepted: bool | None = None
    reply_to: str | None = None
    author_name: str | None = None
    candidate: bool = True


@dataclass
class RankedReply:
    """A reply with its final score and the signal values that made it."""

    id: str
    score: float
    signals: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class RankingWeights:
    """How much each signal moves the score (score = Σ weight × signal).

    Scale: relevance is a cosine (typically 0.0–0.7 between a question and its replies, a good
    answer ~0.1–0.2 above an off-topic one), so a weight of 1 on it is the unit. Flags are then
    sized against "how many cosine points is this evidence worth". Checked on the development
    set only (SemEval-2016 train part 1, see pipeline/eval_answers.py), never on the test data.
    """

    relevance: float = 1.0  # the core: does the reply talk about what was asked
    lexical: float = 0.3  # exact shared words (names, places, products) the embedding may blur
    consensus: float = 0.5  # independent answers to one question resemble each other
    dialogue: float = -0.5  # closer to the previous message than to the question: a side conversation
    asker: float = -0.5  # the asker's own comments are follow-ups, rarely the answer
    acknowledged: float = 0.2  # the asker's "thanks, that worked" credits a reply (1 explicit, 0.5 guessed)
    accepted: float = 1.0  # the asker accepted it: the strongest evidence a source can carry
    answer_style: float = 1.0  # reads like an answer ("you can…", "it costs…") rather than banter
    asks_back: float = -0.2  # a reply that is mostly questions asks rather than answers
    chit_chat: float = -0.3  # "thanks", "lol", "+1" carry no answer
    addressed: float = -0.05  # talking to another commenter, not to the asker
    repeat: float = -0.1  # an author's second and later turns are mostly back-and-forth
    substance: float = 0.2  # answers carry content: length, links, numbers, code
    position: float = 0.1  # earlier replies answer more often (chronological is a fair prior)
    votes: float = 0.3  # community judgement, when the source has it
    reactions: float = 0.1  # lighter community judgement (emoji reactions)

    def as_dict(self) -> dict[str, float]:
        return {f.name: float(getattr(self, f.name)) for f in fields(self)}


# --------------------------------------------------------------------------- text helpers

def _question_share(text: str) -> float:
    """Share of a reply's sentences that are questions (0 for an empty reply)."""
    sents = split_sentences(text)
    if not sents:
        return 0.0
    return sum(1 for s in sents if sentence_is_question(s)) / len(sents)


_URL = re.compile(r"https?://|www\.|\b\S+@\S+\.\w+\b|\b[\w-]+\.(?:com|org|net|gov|edu|io)\b", re.IGNORECASE)
_NUMBER = re.compile(r"\d")
_CODE = re.compile(r"```|`[^`]+`|\n {4,}\S|\b\w+\(\)|[{};]\s*$|\$\s*\w+", re.MULTILINE)
_CHIT_CHAT = re.compile(
    r"^\W*(?:(?:thanks?|thank\s+you|thx|ty|tnx|cheers|lol|lmao|rofl|haha\w*|hehe\w*|ok(?:ay)?|yes|yeah|yep|no|nope|"
    r"agreed?|same|me\s+too|\+1|bump|up|great|nice|cool|good(?:\s+one)?|wow|welcome|you'?re\s+welcome|"
    r"exactly|true|right|indeed|hmm+|oh|ah|:\)|:-\)|:d|;\)|:p)\b[\s\W]*)+$",
    re.IGNORECASE,
)
_THANKS = re.compile(
    r"\b(?:thanks?|thank\s+(?:you|u)|thx|tnx|ty|appreciated?|grateful|that\s+(?:worked|helps|helped|did\s+it|solved|fixed)|"
    r"(?:it|this)\s+(?:worked|works\s+now|solved|fixed)|very\s+helpful|great\s+(?:info|advice|help|answer|tip)|"
    r"useful\s+(?:info|information|advice)|exactly\s+what\s+i)\b",
    re.IGNORECASE,
)
#: A reply that opens like this adds to an earlier answer ("Also: never sleep a fixed amount").
CONTINUES = re.compile(r"^\W*(?:and|also|plus|additionally|besides|oh,? and)\b", re.IGNORECASE)
_THANKS_ALL = re.compile(r"\b(?:thanks?|thank\s+you)\s+(?:all|everyone|everybody|guys|folks|to\s+all)\b", re.IGNORECASE)
def embedding_texts(question: str, replies: Sequence[Reply]) -> list[str]:
    """Exactly the texts `rank_replies` embeds, in order (callers can pre-embed them in one batch)."""
    return [_embed_text(clean_question(question))] + [_embed_text(r.text) for r in replies if r.candidate]


def _embed_text(text: str) -> str:
    text = (text or "").strip() or "(empty)"
    return text[:MAX_EMBED_CHARS]


def _norm_name(name: str | None) -> str:
    return (name or "").strip().lower()


def _mentions(text: str, name: str) -> bool:
    """True if `text` mentions a display name ("@name" or the name as a word)."""
    if not name or len(name) < 3:
        return False
    return re.search(r"(?<![\w@])@?" + re.escape(name) + r"(?!\w)", text, re.IGNORECASE) is not None


def _opens_by_addressing(text: str, names: set[str]) -> bool:
    """The reply starts with "@someone" or "Name;"/"Name," / "Name:" for a known participant."""
    t = text.strip()
    if t.startswith("@"):
        return True
    head = re.split(r"[;,:!\-–—]", t, maxsplit=1)[0].strip().lower()
    head = re.sub(r"^(?:hi|hey|hello|dear|@)\s*", "", head)
    return bool(head) and head in names


# --------------------------------------------------------------------------- ranking


def _substance(text: str) -> float:
    words = len(_WORD.findall(text))
    # log-length saturating at ~80 words: one line "try Oasis rent-a-car" is short but can answer.
    length = min(1.0, math.log1p(words) / math.log1p(80))
    extras = 0.0
    if _URL.search(text):
        extras += 0.3
    if _NUMBER.search(text):
        extras += 0.15
    if _CODE.search(text):
        extras += 0.15
    return min(1.0, length + extras) if words else 0.0


def _relative(values: list[float | None]) -> list[float]:
    """Non-negative evidence (votes, reactions) relative to the best in the thread, in [-0.5, 1].

    Unknown (None) is 0; a thread with no positive evidence gives 0 to every reply (neutral)."""
    known = [v for v in values if v is not None]
    top = max((v for v in known if v > 0), default=0.0)
    out = []
    for v in values:
        if v is None or top <= 0 and v >= 0:
            out.append(0.0)
        elif v < 0:
            out.append(-0.5)
        else:
            out.append(math.log1p(v) / math.log1p(top))
    return out


# Zero-shot "is this an answer?" prototypes: generic (no community vocabulary), written by hand,
# never fitted to labels. A reply's answer_style = max cosine to an answer prototype minus max
# cosine to a social one: banter, thanks, "me too", counter-questions score below zero.
SOCIAL_PROTOTYPES: tuple[str, ...] = (
    "thanks for sharing",
    "lol that is funny",
    "haha good one",
    "me too, I have the same question",
    "I also want to know this",
    "good luck with that",
    "I agree with you",
    "what do you mean?",
    "why would you want to do that?",
    "please send me the details as well",
    "sorry, I have no idea",
    "you're welcome",
    "nice one",
    "welcome",
)
ANSWER_PROTOTYPES: tuple[str, ...] = (
    "you can do it like this",
    "I recommend this option",
    "it costs about 300 per month",
    "you need to apply at the office with these documents",
    "try contacting them at this number",
    "in my experience the best option is",
    "the rule is that you must",
    "go to the website and fill in the form",
)
_PROTO_CACHE: "weakref.WeakKeyDictionary[Any, tuple[np.ndarray, np.ndarray]]" = weakref.WeakKeyDictionary()


def _prototypes(embed: Embed) -> tuple[np.ndarray, np.ndarray]:
    """Embedded (social, answer) prototypes, memoised per embed function when it can be."""
    try:
        return _PROTO_CACHE[embed]
    except (KeyError, TypeError):
        pass
    vecs = np.asarray(embed(list(SOCIAL_PROTOTYPES) + list(ANSWER_PROTOTYPES)), dtype=np.float32)
    pair = (vecs[: len(SOCIAL_PROTOTYPES)], vecs[len(SOCIAL_PROTOTYPES) :])
    try:
        _PROTO_CACHE[embed] = pair
    except TypeError:  # not weak-referenceable: recomputed next time
        pass
    return pair


@dataclass(eq=False)  # identity hashing: `_prototypes` memoises per embed function
class PreEmbedded:
    """An `Embed` answering from vectors computed up front; a text it lacks is embedded then."""

    embed: Embed
    table: dict[str, np.ndarray]

    def __call__(self, texts: list[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self.table))
        if missing:
            self.table.update(zip(missing, np.asarray(self.embed(missing), dtype=np.float32)))
        return np.stack([self.table[t] for t in texts]) if texts else np.zeros((0, 0), dtype=np.float32)


def pre_embedded(embed: Embed, threads: Sequence[tuple[str, Sequence[Reply]]]) -> PreEmbedded:
    """Every text `rank_replies` will ask for these (question, replies) threads, and the prototypes,
    embedded in one call of `embed`: a source's threads in one batch instead of one model call each."""
    texts = [*SOCIAL_PROTOTYPES, *ANSWER_PROTOTYPES]
    for question, replies in threads:
        texts += embedding_texts(question, replies)
    unique = list(dict.fromkeys(texts))
    return PreEmbedded(embed, dict(zip(unique, np.asarray(embed(unique), dtype=np.float32))))


def rank_replies(
    question: str,
    asker: str | None,
    replies: list[Reply],
    embed: Embed,
    weights: RankingWeights | None = None,
) -> list[RankedReply]:
    """Rank the candidate replies of a thread, best answer first.

    `question` is the thread's opening text (title + body), `asker` its author. Replies with
    `candidate=False` are context only: they can acknowledge a candidate (the asker's "thanks,
    that worked" under an answer) but are not returned. Ties keep thread order. Each returned
    `RankedReply.signals` holds the raw signal values (see the module docstring) so a reviewer or
    a test can see why a reply won.
    """
    w = weights or RankingWeights()
    ordered = sorted(enumerate(replies), key=lambda p: (p[1].position, p[0]))
    everyone = [r for _, r in ordered]
    cands = [r for r in everyone if r.candidate]
    if not cands:
        return []
    n = len(cands)
    asker_key = _norm_name(asker)

    vecs = np.asarray(embed(embedding_texts(question, cands)), dtype=np.float32)
    qv, cv = vecs[0], vecs[1:]
    social_v, answer_v = _prototypes(embed)
    answer_style = (cv @ answer_v.T).max(axis=1) - (cv @ social_v.T).max(axis=1)
    rel = cv @ qv  # (n,)
    sims = cv @ cv.T

    is_asker = [bool(asker_key) and _norm_name(r.author) == asker_key for r in cands]

    # consensus: mean similarity to the other replies by people other than the asker
    others = np.array([not a for a in is_asker], dtype=bool)
    consensus = np.zeros(n, dtype=np.float32)
    for i in range(n):
        mask = others.copy()
        mask[i] = False
        if mask.any():
            consensus[i] = float(sims[i, mask].mean())

    # dialogue: more like the previous candidate than like the question
    dialogue = np.zeros(n, dtype=np.float32)
    for i in range(1, n):
        dialogue[i] = max(0.0, float(sims[i, i - 1] - rel[i]))

    # lexical overlap with the question, idf within the thread (words every reply uses count little)
    q_words = set(content_words(clean_question(question)))
    c_words = [set(content_words(r.text)) for r in cands]
    df = Counter(word for ws in c_words for word in ws)
    idf = {word: math.log((n + 1) / (df.get(word, 0) + 0.5)) for word in q_words}
    q_mass = sum(idf.values()) or 1.0
    lexical = [sum(idf[x] for x in q_words & ws) / q_mass for ws in c_words]

    # acknowledgement: the asker thanks a reply — explicitly (reply_to, or by name): 1.0; else the
    # candidate just before the thanks is credited as a guess: 0.5. "Thanks all" credits nobody.
    acknowledged = [0.0] * n
    index = {r.id: i for i, r in enumerate(cands)}
    for pos, msg in enumerate(everyone):
        if not (asker_key and _norm_name(msg.author) == asker_key and _THANKS.search(msg.text or "")):
            continue
        if msg.reply_to and msg.reply_to in index:
            target = index[msg.reply_to]
            if not is_asker[target]:
                acknowledged[target] = 1.0
            continue
        earlier = [r for r in everyone[:pos] if r.candidate and _norm_name(r.author) != asker_key]
        if not earlier:
            continue
        named = [r for r in earlier if any(_mentions(msg.text, nm) for nm in (r.author_name, r.author) if nm)]
        if named:
            for author in {r.author for r in named}:
                last = [x for x in named if x.author == author][-1]
                acknowledged[index[last.id]] = 1.0
        elif not _THANKS_ALL.search(msg.text):
            # The guess is the last answer turn: in chat one answer often spans several messages
            # of one person ("fill in the template: …" then "the call is 15 minutes"), and a
            # reply that opens with "Also…" adds to the one before it, so the thanks covers both.
            turn = [earlier[-1]]
            for r in reversed(earlier[:-1]):
                if _norm_name(r.author) != _norm_name(turn[-1].author) and not CONTINUES.match(turn[-1].text or ""):
                    break
                turn.append(r)
            for r in turn:
                acknowledged[index[r.id]] = max(acknowledged[index[r.id]], 0.5)

    # repeat: the author already posted a candidate earlier in the thread
    seen: Counter[str] = Counter()
    repeat = []
    for r in cands:
        key = _norm_name(r.author)
        repeat.append(1.0 if key and seen[key] > 0 else 0.0)
        if key:
            seen[key] += 1

    participant_names = {
        _norm_name(r.author_name) for r in everyone if r.author_name and _norm_name(r.author) != asker_key
    } - {""}
    votes = _relative([r.score for r in cands])
    reactions = _relative([float(r.reactions) if r.reactions else None for r in cands])

    out: list[RankedReply] = []
    for i, r in enumerate(cands):
        text = r.text or ""
        signals = {
            "relevance": float(rel[i]),
            "lexical": float(lexical[i]),
            "consensus": float(consensus[i]),
            "dialogue": float(dialogue[i]),
            "asker": 1.0 if is_asker[i] else 0.0,
            "acknowledged": float(acknowledged[i]),
            "accepted": 1.0 if r.accepted else 0.0,
            "answer_style": float(answer_style[i]),
            "asks_back": _question_share(text),
            "chit_chat": 1.0 if _CHIT_CHAT.match(text) or not _WORD.search(text) else 0.0,
            "addressed": 1.0 if _opens_by_addressing(text, participant_names) else 0.0,
            "repeat": repeat[i],
            "substance": _substance(text),
            "position": 1.0 - i / (n - 1) if n > 1 else 1.0,
            "votes": votes[i],
            "reactions": reactions[i],
        }
        score = sum(getattr(w, k) * v for k, v in signals.items())
        out.append(RankedReply(id=r.id, score=float(score), signals=signals))
    # stable sort: ties keep thread order
    return sorted(out, key=lambda x: -x.score)


#: Calibrated on the dev slice only (first 20 % of SemEval-2016 part-2 threads, 134 threads): the
#: top reply is Good in 75 % of threads overall; at score ≥ 0.9, 84 % of threads keep a credible
#: answer at 82 % precision, and the rejected 16 % have a Good top reply only 29 % of the time.
#: Higher thresholds reject more Good answers than bad ones (precision plateaus at ~0.82–0.87).
CREDIBLE_THRESHOLD = 0.9


def is_credible(ranked: RankedReply, threshold: float = CREDIBLE_THRESHOLD) -> bool:
    """Whether the best reply of a thread is a credible answer (else the FAQ stays an open question).

    Hard evidence decides first: an accepted or asker-acknowledged reply is credible; the asker's
    own reply, chit-chat, or a reply that only asks back is not. Otherwise the combined score must
    reach `threshold`.
    """
    s = ranked.signals
    if s.get("acknowledged", 0.0) > 0:
        return True
    if s.get("asker", 0.0) > 0 or s.get("chit_chat", 0.0) > 0 or s.get("asks_back", 0.0) >= 0.99:
        return False
    return ranked.score >= threshold
