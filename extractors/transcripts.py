"""Offline transcript extractor: answered questions, decisions, lessons and recommendations.

Reads the turns of one transcript source (a VTT/SRT recording, a plain speaker-turn text, or a
QMSum file holding many meetings: turns are grouped by `thread_id`, so nothing is paired across
meetings) and proposes:

FAQ        a substantive question (>= 5 words, not a tag like "right?", not logistics like
           "can you hear me?", not an action request like "could you set up X?") answered by
           ANOTHER speaker within the next three turns with >= 8 words. Consecutive turns of the
           answerer are concatenated. A question that is explicitly left open ("no idea", "let's
           take it to the list") or addressed to everyone ("does anyone know...") with no answer
           becomes an open question (answer None, lower confidence). Everything else unanswered
           is dropped: meetings are full of questions. The question must also be FAQ material by
           `extractors.faq_worthiness` (not a stance or commitment asked of someone, a poll,
           logistics or a fragment), and a formal debate (several turns put through the chair:
           a parliament's question period) yields no FAQs at all.
pattern    decisions ("we decided", "we agreed", "let's go with"), lessons ("what worked for us",
           "lesson learned", "the trick is", "next time we should") and recommendations ("we
           recommend", "make sure", "Always/Never/Avoid ...", "you should"; not conditional, not
           the speaker's opinion, not logistics, judged by `extractors.advice.score_advice`):
           one pattern per turn. Decisions and actions a scribe marks ("RESOLVED: ...",
           "ACTION: ...", "Action item for Ann: ...", or a "RESOLVED" line read as a speaker)
           are patterns of their own. The category prefixes the context ("decision · meeting
           00:12:03–00:12:40"); the name is the practice (`extractors.naming.practice_name`).

Filler ({vocalsound}, {disfmarker}, "um", "uh") is removed from display text and from what the
rules look at; quotes are always exact substrings of the turn text (cut by character spans).
Pure: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePath

from extractors.advice import ACTION_PHRASE, is_scribe_label, said_decision, score_advice, scribe_mark
from extractors.base import ExtractionResult, quote_is_verbatim
from extractors.faq_worthiness import faq_worthiness
from extractors.naming import practice_name
from pipeline.models import CandidateDraft, CandidateKind, Evidence, Passage, Source, SourceKind
from pipeline.text import STOP_WORDS, sentence_spans
from pipeline.text import tokens as _words

__all__ = ["TranscriptExtractor", "clean_speech", "format_time"]

ANSWER_WINDOW = 3  # turns after a question in which another speaker may answer
MIN_QUESTION_WORDS = 5
MIN_ANSWER_WORDS = 8
MAX_ANSWER_TURNS = 3
MAX_SENTENCE_CHARS = 400
MONOLOGUE_WORDS = 250  # a turn longer than this is a talk, not a discussion turn

# ---------------------------------------------------------------------------------------------
# text cleaning

_NOISE_TOKEN = re.compile(r"\{[a-z_]+\}|\[(?:laughter|inaudible|crosstalk|noise|music|applause)[^\]]*\]\.?", re.I)
_FILLER = re.compile(r"(?i)(?<![\w'])(?:um+|uh+|erm+|er|ah+|hmm+|mm+|mhm|uh-huh|um-hum)(?![\w'])[,.]?")
_SPACE_PUNCT = re.compile(r"\s+([,.?!;:])")


def clean_speech(text: str) -> str:
    """Display text without noise tokens and fillers ("{vocalsound}", "um", "uh"), spacing fixed."""
    t = _NOISE_TOKEN.sub(" ", text)
    t = _FILLER.sub(" ", t)
    t = re.sub(r"\s+", " ", t)
    t = _SPACE_PUNCT.sub(r"\1", t)
    t = re.sub(r"([,;:])(?:\s*[,;:])+", r"\1", t)
    t = re.sub(r"^[\s,.;:—-]+", "", t).strip()
    return t[:1].upper() + t[1:] if t else t


_DISFLUENT_MARK = re.compile(r"\{(?:disfmarker|gap)\}|\b(\w+)\s+\1\b", re.I)


def disfluency(text: str) -> int:
    """How broken a stretch of speech is: {disfmarker}/{gap} marks plus repeated words ("the the")."""
    return len(_DISFLUENT_MARK.findall(text))


def format_time(seconds: float | None) -> str:
    """hh:mm:ss for a number of seconds ("" when unknown)."""
    if seconds is None:
        return ""
    s = int(round(seconds))
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


# ---------------------------------------------------------------------------------------------
# questions

# Stop words of speech: the product's stop list plus the fillers and vague words of talk
# ("yeah", "okay", "a lot", "I think") and object pronouns the product list does not hold
# (adding them there would change every BM25 index's terms); none says what a question is about.
_STOP = STOP_WORDS | frozenset(
    "him her us really okay ok well right yeah oh go going think mean say said thing things lot bit".split()
)
_INTERROGATIVE_START = re.compile(
    r"(?i)^(?:and\s+|but\s+|so\s+|okay,?\s+|well,?\s+|yes\.?\s+|now,?\s+)*"
    r"(?:how|what|what's|why|when|where|which|who|whom|is|are|was|were|do|does|did|can|could|would|"
    r"should|will|has|have|had|any|anyone|anybody|is\s+there|are\s+there|"
    r"doesn'?t|don'?t|isn'?t|aren'?t|won'?t|can'?t|shouldn'?t|wouldn'?t|didn'?t)\b"
)
_ASK_PHRASES = re.compile(
    r"(?i)\b(?:does\s+any(?:one|body)\s+know|has\s+any(?:one|body)|any(?:one|body)\s+(?:know|tried|have|found)|"
    r"how\s+do\s+(?:you|we|people|i)|what'?s\s+the\s+best\s+way|what\s+is\s+the\s+best\s+way|any\s+advice|"
    r"any\s+(?:tips|recommendations|suggestions)|is\s+there\s+a\s+(?:good\s+)?way|i\s+was\s+wondering)\b"
)
_TAG_QUESTION = re.compile(
    r"(?i)(?:^|[,;]\s*|\s)(?:right|you\s+know|okay|ok|yeah|yes|no|huh|eh|isn'?t\s+it|aren'?t\s+they|"
    r"don'?t\s+you\s+think|wouldn'?t\s+you\s+say|correct|true|see|agreed|alright|all\s+right|or\s+not|"
    r"do\s+you\s+know\s+what\s+i'?m\s+saying|you\s+see|does\s+that\s+make\s+sense|make\s+sense)\s*\?$"
)
_LOGISTICS = re.compile(
    r"(?i)\b(?:hear\s+(?:me|us|you|it)|see\s+(?:my|the|your)\s+screen|share\s+(?:my\s+|the\s+|your\s+)?screen|"
    r"screen|mute[ds]?|unmute|audio|microphone|mic|camera|webcam|chat|the\s+link|invite|recording|zoom|"
    r"slides?|dial\s+in|connection|lagging|frozen|bathroom|coffee|lunch|take\s+a\s+break|"
    r"next\s+(?:item|slide|topic)|move\s+on|start(?:ed)?\s+(?:now|yet)|everyone\s+here|who'?s\s+(?:next|here|missing)|"
    r"(?:my|your)\s+turn|go\s+ahead|jump\s+in|still\s+there|headsets?|earpieces?|interpret(?:er|ers|ation))\b"
)
# "Can I just be clear?", "Shall I address that?", "Could you set up the list?": meta or tasks.
_META_REQUEST = re.compile(
    r"(?i)^(?:and\s+|so\s+|okay,?\s+|sorry,?\s+)*(?:(?:can|could|may|shall|should)\s+(?:i|we)\b"
    r"|(?:can|could|would|will)\s+you\s+(?!(?:please\s+)?(?:explain|tell|describe|recommend|suggest|advise|"
    r"talk\s+(?:us|me)\s+through|walk\s+(?:us|me)?\s*through|give\s+(?:us\s+|me\s+)?(?:an?\s+)?(?:example|overview)))"
    r"|(?:[A-Z][a-z]+,\s+)?(?:can|could|would)\s+you\s+(?:please\s+)?(?:write|send|set|take|add|put|do|make|fix|share|run)\b)"
)
# the speaker checking they were understood: "Does that help to illustrate...?", "Is that clear?"
_CHECK_BACK = re.compile(
    r"(?i)^(?:and\s+|so\s+)?(?:does|did|is|was|has)\s+(?:that|this|it)\s+(?:help|make\s+sense|answer|clear|cover|clarify)"
    r"|^(?:do\s+you\s+(?:know\s+what\s+i\s+mean|see\s+what\s+i\s+mean|follow))"
)
_NON_ANSWER = re.compile(
    r"(?i)\b(?:no\s+idea|i\s+don'?t\s+know|don'?t\s+have\s+a\s+(?:great|good|real)?\s*answer|not\s+sure|"
    r"good\s+question|let'?s\s+(?:take|park|put)\s+(?:it|that|this)|take\s+(?:it|that)\s+(?:to|offline)|"
    r"park\s+(?:it|that)|note\s+it\s+as\s+open|(?:haven'?t|not|never|don'?t\s+think\s+we'?ve)\s+(?:really\s+)?solved|"
    r"no\s+clue|can'?t\s+help|fair\s+question|interesting\s+question)\b"
)
# An answer put through the chair ("Mr. Chair, we are continuing to work…") belongs to a formal
# debate: the question was a political one and the reply a position, not knowledge to keep.
_THROUGH_CHAIR = re.compile(r"(?i)\b(?:mr|mister|madam|madame|ms)\.?\s*(?:chair|speaker|president)\b")
#: A meeting where this many turns speak through the chair is a formal debate (a parliament's
#: question period): its questions are political and its answers positions, so no FAQs.
DEBATE_TURNS = 3


def _formal_debate(turns: list["_Turn"]) -> bool:
    """Whether a meeting is a formal debate: several turns open by addressing the chair."""
    return sum(1 for t in turns if _THROUGH_CHAIR.search(t.clean[:60])) >= DEBATE_TURNS
_OPEN_MARK = re.compile(r"(?i)\bopen\s+question|\bdoes\s+any(?:one|body)\s+know|\bhas\s+any(?:one|body)\b|\bany(?:one|body)\s+(?:found|tried)")


_UNPUNCTUATED_QUESTION = re.compile(
    r"(?i)^(?:and\s+|so\s+)?(?:is\s+there|are\s+there|do\s+you\s+have|do\s+you|does\s+any(?:one|body)|"
    r"has\s+any(?:one|body)|how\s+(?:do|does|did|can|should|would)|what\s+(?:do|does|did|is|are|would|should)|"
    r"why\s+(?:do|does|did|is|are|would|should)|which\s+\w+\s+(?:do|does|should))\b"
)


def _question_sentence(clean: str, final: bool = False) -> bool:
    """A substantive question: ends with "?" (or asks "does anyone know..."), enough content.

    Speech recognition often drops the "?": the last sentence of a turn that opens like a
    question ("Is there anything that you do...") counts too (`final=True`).
    """
    unpunctuated = (
        final and clean.endswith(".") and len(_words(clean)) >= 8 and _UNPUNCTUATED_QUESTION.match(clean)
    )
    if not (clean.endswith("?") or _ASK_PHRASES.search(clean) or unpunctuated):
        return False
    words = _words(clean)
    if len(words) < MIN_QUESTION_WORDS or len(clean) > MAX_SENTENCE_CHARS:
        return False
    if _TAG_QUESTION.search(clean) and len(words) < 12:
        return False
    if _TAG_QUESTION.search(clean) and not _INTERROGATIVE_START.match(clean):
        return False  # "It's the timing thing again, right?"
    if _LOGISTICS.search(clean) or _META_REQUEST.match(clean) or _CHECK_BACK.match(clean):
        return False
    if not (_INTERROGATIVE_START.match(clean) or _ASK_PHRASES.search(clean)):
        return False  # declaratives with a "?": echoes, trailing-off statements
    content = [w for w in words if w.lower().replace("’", "'") not in _STOP]
    anaphoric = re.search(r"(?i)\b(?:it|that|this|them|those|these)\b", clean)
    return len(content) >= 4 or (len(content) >= 3 and not anaphoric)


# ---------------------------------------------------------------------------------------------
# decisions, lessons, recommendations

_LESSON = re.compile(
    r"(?i)\b(?:what\s+worked(?:\s+for\s+us)?|lessons?\s+learned|the\s+lesson\s+(?:is|was)|"
    r"next\s+time\s+we\s+should|in\s+hindsight|the\s+trick\s+is|the\s+key\s+is|the\s+other\s+trick\s+is|"
    r"the\s+rule\s+is|that'?s\s+the\s+rule|rule\s+of\s+thumb)\b"
)
_RECOMMEND = re.compile(
    r"(?i)\b(?:we\s+recommend|i\s+(?:would\s+|'?d\s+)?recommend|what\s+we\s+recommend|my\s+advice|"
    r"(?:you|we)\s+(?:should\s+|must\s+|always\s+)?make\s+sure|(?:it'?s|it\s+is)\s+(?:a\s+)?best\s+practice\s+to|"
    r"best\s+practice\s+is\s+to|(?:should|must)\s+(?:always|never))\b"
    r"|^(?:always|never|avoid|don'?t\s+ever|do\s+not|make\s+sure)\b"
)
# "we should..." in a meeting is mostly a proposal for the project at hand, not a practice
_SHOULD = re.compile(r"(?i)\b(?:you|everyone|every\s+\w+|teams?|reviewers?)\s+should\b(?!\s+(?:i|we)\b)")
_HEDGE = re.compile(
    r"(?i)\b(?:maybe|perhaps|i\s+guess|i\s+don'?t\s+know|not\s+sure|probably|might|kind\s+of|sort\s+of|"
    r"i\s+suppose|whatever|would|could|'d)\b"
)
# sentences after a decision/lesson that are not part of it: actions, thanks, moving on
_NOT_CONTINUATION = re.compile(
    r"(?i)^(?:i'?ll|i\s+will|i'?m\s+going|we'?ll|let'?s|thanks|thank\s+you|okay|ok|next|anyway|any\s+objections|"
    r"great|nice|good|cool|right)\b"
)
_CATEGORY_ORDER = {"action": 4, "decision": 3, "lesson": 2, "recommendation": 1}


# Advice features that rule a sentence out whatever its verbs say
_NOT_ADVICE_FEATURES = frozenset(
    {"modal_in_condition", "modal_embedded", "modal_epistemic", "template_instruction", "boilerplate",
     "definition", "navigation", "question", "example_or_quote"}
)  # fmt: skip
# the speaker's own view or intent, or a clause fragment: not advice to others
_OPINION = re.compile(
    r"(?i)\b(?:i\s+(?:do\s+|don'?t\s+)?(?:think|believe|feel)|my\s+(?:personal\s+)?(?:opinion|view|feeling)|"
    r"(?:i|we)\s+(?:will|'ll|shall|am\s+going\s+to|are\s+going\s+to|usually|always))\b"
    r"|^(?:as|because|since|although|though|so\s+that|which|and\s+then|or)\b"
)
# a spoken decision that wanders off: "we decided on our market and so this feedback...",
# "we decided that the voice recognition system, it did actually say..."
_RAMBLING = re.compile(
    r"(?i)\b(?:you\s+know|kind\s+of|sort\s+of|i\s+mean|and\s+so|or\s+something|we'?ll\s+come\s+to\s+that)\b"
    r"|,\s+(?:it|they|this|that)\s+(?:did|was|were|is|are|had)\b"
)
_REPORTED = re.compile(r"(?i)\b(?:you|they|he|she)\s+(?:said|mentioned|told|say|says)\b")  # someone else's view


def _pattern_category(clean: str) -> tuple[str, float] | None:
    """(category, strength) of a decision, action, lesson or advice sentence, or None."""
    mark = scribe_mark(clean)
    if mark:  # "RESOLVED: ...", "ACTION: ..." — the scribe says what it is
        return (mark[0], 1.0) if len(_words(clean[mark[1] :])) >= 3 else None
    words = _words(clean)
    if ACTION_PHRASE.match(clean) and len(words) >= 5:
        return "action", 1.0  # "Action item for Marco: write up the runbook."
    if len(words) < 6 or len(clean) > MAX_SENTENCE_CHARS or clean.endswith(("?", ",")):
        return None
    if _LOGISTICS.search(clean):
        return None  # "Make sure to turn your microphone on."
    if _REPORTED.search(clean):
        return None  # "you mentioned that one of the lessons learned..."
    if said_decision(clean):
        return None if _RAMBLING.search(clean) else ("decision", 1.0)
    if _LESSON.search(clean):
        return "lesson", 1.0
    if _HEDGE.search(re.sub(r"(?i)\bi(?:'d|\s+would)\s+recommend", "", clean)) or _OPINION.search(clean):
        return None
    if _NOT_ADVICE_FEATURES & set(score_advice(clean).features):
        return None  # "...should they be lost", "List any open questions here"
    if _RECOMMEND.search(clean):
        return "recommendation", 1.0
    if _SHOULD.search(clean) and len(words) >= 8:
        return "recommendation", 0.5
    return None


# ---------------------------------------------------------------------------------------------


@dataclass
class _Sent:
    start: int
    end: int
    clean: str


@dataclass
class _Turn:
    passage: Passage
    clean: str
    sents: list[_Sent]

    @property
    def speaker(self) -> str | None:
        return self.passage.author

    @property
    def words(self) -> int:
        return len(_words(self.clean))


def _turn(p: Passage) -> _Turn:
    sents = []
    for s, e in sentence_spans(p.text):
        c = clean_speech(p.text[s:e])
        if c:
            sents.append(_Sent(s, e, c))
    return _Turn(passage=p, clean=clean_speech(p.text), sents=sents)


class TranscriptExtractor:
    """FAQs from answered questions, patterns from decisions, lessons and recommendations."""

    name = "transcripts"
    version = "3"
    source_kinds = frozenset({SourceKind.transcript})

    def run(self, source: Source, passages: list[Passage]) -> ExtractionResult:
        """Extract candidates meeting by meeting (QMSum files hold many meetings)."""
        result = ExtractionResult()
        meetings: dict[str, list[Passage]] = {}
        for p in sorted(passages, key=lambda p: p.seq):
            meetings.setdefault(p.thread_id or "", []).append(p)
        default_name = PurePath(source.uri).stem or source.uri
        by_id = {p.id: p for p in passages}
        for thread, ps in meetings.items():
            turns = [_turn(p) for p in ps]
            name = thread or default_name
            faqs = [] if _formal_debate(turns) else self._faqs(turns, name)
            cands = faqs + self._patterns(turns, name)
            for c in cands:
                if all(quote_is_verbatim(e.quote, by_id[e.passage_id].text) for e in c.evidence):
                    result.candidates.append(c)
                else:  # pragma: no cover - spans are cut from the text
                    result.dropped += 1
        return result

    # -- FAQs ---------------------------------------------------------------------------------

    def _question_run(self, turn: _Turn) -> tuple[int, int, str] | None:
        """Span and display text of the turn's (last) substantive question, with the question
        sentences right before it ("What are the grey areas? Can you give examples?")."""
        n = len(turn.sents)
        idx = [k for k, s in enumerate(turn.sents) if _question_sentence(s.clean, final=k == n - 1)]
        if not idx:
            return None
        last = idx[-1]
        first = last
        while first > 0 and turn.sents[first - 1].clean.endswith("?") and len(_words(turn.sents[first - 1].clean)) >= 3:
            first -= 1
        s, e = turn.sents[first].start, turn.sents[last].end
        if disfluency(re.sub(r"(?i)\bthat that\b", "that", turn.passage.text[s:e])) > 0:
            return None  # a broken-off fragment, not a question anyone could answer
        return s, e, " ".join(x.clean for x in turn.sents[first : last + 1])

    @staticmethod
    def _is_answer(turn: _Turn) -> bool:
        if turn.words < MIN_ANSWER_WORDS or _NON_ANSWER.search(turn.clean[:120]):
            return False
        if not turn.clean.endswith((".", "!", "?", '"', "'", ")")) or disfluency(turn.passage.text) > 2:
            return False  # trailing off / too broken to be an answer
        q_words = sum(len(_words(s.clean)) for s in turn.sents if s.clean.endswith("?"))
        return q_words < 0.5 * max(turn.words, 1)

    def _faqs(self, turns: list[_Turn], meeting: str) -> list[CandidateDraft]:
        out = []
        used: set[int] = set()  # answer turns already credited
        for i, t in enumerate(turns):
            if not t.speaker or i in used or is_scribe_label(t.speaker):
                continue
            q = self._question_run(t)
            if not q:
                continue
            s, e, question = q
            # the question must close the turn (what follows is not the speaker answering it)
            tail = clean_speech(t.passage.text[e:])
            if len(_words(tail)) > 25 or not faq_worthiness(question, t.clean).keep:
                continue  # …and be FAQ material: not a stance, a poll, logistics or a fragment
            answer_idx: list[int] = []
            non_answer = False
            for j in range(i + 1, min(len(turns), i + 1 + ANSWER_WINDOW)):
                u = turns[j]
                if not u.speaker or u.speaker == t.speaker:
                    if u.speaker == t.speaker and u.words >= 5:
                        break  # the asker goes on: no answer in between
                    continue
                if _NON_ANSWER.search(u.clean) and u.words < 40:
                    non_answer = True
                    break
                if self._is_answer(u):
                    answer_idx.append(j)
                    k = j + 1
                    while k < len(turns) and len(answer_idx) < MAX_ANSWER_TURNS and turns[k].speaker == u.speaker:
                        answer_idx.append(k)
                        k += 1
                    break
            qev = Evidence(passage_id=t.passage.id, quote=t.passage.text[s:e], role="question")
            if answer_idx:
                used.update(answer_idx)
                ans_turns = [turns[k] for k in answer_idx]
                answer = " ".join(a.clean for a in ans_turns)
                evidence = [qev] + [Evidence(passage_id=a.passage.id, quote=a.passage.text.strip(), role="answer") for a in ans_turns]
                conf = 0.5
                conf += 0.1 if answer_idx[0] == i + 1 else 0.0
                conf += 0.1 if sum(a.words for a in ans_turns) >= 25 else 0.0
                conf += 0.05 if _ASK_PHRASES.search(question) else 0.0
                out.append(self._faq(question, answer, evidence, turns[i], ans_turns[-1], meeting, conf))
            elif (non_answer or _OPEN_MARK.search(t.clean)) and self._clearly_open(question):
                out.append(self._faq(question, None, [qev], t, t, meeting, 0.35 + (0.05 if non_answer else 0.0)))
        return out

    @staticmethod
    def _clearly_open(question: str) -> bool:
        words = _words(question)
        return (
            len(words) >= 8
            and bool(re.match(r"(?i)^(?:\w+[.,]\s+)*(?:how|what|why|which|where|does|has|is\s+there|are\s+there|any)\b", question)
                     or _ASK_PHRASES.search(question))
        )  # fmt: skip

    def _faq(self, question, answer, evidence, first: _Turn, last: _Turn, meeting, conf) -> CandidateDraft:
        return CandidateDraft(
            kind=CandidateKind.faq,
            question=question,
            answer=answer,
            context=_where(meeting, first, last),
            evidence=evidence,
            extractor=self.name,
            extractor_version=self.version,
            confidence=round(min(conf, 0.9), 3),
        )

    # -- patterns -----------------------------------------------------------------------------

    def _patterns(self, turns: list[_Turn], meeting: str) -> list[CandidateDraft]:
        out = []
        for i, t in enumerate(turns):
            marked_turn = is_scribe_label(t.speaker)
            if marked_turn:  # a "RESOLVED: ..." line of the minutes, read as a speaker turn
                if t.sents and len(_words(t.clean)) >= 3:
                    out.append(self._pattern(t, None, [(0, len(t.sents) - 1, marked_turn, 1.0)], meeting))
                continue
            if not t.speaker:
                continue
            hits: list[tuple[int, int, str, float]] = []  # (first sent, last sent, category, strength)
            k = 0
            while k < len(t.sents):
                cat = _pattern_category(t.sents[k].clean)
                broken = disfluency(t.passage.text[t.sents[k].start : t.sents[k].end])
                if cat and broken and not scribe_mark(t.sents[k].clean):
                    cat = None  # filler-ridden speech is not a practice statement
                if not cat:
                    k += 1
                    continue
                last = k
                if cat[0] == "action" or scribe_mark(t.sents[k].clean):  # marked: a pattern of its own
                    while last + 1 < len(t.sents) and last - k < 2 and not _pattern_category(t.sents[last + 1].clean):
                        last += 1  # it runs on to the next mark
                    out.append(self._pattern(t, None, [(k, last, cat[0], cat[1])], meeting))
                    k = last + 1
                    continue
                # lessons and decisions often announce themselves and continue: "What worked for
                # us: silent writing first... Everyone talks through their own notes..."
                # (a spoken decision is one sentence unless it announces itself: "We agreed on this:")
                if cat[0] == "lesson" or t.sents[k].clean.endswith(":"):
                    while (
                        last + 1 < len(t.sents) and last - k < 2
                        and not t.sents[last + 1].clean.endswith("?")
                        and len(_words(t.sents[last + 1].clean)) >= 4
                        and not _pattern_category(t.sents[last + 1].clean)
                        and not _NOT_CONTINUATION.match(t.sents[last + 1].clean)
                    ):  # fmt: skip
                        last += 1
                hits.append((k, last, cat[0], cat[1]))
                k = last + 1
            if not hits:
                continue
            if t.words > MONOLOGUE_WORDS:
                # a talk or a long story: only clear advice, each sentence its own pattern
                for h in hits:
                    if h[3] >= 1.0 and h[2] != "decision":  # "so we decided..." in a talk is a story
                        out.append(self._pattern(t, None, [h], meeting))
                continue
            if sum(h[3] for h in hits) < 1.0:
                continue
            prev = turns[i - 1] if i > 0 else None
            out.append(self._pattern(t, prev, hits, meeting))
        return out

    def _pattern(
        self, t: _Turn, prev: _Turn | None, hits: list[tuple[int, int, str, float]], meeting: str
    ) -> CandidateDraft:
        """One pattern from the advice sentences of a turn (the previous turn's question as its problem)."""
        category = max((h[2] for h in hits), key=lambda c: _CATEGORY_ORDER[c])
        evidence = []
        texts = []
        for a, b, _, _ in hits:
            s, e = t.sents[a].start, t.sents[b].end
            evidence.append(Evidence(passage_id=t.passage.id, quote=t.passage.text[s:e], role="recommendation"))
            texts.append(" ".join(x.clean for x in t.sents[a : b + 1]))
        problem = None
        if prev is not None and prev.speaker and prev.speaker != t.speaker:
            q = self._question_run(prev)
            if q:
                problem = q[2]
                evidence.append(Evidence(passage_id=prev.passage.id, quote=prev.passage.text[q[0] : q[1]], role="context"))
        base = {"action": 0.7, "decision": 0.7, "lesson": 0.7, "recommendation": 0.55}[category]
        conf = base + 0.05 * (len(hits) - 1) + (0.05 if problem else 0.0)
        conf += 0.05 if any(h[3] >= 1.0 and h[2] == "recommendation" for h in hits) and category == "recommendation" else 0.0
        return CandidateDraft(
            kind=CandidateKind.pattern,
            name=practice_name(texts[0]),
            context=f"{category} · {_where(meeting, t, t)}",
            problem=problem,
            recommendation=" ".join(texts),
            evidence=evidence,
            extractor=self.name,
            extractor_version=self.version,
            confidence=round(min(conf, 0.9), 3),
        )


def _where(meeting: str, first: _Turn, last: _Turn) -> str:
    """"<meeting> 00:12:03–00:12:40" (or the turn numbers when the recording has no times)."""
    start, end = first.passage.start, last.passage.end if last.passage.end is not None else last.passage.start
    if start is not None:
        return f"{meeting} {format_time(start)}–{format_time(end if end is not None else start)}"
    a, b = _turn_no(first.passage), _turn_no(last.passage)
    return f"{meeting} turn {a}" if a == b else f"{meeting} turns {a}–{b}"


def _turn_no(p: Passage) -> int:
    turn = p.extra.get("turn") if isinstance(p.extra, dict) else None
    return int(turn) if isinstance(turn, int) else p.seq
