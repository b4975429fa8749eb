"""Patterns of one document: practices a section gives, and decisions and actions its minutes mark.

Works on the elements `DocumentExtractor` has placed in their sections (`Element`):

- one pattern per section that gives advice: checklist items (under a checklist heading, or
  "[ ]" lines) and advice sentences (`extractors.advice.score_advice`, each kept with its
  score as evidence). A sentence that introduces a list ("Avoid installing the following
  tools:") keeps that list: the items follow it in the recommendation, and are its evidence.
- one pattern per decision or action a scribe marks ("RESOLVED: ...", "ACTION: ...", "we
  agreed to ...", the items under a "Decisions" / "Action items" heading), its category in the
  context ("decision · Guild sync > Tooling").

Patterns are named for the practice (`extractors.naming`): the section heading when it says
what the practice is about, otherwise the advice itself. Navigation and licence sections give
no patterns. Pure: no I/O; every quote is cut from its passage by character spans.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from extractors.advice import (
    ACTION_PHRASE,
    CHECKBOX,
    NOT_ADVICE,
    Advice,
    said_decision,
    score_advice,
    scribe_mark,
)
from extractors.naming import heading_kind, practice_name, strip_step, topic_and_practice
from pipeline.models import CandidateDraft, CandidateKind, Evidence, Passage
from pipeline.text import leans_on_previous, sentence_spans
from pipeline.text import tokens

__all__ = ["Element", "find_patterns"]

_CHECKLIST_HEADING = re.compile(
    r"(?i)\b(?:check\s?-?lists?|do'?s\s+and\s+don'?ts|dos\s*(?:&|and)\s*don'?ts|do\s*(?:&|and|/)\s*don'?t|"
    r"best\s+practices?|guidelines?|recommendations?|tips?|rules?|production\s+readiness|"
    r"readiness|good\s+practices?|conventions?|principles?)\b|^(?:do|don'?t|dos|don'?ts)$"
)
_MINUTES_HEADING = re.compile(
    r"(?i)^(?:(?:key\s+)?(?:decisions?|resolutions?)(?:\s+(?:made|taken))?|agreed|agreements?|"
    r"(?P<action>action\s+items?|actions?(?:\s+points)?|next\s+actions?))$"
)


@dataclass
class Element:
    """One document element placed in its section."""

    passage: Passage
    path: tuple[str, ...]  # cleaned, noise-free section path
    heading: str | None = None  # display text if this element is a heading
    item_span: tuple[int, int] | None = None  # span of the checklist item text, if an item
    skip: bool = False  # code, table, example, navigation...


@dataclass
class _Rec:
    passage: Passage
    span: tuple[int, int]
    advice: Advice
    items: list[tuple[Passage, tuple[int, int]]] = field(default_factory=list)  # a lead-in's list


@dataclass
class _Section:
    path: tuple[str, ...]
    items: list[tuple[Passage, tuple[int, int]]] = field(default_factory=list)
    recs: list[_Rec] = field(default_factory=list)
    problem: tuple[Passage, tuple[int, int]] | None = None
    explicit: bool = False  # a checklist heading / lead-in
    order: int = 0


@dataclass
class _Marked:
    kind: str  # decision | action
    passage: Passage
    span: tuple[int, int]  # the quote
    start: int  # where the decision text starts (after the marker)
    path: tuple[str, ...]
    scribe: bool  # marked by a scribe ("RESOLVED:") rather than said ("we agreed")


def find_patterns(
    elements: list[Element], consumed: set[int], doc_title: str, min_strength: float, extractor: tuple[str, str]
) -> list[CandidateDraft]:
    """Pattern candidates of one document (see the module docstring); `consumed` elements
    (FAQ questions and answers) and `skip` elements are left out."""
    sections: dict[tuple[str, ...], _Section] = {}
    marked: list[_Marked] = []

    def section(path: tuple[str, ...]) -> _Section:
        if path not in sections:
            sections[path] = _Section(path=path, order=len(sections))
        return sections[path]

    lead: _Rec | None = None  # advice ending with ":" whose list follows
    nav = navigation_lists(elements)
    for idx, el in enumerate(elements):
        p = el.passage
        if el.heading and not el.item_span:
            lead = None
            continue
        if idx in consumed or el.skip or idx in nav or any(heading_kind(h) == "navigation" for h in el.path):
            if p.element_type != "ListItem":
                lead = None
            continue
        is_item = p.element_type == "ListItem" or el.item_span is not None
        minutes = _MINUTES_HEADING.match(el.path[-1]) if el.path else None
        if is_item and minutes and not scribe_mark(p.text):
            span = el.item_span or item_span(p.text)
            if span and len(tokens(p.text[span[0] : span[1]])) >= 3:
                kind = "action" if minutes.group("action") else "decision"
                marked.append(_Marked(kind, p, (0, len(p.text.rstrip())), span[0], el.path, scribe=True))
            continue
        sec = section(el.path)
        if is_item and lead is not None:
            span = el.item_span or item_span(p.text)
            if span and tokens(p.text[span[0] : span[1]]):
                lead.items.append((p, span))
            continue
        if is_item and (el.item_span or any(_CHECKLIST_HEADING.search(h) for h in el.path[-2:])):
            span = el.item_span or item_span(p.text)
            if span and len(tokens(p.text[span[0] : span[1]])) >= 2:
                sec.items.append((p, span))
                sec.explicit = True
            continue
        if not is_item:
            lead = None
        lead = _read_sentences(el, sec, marked, is_item) or lead

    out = []
    for sec in sorted(sections.values(), key=lambda x: x.order):
        sec.recs = [r for r in sec.recs if r.items or not _rec_text(r).rstrip().endswith(":")]  # lead-ins with no list
        listed = sec.items or any(r.items for r in sec.recs)  # a checklist, or advice with its list
        if not listed and sum(r.advice.strength for r in sec.recs) < min_strength:
            continue
        out.append(_pattern(sec, doc_title, extractor))
    out += [_decision(m, doc_title, extractor) for m in marked]
    return out


def _rec_text(rec: _Rec) -> str:
    """The sentence of a recommendation."""
    return rec.passage.text[rec.span[0] : rec.span[1]]


def _read_sentences(el: Element, sec: _Section, marked: list[_Marked], is_item: bool) -> _Rec | None:
    """Advice, problem statement and marked decisions of one element's sentences; returns the
    recommendation whose list follows, if its last sentence introduces one."""

    p = el.passage
    spans = sentence_spans(p.text)
    lead = None
    k = 0
    while k < len(spans):
        s, e = spans[k]
        sentence = p.text[s:e]
        mark = scribe_mark(sentence)
        said = not mark and (said_decision(sentence) or ACTION_PHRASE.match(sentence))
        if mark or said:
            # a marked decision runs on to the next marked sentence or the end of the element
            last = k
            while mark and last + 1 < len(spans) and not scribe_mark(p.text[spans[last + 1][0] : spans[last + 1][1]]):
                last += 1
            kind = mark[0] if mark else ("action" if ACTION_PHRASE.match(sentence) else "decision")
            start = s + mark[1] if mark else s
            marked.append(_Marked(kind, p, (s, spans[last][1]), start, el.path, scribe=bool(mark)))
            k = last + 1
            continue
        advice = score_advice(sentence)
        if advice.strength:
            rec = _Rec(p, (_rule_start(p, spans, k, sec), e), advice)
            sec.recs.append(rec)
            if sentence.rstrip().endswith(":") and not is_item and k == len(spans) - 1:
                lead = rec  # "Avoid installing the following tools:" — its list follows
                sec.explicit = True
        elif (
            sec.problem is None and not sec.recs and not is_item
            and 6 <= len(tokens(sentence)) and len(sentence) <= 300
            and not sentence.endswith((":", "?")) and not NOT_ADVICE.search(sentence)
        ):  # fmt: skip
            sec.problem = (p, (s, e))
        k += 1
    return lead


def _rule_start(p: Passage, spans: list[tuple[int, int]], k: int, sec: _Section) -> int:
    """Where advice sentence `k` starts, taking the rule it leans on ("However, …", "For
    example, …", "This should be done when…") along: the sentence before it in the element, or
    the section's problem statement, which then stops being the problem (it is the rule)."""
    s = spans[k][0]
    if not leans_on_previous(p.text[s : spans[k][1]]):
        return s
    if k > 0:
        prev = spans[k - 1]
        covered = any(r.passage is p and r.span[0] <= prev[0] < r.span[1] for r in sec.recs)
        if sec.problem is not None and sec.problem[0] is p and sec.problem[1] == prev:
            sec.problem = None
        return s if covered else prev[0]
    if sec.problem is not None and not sec.recs:
        # the rule is the previous paragraph's statement: it becomes a recommendation of its own
        (pp, span), sec.problem = sec.problem, None
        # scored as itself: it was not advice alone, so it adds no strength to the section
        sec.recs.append(_Rec(pp, span, score_advice(pp.text[span[0] : span[1]])))
    return s


def navigation_lists(elements: list[Element]) -> set[int]:
    """Indices of list items in runs that look like a table of contents / link list."""
    nav: set[int] = set()
    run: list[int] = []

    def flush() -> None:
        if len(run) >= 2 and sum(looks_like_link_title(elements[k].passage.text) for k in run) >= 0.8 * len(run):
            nav.update(run)
        run.clear()

    for idx, el in enumerate(elements):
        if el.passage.element_type == "ListItem" and not el.heading:
            run.append(idx)
        else:
            flush()
    flush()
    return nav


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _name(sec: _Section, doc_title: str) -> str:
    """The section heading if it names the practice (a short topic heading is followed by the
    advice: `topic_and_practice`); else the parent qualifies a heading that names a kind of list
    ("Every Line: Exceptions"); else the advice itself names it."""
    path = sec.path
    heading = path[-1] if path else doc_title
    kind = heading_kind(heading)
    best = max(sec.recs, key=lambda r: r.advice.score, default=None)
    if kind == "specific":
        return topic_and_practice(heading, _rec_text(best) if best is not None else None)
    if kind == "qualifiable" and len(path) >= 2 and heading_kind(path[-2]) == "specific":
        return f"{strip_step(path[-2])}: {heading}"
    if best is not None:
        return practice_name(_rec_text(best))
    if sec.items:
        p, (s, e) = sec.items[0]
        return practice_name(p.text[s:e])
    return heading  # pragma: no cover - a section without advice or items is no pattern


def _pattern(sec: _Section, doc_title: str, extractor: tuple[str, str]) -> CandidateDraft:
    evidence: list[Evidence] = []
    items = []
    for p, (s, e) in sec.items:
        items.append(_one_line(p.text[s:e]))
        evidence.append(Evidence(passage_id=p.id, quote=p.text.strip(), role="item"))
    recs = []
    for r in sec.recs:
        text = _one_line(_rec_text(r))
        evidence.append(Evidence(passage_id=r.passage.id, quote=_rec_text(r), role="recommendation", score=r.advice.score))
        if r.items:  # the list the sentence introduces, right under it
            text += "".join(f"\n- {_one_line(p.text[s:e])}" for p, (s, e) in r.items) + "\n"
            evidence += [Evidence(passage_id=p.id, quote=p.text.strip(), role="item") for p, _ in r.items]
        recs.append(text)
    problem = None
    if sec.problem is not None:
        p, (s, e) = sec.problem
        problem = _one_line(p.text[s:e])
        evidence.append(Evidence(passage_id=p.id, quote=p.text[s:e], role="context"))
    strong = sum(1 for r in sec.recs if r.advice.strength >= 1.0)
    n = len(items) + len(recs)
    confidence = 0.4 + min(0.25, 0.05 * n) + (0.2 if sec.explicit else 0.0) + min(0.1, 0.05 * strong)
    return CandidateDraft(
        kind=CandidateKind.pattern,
        name=_name(sec, doc_title),
        context=" > ".join(sec.path) or doc_title,
        problem=problem,
        recommendation=re.sub(r"\n +", "\n", " ".join(recs)).strip() or None,
        items=items,
        evidence=evidence,
        extractor=extractor[0],
        extractor_version=extractor[1],
        confidence=round(min(confidence, 0.95), 3),
    )


def _decision(m: _Marked, doc_title: str, extractor: tuple[str, str]) -> CandidateDraft:
    """One decision or action, named after what was decided."""
    p = m.passage
    text = _one_line(CHECKBOX.sub("", p.text[m.start : m.span[1]]))
    return CandidateDraft(
        kind=CandidateKind.pattern,
        name=practice_name(text),
        context=f"{m.kind} · {' > '.join(m.path) or doc_title}",
        recommendation=text,
        evidence=[Evidence(passage_id=p.id, quote=p.text[m.span[0] : m.span[1]].strip(), role="recommendation")],
        extractor=extractor[0],
        extractor_version=extractor[1],
        confidence=0.75 if m.scribe else 0.6,
    )


def item_span(text: str) -> tuple[int, int] | None:
    """The span of a list item's text without a checkbox / bullet / number marker."""
    m = re.match(r"^\s*(?:[-*•]\s*)?(?:\[[ xX✓✔]?\]\s*)?(?:\d{1,2}[.)]\s+)?", text)
    start = m.end() if m else 0
    end = len(text.rstrip())
    return (start, end) if end > start else None


def looks_like_link_title(text: str) -> bool:
    """A navigation entry: a markdown link, a bare URL, or a short Title Case phrase with no
    sentence punctuation ("Writing Good CL Descriptions", "How to Handle Reviewer Comments")."""
    t = text.strip()
    if re.fullmatch(r"\[[^\]]+\]\([^)]+\)\W*", t) or re.fullmatch(r"https?://\S+", t):
        return True
    if t.endswith((".", "!", "?", ";")) or ":" in t and not t.endswith(":") and len(tokens(t)) > 6:
        return False
    ws = tokens(t)
    if not ws or len(ws) > 9:
        return False
    small = {"a", "an", "the", "of", "to", "in", "on", "for", "and", "or", "with", "by", "at", "as"}
    caps = [w for w in ws if w.lower() not in small]
    return bool(caps) and sum(w[0].isupper() for w in caps) >= 0.8 * len(caps)
