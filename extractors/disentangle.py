"""Conversations out of a channel without threads: each message's reply-to parent (pure).

A message in a busy channel answers one of the messages shortly before it, or starts a new
conversation. Each candidate parent among the previous `MAX_BACK` messages within `WINDOW` is
scored by the cues people leave when they reply in plain chat (Elsner & Charniak 2008,
Kummerfeld et al. 2019 list the same ones):

- **addressing**: the message opens by addressing the candidate's author ("nick: …", "nick, …",
  "@nick …") or names them anywhere ("@nick", or the bare nick as a word); a message that
  addresses someone else is unlikely to answer this candidate;
- **addressed back**: the candidate addressed the message's author (an answer to a question put
  to them);
- **quoting**: the message quotes the candidate ("> …" lines sharing its words);
- **same author**: people continue their own thought over several lines;
- **a new question**: a question addressing nobody more often opens a conversation than
  answers someone else's line;
- **time and distance**: the longer ago and the more messages in between, the less likely;
- **topic**: shared content words (`pipeline.text.content_words`).

The best candidate wins when its score reaches `NEW_CONVERSATION`; otherwise the message starts
a conversation. Weights are set by reasoning (an explicit address outweighs everything, topic
and recency break ties) and checked on the Ubuntu IRC dev hours and the Gitter rooms
(`practice eval disentangle`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pipeline.text import content_words, is_question

__all__ = ["MAX_BACK", "NEW_CONVERSATION", "WINDOW", "Utterance", "disentangle"]

#: Candidate parents: at most this many messages back ...
MAX_BACK = 50
#: ... and at most this long ago (an addressed reply may come later, see `ADDRESSED_WINDOW`).
WINDOW = timedelta(minutes=15)
ADDRESSED_WINDOW = timedelta(hours=2)
#: A best score below this starts a new conversation.
NEW_CONVERSATION = 0.0

# Weights (log-odds-like units). An explicit address is the strongest cue people give.
W_ADDRESSES = 4.0  # the message addresses the candidate's author
W_ADDRESSES_OTHER = -2.0  # the message addresses someone else
W_ADDRESSED_BACK = 2.5  # the candidate addressed the message's author
W_QUOTES = 4.0  # the message quotes the candidate
W_SAME_AUTHOR = 1.0  # the author continues
W_OPEN_QUESTION = -1.0  # an unaddressed question is more often a new ask than a reply
W_TOPIC = 3.0  # times the cosine of the two messages' content-word sets
W_PER_MINUTE = -0.15  # per minute between the two
W_PER_MESSAGE = -0.08  # per message in between
BASE = 0.6  # a recent message from just before, with no other cue, is still a likely parent

_LEAD_ADDRESS = re.compile(r"^\s*<?@?([^\s:,>]{2,})>?\s*[:,]")  # "nick: …", "nick, …", "<@nick>: …"
_AT = re.compile(r"(?<![\w@])@([\w.\-]{2,})")
_QUOTE = re.compile(r"^\s*>\s?(.*)$", re.MULTILINE)


@dataclass(frozen=True)
class Utterance:
    """One chat message: who said it, when (None: unknown) and what."""

    author: str | None
    moment: datetime | None
    text: str


@dataclass
class _Seen:
    """What the scorer keeps of an earlier message."""

    at: int
    author: str
    moment: datetime | None
    words: set[str]
    addressees: set[str] = field(default_factory=set)


def _key(name: str | None) -> str:
    return (name or "").strip().lower()


def _addressees(text: str, known: set[str]) -> tuple[set[str], bool]:
    """The authors the text names, and whether it opens by addressing someone. "nick: …" counts
    only for a nick that has spoken in the channel ("Note: …" is no address); "@nick" always."""
    named: set[str] = set()
    lead = _LEAD_ADDRESS.match(text)
    opens = False
    if lead and (_key(lead.group(1)) in known or text.lstrip().startswith(("@", "<@"))):
        named.add(_key(lead.group(1)))
        opens = True
    for m in _AT.finditer(text):
        named.add(_key(m.group(1).rstrip(".-")))
        opens = opens or text.lstrip().startswith("@" + m.group(1))
    # The bare nick anywhere ("thanks bob"), only for nicks long enough not to be common words.
    lowered = set(re.findall(r"[\w.\-\[\]|^`]+", text.lower()))
    named |= {n for n in known if len(n) >= 4 and n in lowered}
    return named, opens


def _quoted_words(text: str) -> set[str]:
    return set(content_words("\n".join(_QUOTE.findall(text))))


def _score(seen: _Seen, author: str, moment: datetime | None, words: set[str], quoted: set[str],
           named: set[str], opens: bool, asks: bool, between: int) -> float | None:
    """How likely the message answers `seen`; None when out of reach."""
    addressed = seen.author in named
    minutes = 0.0
    if moment is not None and seen.moment is not None:
        minutes = max((moment - seen.moment).total_seconds() / 60, 0.0)
        reach = ADDRESSED_WINDOW if addressed else WINDOW
        if minutes > reach.total_seconds() / 60:
            return None
    score = BASE + W_PER_MINUTE * minutes + W_PER_MESSAGE * between
    if addressed:
        score += W_ADDRESSES
    elif opens or (named - {author}):
        score += W_ADDRESSES_OTHER
    if author in seen.addressees:
        score += W_ADDRESSED_BACK
    if quoted and seen.words and len(quoted & seen.words) >= max(1, len(quoted) // 2):
        score += W_QUOTES
    if seen.author == author:
        score += W_SAME_AUTHOR
    elif asks and not named and author not in seen.addressees:
        score += W_OPEN_QUESTION
    if words and seen.words:
        score += W_TOPIC * len(words & seen.words) / math.sqrt(len(words) * len(seen.words))
    return score


def disentangle(messages: Sequence[Utterance]) -> list[int]:
    """Each message's parent: the position of the earlier message it answers, or its own
    position when it starts a conversation (see the module docstring for the cues)."""
    parents: list[int] = []
    seen: list[_Seen] = []
    known: set[str] = set()
    for k, m in enumerate(messages):
        author = _key(m.author)
        text = m.text or ""
        named, opens = _addressees(text, known)
        words = set(content_words(_QUOTE.sub("", text)))  # the quote is its own cue
        quoted = _quoted_words(text)
        asks = is_question(text)
        best, best_score = k, -math.inf
        for between, s in enumerate(reversed(seen[-MAX_BACK:])):
            score = _score(s, author, m.moment, words, quoted, named, opens, asks, between)
            if score is not None and score > best_score:  # a tie goes to the nearer message
                best, best_score = s.at, score
        parents.append(best if best_score >= NEW_CONVERSATION else k)
        seen.append(_Seen(k, author, m.moment, words, named - {author}))
        if author:
            known.add(author)
    return parents

