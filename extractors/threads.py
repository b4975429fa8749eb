"""Threads → FAQs, offline: find the threads that ask something and pick the answer that worked.

Replies are ranked by `extractors.answer_ranking` (embedding relevance plus the signals a thread
carries: author, acknowledgements, reactions, votes, accepted flag, position, substance). The
best credible reply becomes the answer; when the ranker is unsure, the best substantive reply
by someone other than the asker still answers (with a lower confidence): "open" means nobody
answered. Runner-ups stay as scored evidence. In chat without threads, replies are first linked
to the questions they answer (`extractors.chat_links`). Threads that ask nothing a community
would keep (outage pings, logistics, announcements, chit-chat) are left out by a scored
decision (`extractors.faq_worthiness`), recorded in `ExtractionResult.decisions`.
"""

from __future__ import annotations

import logging
from collections import defaultdict

from extractors.answer_ranking import CONTINUES, RankedReply, Reply, is_credible, pre_embedded, rank_replies
from extractors.base import EmbedFn, ExtractionResult
from extractors.chat_links import link_unthreaded
from extractors.faq_worthiness import faq_worthiness
from index.duplicates import question_core
from pipeline.models import CandidateDraft, CandidateKind, Evidence, Passage, Source, SourceKind
from pipeline.sources.mbox import display_subject
from pipeline.text import content_words, is_generic_question, is_question
from pipeline.text_clean import clean_message, strip_addressee

log = logging.getLogger(__name__)

MAX_QUOTE_CHARS = 600  # a quote is a verbatim prefix of the passage; reviewers open the rest
RUNNERS_UP = 2


class ThreadExtractor:
    """FAQ candidates from chat, mailing-list and Q&A threads."""

    name = "threads"
    # 5: single substantive replies answer, chat replies linked, questions stand alone, clean
    #    text, non-FAQ threads left out
    # 6: chat polls, channel logistics, hidden-context and follow-up questions left out; a chat
    #    question is led by the asker's own statements just before it
    # 8: an unaddressed chat reply answers the open question of the exchange the disentangler
    #    puts it in (extractors/disentangle.py), before the channel's latest question
    version = "10"
    source_kinds = frozenset({SourceKind.thread})

    def __init__(self, embed: EmbedFn | None = None, runners_up: int = RUNNERS_UP) -> None:
        self._embed = embed
        self.runners_up = runners_up

    @property
    def embed(self) -> EmbedFn:
        """The embedding function (the shared bundled model unless one was injected)."""
        if self._embed is None:
            from index.embeddings import shared_embedder

            self._embed = shared_embedder().encode
        return self._embed

    def run(self, source: Source, passages: list[Passage]) -> ExtractionResult:
        """One candidate per thread whose opening message asks something."""
        result = ExtractionResult()
        asking = []
        for thread in group_threads(link_unthreaded(passages)):
            root, rest = thread[0], thread[1:]
            asks = root.element_type == "question" or is_question(root.text)
            if not asks:
                continue
            question, context = _question_and_context(root)
            if not question:
                continue
            if not _worth_keeping(root, question, result):
                continue
            ids = {p.message_id: p.id for p in thread if p.message_id}
            asking.append((root, question, context, rest, [_as_reply(p, i, ids) for i, p in enumerate(rest, start=1)]))
        # The whole source's texts in one model call, then each thread ranks from those vectors.
        answered = [(_post_text(root), replies) for root, _, _, _, replies in asking if replies]
        embed = pre_embedded(self.embed, answered) if answered else self.embed
        for root, question, context, rest, replies in asking:
            ranked = rank_replies(_post_text(root), root.author, replies, embed) if replies else []
            result.candidates.append(self._candidate(root, question, context, rest, ranked))
        return result

    def _candidate(
        self, root: Passage, question: str, context: str | None, rest: list[Passage], ranked: list[RankedReply]
    ) -> CandidateDraft:
        by_id = {p.id: p for p in rest}
        names = {p.author for p in [root, *rest] if p.author}  # "joeblew99: click…" addresses one of them
        evidence = [Evidence(passage_id=root.id, quote=_quote(root.text), role="question")]
        best = _standalone_best(ranked, by_id)
        answer_parts: list[RankedReply] = []
        if best is not None:
            answer_parts = [best, *_additions(ranked, by_id, best)]
            for part in answer_parts:
                p = by_id[part.id]
                evidence.append(Evidence(passage_id=p.id, quote=_quote(p.text), role="answer", score=part.score))
            # The asker's own follow-ups ("got it, thanks!") are not alternative answers.
            used = {r.id for r in answer_parts}
            others = [r for r in ranked if r.id not in used and (by_id[r.id].author != root.author or root.author is None)]
            for runner in others[: self.runners_up]:
                p = by_id[runner.id]
                evidence.append(Evidence(passage_id=p.id, quote=_quote(p.text), role="runner_up", score=runner.score))
        return CandidateDraft(
            kind=CandidateKind.faq,
            question=question,
            context=context,
            answer="\n\n".join(
                clean_message(strip_addressee(by_id[r.id].text, names), author=by_id[r.id].author) for r in answer_parts
            ) or None,
            evidence=evidence,
            extractor=self.name,
            extractor_version=self.version,
            confidence=_confidence(best),
        )


def _worth_keeping(root: Passage, question: str, result: ExtractionResult) -> bool:
    """The FAQ-worthiness decision for a thread, recorded on `result.decisions` and logged.
    A Q&A site's question is a question by design and is always kept."""
    if root.element_type == "question":
        return True
    worth = faq_worthiness(question, _post_text(root), in_exchange=root.extra.get("in_exchange") or None)
    result.decisions.append(
        {"passage_id": root.id, "question": question, "keep": worth.keep, "score": worth.score, "features": worth.features}
    )
    if not worth.keep:
        log.debug("not a FAQ candidate (score %.2f %s): %s", worth.score, worth.features, question[:80])
    return worth.keep


def group_threads(passages: list[Passage]) -> list[list[Passage]]:
    """Passages grouped by thread, each in reading order with the root first."""
    threads: dict[str, list[Passage]] = defaultdict(list)
    for p in passages:
        threads[p.thread_id or p.message_id or p.id].append(p)
    grouped = []
    for members in threads.values():
        members.sort(key=lambda p: p.seq)
        root_id = members[0].thread_id
        # The root is the message whose id is the thread id, when the source says so.
        roots = [p for p in members if root_id and p.message_id == root_id]
        if roots and roots[0] is not members[0]:
            members.remove(roots[0])
            members.insert(0, roots[0])
        grouped.append(members)
    grouped.sort(key=lambda t: t[0].seq)
    return grouped


def _question_and_context(root: Passage) -> tuple[str, str | None]:
    """The question itself (greetings, narrative and signatures removed) and the post it came from.

    A Q&A title that asks is the question; a title that names a topic leads the body's asking
    sentences. Elsewhere the asking sentences are isolated, so "I'm new here,
    our CI is red a lot... How do other teams handle flaky tests?" is stored as its question,
    with the whole cleaned post kept as context for the reviewer. A mail's subject, when it
    names something, leads the question: it is the poster's own summary of the problem.
    """
    title = str(root.extra.get("title") or "").strip()
    cleaned = clean_message(root.text)
    if root.element_type == "question" and title:
        if is_question(title):
            return title, cleaned or None
        # A title that names a topic ("Phononic Quantum Computing") leads the body's question.
        core = question_core(root.text, subject=title, with_antecedent=True)
        return core, cleaned or None
    text = _asked_text(root)
    cleaned = clean_message(text)
    core = question_core(text, subject=_subject(root), with_antecedent=True)
    return core, (cleaned if cleaned and cleaned != core else None)


def _asked_text(root: Passage) -> str:
    """The root's text, led by the asker's own statements right before it in an unthreaded chat
    (`extra["lead_in"]`, see `extractors.chat_links`): "Can anybody help me with this issue?"
    asks about the "i get error 502 …" said just before."""
    lead = str(root.extra.get("lead_in") or "").strip()
    return f"{lead}\n\n{root.text}" if lead else root.text


def _subject(root: Passage) -> str | None:
    """The thread's mail subject without "Re:" and [list] tags, when it names something
    ("NOTE about lack of prebuilt manual"; not "Question" or "Help!")."""
    subject = display_subject(str(root.extra.get("subject") or ""))
    if len(content_words(subject)) < 2 or is_generic_question(subject):
        return None
    return subject


def _standalone_best(ranked: list[RankedReply], by_id: dict[str, Passage]) -> RankedReply | None:
    """The answer to store: the best reply that answers, or None when nobody answered.

    The top reply when it is credible, unless it only adds to another answer and a credible
    reply that stands alone is ranked below it (a FAQ answer is read without the thread around
    it). When no reply is credible, the best substantive reply by someone other than the asker
    still answers ("open" means nobody answered, not that the ranker was unsure); its score
    keeps the confidence low.
    """
    if not ranked:
        return None
    if not is_credible(ranked[0]):
        substantive = [r for r in ranked if is_substantive(r)]
        return substantive[0] if substantive else None
    if not CONTINUES.match(by_id[ranked[0].id].text or ""):
        return ranked[0]
    alone = [r for r in ranked[1:] if is_credible(r) and not CONTINUES.match(by_id[r.id].text or "")]
    return alone[0] if alone else ranked[0]


#: A reply with less than this much substance (log-length plus links, numbers, code; see
#: answer_ranking._substance) says too little to answer: "ok", "I see", "same here".
MIN_SUBSTANCE = 0.35


def is_substantive(reply: RankedReply) -> bool:
    """A reply that answers something: not the asker's, not chit-chat, not only questions back,
    with some substance."""
    s = reply.signals
    return (
        not s.get("asker") and not s.get("chit_chat") and s.get("asks_back", 0.0) < 0.99
        and s.get("substance", 0.0) >= MIN_SUBSTANCE
    )  # fmt: skip


def _additions(ranked: list[RankedReply], by_id: dict[str, Passage], best: RankedReply) -> list[RankedReply]:
    """Replies after the answer that add to it ("Also worth separating release flags from kill
    switches"), in thread order: not the asker's, not chit-chat, not a question back. They
    complete the stored answer instead of competing with it."""
    order = {pid: i for i, pid in enumerate(by_id)}
    out = [
        r for r in ranked
        if r.id != best.id and order[r.id] > order[best.id] and CONTINUES.match(by_id[r.id].text or "")
        and not r.signals.get("asker") and not r.signals.get("chit_chat") and r.signals.get("asks_back", 0.0) < 0.5
    ]  # fmt: skip
    return sorted(out, key=lambda r: order[r.id])


def _post_text(root: Passage) -> str:
    """What replies are ranked against: the whole opening post (title or subject + cleaned body),
    as the answer-ranking evaluation measured it, not the isolated question (its narrative names
    what "it" is, and the replies answer the post)."""
    title = str(root.extra.get("title") or "").strip() or (_subject(root) or "")
    text = _asked_text(root)
    body = clean_message(text) or text.strip()
    return f"{title}. {body}" if title and body else title or body


def _as_reply(p: Passage, position: int, passage_ids: dict[str, str]) -> Reply:
    return Reply(
        id=p.id,
        text=p.text,
        author=p.author,
        position=position,
        timestamp=p.timestamp,
        reactions=sum(p.reactions.values()),
        score=p.score,
        accepted=p.accepted,
        reply_to=passage_ids.get(p.reply_to or ""),  # the ranker speaks passage ids
        author_name=p.author,
        # Stack Exchange comments credit answers but are not answers themselves.
        candidate=p.element_type != "comment",
    )


def _quote(text: str) -> str:
    text = text.strip()
    if len(text) <= MAX_QUOTE_CHARS:
        return text
    cut = text[:MAX_QUOTE_CHARS]
    return cut[: cut.rfind(" ")] if " " in cut else cut


def _confidence(best: RankedReply | None) -> float:
    if best is None:
        return 0.3  # an open question is certain to be a question, not an answer
    if not is_credible(best):
        return 0.35  # someone answered, but the ranker is unsure it is right: a reviewer decides
    return round(min(0.95, max(0.4, 0.5 + best.score / 4)), 3)
