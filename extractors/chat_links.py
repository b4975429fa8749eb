"""Replies in chat without threads: link a message to the question it answers.

In a channel where people do not use threads, every message is its own "thread" and every
question looks unanswered. A later message is linked to an earlier question (its `thread_id`
and `reply_to` set to the question's) when

- it @-mentions the asker ("@Jane try X", or opens with "Jane: try X") within `MENTION_WINDOW`
  of the asker's latest question; or
- it comes from someone else within `REPLY_WINDOW` of the latest question in the channel, is
  not a new question of its own and addresses nobody else;
- or, in a quiet channel, it is the first word anyone else says after the question (within
  `QUIET_WINDOW`: answers come hours later when nobody else is around), shares two content words
  with it and addresses nobody else; a reply that asks back ("are they the same container?")
  still answers when it goes on to explain;
- and the asker's own messages right after a linked reply ("thanks, that worked!") follow it,
  so an acknowledgement credits the reply it thanks.

A question that is not linked but continues an exchange is marked `extra["in_exchange"]`:
"addressed" when it opens by addressing someone else ("@jane does that work?"), "follows" when
it follows someone else's message in the channel within `REPLY_WINDOW`. It may be a
clarification ("Do you mean `syntax`?") rather than a new question, which the FAQ-worthiness
decision weighs. The asker's own statements right before the question, with nobody speaking in
between (within `LEAD_IN_WINDOW`), are its `extra["lead_in"]`: in chat people state the problem
over several messages and ask last ("i get error 502 with fpm" … "Can anybody help me with this?").

Only chat messages that are not part of a real thread are linked; threaded sources and mail
or Q&A posts (which carry a subject or title) are unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from extractors.disentangle import Utterance, disentangle
from pipeline.models import Passage
from pipeline.text import content_words, has_question_mark, is_question, split_sentences, tokens

__all__ = ["LEAD_IN_WINDOW", "MENTION_WINDOW", "QUIET_WINDOW", "REPLY_WINDOW", "link_unthreaded"]

#: A reply that names the asker still answers hours later (time zones), not days later.
MENTION_WINDOW = timedelta(hours=12)
#: An unaddressed reply answers the latest question only if it follows it closely.
REPLY_WINDOW = timedelta(minutes=10)
#: In a quiet channel, the first reply after a question answers it even hours later (as long as
#: the question is kept open at all: `MENTION_WINDOW`).
QUIET_WINDOW = MENTION_WINDOW
#: …and shares at least this many content words with it: one ("machine") happens by chance.
QUIET_SHARED_WORDS = 2
#: A reply that asks back but explains in at least this many words of statements answers.
EXPLAINS_WORDS = 12
#: The asker's own statements this close before their question, with nobody speaking in
#: between, state the problem it asks about ("I get error 502 with fpm" … "Can anybody help?").
LEAD_IN_WINDOW = timedelta(minutes=30)


@dataclass
class _Open:
    root: Passage
    at: datetime
    replied: bool = False
    last_reply_at: datetime | None = None
    interrupted: bool = False  # someone other than the asker spoke after it, not in reply to it
    asked: str = ""  # what it asks about: its text, led by the asker's statements before it


def _when(p: Passage) -> datetime | None:
    try:
        stamp = datetime.fromisoformat((p.timestamp or "").replace("Z", "+00:00"))
    except ValueError:
        return None
    return stamp.replace(tzinfo=None) if stamp.tzinfo is None else stamp


def _names(author: str | None) -> list[str]:
    """How people address an author: the full name and the first name ("Jane Doe", "Jane")."""
    name = (author or "").strip()
    if len(name) < 2:
        return []
    first = name.split()[0]
    return [name] + ([first] if first != name and len(first) >= 3 else [])


def _mentions(text: str, author: str | None) -> bool:
    for name in _names(author):
        at = re.search(r"(?<![\w@])@" + re.escape(name) + r"(?![\w])", text, re.IGNORECASE)
        lead = re.match(r"^\s*" + re.escape(name) + r"\s*[:,]", text, re.IGNORECASE)
        if at or lead:
            return True
    return False


def _addresses_someone(text: str) -> bool:
    return bool(re.match(r"^\s*<?@\w", text))  # "@jane", or Slack's "<@jane>"


def _addresses_other(text: str, author: str | None, participants: Collection[str] = ()) -> bool:
    """The message opens by addressing someone other than its author (a self-mention, which
    some chat exports put in front of a message, addresses nobody): "@jane …", or "jane: …"
    when jane has spoken in the channel (`participants`, lower-cased names)."""
    # No word boundary after the name: some exports glue the mention to the text ("@janeHello").
    name = (author or "").strip()
    if _addresses_someone(text):
        return not (name and re.match(r"^\s*@" + re.escape(name), text, re.IGNORECASE))
    lead = re.match(r"^\s*([\w.\-]{2,})\s*[:,]\s", text)
    return bool(lead) and lead.group(1).lower() in participants and lead.group(1).lower() != name.lower()


def link_unthreaded(passages: list[Passage]) -> list[Passage]:
    """The passages with chat replies linked to the questions they answer (see module docstring).

    Passages already in a thread (a reply, or a root with replies) are returned unchanged.
    """
    sizes: dict[str, int] = {}
    for p in passages:
        key = p.thread_id or p.message_id or p.id
        sizes[key] = sizes.get(key, 0) + 1
    # Mail and Q&A posts carry a subject or title: a new one starts a new conversation.
    alone = {
        p.id for p in passages
        if sizes[p.thread_id or p.message_id or p.id] == 1 and not p.reply_to
        and not p.extra.get("subject") and not p.extra.get("title")
    }  # fmt: skip
    open_by_channel: dict[str, list[_Open]] = {}
    last_by_channel: dict[str, tuple[str | None, datetime]] = {}  # latest speaker and time
    said_by_channel: dict[str, list[tuple[Passage, datetime]]] = {}  # the latest speaker's run of statements
    links: dict[str, Passage] = {}  # passage id -> the question root it answers
    parent_of = _conversation_parents([p for p in passages if p.id in alone])
    in_question: dict[str, _Open] = {}  # passage id -> the open question whose exchange it is in
    seen: dict[str, set[str]] = {}  # channel -> who has spoken in it (lower-cased)
    marks: dict[str, dict[str, str]] = {}  # passage id -> extra fields: in_exchange, lead_in
    for p in sorted(passages, key=lambda x: x.seq):
        at = _when(p)
        if p.id not in alone or at is None:
            continue
        channel = str(p.extra.get("channel") or "")
        questions = open_by_channel.setdefault(channel, [])
        questions[:] = [q for q in questions if at - q.at <= MENTION_WINDOW]
        last = last_by_channel.get(channel)
        last_by_channel[channel] = (p.author, at)
        seen.setdefault(channel, set()).add((p.author or "").lower())
        said = said_by_channel.setdefault(channel, [])
        target = _target(p, at, questions, in_question.get(parent_of.get(p.id, "")))
        if questions and target is not questions[-1] and p.author != questions[-1].root.author:
            questions[-1].interrupted = True
        if target is not None:
            in_question[p.id] = target
            links[p.id] = target.root
            if p.author != target.root.author:
                target.replied = True
                target.last_reply_at = at
            said.clear()
            continue
        if not is_question(p.text):
            if said and said[-1][0].author != p.author:
                said.clear()
            said.append((p, at))
            continue
        marks[p.id] = _marks(p, at, last, said, seen.setdefault(channel, set()))
        questions.append(_Open(root=p, at=at, asked=f"{marks[p.id].get('lead_in', '')}\n{p.text or ''}"))
        in_question[p.id] = questions[-1]
        said.clear()
    if not links and not any(marks.values()):
        return passages
    out = []
    for p in passages:
        root = links.get(p.id)
        if root is None:
            extra = marks.get(p.id)
            out.append(p.model_copy(update={"extra": {**p.extra, **extra}}) if extra else p)
            continue
        thread = root.thread_id or root.message_id or root.id
        out.append(p.model_copy(update={"thread_id": thread, "reply_to": root.message_id or thread}))
    return out


def _marks(
    p: Passage, at: datetime, last: tuple[str | None, datetime] | None, said: list[tuple[Passage, datetime]],
    participants: set[str],
) -> dict[str, str]:
    """What a new chat question carries for the extractor: how it continues an exchange
    (`in_exchange`) and the asker's own statements right before it (`lead_in`)."""
    marks: dict[str, str] = {}
    if _addresses_other(p.text or "", p.author, participants):
        marks["in_exchange"] = "addressed"
    elif last is not None and last[0] != p.author and at - last[1] <= REPLY_WINDOW:
        marks["in_exchange"] = "follows"
    lead = [m.text for m, when in said if m.author == p.author and at - when <= LEAD_IN_WINDOW]
    if lead:
        marks["lead_in"] = "\n".join(lead)
    return marks


def _conversation_parents(passages: list[Passage]) -> dict[str, str]:
    """Each chat passage's reply-to parent (passage id) by `extractors.disentangle`, per channel;
    passages that start a conversation are left out."""
    by_channel: dict[str, list[Passage]] = {}
    for p in sorted(passages, key=lambda x: x.seq):
        if _when(p) is not None:
            by_channel.setdefault(str(p.extra.get("channel") or ""), []).append(p)
    parents: dict[str, str] = {}
    for chan in by_channel.values():
        found = disentangle([Utterance(p.author, _when(p), p.text or "") for p in chan])
        parents.update({p.id: chan[k].id for p, k in zip(chan, found) if chan[k].id != p.id})
    return parents


def _target(p: Passage, at: datetime, questions: list[_Open], followed: _Open | None = None) -> _Open | None:
    """The open question `p` answers or follows up, or None. `followed` is the open question
    whose exchange the message's disentangled parent belongs to."""
    text = p.text or ""
    # The asker going on in the conversation the disentangler puts the message in, once someone
    # has replied there: a further question of theirs is part of the same problem ("How might I
    # do that?"), and its answers belong to it.
    if followed is not None and followed.root.author == p.author and followed.replied:
        if any(q is followed for q in questions):
            return followed
    # The asker following up on a question someone answered ("thanks, that did it").
    for q in reversed(questions):
        if q.root.author == p.author:
            if q.replied and q.last_reply_at is not None and at - q.last_reply_at <= REPLY_WINDOW:
                return q
            break
    mentioned = [q for q in questions if q.root.author != p.author and _mentions(text, q.root.author)]
    if mentioned:
        return mentioned[-1]
    if _addresses_someone(text) or not questions:
        return None
    latest = questions[-1]
    quiet = (
        not latest.interrupted and latest.root.author != p.author and at - latest.at <= QUIET_WINDOW
        and len(set(content_words(text)) & set(content_words(latest.asked))) >= QUIET_SHARED_WORDS
    )  # fmt: skip
    if is_question(text) and not (quiet and _explains(text)):
        return None  # a new question (or a question back), not an answer
    # The exchange the disentangler puts the message in (by topic, quote, continuation) before
    # the channel's latest question: in a busy channel they are often not the same.
    if followed is not None and any(q is followed for q in questions) and followed.root.author != p.author:
        return followed
    if latest.root.author == p.author or (at - latest.at > REPLY_WINDOW and not quiet):
        return None
    return latest


def _explains(text: str) -> bool:
    """A reply that asks back but goes on to explain ("are they the same container? the kernel
    shares memory between…"): it ends on statements of at least `EXPLAINS_WORDS` words. A new
    question states its problem first and asks last."""
    sentences = split_sentences(text)
    if not sentences or has_question_mark(sentences[-1]):
        return False
    statements = [s for s in sentences if not has_question_mark(s)]
    return sum(len(tokens(s)) for s in statements) >= EXPLAINS_WORDS
